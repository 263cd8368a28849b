"""The alert's "Assign to…" people picker."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from handlers.slack.alert_clicks import alert_id_from, apply_alert_click, click_from
from handlers.slack.deps import deps_of
from handlers.slack.replies import STALE_BUTTON, notice_message, respond_safely


def assign_alert_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """Assign the alert to the person picked; they may act on it from then on."""
    ack()
    deps = deps_of(context)
    alert_id = alert_id_from(action.get("block_id"))
    assignee = action.get("selected_user")
    if alert_id is None or not assignee:
        respond_safely(respond, notice_message(STALE_BUTTON), replace_original=False)
        return
    click = click_from(body, action, deps=deps, alert_id=alert_id, kind="assign", assignee=assignee)
    apply_alert_click(click, deps=deps, client=client, respond=respond)
