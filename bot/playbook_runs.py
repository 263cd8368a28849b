"""Playbooks in use: runs on accounts, checklist ticks, and intervention tracking — how accounts fared after a
playbook started. The definitions (scoring/playbooks.toml or HEALTHBOT_PLAYBOOKS) are scoring.playbooks'."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.permissions import Person, check_may_act
from bot.settings import Settings
from bot.store import (
    Account,
    AlertAction,
    HealthAlert,
    HealthScore,
    PlaybookRun,
    PlaybookStepTick,
    read_session,
    write_session,
)
from bot.store.tables import as_utc
from messages import views
from messages.format import count, signed
from scoring.playbooks import Playbook, PlaybookFileError, find_playbook, load_playbooks, recommended_playbook

# The definitions' names stay importable from here, beside the runs: forms, alerts and handlers speak of both.
__all__ = [
    "Playbook",
    "PlaybookFileError",
    "PlaybookOutcome",
    "RunGone",
    "RunStart",
    "TickResult",
    "active_run_summary",
    "checklist",
    "find_playbook",
    "load_playbooks",
    "playbook_outcomes",
    "playbook_results",
    "recommended_playbook",
    "set_stage_ticks",
    "start_run",
]

RECOVERY_WINDOW_DAYS = 30  # "Red accounts recovered within 30 days have 76% renewal rate vs 23% if delayed"


# --- runs ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunStart:
    """What starting a playbook did: the run, and whether it is new or was already under way."""

    run: PlaybookRun
    created: bool


def start_run(
    session: Session,
    *,
    account_id: str,
    playbook: Playbook,
    user_id: str,
    now: datetime,
    alert_id: int | None = None,
) -> RunStart:
    """Start `playbook` on an account inside the caller's write transaction; an active run of it is reused."""
    existing = session.exec(
        select(PlaybookRun).where(
            PlaybookRun.account_id == account_id, PlaybookRun.playbook == playbook.key, PlaybookRun.status == "active"
        )
    ).first()
    if existing is not None:
        return RunStart(existing, created=False)
    latest = session.exec(
        select(HealthScore)
        .where(HealthScore.account_id == account_id, HealthScore.as_of <= now.date())
        .order_by(col(HealthScore.as_of).desc())
        .limit(1)
    ).first()
    run = PlaybookRun(
        account_id=account_id,
        playbook=playbook.key,
        alert_id=alert_id,
        started_by=user_id,
        started_at=now,
        start_score=latest.score if latest else None,
        start_band=latest.band if latest else None,
    )
    session.add(run)
    session.flush()
    return RunStart(run, created=True)


@dataclass(frozen=True)
class TickResult:
    """The steps a checklist change ticked and unticked (empty when the message already showed this state)."""

    run: PlaybookRun
    ticked: list[str]
    unticked: list[str]


class RunGone(LookupError):
    """The playbook run no longer exists (the store was rebuilt); the click is answered politely."""


def set_stage_ticks(
    engine: Engine,
    *,
    run_id: int,
    stage: int,
    done: set[str],
    person: Person,
    now: datetime,
    playbooks: Mapping[str, Playbook],
    settings: Settings,
) -> TickResult:
    """Make stage `stage`'s ticks match `done` (Slack sends every selected box of the stage), in one transaction.

    Each change is logged as an action on the account; the run is finished when every step is ticked and active
    again when one is unticked.

    Raises:
        RunGone: no such run.
        NotAllowed: `person` is not the account's CSM (or the assignee of the run's alert) or an admin.
    """
    user_id = person.user_id
    with write_session(engine) as session:
        run = session.exec(select(PlaybookRun).where(PlaybookRun.id == run_id).with_for_update()).first()
        if run is None or run.playbook not in playbooks:
            raise RunGone(run_id)
        alert = session.get(HealthAlert, run.alert_id) if run.alert_id is not None else None
        check_may_act(
            session, person, account_id=run.account_id, settings=settings, doing="tick this checklist", alert=alert
        )
        playbook = playbooks[run.playbook]
        stage_keys = {key for key in playbook.step_keys if key.split(".")[0] == str(stage)}
        wanted = done & stage_keys
        current = set(
            session.exec(
                select(PlaybookStepTick.step).where(
                    PlaybookStepTick.run_id == run_id, col(PlaybookStepTick.step).in_(stage_keys)
                )
            ).all()
        )
        ticked, unticked = sorted(wanted - current), sorted(current - wanted)
        for key in ticked:
            session.add(PlaybookStepTick(run_id=run_id, step=key, ticked_by=user_id, ticked_at=now))
        if unticked:
            session.execute(
                delete(PlaybookStepTick).where(
                    col(PlaybookStepTick.run_id) == run_id, col(PlaybookStepTick.step).in_(unticked)
                )
            )
        for kind, keys in (("step_done", ticked), ("step_undone", unticked)):
            for key in keys:
                session.add(
                    AlertAction(
                        alert_id=run.alert_id,
                        account_id=run.account_id,
                        user_id=user_id,
                        kind=kind,
                        note=f"{playbook.name}: {playbook.step_text(key)}",
                        created_at=now,
                    )
                )
        session.flush()
        total_done = session.exec(
            select(func.count()).select_from(PlaybookStepTick).where(PlaybookStepTick.run_id == run_id)
        ).one()
        if run.status in ("active", "finished"):
            finished = total_done == len(playbook.step_keys)
            run.status = "finished" if finished else "active"
            run.finished_at = (run.finished_at or now) if finished else None
        session.add(run)
    return TickResult(run, ticked, unticked)


