"""The command line lists every command of CONTRACT.md and says plainly what is not built yet."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli import app

CONTRACT_COMMANDS = [
    "demo",
    "import",
    "score",
    "ask",
    "digest",
    "alerts",
    "export",
    "backtest",
    "serve",
    "scheduler",
    "manifest",
]


def test_help_lists_every_contract_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in CONTRACT_COMMANDS:
        assert command in result.output


@pytest.mark.parametrize("command", CONTRACT_COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_bad_setting_is_named_in_plain_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTHBOT_TIMEZONE", "Mars/Olympus")
    result = CliRunner().invoke(app, ["score"])
    assert result.exit_code == 2
    assert "HEALTHBOT_TIMEZONE" in result.output and "Mars/Olympus" in result.output
