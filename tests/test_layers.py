"""The core (bot/ minus the surfaces, the CLI and the scheduler) knows no surface: it builds views and state, and
Slack or Teams renders and delivers them. A core module importing a surface's SDK or package fails here."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]
SURFACE_ONLY = ("slack_sdk", "slack_bolt", "messages.blockkit", "bot.slack", "bot.teams", "handlers")
WIRING = {ROOT / "bot" / "cli.py", ROOT / "bot" / "scheduler.py"}


def core_modules() -> list[Path]:
    surfaces = (ROOT / "bot" / "slack", ROOT / "bot" / "teams")
    return sorted(
        path
        for path in (ROOT / "bot").rglob("*.py")
        if path not in WIRING and not any(path.is_relative_to(surface) for surface in surfaces)
    )


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_core_module_imports_a_surface() -> None:
    modules = core_modules()
    assert ROOT / "bot" / "digests.py" in modules and ROOT / "bot" / "ledger.py" in modules  # the walk found the core
    offending = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imported(path) if any(name == s or name.startswith(f"{s}.") for s in SURFACE_ONLY)
        )
        for path in modules
    }
    assert {path: names for path, names in offending.items() if names} == {}


def test_the_check_catches_a_surface_import(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text("def f() -> None:\n    from bot.slack.delivery import SlackPoster\n", encoding="utf-8")
    assert "bot.slack.delivery" in imported(module)
