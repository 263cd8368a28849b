"""`/health …`: acknowledged at once; the answer follows, visible only to the asker until they share it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.intents import parse_command
from handlers.deps import deps_of
from handlers.replies import answer_message, respond_safely


def health_command_callback(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """Answer `/health <account> | portfolio … | risks | expansion | trends | segment … | export … | help`."""
    ack()
    deps = deps_of(context)
    intent = parse_command(command.get("text") or "")
    respond_safely(respond, answer_message(intent, deps=deps, user_id=command.get("user_id"), shareable=True))