def checklist(
    engine: Engine, run_id: int, *, playbooks: Mapping[str, Playbook], as_of: date | None = None
) -> views.PlaybookChecklist:
    """The run's checklist as a view: each stage with its due day and ticked steps, and the score since the start.

    Raises:
        RunGone: no such run, or its playbook is no longer in the playbooks file.
    """
    with read_session(engine) as session:
        run = session.get(PlaybookRun, run_id)
        if run is None or run.playbook not in playbooks:
            raise RunGone(run_id)
        account = session.get(Account, run.account_id)
        ticks = {
            t.step: t for t in session.exec(select(PlaybookStepTick).where(PlaybookStepTick.run_id == run_id)).all()
        }
        query = select(HealthScore).where(HealthScore.account_id == run.account_id)
        if as_of is not None:
            query = query.where(HealthScore.as_of <= as_of)
        latest = session.exec(query.order_by(col(HealthScore.as_of).desc()).limit(1)).first()
    assert account is not None  # the foreign key guarantees it
    playbook = playbooks[run.playbook]
    started_at = as_utc(run.started_at)
    assert started_at is not None
    stages = []
    for i, stage in enumerate(playbook.stages, 1):
        steps = []
        for j, text in enumerate(stage.steps, 1):
            tick = ticks.get(f"{i}.{j}")
            steps.append(
                views.ChecklistStep(
                    key=f"{i}.{j}",
                    text=text,
                    done=tick is not None,
                    done_by=tick.ticked_by if tick else None,
                    done_at=as_utc(tick.ticked_at) if tick else None,
                )
            )
        due = (started_at + timedelta(days=stage.ends_after_days)).date()
        stages.append(views.ChecklistStage(index=i, name=stage.name, timing=stage.timing, due=due, steps=steps))
    score = latest.score if latest else None
    return views.PlaybookChecklist(
        run_id=run_id,
        playbook=playbook.name,
        situation=playbook.situation,
        account=views.AccountRef(
            account_id=account.account_id,
            name=account.name,
            csm_owner=account.csm_owner,
            score=score,
            band=latest.band if latest else None,
            arr=account.arr,
            renewal_date=account.renewal_date,
            previous_score=run.start_score,
            delta=None if score is None or run.start_score is None else score - run.start_score,
        ),
        started_by=run.started_by,
        started_at=started_at,
        status=run.status,
        stages=stages,
        done_steps=len(ticks),
        total_steps=len(playbook.step_keys),
    )


def active_run_summary(session: Session, account_id: str, playbooks: Mapping[str, Playbook]) -> str | None:
    """ "Red Account Recovery · 5 of 16 steps done" for the account's most recent active run, if any."""
    run = session.exec(
        select(PlaybookRun)
        .where(PlaybookRun.account_id == account_id, PlaybookRun.status == "active")
        .order_by(col(PlaybookRun.started_at).desc())
        .limit(1)
    ).first()
    if run is None or run.id is None or run.playbook not in playbooks:
        return None
    done = session.exec(
        select(func.count()).select_from(PlaybookStepTick).where(PlaybookStepTick.run_id == run.id)
    ).one()
    playbook = playbooks[run.playbook]
    return f"{playbook.name} · {done} of {len(playbook.step_keys)} steps done"


