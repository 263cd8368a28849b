"""The CSM pulse: a person's own read of an account on a six-step scale, with a note, kept for 90 days.

It is shown beside the computed score and offered to the model as an input of the relationship dimension
(`csm_pulse`, weighted in the model file); it never replaces the score.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.activity import alert_on_account, record_action
from bot.permissions import Person, check_may_act
from bot.settings import Settings
from bot.store import Pulse, write_session
from bot.store.tables import as_utc
from messages.views import PULSE_LEVELS, PulseReading

PULSE_DAYS = 90  # a read older than a quarter says more about then than now


class PulseError(ValueError):
    """A pulse value a person typed or chose is not on the scale; the message lists the scale."""


def pulse_level(value: str | int) -> int:
    """The level 1–6 for "4", 4 or "Steady" (any case).

    Raises:
        PulseError: not on the scale.
    """
    text = str(value).strip()
    if text.isdigit() and 1 <= int(text) <= len(PULSE_LEVELS):
        return int(text)
    for level, label in enumerate(PULSE_LEVELS, 1):
        if text.lower() == label.lower():
            return level
    scale = ", ".join(f"{n} {label}" for n, label in enumerate(PULSE_LEVELS, 1))
    raise PulseError(f"“{text}” is not a pulse level; choose one of {scale}")


def set_pulse(
    engine: Engine,
    *,
    account_id: str,
    level: int,
    person: Person,
    at: datetime,
    settings: Settings,
    note: str | None = None,
    days: int = PULSE_DAYS,
    dedupe_key: str | None = None,
    alert_id: int | None = None,
) -> Pulse | None:
    """Store a CSM's read of an account (and log it as an action) in one transaction; None for a repeat.

    The newest reading replaces earlier ones for display and scoring; it counts until `days` after it was set.

    Raises:
        PulseError: `level` is not on the scale.
        NotAllowed: `person` is not the account's CSM (or the alert's assignee) or an admin; nothing is stored.
        AlertGone: `alert_id` is not an alert on this account.
    """
    if not 1 <= level <= len(PULSE_LEVELS):
        raise PulseError(f"pulse level {level} is outside 1–{len(PULSE_LEVELS)}")
    author = person.user_id
    with write_session(engine) as session:
        alert = alert_on_account(session, alert_id, account_id) if alert_id is not None else None
        check_may_act(session, person, account_id=account_id, settings=settings, doing="set the pulse", alert=alert)
        label = PULSE_LEVELS[level - 1]
        action = record_action(
            session=session,
            account_id=account_id,
            user_id=author,
            kind="pulse",
            at=at,
            note=f"{label}: {note}" if note else label,
            dedupe_key=dedupe_key,
            alert_id=alert_id,
        )
        if action is None:
            return None
        pulse = Pulse(
            account_id=account_id,
            level=level,
            note=note,
            author_id=author,
            set_at=at,
            expires_on=at.date() + timedelta(days=days),
        )
        session.add(pulse)
        session.flush()
    return pulse


def current_pulse(session: Session, account_id: str, *, on: date) -> PulseReading | None:
    """The account's newest pulse still in force on `on`, as shown beside the score."""
    pulse = session.exec(
        select(Pulse)
        .where(Pulse.account_id == account_id, col(Pulse.set_at) < _day_end(on), Pulse.expires_on >= on)
        .order_by(col(Pulse.set_at).desc(), col(Pulse.id).desc())
        .limit(1)
    ).first()
    return _reading(pulse) if pulse else None


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def _reading(pulse: Pulse) -> PulseReading:
    set_at = as_utc(pulse.set_at)
    assert set_at is not None
    return PulseReading(
        level=pulse.level,
        label=PULSE_LEVELS[pulse.level - 1],
        author=pulse.author_id,
        set_at=set_at,
        expires_on=pulse.expires_on,
        note=pulse.note,
    )
