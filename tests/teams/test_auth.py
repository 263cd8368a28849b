"""With credentials, every request without a valid Bot Framework token is refused with 401 and changes nothing."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import func, select

from bot.settings import Settings, SettingsError
from bot.store import TeamsConversation, create_db_engine, read_session
from bot.teams.app import create_teams_app
from tests.teams.conftest import CLIENT_ID, RunningTeams, personal_message
from tests.teams.teams_api import ISSUER, KEY_ID


def conversations(teams: RunningTeams) -> int:
    with read_session(teams.engine) as session:
        return int(session.exec(select(func.count()).select_from(TeamsConversation)).one())


def forged(teams: RunningTeams) -> str:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(teams.api.sign(audience=CLIENT_ID), options={"verify_signature": False})
    return jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": KEY_ID})


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda t: None, id="unsigned: no Authorization header"),
        pytest.param(lambda t: "not-a-jwt", id="garbage"),
        pytest.param(forged, id="forged: signed with another key"),
        pytest.param(lambda t: t.api.sign(audience=CLIENT_ID, expires_in=-3600), id="expired an hour ago"),
        pytest.param(lambda t: t.api.sign(audience="another-bot"), id="another bot's audience"),
        pytest.param(lambda t: t.api.sign(audience=CLIENT_ID, iss="https://evil.example"), id="wrong issuer"),
        pytest.param(
            lambda t: t.api.sign(audience=CLIENT_ID, service_url="https://evil.example/"), id="other serviceurl"
        ),
        pytest.param(
            lambda t: jwt.encode(
                {"iss": ISSUER, "aud": CLIENT_ID}, "a-shared-secret-of-32-bytes-long", algorithm="HS256"
            ),
            id="HS256 token",
        ),
    ],
)
def test_bad_tokens_get_401_and_nothing_happens(teams: RunningTeams, token: object) -> None:
    status, _ = teams.post(personal_message("health Acme Corp", teams.api.service_url), token=token(teams))  # type: ignore[operator]

    assert status == 401
    assert teams.api.calls("create") == [] and teams.api.calls("member") == []
    assert conversations(teams) == 0


def test_a_valid_token_is_accepted(teams: RunningTeams) -> None:
    assert teams.post(personal_message("help", teams.api.service_url))[0] == 200
    teams.api.wait_for("create")
    assert conversations(teams) == 1


def test_without_credentials_it_refuses_to_start_unless_dev(teams_db: str) -> None:
    engine = create_db_engine(teams_db)
    with pytest.raises(SettingsError, match="TEAMS_CLIENT_SECRET, TEAMS_TENANT_ID not set"):
        create_teams_app(Settings(database_url=teams_db, teams_client_id=CLIENT_ID), engine=engine)
    dev = create_teams_app(Settings(database_url=teams_db), engine=engine, dev=True, host="0.0.0.0")
    assert dev.host == "127.0.0.1"  # --dev listens on loopback whatever it is asked
    deployed = create_teams_app(
        Settings(database_url=teams_db, teams_client_id=CLIENT_ID, teams_client_secret="s", teams_tenant_id="t"),
        engine=engine,
    )
    assert deployed.host == "0.0.0.0"
    engine.dispose()
