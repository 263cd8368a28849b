"""Buttons that open a form, on an alert or a health card: Start playbook, Log note / Log touch, Set pulse,
Snooze alerts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.forms import open_alert_ids, playbook_form, pulse_form, snooze_form, touch_form
from handlers.slack.alert_clicks import Target, now, open_form, playbooks_of, target_or_gone
from handlers.slack.deps import AppDeps
from handlers.slack.replies import notice_message, respond_safely
from messages import views
from messages.controls import Action


def _playbook(deps: AppDeps, target: Target) -> views.Form:
    # The playbook recommended for this account's trouble comes preselected.
    return playbook_form(target.account, playbooks_of(deps), reasons=target.reasons, metadata=target.metadata())


def _touch(deps: AppDeps, target: Target) -> views.Form:
    # On an alert it is mostly a note; on a health card mostly a call or meeting.
    today = now().astimezone(deps.settings.timezone).date()
    return touch_form(target.account, today=today, metadata=target.metadata(), note_first=target.alert_id is not None)


def _pulse(deps: AppDeps, target: Target) -> views.Form:
    today = now().astimezone(deps.settings.timezone).date()
    return pulse_form(deps.engine, target.account, today=today, metadata=target.metadata())


def _snooze(deps: AppDeps, target: Target) -> views.Form | views.Notice:
    alerts = open_alert_ids(deps.engine, target.account.account_id)
    if not alerts:
        return views.Notice(f"No open alerts on {target.account.name}", ["There is nothing to snooze right now."])
    return snooze_form(target.account, open_alerts=len(alerts), metadata=target.metadata())


FORMS: dict[str, Callable[[AppDeps, Target], views.Form | views.Notice]] = {
    Action.ALERT_START_PLAYBOOK: _playbook,
    Action.CARD_START_PLAYBOOK: _playbook,
    Action.ALERT_LOG_NOTE: _touch,
    Action.CARD_LOG_TOUCH: _touch,
    Action.ALERT_SET_PULSE: _pulse,
    Action.CARD_SET_PULSE: _pulse,
    Action.CARD_SNOOZE: _snooze,
}


def form_button_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """Open the button's form for the clicker (Slack allows 3 seconds from the click), or say why not privately."""
    ack()
    found = target_or_gone(body, action, respond, context)
    if found is None:
        return
    deps, target = found
    form = FORMS[action["action_id"]](deps, target)
    if isinstance(form, views.Notice):
        respond_safely(respond, notice_message(form), replace_original=False)
        return
    open_form(client, body.get("trigger_id"), form)
