"""The trend charts people ask for in Slack, drawn from the stored score history (messages/charts.py draws them).

Scores are stored one row per account per day; a chart of 13 months wants one point a month, and a segment's
average is only fair when every account contributes once a month. So each account's last score in each calendar
month stands for that month.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.insights import InsightError, NoScoresError, UnknownAccountError
from bot.store import Account, HealthScore
from messages import charts
from messages import format as fmt
from scoring import HealthModel

HISTORY_MONTHS = 13


def _first_day(as_of: date, months: int) -> date:
    start = pd.Timestamp(as_of).to_period("M") - (months - 1)
    return start.start_time.date()


def _monthly_last(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Each account's last row per calendar month; `as_of` stays the real date of that score."""
    frame = frame.assign(_month=pd.to_datetime(frame["as_of"]).dt.to_period("M"))
    frame = frame.sort_values([*keys, "as_of"], kind="stable")
    return frame.drop_duplicates([*keys, "_month"], keep="last")


def account_history(
    engine: Engine,
    account_id: str,
    *,
    as_of: date | None = None,
    months: int = HISTORY_MONTHS,
    dimension_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One account's score and dimension scores, a point per month, for `account_trend_chart`.

    Args:
        engine: the store.
        account_id: the account.
        as_of: the last day shown (default: its latest score).
        months: how many calendar months, counting the one `as_of` is in.
        dimension_names: dimension key → the name people say ("usage" → "Product Usage"); keys not named keep
            their key. Dimensions appear in this mapping's order, then any others.

    Returns:
        Columns `as_of`, `score`, then one per dimension (NaN where it had no data). Empty when never scored.
    """
    query = select(col(HealthScore.as_of), col(HealthScore.score), col(HealthScore.dimensions)).where(
        col(HealthScore.account_id) == account_id
    )
    if as_of is not None:
        query = query.where(col(HealthScore.as_of) <= as_of)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(col(HealthScore.as_of))).all()
    if not rows:
        return pd.DataFrame(columns=["as_of", "score"])
    last = as_of or rows[-1].as_of
    first = _first_day(last, months)
    frame = pd.DataFrame(
        [{"as_of": row.as_of, "score": row.score, **(row.dimensions or {})} for row in rows if row.as_of >= first]
    )
    frame = _monthly_last(frame, []).drop(columns="_month").reset_index(drop=True)
    names = dict(dimension_names or {})
    keys = [key for key in names if key in frame.columns]
    keys += [key for key in frame.columns if key not in ("as_of", "score") and key not in names]
    frame = frame[["as_of", "score", *keys]].rename(columns=names)
    frame[frame.columns[2:]] = frame[frame.columns[2:]].apply(pd.to_numeric, errors="coerce")
    return frame


def segment_history(engine: Engine, *, as_of: date | None = None, months: int = HISTORY_MONTHS) -> pd.DataFrame:
    """Each segment's average health score per month, for `segment_trend_chart`.

    An account counts in the months it was scored in (so a former customer counts until it left), once a month.

    Returns:
        Columns `segment`, `as_of` (the month's first day), `score`, `accounts`. Empty when nothing is scored.
    """
    with engine.connect() as conn:
        latest = select(func.max(HealthScore.as_of))
        last = as_of or conn.execute(latest).scalar()
        if last is None:
            return pd.DataFrame(columns=["segment", "as_of", "score", "accounts"])
        query = (
            select(col(HealthScore.account_id), col(HealthScore.as_of), col(HealthScore.score), col(Account.segment))
            .join(Account, col(Account.account_id) == col(HealthScore.account_id))
            .where(col(HealthScore.as_of) >= _first_day(last, months), col(HealthScore.as_of) <= last)
        )
        frame = pd.read_sql(query, conn)
    frame["segment"] = frame["segment"].fillna("No segment")
    monthly = _monthly_last(frame, ["account_id"])
    averages = (
        monthly.groupby(["segment", "_month"])
        .agg(score=("score", "mean"), accounts=("account_id", "size"))
        .reset_index()
    )
    averages["as_of"] = averages["_month"].dt.start_time.dt.date
    return averages[["segment", "as_of", "score", "accounts"]]


@dataclass(frozen=True)
class Chart:
    """A chart ready to upload."""

    title: str  # "Acme Corp: health trend"
    filename: str  # "acme-corp-health-trend.png"
    summary: str  # one line saying what it shows, for the message beside it and screen readers
    png: bytes


def _bands(model: HealthModel) -> list[tuple[str, float]]:
    return [(band.name, band.min) for band in model.bands]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "chart"


def account_trend(engine: Engine, model: HealthModel, account_id: str, *, as_of: date | None = None) -> Chart:
    """The "Show trend" chart of a health card: the account's score and dimensions over 13 months.

    Raises:
        UnknownAccountError: no account has that ID.
        InsightError: the account has never been scored.
    """
    with engine.connect() as conn:
        name = conn.execute(select(col(Account.name)).where(col(Account.account_id) == account_id)).scalar()
    if name is None:
        raise UnknownAccountError(f"No account with ID {account_id}", ["It may have been removed since that card."])
    names = {dimension.key: dimension.name for dimension in model.dimensions}
    history = account_history(engine, account_id, as_of=as_of, dimension_names=names)
    if history.empty:
        raise InsightError(f"No health scores for {name} yet", ["Run `healthbot score` first, then ask again."])
    first, last = history.iloc[0], history.iloc[-1]
    summary = (
        f"{name}: health score {fmt.score(first['score'])} on {fmt.day(first['as_of'])} → "
        f"{fmt.score(last['score'])} on {fmt.day(last['as_of'])}, with its dimensions"
    )
    png = charts.account_trend_chart(history, account=name, bands=_bands(model))
    return Chart(f"{name}: health trend", f"{_slug(name)}-health-trend.png", summary, png)


def segment_trends(engine: Engine, model: HealthModel, *, as_of: date | None = None) -> Chart:
    """The `/health trends` chart: each segment's average health score, month by month.

    Raises:
        NoScoresError: nothing is scored yet.
    """
    history = segment_history(engine, as_of=as_of)
    if history.empty:
        raise NoScoresError(as_of, before=as_of is not None)
    latest = history[history["as_of"] == history["as_of"].max()].sort_values("segment")
    now = ", ".join(f"{row.segment} {fmt.score(row.score)}" for row in latest.itertuples())
    summary = f"Average health score by segment, month by month; latest: {now}"
    png = charts.segment_trend_chart(history, bands=_bands(model))
    return Chart("Health by segment", "health-by-segment.png", summary, png)
