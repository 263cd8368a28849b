"""The CSM pulse: set with a note, newest reading wins, gone after 90 days, offered to the model per account."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from bot.pulse import PulseError, current_pulse, pulse_level, pulse_metrics, set_pulse
from bot.store import Account, read_session, write_session

SARAH = "U0SARAH001"
MONDAY = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


@pytest.fixture
def accounts(engine: Engine) -> None:
    with write_session(engine) as session:
        session.add(Account(account_id="ACCT-4521", name="Acme Corp", csm_owner="Sarah Chen"))
        session.add(Account(account_id="ACCT-0002", name="Globex", csm_owner="Sarah Chen"))


def test_pulse_levels_by_number_or_name() -> None:
    assert pulse_level("4") == 4 and pulse_level(" concerned ") == 3 and pulse_level(6) == 6
    with pytest.raises(PulseError, match="1 Critical, 2 Poor, 3 Concerned, 4 Steady, 5 Good, 6 Thriving"):
        pulse_level("7")


def test_newest_pulse_is_shown_until_it_expires(engine: Engine, accounts: None) -> None:
    set_pulse(engine, account_id="ACCT-4521", level=5, author=SARAH, at=MONDAY - timedelta(days=10))
    set_pulse(engine, account_id="ACCT-4521", level=3, author=SARAH, at=MONDAY, note="Champion left last week")

    with read_session(engine) as session:
        shown = current_pulse(session, "ACCT-4521", on=date(2026, 11, 24))
        before = current_pulse(session, "ACCT-4521", on=date(2026, 11, 20))
        expired = current_pulse(session, "ACCT-4521", on=date(2027, 2, 22))
        never = current_pulse(session, "ACCT-0002", on=date(2026, 11, 24))
    assert shown is not None and (shown.label, shown.note, shown.author) == (
        "Concerned",
        "Champion left last week",
        SARAH,
    )
    assert shown.expires_on == date(2027, 2, 21)
    assert before is not None and before.label == "Good"
    assert expired is None and never is None


def test_model_gets_the_pulse_in_force_per_account(engine: Engine, accounts: None) -> None:
    set_pulse(engine, account_id="ACCT-4521", level=2, author=SARAH, at=MONDAY)
    set_pulse(engine, account_id="ACCT-0002", level=6, author=SARAH, at=MONDAY - timedelta(days=100))

    metrics = pulse_metrics(engine, as_of=date(2026, 11, 24))
    assert metrics.to_dict()["csm_pulse"] == {"ACCT-4521": 2}  # Globex's read has expired: no data, not neutral


def test_a_repeated_submission_is_stored_once(engine: Engine, accounts: None) -> None:
    assert set_pulse(engine, account_id="ACCT-4521", level=4, author=SARAH, at=MONDAY, dedupe_key="view-1")
    assert set_pulse(engine, account_id="ACCT-4521", level=4, author=SARAH, at=MONDAY, dedupe_key="view-1") is None
