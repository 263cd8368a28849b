"""The alert's state buttons: Acknowledge ↔ Unacknowledge, Resolve ↔ Reopen, Unsnooze."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from handlers.slack.alert_clicks import alert_id_from, apply_alert_click, click_from
from handlers.slack.deps import deps_of
from handlers.slack.replies import STALE_BUTTON, notice_message, respond_safely
from messages.controls import Action

STATE_BUTTONS = {
    Action.ALERT_ACKNOWLEDGE: "acknowledge",
    Action.ALERT_UNACKNOWLEDGE: "unacknowledge",
    Action.ALERT_RESOLVE: "resolve",
    Action.ALERT_UNRESOLVE: "unresolve",
    Action.ALERT_UNSNOOZE: "unsnooze",
}


def alert_button_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """Change the alert's state, record who did it once, and show it on every copy of the alert."""
    ack()
    deps = deps_of(context)
    alert_id = alert_id_from(action.get("value"))
    if alert_id is None:
        respond_safely(respond, notice_message(STALE_BUTTON), replace_original=False)
        return
    click = click_from(body, action, deps=deps, alert_id=alert_id, kind=STATE_BUTTONS[action["action_id"]])
    apply_alert_click(click, deps=deps, client=client, respond=respond)
