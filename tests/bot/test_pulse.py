"""The CSM pulse: set with a note, newest reading wins, gone after 90 days, offered to the model per account."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from bot import insights
from bot.permissions import Person
from bot.pulse import PulseError, current_pulse, pulse_level, set_pulse
from bot.scoring_runs import load_frames, score_and_store, score_history
from bot.settings import Settings
from bot.store import Account, MetricSnapshot, read_session, write_session
from messages.blockkit import render_message
from scoring import load_model, parse_model

SARAH = "U0SARAH001"
CSM, SETTINGS = Person(SARAH), Settings()
MONDAY = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


@pytest.fixture
def accounts(engine: Engine) -> None:
    with write_session(engine) as session:
        session.add(Account(account_id="ACCT-4521", name="Acme Corp", csm_owner="Sarah Chen", csm_slack_id=SARAH))
        session.add(Account(account_id="ACCT-0002", name="Globex", csm_owner="Sarah Chen", csm_slack_id=SARAH))


def test_pulse_levels_by_number_or_name() -> None:
    assert pulse_level("4") == 4 and pulse_level(" concerned ") == 3 and pulse_level(6) == 6
    with pytest.raises(PulseError, match="1 Critical, 2 Poor, 3 Concerned, 4 Steady, 5 Good, 6 Thriving"):
        pulse_level("7")


def test_newest_pulse_is_shown_until_it_expires(engine: Engine, accounts: None) -> None:
    set_pulse(engine, account_id="ACCT-4521", level=5, person=CSM, settings=SETTINGS, at=MONDAY - timedelta(days=10))
    set_pulse(
        engine,
        account_id="ACCT-4521",
        level=3,
        person=CSM,
        settings=SETTINGS,
        at=MONDAY,
        note="Champion left last week",
    )

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


def test_model_gets_the_pulse_in_force_at_each_snapshot(engine: Engine, accounts: None) -> None:
    with write_session(engine) as session:
        for account_id in ("ACCT-4521", "ACCT-0002"):
            for day in (date(2026, 10, 1), date(2026, 11, 1)):
                session.add(MetricSnapshot(account_id=account_id, as_of=day, nps=7))
    set_pulse(
        engine, account_id="ACCT-4521", level=5, person=CSM, settings=SETTINGS, at=datetime(2026, 9, 20, tzinfo=UTC)
    )
    set_pulse(engine, account_id="ACCT-4521", level=2, person=CSM, settings=SETTINGS, at=MONDAY)
    set_pulse(engine, account_id="ACCT-0002", level=6, person=CSM, settings=SETTINGS, at=MONDAY - timedelta(days=100))

    _, metrics = load_frames(engine, as_of=date(2026, 11, 24))
    pulses = {(r["account_id"], r["as_of"]): r["csm_pulse"] for r in metrics.to_dict("records")}
    assert pulses[("ACCT-4521", date(2026, 10, 1))] == 5  # the read in force then
    assert pulses[("ACCT-4521", date(2026, 11, 1))] == 2  # the latest snapshot stands for today
    assert pulses[("ACCT-0002", date(2026, 10, 1))] == 6
    assert math.isnan(pulses[("ACCT-0002", date(2026, 11, 1))])  # expired by today: no data, not a middle value


def test_a_repeated_submission_is_stored_once(engine: Engine, accounts: None) -> None:
    assert set_pulse(
        engine, account_id="ACCT-4521", level=4, person=CSM, settings=SETTINGS, at=MONDAY, dedupe_key="view-1"
    )
    assert (
        set_pulse(
            engine, account_id="ACCT-4521", level=4, person=CSM, settings=SETTINGS, at=MONDAY, dedupe_key="view-1"
        )
        is None
    )


def test_a_model_file_can_weigh_the_pulse_in_a_dimension(engine: Engine, accounts: None) -> None:
    model = parse_model(
        'extends = "default"\n[dimensions.engagement]\nmetrics = [\n'
        '  { measure = "training_completion", bad = 0, good = 1 },\n'
        '  { measure = "csm_pulse", bad = 1, good = 6, weight = 2 },\n]\n'
    )
    with write_session(engine) as session:
        for account_id in ("ACCT-4521", "ACCT-0002"):
            session.add(MetricSnapshot(account_id=account_id, as_of=date(2026, 11, 1), training_completion=1.0))
    set_pulse(engine, account_id="ACCT-4521", level=2, person=CSM, settings=SETTINGS, at=MONDAY, note="Champion left")
    set_pulse(engine, account_id="ACCT-0002", level=6, person=CSM, settings=SETTINGS, at=MONDAY)

    scored = score_history(engine, model, as_of=date(2026, 11, 24))
    engagement = dict(zip(scored.frame["account_id"].astype(str), scored.dimensions["engagement"], strict=True))
    assert engagement["ACCT-0002"] == 100  # fully trained, and the CSM reads it as thriving
    assert engagement["ACCT-4521"] == pytest.approx((100 + 2 * 20) / 3, abs=0.1)  # the CSM's worry pulls it down


def test_the_health_card_shows_the_pulse_beside_the_score(engine: Engine, accounts: None) -> None:
    model = load_model(None)
    with write_session(engine) as session:
        session.add(MetricSnapshot(account_id="ACCT-4521", as_of=date(2026, 11, 1), nps=6, training_completion=0.6))
    score_and_store(engine, model, as_of=date(2026, 11, 24))
    set_pulse(engine, account_id="ACCT-4521", level=3, person=CSM, settings=SETTINGS, at=MONDAY, note="Champion left")

    card = insights.health_card(engine, model, "ACCT-4521", as_of=date(2026, 11, 24))
    assert card.pulse is not None and (card.pulse.label, card.pulse.note) == ("Concerned", "Champion left")
    assert f"CSM pulse: *Concerned* (3/6) <@{SARAH}>" in str(render_message(card)["blocks"])
    assert [(r.what, r.note) for r in card.recent_actions] == [("set the CSM pulse", "Concerned: Champion left")]
