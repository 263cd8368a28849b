"""What a question should be answered with, stated as facts to check against the store's own tables.

A case never carries the answer itself: `rows(csm="Sarah Chen", band="Red")` means "the accounts the store lists for
Sarah Chen whose score today is Red", and the suite works that set out with its own SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Expect:
    """The answer a question deserves: its kind, the accounts it is about and the filters a list must honour."""

    kind: str  # card why rows book trend changes compare plan model help refuse no_csm no_scope no_account churned
    accounts: tuple[str, ...] = ()  # account names as in the store
    filters: dict[str, Any] = field(default_factory=dict)
    plan: str | None = None  # success qbr renewal recovery expansion
    asker: str | None = None  # the Slack user asking ("my book")


def card(name: str) -> Expect:
    return Expect("card", (name,))


def why(name: str) -> Expect:
    return Expect("why", (name,))


def rows(asker: str | None = None, **filters: Any) -> Expect:
    return Expect("rows", filters=filters, asker=asker)


def book(asker: str | None = None, **scope: Any) -> Expect:
    return Expect("book", filters=scope, asker=asker)


def trend(name: str | None = None, months: int | None = None) -> Expect:
    return Expect("trend", (name,) if name else (), filters={"months": months} if months else {})


def changes(name: str | None = None, days: int = 7, asker: str | None = None, **scope: Any) -> Expect:
    return Expect("changes", (name,) if name else (), filters={"days": days, **scope}, asker=asker)


def compare(*names: str) -> Expect:
    return Expect("compare", names)


def plan(kind: str, name: str) -> Expect:
    return Expect("plan", (name,), plan=kind)


def model() -> Expect:
    return Expect("model")


def help_() -> Expect:
    return Expect("help")


def refuse() -> Expect:
    return Expect("refuse")


def no_csm(wanted: str, suggest: str | None = None) -> Expect:
    return Expect("no_csm", filters={"wanted": wanted, "suggest": suggest})


def no_scope(wanted: str, suggest: str | None = None) -> Expect:
    return Expect("no_scope", filters={"wanted": wanted, "suggest": suggest})


def no_account(wanted: str, suggest: str | None = None) -> Expect:
    return Expect("no_account", filters={"wanted": wanted, "suggest": suggest})


def churned(name: str) -> Expect:
    return Expect("churned", (name,))
