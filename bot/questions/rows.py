"""The accounts a list question asks for: the report table's rows, filtered, counted, sorted and paged in SQL.

Filters on the account (CSM, segment, region, …), the day's score (band, signals, the drop since last month) and
the renewal date are WHERE clauses; the latest metrics (NPS, payment) and the last touch, login or QBR are
correlated look-ups on the metrics' primary key, made only when asked about. Only the rows shown are read back.
Expansion-ready needs the model, so it is applied to the filtered rows.

How the work is shared (100,000 accounts, 94,000 scores on the day):
- A page is found in one pass that carries only the account IDs, the sort keys and a window COUNT (how many
  match in all); the report's columns are then read for the page's accounts alone. Sorting every match's report
  columns only to keep 99 of them cost several times more ("top 5 by ARR in EMEA": 28,000 wide rows sorted).
- The account columns a question narrows by (CSM, segment, region, industry, plan tier, lifecycle stage, renewal
  date) are indexed. A narrowed list starts from its accounts and joins each to its score by the score's primary
  key; a team-wide one starts from the day's scores. SQLite keeps no statistics here and guessed wrong for some
  (from the day's 94,000 scores for a renewal window, since an equality looks more selective to it than a range;
  from the scores when a band filter and a sort on the score came with a segment), so on SQLite the join is
  written CROSS JOIN, which it never reorders. PostgreSQL keeps statistics and gets a plain JOIN.
"""

from __future__ import annotations

import calendar
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Boolean, Float, Integer, Select, Text, and_, case, cast, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Join

from bot import insights
from bot.questions.parse import SHARE_MEASURES, Question
from bot.questions.vocabulary import SCOPE_COLUMNS
from bot.scoring_runs import ACCOUNTS, METRICS, SCORES
from bot.store.tables import ALERTS
from scoring import HealthModel
from scoring import portfolio as book_math
from scoring.measures import metric_sources

SHOWN = 99  # rows in one Slack table block (100, one of them the header); the rest go to a file


@dataclass(frozen=True)
class Matches:
    """The matching accounts (the first `shown` of them, sorted as asked) and how many match in all."""

    frame: pd.DataFrame
    total: int
    total_arr: float = 0.0  # of every match, not only those shown


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
    if q.renew_window == "passed":  # the renewal date is behind us (and the account still a customer)
        return date.min, day - timedelta(days=1)
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


def _shown_drop(quarter: bool = False) -> Any:
    """The fall since last month (or quarter) as the answer shows it: the difference of the two scores as shown, so
    that no account is listed as "down" beside "70 → 70 (0)" and "dropped 10 or more" agrees with its row."""
    before = SCORES.c.last_quarter_score if quarter else SCORES.c.last_month_score
    return _shown(before) - _shown(SCORES.c.score)


def over_a_quarter(q: Question) -> bool:
    """Whether the question's moves ("dropped", "improved", "biggest fall") are measured over a quarter ("since
    last quarter", "this quarter") rather than a month."""
    return (q.window_days or 0) >= 80 and bool(
        q.dropped is not None or q.gained is not None or q.sort in ("drop", "gain")
    )


class _InThisOrder(Join):
    """An inner join that SQLite must run with its left side as the outer loop."""

    inherit_cache = True


