"""`healthbot digest` and `healthbot alerts` from a terminal: dry runs print, real runs post once, mistakes are
named with what to do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.cli import app
from bot.store import Account, HealthScore, create_db_engine, init_db, write_session
from tests.slack_api import BOT_TOKEN, SlackApiStandIn

SARAH, TEAM = "U0SARAH001", "C0CSTEAM01"
TODAY = date.today()  # `healthbot alerts` scans the latest scores up to today
DAY = TODAY.isoformat()


@pytest.fixture
def store(sqlite_url: str) -> Iterator[str]:
    """Acme Corp turned red today; Priya's account has nobody to send her digest to."""
    engine: Engine = create_db_engine(sqlite_url)
    init_db(engine)
    with write_session(engine) as session:
        session.add(Account(account_id="A1", name="Acme Corp", csm_owner="Sarah Chen", csm_slack_id=SARAH, arr=45_000))
        session.add(Account(account_id="A2", name="Initech", csm_owner="Priya Patel", arr=20_000))
        session.flush()
        for account_id, before, now in (("A1", (65, "Yellow"), (45, "Red")), ("A2", (70, "Yellow"), (71, "Yellow"))):
            for day, (score, band) in ((TODAY - timedelta(days=1), before), (TODAY, now)):
                session.add(HealthScore(account_id=account_id, as_of=day, score=score, band=band, confidence=1))
    engine.dispose()
    yield sqlite_url


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackApiStandIn]:
    with SlackApiStandIn() as api:
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("SLACK_API_URL", api.base_url)
        monkeypatch.setenv("HEALTHBOT_DIGEST_CHANNEL", TEAM)
        yield api


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_digest_dry_run_prints_every_digest_and_posts_nothing(store: str, slack: SlackApiStandIn) -> None:
    code, output = run("digest", "--dry-run", "--date", DAY, "--db", store)
    assert code == 0, output
    assert "Early-warning digest · Sarah Chen" in output and "Acme Corp" in output
    assert "to nobody (unreachable)" in output and "Could not reach by DM: Priya Patel" in output
    assert slack.calls == []


def test_digest_posts_once_per_day_and_says_so(store: str, slack: SlackApiStandIn) -> None:
    code, output = run("digest", "--date", DAY, "--db", store)
    assert code == 0 and f"2 digests posted for {TODAY:%-d %b %Y}" in output
    assert "could not reach Priya Patel" in output
    code, output = run("digest", "--date", DAY, "--db", store)
    assert code == 0 and "0 digests posted" in output and "2 already posted earlier" in output
    assert len(slack.sent("chat.postMessage")) == 2


def test_digest_for_a_day_without_scores_says_what_to_run(store: str) -> None:
    code, output = run("digest", "--dry-run", "--date", "2026-01-05", "--db", store)
    assert code == 1 and "healthbot score --as-of 2026-01-05" in output


def test_digest_without_a_token_says_how_to_fix_it(store: str) -> None:
    code, output = run("digest", "--date", DAY, "--db", store)
    assert code == 2 and "SLACK_BOT_TOKEN is not set" in output and "--dry-run" in output


def test_alerts_dry_run_then_a_real_run_posts_each_alert_once(
    store: str, slack: SlackApiStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEALTHBOT_TIMEZONE", "UTC")
    code, output = run("alerts", "--dry-run", "--db", store)
    assert code == 0 and "Acme Corp" in output and "1 alert would be opened" in output
    assert slack.calls == []

    code, output = run("alerts", "--db", store)
    assert code == 0 and "1 new alert, 2 messages posted" in output  # Sarah's DM and the team channel
    code, output = run("alerts", "--db", store)
    assert code == 0 and "0 new alerts, 0 messages posted" in output
    assert {c.params["channel"] for c in slack.sent("chat.postMessage")} == {SARAH, TEAM}


def test_a_broken_routing_file_is_named(store: str, slack: SlackApiStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTHBOT_ROUTING", "missing-routing.toml")
    code, output = run("digest", "--date", DAY, "--db", store)
    assert code == 2 and "Routing file problem" in output and "missing-routing.toml" in output
