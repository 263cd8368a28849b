"""The "Share in channel" button under a private answer: the answer posted for everyone, the private copy removed."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from handlers.slack.actions.payload import clicked_intent, clicker
from handlers.slack.deps import deps_of
from handlers.slack.replies import answer_message, respond_safely
from messages.blockkit import MAX_BLOCKS


def share_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Answer the intent again, visibly in the channel, saying who shared it."""
    ack()
    intent = clicked_intent(action, respond)
    if intent is None:
        return
    user_id = clicker(body)
    # Answered afresh rather than copied: the shared message shows today's numbers, not the ones from an hour ago.
    message = answer_message(intent, deps=deps_of(context), user_id=user_id)
    if user_id and len(message.get("blocks") or []) < MAX_BLOCKS:
        shared_by = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Shared by <@{user_id}>"}]}
        message = {**message, "blocks": [*(message.get("blocks") or []), shared_by]}
    if respond_safely(respond, message, response_type="in_channel", replace_original=False):
        respond_safely(respond, {"text": ""}, delete_original=True)
