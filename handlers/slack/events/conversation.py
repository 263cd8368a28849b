"""A question asked in a conversation (a mention or a DM), answered in its thread."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_sdk import WebClient

from bot.answers import AnswerContext, list_file
from bot.intents import parse_question
from bot.trend_charts import account_trend
from handlers.slack.deps import AppDeps
from handlers.slack.once import first_delivery
from handlers.slack.replies import answered, post_safely
from handlers.slack.uploads import send_chart, send_trends_chart, upload_file
from messages import views

logger = logging.getLogger(__name__)


def answer_in_thread(
    event: dict[str, Any], *, client: WebClient, deps: AppDeps, decorate: Any = None
) -> tuple[object, str, str] | None:
    """Place the question in `event`, answer it, and reply in the message's thread (with its chart, when the
    answer is a trend). `decorate` may add to the message before it is posted (the agent surface's feedback).

    Returns:
        The view, the channel and the thread answered in; None when the message was answered before.
    """
    channel, ts = event["channel"], event["ts"]
    # A DM that mentions the bot can arrive both as message.im and as app_mention: the message is answered once.
    try:
        if not first_delivery(deps.engine, f"message:{channel}:{ts}"):
            return None
    except Exception:
        logger.exception("could not record message %s in %s; answering anyway", ts, channel)
    intent = parse_question(event.get("text") or "")
    message, view = answered(intent, deps=deps, user_id=event.get("user"))
    if decorate is not None:
        message = decorate(message, view)
    thread_ts = event.get("thread_ts") or ts
    post_safely(client, channel=channel, thread_ts=thread_ts, message=message)
    send_attachments_for(view, deps=deps, client=client, channel=channel, thread_ts=thread_ts, asker=event.get("user"))
    return view, channel, thread_ts


def send_attachments_for(
    view: object, *, deps: AppDeps, client: WebClient, channel: str | None, thread_ts: str | None, asker: str | None
) -> None:
    """What follows an answer: a trend's chart (the segments', or one account's score over time), or a list's every
    row as a CSV file when there are more than one table block holds."""
    if isinstance(view, views.AccountTable) and view.total > len(view.rows):
        try:
            content = list_file(
                view.question, ctx=AnswerContext(engine=deps.engine, settings=deps.settings, user_id=asker)
            )
            upload_file(
                client,
                content=content,
                filename="healthbot-list.csv",
                title=f"{view.title} ({view.total} rows)",
                channel=channel,
                thread_ts=thread_ts,
                comment=f"All {view.total} rows of “{view.title}”",
                asker=asker,
            )
        except Exception:
            logger.exception("could not send the full list for %r", view.question)
    elif isinstance(view, views.TrendReport):
        send_trends_chart(deps=deps, client=client, channel=channel, thread_ts=thread_ts, asker=asker)
    elif isinstance(view, views.AccountTrend):
        build = partial(account_trend, deps.engine, account_id=view.account_id)
        send_chart(
            lambda model: build(model), deps=deps, client=client, channel=channel, thread_ts=thread_ts, asker=asker
        )
