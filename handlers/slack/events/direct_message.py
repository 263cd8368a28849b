"""A direct message to the bot."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from handlers.slack.deps import deps_of
from handlers.slack.events.conversation import answer_in_thread


def direct_message_callback(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Answer a person's DM in its thread; edits, deletions, joins and other bots' messages are left alone."""
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return
    answer_in_thread(event, client=client, deps=deps_of(context))
