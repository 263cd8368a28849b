"""The accounts a list question asks for: the report table's rows, filtered, counted, sorted and paged in SQL.

Filters on the account (CSM, segment, region, …), the day's score (band, signals, the drop since last month) and
the renewal date are WHERE clauses; the latest metrics (NPS, payment) and the last touch, login or QBR are
correlated look-ups on the metrics' primary key, made only when asked about. The count is one COUNT over the same
query, and only the rows shown are read back. Expansion-ready needs the model, so it is applied to the filtered rows.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Integer, Select, Text, and_, case, cast, func, or_, select
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
    """The matching accounts (the first `shown` of them, sorted as asked) and how many match in all."""

    frame: pd.DataFrame
    total: int


def band_names(q: Question, model: HealthModel) -> list[str]:
    """The question's bands as the model names them ("@risk" and "@top" resolved)."""
    known = {band.name.casefold(): band.name for band in model.bands}
    out: list[str] = []
    for band in q.bands:
        if band == "@risk":
            out += model.at_risk_bands
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
    if q.renew_window == "this_year":
        return day, date(day.year, 12, 31)
    if q.renew_window == "next_quarter":
        first = (day.month - 1) // 3 * 3 + 4
        year = day.year + (first > 12)
        first = (first - 1) % 12 + 1
        return date(year, first, 1), date(year, first + 2, calendar.monthrange(year, first + 2)[1])
    if q.renew_window and q.renew_window.removeprefix("by_").startswith(("month:", "quarter:")):
        kind, n = q.renew_window.removeprefix("by_").split(":")
        first = int(n) if kind == "month" else (int(n) - 1) * 3 + 1
        last = first if kind == "month" else first + 2
        # The next such month or quarter that hasn't ended: "renewals in January" in November is next January.
        year = day.year if date(day.year, last, calendar.monthrange(day.year, last)[1]) >= day else day.year + 1
        # "Before the end of January": from today on.
        start = day if q.renew_window.startswith("by_") else max(day, date(year, first, 1))
        return start, date(year, last, calendar.monthrange(year, last)[1])
    return None


def _latest(column: str, day: date) -> Any:
    """The account's value of a metrics column in its newest snapshot on or before `day` (one backwards seek on
    the metrics' primary key)."""
    snap = METRICS.alias(f"m_{column}")
    return (
        select(snap.c[column])
        .where(snap.c.account_id == ACCOUNTS.c.account_id, snap.c.as_of <= day)
        .order_by(snap.c.as_of.desc())
        .limit(1)
        .scalar_subquery()
    )


def _most_recent(column: str, day: date) -> Any:
    """The account's most recent date in a metrics column up to `day` (last touch, login, QBR): the report's rule."""
    snap = METRICS.alias(f"r_{column}")
    return (
        select(func.max(snap.c[column]))
        .where(snap.c.account_id == ACCOUNTS.c.account_id, snap.c.as_of <= day)
        .scalar_subquery()
    )


def _shown(score: Any) -> Any:
    """A score as the answer prints it (`messages.format.shown`): the nearest whole number, halves to the even one
    as Python rounds. SQL's ROUND takes halves away from zero on SQLite (and is platform-defined for PostgreSQL's
    double precision), so an exact half whose ROUND came out odd is brought down by one."""
    rounded = func.round(score)
    exact_half = and_(score * 2 == func.round(score * 2), score != rounded)
    return rounded - case((and_(exact_half, cast(rounded, Integer) % 2 == 1), 1), else_=0)


def _shown_drop() -> Any:
    """The fall since last month as the answer shows it: the difference of the two scores as shown, so that no
    account is listed as "down" beside "70 → 70 (0)" and "dropped 10 or more" agrees with its row."""
    return _shown(SCORES.c.last_month_score) - _shown(SCORES.c.score)


