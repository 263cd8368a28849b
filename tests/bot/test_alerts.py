"""Alert detection from stored scores: turned red, crossed a band, dropped 15+ points in a week, new High signal;
one alert per open condition; overdue High alerts found for escalation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.activity import AlertClick, act_on_alert
from bot.alerts import detect, open_alerts, overdue, response_delay
from bot.playbook_runs import load_playbooks
from bot.settings import Settings
from bot.store import Account, HealthAlert, HealthScore, read_session, write_session

BANDS = ("Green", "Yellow", "Red")
TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SARAH = "U0SARAH001"
PLAYBOOKS = load_playbooks()
USAGE = {"key": "usage_drop", "title": "Usage decline", "severity": "High", "response_time": "24 hours",
         "facts": ["48% seat utilisation (down from 68%)"]}  # fmt: skip
CHAMPION = {"key": "champion_left", "title": "Champion left", "severity": "High", "response_time": "24 hours"}
QBR = {"key": "missed_qbr", "title": "Missed QBR", "severity": "Medium", "response_time": "1 week"}


def scores(engine: Engine, account_id: str, by_day: dict[int, tuple[float, str, list[Any]]]) -> None:
    with write_session(engine) as session:
        if session.get(Account, account_id) is None:
            session.add(Account(account_id=account_id, name=f"Account {account_id}", csm_owner="Sarah Chen"))
            session.flush()
        for offset, (score, band, signals) in by_day.items():
            day = TODAY + timedelta(days=offset)
            session.merge(
                HealthScore(account_id=account_id, as_of=day, score=score, band=band, confidence=1, signals=signals)
            )


@pytest.fixture
def portfolio(engine: Engine) -> Engine:
    scores(engine, "ACME", {-7: (70, "Yellow", []), -1: (65, "Yellow", [USAGE]), 0: (45, "Red", [USAGE])})
    scores(engine, "GLOBEX", {-7: (84, "Green", []), -1: (82, "Green", []), 0: (74, "Yellow", [])})
    scores(engine, "INITECH", {-7: (78, "Yellow", []), -1: (62, "Yellow", []), 0: (61, "Yellow", [])})
    scores(engine, "HOOLI", {-7: (75, "Yellow", []), -1: (72, "Yellow", [QBR]), 0: (70, "Yellow", [QBR, CHAMPION])})
    scores(engine, "NEWCO", {0: (30, "Red", [USAGE])})  # first scored today: its baseline, not news
    scores(engine, "STEADY", {-7: (40, "Red", []), -1: (41, "Red", []), 0: (40, "Red", [])})
    return engine


def test_each_kind_of_condition_is_found_once(portfolio: Engine) -> None:
    found = {(d.account_id, d.condition): d for d in detect(portfolio, bands=BANDS)}
    assert sorted(found) == [
        ("ACME", "turned_red"),
        ("GLOBEX", "band_drop"),
        ("HOOLI", "signal:champion_left"),
        ("INITECH", "score_drop"),
    ]
    red = found["ACME", "turned_red"]
    assert red.title == "turned Red (65 → 45)" and red.severity == "High" and red.respond_within == "24 hours"
    # One message for one event: the 25-point drop is a reason inside the red alert, not a second alert.
    assert [r["title"] for r in red.reasons] == [
        "Health fell from 65 (Yellow) to 45 since 23 Nov",
        "Lost 25 points: 70 → 45 since 17 Nov",
        "Usage decline",
    ]
    assert red.reasons[2]["facts"] == ["48% seat utilisation (down from 68%)"]
    assert found["INITECH", "score_drop"].title == "lost 17 points in 7 days"
    assert found["GLOBEX", "band_drop"].severity == "Medium"
    champion = found["HOOLI", "signal:champion_left"]
    assert [r["key"] for r in champion.reasons] == ["champion_left", "missed_qbr"]


def test_a_condition_is_alerted_once_while_it_stays_open(portfolio: Engine) -> None:
    first = open_alerts(portfolio, detect(portfolio, bands=BANDS), now=NOW, playbooks=PLAYBOOKS)
    again = open_alerts(portfolio, detect(portfolio, bands=BANDS), now=NOW + timedelta(minutes=15), playbooks=PLAYBOOKS)
    assert len(first) == 4 and again == []

    with read_session(portfolio) as session:
        red = session.exec(select(HealthAlert).where(HealthAlert.account_id == "ACME")).one()
    assert red.playbook == "red_account_recovery" and red.respond_by is not None

    # Resolved the same morning: the same change in the same scores does not open it again.
    resolve = AlertClick(red.id or 0, SARAH, "resolve", "k1", NOW)
    act_on_alert(portfolio, resolve, settings=Settings(healthbot_admins=SARAH))
    assert open_alerts(portfolio, detect(portfolio, bands=BANDS), now=NOW, playbooks=PLAYBOOKS) == []


def test_scores_from_an_earlier_day_can_be_scanned(portfolio: Engine) -> None:
    # 23 Nov against the scoring day before it (17 Nov): Acme's usage signal was new then; Hooli's QBR is Medium.
    found = detect(portfolio, bands=BANDS, as_of=TODAY - timedelta(days=1))
    assert [(d.account_id, d.condition) for d in found] == [("ACME", "signal:usage_drop")]
    # The store's first scoring day is a day like any other: what is wrong then (Steady is Red) opens an alert,
    # marked as found at the first scan; what is fine is the baseline.
    (first,) = detect(portfolio, bands=BANDS, as_of=TODAY - timedelta(days=7))
    assert (first.account_id, first.condition) == ("STEADY", "turned_red")
    assert first.title == "is Red (40), found at the first scan"
    assert detect(portfolio, bands=BANDS, as_of=TODAY - timedelta(days=30)) == []


def test_unacknowledged_high_alerts_past_their_response_time_are_overdue(portfolio: Engine) -> None:
    ids = open_alerts(portfolio, detect(portfolio, bands=BANDS), now=NOW, playbooks=PLAYBOOKS)
    with read_session(portfolio) as session:
        by_account = {a.account_id: a.id for a in session.exec(select(HealthAlert)).all()}
    admin = Settings(healthbot_admins=SARAH)
    act_on_alert(portfolio, AlertClick(by_account["HOOLI"] or 0, SARAH, "acknowledge", "k1", NOW), settings=admin)
    snooze = AlertClick(by_account["INITECH"] or 0, SARAH, "snooze", "k2", NOW, snooze_for=timedelta(days=7))
    act_on_alert(portfolio, snooze, settings=admin)

    assert overdue(portfolio, now=NOW + timedelta(hours=23)) == []
    assert overdue(portfolio, now=NOW + timedelta(hours=24, seconds=-1)) == []
    # ACME: High, nobody acknowledged. GLOBEX is Medium; HOOLI was acknowledged; INITECH is snoozed.
    assert overdue(portfolio, now=NOW + timedelta(hours=24)) == [by_account["ACME"]]  # its 24 hours are up
    assert overdue(portfolio, now=NOW + timedelta(hours=25)) == [by_account["ACME"]]
    assert len(ids) == 4


def test_a_drop_of_exactly_15_points_is_not_an_alert_and_more_than_15_is(engine: Engine) -> None:
    scores(engine, "EXACT", {-7: (75, "Yellow", []), -1: (61, "Yellow", []), 0: (60, "Yellow", [])})
    scores(engine, "MORE", {-7: (75.5, "Yellow", []), -1: (61, "Yellow", []), 0: (60, "Yellow", [])})
    found = detect(engine, bands=BANDS)
    assert [(d.account_id, d.condition) for d in found] == [("MORE", "score_drop")]


@pytest.mark.parametrize(
    ("said", "delay"),
    [("24 hours", timedelta(hours=24)), ("1 week", timedelta(days=7)), ("Immediate", timedelta(hours=1)),
     ("48 hours", timedelta(hours=48)), ("whenever", None), (None, None)],
)  # fmt: skip
def test_response_times_in_the_seeds_words(said: str | None, delay: timedelta | None) -> None:
    assert response_delay(said) == delay
