"""Fixtures for driving the real app over real HTTP on loopback: the Slack Web API stand-in, a store with a few
accounts, and the bot itself (Flask + Bolt, exactly as gunicorn serves it) answering signed requests.

    def test_something(bot: RunningBot) -> None:
        reply = bot.client.command(slash_command("risks", response_url=bot.api.response_url()))
        assert reply.status == 200
        [answer] = bot.api.wait_for("response_url")
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select
from werkzeug.serving import BaseWSGIServer, make_server

from bot.settings import Settings
from bot.slack.server import create_wsgi_app
from bot.store import Account, HealthScore, ProcessedEvent, create_db_engine, init_db, read_session, write_session
from tests.handlers.slack.requests import MIKE, SARAH, SIGNING_SECRET, SignedClient
from tests.slack_api import BOT_TOKEN, SlackApiStandIn


def seed_accounts() -> list[Account]:
    """Sarah Chen's accounts (with her Slack ID) and Mike Ross's (with only his email), fresh for each store."""
    sarah = {"csm_owner": "Sarah Chen", "csm_slack_id": SARAH}
    return [
        Account(
            account_id="ACCT-4521",
            name="Acme Corp",
            csm_email="sarah.chen@example.com",
            segment="Mid-Market",
            arr=45_000,
            renewal_date=date(2027, 3, 31),
            **sarah,
        ),
        Account(account_id="ACCT-1001", name="TechFlow", segment="Enterprise", arr=85_000, **sarah),
        Account(account_id="ACCT-1002", name="MegaCorp", segment="Enterprise", arr=82_000, **sarah),
        # Mike's accounts carry his email but not his Slack ID: App Home finds him through users.info.
        Account(
            account_id="ACCT-2001",
            name="GlobalTech",
            csm_owner="Mike Ross",
            csm_email="Mike.Ross@example.com",
            segment="SMB",
            arr=38_000,
        ),
    ]


SCORED_ON = date(2026, 11, 16)


def seed_scores() -> list[HealthScore]:
    """A score for every seeded account: two red, one yellow, one green (answers about risk have something to say)."""
    scored = {
        "ACCT-4521": (45.0, "Red"),
        "ACCT-1001": (68.0, "Yellow"),
        "ACCT-1002": (38.0, "Red"),
        "ACCT-2001": (81.0, "Green"),
    }
    return [
        HealthScore(account_id=account_id, as_of=SCORED_ON, score=score, band=band, confidence=1)
        for account_id, (score, band) in scored.items()
    ]


@dataclass
class RunningBot:
    """The bot serving HTTP on an ephemeral port, the Slack stand-in it talks to, and its store."""

    client: SignedClient
    api: SlackApiStandIn
    engine: Engine
    settings: Settings
    url: str

    def processed_events(self) -> int:
        with read_session(self.engine) as session:
            return int(session.exec(select(func.count()).select_from(ProcessedEvent)).one())


@pytest.fixture
def slack_api() -> Iterator[SlackApiStandIn]:
    """Slack's Web API on loopback, with Sarah and Mike in the workspace."""
    with SlackApiStandIn() as api:
        api.add_user(SARAH, name="Sarah Chen", email="sarah.chen@example.com")
        api.add_user(MIKE, name="Mike Ross", email="mike.ross@example.com")
        yield api


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Engine]:
    """A SQLite store with Sarah's and Mike's accounts."""
    engine = create_db_engine(sqlite_url)
    init_db(engine)
    with write_session(engine) as session:
        session.add_all(seed_accounts())
    yield engine
    engine.dispose()


@pytest.fixture
def start_bot(slack_api: SlackApiStandIn, store: Engine, sqlite_url: str) -> Iterator[Callable[..., RunningBot]]:
    """Start the bot with settings overrides (e.g. `healthbot_allowed_users="U1,S1"`); stopped after the test."""
    servers: list[tuple[BaseWSGIServer, threading.Thread, Flask]] = []

    def start(**overrides: Any) -> RunningBot:
        settings = Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=slack_api.base_url,
            database_url=sqlite_url,
            **overrides,
        )
        app = create_wsgi_app(settings)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="healthbot-test-server", daemon=True
        )
        thread.start()
        servers.append((server, thread, app))
        slack_api.clear()  # auth.test at start-up is not what a test is about
        url = f"http://127.0.0.1:{server.port}"
        return RunningBot(SignedClient(url), slack_api, store, settings, url)

    yield start
    for server, thread, app in servers:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["healthbot.bolt"].listener_runner.listener_executor.shutdown(wait=True)
        app.extensions["healthbot.engine"].dispose()


@pytest.fixture
def bot(start_bot: Callable[..., RunningBot]) -> RunningBot:
    """The bot with default settings: everyone may ask."""
    return start_bot()


@pytest.fixture
def scored_bot(bot: RunningBot) -> RunningBot:
    """The bot over a store whose accounts are scored (`seed_scores`)."""
    with write_session(bot.engine) as session:
        session.add_all(seed_scores())
    return bot


@pytest.fixture
def demo_bot(start_bot: Callable[..., RunningBot]) -> RunningBot:
    """The bot over the sample portfolio, scored today with its history (the demo book: Acme Corp, Sarah Chen, …)."""
    from datetime import UTC, datetime

    from bot.sample import load_sample
    from bot.scoring_runs import score_and_store
    from scoring import load_model

    bot = start_bot()
    today = datetime.now(UTC).date()
    load_sample(bot.engine, today)
    score_and_store(bot.engine, load_model(None), as_of=today, history=True)
    return bot
