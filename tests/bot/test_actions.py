"""Clicks on alerts are recorded once, change the alert's state, and are refused for people who may not act."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.activity import (
    AlertClick,
    AlertGone,
    act_on_alert,
    alert_actions,
    alert_state,
    log_touch,
)
from bot.permissions import NotAllowed, Person
from bot.playbook_runs import load_playbooks
from bot.scoring_runs import load_frames
from bot.settings import Settings
from bot.store import (
    Account,
    HealthAlert,
    HealthScore,
    MetricSnapshot,
    PlaybookRun,
    SlackUserCache,
    read_session,
    write_session,
)

SARAH, MIKE, BOSS, STRANGER = "U0SARAH001", "U0MIKE0002", "U0BOSS0003", "U0STRANGE4"
NOW = datetime(2026, 11, 24, 10, 32, tzinfo=UTC)


@pytest.fixture
def alert_id(engine: Engine) -> int:
    with write_session(engine) as session:
        session.add(Account(account_id="ACCT-4521", name="Acme Corp", csm_owner="Sarah Chen", csm_slack_id=SARAH))
        session.flush()
        session.add(HealthScore(account_id="ACCT-4521", as_of=date(2026, 11, 24), score=38, band="Red", confidence=1))
        alert = HealthAlert(
            account_id="ACCT-4521", condition="turned_red", severity="High", opened_on=date(2026, 11, 24)
        )
        session.add(alert)
        session.flush()
        assert alert.id is not None
        return alert.id


def settings(**overrides: object) -> Settings:
    return Settings(healthbot_admins=BOSS, **overrides)  # type: ignore[arg-type]


def click(alert_id: int, kind: str, user: str = SARAH, key: str = "1700000000.000100", **extra: object) -> AlertClick:
    return AlertClick(alert_id=alert_id, user_id=user, kind=kind, dedupe_key=f"{key}:{user}:{kind}", at=NOW, **extra)  # type: ignore[arg-type]


def stored(engine: Engine, alert_id: int) -> HealthAlert:
    with read_session(engine) as session:
        alert = session.get(HealthAlert, alert_id)
    assert alert is not None
    return alert


def test_acknowledge_is_recorded_once_even_when_slack_retries_the_click(engine: Engine, alert_id: int) -> None:
    first = act_on_alert(engine, click(alert_id, "acknowledge"), settings=settings())
    retry = act_on_alert(engine, click(alert_id, "acknowledge"), settings=settings())

    assert first.action is not None and retry.action is None
    assert [a.kind for a in alert_actions(engine, alert_id)] == ["acknowledge"]
    alert = stored(engine, alert_id)
    assert alert.status == "acknowledged" and alert.acknowledged_by == SARAH


def test_second_acknowledge_from_another_copy_keeps_the_first_person(engine: Engine, alert_id: int) -> None:
    act_on_alert(engine, click(alert_id, "acknowledge", key="1"), settings=settings())
    late = act_on_alert(engine, click(alert_id, "acknowledge", user=BOSS, key="2"), settings=settings())

    assert late.action is None
    assert late.alert.acknowledged_by == SARAH
    assert len(alert_actions(engine, alert_id)) == 1


def test_unacknowledge_then_resolve_then_reopen(engine: Engine, alert_id: int) -> None:
    for n, kind in enumerate(["acknowledge", "unacknowledge", "resolve", "unresolve"]):
        act_on_alert(engine, click(alert_id, kind, key=str(n)), settings=settings())
        if kind == "unacknowledge":
            assert stored(engine, alert_id).status == "open"
        if kind == "resolve":
            assert stored(engine, alert_id).status == "resolved"
            assert stored(engine, alert_id).resolved_by == SARAH
    assert stored(engine, alert_id).status == "open"
    assert [a.kind for a in alert_actions(engine, alert_id)] == ["acknowledge", "unacknowledge", "resolve", "unresolve"]


def test_someone_else_is_refused_and_nothing_is_recorded(engine: Engine, alert_id: int) -> None:
    with pytest.raises(NotAllowed, match=r"Only Sarah Chen \(the account's CSM\) or a Healthbot admin"):
        act_on_alert(engine, click(alert_id, "acknowledge", user=STRANGER), settings=settings())
    assert alert_actions(engine, alert_id) == []
    assert stored(engine, alert_id).status == "open"


def test_admins_the_assignee_and_optionally_the_alert_channel_may_act(engine: Engine, alert_id: int) -> None:
    act_on_alert(engine, click(alert_id, "assign", user=BOSS, key="1", assignee=MIKE), settings=settings())
    act_on_alert(engine, click(alert_id, "acknowledge", user=MIKE, key="2"), settings=settings())
    assert stored(engine, alert_id).acknowledged_by == MIKE

    in_channel = click(alert_id, "note", user=STRANGER, key="3", note="Saw this too", in_alert_channel=True)
    with pytest.raises(NotAllowed):
        act_on_alert(engine, in_channel, settings=settings())
    act_on_alert(engine, in_channel, settings=settings(healthbot_alert_channel_can_act=True))
    assert [a.note for a in alert_actions(engine, alert_id)] == [f"to <@{MIKE}>", None, "Saw this too"]


def test_csm_found_by_email_may_act(engine: Engine, alert_id: int) -> None:
    with write_session(engine) as session:
        account = session.get(Account, "ACCT-4521")
        assert account is not None
        account.csm_slack_id, account.csm_email = None, "Sarah.Chen@example.com"
        session.add(account)
        session.add(SlackUserCache(email="sarah.chen@example.com", user_id=SARAH))
    assert act_on_alert(engine, click(alert_id, "acknowledge"), settings=settings()).action is not None


def test_snooze_lasts_its_days_then_the_alert_is_open_again(engine: Engine, alert_id: int) -> None:
    outcome = act_on_alert(engine, click(alert_id, "snooze", snooze_for=timedelta(days=7)), settings=settings())
    alert = stored(engine, alert_id)
    assert alert.status == "snoozed" and alert.snoozed_by == SARAH
    assert alert_state(alert, NOW + timedelta(days=6, hours=23)) == "snoozed"
    assert alert_state(alert, NOW + timedelta(days=7, minutes=1)) == "open"
    assert outcome.action is not None and outcome.action.note == "for 7 days"

    act_on_alert(engine, click(alert_id, "unsnooze", key="2"), settings=settings())
    assert stored(engine, alert_id).status == "open"


def test_start_playbook_creates_one_run_and_acknowledges(engine: Engine, alert_id: int) -> None:
    recovery = load_playbooks()["red_account_recovery"]
    first = act_on_alert(engine, click(alert_id, "start_playbook", key="1", playbook=recovery), settings=settings())
    again = act_on_alert(engine, click(alert_id, "start_playbook", key="2", playbook=recovery), settings=settings())

    assert first.run is not None and first.run.created and first.run.run.start_score == 38
    assert again.run is not None and not again.run.created and again.run.run.id == first.run.run.id
    assert stored(engine, alert_id).acknowledged_by == SARAH
    with read_session(engine) as session:
        assert len(session.exec(select(PlaybookRun)).all()) == 1


def test_click_on_an_alert_that_no_longer_exists(engine: Engine, alert_id: int) -> None:
    with pytest.raises(AlertGone):
        act_on_alert(engine, click(alert_id + 1000, "acknowledge"), settings=settings())


def test_logged_touches_feed_engagement_at_the_next_scoring(engine: Engine, alert_id: int) -> None:
    with write_session(engine) as session:  # metrics imported monthly; the last import was on 1 Nov
        for day in (date(2026, 10, 1), date(2026, 11, 1)):
            session.add(
                MetricSnapshot(account_id="ACCT-4521", as_of=day, csm_touches_90d=2, last_touch=date(2026, 9, 20))
            )

    def touch(kind: str, day: date, key: str) -> object:
        return log_touch(
            engine,
            account_id="ACCT-4521",
            person=Person(SARAH),
            kind=kind,
            happened_on=day,
            at=NOW,
            settings=settings(),
            note="Call",
            dedupe_key=key,
        )

    assert touch("call", date(2026, 11, 20), "view-1") is not None
    assert touch("call", date(2026, 11, 20), "view-1") is None  # the same modal submitted twice
    touch("meeting", date(2026, 6, 1), "view-2")  # older than 90 days: still history, not the count
    touch("meeting", date(2026, 10, 15), "view-3")
    touch("note", date(2026, 11, 23), "view-4")  # internal: not a customer touch

    _, metrics = load_frames(engine, as_of=date(2026, 11, 24))
    october, november = metrics.sort_values("as_of").to_dict("records")
    # The latest snapshot stands for today: the call logged on 20 Nov counts now, not at the next import.
    assert (november["last_touch"], november["csm_touches_90d"]) == (pd.Timestamp(2026, 11, 20), 2 + 2)
    assert (october["last_touch"], october["csm_touches_90d"]) == (pd.Timestamp(2026, 9, 20), 2)
