"""Recording what people do about alerts and accounts: every click once, in one transaction, and the alert's state
kept beside its action log so every message can be re-rendered from the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.permissions import Person, check_may_act
from bot.playbook_runs import Playbook, RunStart, start_run
from bot.scoring_inputs import CUSTOMER_TOUCHES
from bot.settings import Settings
from bot.store import AlertAction, HealthAlert, Touchpoint, read_session, write_session
from bot.store.tables import as_utc

# What the buttons on an alert do; the handlers' action_ids are "alert_" + these.
ALERT_ACTIONS = (
    "acknowledge",
    "unacknowledge",
    "resolve",
    "unresolve",
    "snooze",
    "unsnooze",
    "assign",
    "start_playbook",
    "note",
)
SNOOZE_CHOICES = {"1d": timedelta(days=1), "7d": timedelta(days=7)}

# Kinds of touchpoint the Log touch modal offers; "note" is internal and does not count as a customer touch.
TOUCH_KINDS = {"call": "Call", "meeting": "Meeting", "email": "Email", "qbr": "QBR", "note": "Internal note"}


class AlertGone(LookupError):
    """The alert no longer exists (resolved and purged, or the store was rebuilt)."""


def record_action(
    *,
    session: Session,
    account_id: str,
    user_id: str,
    kind: str,
    at: datetime,
    alert_id: int | None = None,
    note: str | None = None,
    dedupe_key: str | None = None,
) -> AlertAction | None:
    """Add one action to the log inside the caller's write transaction; None when `dedupe_key` is already there.

    A double click or a Slack retry carries the same key, so it is recorded once.
    """
    if dedupe_key is not None and _already_recorded(session, dedupe_key):
        return None
    action = AlertAction(
        alert_id=alert_id,
        account_id=account_id,
        user_id=user_id,
        kind=kind,
        note=note,
        dedupe_key=dedupe_key,
        created_at=at,
    )
    try:
        with session.begin_nested():
            session.add(action)
    except IntegrityError:
        # PostgreSQL: another transaction recorded the same click between our check and our insert.
        if dedupe_key is not None and _already_recorded(session, dedupe_key):
            return None
        raise
    return action


def _already_recorded(session: Session, dedupe_key: str) -> bool:
    return session.exec(select(AlertAction.id).where(AlertAction.dedupe_key == dedupe_key)).first() is not None


def alert_state(alert: HealthAlert, now: datetime) -> str:
    """open, acknowledged, snoozed or resolved — a snooze that has ended no longer counts."""
    if alert.resolved_at is not None:
        return "resolved"
    snoozed_until = as_utc(alert.snoozed_until)
    if snoozed_until is not None and snoozed_until > now:
        return "snoozed"
    return "acknowledged" if alert.acknowledged_at is not None else "open"


@dataclass(frozen=True)
class AlertClick:
    """One person's click on an alert's button, or a modal submitted from one."""

    alert_id: int
    user_id: str
    kind: str  # one of ALERT_ACTIONS
    dedupe_key: str  # from the payload, e.g. action_ts + user + action_id
    at: datetime
    in_alert_channel: bool = False  # the click came from the message in HEALTHBOT_ALERT_CHANNEL
    note: str | None = None
    snooze_for: timedelta | None = None
    assignee: str | None = None
    playbook: Playbook | None = None
    touch_kind: str | None = None  # a note logged from the alert may record a customer touch too
    touched_on: date | None = None
    email: str | None = None  # the clicker's email, when the surface knows it (matched against csm_email)
    # Other names the clicker goes by, for a surface whose user IDs are not Slack's (Teams: Entra object ID and
    # email address); matched against HEALTHBOT_ADMINS, the assignee and the account's CSM like user_id.
    identities: frozenset[str] = frozenset()

    @property
    def person(self) -> Person:
        return Person(self.user_id, self.email, also_known_as=self.identities)


@dataclass(frozen=True)
class AlertOutcome:
    """What a click did: the alert as it now stands, and the action recorded (None: a repeat, nothing new)."""

    alert: HealthAlert
    action: AlertAction | None
    run: RunStart | None = None


def act_on_alert(engine: Engine, click: AlertClick, *, settings: Settings) -> AlertOutcome:
    """Check the clicker may act, record the action once and update the alert's state, all in one transaction.

    A click that changes nothing (acknowledging an alert someone already acknowledged, from another copy of the
    message) is not recorded; the caller re-renders the message so it shows who did.

    Raises:
        AlertGone: no such alert.
        NotAllowed: the clicker is not the account's CSM, the assignee or an admin; nothing is recorded.
    """
    if click.kind not in ALERT_ACTIONS:
        raise ValueError(f"unknown alert action {click.kind!r}")
    with write_session(engine) as session:
        # FOR UPDATE: on PostgreSQL two clicks on one alert queue here instead of overwriting each other's state.
        alert = session.exec(select(HealthAlert).where(HealthAlert.id == click.alert_id).with_for_update()).first()
        if alert is None:
            raise AlertGone(click.alert_id)
        check_may_act(
            session,
            click.person,
            account_id=alert.account_id,
            settings=settings,
            doing="change this alert",
            alert=alert,
            from_alert_channel=click.in_alert_channel,
        )
        if not _changes_something(alert, click):
            return AlertOutcome(alert, None)
        run = None
        if click.kind == "start_playbook":
            assert click.playbook is not None
            run = start_run(
                session,
                account_id=alert.account_id,
                playbook=click.playbook,
                user_id=click.user_id,
                now=click.at,
                alert_id=alert.id,
            )
            if not run.created:  # already under way (or this is a repeat of the click that started it)
                return AlertOutcome(alert, None, run)
        action = record_action(
            session=session,
            account_id=alert.account_id,
            user_id=click.user_id,
            kind=click.kind,
            at=click.at,
            alert_id=alert.id,
            note=_action_note(click),
            dedupe_key=click.dedupe_key,
        )
        if action is None:
            return AlertOutcome(alert, None, run)
        if click.touch_kind in CUSTOMER_TOUCHES:
            _add_touchpoint(
                session,
                account_id=alert.account_id,
                user_id=click.user_id,
                kind=click.touch_kind or "call",
                note=click.note,
                happened_on=click.touched_on or click.at.date(),
                at=click.at,
            )
        _apply(alert, click)
        session.add(alert)
        session.flush()
    return AlertOutcome(alert, action, run)


def start_playbook(
    engine: Engine,
    *,
    account_id: str,
    playbook: Playbook,
    person: Person,
    at: datetime,
    settings: Settings,
    dedupe_key: str | None = None,
) -> RunStart:
    """Start a playbook on an account (from its health card, not an alert) and log it, in one transaction.

    A playbook already under way on the account is not started twice: its run comes back with `created` False.

    Raises:
        NotAllowed: `person` is not the account's CSM or an admin; nothing is started.
    """
    user_id = person.user_id
    with write_session(engine) as session:
        check_may_act(session, person, account_id=account_id, settings=settings, doing="start a playbook on it")
        run = start_run(session, account_id=account_id, playbook=playbook, user_id=user_id, now=at)
        if run.created:
            record_action(
                session=session,
                account_id=account_id,
                user_id=user_id,
                kind="start_playbook",
                at=at,
                note=playbook.name,
                dedupe_key=dedupe_key,
            )
    return run


def alert_on_account(session: Session, alert_id: int, account_id: str) -> HealthAlert:
    """The alert, when it is one on `account_id`: a form opened on one account never writes to another's alert.

    Raises:
        AlertGone: no such alert on that account.
    """
    alert = session.get(HealthAlert, alert_id)
    if alert is None or alert.account_id != account_id:
        raise AlertGone(alert_id)
    return alert


def _changes_something(alert: HealthAlert, click: AlertClick) -> bool:
    state = alert_state(alert, click.at)
    return {
        "acknowledge": alert.acknowledged_at is None,
        "unacknowledge": alert.acknowledged_at is not None,
        "resolve": state != "resolved",
        "unresolve": state == "resolved",
        "unsnooze": state == "snoozed",
        "assign": click.assignee is not None and click.assignee != alert.assigned_to,
        "start_playbook": click.playbook is not None,
    }.get(click.kind, True)


def _action_note(click: AlertClick) -> str | None:
    if click.kind == "snooze" and click.snooze_for is not None:
        days = click.snooze_for.days
        return f"for {days} day{'s' if days != 1 else ''}"
    if click.kind == "assign" and click.assignee:
        return f"to <@{click.assignee}>"
    if click.kind == "start_playbook" and click.playbook is not None:
        return click.playbook.name
    return click.note


def _apply(alert: HealthAlert, click: AlertClick) -> None:
    kind, user, at = click.kind, click.user_id, click.at
    if kind == "acknowledge":
        alert.acknowledged_by, alert.acknowledged_at = user, at
    elif kind == "unacknowledge":
        alert.acknowledged_by, alert.acknowledged_at = None, None
    elif kind == "resolve":
        alert.resolved_by, alert.resolved_at = user, at
    elif kind == "unresolve":
        alert.resolved_by, alert.resolved_at = None, None
    elif kind == "snooze":
        alert.snoozed_by, alert.snoozed_until = user, at + (click.snooze_for or SNOOZE_CHOICES["1d"])
    elif kind == "unsnooze":
        alert.snoozed_by, alert.snoozed_until = None, None
    elif kind == "assign":
        alert.assigned_to = click.assignee
    elif kind == "start_playbook" and alert.acknowledged_at is None:
        # Starting a playbook is the strongest acknowledgement there is.
        alert.acknowledged_by, alert.acknowledged_at = user, at
    alert.status = alert_state(alert, at)


def alert_actions(engine: Engine, alert_id: int) -> list[AlertAction]:
    """Every action recorded on an alert, oldest first."""
    with read_session(engine) as session:
        return list(
            session.exec(
                select(AlertAction).where(AlertAction.alert_id == alert_id).order_by(col(AlertAction.id))
            ).all()
        )


# --- touchpoints ----------------------------------------------------------------------------------------------------


def log_touch(
    engine: Engine,
    *,
    account_id: str,
    person: Person,
    kind: str,
    happened_on: date,
    at: datetime,
    settings: Settings,
    note: str | None = None,
    alert_id: int | None = None,
    dedupe_key: str | None = None,
) -> Touchpoint | None:
    """Record a touchpoint (and the matching action) in one transaction; None when `dedupe_key` was seen.

    Customer touches (call, meeting, email, QBR) feed `last_touch` and `csm_touches_90d` at the next scoring;
    an internal note is kept as an action only.

    Raises:
        NotAllowed: `person` is not the account's CSM (or the alert's assignee) or an admin; nothing is recorded.
        AlertGone: `alert_id` is not an alert on this account.
    """
    if kind not in TOUCH_KINDS:
        raise ValueError(f"unknown touch kind {kind!r}; expected one of {', '.join(TOUCH_KINDS)}")
    user_id = person.user_id
    with write_session(engine) as session:
        alert = alert_on_account(session, alert_id, account_id) if alert_id is not None else None
        doing = "log a touch on this account" if kind in CUSTOMER_TOUCHES else "log a note on this account"
        check_may_act(session, person, account_id=account_id, settings=settings, doing=doing, alert=alert)
        action = record_action(
            session=session,
            account_id=account_id,
            user_id=user_id,
            kind="touch" if kind in CUSTOMER_TOUCHES else "note",
            at=at,
            alert_id=alert_id,
            note=f"{TOUCH_KINDS[kind]}: {note}" if note and kind in CUSTOMER_TOUCHES else (note or TOUCH_KINDS[kind]),
            dedupe_key=dedupe_key,
        )
        if action is None:
            return None
        return _add_touchpoint(
            session,
            account_id=account_id,
            user_id=user_id,
            kind=kind,
            note=note,
            happened_on=happened_on,
            at=at,
            dedupe_key=dedupe_key,
        )


def _add_touchpoint(
    session: Session,
    *,
    account_id: str,
    user_id: str,
    kind: str,
    note: str | None,
    happened_on: date,
    at: datetime,
    dedupe_key: str | None = None,
) -> Touchpoint:
    touch = Touchpoint(
        account_id=account_id,
        user_id=user_id,
        kind=kind,
        note=note,
        happened_on=happened_on,
        dedupe_key=dedupe_key,
        created_at=at,
    )
    session.add(touch)
    session.flush()
    return touch
