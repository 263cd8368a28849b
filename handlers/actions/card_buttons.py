"""The health card's buttons whose capabilities arrive with later work: acknowledged, and said so plainly."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond

from handlers.replies import notice_message, respond_safely
from messages import views

# action_id → (what the button does, the release that brings it)
NOT_YET: dict[str, tuple[str, str]] = {
    "card_start_playbook": ("Starting a playbook", "the alerts and playbooks release (issue #5)"),
    "card_log_touch": ("Logging a touch", "the alerts and playbooks release (issue #5)"),
    "card_snooze": ("Snoozing alerts", "the alerts and playbooks release (issue #5)"),
}


def card_button_callback(ack: Ack, action: dict[str, Any], respond: Respond) -> None:
    """Tell the clicker, privately, that this button is not switched on yet; nothing is recorded."""
    ack()
    what, release = NOT_YET[action["action_id"]]
    notice = views.Notice(
        title=f"{what} isn't switched on yet",
        lines=[f"It arrives with {release}. Nothing was changed."],
        kind="info",
    )
    respond_safely(respond, notice_message(notice), replace_original=False)
