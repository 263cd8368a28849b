"""Portfolio views: a CSM's book, a segment, the whole base, the at-risk list and the expansion list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import pandas as pd
from sqlalchemy.engine import Engine

from bot.insights.loaders import load_book, scored_day
from bot.insights.lookup import csm_name, segment_name
from bot.insights.pieces import LIST_LIMIT, account_refs, group_rows, model_note, renewal_notes, risk_driver_views
from messages import views
from scoring import HealthModel
from scoring import portfolio as book_math

# --- portfolios ------------------------------------------------------------------------------------------------------


def _portfolio_view(
    book: pd.DataFrame, model: HealthModel, *, title: str, day: date, groups_by: str | None, team: bool
) -> views.Portfolio:
    lowest = model.lowest_band.name
    bands = book_math.band_summary(book, model)
    focus = {b.name: b.focus for b in model.bands}
    band_views = []
    for band in bands.itertuples(index=False):
        members = book[book["band"] == band.band]
        # The accounts to look at: the biggest in healthy bands, the weakest first in troubled ones.
        order = (
            members.sort_values("arr", ascending=False)
            if band.band == model.top_band.name
            else members.sort_values(["score", "arr"], ascending=[True, False])
        )
        band_views.append(
            views.BandSummary(
                band=band.band,
                count=int(band.count),
                share=float(band.share),
                arr=float(band.arr),
                focus=focus[band.band],
                top=account_refs(order.head(3)),
            )
        )
    improving, declining, stable = book_math.movers(book)
    renewing = book_math.renewals(book, model, as_of=day)
    red = int((book["band"] == lowest).sum())
    status, note = book_math.capacity(red, model.healthy_span)
    capacity = None if team else views.Capacity(red, model.healthy_span, status, note)
    ready = book_math.expansion_ready(book, model, reasons_for=0)
    groups = group_rows(book, model, groups_by) if groups_by is not None and len(book) else []
    return views.Portfolio(
        title=title,
        as_of=day,
        total_accounts=len(book),
        total_arr=float(book["arr"].sum()),
        average_score=None if book.empty else round(float(book["score"].mean()), 1),
        bands=band_views,
        improving=account_refs(improving.head(LIST_LIMIT)),
        declining=account_refs(declining.head(LIST_LIMIT)),
        stable_count=stable,
        renewals=account_refs(renewing.head(LIST_LIMIT), notes=renewal_notes(renewing.head(LIST_LIMIT))),
        renewal_arr_at_risk=book_math.arr_at_risk(renewing, model),
        capacity=capacity,
        risk_drivers=risk_driver_views(book, model),
        expansion_ready=account_refs(ready.head(LIST_LIMIT), notes=list(ready["opportunity"].head(LIST_LIMIT))),
        recommendations=book_math.portfolio_recommendations(book, model, as_of=day, renewing=renewing, ready=ready),
        groups=groups,
        improving_count=len(improving),
        declining_count=len(declining),
        new_count=int((book["direction"] == "new").sum()),
        stable_points=model.stable_points,
        window=book_math.WINDOWS[1],
        renewal_count=len(renewing),
        expansion_count=len(ready),
        model_note=model_note(book, model),
    )


GROUP_LABELS = {"segment": "segment", "region": "region", "industry": "industry", "plan_tier": "plan tier"}


def portfolio(
    engine: Engine,
    model: HealthModel,
    *,
    csm: str | None = None,
    segment: str | None = None,
    as_of: date | None = None,
    group_by: str | None = None,
    where: Mapping[str, str] | None = None,
    csms: Sequence[str] = (),
) -> views.Portfolio:
    """`/health portfolio`: a CSM's book (name any case, first name alone, or Slack ID), a segment, or everyone;
    with `csms`, several CSMs' books side by side (one group row each).

    The team view (no CSM) carries one group row per CSM unless `group_by` names another grouping
    (segment, region, industry, plan_tier).

    Raises:
        UnknownCsmError / UnknownSegmentError: with the closest names; NoScoresError: nothing scored that day.
    """
    day = scored_day(engine, as_of)
    owner = None if csm is None else csm_name(engine, csm)
    owners = [csm_name(engine, name) for name in csms]
    group = None if segment is None else segment_name(engine, segment)
    book = load_book(engine, model, day, csm_owner=owners or owner, segment=group, where=where)
    named = " vs ".join(owners) if owners else owner
    title = " · ".join(filter(None, [named, f"{group} segment" if group else None, *(where or {}).values()]))
    title = title or "All accounts"
    team = csm is None and not owners
    group_by = group_by or ("csm" if owners else None)
    if group_by is not None and group_by != "csm":
        title += f" · by {GROUP_LABELS.get(group_by, group_by)}"
    return _portfolio_view(
        book, model, title=title, day=day, groups_by=group_by or ("csm" if team else None), team=team
    )


def risk_list(
    engine: Engine, model: HealthModel, *, as_of: date | None = None, csm: str | None = None
) -> views.Portfolio:
    """ "Who's at risk this quarter?": a Portfolio of the accounts in the lowest band, declining, or renewing
    within the window outside the top band — the same view, narrowed to what needs attention."""
    day = scored_day(engine, as_of)
    owner = None if csm is None else csm_name(engine, csm)
    book = load_book(engine, model, day, csm_owner=owner)
    renewing = book_math.renewals(book, model, as_of=day)
    at_risk = (
        (book["band"] == model.lowest_band.name)
        | (book["direction"] == "declining")
        | (book["account_id"].isin(renewing.loc[renewing["band"] != model.top_band.name, "account_id"]))
    )
    title = "At risk this quarter" + (f" · {owner}" if owner else "")
    return _portfolio_view(
        book[at_risk], model, title=title, day=day, groups_by=None if owner else "csm", team=owner is None
    )


def expansion_list(
    engine: Engine, model: HealthModel, *, as_of: date | None = None, csm: str | None = None
) -> views.ExpansionList:
    """`/health expansion`: accounts with an expansion signal that are healthy enough to grow, biggest first."""
    day = scored_day(engine, as_of)
    book = load_book(engine, model, day, csm_owner=None if csm is None else csm_name(engine, csm))
    ready = book_math.expansion_ready(book, model)
    refs = account_refs(ready)
    candidates = [
        views.ExpansionCandidate(account=ref, reasons=list(reasons), opportunity=str(opportunity))
        for ref, reasons, opportunity in zip(refs, ready["reasons"], ready["opportunity"], strict=True)
    ]
    return views.ExpansionList(as_of=day, candidates=candidates, total_arr=float(ready["arr"].sum()))
