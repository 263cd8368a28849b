"""The one permission check, surface-neutral: a person is an ID and maybe an email, never a Slack payload. The CSM of
the account (by Slack ID, by the ID found for their email, or by email) and admins may write; on an alert, its
assignee too; everyone else is refused with who may, and nothing is written."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, select

from bot.activity import AlertGone, log_touch, start_playbook
from bot.permissions import NotAllowed, Person, check_may_act
from bot.playbook_runs import load_playbooks
from bot.pulse import set_pulse
from bot.settings import Settings
from bot.store import (
    Account,
    AlertAction,
    HealthAlert,
    PlaybookRun,
    Pulse,
    SlackUserCache,
    Touchpoint,
    read_session,
    write_session,
)

SARAH, MIKE, BOSS, STRANGER = "U0SARAH001", "U0MIKE0002", "U0BOSS0003", "U0STRANGE4"
NOW = datetime(2026, 11, 24, 10, 32, tzinfo=UTC)
SETTINGS = Settings(healthbot_admins=BOSS)


@pytest.fixture
def alerts(engine: Engine) -> tuple[int, int]:
    """Acme Corp (Sarah's, by Slack ID) and GlobalTech (Mike's, by email only), an alert on each."""
    with write_session(engine) as session:
        session.add(Account(account_id="ACME", name="Acme Corp", csm_owner="Sarah Chen", csm_slack_id=SARAH))
        session.add(
            Account(account_id="GLOBAL", name="GlobalTech", csm_owner="Mike Ross", csm_email="Mike@Example.com")
        )
        session.flush()
        made = [
            HealthAlert(account_id=account, condition="turned_red", severity="High", opened_on=date(2026, 11, 24))
            for account in ("ACME", "GLOBAL")
        ]
        session.add_all(made)
        session.flush()
        return made[0].id or 0, made[1].id or 0


def may(engine: Engine, person: Person, account_id: str, alert_id: int | None = None) -> bool:
    with read_session(engine) as session:
        alert = session.get(HealthAlert, alert_id) if alert_id else None
        try:
            check_may_act(session, person, account_id=account_id, settings=SETTINGS, doing="do this", alert=alert)
        except NotAllowed:
            return False
    return True


def test_the_csm_and_admins_may_and_nobody_else(engine: Engine, alerts: tuple[int, int]) -> None:
    assert (
        may(engine, Person(SARAH), "ACME") and may(engine, Person(BOSS), "ACME") and may(engine, Person(BOSS), "GLOBAL")
    )
    assert not may(engine, Person(SARAH), "GLOBAL") and not may(engine, Person(STRANGER), "ACME")
    assert not may(engine, Person(""), "ACME")


def test_a_csm_known_by_email_may_from_any_surface(engine: Engine, alerts: tuple[int, int]) -> None:
    assert may(engine, Person("29:teams-user-id", email="mike@example.com"), "GLOBAL")  # a Teams user, say
    assert not may(engine, Person(MIKE), "GLOBAL")
    with write_session(engine) as session:
        session.add(SlackUserCache(email="mike@example.com", user_id=MIKE))
    assert may(engine, Person(MIKE), "GLOBAL")


def test_an_alerts_assignee_may_act_on_that_alert_only(engine: Engine, alerts: tuple[int, int]) -> None:
    acme_alert, _ = alerts
    with write_session(engine) as session:
        alert = session.get(HealthAlert, acme_alert)
        assert alert is not None
        alert.assigned_to = MIKE
        session.add(alert)
    assert may(engine, Person(MIKE), "ACME", acme_alert)
    assert not may(engine, Person(MIKE), "ACME")


def test_the_refusal_says_who_may_and_that_nothing_was_recorded(engine: Engine, alerts: tuple[int, int]) -> None:
    with read_session(engine) as session, pytest.raises(NotAllowed) as refused:
        check_may_act(session, Person(STRANGER), account_id="ACME", settings=SETTINGS, doing="set the pulse")
    assert str(refused.value).startswith(
        "Only Sarah Chen (the account's CSM) or a Healthbot admin can set the pulse, so nothing was recorded."
    )


def count(engine: Engine, table: type[SQLModel]) -> int:
    with read_session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_every_core_write_refuses_a_stranger_and_writes_nothing(engine: Engine, alerts: tuple[int, int]) -> None:
    stranger = Person(STRANGER)
    playbook = next(iter(load_playbooks().values()))
    writes = {
        "pulse": lambda: set_pulse(engine, account_id="ACME", level=2, person=stranger, at=NOW, settings=SETTINGS),
        "touch": lambda: log_touch(
            engine, account_id="ACME", person=stranger, kind="call", happened_on=NOW.date(), at=NOW, settings=SETTINGS
        ),
        "playbook": lambda: start_playbook(
            engine, account_id="ACME", playbook=playbook, person=stranger, at=NOW, settings=SETTINGS
        ),
    }
    for name, write in writes.items():
        with pytest.raises(NotAllowed):
            write()
        for table in (AlertAction, Pulse, Touchpoint, PlaybookRun):
            assert count(engine, table) == 0, f"{name} wrote to {table.__name__}"
    assert len(writes) == 3


def test_a_pulse_on_one_account_cannot_be_noted_on_another_accounts_alert(
    engine: Engine, alerts: tuple[int, int]
) -> None:
    _, global_alert = alerts
    with pytest.raises(AlertGone):
        set_pulse(
            engine, account_id="ACME", level=2, person=Person(BOSS), at=NOW, settings=SETTINGS, alert_id=global_alert
        )
    assert count(engine, Pulse) == 0 and count(engine, AlertAction) == 0
