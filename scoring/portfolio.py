"""Portfolio analytics over a book of accounts: bands, groups, movers, renewals, risk drivers, capacity, expansion.

A *book* is one row per account with its latest score: account_id, name, csm_owner, segment, region, industry,
plan_tier, arr, renewal_date, score, band, last_month_score, last_quarter_score, signals (the list of finding
records stored with the score) and dimensions ({dimension key: score or None}). Every function is a few
column operations or a groupby over it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from scoring.findings import URGENT_SEVERITIES
from scoring.model import HealthModel
from scoring.score import directions, trend_move

WINDOWS = ("last month", "last quarter")  # the two windows a change is measured over

GROUPINGS = {
    "csm": "csm_owner",
    "segment": "segment",
    "region": "region",
    "industry": "industry",
    "plan_tier": "plan_tier",
}


def with_trend(book: pd.DataFrame, model: HealthModel) -> pd.DataFrame:
    """The book with its trend columns, every change the difference of the whole-number scores shown:

    - delta, previous_score, window: the move a trend is judged on (vs last quarter, else vs last month while an
      account has less than a quarter of history), the score it is measured from, and which of the two it is;
    - month_delta, month_previous_score, month_window: what changed lately (vs last month, else last quarter);
    - direction: improving / declining beyond ±stable_points on `delta` as shown, else stable; new without history.
    """
    score = np.round(book["score"].to_numpy(dtype="float64"))
    last_month = np.round(book["last_month_score"].to_numpy(dtype="float64", na_value=np.nan))
    last_quarter = np.round(book["last_quarter_score"].to_numpy(dtype="float64", na_value=np.nan))
    vs_month, vs_quarter = score - last_month, score - last_quarter
    no_quarter, no_month = np.isnan(last_quarter), np.isnan(last_month)
    month, quarter = np.full(len(book), WINDOWS[0], dtype=object), np.full(len(book), WINDOWS[1], dtype=object)
    neither = np.full(len(book), None, dtype=object)
    return book.assign(
        delta=trend_move(vs_month, vs_quarter),
        previous_score=np.where(no_quarter, last_month, last_quarter),
        window=np.where(no_quarter, np.where(no_month, neither, month), quarter),
        month_delta=np.where(no_month, vs_quarter, vs_month),
        month_previous_score=np.where(no_month, last_quarter, last_month),
        month_window=np.where(no_month, np.where(no_quarter, neither, quarter), month),
        direction=np.asarray(directions(vs_month, vs_quarter, model.stable_points), dtype=object),
    )


def recent_moves(book: pd.DataFrame) -> pd.DataFrame:
    """The book with delta, previous_score and window set to what changed lately (the month's move): the digest's
    lists read this window, so the same account shows the same move in every section."""
    return book.assign(
        delta=book["month_delta"], previous_score=book["month_previous_score"], window=book["month_window"]
    )


def band_rank(book: pd.DataFrame, model: HealthModel) -> pd.Series:
    """0 for the top band, growing towards the lowest band."""
    return book["band"].map({b.name: i for i, b in enumerate(model.bands)}).fillna(len(model.bands))


def band_summary(book: pd.DataFrame, model: HealthModel) -> pd.DataFrame:
    """One row per band, best first: band, count, share of accounts, ARR."""
    grouped = book.groupby("band", observed=False).agg(count=("account_id", "size"), arr=("arr", "sum"))
    out = grouped.reindex([b.name for b in model.bands], fill_value=0).rename_axis("band").reset_index()
    out["share"] = out["count"] / max(len(book), 1)
    return out


def group_summary(book: pd.DataFrame, model: HealthModel, by: str) -> pd.DataFrame:
    """One row per CSM, segment, region, industry or plan tier: accounts, ARR, average score, ARR at risk (of the
    accounts not in the top band), count per band."""
    column = GROUPINGS.get(by, by)
    keyed = book.assign(
        group=book[column].fillna("(none)").astype(str),
        arr_at_risk=book["arr"].fillna(0).where(book["band"] != model.top_band.name, 0.0),
    )
    summary = keyed.groupby("group").agg(
        accounts=("account_id", "size"),
        arr=("arr", "sum"),
        average_score=("score", "mean"),
        arr_at_risk=("arr_at_risk", "sum"),
    )
    bands = pd.crosstab(keyed["group"], keyed["band"]).reindex(columns=[b.name for b in model.bands], fill_value=0)
    return summary.join(bands).fillna(0).sort_values(["accounts", "arr"], ascending=False).reset_index()


def movers(book: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Improving accounts (biggest gain first), declining accounts (biggest fall first), and how many are stable.

    `book` must come from `with_trend`.
    """
    improving = book[book["direction"] == "improving"].sort_values("delta", ascending=False)
    declining = book[book["direction"] == "declining"].sort_values("delta")
    return improving, declining, int((book["direction"] == "stable").sum())


def renewals(book: pd.DataFrame, model: HealthModel, *, as_of: date) -> pd.DataFrame:
    """Accounts renewing within the model's window, riskiest first, with days_to_renewal."""
    days = (pd.to_datetime(book["renewal_date"]) - pd.Timestamp(as_of)).dt.days
    window = book.assign(days_to_renewal=days, band_rank=band_rank(book, model))
    window = window[(days >= 0) & (days <= model.renewal_window_days)]
    return window.sort_values(["band_rank", "score", "days_to_renewal"], ascending=[False, True, True])


def arr_at_risk(accounts: pd.DataFrame, model: HealthModel) -> float:
    """ARR of the accounts that are not in the top band."""
    return float(accounts.loc[accounts["band"] != model.top_band.name, "arr"].fillna(0).sum())


def dimension_scores(book: pd.DataFrame) -> pd.DataFrame:
    """The stored {dimension: score} dicts as one column per dimension (NaN = no data), indexed like the book."""
    return pd.DataFrame(book["dimensions"].tolist(), index=book.index, dtype="float64")


def signal_table(book: pd.DataFrame, *, kind: str | None = None) -> pd.DataFrame:
    """One row per stored finding (account_id, arr, key, kind, title, severity, …), optionally of one kind."""
    exploded = book[["account_id", "arr", "signals"]].explode("signals").dropna(subset=["signals"])
    if exploded.empty:
        return pd.DataFrame(columns=["account_id", "arr", "key", "kind", "title", "severity", "dimension"])
    exploded = exploded.reset_index(drop=True)  # explode repeats the book's index; records line up by position
    records = pd.DataFrame(exploded["signals"].tolist())
    if "dimension" not in records.columns:
        records["dimension"] = None
    table = pd.concat([exploded[["account_id", "arr"]], records], axis=1)
    return table if kind is None else table[table["kind"] == kind]


def risk_drivers(book: pd.DataFrame, model: HealthModel, *, top: int = 5) -> pd.DataFrame:
    """The reasons accounts are at risk, counted across the book: each fired risk signal, and each dimension
    scoring below the second band (named by the model's `risk`, e.g. "Low product usage").

    Returns title, accounts, arr — most accounts first, then most ARR.
    """
    signals = signal_table(book, kind="risk")
    # A weak dimension already explained by a signal about it (Low NPS for Sentiment) is counted once, as the signal.
    explained = set(zip(signals["account_id"], signals["dimension"], strict=True))
    dims = dimension_scores(book)
    weak_floor = model.bands[1].min if len(model.bands) > 1 else model.top_band.min
    weak = []
    for d in model.dimensions:
        if d.key not in dims.columns:
            continue
        rows = book.loc[dims[d.key] < weak_floor, ["account_id", "arr"]]
        rows = rows[[(a, d.key) not in explained for a in rows["account_id"]]]
        weak.append(rows.assign(title=d.risk))
    reasons = pd.concat([signals[["account_id", "arr", "title"]], *weak], ignore_index=True)
    reasons = reasons.drop_duplicates(["account_id", "title"])
    if reasons.empty:
        return pd.DataFrame(columns=["title", "accounts", "arr"])
    counted = reasons.groupby("title").agg(accounts=("account_id", "size"), arr=("arr", "sum")).reset_index()
    return counted.sort_values(["accounts", "arr"], ascending=False).head(top).reset_index(drop=True)


def capacity(red_accounts: int, healthy_span: int) -> tuple[str, str]:
    """Healthy, Stretched (up to twice the span) or Overloaded, and the sentence that says why."""
    if red_accounts <= healthy_span:
        return (
            "Healthy",
            f"{red_accounts} red account{'s' * (red_accounts != 1)} within the healthy span of {healthy_span}",
        )
    status = "Stretched" if red_accounts <= 2 * healthy_span else "Overloaded"
    return status, f"{red_accounts} red accounts exceeds the healthy span of {healthy_span}"


def expansion_ready(book: pd.DataFrame, model: HealthModel, *, reasons_for: int | None = None) -> pd.DataFrame:
    """Accounts with an expansion signal, healthy enough to have the conversation (never the lowest band, never
    with an open High or Critical risk signal),
    biggest ARR first, with `opportunity` (the first signal's) and `reasons` (every expansion signal's title).

    `reasons_for` limits the reasons to the first N accounts (the rest get an empty list): a list shown in
    Slack needs ten, and gathering them for 15,000 accounts costs a second.
    """
    eligible = book[(book["score"] >= model.expansion_min_score) & (book["band"] != model.lowest_band.name)]
    # Nobody opens an upsell conversation while a High or Critical risk (an overdue payment) is unanswered.
    table = signal_table(eligible)  # exploded once: the risks and the expansion signals both come from it
    risks = table[table["kind"] == "risk"]
    urgent = risks.loc[risks["severity"].isin(URGENT_SEVERITIES), "account_id"]
    eligible = eligible[~eligible["account_id"].isin(urgent)]
    signals = table[(table["kind"] == "expansion") & ~table["account_id"].isin(urgent)]
    if signals.empty:
        return eligible.iloc[0:0].assign(opportunity=[], reasons=[])
    first = signals.drop_duplicates("account_id")[["account_id", "opportunity"]]
    ready = eligible.merge(first, on="account_id", how="inner").sort_values("arr", ascending=False)
    shown = ready["account_id"] if reasons_for is None else ready["account_id"].head(reasons_for)
    titles = signals[signals["account_id"].isin(shown)].groupby("account_id", sort=False)["title"].agg(list)
    listed = ready["account_id"].map(titles)
    return ready.assign(reasons=[r if isinstance(r, list) else [] for r in listed])


def portfolio_recommendations(
    book: pd.DataFrame,
    model: HealthModel,
    *,
    as_of: date,
    renewing: pd.DataFrame | None = None,
    ready: pd.DataFrame | None = None,
) -> list[str]:
    """What a CS leader would do with this book this week, most urgent first (book from `with_trend`).
    `renewing` and `ready` are the book's `renewals` and `expansion_ready`, when the caller has them already."""
    out: list[str] = []
    lowest = model.lowest_band.name
    red = book[book["band"] == lowest]
    urgent = renewals(book, model, as_of=as_of) if renewing is None else renewing
    urgent = urgent[urgent["band"] == lowest]
    for name, days in zip(urgent["name"].head(3), urgent["days_to_renewal"].head(3), strict=True):
        out.append(
            f"Escalate {name} this week: {lowest}, renewal in {days:.0f} days — request executive sponsor support"
        )
    if len(red):
        out.extend(_rebalance(book, model))
        out.append(f"Focus intervention time on the {len(red)} {lowest.lower()} account{'s' * (len(red) != 1)}")
    _, declining, _ = movers(book)
    if len(declining):
        names = ", ".join(declining["name"].head(3))
        out.append(
            f"Review the {len(declining)} declining account{'s' * (len(declining) != 1)} before they slip: {names}"
        )
    ready = expansion_ready(book, model, reasons_for=0) if ready is None else ready
    if len(ready):
        out.append(f"Open expansion conversations with {len(ready)} expansion-ready account{'s' * (len(ready) != 1)}")
    return out


def _rebalance(book: pd.DataFrame, model: HealthModel) -> list[str]:
    """The span of control is per CSM: name the CSMs over it, and offer to reassign healthy accounts only to a
    CSM who has some."""
    lowest, top = model.lowest_band.name, model.top_band.name
    per_csm = pd.crosstab(book["csm_owner"], book["band"]).reindex(columns=[lowest, top], fill_value=0)
    over = per_csm[per_csm[lowest] > model.healthy_span].sort_values(lowest, ascending=False)
    if over.empty:
        return []
    if len(per_csm) == 1:
        csm, reds, healthy = over.index[0], int(over[lowest].iloc[0]), int(over[top].iloc[0])
        _, note = capacity(reds, model.healthy_span)
        if healthy:
            return [f"Rebalance: {note}; reassign some of {csm}'s {top.lower()} accounts to free time"]
        return [f"Rebalance: {note}; move some {lowest.lower()} accounts to a CSM with capacity"]
    named = ", ".join(f"{csm} ({int(n)} {lowest.lower()})" for csm, n in over[lowest].head(3).items())
    more = f" and {len(over) - 3} more" if len(over) > 3 else ""
    return [
        f"Rebalance: {named}{more} — over the healthy span of {model.healthy_span} "
        f"{lowest.lower()} accounts per CSM; spread them across CSMs with capacity"
    ]
