"""Playbooks in use: the plan and the checklist from one file, starting runs, ticking checklist steps, and how
accounts fared afterwards."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import insights
from bot.answers import AnswerContext, answer
from bot.intents import Intent
from bot.permissions import Person
from bot.playbook_runs import (
    RunGone,
    TickResult,
    checklist,
    find_playbook,
    load_playbooks,
    playbook_outcomes,
    playbook_results,
    set_stage_ticks,
    start_run,
)
from bot.scoring_runs import score_and_store
from bot.settings import Settings
from bot.store import Account, AlertAction, HealthScore, read_session, write_session
from messages import views
from scoring import load_model
from tests.bot.test_scoring_runs import sample_book, seed
from tests.scoring.frames import TODAY

PLAYBOOKS = load_playbooks()
SARAH = "U0SARAH001"
START = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def test_the_playbooks_file_feeds_both_the_recovery_plan_and_the_checklist(engine: Engine, tmp_path: Path) -> None:
    """HEALTHBOT_PLAYBOOKS: what a CSM starts is what the plan showed."""
    built_in = resources.files("scoring").joinpath("playbooks.toml").read_text(encoding="utf-8")
    own = tmp_path / "playbooks.toml"
    own.write_text(built_in.replace("Hours 0–24", "Within the hour"), encoding="utf-8")
    settings = Settings(healthbot_playbooks=str(own))
    seed(engine, *sample_book())
    score_and_store(engine, load_model(None), as_of=TODAY, history=True)

    ctx = AnswerContext(engine=engine, settings=settings, today=TODAY)
    plan = answer(Intent("recovery_plan", "MegaCorp"), ctx=ctx)
    assert isinstance(plan, views.RecoveryPlan) and plan.playbook == "Red Account Recovery"
    assert plan.stages[0].timing == "Within the hour"

    playbook = find_playbook(load_playbooks(settings.healthbot_playbooks), plan.playbook)
    assert playbook is not None
    with write_session(engine) as session:
        started = start_run(session, account_id="MEGA", playbook=playbook, user_id=SARAH, now=START)
    assert started.run.id is not None
    run = checklist(engine, started.run.id, playbooks=load_playbooks(settings.healthbot_playbooks))
    assert [(s.name, s.timing, [step.text for step in s.steps]) for s in run.stages] == [
        (s.name, s.timing, s.steps) for s in plan.stages
    ]


def test_a_broken_playbooks_file_is_answered_in_words_not_an_apology(engine: Engine, tmp_path: Path) -> None:
    own = tmp_path / "playbooks.toml"
    own.write_text('[[playbook]]\nkey = "x"\nname = "X"\n', encoding="utf-8")
    seed(engine, *sample_book())
    ctx = AnswerContext(engine=engine, settings=Settings(healthbot_playbooks=str(own)), today=TODAY)
    notice = answer(Intent("recovery_plan", "MegaCorp"), ctx=ctx)
    assert isinstance(notice, views.Notice) and notice.title == "The playbooks file has a problem"
    assert "playbook 1 (x): stage is missing" in notice.lines[0]


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


def tick(engine: Engine, run_id: int, stage: int, done: set[str]) -> TickResult:
    """Sarah, the account's CSM, ticks a stage's boxes."""
    person = Person(SARAH)
    return set_stage_ticks(
        engine,
        run_id=run_id,
        stage=stage,
        done=done,
        person=person,
        now=START,
        playbooks=PLAYBOOKS,
        settings=Settings(),
    )


def test_ticks_are_recorded_and_the_run_finishes_when_every_step_is_done(engine: Engine, acme: str) -> None:
    run_id = _start(engine, acme)
    tick(engine, run_id, 1, {"1.1", "1.2"})
    result = tick(engine, run_id, 1, {"1.2", "1.3"})
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
        tick(engine, run_id, stage, keys)
    assert checklist(engine, run_id, playbooks=PLAYBOOKS).status == "finished"
    tick(engine, run_id, 4, set())
    assert checklist(engine, run_id, playbooks=PLAYBOOKS).status == "active"


def test_tick_on_a_run_that_no_longer_exists(engine: Engine, acme: str) -> None:
    with pytest.raises(RunGone):
        tick(engine, 999, 1, set())


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
