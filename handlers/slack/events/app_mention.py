"""@Healthbot in a channel."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from handlers.slack.deps import deps_of
from handlers.slack.events.conversation import answer_in_thread


def app_mention_callback(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Answer the question in the mention, in its thread. Bolt has already acknowledged the event."""
    if event.get("bot_id"):
        return
    answer_in_thread(event, client=client, deps=deps_of(context))
