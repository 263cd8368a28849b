"""The small forms CSMs fill in from alerts and health cards — log a touch or note, start a playbook, set their
pulse, snooze an account's alerts — as view models, filled from the store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.activity import TOUCH_KINDS
from bot.playbook_runs import Playbook, recommended_playbook
from bot.pulse import current_pulse
from bot.store import Account, HealthAlert, HealthScore, read_session
from messages.controls import FormId
from messages.format import band_emoji, money
from messages.views import PULSE_LEVELS, Form, FormField

TOUCH_CALLBACK = FormId.LOG_TOUCH.value
PLAYBOOK_CALLBACK = FormId.START_PLAYBOOK.value
PULSE_CALLBACK = FormId.SET_PULSE.value
SNOOZE_CALLBACK = FormId.SNOOZE_ACCOUNT.value


@dataclass(frozen=True)
class AccountGlance:
    """Enough about an account to head a form: its name, score and band."""

    account_id: str
    name: str
    score: float | None
    band: str | None
    arr: float | None

    @property
    def intro(self) -> str:
        """What follows the account's name at the head of a form: its score, band and ARR, in plain words."""
        score = f" · {band_emoji(self.band)} {self.score:.0f}/100 {self.band}" if self.score is not None else ""
        arr = f" · {money(self.arr)} ARR" if self.arr is not None else ""
        return f"{score}{arr}"


def glance(engine: Engine, account_id: str) -> AccountGlance | None:
    """The account and its latest score; None when there is no such account."""
    with read_session(engine) as session:
        account = session.get(Account, account_id)
        if account is None:
            return None
        latest = session.exec(
            select(HealthScore)
            .where(HealthScore.account_id == account_id)
            .order_by(col(HealthScore.as_of).desc())
            .limit(1)
        ).first()
    return AccountGlance(
        account_id=account_id,
        name=account.name,
        score=latest.score if latest else None,
        band=latest.band if latest else None,
        arr=account.arr,
    )


def touch_form(account: AccountGlance, *, today: date, metadata: str, note_first: bool = False) -> Form:
    """Log a touch (a call, meeting, email, QBR) or an internal note; customer touches feed engagement."""
    return Form(
        callback_id=TOUCH_CALLBACK,
        title="Log a note" if note_first else "Log a touch",
        submit="Log it",
        subject=account.name,
        intro=account.intro,
        fields=[
            FormField(
                "kind",
                "What was it?",
                "select",
                choices=list(TOUCH_KINDS.items()),
                initial="note" if note_first else "call",
                hint="Calls, meetings, emails and QBRs count towards engagement at the next scoring.",
            ),
            FormField("happened_on", "When?", "date", initial=today.isoformat()),
            FormField(
                "note",
                "Note",
                "text",
                multiline=True,
                optional=not note_first,
                placeholder="What was discussed, what was agreed, what happens next",
            ),
        ],
        metadata=metadata,
    )


def playbook_form(
    account: AccountGlance, playbooks: Mapping[str, Playbook], *, reasons: list[str], metadata: str
) -> Form:
    """Choose a playbook to start, the recommended one preselected."""
    recommended = recommended_playbook(playbooks, reasons=reasons)
    return Form(
        callback_id=PLAYBOOK_CALLBACK,
        title="Start a playbook",
        submit="Start",
        subject=account.name,
        intro=account.intro,
        fields=[
            FormField(
                "playbook",
                "Playbook",
                "select",
                choices=[(p.key, p.name) for p in playbooks.values()],
                initial=recommended.key if recommended else None,
                hint="Its steps are posted as a checklist; ticks are recorded and the score is tracked from today.",
            )
        ],
        metadata=metadata,
    )


def pulse_form(engine: Engine, account: AccountGlance, *, today: date, metadata: str) -> Form:
    """Set your own read of the account, beside the computed score; it counts for 90 days."""
    with read_session(engine) as session:
        current = current_pulse(session, account.account_id, on=today)
    return Form(
        callback_id=PULSE_CALLBACK,
        title="Set your pulse",
        submit="Save",
        subject=account.name,
        intro=account.intro,
        fields=[
            FormField(
                "level",
                "How healthy is this account, in your view?",
                "radio",
                choices=[(str(n), f"{n} · {label}") for n, label in enumerate(PULSE_LEVELS, 1)],
                initial=str(current.level) if current else None,
                hint="Shown beside the computed score and used by the model's relationship dimension for 90 days.",
            ),
            FormField(
                "note", "Why?", "text", multiline=True, optional=True, placeholder="e.g. Champion left last week"
            ),
        ],
        metadata=metadata,
    )


def snooze_form(account: AccountGlance, *, open_alerts: int, metadata: str) -> Form:
    """Snooze every open alert on the account."""
    return Form(
        callback_id=SNOOZE_CALLBACK,
        title="Snooze alerts",
        submit="Snooze",
        subject=account.name,
        intro=f"{account.intro} · {open_alerts} open alert{'s' if open_alerts != 1 else ''}",
        fields=[
            FormField(
                "duration",
                "Quiet for",
                "radio",
                choices=[("1d", "1 day"), ("7d", "7 days")],
                initial="1d",
                hint="No reminders or escalations until then; the alerts stay listed.",
            )
        ],
        metadata=metadata,
    )


def open_alert_ids(engine: Engine, account_id: str) -> list[int]:
    """The account's alerts that are not resolved, oldest first."""
    with read_session(engine) as session:
        ids = session.exec(
            select(HealthAlert.id)
            .where(HealthAlert.account_id == account_id, col(HealthAlert.resolved_at).is_(None))
            .order_by(col(HealthAlert.id))
        ).all()
    return [alert_id for alert_id in ids if alert_id is not None]


def alert_account(engine: Engine, alert_id: int) -> tuple[str, list[str]] | None:
    """The alert's account and what it is about (its condition, then its reasons' keys), for recommending."""
    with read_session(engine) as session:
        alert = session.get(HealthAlert, alert_id)
    if alert is None:
        return None
    return alert.account_id, [alert.condition.split(":")[0], *[r.get("key", "") for r in alert.reasons]]
