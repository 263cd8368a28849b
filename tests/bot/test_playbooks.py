"""Playbooks: the file, starting runs, ticking checklist steps, and how accounts fared afterwards."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import insights
from bot.playbooks import (
    PlaybookFileError,
    RunGone,
    checklist,
    find_playbook,
    load_playbooks,
    playbook_outcomes,
    playbook_results,
    recommended_playbook,
    set_stage_ticks,
    start_run,
)
from bot.store import Account, AlertAction, HealthScore, read_session, write_session
from scoring import load_model

PLAYBOOKS = load_playbooks()
SARAH = "U0SARAH001"
START = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def test_builtin_file_has_the_seed_playbooks_with_stages_and_timings() -> None:
    assert [p.name for p in PLAYBOOKS.values()] == [
        "Red Account Recovery",
        "Churn Risk Response",
        "Expansion Acceleration",
        "Proactive Success",
    ]
    recovery = PLAYBOOKS["red_account_recovery"]
    assert [(s.name, s.timing) for s in recovery.stages] == [
        ("Immediate triage", "Hours 0–24"),
        ("Executive alignment", "Hours 24–48"),
        ("Recovery execution", "Days 3–30"),
        ("Stabilisation", "Days 31–90"),
    ]
    assert recovery.step_text("2.1") == "Schedule an executive-to-executive call"


def test_recommendation_follows_the_alert_condition_or_band() -> None:
    assert recommended_playbook(PLAYBOOKS, reasons=["turned_red"]).name == "Red Account Recovery"  # type: ignore[union-attr]
    assert recommended_playbook(PLAYBOOKS, reasons=["score_drop"]).name == "Churn Risk Response"  # type: ignore[union-attr]
    assert recommended_playbook(PLAYBOOKS, reasons=["Green"]).name == "Proactive Success"  # type: ignore[union-attr]
    assert recommended_playbook(PLAYBOOKS, reasons=["nothing"]) is None
    assert find_playbook(PLAYBOOKS, "red account recovery") is PLAYBOOKS["red_account_recovery"]


def test_own_playbooks_file_and_its_mistakes_are_named(tmp_path: Path) -> None:
    own = tmp_path / "playbooks.toml"
    own.write_text(
        '[[playbook]]\nkey = "onboarding"\nname = "Onboarding rescue"\nrecommended_for = ["yellow"]\n'
        '[[playbook.stage]]\nname = "Week 1"\nends_after_days = 7\nsteps = ["Call the admin"]\n',
        encoding="utf-8",
    )
    assert list(load_playbooks(own)) == ["onboarding"]

    own.write_text('[[playbook]]\nkey = "x"\nname = "X"\n', encoding="utf-8")
    with pytest.raises(PlaybookFileError, match="playbook 1 is missing `stage`"):
        load_playbooks(own)
    with pytest.raises(PlaybookFileError, match="does not exist"):
        load_playbooks(tmp_path / "missing.toml")
    own.write_text("[[playbook]\n", encoding="utf-8")
    with pytest.raises(PlaybookFileError, match="not a readable TOML file"):
        load_playbooks(own)


@pytest.fixture
def acme(engine: Engine) -> str:
    with write_session(engine) as session:
        session.add(Account(account_id="ACCT-4521", name="Acme Corp", csm_owner="Sarah Chen", csm_slack_id=SARAH))
        session.flush()
        session.add(HealthScore(account_id="ACCT-4521", as_of=START.date(), score=38, band="Red", confidence=1))
    return "ACCT-4521"


def _start(engine: Engine, account_id: str, key: str = "red_account_recovery", at: datetime = START) -> int:
    with write_session(engine) as session:
        started = start_run(session, account_id=account_id, playbook=PLAYBOOKS[key], user_id=SARAH, now=at)
    assert started.run.id is not None
    return started.run.id


def test_ticks_are_recorded_and_the_run_finishes_when_every_step_is_done(engine: Engine, acme: str) -> None:
    run_id = _start(engine, acme)
    set_stage_ticks(engine, run_id=run_id, stage=1, done={"1.1", "1.2"}, user_id=SARAH, now=START, playbooks=PLAYBOOKS)
    result = set_stage_ticks(
        engine, run_id=run_id, stage=1, done={"1.2", "1.3"}, user_id=SARAH, now=START, playbooks=PLAYBOOKS
    )
    assert (result.ticked, result.unticked) == (["1.3"], ["1.1"])

    view = checklist(engine, run_id, playbooks=PLAYBOOKS)
    first = view.stages[0]
    assert [s.done for s in first.steps] == [False, True, True, False]
    assert first.steps[1].done_by == SARAH
    assert first.due == date(2026, 10, 2) and view.stages[3].due == date(2026, 12, 30)
    assert (view.done_steps, view.total_steps, view.status) == (2, 16, "active")
    with read_session(engine) as session:
        kinds = [a.kind for a in session.exec(select(AlertAction)).all()]
    assert kinds == ["step_done", "step_done", "step_done", "step_undone"]

    for stage in range(1, 5):
        keys = {f"{stage}.{n}" for n in range(1, 5)}
        set_stage_ticks(engine, run_id=run_id, stage=stage, done=keys, user_id=SARAH, now=START, playbooks=PLAYBOOKS)
    assert checklist(engine, run_id, playbooks=PLAYBOOKS).status == "finished"
    set_stage_ticks(engine, run_id=run_id, stage=4, done=set(), user_id=SARAH, now=START, playbooks=PLAYBOOKS)
    assert checklist(engine, run_id, playbooks=PLAYBOOKS).status == "active"


def test_tick_on_a_run_that_no_longer_exists(engine: Engine, acme: str) -> None:
    with pytest.raises(RunGone):
        set_stage_ticks(engine, run_id=999, stage=1, done=set(), user_id=SARAH, now=START, playbooks=PLAYBOOKS)


def _scores(engine: Engine, account_id: str, days: dict[int, tuple[float, str]]) -> None:
    with write_session(engine) as session:
        for offset, (score, band) in days.items():
            day = START.date() + timedelta(days=offset)
            session.merge(HealthScore(account_id=account_id, as_of=day, score=score, band=band, confidence=1))


def test_intervention_tracking_counts_accounts_that_left_red_within_30_days(engine: Engine, acme: str) -> None:
    with write_session(engine) as session:
        for n in (2, 3, 4):
            session.add(Account(account_id=f"A{n}", name=f"Account {n}", csm_owner="Sarah Chen"))
    _scores(engine, acme, {20: (55, "Yellow"), 60: (62, "Yellow")})  # left red on day 20
    _scores(engine, "A2", {0: (30, "Red"), 45: (45, "Yellow"), 60: (50, "Yellow")})  # too late: day 45
    _scores(engine, "A3", {50: (35, "Red"), 60: (39, "Red")})  # started 10 days ago, still red: not counted yet
    _scores(engine, "A4", {0: (70, "Yellow"), 60: (64, "Yellow")})  # another playbook
    _start(engine, acme)
    _start(engine, "A2")
    _start(engine, "A3", at=START + timedelta(days=50))
    _start(engine, "A4", key="churn_risk_response")

    as_of = START.date() + timedelta(days=60)
    recovery, churn = playbook_outcomes(engine, as_of=as_of, playbooks=PLAYBOOKS)
    assert (recovery.runs, recovery.ongoing, recovery.red_starts, recovery.left_red) == (3, 3, 2, 1)
    assert recovery.average_change == pytest.approx(((62 - 38) + (50 - 30) + (39 - 35)) / 3)
    assert (churn.runs, churn.red_starts, churn.average_change) == (1, 0, -6)

    assert playbook_results(engine, as_of=as_of) == [
        "Red Account Recovery: 3 runs (3 ongoing, 0 finished) · +16 points on average since the start · "
        "1 of 2 accounts left Red within 30 days (50%)",
        "Churn Risk Response: 1 run (1 ongoing, 0 finished) · \u22126 points on average since the start",
    ]
    assert playbook_results(engine, as_of=START.date() - timedelta(days=1)) == []


def test_trend_report_shows_each_playbooks_results(engine: Engine, acme: str) -> None:
    _scores(engine, acme, {20: (55, "Yellow"), 40: (60, "Yellow")})
    _start(engine, acme)
    report = insights.trend_report(engine, load_model(None), as_of=START.date() + timedelta(days=40))
    assert (
        "Red Account Recovery: 1 run (1 ongoing, 0 finished) · +22 points on average since the start · "
        "1 of 1 account left Red within 30 days (100%)"
    ) in report.playbook_results
