"""The words a question can name, read from the store: accounts, CSMs, segments, regions, industries, plan tiers
and lifecycle stages, with the aliases CS people type ("EMEA", "mid-market", "fintech", "health care").

Read once per store and kept for a minute: at 100,000 accounts one read costs 1.5 s of CPU, a question must not.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Engine

from bot.scoring_runs import ACCOUNTS

logger = logging.getLogger(__name__)
_TTL_SECONDS = 60.0
SCOPE_KINDS = ("segment", "region", "industry", "plan_tier", "lifecycle")
SCOPE_COLUMNS = {
    "segment": "segment",
    "region": "region",
    "industry": "industry",
    "plan_tier": "plan_tier",
    "lifecycle": "lifecycle_stage",
}
SCOPE_LABELS = {
    "segment": "segment",
    "region": "region",
    "industry": "industry",
    "plan_tier": "plan tier",
    "lifecycle": "lifecycle stage",
}

# Aliases people type for values that may be in the store; each maps to the canonical words it stands for, and is
# used only when that value exists.
_ALIASES: dict[str, tuple[str, ...]] = {
    "mid market": ("mid-market", "midmarket"),
    "midmarket": ("mid-market",),
    "mm": ("mid-market",),
    "smb": ("smb",),
    "small business": ("smb",),
    "small businesses": ("smb",),
    "small and medium business": ("smb",),
    "ent": ("enterprise",),
    "enterprises": ("enterprise",),
    "emea": ("emea",),
    "europe": ("emea",),
    "european": ("emea",),
    "apac": ("apac",),
    "asia pacific": ("apac",),
    "asia-pacific": ("apac",),
    "asia": ("apac",),
    "na": ("north america",),
    "north american": ("north america",),
    "namer": ("north america",),
    "latam": ("latam",),
    "latin america": ("latam",),
    "south america": ("latam",),
    "health care": ("healthcare",),
    "medical": ("healthcare",),
    "fintech": ("financial services", "fintech"),
    "finance": ("financial services",),
    "financial": ("financial services",),
    "banking": ("financial services",),
    "finserv": ("financial services",),
    "fin services": ("financial services",),
    "fin serv": ("financial services",),
    "financial svcs": ("financial services",),
    "banks": ("financial services",),
    "hospitals": ("healthcare",),
    "schools": ("education",),
    "retailers": ("retail",),
    "manufacturers": ("manufacturing",),
    "americas": ("north america",),
    "saas": ("software",),
    "tech": ("software",),
    "edtech": ("education",),
    "pro": ("professional",),
    "biz": ("business",),
    "onboarding": ("onboarding",),
    "adopting": ("adoption",),
}


_NOT_WORD = re.compile(r"[^\w&]+")


def fold(text: str) -> str:
    """Lower case, `&` kept, every other run of punctuation or space as one space."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def squash(text: str) -> str:
    """Folded, without spaces: "Data Max" and "DataMax" meet here."""
    return fold(text).replace(" ", "")


@dataclass(frozen=True)
class Csm:
    """A CSM who owns accounts: the name as in the accounts file, and their Slack user when known."""

    name: str
    slack_id: str | None


@dataclass
class Vocabulary:
    """Everything a question may name, indexed for matching."""

    # The IDs are tuples, not lists: tuples of strings drop out of the garbage collector's view, so its full passes
    # (every few dozen questions) walk 100,000 fewer containers and stop costing a question 100–200 ms.
    account_names: dict[str, tuple[str, ...]]  # folded name -> account IDs (current customers)
    account_ids: dict[str, str]  # folded ID -> ID
    names_by_id: dict[str, str]
    churned: dict[str, tuple[str, date]]  # folded name -> (ID, churned on), former customers only
    csms: list[Csm]
    scopes: dict[str, list[str]]  # kind -> values in the store
    first_words: dict[str, tuple[str, ...]] = field(default_factory=dict)  # a name's first word -> IDs
    squashed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # squashed name -> IDs
    max_name_words: int = 1

    def scope_lookup(self) -> dict[str, tuple[str, str]]:
        """Folded phrase -> (scope kind, value as stored), values first, then aliases of values that exist."""
        lookup: dict[str, tuple[str, str]] = {}
        for kind in SCOPE_KINDS:
            for value in self.scopes.get(kind, []):
                lookup.setdefault(fold(value), (kind, value))
        for alias, meant in _ALIASES.items():
            for canonical in meant:
                if fold(canonical) in lookup and alias not in lookup:
                    lookup[alias] = lookup[fold(canonical)]
                    break
        return lookup

    def csm_by_slack_id(self, slack_id: str) -> Csm | None:
        return next((c for c in self.csms if c.slack_id == slack_id), None)


_COLUMNS = [ACCOUNTS.c.account_id, ACCOUNTS.c.name, ACCOUNTS.c.churned_on, ACCOUNTS.c.csm_owner]
_COLUMNS += [ACCOUNTS.c.csm_slack_id, *(ACCOUNTS.c[c] for c in SCOPE_COLUMNS.values())]


def _read(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(*_COLUMNS)).all())


