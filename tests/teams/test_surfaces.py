"""The same question on both surfaces carries the same figures; the app package validates against the schema."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from tests.teams.conftest import CLIENT_ID, SCHEMAS, RunningTeams, card_text, personal_message

FIGURES = re.compile(r"\$[\d.,]+[KM]?|\b\d+(?:\.\d+)?/100\b|[+−-]\d+(?:\.\d+)?\b|\b\d+%")


def figures(text: str) -> set[str]:
    return set(FIGURES.findall(text))


@pytest.mark.parametrize(
    "question",
    [
        "health Acme Corp",
        "portfolio Sarah Chen",
        "risks",
    ],
)
def test_the_same_question_carries_the_same_figures_in_teams_and_slack(teams: RunningTeams, question: str) -> None:
    result = CliRunner().invoke(cli, ["ask", question, "--json", "--db", teams.settings.database_url])
    assert result.exit_code == 0, result.output
    slack = json.loads(result.stdout)
    teams.post(personal_message(question, teams.api.service_url))
    [card] = teams.api.wait_for("create") and teams.api.cards()

    slack_figures, teams_figures = figures(json.dumps(slack, ensure_ascii=False)), figures(card_text(card))
    headline = figures(slack["text"])
    assert headline, slack["text"]  # the Slack fallback carries the answer's key figures…
    assert headline <= teams_figures  # …and every one of them is on the Teams card
    assert len(teams_figures & slack_figures) >= 0.6 * len(teams_figures)


@pytest.mark.parametrize(
    "question", ["which accounts are red?", "compare Acme Corp and TechFlow", "how is the health score calculated"]
)
def test_the_question_engines_answers_reach_teams_with_the_same_numbers(teams: RunningTeams, question: str) -> None:
    # A list, a comparison and the model explained: drawn from the same Briefing as in Slack, a list as a Table.
    result = CliRunner().invoke(cli, ["ask", question, "--json", "--db", teams.settings.database_url])
    assert result.exit_code == 0, result.output
    slack = json.loads(result.stdout)
    teams.post(personal_message(question, teams.api.service_url))
    [card] = teams.api.wait_for("create") and teams.api.cards()

    said = card_text(card)
    numbers = set(re.findall(r"\b\d+\b", slack["text"]))
    assert numbers and numbers <= set(re.findall(r"\b\d+\b", said)), (slack["text"], said[:500])
    assert "Sorry" not in said
    if question.startswith("which"):
        [table] = [element for element in card["body"] if element["type"] == "Table"]
        red = next(row for row in slack["blocks"] if row.get("type") == "table")["rows"][1:]
        assert len(table["rows"]) - 1 == len(red)  # every red account, one row each


def test_teams_manifest_writes_a_package_valid_against_the_published_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMS_CLIENT_ID", CLIENT_ID)
    out = tmp_path / "healthbot-teams.zip"
    result = CliRunner().invoke(cli, ["teams-manifest", "--out", str(out), "--website-url", "https://bot.example.com"])

    assert result.exit_code == 0, result.output
    archive = zipfile.ZipFile(out)
    assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(archive.read("manifest.json"))
    schema = json.loads((SCHEMAS / "MicrosoftTeams-1.29.schema.json").read_text())
    errors = [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(manifest)]
    assert not errors, errors
    assert manifest["manifestVersion"] == "1.29" and manifest["bots"][0]["botId"] == CLIENT_ID
    assert [c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]] == [
        "health",
        "portfolio",
        "risks",
        "help",
    ]
    for name, size in (("color.png", 192), ("outline.png", 32)):
        png = archive.read(name)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert (width, height) == (size, size)
    assert io.BytesIO(archive.read("outline.png")).read()[25] == 6  # RGBA: the outline is on transparent


def test_teams_manifest_without_a_client_id_says_what_to_set(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["teams-manifest", "--out", str(tmp_path / "x.zip")])
    assert result.exit_code == 2
    assert "TEAMS_CLIENT_ID" in result.output
    assert not (tmp_path / "x.zip").exists()


def test_serve_teams_without_credentials_refuses_to_start(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve-teams", "--port", "0"], env={"DATABASE_URL": f"sqlite:///{tmp_path}/h.db"})
    assert result.exit_code == 2
    assert "TEAMS_CLIENT_ID" in result.output and "--dev" in result.output


def test_serve_teams_dev_listens_on_loopback_and_says_requests_are_not_authenticated(
    teams_db: str, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.teams.conftest import free_port

    port = free_port()
    env = {**os.environ, "DATABASE_URL": teams_db}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "healthbot"), "serve-teams", "--dev", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, answer = time.monotonic() + 90, b""  # a busy machine starts the server slowly
        while time.monotonic() < deadline and not answer:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    answer = response.read()
            except OSError:
                time.sleep(0.2)
        assert answer == b'{"ok":true}'
    finally:
        server.terminate()
        out, err = server.communicate(timeout=15)
    assert "NOT authenticated" in " ".join(err.split()) and f"127.0.0.1:{port}" in " ".join((out + err).split())
