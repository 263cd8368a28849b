"""The direction of every import, read from the folder names: one core, several surfaces.

    scoring/         pure pandas; imports nothing of ours
    messages/        view models and renderers; may read scoring, never the store or a surface
    bot/store/       tables and sessions; imports nothing of ours outside itself
    bot/ (the core)  the product's verbs; never imports a surface, a surface's SDK or a surface's renderer
    bot/slack/, handlers/slack/   the Slack surface: the core plus Slack, never Teams
    bot/teams/, handlers/teams/   the Teams surface: the core plus Teams, never Slack
    bot/cli.py, bot/scheduler.py  the wiring that starts a surface; may import anything

The test reads the source with `ast`, so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "scoring", "messages", "handlers")

SLACK = ("bot.slack", "handlers.slack", "slack_sdk", "slack_bolt", "messages.blockkit")
TEAMS = ("bot.teams", "handlers.teams", "microsoft", "messages.adaptive")
WIRING = ("bot.cli", "bot.scheduler")


@dataclass(frozen=True)
class Rule:
    """Modules under `room` (but not under `exempt`) may not import any module under `forbidden` (prefixes), except
    those under `allowed`."""

    room: str
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()
    why: str = ""


RULES = (
    Rule("scoring", ("bot", "handlers", "messages", *SLACK, *TEAMS), why="scoring is pure pandas"),
    Rule("messages", ("bot", "handlers", "slack_sdk", "slack_bolt", "microsoft"), why="views know no store"),
    Rule("bot.store", ("bot", "handlers", "messages", "scoring"), allowed=("bot.store",), why="tables come first"),
    Rule("bot", ("handlers", *SLACK, *TEAMS), exempt=("bot.slack", "bot.teams", *WIRING), why="the core"),
    Rule("bot.slack", TEAMS, why="Slack never imports Teams"),
    Rule("handlers.slack", (*TEAMS, "bot.slack.app", "bot.slack.server"), why="listeners don't start the app"),
    Rule("bot.teams", SLACK, why="Teams never imports Slack"),
    Rule("handlers.teams", SLACK, why="Teams never imports Slack"),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every absolute module a file imports, with `from a import b` also counted as `a.b` (b may be a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def our_modules() -> dict[str, set[str]]:
    return {
        module_name(path): imports_of(path) for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
    }


def violations(rule: Rule, modules: dict[str, set[str]]) -> list[str]:
    found = []
    for module, imported in modules.items():
        if not within(module, rule.room) or any(within(module, e) for e in rule.exempt):
            continue
        for name in sorted(imported):
            if any(within(name, bad) for bad in rule.forbidden) and not any(within(name, a) for a in rule.allowed):
                found.append(f"{module} imports {name}")
    return found


def test_the_source_is_read() -> None:
    modules = our_modules()
    assert {"bot.cli", "scoring.score", "messages.views", "handlers.slack.replies"} <= modules.keys()
    assert "bot.slack.app" in modules["bot.slack.server"]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.room)
def test_imports_run_one_way(rule: Rule) -> None:
    modules = our_modules()
    assert any(within(module, rule.room) for module in modules) or rule.room.endswith("teams")
    assert not violations(rule, modules), f"{rule.why}: " + "; ".join(violations(rule, modules))


def test_the_rules_catch_a_core_module_that_reaches_for_slack(tmp_path: Path) -> None:
    # The checker itself: a core module importing slack_sdk or a Slack listener is a violation; the wiring is not.
    modules = {
        "bot.answers": {"slack_sdk", "bot.store"},
        "bot.digests": {"handlers.slack.replies"},
        "bot.cli": {"bot.slack.server"},
        "scoring.score": {"pandas"},
    }
    [core] = [rule for rule in RULES if rule.room == "bot"]
    assert violations(core, modules) == ["bot.answers imports slack_sdk", "bot.digests imports handlers.slack.replies"]