def _fingerprint(engine: Engine) -> bytes:
    """A digest of every value the vocabulary is built from, worked out by the database in one statement.

    Reading 100,000 rows into Python hands the interpreter back and forth once a row with the thread answering a
    question, which then took three times as long and waited up to a second at the end; one statement keeps the
    interpreter free while the database works (0.3 s on SQLite). Each value is quoted, so NULL, '' and a comma in a
    name cannot be mistaken for one another."""
    if engine.dialect.name == "sqlite":
        line: Any = func.quote(_COLUMNS[0])
        for column in _COLUMNS[1:]:
            line = line.concat(",").concat(func.quote(column))
        query = select(func.group_concat(line, ";"))
    else:
        line = func.concat_ws(",", *(func.quote_nullable(column) for column in _COLUMNS))
        in_order: Any = aggregate_order_by(literal_column("';'"), ACCOUNTS.c.account_id)
        query = select(func.md5(func.string_agg(line, in_order)))
    with engine.connect() as connection:
        text = connection.execute(query).scalar() or ""
    return hashlib.blake2b(str(text).encode()).digest()


def _build(rows: list[Any]) -> Vocabulary:
    names: dict[str, list[str]] = {}
    ids: dict[str, str] = {}
    by_id: dict[str, str] = {}
    churned: dict[str, tuple[str, date]] = {}
    first: dict[str, list[str]] = {}
    squashed: dict[str, list[str]] = {}
    owners: dict[str, str | None] = {}
    scopes: dict[str, set[str]] = {kind: set() for kind in SCOPE_KINDS}
    longest = 1
    scope_kinds = list(SCOPE_COLUMNS)
    # A plain loop over plain tuples: at 100,000 accounts this runs once a minute beside the questions, on the
    # same interpreter, so every attribute look-up and regex-cache look-up per row is felt by them.
    for account_id, name, churned_on, csm_owner, csm_slack_id, *scope_values in rows:
        folded = fold(name)
        by_id[account_id] = name
        if churned_on is not None:
            on = churned_on if isinstance(churned_on, date) else date.fromisoformat(str(churned_on))
            churned[folded] = (account_id, on)
            continue
        names.setdefault(folded, []).append(account_id)
        squashed.setdefault(folded.replace(" ", ""), []).append(account_id)
        ids[account_id.casefold()] = account_id
        words = folded.split()
        longest = max(longest, len(words))
        if words:
            first.setdefault(words[0], []).append(account_id)
        if csm_owner and owners.get(csm_owner) is None:
            owners[csm_owner] = csm_slack_id
        for kind, value in zip(scope_kinds, scope_values, strict=True):
            if value:
                scopes[kind].add(str(value))
    return Vocabulary(
        account_names=_frozen(names),
        account_ids=ids,
        names_by_id=by_id,
        churned=churned,
        csms=[Csm(name, slack_id) for name, slack_id in sorted(owners.items())],
        scopes={kind: sorted(values) for kind, values in scopes.items()},
        first_words=_frozen(first),
        squashed=_frozen(squashed),
        max_name_words=min(longest, 6),
    )


def _frozen(lists: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(values) for key, values in lists.items()}


# store -> (read at, vocabulary, the fingerprint of the accounts it was built from)
_CACHE: dict[str, tuple[float, Vocabulary, bytes]] = {}
_REFRESHING: set[str] = set()
_FIRST_READS: dict[str, threading.Lock] = {}
_LOCK = threading.Lock()


def vocabulary(engine: Engine, *, fresh: bool = False, max_age: float = _TTL_SECONDS) -> Vocabulary:
    """The store's vocabulary. Read once per database; once it is `max_age` seconds old (a minute) the next question
    still gets the one in hand while the store is looked at again in the background, so no question waits for a
    re-read (at 100,000 accounts: 0.3 s in the database, then 1.7 s of CPU only when the accounts changed). `fresh`
    reads it now (after an import, in tests).

    Only the first read of a store is waited for; questions that arrive while it runs wait for that read rather
    than each starting their own."""
    key = str(engine.url)
    now = time.monotonic()
    with _LOCK:
        cached = _CACHE.get(key)
        stale = cached is not None and now - cached[0] >= max_age and key not in _REFRESHING
        if stale:
            _REFRESHING.add(key)
        first_read = _FIRST_READS.setdefault(key, threading.Lock())
    if cached is not None and not fresh:
        if stale:
            threading.Thread(target=_refresh, args=(engine, key), name="healthbot-vocabulary", daemon=True).start()
        return cached[1]
    with first_read:
        with _LOCK:
            cached = _CACHE.get(key)
        if cached is not None and not fresh:  # read by the question this one waited for
            return cached[1]
        digest = _fingerprint(engine)
        built = _build(_read(engine))
        with _LOCK:
            _CACHE[key] = (now, built, digest)
        return built


def refreshing(engine: Engine) -> bool:
    """Whether the store's vocabulary is being re-read in the background."""
    with _LOCK:
        return str(engine.url) in _REFRESHING


def _refresh(engine: Engine, key: str) -> None:
    if sys.platform == "linux":  # a thread is a task there: the re-read yields the CPU to the questions' threads
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    try:
        digest = _fingerprint(engine)
        with _LOCK:
            cached = _CACHE.get(key)
        # Most minutes nothing was imported: the accounts are those the vocabulary in hand was built from, and
        # reading them (1.7 s of CPU at 100,000 accounts, beside the questions) is skipped.
        built = cached[1] if cached is not None and cached[2] == digest else _build(_read(engine))
        with _LOCK:
            _CACHE[key] = (time.monotonic(), built, digest)
    except Exception:
        logger.exception("could not re-read the vocabulary of %s", key)
    finally:
        with _LOCK:
            _REFRESHING.discard(key)


def forget(engine: Engine | None = None) -> None:
    """Drop the cached vocabulary (after an import), for one store or all."""
    with _LOCK:
        if engine is None:
            _CACHE.clear()
        else:
            _CACHE.pop(str(engine.url), None)


def distinct(values: Iterable[str | None]) -> list[str]:
    return sorted({v for v in values if v})
