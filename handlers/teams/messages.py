"""A message to the bot: in a personal chat, or an @mention in a channel. The same parser and answers as Slack,
rendered as an Adaptive Card; a trend report carries its chart, an export a download link."""

from __future__ import annotations

import asyncio
import base64
import logging
import tempfile
from pathlib import Path

from microsoft_teams.api.activities.message import MessageActivity
from microsoft_teams.apps import ActivityContext, App

from bot.answers import AnswerContext, answer
from bot.export import ExportError, export_report
from bot.insights import InsightError
from bot.intents import EXPORT_FORMATS, Intent, parse_command, parse_question
from bot.scoring_runs import load_health_model
from bot.teams.app import TeamsDeps
from bot.teams.conversations import card_for
from bot.teams.people import TeamsUser
from bot.trend_charts import segment_trends
from handlers.teams.common import NOT_ALLOWED, allowed, plain_text, seen_before, send_card, send_view, sender
from messages import views
from messages.adaptive import card, render_card, subtle, text
from scoring import ModelError

logger = logging.getLogger(__name__)

MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
}
APOLOGY = views.Notice(
    "Sorry — something went wrong on our side",
    ["The error has been logged. Please try again in a minute; if it keeps happening, tell your Healthbot admin."],
    kind="error",
)


def register(app: App, deps: TeamsDeps) -> None:
    answering: set[asyncio.Task[None]] = set()  # held until done: the loop keeps only weak references to tasks

    @app.on_message
    async def question_callback(ctx: ActivityContext[MessageActivity]) -> None:
        """Answer a question asked in a personal chat or by @mention in a channel, once per activity.

        The HTTP request is answered at once and the card follows: a whole-book answer can take longer than the
        15 seconds Teams waits, and Teams would send the question again.
        """
        if await seen_before(ctx, deps):
            return
        task = asyncio.create_task(answer_question(ctx, deps))
        answering.add(task)
        task.add_done_callback(answering.discard)


async def answer_question(ctx: ActivityContext[MessageActivity], deps: TeamsDeps) -> None:
    words = plain_text(ctx.activity.text) or "help"
    try:
        user, conversation = await sender(ctx, deps)
        if not allowed(user, deps):
            await send_view(ctx, NOT_ALLOWED)
            return
        intent = teams_intent(words)
        if intent.kind == "export":
            await send_card(ctx, await asyncio.to_thread(export_card, intent, deps))
            return
        await send_card(ctx, await asyncio.to_thread(answer_card, intent, user, conversation.csm_owner, deps))
    except Exception:
        logger.exception("could not answer %r in Teams", words)
        try:
            await send_view(ctx, APOLOGY)
        except Exception:
            logger.exception("could not send the apology either")


def teams_intent(words: str) -> Intent:
    """The manifest's `health` command reads like Slack's `/health` ("health portfolio me"); anything else is a
    question in plain words, as in a Slack DM."""
    first, _, rest = words.partition(" ")
    if first.lower() == "health":
        return parse_command(rest)
    return parse_question(words)


def answer_card(intent: Intent, user: TeamsUser, csm_owner: str | None, deps: TeamsDeps) -> dict[str, object]:
    """The card answering `intent`, built from the same view model `healthbot ask` and Slack answer with."""
    ctx = AnswerContext(engine=deps.engine, settings=deps.settings, user_name=csm_owner or user.email or user.name)
    view = answer(intent, ctx=ctx)
    chart = trend_chart(deps, ctx) if isinstance(view, views.TrendReport) else None
    return card_for(deps.engine, view, chart_url=chart)


def trend_chart(deps: TeamsDeps, ctx: AnswerContext) -> str | None:
    """The segment trend chart's URL: a short-lived link when TEAMS_PUBLIC_URL is set, else embedded in the card."""
    try:
        chart = segment_trends(deps.engine, ctx.model, as_of=ctx.as_of)
    except InsightError:
        return None
    link = deps.public_link(deps.shelf.put(chart.filename, chart.png, MEDIA_TYPES["png"]))
    return link or "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")


def export_card(intent: Intent, deps: TeamsDeps) -> dict[str, object]:
    """`export csv|xlsx`: the report as a download link (valid 15 minutes), since a bot cannot attach a file to a
    channel message; without TEAMS_PUBLIC_URL, the command that writes it."""
    fmt = (intent.subject or "csv").lower()
    if fmt not in EXPORT_FORMATS or not deps.settings.teams_public_url:
        return render_card(answer(intent, ctx=AnswerContext(engine=deps.engine, settings=deps.settings)))
    try:
        model = load_health_model(deps.settings)
        with tempfile.TemporaryDirectory(prefix="healthbot-export-") as folder:
            path = Path(folder) / f"report.{fmt}"
            result = export_report(deps.engine, model, path, format=fmt)  # type: ignore[arg-type]
            content = path.read_bytes()
    except InsightError as err:
        return render_card(err.notice())
    except (ExportError, ModelError) as err:
        return render_card(views.Notice("I can't export that", [str(err)], kind="not_found"))
    day = result.as_of.isoformat() if result.as_of else "latest"
    name = f"health-report-{day}.{fmt}"
    link = deps.public_link(deps.shelf.put(name, content, MEDIA_TYPES[fmt]))
    body = [
        text(f"Health report · {result.rows} accounts · as of {day}", weight="Bolder"),
        subtle("The link works for 15 minutes; ask again for a fresh one."),
    ]
    return card(
        body,
        fallback=f"Health report ({fmt})",
        actions=[{"type": "Action.OpenUrl", "title": f"Download {name}", "url": link}],
    )