def _query(model: HealthModel, q: Question, day: date, *, csm: str | None) -> tuple[Select[Any], dict[str, Any]]:
    drop = _shown_drop()
    extra: dict[str, Any] = {"last_touch": _most_recent("last_touch", day)}
    query = (
        select(
            ACCOUNTS.c.account_id,
            ACCOUNTS.c.name,
            ACCOUNTS.c.csm_owner,
            ACCOUNTS.c.arr,
            ACCOUNTS.c.renewal_date,
            *(ACCOUNTS.c[column] for column in SCOPE_COLUMNS.values()),
            SCORES.c.score,
            SCORES.c.band,
            SCORES.c.last_month_score,
            drop.label("drop"),
        )
        .join(SCORES, SCORES.c.account_id == ACCOUNTS.c.account_id)
        .where(SCORES.c.as_of == day)
        .where(or_(ACCOUNTS.c.churned_on.is_(None), ACCOUNTS.c.churned_on > day))
    )
    if csm is not None:
        query = query.where(ACCOUNTS.c.csm_owner == csm)
    if q.csms:
        query = query.where(ACCOUNTS.c.csm_owner.in_(q.csms))
    for kind, value in q.scope:
        query = query.where(ACCOUNTS.c[SCOPE_COLUMNS[kind]] == value)
    bands = band_names(q, model)
    if bands:
        query = query.where(SCORES.c.band.in_(bands))
    for kind, value in q.exclude:
        left_out = ACCOUNTS.c.csm_owner if kind == "csm" else ACCOUNTS.c[SCOPE_COLUMNS[kind]]
        query = query.where(or_(left_out.is_(None), left_out != value))
    if q.score_min is not None:
        query = query.where(SCORES.c.score >= q.score_min)
    if q.score_max is not None:
        query = query.where(SCORES.c.score <= q.score_max)
    if q.arr_min is not None:
        query = query.where(ACCOUNTS.c.arr >= q.arr_min)
    if q.arr_max is not None:
        query = query.where(ACCOUNTS.c.arr <= q.arr_max)
    if q.signals:
        text = cast(SCORES.c.signals, Text)
        query = query.where(or_(*(text.like(f'%"key": "{key}"%') for key in q.signals)))
    span = renewal_span(q, day)
    if span is not None:
        query = query.where(ACCOUNTS.c.renewal_date >= span[0], ACCOUNTS.c.renewal_date <= span[1])
    if q.dropped is not None:
        query = query.where(drop >= q.dropped)
    if q.declining:
        query = query.where(drop > model.stable_points)
    if q.sort == "drop":
        query = query.where(drop > 0)
    if q.sort == "gain":
        query = query.where(drop < 0)
    for column, days in (("last_touch", q.no_touch_days), ("last_login", q.no_login_days), ("last_qbr", q.no_qbr_days)):
        if days is None:
            continue
        recent = extra[column] if column in extra else _most_recent(column, day)
        extra[column] = recent
        query = query.where(or_(recent.is_(None), recent < day - timedelta(days=days)))
    if q.nps_max is not None:
        extra["nps"] = _latest("nps", day)
        query = query.where(extra["nps"] <= q.nps_max)
    if q.overdue:
        extra["days_overdue"] = _latest("days_overdue", day)
        query = query.where(extra["days_overdue"] > 0)
    return query, extra


def _order(q: Question) -> list[Any]:
    name = ACCOUNTS.c.name
    if q.sort == "arr" or (q.expansion and not q.sort):
        return [func.coalesce(ACCOUNTS.c.arr, 0).desc(), name]
    if q.sort == "drop":
        return [_shown_drop().desc(), name]
    if q.sort == "gain":
        return [_shown_drop().asc(), name]
    if q.sort == "score_desc":
        return [SCORES.c.score.desc(), name]
    if q.renew_days is not None or q.renew_window:
        return [ACCOUNTS.c.renewal_date, name]
    return [SCORES.c.score, name]


def _with_extras(connection: Any, frame: pd.DataFrame, extra: dict[str, Any]) -> pd.DataFrame:
    """The metrics columns a list shows (last touch, NPS, …), read for the rows shown only."""
    if frame.empty:
        return frame.assign(**{label: pd.Series(dtype="object") for label in extra})
    query = select(ACCOUNTS.c.account_id, *(value.label(label) for label, value in extra.items())).where(
        ACCOUNTS.c.account_id.in_(list(frame["account_id"]))
    )
    return frame.merge(pd.read_sql(query, connection), on="account_id", how="left")


def matching(
    engine: Engine, model: HealthModel, q: Question, day: date, *, csm: str | None, shown: int | None = SHOWN
) -> Matches:
    """The accounts scored on `day` that the question's scope and filters select: how many, and the first `shown`
    (all of them with `shown=None`) sorted as asked, with the report's columns for them."""
    query, extra = _query(model, q, day, csm=csm)
    limit = min(x for x in (q.limit, shown) if x is not None) if (q.limit or shown) else None
    with engine.connect() as connection:
        if q.expansion:  # needs the model: every filtered row, then the model's rule
            frame = pd.read_sql(query.order_by(*_order(q)), connection)
            total = 0
        else:
            # One pass: the rows shown and, on each, how many match in all.
            page = query.add_columns(func.count().over().label("total")).order_by(*_order(q))
            frame = pd.read_sql(page.limit(limit) if limit else page, connection)
            total = int(frame["total"].iloc[0]) if len(frame) else 0
    frame["arr"] = pd.to_numeric(frame["arr"]).astype("float64")  # a blank ARR stays blank, as in the report
    if q.expansion:
        if len(frame):
            book = insights.load_book(engine, model, day, account_ids=list(frame["account_id"]))
            ready = book_math.expansion_ready(book, model, reasons_for=0)
            frame = frame.merge(ready[["account_id", "opportunity"]], on="account_id")
        else:
            frame = frame.assign(opportunity=pd.Series(dtype="string"))
        total = len(frame)
        frame = frame.head(limit) if limit else frame
    with engine.connect() as connection:
        frame = _with_extras(connection, frame, extra)
    return Matches(frame.reset_index(drop=True), int(total))
