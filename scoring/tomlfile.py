"""Reading the small TOML files operators write (health models, playbooks, routing), with errors in their words."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Self


def read_toml(path: str | Path, *, setting: str, error: type[ValueError]) -> dict[str, Any]:
    """The parsed file, or `error` naming the setting that points at it and what is wrong."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise error(f"{setting} points at {path}, which does not exist") from err
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise error(f"{path} is not a readable TOML file: {err}") from err


class TomlTable:
    """Reads one TOML table, refusing wrong types and unknown keys with the key's full path.

    Subclasses set `error` to the file's own error type, so each file's mistakes keep their name.
    """

    error: ClassVar[type[ValueError]] = ValueError

    def __init__(self, data: object, path: str, where: str) -> None:
        if not isinstance(data, dict):
            raise self.error(f"{where}: {path} must be a table" if path else f"{where} must be a table")
        self.data = data
        self.path = path
        self.where = where

    def key(self, name: str) -> str:
        """The key's full path in the file, e.g. "dimensions.usage.weight"."""
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, problem: str) -> ValueError:
        """The error to raise for key `name`: where it is, and `problem` in words."""
        return self.error(f"{self.where}: {self.key(name)} {problem}")

    def get(self, name: str) -> Any:
        """The raw value, None when absent."""
        return self.data.get(name)

    def text(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        """Non-empty text, stripped."""
        value = self.get(name)
        if value is None:
            if required:
                raise self.fail(name, "is missing; it must be text")
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, f"must be non-empty text (got {value!r})")
        return value.strip()

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        """A number from `low` to `high` (true/false is not a number)."""
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise self.fail(name, f"must be a number from {low:g} to {high:g} (got {value!r})")
        return float(value)

    def strings(self, name: str) -> tuple[str, ...]:
        """A list of non-empty texts, stripped; () when absent."""
        value = self.get(name)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(name, f"must be a list of text (got {value!r})")
        return tuple(v.strip() for v in value)

    def tables(self, name: str) -> Iterator[tuple[str, Self]]:
        """The named entries of a table of tables ([signals.usage_drop], …)."""
        value = self.get(name)
        if value is None:
            return
        if not isinstance(value, dict):
            raise self.fail(name, "must be a table of named entries")
        for key, entry in value.items():
            yield key, type(self)(entry, f"{self.key(name)}.{key}", self.where)

    def allow(self, *allowed: str) -> None:
        """Refuse any key not in `allowed`, naming the allowed ones."""
        unknown = sorted(set(self.data) - set(allowed))
        if unknown:
            raise self.error(f"{self.where}: unknown key '{self.key(unknown[0])}'; allowed here: {', '.join(allowed)}")
