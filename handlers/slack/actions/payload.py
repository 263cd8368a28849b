"""What a button click carries, read the same way by every action listener."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond

from bot.intents import Intent, intent_from_value
from handlers.slack.replies import STALE_BUTTON, notice_message, respond_safely


def clicked_in_ephemeral(body: dict[str, Any]) -> bool:
    """Whether the button sat in a message only the clicker could see (an answer to `/health`)."""
    return bool((body.get("container") or {}).get("is_ephemeral"))


def clicker(body: dict[str, Any]) -> str | None:
    """The Slack user ID of whoever clicked."""
    return (body.get("user") or {}).get("id")


def clicked_thread(body: dict[str, Any]) -> tuple[str, str] | None:
    """The channel and thread of the message the button sat in, when it was a visible message."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    message = body.get("message") or {}
    ts = message.get("thread_ts") or message.get("ts")
    return (channel, ts) if channel and ts else None


def clicked_intent(action: dict[str, Any], respond: Respond) -> Intent | None:
    """The request a button carries; None, with the clicker told so, when the button is not one of ours any more."""
    try:
        return intent_from_value(action.get("value") or "")
    except ValueError:
        respond_safely(respond, notice_message(STALE_BUTTON), replace_original=False)
        return None
