"""The playbooks: the seeds' plays with their stages, steps and timings, read from one file.

The built-in file is scoring/playbooks.toml; HEALTHBOT_PLAYBOOKS points at an operator's own copy. The same
definitions feed the health card's recommended playbook, the recovery plan's stages and the checklists CSMs tick
(bot/playbooks.py), so what a CSM starts is what the plan showed.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from scoring.tomlfile import TomlTable, read_toml

MAX_STEPS = 10  # a Slack checkboxes element holds at most 10 options, and one stage is one element
_PLAYBOOK_KEYS = ("key", "name", "situation", "recommended_for", "stage")
_STAGE_KEYS = ("name", "timing", "ends_after_days", "steps")


class PlaybookFileError(ValueError):
    """The playbooks file is missing, unreadable or malformed; the message names the file, the key and what is
    allowed."""


class _Table(TomlTable):
    error = PlaybookFileError


@dataclass(frozen=True)
class Stage:
    """One stage of a playbook: its steps, and when they are due counted from the start."""

    name: str
    timing: str  # as people say it: "Hours 0–24"
    ends_after_days: float  # when the steps are due, in days from the start (1 = the first 24 hours)
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Playbook:
    """A named play: what to do, in which order, by when, and the alerts or bands it is recommended for."""

    key: str  # stored with every run: rename `name`, never `key`
    name: str
    situation: str
    recommended_for: frozenset[str]  # alert conditions or band names, lower-case
    stages: tuple[Stage, ...]

    @property
    def step_keys(self) -> list[str]:
        """Every step's key, "1.1" … in checklist order."""
        return [f"{i}.{j}" for i, stage in enumerate(self.stages, 1) for j in range(1, len(stage.steps) + 1)]

    def step_text(self, key: str) -> str:
        """The words of step "2.3"."""
        stage, step = (int(part) for part in key.split("."))
        return self.stages[stage - 1].steps[step - 1]


def load_playbooks(path: str | Path | None = None) -> dict[str, Playbook]:
    """Read the playbooks file (the built-in one when `path` is None), keyed by playbook key, in file order.

    Raises:
        PlaybookFileError: the file is missing or malformed; the message names the file, the key and what is
            allowed.
    """
    if path is None:
        return dict(_builtin_playbooks())
    raw = read_toml(path, setting="HEALTHBOT_PLAYBOOKS", error=PlaybookFileError)
    return _parse(raw, source=f"playbooks file {path}")


@cache
def _builtin_playbooks() -> tuple[tuple[str, Playbook], ...]:
    text = resources.files("scoring").joinpath("playbooks.toml").read_text(encoding="utf-8")
    return tuple(_parse(tomllib.loads(text), source="the built-in playbooks file").items())


def _parse(raw: Mapping[str, Any], *, source: str) -> dict[str, Playbook]:
    # The first mistake is raised, named as an operator finds it: "playbooks file x.toml, playbook 2 (onboarding),
    # stage 1: ends_after_days must be a number from 0 to 3650 (got 'soon')".
    top = _Table(dict(raw), "", source)
    top.allow("playbook")
    entries = top.get("playbook")
    if not isinstance(entries, list) or not entries:
        raise top.fail(
            "playbook", "is missing; write one [[playbook]] table per playbook, each with key, name and stages"
        )
    playbooks: dict[str, Playbook] = {}
    for number, entry in enumerate(entries, 1):
        playbook = _playbook(_Table(entry, "", f"{source}, playbook {number}"), taken=playbooks.keys())
        playbooks[playbook.key] = playbook
    return playbooks


def _playbook(t: _Table, *, taken: Collection[str]) -> Playbook:
    t.allow(*_PLAYBOOK_KEYS)
    key = t.text("key", required=True) or ""
    if key in taken:
        raise t.fail("key", f"'{key}' is already used by an earlier playbook; every playbook needs its own key")
    t.where = f"{t.where} ({key})"
    raw_stages = t.get("stage")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise t.fail(
            "stage",
            "is missing; give the playbook one or more [[playbook.stage]] tables with name, timing, "
            "ends_after_days and steps",
        )
    stages = tuple(_stage(_Table(s, "", f"{t.where}, stage {i}")) for i, s in enumerate(raw_stages, 1))
    for i, (before, stage) in enumerate(itertools.pairwise(stages), 2):
        if stage.ends_after_days < before.ends_after_days:
            raise PlaybookFileError(
                f"{t.where}, stage {i}: ends_after_days is {stage.ends_after_days:g}, earlier than the stage "
                f"before ({before.ends_after_days:g}); stages run in order, so each ends no earlier than the last"
            )
    return Playbook(
        key=key,
        name=t.text("name", required=True) or key,
        situation=t.text("situation", default="") or "",
        recommended_for=frozenset(reason.lower() for reason in t.strings("recommended_for")),
        stages=stages,
    )


def _stage(t: _Table) -> Stage:
    t.allow(*_STAGE_KEYS)
    if t.get("ends_after_days") is None:
        raise t.fail("ends_after_days", "is missing; it is when the steps are due, in days from the start (1 = 24 h)")
    steps = t.strings("steps")
    if not 1 <= len(steps) <= MAX_STEPS:
        raise t.fail("steps", f"must list 1 to {MAX_STEPS} steps (a Slack checklist shows at most {MAX_STEPS})")
    return Stage(
        name=t.text("name", required=True) or "",
        timing=t.text("timing", default="") or "",
        ends_after_days=t.number("ends_after_days", 0, low=0, high=3650),
        steps=steps,
    )


def recommended_playbook(playbooks: Mapping[str, Playbook], *, reasons: Iterable[str]) -> Playbook | None:
    """The first playbook (in file order) recommended for any of `reasons`: alert conditions or band names."""
    wanted = {reason.lower() for reason in reasons}
    return next((p for p in playbooks.values() if p.recommended_for & wanted), None)


def find_playbook(playbooks: Mapping[str, Playbook], text: str) -> Playbook | None:
    """A playbook by key or by name, as a person might type it ("red account recovery")."""
    wanted = text.strip().lower().replace("_", " ")
    return next((p for p in playbooks.values() if wanted in (p.key.replace("_", " "), p.name.lower())), None)
