"""The scheduler's timing with a fake clock: a digest missed during a restart goes out once that day, never the
next day; alert scans run at start and every N minutes, coalesced when late."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import apscheduler.executors.base
import apscheduler.schedulers.base
import pytest
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler

from bot.scheduler import ALERT_SCAN_JOB_ID, DIGEST_JOB_ID, ScheduledJobs, create_scheduler
from bot.settings import Settings

LONDON = ZoneInfo("Europe/London")
TUESDAY = datetime(2026, 11, 24, tzinfo=LONDON)


class FakeClock:
    """The time as the test says; APScheduler's own "now" reads it too."""

    def __init__(self) -> None:
        self.now = TUESDAY

    def __call__(self) -> datetime:
        return self.now

    def set(self, day_offset: int, hour: int, minute: int = 0) -> None:
        self.now = (TUESDAY + timedelta(days=day_offset)).replace(hour=hour, minute=minute)


class ManualScheduler(BaseScheduler):
    """APScheduler's own scheduling logic, run in the test's thread only when the test calls tick()."""

    def wakeup(self) -> None:
        pass

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def tick(self) -> None:
        self._process_jobs()


class Harness:
    """The jobs note the local time they were called at; start() is what `healthbot scheduler` does at start-up."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.digests: list[datetime] = []
        self.scans: list[datetime] = []
        self.started: list[ManualScheduler] = []

    def jobs(self) -> ScheduledJobs:
        return ScheduledJobs(digest=self.digests.append, alert_scan=self.scans.append)

    def start(self, day_offset: int, hour: int, minute: int = 0) -> ManualScheduler:
        self.clock.set(day_offset, hour, minute)
        settings = Settings(healthbot_timezone="Europe/London", healthbot_digest_time="08:30")
        scheduler = ManualScheduler(timezone=LONDON, executors={"default": DebugExecutor()})
        create_scheduler(settings, jobs=self.jobs(), scheduler=scheduler, clock=self.clock)
        scheduler.start()
        self.started.append(scheduler)
        return scheduler

    def at(self, scheduler: ManualScheduler, day_offset: int, hour: int, minute: int = 0) -> None:
        self.clock.set(day_offset, hour, minute)
        scheduler.tick()


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    fake = FakeClock()

    class FakeDatetime(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return fake.now.astimezone(tz)  # type: ignore[arg-type]

    # APScheduler 3 reads the time in exactly these two places: when jobs are due, and whether a run is too late.
    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", FakeDatetime)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", FakeDatetime)
    harness = Harness(fake)
    yield harness
    for scheduler in harness.started:
        scheduler.shutdown()


def days(times: list[datetime]) -> list[str]:
    return [t.strftime("%a %H:%M") for t in times]


def test_restart_later_the_same_day_sends_the_missed_digest_once(run: Harness) -> None:
    scheduler = run.start(0, 10, 15)  # the process was down at 08:30 and comes back at 10:15
    scheduler.tick()
    scheduler.tick()
    assert days(run.digests) == ["Tue 10:15"]
    run.at(scheduler, 1, 8, 30)
    assert days(run.digests) == ["Tue 10:15", "Wed 08:30"]


def test_restart_the_next_day_sends_nothing_stale(run: Harness) -> None:
    scheduler = run.start(1, 7, 0)  # down since before Tuesday's digest, back on Wednesday morning
    scheduler.tick()
    assert run.digests == []
    run.at(scheduler, 1, 8, 30)
    assert days(run.digests) == ["Wed 08:30"]


def test_a_late_run_goes_out_until_midnight_and_not_after(run: Harness) -> None:
    scheduler = run.start(0, 8, 0)
    scheduler.tick()
    run.at(scheduler, 0, 23, 50)  # the host was suspended over 08:30: still Tuesday, so Tuesday's digest goes out
    assert days(run.digests) == ["Tue 23:50"]
    run.at(scheduler, 2, 7, 0)  # suspended again over all of Wednesday: Wednesday's digest is stale by now
    assert days(run.digests) == ["Tue 23:50"]
    run.at(scheduler, 2, 9, 0)  # Thursday's is due: one digest, not one per missed day
    assert days(run.digests) == ["Tue 23:50", "Thu 09:00"]


def test_adding_the_jobs_again_replaces_them(run: Harness) -> None:
    scheduler = run.start(0, 9, 0)
    create_scheduler(
        Settings(healthbot_timezone="Europe/London"), jobs=run.jobs(), scheduler=scheduler, clock=run.clock
    )
    assert sorted(job.id for job in scheduler.get_jobs()) == [ALERT_SCAN_JOB_ID, DIGEST_JOB_ID]
    digest_job = scheduler.get_job(DIGEST_JOB_ID)
    assert str(digest_job.trigger.timezone) == "Europe/London" and digest_job.coalesce


def test_alert_scans_run_at_start_then_every_interval_and_coalesce_when_late(run: Harness) -> None:
    scheduler = run.start(0, 9, 0)
    scheduler.tick()
    run.at(scheduler, 0, 9, 15)
    run.at(scheduler, 0, 10, 25)  # four runs came due unseen (09:30 … 10:15): one scan, not four
    assert days(run.scans) == ["Tue 09:00", "Tue 09:15", "Tue 10:25"]
    run.at(scheduler, 0, 10, 29)
    assert len(run.scans) == 3
    run.at(scheduler, 0, 10, 30)
    assert days(run.scans)[-1] == "Tue 10:30"
