"""Which account, CSM or segment a person meant: exact keys first, then the closest names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process, utils
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.insights.errors import UnknownAccountError, UnknownCsmError, UnknownSegmentError
from bot.scoring_runs import ACCOUNTS

_FUZZY_FOUND = 88  # a rapidfuzz WRatio this high, clearly ahead of the next name, is the account meant
_FUZZY_SUGGEST = 50


# --- finding accounts --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountMatch:
    """Which account a person meant: found (with its ID and name), or not, with up to 5 closest names."""

    found: bool
    account_id: str | None = None
    name: str | None = None
    suggestions: list[str] = field(default_factory=list)  # names, with the ID added where two share a name
    suggestion_ids: list[str] = field(default_factory=list)  # the same accounts' IDs, which always find them


def clean_query(text: str) -> str:
    return text.strip().strip("\"'“”‘’").rstrip("?!.").strip()


def find_account(engine: Engine, text: str) -> AccountMatch:
    """The current customer `text` names: exact name, account ID, any case, then the closest fuzzy match."""
    query = clean_query(text)
    if not query:
        return AccountMatch(found=False)
    current = ACCOUNTS.c.churned_on.is_(None)
    with engine.connect() as connection:
        for exact in (
            ACCOUNTS.c.name == query,
            func.lower(ACCOUNTS.c.account_id) == query.lower(),
            func.lower(ACCOUNTS.c.name) == query.lower(),
        ):
            hits = connection.execute(
                select(ACCOUNTS.c.account_id, ACCOUNTS.c.name).where(exact, current).limit(2)
            ).all()
            if len(hits) == 1:
                return AccountMatch(found=True, account_id=hits[0].account_id, name=hits[0].name)
            if len(hits) > 1:  # two customers with one name: ask which, by ID
                hits = connection.execute(
                    select(ACCOUNTS.c.account_id, ACCOUNTS.c.name).where(exact, current).limit(5)
                ).all()
                return _suggest(hits)
        rows = connection.execute(select(ACCOUNTS.c.account_id, ACCOUNTS.c.name).where(current)).all()
    names = [r.name for r in rows]
    ranked = process.extract(
        query, names, scorer=fuzz.WRatio, processor=utils.default_process, limit=6, score_cutoff=_FUZZY_SUGGEST
    )
    if ranked and ranked[0][1] >= _FUZZY_FOUND and (len(ranked) == 1 or ranked[1][1] < ranked[0][1] - 3):
        best = rows[ranked[0][2]]
        return AccountMatch(found=True, account_id=best.account_id, name=best.name)
    return _suggest([rows[index] for _, score, index in ranked[:5] if score >= _FUZZY_SUGGEST])


def _suggest(rows: Sequence[Any]) -> AccountMatch:
    names = [r.name for r in rows]
    labels = [f"{r.name} ({r.account_id})" if names.count(r.name) > 1 else r.name for r in rows]
    return AccountMatch(found=False, suggestions=labels, suggestion_ids=[r.account_id for r in rows])


def account_or_error(engine: Engine, text: str) -> AccountMatch:
    match = find_account(engine, text)
    if not match.found:
        lines = ["Did you mean one of these?"] if match.suggestions else ["Check the spelling, or import the account."]
        raise UnknownAccountError(f"No account called “{clean_query(text)}”", lines, match.suggestions)
    return match


def csm_name(engine: Engine, csm: str) -> str:
    """The CSM `csm` names: Slack ID (<@U…> too), full name in any case, e-mail, or first name alone ("Sarah").

    Raises:
        UnknownCsmError: nobody by that name (with the closest names), or a first name two CSMs share.
    """
    wanted = csm.strip().removeprefix("<@").split("|")[0].rstrip(">").strip().lstrip("@")
    folded = wanted.casefold()
    with engine.connect() as connection:
        # Exact keys first, in SQL: at 100,000 accounts a DISTINCT over every contact column costs 150 ms.
        for key in (
            ACCOUNTS.c.csm_slack_id == wanted,
            ACCOUNTS.c.csm_owner == wanted,
            func.lower(ACCOUNTS.c.csm_email) == folded,
        ):
            found = sorted({r[0] for r in connection.execute(select(ACCOUNTS.c.csm_owner).where(key).limit(50))})
            if len(found) == 1:
                return found[0]
        names = sorted({r[0] for r in connection.execute(select(ACCOUNTS.c.csm_owner).distinct())})
    for matches in (
        lambda n: n.casefold() == folded,
        lambda n: n.split()[0].casefold() == folded if n.split() else False,
    ):
        found = [n for n in names if matches(n)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise UnknownCsmError(f"More than one CSM is called “{wanted}”", ["Which one did you mean?"], found)
    ranked = process.extract(wanted, names, scorer=fuzz.WRatio, processor=utils.default_process, limit=5)
    suggestions = [name for name, score, _ in ranked if score >= _FUZZY_SUGGEST]
    raise UnknownCsmError(
        f"No CSM called “{wanted}” owns an account",
        ["Did you mean one of these?"] if suggestions else ["Use the CSM's name as in the accounts file."],
        suggestions,
    )


def segment_name(engine: Engine, segment: str) -> str:
    """The segment `segment` names, in any case.

    Raises:
        UnknownSegmentError: no such segment (with the ones that exist).
    """
    with engine.connect() as connection:
        known = sorted({r[0] for r in connection.execute(select(ACCOUNTS.c.segment).distinct()) if r[0]})
    for name in known:
        if name.casefold() == segment.strip().casefold():
            return name
    raise UnknownSegmentError(f"No segment called “{segment.strip()}”", ["Segments in your data:"], known)
