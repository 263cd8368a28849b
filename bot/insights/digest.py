"""The morning early-warning digest for one CSM or the team."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy.engine import Engine

from bot.insights.loaders import load_book, previous_rows, scored_day
from bot.insights.lookup import csm_name
from bot.insights.pieces import (
    LIST_LIMIT,
    account_refs,
    as_date,
    by_owner,
    group_rows,
    model_note,
    renewal_notes,
    risk_driver_views,
    signal_view,
)
from messages import views
from scoring import Finding, HealthModel
from scoring import portfolio as book_math

TEAM = "Team"  # the team digest's recipient


# --- the digest --------------------------------------------------------------------------------------------------
def digest(engine: Engine, model: HealthModel, *, day: date, csm: str | None = None) -> views.Digest:
    """The morning early-warning digest for one CSM (`csm`) or the team (None), from the scores stored for `day`.

    New reds and new signals are new since each account's previous stored score. One CSM's digest reads only
    their accounts; `digests` builds everyone's at once and says the same.

    Raises:
        NoScoresError: `day` has not been scored; UnknownCsmError: no such CSM.
    """
    scored_day(engine, day, exact=True)
    owner = None if csm is None else csm_name(engine, csm)
    book, sections = _digest_sections(engine, model, day, owner=owner)
    if owner is None:
        return _team_digest(book, sections, model, day)
    return _csm_digests(book, sections, model, day, csms=[owner])[owner]


def digests(
    engine: Engine, model: HealthModel, *, day: date, csms: Sequence[str]
) -> tuple[dict[str, views.Digest], views.Digest]:
    """Each CSM's digest (for `csms`, by name as in the accounts file) and the team's, from one read of the day.

    The sections are computed once over the whole book and split by CSM, so 200 CSMs cost about what one team
    digest costs instead of 200 separate reads.

    Raises:
        NoScoresError: `day` has not been scored.
    """
    scored_day(engine, day, exact=True)
    book, sections = _digest_sections(engine, model, day, owner=None)
    return _csm_digests(book, sections, model, day, csms=csms), _team_digest(book, sections, model, day)


@dataclass(frozen=True)
class _DigestSections:
    """The digest's sections over a book (one CSM's or everyone's), each in the order the digest lists it."""

    new_reds: pd.DataFrame  # in the lowest band now, not at the previous score; biggest ARR first
    drops: pd.DataFrame  # fell by more than the model's stable points this month; biggest fall first
    renewals: pd.DataFrame  # renewing within the window, outside the top band; soonest first
    ready: pd.DataFrame  # expansion ready, with their opportunity
    due: list[tuple[views.AccountRef, views.Signal]]  # risk signals new since the previous score
    red_arr: pd.Series  # ARR in the lowest band, by CSM
    since: date | None  # the scored day "new" is measured from; None on the first scored day


def _digest_sections(
    engine: Engine, model: HealthModel, day: date, *, owner: str | None
) -> tuple[pd.DataFrame, _DigestSections]:
    # Every digest list shows the month's move (what changed lately), as its headings say.
    book = book_math.recent_moves(load_book(engine, model, day, csm_owner=owner))
    previous = previous_rows(engine, day, account_ids=None if owner is None else list(book["account_id"]))
    lowest = model.lowest_band.name
    was_band = book["account_id"].map(previous.set_index("account_id")["band"])
    drops = book[book["delta"] < -model.stable_points].sort_values("delta")
    renewing = book_math.renewals(book, model, as_of=day)
    return book, _DigestSections(
        new_reds=book[(book["band"] == lowest) & (was_band != lowest)].sort_values("arr", ascending=False),
        drops=drops,
        renewals=renewing[renewing["band"] != model.top_band.name],
        ready=book_math.expansion_ready(book, model, reasons_for=0),
        due=_new_signals(book, previous),
        red_arr=book.loc[book["band"] == lowest].groupby("csm_owner")["arr"].sum(),
        since=as_date(previous["as_of"].max()) if len(previous) else None,
    )


