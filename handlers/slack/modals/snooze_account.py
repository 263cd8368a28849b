"""The health card's Snooze alerts modal, submitted: every open alert on the account snoozed, each recorded once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.activity import SNOOZE_CHOICES, AlertGone, act_on_alert
from bot.forms import open_alert_ids
from bot.permissions import NotAllowed
from handlers.slack.alert_clicks import click_from_form, show_everywhere, submitted
from handlers.slack.deps import deps_of, form_target


def snooze_account_submitted_callback(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Snooze each open alert the person may act on; if they may act on none, say who may, in the form."""
    deps = deps_of(context)
    target, values = form_target(context), submitted(view)
    duration = SNOOZE_CHOICES.get(values.get("duration") or "")
    if duration is None:
        ack(response_action="errors", errors={"duration": "Choose how long."})
        return
    done, refusal = [], None
    for alert_id in open_alert_ids(deps.engine, target.account_id):
        click = click_from_form(view, user_id=body["user"]["id"], alert_id=alert_id, kind="snooze", snooze_for=duration)
        click = replace(click, dedupe_key=f"{click.dedupe_key}:{alert_id}")  # one modal, several alerts
        try:
            done.append((click, act_on_alert(deps.engine, click, settings=deps.settings)))
        except NotAllowed as err:
            refusal = str(err)
        except AlertGone:
            continue
    if not done and refusal:
        ack(response_action="errors", errors={"duration": refusal})
        return
    ack()
    for click, outcome in done:
        show_everywhere(deps, client, outcome, click)
