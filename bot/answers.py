"""Turn an intent into a view model: the one place Slack, the CLI and App Home ask questions of the store."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot import insights
from bot.intents import EXPORT_FORMATS, Intent, help_notice
from bot.scoring_runs import load_health_model
from bot.settings import Settings
from messages import views
from scoring import ModelError
from scoring.playbooks import PlaybookFileError

logger = logging.getLogger(__name__)


@dataclass
class AnswerContext:
    """Who is asking, and what they are asking against."""

    engine: Engine
    settings: Settings
    user_id: str | None = None  # Slack user ID of the asker
    user_name: str | None = None  # the asker's name, for "me" / "my portfolio" outside Slack
    today: date | None = None  # "today" in the team's timezone; None = now
    asker_csm: Callable[[], str | None] | None = None  # the asker's CSM name ("my book"), looked up when asked
    _model: Any = field(default=None, repr=False)

    @property
    def model(self) -> Any:
        """The health model in force (HEALTHBOT_MODEL or the built-in default), loaded once per context."""
        if self._model is None:
            self._model = load_health_model(self.settings)
        return self._model

    @property
    def as_of(self) -> date:
        return self.today or datetime.now(self.settings.timezone).date()


def answer(intent: Intent, *, ctx: AnswerContext) -> object:
    """Answer `intent` with a view model from messages.views (a HealthCard, Portfolio, Notice, …).

    A question the user got wrong (unknown account, no data yet) is answered with a Notice saying what to do;
    a bug of ours is logged with its traceback and answered with an apology.
    """
    handler = _ANSWERS.get(intent.kind, _unknown)
    try:
        return handler(intent, ctx)
    except insights.InsightError as err:
        return err.notice()
    except ModelError as err:
        return views.Notice("The health model file has a problem", [str(err)], kind="error")
    except PlaybookFileError as err:
        return views.Notice("The playbooks file has a problem", [str(err)], kind="error")
    except Exception:
        logger.exception("could not answer %s", intent)
        return views.Notice(
            "Sorry — something went wrong on our side",
            [
                "The error has been logged. Please try again in a minute; "
                "if it keeps happening, tell your Healthbot admin."
            ],
            kind="error",
        )


def _account(intent: Intent, ctx: AnswerContext) -> str | views.Notice:
    """The account the intent names, or a Notice offering the closest names."""
    text = (intent.subject or "").strip()
    if not text:
        return views.Notice("Which account?", ["Name an account, e.g. `/health Acme Corp`."], kind="not_found")
    match = insights.find_account(ctx.engine, text)
    if match.found and match.account_id is not None:
        return match.account_id
    lines = ["Did you mean one of these?"] if match.suggestions else ["Check the spelling, or try the account ID."]
    return views.Notice(
        f"No account called “{text}”",
        lines,
        list(match.suggestions),
        kind="not_found",
        suggestion_values=list(match.suggestion_ids),
    )


def _about_account(builder: Callable[..., object]) -> Callable[[Intent, AnswerContext], object]:
    """An answer about one account: find it (or offer the closest names), then build its view."""

    def about(intent: Intent, ctx: AnswerContext) -> object:
        account = _account(intent, ctx)
        if isinstance(account, views.Notice):
            return account
        return builder(ctx.engine, ctx.model, account, as_of=ctx.as_of)

    return about


def _portfolio(intent: Intent, ctx: AnswerContext) -> object:
    subject = (intent.subject or "").strip()
    if subject.lower() in ("", "me", "my", "mine"):
        subject = ctx.user_id or ctx.user_name or ""
        if not subject:
            return views.Notice(
                "Whose portfolio?",
                ["Name a CSM, e.g. `/health portfolio Sarah Chen`, or `--user NAME` on the command line."],
                kind="not_found",
            )
    if subject.lower() in ("all", "everyone", "team", "all accounts"):
        return insights.portfolio(ctx.engine, ctx.model, as_of=ctx.as_of, group_by="csm")
    return insights.portfolio(ctx.engine, ctx.model, csm=subject, as_of=ctx.as_of)


def _segment(intent: Intent, ctx: AnswerContext) -> object:
    if not intent.subject:
        return insights.portfolio(ctx.engine, ctx.model, as_of=ctx.as_of, group_by="segment")
    return insights.portfolio(ctx.engine, ctx.model, segment=intent.subject, as_of=ctx.as_of)


def _risks(intent: Intent, ctx: AnswerContext) -> object:
    return insights.risk_list(ctx.engine, ctx.model, as_of=ctx.as_of)


def _expansion(intent: Intent, ctx: AnswerContext) -> object:
    return insights.expansion_list(ctx.engine, ctx.model, as_of=ctx.as_of)


def _trends(intent: Intent, ctx: AnswerContext) -> object:
    return insights.trend_report(ctx.engine, ctx.model, as_of=ctx.as_of)


def _export(intent: Intent, ctx: AnswerContext) -> object:
    fmt = (intent.subject or "csv").lower()
    if fmt not in EXPORT_FORMATS:
        return views.Notice(
            f"I can't export “{intent.subject}”",
            [f"Exports come as {' or '.join(EXPORT_FORMATS)}: e.g. `/health export xlsx`."],
            kind="not_found",
        )
    return views.Notice(
        "Export the report",
        [
            f"From a terminal: `healthbot export --format {fmt} -o report.{fmt}` (add `--group-by csm` for one sheet "
            "per CSM)."
        ],
        kind="info",
    )


def _ask(intent: Intent, ctx: AnswerContext) -> object:
    """A question in plain words: read against the store's names, then answered (bot.questions)."""
    from bot.questions import answer_question, parse

    asked = _asked(ctx)
    return answer_question(parse(intent.subject or "", asked.vocab), asked)


def list_file(question: str, *, ctx: AnswerContext) -> bytes:
    """Every row a list question selects, as CSV: the report table's columns, the same filter as the answer (the
    file that follows a list longer than Slack's table block)."""
    from bot.questions import parse
    from bot.questions.answer import full_table

    asked = _asked(ctx)
    table = full_table(parse(question, asked.vocab), asked)
    return table.to_csv(index=False).encode("utf-8")


def _asked(ctx: AnswerContext) -> Any:
    from bot.questions import Asked, vocabulary

    vocab = vocabulary(ctx.engine)

    def asker_csm() -> str | None:
        if ctx.user_id:
            known = vocab.csm_by_slack_id(ctx.user_id)
            if known is not None:
                return known.name
        if ctx.asker_csm is not None:
            found = ctx.asker_csm()
            if found:
                return found
        if ctx.user_name:
            try:
                return insights.csm_name(ctx.engine, ctx.user_name)
            except insights.InsightError:
                return None
        return None

    return Asked(engine=ctx.engine, model=ctx.model, today=ctx.as_of, vocab=vocab, asker_csm=asker_csm)


def _help(intent: Intent, ctx: AnswerContext) -> object:
    return help_notice()


def _unknown(intent: Intent, ctx: AnswerContext) -> object:
    return help_notice(intent.text or None)


_ANSWERS: dict[str, Callable[[Intent, AnswerContext], object]] = {
    "account": _about_account(insights.health_card),
    "drop_cause": _about_account(insights.drop_cause),
    "recovery_plan": _about_account(insights.recovery_plan),
    "portfolio": _portfolio,
    "segment": _segment,
    "risks": _risks,
    "expansion": _expansion,
    "trends": _trends,
    "export": _export,
    "ask": _ask,
    "help": _help,
    "unknown": _unknown,
}