def _team_digest(book: pd.DataFrame, sections: _DigestSections, model: HealthModel, day: date) -> views.Digest:
    renewals, ready = sections.renewals.head(LIST_LIMIT), sections.ready.head(5)
    return views.Digest(
        recipient=TEAM,
        day=day,
        since=sections.since,
        model_note=model_note(book, model),
        renewal_count=len(sections.renewals),
        new_reds=account_refs(sections.new_reds),
        biggest_drops=account_refs(sections.drops.head(5)),
        due_today=sections.due,
        renewals_at_risk=account_refs(renewals, notes=renewal_notes(renewals)),
        expansion_ready=account_refs(ready, notes=list(ready["opportunity"])),
        by_group=group_rows(book, model, "csm") if len(book) else [],
        arr_at_risk=float(sections.red_arr.sum()),
        risk_drivers=risk_driver_views(book, model),
    )


def _csm_digests(
    book: pd.DataFrame, sections: _DigestSections, model: HealthModel, day: date, *, csms: Sequence[str]
) -> dict[str, views.Digest]:
    def refs(
        frame: pd.DataFrame, n: int | None, notes: Callable[[pd.DataFrame], list[str | None]] | None = None
    ) -> dict[str, list[views.AccountRef]]:
        # Each CSM's first n rows in the frame's order (groupby keeps it), so every CSM's list is sorted as the
        # team's; one pass over all of them, then split: far cheaper than a pass per CSM.
        rows = frame if n is None else frame.groupby("csm_owner", sort=False).head(n)
        listed = account_refs(rows, notes=notes(rows) if notes else None)
        return by_owner(listed, key=lambda ref: ref.csm_owner)

    new_reds, drops = refs(sections.new_reds, None), refs(sections.drops, 5)
    renewals = refs(sections.renewals, LIST_LIMIT, renewal_notes)
    ready = refs(sections.ready, 5, lambda rows: list(rows["opportunity"]))
    due = by_owner(sections.due, key=lambda item: item[0].csm_owner)
    books = {str(csm): rows for csm, rows in book.groupby("csm_owner", sort=False)}
    renewing = sections.renewals.groupby("csm_owner").size()
    return {
        csm: views.Digest(
            recipient=csm,
            day=day,
            since=sections.since,
            model_note=model_note(books.get(csm, book.iloc[0:0]), model),
            renewal_count=int(renewing.get(csm, 0)),
            due_today=due.get(csm, []),
            arr_at_risk=float(sections.red_arr.get(csm, 0.0)),
            risk_drivers=risk_driver_views(books.get(csm, book.iloc[0:0]), model),
            new_reds=new_reds.get(csm, []),
            biggest_drops=drops.get(csm, []),
            renewals_at_risk=renewals.get(csm, []),
            expansion_ready=ready.get(csm, []),
        )
        for csm in csms
    }


def _new_signals(book: pd.DataFrame, previous: pd.DataFrame) -> list[tuple[views.AccountRef, views.Signal]]:
    """Risk signals raised since each account's previous score, most severe first, then biggest ARR."""
    from scoring.findings import severity_rank

    today = book_math.signal_table(book, kind="risk")
    if today.empty:
        return []
    before = book_math.signal_table(previous.assign(arr=0.0), kind="risk")
    known = set(zip(before["account_id"], before["key"], strict=True))
    new = today[[(a, k) not in known for a, k in zip(today["account_id"], today["key"], strict=True)]]
    new = new.assign(rank=new["severity"].map(severity_rank)).sort_values(["rank", "arr"], ascending=[True, False])
    accounts = book[book["account_id"].isin(new["account_id"])]
    refs = dict(zip(accounts["account_id"], account_refs(accounts), strict=True))
    records = book.set_index("account_id")["signals"]
    out = []
    for account_id, key in zip(new["account_id"], new["key"], strict=True):
        record = next(r for r in records[account_id] if r.get("key") == key)
        out.append((refs[account_id], signal_view(Finding.from_record(record))))
    return out
