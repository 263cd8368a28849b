"""The Set pulse modal, submitted: the CSM's own read, stored with author and expiry, shown on the alert."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.permissions import Person
from bot.pulse import PulseError, pulse_level, set_pulse
from handlers.slack.alert_clicks import desk_for, now, submitted, write_from_form
from handlers.slack.deps import deps_of, form_target
from messages import views


def set_pulse_submitted_callback(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Store the reading once (only the CSM or an admin may); on an alert, re-render it everywhere and note it in
    the thread."""
    deps = deps_of(context)
    target, values = form_target(context), submitted(view)
    try:
        level = pulse_level(values.get("level") or "")
    except PulseError:
        ack(response_action="errors", errors={"level": "Choose one of the six levels."})
        return
    at, user, note = now(), body["user"]["id"], (values.get("note") or "").strip() or None
    alert_id = target.alert_id
    pulse = write_from_form(
        lambda: set_pulse(
            deps.engine,
            account_id=target.account_id,
            level=level,
            person=Person(user),
            at=at,
            settings=deps.settings,
            note=note,
            dedupe_key=f"view:{view.get('id')}",
            alert_id=alert_id,
        ),
        ack=ack,
        field="level",
    )
    if pulse is None or alert_id is None:
        return
    desk = desk_for(deps, client)
    desk.refresh(alert_id, now=at)
    label = views.PULSE_LEVELS[level - 1]
    event = views.AlertEvent(
        "pulse",
        user,
        at.astimezone(deps.settings.timezone),
        desk.view(alert_id, now=at).account.name,
        f"{label}: {note}" if note else label,
    )
    desk.reply(alert_id, event, key=f"pulse:{pulse.id}")
