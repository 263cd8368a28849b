"""Reading the small TOML files operators point the bot at (playbooks, routing), with errors in their words."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def read_toml(path: str | Path, *, setting: str, error: type[ValueError]) -> dict[str, Any]:
    """The parsed file, or `error` naming the setting that points at it and what is wrong."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise error(f"{setting} points at {path}, which does not exist") from err
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise error(f"{path} is not a readable TOML file: {err}") from err
