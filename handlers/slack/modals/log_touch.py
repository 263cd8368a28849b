"""The Log touch / Log note modal, submitted: a touchpoint that feeds engagement at the next scoring, and on an
alert a note in its thread."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.activity import CUSTOMER_TOUCHES, TOUCH_KINDS, log_touch
from bot.permissions import Person
from handlers.slack.alert_clicks import (
    click_from_form,
    now,
    record_from_form,
    submitted,
    submitted_day,
    write_from_form,
)
from handlers.slack.deps import deps_of, form_target


def log_touch_submitted_callback(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Check the form, record the touch once (a double submit records once), and show it on the alert."""
    deps = deps_of(context)
    target, values = form_target(context), submitted(view)
    user = body["user"]["id"]
    today = now().astimezone(deps.settings.timezone).date()
    kind = values.get("kind") or "note"
    note = (values.get("note") or "").strip() or None
    happened_on = submitted_day(values.get("happened_on"), today)
    if kind not in TOUCH_KINDS:
        ack(response_action="errors", errors={"kind": "Choose what it was from the list."})
        return
    if kind == "note" and note is None:
        ack(response_action="errors", errors={"note": "Write the note, or choose the kind of touch it was."})
        return
    if happened_on is None or happened_on > today:
        ack(response_action="errors", errors={"happened_on": "Pick today or an earlier day."})
        return
    day = happened_on
    if target.alert_id is not None:
        text = f"{TOUCH_KINDS[kind]}: {note}" if kind in CUSTOMER_TOUCHES and note else (note or TOUCH_KINDS[kind])
        click = click_from_form(
            view,
            user_id=user,
            alert_id=target.alert_id,
            kind="note",
            note=text,
            touch_kind=kind,
            touched_on=day,
        )
        record_from_form(click, ack=ack, field="note", deps=deps, client=client)
        return
    write_from_form(
        lambda: log_touch(
            deps.engine,
            account_id=target.account_id,
            person=Person(user),
            kind=kind,
            happened_on=day,
            at=now(),
            settings=deps.settings,
            note=note,
            dedupe_key=f"view:{view.get('id')}",
        ),
        ack=ack,
        field="note",
    )
