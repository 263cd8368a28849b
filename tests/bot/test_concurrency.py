"""Two processes clicking on the same alert at once: every click stored once, no "database is locked"."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, date, datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.store import Account, AlertAction, HealthAlert, read_session, write_session

CLICKS_PER_PROCESS = 200
SARAH = "U0SARAH001"


def _click_200_times(url: str, alert_id: int, worker: int, start: multiprocessing.synchronize.Barrier) -> None:
    # Runs in a fresh process: its own engine and connections, as a second web worker or scheduler would have.
    from bot.activity import AlertClick, act_on_alert
    from bot.settings import Settings
    from bot.store import create_db_engine

    engine = create_db_engine(url)
    settings = Settings()
    start.wait(timeout=60)
    for n in range(CLICKS_PER_PROCESS):
        click = AlertClick(
            alert_id=alert_id,
            user_id=SARAH,
            kind="note",
            dedupe_key=f"worker-{worker}:click-{n}",
            at=datetime.now(UTC),
            note=f"note {n} from worker {worker}",
        )
        act_on_alert(engine, click, settings=settings)
        if n % 10 == 0:
            act_on_alert(engine, click, settings=settings)  # Slack's retry of the same click
    engine.dispose()


def test_two_processes_record_400_clicks_with_no_errors(engine: Engine, db_url: str) -> None:
    with write_session(engine) as session:
        session.add(Account(account_id="ACCT-4521", name="Acme Corp", csm_owner="Sarah Chen", csm_slack_id=SARAH))
        session.flush()
        alert = HealthAlert(account_id="ACCT-4521", condition="turned_red", severity="High", opened_on=date.today())
        session.add(alert)
        session.flush()
        alert_id = alert.id
    assert alert_id is not None

    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    workers = [ctx.Process(target=_click_200_times, args=(db_url, alert_id, w, start)) for w in (1, 2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)

    assert [p.exitcode for p in workers] == [0, 0], "a worker failed (see its traceback above)"
    with read_session(engine) as session:
        stored = session.exec(select(func.count()).select_from(AlertAction)).one()
    assert stored == 2 * CLICKS_PER_PROCESS
