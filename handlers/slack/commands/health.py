"""`/health …`: acknowledged at once; the answer follows, visible only to the asker until they share it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.intents import parse_command
from handlers.slack.commands.export import export_callback
from handlers.slack.deps import deps_of
from handlers.slack.events.conversation import send_attachments_for
from handlers.slack.replies import answered, respond_safely


def health_command_callback(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """Answer `/health <account> | portfolio … | risks | expansion | trends | segment … | export … | help`."""
    ack()
    deps = deps_of(context)
    intent = parse_command(command.get("text") or "")
    user_id = command.get("user_id")
    if intent.kind == "export":
        export_callback(
            intent.text, channel=command.get("channel_id"), user_id=user_id, respond=respond, client=client, deps=deps
        )
        return
    message, view = answered(intent, deps=deps, user_id=user_id, shareable=True)
    respond_safely(respond, message)
    # The answer is private, and a file can't be: a trend's chart follows in the asker's DM.
    send_attachments_for(view, deps=deps, client=client, channel=None, thread_ts=None, asker=user_id)
