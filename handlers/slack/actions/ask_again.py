"""A "did you mean" button under "No CSM called …": the question asked again with the name chosen, in place."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.intents import ask
from handlers.slack.actions.payload import clicked_in_ephemeral, clicker
from handlers.slack.deps import deps_of
from handlers.slack.replies import answer_message, respond_safely
from messages.briefing import ASK_ACTION_ID

ASK_AGAIN = re.compile(rf"^{ASK_ACTION_ID}_\d+$")


def ask_again_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Replace the suggestions with the answer to the question as corrected, as private or as visible as before."""
    ack()
    question = action.get("value") or ""
    private = clicked_in_ephemeral(body)
    message = answer_message(ask(question), deps=deps_of(context), user_id=clicker(body), shareable=private)
    respond_safely(respond, message, replace_original=True, response_type="ephemeral" if private else "in_channel")
