"""Serving details a Teams admin relies on: /healthz, dev mode on loopback, files handed over by link, and sends
that survive throttling and gateway errors."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app as cli
from bot.ledger import NotPosted
from bot.teams.app import sdk_app
from bot.teams.outbox import TeamsOutbox
from messages.adaptive import card, text
from tests.teams.conftest import SARAH_CHAT, RunningTeams, assert_valid_card, card_text, personal_message


def test_healthz_answers_when_the_store_does(teams: RunningTeams) -> None:
    assert teams.get("/healthz") == (200, b'{"ok":true}')
    assert teams.bot.host == "127.0.0.1"  # the tests' app listens on loopback only


def test_an_export_is_handed_over_as_a_short_lived_download_link(
    start_teams: Callable[..., RunningTeams], tmp_path: Path
) -> None:
    teams = start_teams(teams_public_url="http://127.0.0.1:1")  # the link's host; the test fetches the path
    teams.post(personal_message("export csv", teams.api.service_url))
    [answer] = teams.api.wait_for("create") and teams.api.cards()

    assert_valid_card(answer)
    [download] = answer["actions"]
    assert download["type"] == "Action.OpenUrl" and download["url"].startswith("http://127.0.0.1:1/files/")
    status, body = teams.get(download["url"].removeprefix("http://127.0.0.1:1"))
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    report = tmp_path / "report.csv"
    result = CliRunner().invoke(
        cli, ["export", "--format", "csv", "-o", str(report), "--db", teams.settings.database_url]
    )
    assert result.exit_code == 0, result.output
    assert rows == list(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8-sig"))))  # the same report
    assert "Acme Corp" in {row["Account Name"] for row in rows}
    assert teams.get("/files/not-a-token/report.csv")[0] == 404


def test_the_trend_chart_is_a_link_when_the_bot_has_a_public_url(start_teams: Callable[..., RunningTeams]) -> None:
    teams = start_teams(teams_public_url="http://127.0.0.1:1")
    teams.post(personal_message("Which health trends should worry us most this quarter?", teams.api.service_url))
    [answer] = teams.api.wait_for("create") and teams.api.cards()

    [image] = [e for e in answer["body"] if e.get("type") == "Image"]
    status, png = teams.get(image["url"].removeprefix("http://127.0.0.1:1"))
    assert status == 200 and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "trends" in card_text(answer).lower()


def test_dev_mode_answers_without_a_token_on_loopback(start_teams: Callable[..., RunningTeams]) -> None:
    teams = start_teams(teams_client_id=None, teams_client_secret=None, teams_tenant_id=None, dev=True)
    status, _ = teams.post(personal_message("help", teams.api.service_url), token=None)

    assert status == 200
    [answer] = teams.api.wait_for("create") and teams.api.cards()
    assert_valid_card(answer)
    assert teams.bot.host == "127.0.0.1"


def test_sends_wait_out_429_and_retry_gateway_errors_then_give_up_clearly(teams: RunningTeams) -> None:
    outbox = TeamsOutbox(teams.bot.sdk.api)
    hello = card([text("hello")], fallback="hello")
    teams.api.fail("create", status=429, retry_after=1)
    teams.api.fail("create", status=502)

    sent = asyncio.run(outbox.send(service_url=teams.api.service_url, conversation_id=SARAH_CHAT, card=hello))

    statuses = [c.status for c in teams.api.calls("create")]
    assert statuses == [429, 502, 201] and sent.startswith("activity-")
    teams.api.fail("create", status=403)
    try:
        asyncio.run(outbox.send(service_url=teams.api.service_url, conversation_id=SARAH_CHAT, card=hello))
    except NotPosted as err:
        assert "403" in str(err)
    else:
        raise AssertionError("a 403 must not be reported as sent")
    assert [c.status for c in teams.api.calls("create")][-1] == 403


def test_a_bot_that_cannot_get_its_own_token_fails_the_send_clearly(teams: RunningTeams) -> None:
    def entra_refuses(scope: str, tenant: str | None = None) -> str:
        raise ValueError("AADSTS7000215: Invalid client secret provided")

    outbox = TeamsOutbox(sdk_app(teams.settings, token=entra_refuses).api)
    hello = card([text("hello")], fallback="hello")
    try:
        asyncio.run(outbox.send(service_url=teams.api.service_url, conversation_id=SARAH_CHAT, card=hello))
    except NotPosted as err:
        assert "Invalid client secret" in str(err)
    else:
        raise AssertionError("a send without a token must not be reported as sent")
    assert teams.api.calls("create") == []
