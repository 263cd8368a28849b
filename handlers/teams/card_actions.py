"""A click on an alert card: an `adaptiveCard/action` invoke (Action.Execute), or a dialog opened and submitted
(`task/fetch`, `task/submit`) for snooze, note, pulse and assign. The same state machine, permission check and records
as a Slack click (bot.activity.act_on_alert); the clicked card is answered with its new rendering and every other Teams
copy of the alert is updated too."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta
from typing import Any

from microsoft_teams.api.activities.invoke.adaptive_card import AdaptiveCardInvokeActivity
from microsoft_teams.api.activities.invoke.task import TaskFetchInvokeActivity, TaskSubmitInvokeActivity
from microsoft_teams.api.models.adaptive_card import AdaptiveCardActionCardResponse, AdaptiveCardActionMessageResponse
from microsoft_teams.api.models.attachment import Attachment
from microsoft_teams.api.models.task_module import (
    CardTaskModuleTaskInfo,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleResponse,
)
from microsoft_teams.apps import ActivityContext, App
from microsoft_teams.cards import AdaptiveCard
from sqlmodel import Session

from bot.activity import SNOOZE_CHOICES, AlertClick, AlertGone, act_on_alert
from bot.alerts import alert_view
from bot.answers import AnswerContext, answer
from bot.intents import Intent
from bot.permissions import NotAllowed, Person
from bot.playbook_runs import checklist
from bot.pulse import PulseError, pulse_level, set_pulse
from bot.store import HealthAlert
from bot.teams.app import TeamsDeps
from bot.teams.conversations import assignable_people, card_for
from bot.teams.delivery import update_copies
from bot.teams.people import TeamsUser
from handlers.teams.common import conversation_of, now, send_view, sender
from messages.adaptive import CONTENT_TYPE, Card, alert_dialog, render_card
from messages.controls import Action

logger = logging.getLogger(__name__)

CardResponse = AdaptiveCardActionCardResponse | AdaptiveCardActionMessageResponse
# Each alert control, and what it does in the store (bot.activity.ALERT_ACTIONS, or "pulse").
ALERT_CONTROLS: dict[str, str] = {
    Action.ALERT_ACKNOWLEDGE: "acknowledge",
    Action.ALERT_UNACKNOWLEDGE: "unacknowledge",
    Action.ALERT_RESOLVE: "resolve",
    Action.ALERT_UNRESOLVE: "unresolve",
    Action.ALERT_SNOOZE: "snooze",
    Action.ALERT_UNSNOOZE: "unsnooze",
    Action.ALERT_START_PLAYBOOK: "start_playbook",
    Action.ALERT_LOG_NOTE: "note",
    Action.ALERT_SET_PULSE: "pulse",
    Action.ALERT_ASSIGN: "assign",
}
GONE = "That alert no longer exists (it may have been cleared when the data was re-imported). Nothing was recorded."
STALE = "That button is from an older version of Healthbot; ask again for a fresh card."
NOT_ASSIGNABLE = "Pick someone from the list: only people with Healthbot in Teams can be assigned. Nothing recorded."
APOLOGY = "Sorry — something went wrong on our side. Nothing was recorded; please try again."


def register(app: App, deps: TeamsDeps) -> None:
    @app.on_card_action
    async def card_action_callback(ctx: ActivityContext[AdaptiveCardInvokeActivity]) -> CardResponse:
        """A one-click button: record it once and answer with the card as it now stands."""
        action = ctx.activity.value.action
        verb, data = action.verb or "", dict(action.data or {})
        user, _ = await sender(ctx, deps)
        if verb == Action.PICK_ACCOUNT:
            intent = Intent(kind="account", subject=str(data.get("account") or ""), text="")
            ask = AnswerContext(engine=deps.engine, settings=deps.settings)
            return replace_with(render_card(await asyncio.to_thread(answer, intent, ctx=ask)))
        refusal = await click(ctx, deps, user, verb, data)
        if refusal is not None:
            return say(refusal)
        try:
            return replace_with(await asyncio.to_thread(alert_card, deps, int(data["alert_id"])))
        except AlertGone:
            return say(GONE)

    @app.on_dialog_open
    async def alert_dialog_open_callback(ctx: ActivityContext[TaskFetchInvokeActivity]) -> TaskModuleResponse:
        """Snooze…, Log note…, Set pulse… or Assign…: the form, in a dialog."""
        data = dict((ctx.activity.value.data if ctx.activity.value else None) or {})
        dialog, alert_id = str(data.get("dialog_id") or ""), str(data.get("alert_id") or "")
        if dialog not in ALERT_CONTROLS or not alert_id.isdigit():
            return message(STALE)
        try:
            view = await asyncio.to_thread(
                alert_view, deps.engine, int(alert_id), now=now(), playbooks=deps.playbooks, tz=deps.settings.timezone
            )
        except AlertGone:
            return message(GONE)
        people: list[tuple[str, str]] = []
        if dialog == Action.ALERT_ASSIGN:
            user, _ = await sender(ctx, deps)
            people = await asyncio.to_thread(assignable_people, deps.engine, first=(user.recorded_as, user.name or ""))
        title, form = alert_dialog(dialog, view, rev=str(data.get("rev") or "") or None, people=people)
        info = CardTaskModuleTaskInfo(
            title=title, width="medium", card=Attachment(content_type=CONTENT_TYPE, content=form)
        )
        return TaskModuleResponse(task=TaskModuleContinueResponse(value=info))

    @app.on_dialog_submit
    async def alert_dialog_submit_callback(ctx: ActivityContext[TaskSubmitInvokeActivity]) -> TaskModuleResponse:
        """The dialog's form sent: recorded like a click; the dialog closes, or says why nothing was recorded."""
        data = dict((ctx.activity.value.data if ctx.activity.value else None) or {})
        user, _ = await sender(ctx, deps)
        refusal = await click(ctx, deps, user, str(data.get("dialog_id") or ""), data)
        return message(refusal) if refusal is not None else TaskModuleResponse()  # no task: the dialog closes


