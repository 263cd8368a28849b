"""The morning digests against the Web API stand-in: each CSM by DM (Slack ID, else email lookup), the team digest
naming who could not be reached, each posted once however often, however concurrently the job runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine

from bot import insights
from bot.digests import build_digests, send_digests
from bot.routing import Routing, csm_routes
from bot.settings import Settings
from bot.slack.app import create_web_client
from bot.slack.surface import SlackSurface
from bot.store import Account, HealthScore, SlackUserCache, create_db_engine, read_session, write_session
from scoring import HealthModel, load_model
from tests.slack_api import BOT_TOKEN, SlackApiStandIn

SARAH, MIKE, TEAM = "U0SARAH001", "U0MIKE0001", "C0CSTEAM01"
DAY = date(2026, 11, 24)
MODEL: HealthModel = load_model(None)


@pytest.fixture
def api() -> Iterator[SlackApiStandIn]:
    with SlackApiStandIn() as stand_in:
        stand_in.add_user(MIKE, name="Mike Ross", email="mike.ross@example.com")
        yield stand_in


@pytest.fixture
def book(engine: Engine) -> Engine:
    with write_session(engine) as session:
        session.add(Account(account_id="A1", name="Acme Corp", csm_owner="Sarah Chen", csm_slack_id=SARAH, arr=45_000))
        session.add(
            Account(account_id="A2", name="GlobalTech", csm_owner="Mike Ross", csm_email="Mike.Ross@example.com")
        )
        session.add(Account(account_id="A3", name="Initech", csm_owner="Priya Patel", arr=20_000))
        session.flush()
        for account_id, before, now in (("A1", (65, "Yellow"), (45, "Red")), ("A2", (82, "Green"), (84, "Green")),
                                        ("A3", (70, "Yellow"), (55, "Red"))):  # fmt: skip
            for day, (score, band) in ((DAY - timedelta(days=1), before), (DAY, now)):
                session.add(HealthScore(account_id=account_id, as_of=day, score=score, band=band, confidence=1))
    return engine


def settings(api: SlackApiStandIn) -> Settings:
    return Settings(slack_bot_token=BOT_TOKEN, slack_api_url=api.base_url, healthbot_digest_channel=TEAM)


def send(engine: Engine, api: SlackApiStandIn) -> list[str]:
    slack = SlackSurface.create(engine, settings(api), create_web_client(settings(api)))
    run = send_digests(engine, slack, settings(api), MODEL, day=DAY, people=slack.people)
    return sorted(d.outcome for d in run.deliveries)


def test_each_csm_and_the_team_get_one_digest_and_the_unreachable_are_named(book: Engine, api: SlackApiStandIn) -> None:
    assert send(book, api) == ["sent", "sent", "sent"]
    posts = {call.params["channel"]: call for call in api.sent("chat.postMessage")}
    assert set(posts) == {SARAH, MIKE, TEAM}
    assert "Early-warning digest for Sarah Chen" in posts[SARAH].params["text"]
    assert "Acme Corp" in str(posts[SARAH].params["blocks"])
    assert "Could not reach by DM" in str(posts[TEAM].params["blocks"]) and "Priya Patel" in str(posts[TEAM].params)
    with read_session(book) as session:
        cached = session.get(SlackUserCache, "mike.ross@example.com")
    assert cached is not None and cached.user_id == MIKE

    assert send(book, api) == ["already_sent", "already_sent", "already_sent"]
    assert len(api.sent("chat.postMessage")) == 3
    assert len(api.sent("users.lookupByEmail")) == 1  # Mike was looked up once, then read from the store


def test_after_a_restart_the_same_day_posts_nothing_new(db_url: str, book: Engine, api: SlackApiStandIn) -> None:
    send(book, api)
    restarted = create_db_engine(db_url)
    assert send(restarted, api) == ["already_sent", "already_sent", "already_sent"]
    restarted.dispose()
    assert len(api.sent("chat.postMessage")) == 3


def test_two_schedulers_at_once_post_each_digest_once(db_url: str, book: Engine, api: SlackApiStandIn) -> None:
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def scheduler() -> None:
        own = create_db_engine(db_url)
        start.wait()
        try:
            outcomes.extend(send(own, api))
        except Exception as err:  # a scheduler that crashes is a failure even if the other one posted
            outcomes.append(f"crashed: {err!r}")
        own.dispose()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(call.params["channel"] for call in api.sent("chat.postMessage")) == sorted([SARAH, MIKE, TEAM])
    assert outcomes.count("sent") == 3 and len(outcomes) == 6, outcomes


def test_an_outage_is_repaired_by_the_next_run(book: Engine, api: SlackApiStandIn) -> None:
    api.fail("chat.postMessage", status=500, times=1)  # Slack did not post it, but a 500 cannot say so
    assert send(book, api) == ["sent", "sent", "unknown"]
    assert send(book, api) == ["already_sent", "already_sent", "sent"]  # looked for first, then posted
    assert len(api.sent("chat.postMessage")) == 3 and len(api.posted()) == 3


def test_building_every_digest_at_once_says_what_each_digest_alone_says(engine: Engine) -> None:
    usage = {"key": "usage_drop", "kind": "risk", "title": "Usage decline", "severity": "High",
             "response_time": "24 hours", "facts": ["48% seat utilisation"]}  # fmt: skip
    seats = {"key": "seats", "kind": "expansion", "title": "Nearing seat limit", "severity": "Low",
             "opportunity": "Seat expansion"}  # fmt: skip
    with write_session(engine) as session:
        for n in range(12):
            csm = ("Sarah Chen", "Mike Ross", "Priya Patel")[n % 3]
            renewal = DAY + timedelta(days=10 + 7 * n)
            session.add(Account(account_id=f"A{n}", name=f"Customer {n}", csm_owner=csm, arr=10_000 + 1_000 * n,
                                renewal_date=renewal, segment="SMB"))  # fmt: skip
        session.flush()
        for n in range(12):
            before, now = 50 + 4 * n, 50 + 4 * n - (n % 4) * 6 - n / 10
            for day, score, signals in ((DAY - timedelta(days=1), before, []),
                                        (DAY, now, [usage] if n % 2 else [seats])):  # fmt: skip
                band = "Green" if score >= 80 else "Yellow" if score >= 60 else "Red"
                session.add(HealthScore(account_id=f"A{n}", as_of=day, score=score, band=band, confidence=1,
                                        signals=signals, last_month_score=before + 5))  # fmt: skip

    by_csm, team = insights.digests(engine, MODEL, day=DAY, csms=["Sarah Chen", "Mike Ross", "Priya Patel"])
    for csm, built in by_csm.items():
        assert built == insights.digest(engine, MODEL, day=DAY, csm=csm)
    assert team == insights.digest(engine, MODEL, day=DAY)
    assert team.new_reds and team.due_today and team.biggest_drops and team.expansion_ready and team.risk_drivers


def test_the_posted_digests_biggest_drops_are_this_months(engine: Engine) -> None:
    """What changed lately: a fall over the quarter that has since levelled off is not news this morning."""
    with write_session(engine) as session:
        for account_id, name in (("A1", "Acme Corp"), ("A2", "GlobalTech")):
            session.add(Account(account_id=account_id, name=name, csm_owner="Sarah Chen", csm_slack_id=SARAH))
        session.flush()
        for account_id, quarter, month, now in (("A1", 90, 62, 60), ("A2", 60, 75, 62)):
            session.add(HealthScore(account_id=account_id, as_of=DAY, score=now, band="Yellow", confidence=1,
                                    last_month_score=month, last_quarter_score=quarter))  # fmt: skip

    routes = csm_routes(engine, None, Routing())
    sarah, team = (a.digest for a in build_digests(engine, MODEL, day=DAY, routes=routes, team_channel=TEAM))
    for digest in (sarah, team):
        assert [(d.name, d.delta, d.previous_score) for d in digest.biggest_drops] == [("GlobalTech", -13, 75)]