@compiles(_InThisOrder, "sqlite")
def _cross_join(join: _InThisOrder, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite never reorders the tables of a CROSS JOIN (https://sqlite.org/optoverview.html#crossjoin). The left
    # side is a table, so the first " JOIN " is this one.
    return str(compiler.visit_join(join, **kw)).replace(" JOIN ", " CROSS JOIN ", 1)


def _report_rows(joined: Any, day: date) -> Select[Any]:
    """The report's columns for the accounts scored on `day`, through `joined` (accounts and scores)."""
    return (
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
            SCORES.c.last_quarter_score,
            _shown_drop().label("drop"),
        )
        .select_from(joined)
        .where(SCORES.c.as_of == day)
    )


_ON_SCORE = SCORES.c.account_id == ACCOUNTS.c.account_id


def _query(model: HealthModel, q: Question, day: date, *, csm: str | None) -> tuple[Select[Any], dict[str, Any]]:
    drop, quarter = _shown_drop(), over_a_quarter(q)
    move = _shown_drop(quarter)  # "dropped 10 points this quarter": over the window asked for
    extra: dict[str, Any] = {"last_touch": _most_recent("last_touch", day)}
    span = renewal_span(q, day)
    if csm is not None or q.scope or span is not None:  # a few accounts: each joined to its score
        joined = _InThisOrder(ACCOUNTS, SCORES, _ON_SCORE)
    else:  # the whole team: the day's scores, each joined to its account
        joined = _InThisOrder(SCORES, ACCOUNTS, _ON_SCORE)
    query = _report_rows(joined, day).where(or_(ACCOUNTS.c.churned_on.is_(None), ACCOUNTS.c.churned_on > day))
    if csm is not None:
        query = query.where(ACCOUNTS.c.csm_owner == csm)
    if q.renew_window == "none":
        query = query.where(ACCOUNTS.c.renewal_date.is_(None))
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
    if span is not None:
        query = query.where(ACCOUNTS.c.renewal_date >= span[0], ACCOUNTS.c.renewal_date <= span[1])
    if q.dropped is not None:
        query = query.where(move >= q.dropped)
    if q.gained is not None:
        query = query.where(move <= -q.gained)
    if q.crossed_below is not None:
        query = query.where(SCORES.c.score < q.crossed_below, SCORES.c.last_month_score >= q.crossed_below)
    if q.declining:
        query = query.where(drop > model.stable_points)
    if q.sort == "drop":
        query = query.where(move > 0)
    if q.sort == "gain":
        query = query.where(move < 0)
    for column, days in (("last_touch", q.no_touch_days), ("last_login", q.no_login_days), ("last_qbr", q.no_qbr_days)):
        if days is None:
            continue
        recent = extra[column] if column in extra else _most_recent(column, day)
        extra[column] = recent
        query = query.where(or_(recent.is_(None), recent < day - timedelta(days=days)))
    if q.nps_max is not None:
        extra["nps"] = _latest("nps", day)
        query = query.where(extra["nps"] <= q.nps_max)
    if q.alerts is not None:  # an alert still open on the account (not resolved); or one nobody acknowledged
        alert = select(ALERTS.c.id).where(ALERTS.c.account_id == ACCOUNTS.c.account_id, ALERTS.c.resolved_at.is_(None))
        if q.alerts == "unacknowledged":
            alert = alert.where(ALERTS.c.acknowledged_at.is_(None))
        query = query.where(alert.exists())
    if q.plan_change is not None:
        extra["plan_change"] = _latest("plan_change", day)
        query = query.where(extra["plan_change"] == q.plan_change)
    if q.overdue:
        extra["days_overdue"] = _latest("days_overdue", day)
        query = query.where(extra["days_overdue"] > 0)
    for measure, op, threshold in q.metrics:
        extra[measure] = _metric_value(measure, day)
        query = query.where(_OPERATORS[op](extra[measure], threshold))
    if q.sort_by is not None:
        extra.setdefault(q.sort_by[0], _metric_value(q.sort_by[0], day))
    return query, extra


_OPERATORS: dict[str, Callable[[Any, float], Any]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def _metric_value(measure: str, day: date) -> Any:
    """The latest snapshot's value of a metrics column, or of a share of two as scoring works it out (seat
    utilisation: active users over seats; no value when the divisor is 0)."""
    if measure in SHARE_MEASURES:
        top, bottom = metric_sources(measure)
        return cast(_latest(top, day), Float) / func.nullif(_latest(bottom, day), 0)
    if isinstance(METRICS.c[measure].type, Boolean):  # a yes/no flag compared as 0 or 1 (PostgreSQL won't compare)
        return cast(_latest(measure, day), Integer)
    return _latest(measure, day)


def _order(q: Question, day: date) -> list[Any]:
    name = ACCOUNTS.c.name
    if q.sort_by is not None:  # "most tickets", "lowest NPS": accounts without the figure last
        measure, highest_first = q.sort_by
        value = _metric_value(measure, day)
        return [value.is_(None), value.desc() if highest_first else value.asc(), name]
    if q.sort == "arr" or (q.expansion and not q.sort):
        return [func.coalesce(ACCOUNTS.c.arr, 0).desc(), name]
    if q.sort == "drop":
        return [_shown_drop(over_a_quarter(q)).desc(), name]
    if q.sort == "gain":
        return [_shown_drop(over_a_quarter(q)).asc(), name]
    if q.sort == "score_desc":
        return [SCORES.c.score.desc(), name]
    if q.renew_days is not None or q.renew_window or q.sort == "renewal":
        return [ACCOUNTS.c.renewal_date.is_(None), ACCOUNTS.c.renewal_date, name]
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
        if q.expansion or limit is None:  # expansion needs the model: every filtered row, then the model's rule
            frame = pd.read_sql(query.order_by(*_order(q, day)), connection)
            total = len(frame)
            total_arr = float(pd.to_numeric(frame["arr"]).sum())
        else:
            # One pass that carries only the IDs: the page's accounts in order and how many match in all (sorting
            # the report's columns of every match, only to keep a page of them, cost several times more). Then the
            # report's columns of the page's accounts alone.
            keys = query.with_only_columns(
                ACCOUNTS.c.account_id, func.count().over(), func.sum(ACCOUNTS.c.arr).over()
            ).order_by(*_order(q, day))
            found = connection.execute(keys.limit(limit)).all()
            total = found[0][1] if found else 0
            total_arr = float(found[0][2] or 0) if found else 0.0
            ids = [row[0] for row in found]
            page = _report_rows(_InThisOrder(ACCOUNTS, SCORES, _ON_SCORE), day).where(ACCOUNTS.c.account_id.in_(ids))
            frame = pd.read_sql(page, connection).set_index("account_id").loc[ids].reset_index()
    frame["arr"] = pd.to_numeric(frame["arr"]).astype("float64")  # a blank ARR stays blank, as in the report
    if q.expansion:
        if len(frame):
            book = insights.load_book(engine, model, day, account_ids=list(frame["account_id"]))
            ready = book_math.expansion_ready(book, model, reasons_for=0)
            frame = frame.merge(ready[["account_id", "opportunity"]], on="account_id")
        else:
            frame = frame.assign(opportunity=pd.Series(dtype="string"))
        total = len(frame)
        total_arr = float(frame["arr"].sum())
        frame = frame.head(limit) if limit else frame
    with engine.connect() as connection:
        frame = _with_extras(connection, frame, extra)
    return Matches(frame.reset_index(drop=True), int(total), total_arr)