# --- intervention tracking ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaybookOutcome:
    """How the accounts fared after one playbook was started on them."""

    playbook: str  # its name
    runs: int
    ongoing: int
    finished: int
    average_change: float | None  # score points from the start to now, over runs with both scores
    red_starts: int  # runs started while the account was red, at least 30 days ago or already out of red
    left_red: int  # of those, how many left red within 30 days of the start


def playbook_outcomes(
    engine: Engine, *, as_of: date, playbooks: Mapping[str, Playbook] | None = None, red_band: str = "Red"
) -> list[PlaybookOutcome]:
    """Intervention tracking per playbook (file order), over every run started on or before `as_of`.

    A run that started red counts towards "left red within 30 days" once it has left red or once 30 days have
    passed, so a run started last week does not count as a failure yet.
    """
    playbooks = playbooks or load_playbooks()
    with read_session(engine) as session:
        runs = pd.DataFrame(
            [
                {
                    "run_id": r.id,
                    "account_id": r.account_id,
                    "playbook": r.playbook,
                    "status": r.status,
                    "start_day": as_utc(r.started_at).date(),  # type: ignore[union-attr]
                    "start_score": r.start_score,
                    "start_band": r.start_band,
                }
                for r in session.exec(select(PlaybookRun)).all()
            ],
            columns=["run_id", "account_id", "playbook", "status", "start_day", "start_score", "start_band"],
        )
        runs = runs[runs["start_day"] <= as_of]
        accounts = runs["account_id"].unique().tolist()
        earliest = runs["start_day"].min() if len(runs) else as_of
        scores = pd.DataFrame(
            session.exec(
                select(
                    col(HealthScore.account_id), col(HealthScore.as_of), col(HealthScore.score), col(HealthScore.band)
                ).where(
                    col(HealthScore.account_id).in_(accounts),
                    HealthScore.as_of >= earliest,
                    HealthScore.as_of <= as_of,
                )
            ).all(),
            columns=["account_id", "as_of", "score", "band"],
        )
    if runs.empty:
        return []
    latest = scores.sort_values("as_of").groupby("account_id").tail(1).set_index("account_id")["score"]
    runs["change"] = runs["account_id"].map(latest) - runs["start_score"]

    # Left red: a non-red score within 30 days after the start, for runs that started red.
    red_runs = runs[runs["start_band"] == red_band]
    paired = red_runs.merge(scores, on="account_id")
    in_window = (paired["as_of"] > paired["start_day"]) & (
        paired["as_of"] <= paired["start_day"] + timedelta(days=RECOVERY_WINDOW_DAYS)
    )
    recovered = set(paired.loc[in_window & (paired["band"] != red_band), "run_id"])
    window_over = red_runs["start_day"] + timedelta(days=RECOVERY_WINDOW_DAYS) <= as_of
    counted = red_runs[window_over | red_runs["run_id"].isin(recovered)]

    outcomes = []
    for key, playbook in playbooks.items():
        mine = runs[runs["playbook"] == key]
        if mine.empty:
            continue
        mine_counted = counted[counted["playbook"] == key]
        changes = mine["change"].dropna()
        outcomes.append(
            PlaybookOutcome(
                playbook=playbook.name,
                runs=len(mine),
                ongoing=int((mine["status"] == "active").sum()),
                finished=int((mine["status"] == "finished").sum()),
                average_change=float(changes.mean()) if len(changes) else None,
                red_starts=len(mine_counted),
                left_red=int(mine_counted["run_id"].isin(recovered).sum()),
            )
        )
    return outcomes


def playbook_results(engine: Engine, *, as_of: date, red_band: str = "Red") -> list[str]:
    """Intervention tracking in a line per playbook, for `/health trends`' "Playbook results".

    e.g. "Red Account Recovery: 4 runs (2 ongoing, 1 finished) · +9 points on average since the start ·
    3 of 4 accounts left Red within 30 days (75%)".
    """
    lines = []
    for o in playbook_outcomes(engine, as_of=as_of, red_band=red_band):
        parts = [f"{o.playbook}: {count(o.runs, 'run')} ({o.ongoing} ongoing, {o.finished} finished)"]
        if o.average_change is not None:
            parts.append(f"{signed(o.average_change)} points on average since the start")
        if o.red_starts:
            parts.append(
                f"{o.left_red} of {count(o.red_starts, 'account')} left {red_band} within "
                f"{RECOVERY_WINDOW_DAYS} days ({o.left_red / o.red_starts:.0%})"
            )
        lines.append(" · ".join(parts))
    return lines
