"""Routing: the routing file, CSMs reached by Slack ID or a cached email lookup, and each person's alert scope."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.routing import (
    RoutingFileError,
    alert_preference,
    csm_routes,
    load_routing,
    set_alert_preference,
    watchers,
)
from bot.slack.people import SlackPeople
from bot.store import Account, SlackUserCache, write_session

SARAH, MIKE, PRIYA = "U0SARAH001", "U0MIKE0001", "U0PRIYA001"


def test_routing_file_sends_csms_and_segments_to_channels(tmp_path: Path) -> None:
    path = tmp_path / "routing.toml"
    path.write_text('[csm]\n"Sarah Chen" = "C0SARAH001"\n[segment]\nEnterprise = "C0ENTERPRISE"\n', encoding="utf-8")
    routing = load_routing(path)
    assert routing.csm_channel("sarah chen") == "C0SARAH001" and routing.csm_channel("Mike Ross") is None
    assert routing.segment_channel("Enterprise") == "C0ENTERPRISE" and routing.segment_channel(None) is None
    assert load_routing(None).csm_channels == {}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[csm]\n"Sarah Chen" = "#sarah"\n', "should be a channel ID"),
        ('[people]\n"Sarah Chen" = "C0SARAH001"\n', r"only \[csm\] and \[segment\]"),
        ("[csm\n", "not a readable TOML file"),
    ],
)
def test_routing_file_mistakes_are_named(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "routing.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RoutingFileError, match=said):
        load_routing(path)


@pytest.fixture
def book(engine: Engine) -> None:
    with write_session(engine) as session:
        session.add(Account(account_id="A1", name="Acme Corp", csm_owner="Sarah Chen", csm_slack_id=SARAH))
        mike = Account(account_id="A2", name="GlobalTech", csm_owner="Mike Ross", csm_email="Mike@Example.com")
        session.add(mike.model_copy(update={"segment": "SMB"}))
        session.add(Account(account_id="A3", name="Initech", csm_owner="Priya Patel", segment="Enterprise"))
        session.add(
            Account(account_id="A4", name="Hooli", csm_owner="Dana Lee", csm_slack_id=PRIYA, segment="Enterprise")
        )


def test_csms_are_reached_by_id_then_by_cached_email_else_reported(engine: Engine, book: None, tmp_path: Path) -> None:
    with write_session(engine) as session:
        session.add(SlackUserCache(email="mike@example.com", user_id=MIKE, checked_at=datetime.now(UTC)))
    path = tmp_path / "routing.toml"
    path.write_text('[csm]\n"Dana Lee" = "C0DANA0001"\n', encoding="utf-8")

    routes = csm_routes(engine, SlackPeople(client=None, engine=engine), load_routing(path))
    assert routes["Sarah Chen"].destination == SARAH
    assert routes["Mike Ross"].destination == MIKE  # from the email, without asking Slack again
    assert routes["Priya Patel"].destination is None  # no ID, no email: the team digest names her
    assert routes["Dana Lee"].destination == "C0DANA0001" and routes["Dana Lee"].slack_id == PRIYA


def test_alert_scope_decides_who_else_gets_an_alert(engine: Engine, book: None) -> None:
    enterprise = Account(account_id="A3", name="Initech", csm_owner="Priya Patel", segment="Enterprise")
    assert alert_preference(engine, SARAH).scope == "mine"
    assert watchers(engine, account=enterprise, severity="High", csm_slack_id=None) == []

    set_alert_preference(engine, user_id=SARAH, scope="all", severities=["High", "Critical"])
    set_alert_preference(engine, user_id=PRIYA, scope="segment")  # Priya owns Hooli, an Enterprise account
    set_alert_preference(engine, user_id=MIKE, scope="segment")  # Mike's accounts are SMB
    assert sorted(watchers(engine, account=enterprise, severity="High", csm_slack_id=None)) == [PRIYA, SARAH]
    assert watchers(engine, account=enterprise, severity="Medium", csm_slack_id=None) == [PRIYA]
    assert alert_preference(engine, SARAH).severities == "Critical,High"

    set_alert_preference(engine, user_id=PRIYA, severities=["Low"])  # her own accounts' High alerts: turned off
    assert watchers(engine, account=enterprise, severity="High", csm_slack_id=PRIYA) == [SARAH]
    assert alert_preference(engine, PRIYA).scope == "segment"
