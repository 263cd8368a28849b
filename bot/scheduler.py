"""The scheduled jobs — the morning digest and the alert scan — run by `healthbot scheduler` in its own process
(the Procfile's `worker:`), never inside web workers.

APScheduler cannot share a job store between processes, so jobs live in memory and exactly-once comes from the
store's delivery ledger (bot.ledger): a second scheduler started by mistake posts nothing new, and what a run could
not deliver is retried by every alert scan until it goes through. What APScheduler
gives us is the timing: cron jobs with stable ids in an explicit timezone, coalesced, with a misfire grace that lets a
digest missed during a restart go out when the process comes back that day — and never the next day.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.alerts import AlertDesk
from bot.digests import DigestRun, digests_owed, send_digests
from bot.ledger import Ledger
from bot.playbook_runs import Playbook
from bot.routing import Routing
from bot.scoring_runs import score_and_store
from bot.settings import Settings
from bot.slack.surface import SlackSurface
from bot.store import HealthScore, read_session
from bot.teams.delivery import TeamsDelivery, reachable_in_teams
from scoring import HealthModel

logger = logging.getLogger(__name__)

DIGEST_JOB_ID = "daily_digest"
ALERT_SCAN_JOB_ID = "alert_scan"

Clock = Callable[[], datetime]
Job = Callable[[datetime], object]  # called with "now" in the team's timezone


@dataclass(frozen=True)
class ScheduledJobs:
    """What the scheduler runs: each job gets the current time in HEALTHBOT_TIMEZONE."""

    digest: Job
    alert_scan: Job


def digest_grace_seconds(settings: Settings) -> int:
    """How late a digest may still go out: until the end of the day it was due (local time).

    APScheduler's default grace is one second, which would drop a digest missed by a restart; a fixed day would
    post yesterday's digest the next morning.
    """
    due = settings.digest_time
    return max(24 * 3600 - (due.hour * 3600 + due.minute * 60 + due.second) - 1, 1)


def todays_digest_time(settings: Settings, now: datetime) -> datetime:
    """Today's digest time in the team's timezone — in the past when the process starts after it."""
    local = now.astimezone(settings.timezone)
    return datetime.combine(local.date(), settings.digest_time, tzinfo=settings.timezone)


def create_scheduler(
    settings: Settings,
    *,
    jobs: ScheduledJobs,
    scheduler: BaseScheduler | None = None,
    clock: Clock | None = None,
) -> BaseScheduler:
    """Add the digest and alert-scan jobs to `scheduler` (a BlockingScheduler in the team's timezone by default).

    The digest's first run is today's digest time even when that has passed: APScheduler then runs it at once if it
    is still within the grace (the same day), and the store's sent-message keys make it post only what was not
    posted before the restart.

    Args:
        settings: HEALTHBOT_TIMEZONE, HEALTHBOT_DIGEST_TIME and HEALTHBOT_ALERT_SCAN_MINUTES are read.
        jobs: what to run; each job is called with the current time in the team's timezone.
        scheduler: the APScheduler 3 scheduler to add the jobs to.
        clock: the current time (tests pass a fake one); the system clock by default.
    """
    tz = settings.timezone
    clock = clock or (lambda: datetime.now(tz))
    scheduler = scheduler or BlockingScheduler(timezone=tz)
    now = clock().astimezone(tz)
    due = settings.digest_time
    scheduler.add_job(
        _with_clock(jobs.digest, clock, settings),
        CronTrigger(hour=due.hour, minute=due.minute, second=due.second, timezone=tz),
        id=DIGEST_JOB_ID,
        name="Morning early-warning digest",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=digest_grace_seconds(settings),
        next_run_time=todays_digest_time(settings, now),
    )
    every = settings.healthbot_alert_scan_minutes
    scheduler.add_job(
        _with_clock(jobs.alert_scan, clock, settings),
        IntervalTrigger(minutes=every, start_date=now, timezone=tz),
        id=ALERT_SCAN_JOB_ID,
        name=f"Alert scan every {every} minutes",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        # A scan late by less than an interval is still worth running; anything older is covered by the next one.
        misfire_grace_time=every * 60,
        next_run_time=now,
    )
    return scheduler


def _with_clock(job: Job, clock: Clock, settings: Settings) -> Callable[[], None]:
    # Jobs get "now" from the same clock the schedule was made with, in the team's timezone, and a failing job is
    # logged rather than left to APScheduler's generic message.
    def run() -> None:
        try:
            job(clock().astimezone(settings.timezone))
        except Exception:
            logger.exception("scheduled job %s failed; it runs again at its next time", getattr(job, "__name__", job))

    run.__name__ = getattr(job, "__name__", "job")
    return run


def standard_jobs(
    settings: Settings,
    *,
    engine: Engine,
    client: WebClient | None,
    model: HealthModel,
    playbooks: Mapping[str, Playbook],
    routing: Routing,
    teams: TeamsDelivery | None = None,
) -> ScheduledJobs:
    """The jobs `healthbot scheduler` runs: score and post the morning digest; scan for alerts and escalate.

    With `teams`, digests and alerts also go to Teams (each CSM's personal chat and HEALTHBOT_TEAMS_CHANNEL), each
    copy once; a CSM reachable in Teams is not named as unreachable in the Slack team digest.

    The digest job scores the day first when nobody has (an unattended install has no one running
    `healthbot score` each morning); scores already stored for the day are used as they are. Every alert scan
    after the digest time also sends today's digests again when any is owed — the morning run failed, Slack gave
    no answer (to a post, or to looking a CSM up by email), or the process posting one died — until they are all
    delivered; the ledger posts only what is missing. What still is not delivered at the end of the day is named in
    the next morning's team digest.
    """
    surface = SlackSurface.create(engine, settings, client) if client is not None else None  # None: Teams only
    ledger = surface.ledger if surface is not None else Ledger.from_settings(engine, settings)
    desk = AlertDesk(engine=engine, settings=settings, playbooks=playbooks, routing=routing, surface=surface)
    bands = [band.name for band in model.bands]
    owed: set[date] = set()  # days whose digest run in this process did not finish delivering
    sending = threading.Lock()  # the morning run and a scan's retry never build the digests at the same time

    def send(day: date) -> DigestRun:
        if not _scored(engine, day):
            logger.info("no scores for %s yet: scoring before the digest", day)
            score_and_store(engine, model, as_of=day)
        owed.add(day)
        people = surface.people if surface is not None else None
        unanswered = people.unanswered if people is not None else 0
        reachable = reachable_in_teams(engine) if teams is not None else set()
        run = send_digests(
            engine,
            surface,
            settings,
            model,
            day=day,
            routing=routing,
            people=people,
            reachable_elsewhere=reachable,
        )
        teams_run = teams.send_digests(model, day=day, routing=routing) if teams is not None else None
        if teams_run is not None:
            logger.info("Teams digest: %s", teams_run.summary("digest"))
        complete = run.complete and not (teams_run and teams_run.not_delivered)
        # A CSM Slack could not look up is owed too.
        if complete and (people.unanswered if people is not None else 0) == unanswered:
            owed.discard(day)
        return run

    def morning_digest(now: datetime) -> None:
        with sending:
            logger.info("morning digest: %s", send(now.date()).summary())

    def alert_scan(now: datetime) -> None:
        logger.info("alert scan: %s", desk.scan(bands=bands, now=now).summary())
        if teams is not None:
            logger.info("alert scan: %s", teams.post_alerts(playbooks, now=now).summary("alert"))
        day = now.date()
        if now < todays_digest_time(settings, now) or not sending.acquire(blocking=False):
            return  # not due yet, or the morning run is sending them right now
        try:
            if day in owed or digests_owed(ledger, day=day):
                logger.info("digest retry: %s", send(day).summary())
        finally:
            sending.release()

    return ScheduledJobs(digest=morning_digest, alert_scan=alert_scan)


def _scored(engine: Engine, day: date) -> bool:
    with read_session(engine) as session:
        return session.exec(select(HealthScore.account_id).where(HealthScore.as_of == day).limit(1)).first() is not None
