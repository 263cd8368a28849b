"""A click on a card's Action.Execute button (an `adaptiveCard/action` invoke): the same state machine, permission
check and records as a Slack click (bot.activity.act_on_alert), answered with the re-rendered card, which Teams
shows in place of the clicked one; every other Teams copy of the alert is updated too."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta
from typing import Any

from microsoft_teams.api.activities.invoke.adaptive_card import AdaptiveCardInvokeActivity
from microsoft_teams.api.models.adaptive_card import (
    AdaptiveCardActionCardResponse,
    AdaptiveCardActionMessageResponse,
)
from microsoft_teams.apps import ActivityContext, App
from microsoft_teams.cards import AdaptiveCard
from sqlmodel import Session

from bot.activity import ALERT_ACTIONS, SNOOZE_CHOICES, AlertClick, AlertGone, NotAllowed, act_on_alert
from bot.alerts import alert_view
from bot.answers import AnswerContext, answer
from bot.intents import Intent
from bot.playbook_runs import checklist
from bot.pulse import PulseError, pulse_level, set_pulse
from bot.store import HealthAlert
from bot.teams.app import TeamsDeps
from bot.teams.conversations import display_names
from bot.teams.delivery import update_copies
from bot.teams.people import TeamsUser
from handlers.teams.common import conversation_of, now, send_view, sender
from messages.adaptive import VERB_PREFIX, Card, render_card

logger = logging.getLogger(__name__)

CardResponse = AdaptiveCardActionCardResponse | AdaptiveCardActionMessageResponse
GONE = "That alert no longer exists (it may have been cleared when the data was re-imported). Nothing was recorded."


def register(app: App, deps: TeamsDeps) -> None:
    @app.on_card_action
    async def card_action_callback(ctx: ActivityContext[AdaptiveCardInvokeActivity]) -> CardResponse:
        """Record the click once and answer with the card as it now stands."""
        action = ctx.activity.value.action
        verb, data = action.verb or "", dict(action.data or {})
        user, _ = await sender(ctx, deps)
        if verb == "health_account":
            intent = Intent(kind="account", subject=str(data.get("account") or ""), text="")
            view = await asyncio.to_thread(
                answer, intent, ctx=AnswerContext(engine=deps.engine, settings=deps.settings)
            )
            return replace_with(render_card(view))
        if not verb.startswith(VERB_PREFIX) or not str(data.get("alert_id", "")).isdigit():
            return say("That button is from an older version of Healthbot; ask again for a fresh card.")
        conversation_id, _ = conversation_of(ctx)
        in_channel = conversation_id == deps.settings.healthbot_teams_channel
        try:
            return await alert_click(ctx, deps, user, verb.removeprefix(VERB_PREFIX), data, in_channel=in_channel)
        except Exception:
            logger.exception("could not handle %s on a Teams card", verb)
            return say("Sorry — something went wrong on our side. Nothing was recorded; please try again.")


def replace_with(card: Card) -> AdaptiveCardActionCardResponse:
    return AdaptiveCardActionCardResponse(value=AdaptiveCard.model_validate(card))


def say(message: str) -> AdaptiveCardActionMessageResponse:
    return AdaptiveCardActionMessageResponse(value=message)


def dedupe_key(alert_id: int, kind: str, user: TeamsUser, data: dict[str, Any]) -> str:
    """The same for a double click (or Teams retrying the invoke) on one card, different once the card changed
    (its revision) or the form carries other values."""
    inputs = repr(sorted((k, str(v)) for k, v in data.items() if k not in ("alert_id", "rev")))
    digest = hashlib.sha256(inputs.encode()).hexdigest()[:12]
    return f"teams:{alert_id}:{kind}:{user.recorded_as}:{data.get('rev', '')}:{digest}"


async def alert_click(
    ctx: ActivityContext[AdaptiveCardInvokeActivity],
    deps: TeamsDeps,
    user: TeamsUser,
    kind: str,
    data: dict[str, Any],
    *,
    in_channel: bool,
) -> CardResponse:
    alert_id, at = int(data["alert_id"]), now()
    key = dedupe_key(alert_id, kind, user, data)
    if kind == "pulse":
        refused = await asyncio.to_thread(record_pulse, deps, alert_id, user, data, key)
        if refused:
            return say(refused)
    elif kind in ALERT_ACTIONS:
        extra: dict[str, Any] = {}
        if kind == "snooze":
            extra["snooze_for"] = SNOOZE_CHOICES.get(str(data.get("snooze") or "1d"), timedelta(days=1))
        if kind == "note":
            note = str(data.get("note") or "").strip()
            if not note:
                return say("Write the note first; nothing was recorded.")
            extra["note"] = note[:2000]
        if kind == "start_playbook":
            extra["playbook"] = await asyncio.to_thread(recommended, deps, alert_id)
            if extra["playbook"] is None:
                return say("This alert has no recommended playbook; start one from Slack or the command line.")
        click = AlertClick(
            alert_id=alert_id,
            user_id=user.recorded_as,
            kind=kind,
            dedupe_key=key,
            at=at,
            in_alert_channel=in_channel,
            identities=user.identities,
            **extra,
        )
        try:
            outcome = await asyncio.to_thread(act_on_alert, deps.engine, click, settings=deps.settings)
        except NotAllowed as refusal:
            return say(str(refusal))
        except AlertGone:
            return say(GONE)
        if outcome.run is not None and outcome.run.created and outcome.run.run.id is not None:
            view = await asyncio.to_thread(checklist, deps.engine, outcome.run.run.id, playbooks=deps.playbooks)
            await send_view(ctx, view)
    else:
        return say("That button is from an older version of Healthbot; ask again for a fresh card.")
    try:
        card = await asyncio.to_thread(alert_card, deps, alert_id)
    except AlertGone:
        return say(GONE)
    # Even a click that changed nothing re-renders every copy: the one clicked may have been out of date.
    await update_copies(deps.engine, deps.outbox, alert_id, card)
    return replace_with(card)


def alert_card(deps: TeamsDeps, alert_id: int) -> Card:
    view = alert_view(deps.engine, alert_id, now=now(), playbooks=deps.playbooks, tz=deps.settings.timezone)
    return render_card(view, names=display_names(deps.engine))


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
    set_pulse(
        deps.engine,
        account_id=account_id,
        level=level,
        author=user.recorded_as,
        at=now(),
        note=note,
        dedupe_key=key,
        alert_id=alert_id,
    )
    return None
