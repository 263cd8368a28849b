"""Exactly once under real faults (issue 12, items 1–4 and 6), on SQLite and PostgreSQL.

Slack (the stand-in) misbehaves on purpose — 429 with any Retry-After, 5xx, `ok: false`, answers slower than the
client's timeout, connections dropped before or after the message was posted, down for a while — and the commands
run as the operator runs them (`healthbot digest`, `healthbot alerts`, `healthbot scheduler` as processes) and are
killed with SIGKILL in the middle of a call. Every test then counts the messages Slack holds per destination, by
the delivery key each carries: each digest, alert copy and escalation is there exactly once, or the run reported
it as not delivered.

Budgets are short here (HEALTHBOT_CLAIM_SECONDS=1, HEALTHBOT_SLACK_TIMEOUT_SECONDS=1) so that the suite stays quick.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.alerts import AlertDesk
from bot.digests import DigestRun, send_digests
from bot.playbook_runs import load_playbooks
from bot.routing import Routing
from bot.scheduler import ScheduledJobs, standard_jobs
from bot.settings import Settings
from bot.slack.app import create_web_client
from bot.slack.surface import SlackSurface
from bot.store import Account, HealthAlert, HealthScore, SentMessage, create_db_engine, read_session, write_session
from messages.blockkit import render_message
from scoring import load_model
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import MIKE, SARAH, block_action
from tests.slack_api import BOT_TOKEN, SlackApiStandIn, delivery_key, dm_channel, key_starts

KENJI, DIEGO, TEAM = "U0KENJI001", "U0DIEGO001", "C0CSTEAM01"
TODAY = datetime.now(UTC).date()  # the commands work on today's scores
MODEL = load_model(None)
BANDS = [band.name for band in MODEL.bands]
PLAYBOOKS = load_playbooks()
HEALTHBOT = str(Path(sys.executable).with_name("healthbot"))
FAST = {
    "healthbot_claim_seconds": 1.0,
    "healthbot_slack_timeout_seconds": 1.0,
    "healthbot_delivery_budget_seconds": 3.0,
}


def digest_keys(day: date = TODAY) -> set[str]:
    return {
        f"digest:{day}:{SARAH}:Sarah Chen",
        f"digest:{day}:{KENJI}:Kenji Sato",
        f"digest:{day}:{DIEGO}:Diego Ruiz",
        f"digest:{day}:{TEAM}:team",
    }


@pytest.fixture
def book(engine: Engine) -> Engine:
    """Three CSMs; Acme Corp (Sarah's) and Globex (Kenji's) turned Red today, Initech (Diego's) is fine."""
    with write_session(engine) as session:
        for account_id, name, csm, slack_id in (
            ("A1", "Acme Corp", "Sarah Chen", SARAH),
            ("A2", "Globex", "Kenji Sato", KENJI),
            ("A3", "Initech", "Diego Ruiz", DIEGO),
        ):
            session.add(Account(account_id=account_id, name=name, csm_owner=csm, csm_slack_id=slack_id, arr=40_000))
        session.flush()
        for account_id, before, now in (("A1", (65, "Yellow"), (45, "Red")), ("A2", (70, "Yellow"), (40, "Red")),
                                        ("A3", (80, "Green"), (82, "Green"))):  # fmt: skip
            for day, (score, band) in ((TODAY - timedelta(days=1), before), (TODAY, now)):
                session.add(HealthScore(account_id=account_id, as_of=day, score=score, band=band, confidence=1))
    return engine


def settings_for(api: SlackApiStandIn, db_url: str = "sqlite://", **overrides: Any) -> Settings:
    values = {**FAST, **overrides}
    return Settings(
        slack_bot_token=BOT_TOKEN,
        slack_api_url=api.base_url,
        database_url=db_url,
        healthbot_digest_channel=TEAM,
        **values,
    )


def slack(engine: Engine, settings: Settings) -> SlackSurface:
    return SlackSurface.create(engine, settings, create_web_client(settings))


def digests(engine: Engine, settings: Settings) -> DigestRun:
    surface = slack(engine, settings)
    return send_digests(engine, surface, settings, MODEL, day=TODAY, people=surface.people)


def desk(engine: Engine, settings: Settings) -> AlertDesk:
    return AlertDesk(engine=engine, settings=settings, playbooks=PLAYBOOKS, surface=slack(engine, settings))


def delivered(api: SlackApiStandIn) -> Counter[str]:
    """How many messages Slack holds for each delivery key."""
    return Counter(key for _, key in api.posted() if key)


def per_destination(api: SlackApiStandIn) -> Counter[str]:
    return Counter(conversation for conversation, key in api.posted() if key)


def assert_once(api: SlackApiStandIn, keys: set[str]) -> None:
    """Every one of `keys` delivered, and nothing (of these or any other) delivered twice."""
    counts = delivered(api)
    assert keys, "the test expects something to be delivered"
    doubled = {key: n for key, n in counts.items() if n > 1}
    assert not doubled, f"delivered more than once: {doubled}"
    missing = keys - set(counts)
    assert not missing, f"never delivered: {sorted(missing)}"


def ledger_status(engine: Engine, key: str) -> str:
    with read_session(engine) as session:
        return session.exec(select(SentMessage.status).where(SentMessage.dedupe_key == key)).one()


def make_overdue(engine: Engine) -> list[int]:
    """Every open alert's response time ran out an hour ago."""
    with write_session(engine) as session:
        alerts = session.exec(select(HealthAlert)).all()
        for alert in alerts:
            alert.respond_by = datetime.now(UTC) - timedelta(hours=1)
            session.add(alert)
    return sorted(alert.id for alert in alerts if alert.id is not None)


def escalated(engine: Engine) -> list[int]:
    with read_session(engine) as session:
        return sorted(a.id for a in session.exec(select(HealthAlert)).all() if a.escalated_at and a.id)


# --- the commands as processes -------------------------------------------------------------------------------------


def environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HEALTHBOT_")) and k != "DATABASE_URL"}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=settings.slack_api_url,
        DATABASE_URL=settings.database_url,
        HEALTHBOT_DIGEST_CHANNEL=TEAM,
        HEALTHBOT_TIMEZONE="UTC",
        HEALTHBOT_DIGEST_TIME="00:00",
        HEALTHBOT_CLAIM_SECONDS=str(settings.healthbot_claim_seconds),
        HEALTHBOT_SLACK_TIMEOUT_SECONDS=str(settings.healthbot_slack_timeout_seconds),
        HEALTHBOT_DELIVERY_BUDGET_SECONDS=str(settings.healthbot_delivery_budget_seconds),
        COLUMNS="250",  # one summary per line, as in a wide terminal or a log
    )
    return env


