"""The alert's "Snooze…" menu: quiet for 1 day or 7 days."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.activity import SNOOZE_CHOICES
from handlers.slack.alert_clicks import apply_alert_click, click_from
from handlers.slack.deps import deps_of
from handlers.slack.replies import STALE_BUTTON, notice_message, respond_safely


def snooze_alert_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """Snooze the alert for the chosen time; no reminders or escalation until it ends."""
    ack()
    deps = deps_of(context)
    chosen = str((action.get("selected_option") or {}).get("value", ""))
    alert_id, _, duration = chosen.partition(":")
    if not (alert_id.isascii() and alert_id.isdigit()) or duration not in SNOOZE_CHOICES:
        respond_safely(respond, notice_message(STALE_BUTTON), replace_original=False)
        return
    click = click_from(
        body, action, deps=deps, alert_id=int(alert_id), kind="snooze", snooze_for=SNOOZE_CHOICES[duration]
    )
    apply_alert_click(click, deps=deps, client=client, respond=respond)
