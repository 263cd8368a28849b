"""The accounts a list question asks for: the report table's rows, filtered in SQL where the store can.

Filters on the account (CSM, segment, region, …), the day's score (band, signals) and the renewal date run in SQL;
the latest metrics (NPS, payment, last login, last QBR) and the last touch are joined only when asked about. What
needs the model (dropped by N points, declining, expansion-ready) is applied to the few columns read back.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.engine import Engine

from bot import insights
from bot.questions.parse import Question
from bot.questions.vocabulary import SCOPE_COLUMNS
from bot.scoring_runs import ACCOUNTS, METRICS, SCORES
from scoring import HealthModel
from scoring import portfolio as book_math

SHOWN = 99  # rows in one Slack table block (100, one of them the header); the rest go to a file


@dataclass(frozen=True)
class Matches:
    """The matching accounts, sorted as asked: id and the columns the filters read."""

    frame: pd.DataFrame
    total: int


def at_risk_bands(model: HealthModel) -> list[str]:
    """Bands that count as "at risk": the lowest, and with four or more bands the one above it too."""
    names = [band.name for band in sorted(model.bands, key=lambda b: b.min)]
    return names[:2] if len(names) >= 4 else names[:1]


def band_names(q: Question, model: HealthModel) -> list[str]:
    """The question's bands as the model names them ("@risk" and "@top" resolved)."""
    known = {band.name.casefold(): band.name for band in model.bands}
    out: list[str] = []
    for band in q.bands:
        if band == "@risk":
            out += at_risk_bands(model)
        elif band == "@top":
            out.append(model.top_band.name)
        elif band.casefold() in known:
            out.append(known[band.casefold()])
    return list(dict.fromkeys(out))


def renewal_span(q: Question, day: date) -> tuple[date, date] | None:
    """The renewal dates a question asks about, both ends included."""
    if q.renew_days is not None:
        return day, day + timedelta(days=q.renew_days)
    if q.renew_window == "this_quarter":
        last_month = (day.month - 1) // 3 * 3 + 3
        return day, date(day.year, last_month, calendar.monthrange(day.year, last_month)[1])
    if q.renew_window == "next_month":
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    return None


def matching(engine: Engine, model: HealthModel, q: Question, day: date, *, csm: str | None) -> Matches:
    """Every current customer scored on `day` that the question's scope and filters select, sorted as asked."""
    columns = [
        ACCOUNTS.c.account_id,
        ACCOUNTS.c.name,
        ACCOUNTS.c.csm_owner,
        ACCOUNTS.c.arr,
        ACCOUNTS.c.renewal_date,
        SCORES.c.score,
        SCORES.c.band,
        SCORES.c.last_month_score,
    ]
    query = (
        select(*columns)
        .join(SCORES, SCORES.c.account_id == ACCOUNTS.c.account_id)
        .where(SCORES.c.as_of == day)
        .where(or_(ACCOUNTS.c.churned_on.is_(None), ACCOUNTS.c.churned_on > day))
    )
    if csm is not None:
        query = query.where(ACCOUNTS.c.csm_owner == csm)
    for kind, value in q.scope:
        query = query.where(ACCOUNTS.c[SCOPE_COLUMNS[kind]] == value)
    bands = band_names(q, model)
    if bands:
        query = query.where(SCORES.c.band.in_(bands))
    if q.signals:
        text = cast(SCORES.c.signals, Text)
        query = query.where(or_(*(text.like(f'%"key": "{key}"%') for key in q.signals)))
    span = renewal_span(q, day)
    if span is not None:
        query = query.where(ACCOUNTS.c.renewal_date >= span[0], ACCOUNTS.c.renewal_date <= span[1])
    stale = {
        "last_touch": q.no_touch_days,
        "last_login": q.no_login_days,
        "last_qbr": q.no_qbr_days,
    }
    for column, days in stale.items():
        if days is None:
            continue
        latest = (
            select(METRICS.c.account_id, func.max(METRICS.c[column]).label(column))
            .where(METRICS.c.as_of <= day)
            .group_by(METRICS.c.account_id)
            .subquery(f"latest_{column}")
        )
        query = query.add_columns(latest.c[column]).outerjoin(latest, latest.c.account_id == ACCOUNTS.c.account_id)
        query = query.where(or_(latest.c[column].is_(None), latest.c[column] < day - timedelta(days=days)))
    if q.nps_max is not None or q.overdue:
        newest = (
            select(METRICS.c.account_id, func.max(METRICS.c.as_of).label("as_of"))
            .where(METRICS.c.as_of <= day)
            .group_by(METRICS.c.account_id)
            .subquery("newest")
        )
        snap = METRICS.alias("snap")
        query = (
            query.add_columns(snap.c.nps, snap.c.days_overdue)
            .join(newest, newest.c.account_id == ACCOUNTS.c.account_id)
            .join(snap, and_(snap.c.account_id == newest.c.account_id, snap.c.as_of == newest.c.as_of))
        )
        if q.nps_max is not None:
            query = query.where(snap.c.nps <= q.nps_max)
        if q.overdue:
            query = query.where(snap.c.days_overdue > 0)
    with engine.connect() as connection:
        frame = pd.read_sql(query, connection)
    frame["arr"] = pd.to_numeric(frame["arr"]).fillna(0.0)
    frame["drop"] = pd.to_numeric(frame["last_month_score"]) - frame["score"]
    if q.dropped is not None:
        frame = frame[frame["drop"] >= q.dropped]
    if q.declining:
        frame = frame[frame["drop"] > model.stable_points]
    if q.sort == "drop":
        frame = frame[frame["drop"] > 0]
    if q.expansion and len(frame):
        book = insights.load_book(engine, model, day, account_ids=list(frame["account_id"]))
        ready = book_math.expansion_ready(book, model, reasons_for=0)
        frame = frame.merge(ready[["account_id", "opportunity"]], on="account_id")
    frame = _sorted(frame, q)
    total = len(frame)
    if q.limit:
        frame = frame.head(q.limit)
    return Matches(frame.reset_index(drop=True), total)


def _sorted(frame: pd.DataFrame, q: Question) -> pd.DataFrame:
    if q.sort == "arr":
        return frame.sort_values(["arr", "name"], ascending=[False, True])
    if q.sort == "drop":
        return frame.sort_values(["drop", "name"], ascending=[False, True])
    if q.sort == "score_desc":
        return frame.sort_values(["score", "name"], ascending=[False, True])
    if q.expansion:
        return frame.sort_values(["arr", "name"], ascending=[False, True])
    if q.renew_days is not None or q.renew_window:
        return frame.sort_values(["renewal_date", "name"])
    return frame.sort_values(["score", "name"])