def run(settings: Settings, *args: str) -> tuple[int, str]:
    done = subprocess.run(
        [HEALTHBOT, *args], env=environment(settings), capture_output=True, text=True, timeout=120, check=False
    )
    return done.returncode, done.stdout + done.stderr


def start(settings: Settings, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [HEALTHBOT, *args],
        env=environment(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def kill_when(process: subprocess.Popen[str], happened: Callable[[], bool], *, timeout: float = 60) -> None:
    """SIGKILL the process the moment `happened()` is true (it is then in the middle of that call)."""
    deadline = time.monotonic() + timeout
    while not happened():
        assert process.poll() is None, f"the process ended before the moment to kill it: {process.stdout.read()}"  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the moment to kill the process never came"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL


def attempted(api: SlackApiStandIn, key: str, *, status: int | None = None) -> Callable[[], bool]:
    return lambda: any(
        delivery_key(call.params) == key and (status is None or call.status == status)
        for call in api.attempts("chat.postMessage")
    )


def wait_until(happened: Callable[[], bool], *, timeout: float = 60, say: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while not happened():
        assert time.monotonic() < deadline, f"it never happened {say()}"
        time.sleep(0.05)


def lapse(settings: Settings) -> None:
    """Let a dead process's claim run out (it no longer renews it)."""
    time.sleep(settings.healthbot_claim_seconds * 1.5)


# --- 1. An escalation interrupted by a crash ---------------------------------------------------------------------


def test_an_escalation_killed_while_waiting_out_a_429_is_sent_by_the_next_run(
    db_url: str, book: Engine, slack_api: SlackApiStandIn
) -> None:
    settings = settings_for(slack_api, db_url, healthbot_delivery_budget_seconds=60.0)
    first = desk(book, settings).scan(bands=BANDS, now=datetime.now(UTC))
    assert len(first.opened) == 2 and all(d.outcome == "sent" for d in first.deliveries)
    alert_ids = make_overdue(book)

    escalation = f"escalation:{alert_ids[0]}"
    slack_api.fail("chat.postMessage", status=429, retry_after=30, when=key_starts(escalation))
    process = start(settings, "alerts")
    kill_when(process, attempted(slack_api, escalation, status=429))
    assert escalated(book) == [], "nothing may say Escalated while the team channel never got it"

    lapse(settings)
    code, output = run(settings, "alerts")
    assert code == 0, output
    assert escalated(book) == alert_ids
    assert_once(slack_api, {f"escalation:{i}" for i in alert_ids} | {f"alert:{i}:{TEAM}" for i in alert_ids})
    for sent in desk(book, settings).surface.copies(alert_ids[0]):  # type: ignore[union-attr]
        assert "Escalated" in str(slack_api.message(sent.channel, sent.ts or ""))


def test_an_escalation_killed_in_flight_is_found_not_sent_again(
    db_url: str, book: Engine, slack_api: SlackApiStandIn
) -> None:
    settings = settings_for(slack_api, db_url)
    desk(book, settings).scan(bands=BANDS, now=datetime.now(UTC))
    alert_ids = make_overdue(book)
    escalation = f"escalation:{alert_ids[0]}"
    slack_api.hold("chat.postMessage", when=key_starts(escalation))  # Slack posts it; the answer never comes
    process = start(settings, "alerts")
    kill_when(process, attempted(slack_api, escalation))

    lapse(settings)
    code, output = run(settings, "alerts")
    assert code == 0, output
    assert escalated(book) == alert_ids
    assert_once(slack_api, {f"escalation:{i}" for i in alert_ids})
    assert ledger_status(book, escalation) == "sent"


def test_an_escalation_whose_post_fails_is_retried_at_the_next_scan(
    db_url: str, book: Engine, slack_api: SlackApiStandIn
) -> None:
    settings = settings_for(slack_api, db_url)
    alerts = desk(book, settings)
    alerts.scan(bands=BANDS, now=datetime.now(UTC))
    alert_ids = make_overdue(book)
    slack_api.fail("chat.postMessage", status=200, error="fatal_error", times=2, when=key_starts("escalation:"))

    scan = alerts.scan(bands=BANDS, now=datetime.now(UTC))
    assert scan.escalated == [] and escalated(book) == []
    assert "2 not delivered (the next scan retries them)" in scan.summary()
    assert sorted(alerts.scan(bands=BANDS, now=datetime.now(UTC)).escalated) == alert_ids
    assert_once(slack_api, {f"escalation:{i}" for i in alert_ids})


# --- 2. A digest the scheduler could not post ---------------------------------------------------------------------


def test_digests_missed_while_slack_was_down_go_out_at_the_next_scan(
    db_url: str, book: Engine, slack_api: SlackApiStandIn
) -> None:
    settings = settings_for(slack_api, db_url, healthbot_digest_time="00:00")
    mike = add_mike(book)
    jobs = scheduled_jobs(book, settings)
    slack_api.down(for_seconds=600)
    jobs.digest(datetime.now(UTC))
    assert delivered(slack_api) == Counter()
    slack_api.up()
    jobs.alert_scan(datetime.now(UTC))
    assert_once(slack_api, digest_keys() | {mike})
    jobs.alert_scan(datetime.now(UTC))  # nothing owed any more: nothing posted again
    assert_once(slack_api, digest_keys() | {mike})
    assert sum(delivered(slack_api).values()) == len(digest_keys()) + 1 + 4  # and the two alerts' four copies


def test_a_csm_slack_could_not_look_up_gets_their_digest_at_the_next_scan(
    db_url: str, book: Engine, slack_api: SlackApiStandIn
) -> None:
    settings = settings_for(slack_api, db_url, healthbot_digest_time="00:00")
    mike = add_mike(book)
    jobs = scheduled_jobs(book, settings)
    slack_api.fail("users.lookupByEmail", status=503)  # every post goes through; finding Mike does not
    jobs.digest(datetime.now(UTC))
    assert_once(slack_api, digest_keys())
    assert mike not in delivered(slack_api)
    jobs.alert_scan(datetime.now(UTC))
    assert_once(slack_api, digest_keys() | {mike})


def add_mike(engine: Engine) -> str:
    """Mike is known by his email only: finding him needs Slack too. Returns his digest's key."""
    with write_session(engine) as session:
        session.add(Account(account_id="A4", name="Umbrella", csm_owner="Mike Ross", csm_email="mike.ross@example.com"))
        session.flush()
        session.add(HealthScore(account_id="A4", as_of=TODAY, score=70, band="Yellow", confidence=1))
    return f"digest:{TODAY}:{MIKE}:Mike Ross"


def scheduled_jobs(engine: Engine, settings: Settings) -> ScheduledJobs:
    client = create_web_client(settings)
    return standard_jobs(settings, engine=engine, client=client, model=MODEL, playbooks=PLAYBOOKS, routing=Routing())


def test_a_scheduler_killed_while_a_digest_waits_out_a_429_is_not_taken_for_posted(
    db_url: str, book: Engine, slack_api: SlackApiStandIn
) -> None:
    settings = settings_for(slack_api, db_url, healthbot_delivery_budget_seconds=60.0)
    kenji = f"digest:{TODAY}:{KENJI}:Kenji Sato"
    slack_api.fail("chat.postMessage", status=429, retry_after=30, when=key_starts(kenji))
    scheduler = start(settings, "scheduler")
    kill_when(scheduler, attempted(slack_api, kenji, status=429))

    lapse(settings)
    restarted = start(settings, "scheduler")
    try:
        wait_until(lambda: digest_keys() <= set(delivered(slack_api)))
        time.sleep(0.5)
    finally:
        restarted.send_signal(signal.SIGTERM)
        output, _ = restarted.communicate(timeout=20)
    assert_once(slack_api, digest_keys())
    assert "being posted by another process" not in output, output


def test_a_digest_left_undelivered_all_day_is_named_in_the_next_team_digest(
    db_url: str, book: Engine, slack_api: SlackApiStandIn
) -> None:
    settings = settings_for(slack_api, db_url)
    yesterday = TODAY - timedelta(days=1)
    slack_api.fail("chat.postMessage", status=200, error="channel_not_found", when=key_starts(f"digest:{yesterday}"))
    surface = slack(book, settings)
    run_yesterday = send_digests(book, surface, settings, MODEL, day=yesterday, people=surface.people)
    [missed] = run_yesterday.not_delivered
    with write_session(book) as session:  # it was claimed yesterday
        for row in session.exec(select(SentMessage)).all():
            row.created_at = datetime.combine(yesterday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
            session.add(row)
    digests(book, settings)
    [team] = [m for _, m in _messages(slack_api) if delivery_key(m) == f"digest:{TODAY}:{TEAM}:team"]
    assert "Not delivered yesterday" in str(team["blocks"]) and f"digest for {missed.channel}" in str(team["blocks"])


def _messages(api: SlackApiStandIn) -> list[tuple[str, dict[str, Any]]]:
    return [(conversation, message) for conversation, messages in api.messages.items() for message in messages]


# --- 3. A post that outlasts its claim ---------------------------------------------------------------------------


def test_a_long_retry_after_is_not_slept_past_the_budget(db_url: str, book: Engine, slack_api: SlackApiStandIn) -> None:
    settings = settings_for(slack_api, db_url)
    slack_api.fail("chat.postMessage", status=429, retry_after=250, when=key_starts(f"digest:{TODAY}:{DIEGO}"))
    started = time.monotonic()
    first = digests(book, settings)
    assert time.monotonic() - started < 30
    assert [d.outcome for d in first.not_delivered] == ["failed"] and "250 s" in (first.not_delivered[0].error or "")
    digests(book, settings)
    assert_once(slack_api, digest_keys())


def test_a_second_run_leaves_alone_a_post_that_outlasts_the_claim(
    db_url: str, book: Engine, slack_api: SlackApiStandIn
) -> None:
    settings = settings_for(slack_api, db_url, healthbot_slack_timeout_seconds=30.0)
    kenji = f"digest:{TODAY}:{KENJI}:Kenji Sato"
    # Slack posts Kenji's digest but answers only when the test says: the first run waits, alive and renewing.
    answer = slack_api.hold("chat.postMessage", when=key_starts(kenji))
    outcomes: list[str] = []
    first = threading.Thread(target=lambda: outcomes.extend(d.outcome for d in digests(book, settings).deliveries))
    first.start()
    answer.wait_reached()
    time.sleep(2.5)  # more than two claim periods
    other = create_db_engine(db_url)  # a second scheduler started by mistake
    second = {d.key: d.outcome for d in digests(other, settings).deliveries}
    other.dispose()
    answer.release()
    first.join()
    assert second[kenji] == "in_progress"
    assert_once(slack_api, digest_keys())


# --- 4. Slow or lost answers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    ["slow answer", "dropped after posting", "dropped before posting", "500 after posting", "500 before posting"],
)
def test_a_post_whose_answer_is_slow_or_lost_is_delivered_once(
    fault: str, db_url: str, book: Engine, slack_api: SlackApiStandIn
) -> None:
    settings = settings_for(slack_api, db_url)
    diego = key_starts(f"digest:{TODAY}:{DIEGO}")
    if fault == "slow answer":
        slack_api.slow("chat.postMessage", seconds=2.5, when=diego)  # past the 1 s client timeout
    else:
        status = 0 if fault.startswith("dropped") else 500
        slack_api.fail("chat.postMessage", status=status, carried_out="after" in fault, when=diego)
    first = digests(book, settings)
    digests(book, settings)  # the next run
    assert_once(slack_api, digest_keys())
    assert len([c for c in slack_api.attempts("chat.postMessage") if diego(c.params)]) == (
        2 if "before" in fault else 1
    ), "posted again only when Slack had not got it"
    assert first.complete == ("before" not in fault)


@pytest.mark.parametrize("carried_out", [True, False], ids=["posted", "not posted"])
def test_a_digest_command_killed_in_flight_is_delivered_once_by_the_next_run(
    carried_out: bool, db_url: str, book: Engine, slack_api: SlackApiStandIn
) -> None:
    settings = settings_for(slack_api, db_url)
    kenji = f"digest:{TODAY}:{KENJI}:Kenji Sato"
    slack_api.hold("chat.postMessage", carried_out=carried_out, when=key_starts(kenji))
    process = start(settings, "digest")
    kill_when(process, attempted(slack_api, kenji))

    code, output = run(settings, "digest")
    if "being posted by another process" in output:  # it started before the dead process's claim lapsed
        assert code == 0, output
        lapse(settings)
        code, output = run(settings, "digest")
    assert code == 0 and "being posted by another process" not in output, output
    assert_once(slack_api, digest_keys())
    assert per_destination(slack_api)[dm_channel(KENJI)] == 1


def test_a_refusal_is_reported_as_not_delivered(db_url: str, book: Engine, slack_api: SlackApiStandIn) -> None:
    settings = settings_for(slack_api, db_url)
    slack_api.fail(
        "chat.postMessage", status=200, error="channel_not_found", times=2, when=key_starts(f"digest:{TODAY}:{TEAM}")
    )
    code, output = run(settings, "digest")
    assert code == 1 and "1 failed (run again to retry): Slack answered 200: channel_not_found" in output, output
    code, output = run(settings, "digest")
    assert code == 1 and "3 already posted earlier" in output
    assert delivered(slack_api) == Counter(digest_keys() - {f"digest:{TODAY}:{TEAM}:team"})


def test_slack_down_for_a_while_then_back(db_url: str, book: Engine, slack_api: SlackApiStandIn) -> None:
    settings = settings_for(slack_api, db_url)
    slack_api.down(for_seconds=600)
    code, output = run(settings, "alerts")
    assert code == 1 and "4 not delivered" in output, output
    slack_api.up()
    code, output = run(settings, "alerts")
    assert code == 0, output
    with read_session(book) as session:
        alert_ids = sorted(a.id for a in session.exec(select(HealthAlert)).all() if a.id)
    assert_once(
        slack_api,
        {f"alert:{i}:{place}" for i, place in zip(alert_ids, (SARAH, KENJI), strict=False)}
        | {f"alert:{i}:{TEAM}" for i in alert_ids},
    )


def test_a_post_that_may_have_arrived_and_cannot_be_checked_is_left_for_review(
    db_url: str, book: Engine, slack_api: SlackApiStandIn
) -> None:
    settings = settings_for(slack_api, db_url)
    team = f"digest:{TODAY}:{TEAM}:team"
    slack_api.fail("chat.postMessage", status=0, when=key_starts(team))  # lost, never posted
    slack_api.fail("conversations.history", status=200, error="missing_scope", times=5)
    first = digests(book, settings)
    assert [d.outcome for d in first.not_delivered] == ["unknown"]
    second = digests(book, settings)
    assert [d.outcome for d in second.not_delivered] == ["review"]
    assert "cannot be checked" in second.summary()
    digests(book, settings)
    assert ledger_status(book, team) == "review" and team not in delivered(slack_api)


# --- 6. Copies of an alert agree ---------------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(db_url: str) -> str:
    """The running bot's store on both databases (the shared bot fixtures read this name)."""
    return db_url


def test_twenty_simultaneous_mixed_clicks_leave_every_copy_as_stored(
    start_bot: Callable[..., RunningBot], slack_api: SlackApiStandIn
) -> None:
    bot = start_bot(healthbot_alert_channel=TEAM, healthbot_admins=SARAH)
    with write_session(bot.engine) as session:
        for day, score, band in ((TODAY - timedelta(days=1), 65.0, "Yellow"), (TODAY, 45.0, "Red")):
            session.add(HealthScore(account_id="ACCT-4521", as_of=day, score=score, band=band, confidence=1))
    alerts = desk(bot.engine, bot.settings)
    alerts.scan(bands=BANDS, now=datetime.now(UTC))
    [alert_id] = [a for a in _alert_ids(bot.engine)]
    copies = alerts.surface.copies(alert_id)  # type: ignore[union-attr]
    assert len(copies) == 2
    slack_api.jitter("chat.update", max_seconds=0.3)  # updates land in any order, as on the network

    kinds = ["acknowledge", "unacknowledge", "resolve", "unresolve"] * 5
    for round_ in range(3):  # each round: 20 clicks at once, then every copy must show what is stored
        payloads = [
            block_action(
                f"alert_{kind}",
                str(alert_id),
                response_url=slack_api.response_url("c"),
                user=SARAH,
                channel=TEAM,
                ephemeral=False,
                message_ts=copies[1].ts,
            )
            for kind in kinds
        ]
        for n, payload in enumerate(payloads):
            payload["actions"][0]["action_ts"] = f"{time.time():.6f}{round_}{n:02d}"
        threads = [threading.Thread(target=bot.client.action, args=(p,)) for p in payloads]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        asked = 20 * (round_ + 1)
        wait_until(
            lambda asked=asked: _settled(bot.engine, alert_id, asked),
            timeout=30,
            say=lambda: _render_state(bot.engine, alert_id),
        )
        time.sleep(0.4)  # longer than any update's jitter: nothing is still on its way

        expected = render_message(alerts.view(alert_id, now=datetime.now(UTC)))
        for sent in copies:
            shown = slack_api.message(sent.channel, sent.ts or "")
            assert shown["text"] == expected["text"], f"round {round_ + 1}: the copy in {sent.channel} differs"
            assert shown["attachments"] == expected["attachments"]


def _alert_ids(engine: Engine) -> list[int]:
    with read_session(engine) as session:
        return [a.id for a in session.exec(select(HealthAlert)).all() if a.id is not None]


def _render_state(engine: Engine, alert_id: int) -> str:
    with read_session(engine) as session:
        alert = session.get(HealthAlert, alert_id)
        assert alert is not None
        return f"(render asked {alert.render_wanted} times, held by {alert.render_holder})"


def _settled(engine: Engine, alert_id: int, asked: int) -> bool:
    """Every click asked for its render and no render is under way."""
    with read_session(engine) as session:
        alert = session.get(HealthAlert, alert_id)
        return alert is not None and alert.render_holder is None and alert.render_wanted >= asked
