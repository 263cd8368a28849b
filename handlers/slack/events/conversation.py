"""A question asked in a conversation (a mention or a DM), answered in its thread."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.intents import parse_question
from handlers.slack.deps import AppDeps
from handlers.slack.once import first_delivery
from handlers.slack.replies import answer_message, post_safely
from handlers.slack.uploads import send_trends_chart

logger = logging.getLogger(__name__)


def answer_in_thread(event: dict[str, Any], *, client: WebClient, deps: AppDeps) -> None:
    """Place the question in `event`, answer it, and reply in the message's thread."""
    channel, ts = event["channel"], event["ts"]
    # A DM that mentions the bot can arrive both as message.im and as app_mention: the message is answered once.
    try:
        if not first_delivery(deps.engine, f"message:{channel}:{ts}"):
            return
    except Exception:
        logger.exception("could not record message %s in %s; answering anyway", ts, channel)
    intent = parse_question(event.get("text") or "")
    message = answer_message(intent, deps=deps, user_id=event.get("user"))
    thread_ts = event.get("thread_ts") or ts
    post_safely(client, channel=channel, thread_ts=thread_ts, message=message)
    if intent.kind == "trends":
        send_trends_chart(deps=deps, client=client, channel=channel, thread_ts=thread_ts, asker=event.get("user"))
