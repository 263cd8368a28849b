"""The menu on each red or at-risk line of a digest: the account's card in the digest's thread, or one of the
card's forms (start playbook, log touch, set pulse, snooze alerts)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.intents import Intent
from handlers.slack.actions.form_buttons import FORMS, form_button_callback
from handlers.slack.actions.payload import clicked_thread, clicker
from handlers.slack.deps import deps_of
from handlers.slack.replies import answer_message, post_safely, respond_safely
from messages.controls import DIGEST_MENU_CHOICES

SHOW_CARD = DIGEST_MENU_CHOICES[0]


def digest_menu_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """Do what was chosen for the line's account; the forms are the health card's own."""
    choice, _, account_id = str((action.get("selected_option") or {}).get("value", "")).partition(":")
    if choice in FORMS:
        form_button_callback(ack, body, {"action_id": choice, "value": account_id}, respond, client, context)
        return
    ack()
    message = answer_message(Intent("account", subject=account_id), deps=deps_of(context), user_id=clicker(body))
    thread = clicked_thread(body)
    if choice == SHOW_CARD and thread is not None:
        post_safely(client, channel=thread[0], thread_ts=thread[1], message=message)
    else:
        respond_safely(respond, message, replace_original=False)
