"""A suggested account under "no account called …": its health card, in place of the suggestions."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.intents import Intent
from handlers.slack.actions.payload import clicked_in_ephemeral, clicker
from handlers.slack.deps import deps_of
from handlers.slack.replies import answer_message, respond_safely


def pick_account_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Replace the suggestions with the chosen account's card, as private or as visible as they were."""
    ack()
    name = action.get("value") or ""
    private = clicked_in_ephemeral(body)
    message = answer_message(
        Intent("account", subject=name, text=name), deps=deps_of(context), user_id=clicker(body), shareable=private
    )
    respond_safely(respond, message, replace_original=True, response_type="ephemeral" if private else "in_channel")
