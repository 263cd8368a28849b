"""Teams' own records in the store, on SQLite and on PostgreSQL: conversation references, who a Teams user is, the
exactly-once ledger through the surface-neutral seam, and permissions by Teams identity."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine

from bot.activity import AlertClick, act_on_alert
from bot.permissions import NotAllowed
from bot.settings import Settings
from bot.store import Account, HealthAlert, write_session
from bot.teams.conversations import Reference, display_names, personal_chats, remember, service_url_for


@pytest.fixture
def accounts(engine: Engine) -> Engine:
    with write_session(engine) as session:
        session.add(
            Account(
                account_id="ACCT-4521",
                name="Acme Corp",
                csm_owner="Sarah Chen",
                csm_slack_id="U0SARAH001",
                csm_email="Sarah.Chen@example.com",
            )
        )
    return engine


def test_a_personal_chat_names_its_csm_by_email_and_follows_teams_to_a_new_service_url(accounts: Engine) -> None:
    first = Reference(
        "a:1sarah",
        "https://smba.example/emea/",
        "personal",
        user_id="29:1sarah",
        aad_object_id="aad-sarah",
        user_name="Sarah Chen",
        email="SARAH.CHEN@example.com",
    )
    remember(accounts, first)
    remember(accounts, Reference("a:1sarah", "https://smba.example/amer/", "personal", user_id="29:1sarah"))

    chat = personal_chats(accounts)["Sarah Chen"]
    assert chat.service_url == "https://smba.example/amer/" and chat.email == "sarah.chen@example.com"
    assert display_names(accounts, ["aad-sarah", "U0SARAH001", "U0NOBODY01"]) == {
        "aad-sarah": "Sarah Chen",
        "U0SARAH001": "Sarah Chen",
    }
    assert service_url_for(accounts, "19:never-mentioned@thread.tacv2") == "https://smba.example/amer/"


def test_someone_not_on_any_book_is_kept_without_a_csm(accounts: Engine) -> None:
    remember(accounts, Reference("a:1guest", "https://smba.example/", "personal", email="guest@example.com"))
    assert personal_chats(accounts) == {}


@pytest.mark.parametrize(
    ("identities", "admins", "allowed"),
    [
        (frozenset({"aad-sarah", "sarah.chen@example.com"}), "", True),  # the CSM, by her email
        (frozenset({"aad-mike", "mike@example.com"}), "mike@example.com", True),  # an admin, by email
        (frozenset({"aad-mike", "mike@example.com"}), "aad-mike", True),  # an admin, by Entra object ID
        (frozenset({"aad-mike", "mike@example.com"}), "", False),
    ],
)
def test_teams_clicks_are_checked_like_slack_clicks(
    accounts: Engine, identities: frozenset[str], admins: str, allowed: bool
) -> None:
    with write_session(accounts) as session:
        alert = HealthAlert(
            account_id="ACCT-4521", condition="turned_red", severity="High", opened_on=date(2026, 11, 24), reasons=[]
        )
        session.add(alert)
        session.flush()
        alert_id = alert.id
    assert alert_id is not None
    click = AlertClick(
        alert_id=alert_id,
        user_id=min(identities),
        kind="acknowledge",
        dedupe_key="teams:k",
        at=datetime.now(UTC),
        identities=identities,
    )
    settings = Settings(healthbot_admins=admins)
    if allowed:
        assert act_on_alert(accounts, click, settings=settings).action is not None
    else:
        with pytest.raises(NotAllowed, match="Only Sarah Chen"):
            act_on_alert(accounts, click, settings=settings)
