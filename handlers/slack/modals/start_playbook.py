"""The Start playbook modal, submitted: a run with its checklist, in the alert's thread or as a DM."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.activity import start_playbook
from bot.permissions import Person
from handlers.slack.alert_clicks import (
    click_from_form,
    desk_for,
    now,
    playbooks_of,
    record_from_form,
    submitted,
    tell_person,
    write_from_form,
)
from handlers.slack.deps import deps_of, form_target
from messages import views


def start_playbook_submitted_callback(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Start the chosen playbook once and post its checklist; a playbook already running is said so, not doubled."""
    deps = deps_of(context)
    target, values = form_target(context), submitted(view)
    user = body["user"]["id"]
    playbook = playbooks_of(deps).get(values.get("playbook") or "")
    if playbook is None:
        ack(response_action="errors", errors={"playbook": "Choose a playbook from the list."})
        return
    if target.alert_id is not None:
        click = click_from_form(view, user_id=user, alert_id=target.alert_id, kind="start_playbook", playbook=playbook)
        outcome = record_from_form(click, ack=ack, field="playbook", deps=deps, client=client)
        started = outcome.run if outcome else None
    else:
        started = write_from_form(
            lambda: start_playbook(
                deps.engine,
                account_id=target.account_id,
                playbook=playbook,
                person=Person(user),
                at=now(),
                settings=deps.settings,
                dedupe_key=f"view:{view.get('id')}",
            ),
            ack=ack,
            field="playbook",
        )
    if started is None or started.run.id is None:
        return
    if not started.created:
        already = views.Notice(
            f"{playbook.name} is already under way",
            [f"<@{started.run.started_by}> started it; its checklist is where it was posted. Nothing new was started."],
        )
        tell_person(client, user, already, channel=target.channel)
        return
    # The checklist goes where the form was opened (the signed metadata says so), else to the person's DM.
    desk = desk_for(deps, client)
    desk.post_checklist(started.run.id, channel=target.channel or user, thread_ts=target.thread_ts, now=now())