def replace_with(card: Card) -> AdaptiveCardActionCardResponse:
    return AdaptiveCardActionCardResponse(value=AdaptiveCard.model_validate(card))


def say(text: str) -> AdaptiveCardActionMessageResponse:
    return AdaptiveCardActionMessageResponse(value=text)


def message(text: str) -> TaskModuleResponse:
    return TaskModuleResponse(task=TaskModuleMessageResponse(value=text))


def dedupe_key(alert_id: int, kind: str, user: TeamsUser, data: dict[str, Any]) -> str:
    """The same for a double click (or Teams retrying the invoke) on one card, different once the card changed
    (its revision) or the form carries other values."""
    inputs = repr(sorted((k, str(v)) for k, v in data.items() if k not in ("alert_id", "rev", "msteams")))
    digest = hashlib.sha256(inputs.encode()).hexdigest()[:12]
    return f"teams:{alert_id}:{kind}:{user.recorded_as}:{data.get('rev', '')}:{digest}"


async def click(
    ctx: ActivityContext[Any], deps: TeamsDeps, user: TeamsUser, control: str, data: dict[str, Any]
) -> str | None:
    """Record what a control asks (once), then update every Teams copy of the alert; None when it was recorded (or
    was a repeat), else what to tell the clicker."""
    kind, alert_id = ALERT_CONTROLS.get(control), str(data.get("alert_id") or "")
    if kind is None or not alert_id.isdigit():
        return STALE
    conversation_id, _ = conversation_of(ctx)
    try:
        refusal = await record(ctx, deps, user, kind, int(alert_id), data, conversation_id)
        if refusal is not None:
            return refusal
        card = await asyncio.to_thread(alert_card, deps, int(alert_id))
    except AlertGone:
        return GONE
    except Exception:
        logger.exception("could not handle %s on a Teams card", control)
        return APOLOGY
    # Even a click that changed nothing re-renders every copy: the one clicked may have been out of date.
    await update_copies(deps.engine, deps.outbox, int(alert_id), card)
    return None


async def record(
    ctx: ActivityContext[Any],
    deps: TeamsDeps,
    user: TeamsUser,
    kind: str,
    alert_id: int,
    data: dict[str, Any],
    conversation_id: str,
) -> str | None:
    key = dedupe_key(alert_id, kind, user, data)
    if kind == "pulse":
        return await asyncio.to_thread(record_pulse, deps, alert_id, user, data, key)
    extra: dict[str, Any] = {}
    if kind == "snooze":
        extra["snooze_for"] = SNOOZE_CHOICES.get(str(data.get("snooze") or "1d"), timedelta(days=1))
    if kind == "note":
        note = str(data.get("note") or "").strip()
        if not note:
            return "Write the note first; nothing was recorded."
        extra["note"] = note[:2000]
    if kind == "assign":
        assignee = str(data.get("assignee") or "")
        known = {person for person, _ in await asyncio.to_thread(assignable_people, deps.engine)}
        if assignee not in known | {user.recorded_as}:
            return NOT_ASSIGNABLE
        extra["assignee"] = assignee
    if kind == "start_playbook":
        extra["playbook"] = await asyncio.to_thread(recommended, deps, alert_id)
        if extra["playbook"] is None:
            return "This alert has no recommended playbook; start one from Slack or the command line."
    alert_click = AlertClick(
        alert_id=alert_id,
        user_id=user.recorded_as,
        kind=kind,
        dedupe_key=key,
        at=now(),
        in_alert_channel=conversation_id == deps.settings.healthbot_teams_channel,
        email=user.email,
        identities=user.identities,
        **extra,
    )
    try:
        outcome = await asyncio.to_thread(act_on_alert, deps.engine, alert_click, settings=deps.settings)
    except NotAllowed as refusal:
        return str(refusal)
    if outcome.run is not None and outcome.run.created and outcome.run.run.id is not None:
        view = await asyncio.to_thread(checklist, deps.engine, outcome.run.run.id, playbooks=deps.playbooks)
        await send_view(ctx, view)
    return None


def alert_card(deps: TeamsDeps, alert_id: int) -> Card:
    view = alert_view(deps.engine, alert_id, now=now(), playbooks=deps.playbooks, tz=deps.settings.timezone)
    return card_for(deps.engine, view)


def recommended(deps: TeamsDeps, alert_id: int) -> Any:
    with Session(deps.engine) as session:
        alert = session.get(HealthAlert, alert_id)
        return deps.playbooks.get(alert.playbook or "") if alert else None


def record_pulse(deps: TeamsDeps, alert_id: int, user: TeamsUser, data: dict[str, Any], key: str) -> str | None:
    """Store the CSM's read of the alert's account; a message for the clicker when something was wrong."""
    try:
        level = pulse_level(str(data.get("pulse") or ""))
    except PulseError as err:
        return str(err)
    with Session(deps.engine) as session:
        alert = session.get(HealthAlert, alert_id)
        account_id = alert.account_id if alert else None
    if account_id is None:
        return GONE
    note = str(data.get("pulse_note") or "").strip() or None
    person = Person(user.recorded_as, user.email, also_known_as=user.identities)
    try:
        set_pulse(
            deps.engine,
            account_id=account_id,
            level=level,
            person=person,
            at=now(),
            settings=deps.settings,
            note=note,
            dedupe_key=key,
            alert_id=alert_id,
        )
    except NotAllowed as refusal:
        return str(refusal)
    return None
