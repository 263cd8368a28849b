"""Measures: the numbers a health model scores and its signals test, computed from each account's metric history.

A measure is a base name from `CATALOGUE` (a metrics column such as `tickets_30d`, or a derived one such as
`seat_utilisation`), optionally followed by a look-back suffix on numeric measures:

- `<m>_change_<N>d`  relative change vs the value about N days earlier (−0.31 = down 31%)
- `<m>_delta_<N>d`   difference in the measure's own units (NPS 8 → 6 is −2)
- `<m>_<N>d_ago`     the value about N days earlier
- `<m>_avg_<N>d`     average over the snapshots in the N days before (the current one excluded)
- `<m>_vs_avg_<N>d`  the value divided by that average (8 tickets vs 3 on average is 2.67)

"About N days earlier" is the snapshot nearest to N days before, within a quarter of N (at least 3 days): monthly
snapshots on the 1st give last month's value for `_30d` although months differ in length.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Unit = Literal["share", "count", "days", "number", "money", "flag", "text", "tags", "score"]


@dataclass(frozen=True)
class MeasureInfo:
    """What a base measure is called and counted in."""

    label: str
    unit: Unit
    history: bool = False  # known only once scores exist (the score itself, decline streaks)


CATALOGUE: dict[str, MeasureInfo] = {
    # usage
    "active_users": MeasureInfo("active users", "count"),
    "seats_purchased": MeasureInfo("seats purchased", "count"),
    "seat_utilisation": MeasureInfo("seat utilisation", "share"),
    "logins_30d": MeasureInfo("logins in 30 days", "count"),
    "logins_per_user_week": MeasureInfo("logins per active user a week", "number"),
    "features_used": MeasureInfo("features used", "count"),
    "features_total": MeasureInfo("features available", "count"),
    "feature_adoption": MeasureInfo("feature adoption", "share"),
    "days_since_login": MeasureInfo("days since last login", "days"),
    # support
    "tickets_30d": MeasureInfo("tickets in 30 days", "count"),
    "high_priority_open": MeasureInfo("high-priority tickets open", "count"),
    "escalations_90d": MeasureInfo("escalations in 90 days", "count"),
    "csat": MeasureInfo("CSAT", "number"),
    # sentiment
    "nps": MeasureInfo("NPS", "number"),
    # financial
    "mrr": MeasureInfo("MRR", "money"),
    "arr": MeasureInfo("ARR", "money"),
    "days_overdue": MeasureInfo("days overdue", "days"),
    "plan_change": MeasureInfo("plan change", "text"),
    "days_to_renewal": MeasureInfo("days to renewal", "days"),
    # engagement
    "csm_touches_90d": MeasureInfo("CSM touches in 90 days", "count"),
    "days_since_touch": MeasureInfo("days since last CSM touch", "days"),
    "exec_sponsor_engaged": MeasureInfo("executive sponsor engaged", "flag"),
    "days_since_qbr": MeasureInfo("days since last QBR", "days"),
    "training_completion": MeasureInfo("training completion", "share"),
    # relationship: the CSM's own read of the account, set in Slack (bot/pulse.py), 1 (critical) … 6 (thriving)
    "csm_pulse": MeasureInfo("CSM pulse", "number"),
    # account facts
    "tags": MeasureInfo("tags", "tags"),
    "segment": MeasureInfo("segment", "text"),
    "lifecycle_stage": MeasureInfo("lifecycle stage", "text"),
    "region": MeasureInfo("region", "text"),
    "industry": MeasureInfo("industry", "text"),
    "plan_tier": MeasureInfo("plan tier", "text"),
    # score history
    "score": MeasureInfo("health score", "score", history=True),
    "declines_in_a_row": MeasureInfo("periods in a row the score fell", "count", history=True),
}

_SUFFIX = re.compile(r"^(?:(?P<kind>change|delta|avg|vs_avg)_(?P<days>\d+)d|(?P<ago>\d+)d_ago)$")
MAX_LOOKBACK_DAYS = 730

NUMERIC_METRICS = (
    "active_users",
    "seats_purchased",
    "logins_30d",
    "features_used",
    "features_total",
    "tickets_30d",
    "high_priority_open",
    "escalations_90d",
    "csat",
    "nps",
    "mrr",
    "days_overdue",
    "csm_touches_90d",
    "training_completion",
    "csm_pulse",
)
DATE_METRICS = ("last_login", "last_touch", "last_qbr")
ACCOUNT_TEXT = ("segment", "lifecycle_stage", "region", "industry", "plan_tier")


@dataclass(frozen=True)
class MeasureName:
    """A parsed measure name: its base and the look-back applied to it, if any."""

    name: str
    base: str
    lookback: str | None = None  # change, delta, avg, vs_avg or ago
    days: int = 0

    @property
    def info(self) -> MeasureInfo:
        return CATALOGUE[self.base]

    @property
    def unit(self) -> Unit:
        if self.lookback == "change":
            return "share"
        if self.lookback == "vs_avg":
            return "number"
        return self.info.unit

    @property
    def numeric(self) -> bool:
        return self.unit not in ("text", "tags")

    @property
    def needs_history(self) -> bool:
        return self.info.history


@functools.lru_cache(maxsize=1024)
def parse_measure(name: str) -> MeasureName:
    """Split `tickets_30d_vs_avg_90d` into base `tickets_30d` and look-back `vs_avg` over 90 days.

    Raises:
        ValueError: the name is not a measure; the message lists what is allowed.
    """
    if name in CATALOGUE:
        return MeasureName(name, name)
    for base in sorted(CATALOGUE, key=len, reverse=True):
        if not name.startswith(base + "_"):
            continue
        match = _SUFFIX.match(name[len(base) + 1 :])
        if match is None:
            continue
        if CATALOGUE[base].unit in ("text", "tags"):
            raise ValueError(f"'{name}': {base} is text, so it has no change over time")
        days = int(match["days"] or match["ago"])
        if not 1 <= days <= MAX_LOOKBACK_DAYS:
            raise ValueError(f"'{name}': look-backs go from 1 to {MAX_LOOKBACK_DAYS} days")
        return MeasureName(name, base, match["kind"] or "ago", days)
    raise ValueError(
        f"'{name}' is not a measure; use one of {', '.join(CATALOGUE)}, optionally with a suffix "
        "_change_<N>d, _delta_<N>d, _avg_<N>d, _vs_avg_<N>d or _<N>d_ago"
    )


def tolerance(days: int) -> int:
    """How far from "about `days` earlier" a snapshot may lie: a quarter of `days`, at least 3 days."""
    return max(3, days // 4)


def _as_days(values: pd.Series) -> np.ndarray:
    """Dates (date objects, ISO strings, datetime64, Timestamps) as float days since 1970; missing → NaN."""
    stamps = pd.to_datetime(values, errors="coerce")
    days = stamps.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    out = days.astype("int64").astype("float64")
    out[np.isnat(days)] = np.nan
    return out


def _as_float(values: pd.Series) -> np.ndarray:
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        # Booleans arrive as True/False/None or "true"/"false" depending on the reader.
        lowered = values.astype("string").str.strip().str.lower()
        mapped = lowered.map({"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0})
        # to_numeric gives a nullable array here; fillna with one will fail in pandas 4, so plain floats.
        numeric = pd.to_numeric(lowered, errors="coerce").astype("float64")
        return mapped.fillna(numeric).to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def as_text(values: pd.Series) -> np.ndarray:
    """Lower-cased, stripped text; missing or empty → None."""
    # Few distinct values over many rows: clean the distinct ones, then spread them back.
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    cleaned = pd.Series(uniques, dtype="string").str.strip().str.lower()
    cleaned = cleaned.where(cleaned != "").to_numpy(dtype=object, na_value=None)
    # Code −1 (missing) picks the None appended at the end.
    return np.concatenate([cleaned, np.array([None], dtype=object)])[codes]


def _account_codes(accounts: pd.Index, ids: pd.Series) -> np.ndarray:
    """Each row's position in `accounts` (−1: not there). Categorical IDs are looked up once per category, which
    spares a caller that has them (a daily run's few snapshots an account) a pass over every row's text."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        by_category = accounts.get_indexer(ids.cat.categories.astype(str))
        return np.append(by_category, -1)[ids.cat.codes.to_numpy()]  # code −1 (missing) picks the −1 at the end
    return accounts.get_indexer(ids.astype(str))


@dataclass(frozen=True)
class _Tags:
    """The accounts' tags: each account's code into `distinct`, the distinct tag lists written ";a;b;"."""

    codes: np.ndarray
    distinct: np.ndarray


class SnapshotTable:
    """One row per account per metrics snapshot, sorted by account then date, with every measure on demand.

    Account facts (segment, tags, ARR, renewal date) are kept per account and spread to rows through `code`.
    Measures are computed once and cached, so a model that tests `seat_utilisation` in three places pays once.
    """

    def __init__(self, accounts: pd.DataFrame, metrics: pd.DataFrame) -> None:
        accounts = accounts.drop_duplicates("account_id", keep="last").reset_index(drop=True)
        self.account_ids = accounts["account_id"].astype(str).to_numpy(dtype=object)
        codes = _account_codes(pd.Index(self.account_ids), metrics["account_id"])
        known = codes >= 0
        day = _as_days(metrics["as_of"])
        known &= ~np.isnan(day)
        order = np.lexsort((day[known], codes[known]))
        rows = np.flatnonzero(known)[order]
        self.source_rows = rows  # positions in the metrics frame, in our order
        self._in_order = len(rows) == len(metrics) and bool(np.all(rows[1:] > rows[:-1]))
        self.code = codes[rows].astype("int64")
        self.day = day[rows].astype("int64")
        self.n = len(rows)
        # One sortable integer per row: account in the high bits, day in the low ones.
        self._day0 = int(self.day.min()) if self.n else 0
        self.key = (self.code << 22) | (self.day - self._day0 + (1 << 21))
        self._metrics = metrics
        self._accounts = accounts
        self._cache: dict[str, np.ndarray] = {}
        self._nearest: dict[int, np.ndarray] = {}
        self._tags = self._normalised_tags(accounts)
        self.first_of_account = np.ones(self.n, dtype=bool)
        if self.n:
            self.first_of_account[1:] = self.code[1:] != self.code[:-1]

    # --- raw inputs -------------------------------------------------------------------------------------
    def _metric_column(self, column: str, kind: Literal["float", "days", "text"]) -> np.ndarray:
        if column not in self._metrics.columns:
            return np.full(self.n, np.nan) if kind != "text" else np.full(self.n, None, dtype=object)
        values = self._metrics[column]
        if not self._in_order:
            values = values.iloc[self.source_rows]
        if kind == "float":
            return _as_float(values)
        if kind == "days":
            return _as_days(values)
        return as_text(values)

    def per_account(self, column: str, kind: Literal["float", "days", "text"]) -> np.ndarray:
        """An accounts-file column, one value per account (in `account_ids` order)."""
        if column not in self._accounts.columns:
            if kind == "text":
                return np.full(len(self._accounts), None, dtype=object)
            return np.full(len(self._accounts), np.nan)
        convert = {"float": _as_float, "days": _as_days, "text": as_text}[kind]
        return convert(self._accounts[column])

    def account_column(self, column: str, kind: Literal["float", "days", "text"]) -> np.ndarray:
        """An accounts-file column spread to one value per snapshot row."""
        return self.per_account(column, kind)[self.code]

    @staticmethod
    def _normalised_tags(accounts: pd.DataFrame) -> _Tags:
        if "tags" not in accounts.columns:
            return _Tags(np.zeros(len(accounts), dtype="int64"), np.array([";"], dtype=object))
        codes, uniques = pd.factorize(accounts["tags"].astype("string").fillna("").str.lower())
        # ";a;b;" so that a tag is found with a plain substring search, never as part of a longer tag.
        cleaned = ";" + pd.Series(uniques, dtype="string").str.replace(r"\s*[;,]\s*", ";", regex=True).str.strip() + ";"
        return _Tags(codes, cleaned.to_numpy(dtype=object))

    def has_tag(self, tag: str) -> np.ndarray:
        """Whether each row's account carries `tag` (case-insensitive)."""
        wanted = f";{tag.strip().lower()};"
        # Few distinct tag lists among many accounts: each is searched once.
        found = np.array([wanted in text for text in self._tags.distinct], dtype=bool)
        return found[self._tags.codes][self.code]

    def account_tags(self, code: int) -> list[str]:
        """The tags of one account, as written (lower-cased)."""
        return [t for t in str(self._tags.distinct[self._tags.codes[code]]).split(";") if t]

    # --- look-backs -------------------------------------------------------------------------------------
    def nearest_before(self, days: int, rows: np.ndarray | None = None) -> np.ndarray:
        """For each row (or only `rows`), the row of the same account nearest to `days` earlier, within a
        quarter of `days` (at least 3), or −1 when there is none."""
        if rows is None and days in self._nearest:
            return self._nearest[days]
        here = np.arange(self.n) if rows is None else rows
        target = self.key[here] - days
        right = np.searchsorted(self.key, target, side="left")
        best = np.full(len(here), -1, dtype="int64")
        best_gap = np.full(len(here), tolerance(days) + 1, dtype="int64")
        for candidate in (right - 1, right):
            candidate = np.clip(candidate, 0, max(self.n - 1, 0))
            gap = np.abs(self.key[candidate] - target)
            # Same account (the key's high bits), close enough, and never the row itself.
            better = (gap < best_gap) & (self.code[candidate] == self.code[here]) & (candidate != here)
            best[better] = candidate[better]
            best_gap[better] = gap[better]
        if rows is None:
            self._nearest[days] = best
        return best

    def value_then(self, values: np.ndarray, days: int, rows: np.ndarray | None = None) -> np.ndarray:
        """`values` as they were about `days` earlier (for every row, or only `rows`); NaN without a snapshot."""
        then = self.nearest_before(days, rows)
        out = values[np.maximum(then, 0)].astype("float64")
        out[then < 0] = np.nan
        return out

    def previous_average(self, values: np.ndarray, days: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Mean of `values` over the snapshots in the `days` before each row (excluding it); NaN if none."""
        has = ~np.isnan(values)
        sums = np.concatenate(([0.0], np.cumsum(np.where(has, values, 0.0))))
        counts = np.concatenate(([0], np.cumsum(has)))
        here = np.arange(self.n) if rows is None else rows
        start = np.searchsorted(self.key, self.key[here] - days, side="left")
        total = sums[here] - sums[start]
        count = counts[here] - counts[start]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    # --- measures ---------------------------------------------------------------------------------------
    def set_history(self, name: str, values: np.ndarray) -> None:
        """Provide a score-history measure (`score`, `declines_in_a_row`) once scores exist."""
        self._cache = {k: v for k, v in self._cache.items() if parse_measure(k).base != name}
        self._cache[name] = values

    def measure(self, name: str) -> np.ndarray:
        """The measure `name` for every row: float64 (NaN = no data), or object arrays for text measures."""
        if name in self._cache:
            return self._cache[name]
        parsed = parse_measure(name)
        if parsed.lookback is None:
            if parsed.needs_history:
                raise KeyError(f"{name} is known only after scoring")
            values = _BASE_MEASURES[name](self)
        else:
            values = _lookback(self, self.measure(parsed.base), parsed, None)
        self._cache[name] = values
        return values

    def measure_at(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The measure `name` on `rows` only; a look-back not yet computed is worked out for those rows alone,
        which is what makes a signal's second condition cheap when its first one holds on few rows."""
        if name in self._cache:
            return self._cache[name][rows]
        parsed = parse_measure(name)
        if parsed.lookback is None:
            return self.measure(name)[rows]
        return _lookback(self, self.measure(parsed.base), parsed, rows)

    def only(self, rows: np.ndarray) -> SnapshotRows:
        """The table narrowed to `rows` (positions in this table, ascending): its measures are computed for those
        rows alone, their look-backs reading every row of this one."""
        return SnapshotRows(self, rows)


class SnapshotRows(SnapshotTable):
    """Some rows of a SnapshotTable (its `context`), as a table of their own: one row per position in `rows`.

    Plain measures are computed on these rows only; look-backs and the score history are read from the context,
    whose other rows are the earlier snapshots the look-backs need. Scoring a day from a few earlier snapshots
    is what this is for (`score_snapshots(..., rows=...)`).
    """

    def __init__(self, context: SnapshotTable, rows: np.ndarray) -> None:
        self.context = context
        self.rows = np.asarray(rows, dtype="int64")
        self.account_ids = context.account_ids
        self.source_rows = context.source_rows[self.rows]
        self.code = context.code[self.rows]
        self.day = context.day[self.rows]
        self.n = len(self.rows)
        self.key = context.key[self.rows]
        self._metrics = context._metrics
        self._accounts = context._accounts
        self._tags = context._tags
        self._cache = {}
        self._nearest = {}
        self._in_order = False  # its metrics columns are read at `source_rows`
        self.first_of_account = np.ones(self.n, dtype=bool)
        if self.n:
            self.first_of_account[1:] = self.code[1:] != self.code[:-1]

    def measure(self, name: str) -> np.ndarray:
        """The measure `name` for each of these rows, look-backs read from the context."""
        if name in self._cache:
            return self._cache[name]
        parsed = parse_measure(name)
        if parsed.lookback is None and not parsed.needs_history:
            values = _BASE_MEASURES[name](self)
        else:
            values = self.context.measure_at(name, self.rows)
        self._cache[name] = values
        return values

    def measure_at(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The measure `name` on `rows` (positions among these rows) only."""
        if name in self._cache:
            return self._cache[name][rows]
        parsed = parse_measure(name)
        if parsed.lookback is None and not parsed.needs_history:
            return self.measure(name)[rows]
        return self.context.measure_at(name, self.rows[rows])

    def set_history(self, name: str, values: np.ndarray) -> None:
        """The score history lives in the context (`SnapshotTable.set_history` there, for every row)."""
        raise TypeError("set the score history on the context table: its look-backs read the earlier rows")

    def nearest_before(self, days: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Look-backs go through the context (`context.nearest_before(days, table.rows)`)."""
        raise TypeError("these rows' earlier snapshots are in the context table: ask it, with `rows`")

    def previous_average(self, values: np.ndarray, days: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Look-backs go through the context (`context.previous_average(values, days, table.rows)`)."""
        raise TypeError("these rows' earlier snapshots are in the context table: ask it, with `rows`")


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def _days_since(t: SnapshotTable, column: str) -> np.ndarray:
    return t.day - t._metric_column(column, "days")


def _lookback(t: SnapshotTable, base: np.ndarray, parsed: MeasureName, rows: np.ndarray | None) -> np.ndarray:
    now = base if rows is None else base[rows]
    if parsed.lookback in ("avg", "vs_avg"):
        average = t.previous_average(base, parsed.days, rows)
        if parsed.lookback == "avg":
            return average
        with np.errstate(invalid="ignore", divide="ignore"):
            # 3 tickets after an average of 0 is a rise without bound: +inf compares as "way up", 0/0 stays NaN.
            return np.where(average > 0, now / np.where(average > 0, average, 1.0), np.where(now > 0, np.inf, np.nan))
    then = t.value_then(base, parsed.days, rows)
    if parsed.lookback == "ago":
        return then
    if parsed.lookback == "delta":
        return now - then
    return _ratio(now, then) - 1.0


def _metric_number(column: str) -> Callable[[SnapshotTable], np.ndarray]:
    return lambda t: t._metric_column(column, "float")


def _account_text(column: str) -> Callable[[SnapshotTable], np.ndarray]:
    return lambda t: t.account_column(column, "text")


_BASE_MEASURES: dict[str, Callable[[SnapshotTable], np.ndarray]] = {
    **{name: _metric_number(name) for name in NUMERIC_METRICS},
    "exec_sponsor_engaged": _metric_number("exec_sponsor_engaged"),
    "plan_change": lambda t: t._metric_column("plan_change", "text"),
    "seat_utilisation": lambda t: _ratio(t.measure("active_users"), t.measure("seats_purchased")),
    "feature_adoption": lambda t: _ratio(t.measure("features_used"), t.measure("features_total")),
    "logins_per_user_week": lambda t: _ratio(t.measure("logins_30d"), t.measure("active_users")) * 7 / 30,
    "days_since_login": lambda t: _days_since(t, "last_login"),
    "days_since_touch": lambda t: _days_since(t, "last_touch"),
    "days_since_qbr": lambda t: _days_since(t, "last_qbr"),
    "days_to_renewal": lambda t: t.account_column("renewal_date", "days") - t.day,
    "arr": lambda t: t.account_column("arr", "float"),
    **{name: _account_text(name) for name in ACCOUNT_TEXT},
    "tags": lambda t: np.zeros(t.n),  # tags are tested with `has`, never read as a number
}


# --- facts: measures in a CSM's words -----------------------------------------------------------------------
MINUS = "\u2212"


def _num(value: float, digits: int = 1) -> str:
    text = f"{abs(value):,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{abs(value):,.0f}"
    return (MINUS if value < 0 and text not in ("0", "0.0") else "") + text


def _pct(share: float) -> str:
    return f"{MINUS if share < 0 else ''}{abs(share) * 100:.0f}%"


def _signed(value: float, unit: Unit) -> str:
    sign = "+" if value > 0 else (MINUS if value < 0 else "±")
    if unit == "share":
        return f"{sign}{abs(value) * 100:.0f}%"
    if unit == "money":
        return f"{sign}${abs(value):,.0f}"
    return f"{sign}{_num(abs(value))}"


def signed_number(value: float, digits: int = 0) -> str:
    """+0.5, −0.5: a signed number with a real minus sign."""
    return f"{value:+.{digits}f}".replace("-", MINUS)


def format_value(value: float | str | None, unit: Unit) -> str:
    """A measure's value in its unit: 48%, 3 days, $45,000, yes/no."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    if isinstance(value, str):
        return value
    if unit == "share":
        return _pct(value)
    if unit == "money":
        return f"${value:,.0f}"
    if unit == "flag":
        return "yes" if value >= 0.5 else "no"
    if unit in ("count", "days"):
        return _num(value, 0)
    if math.isinf(value):
        return "no earlier baseline"
    return _num(value)


def _plural(n: float, noun: str, plural: str | None = None) -> str:
    return f"{_num(n, 0)} {noun if round(n) == 1 else (plural or noun + 's')}"


def _ago(days: float, what: str) -> str:
    if days <= 0:
        return f"{what} today"
    return f"{what} {_plural(days, 'day')} ago"


def fact(t: SnapshotTable, name: str, row: int) -> str | None:
    """One measure of one row as a CSM would say it ("12 of 25 seats active (48%)"), or None without data."""
    parsed = parse_measure(name)
    value = t.measure(name)[row]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = _base_fact(t, parsed.base, row) if parsed.lookback is None else _lookback_fact(t, parsed, row)
    return text[0].upper() + text[1:] if text else None


def _raw(t: SnapshotTable, name: str, row: int) -> float:
    return float(t.measure(name)[row])


def _base_fact(t: SnapshotTable, base: str, row: int) -> str:
    value = t.measure(base)[row]
    if base == "seat_utilisation":
        return (
            f"{_num(_raw(t, 'active_users', row), 0)} of {_plural(_raw(t, 'seats_purchased', row), 'seat')} "
            f"active ({_pct(value)})"
        )
    if base == "feature_adoption":
        used, total = _raw(t, "features_used", row), _raw(t, "features_total", row)
        return f"{_num(used, 0)} of {_num(total, 0)} key features used ({_pct(value)})"
    if base == "logins_per_user_week":
        return f"{_num(value)} logins per active user a week"
    if base == "days_since_login":
        return _ago(value, "last login")
    if base == "days_since_touch":
        return _ago(value, "last CSM touch")
    if base == "days_since_qbr":
        return _ago(value, "last QBR")
    if base == "days_to_renewal":
        return (
            f"renewal in {_plural(value, 'day')}" if value >= 0 else f"renewal date passed {_plural(-value, 'day')} ago"
        )
    if base == "tickets_30d":
        average = t.measure("tickets_30d_avg_90d")[row]
        extra = f" vs {_num(average)} avg" if not np.isnan(average) else ""
        return f"{_plural(value, 'ticket')} in 30 days{extra}"
    if base == "high_priority_open":
        return "no high-priority tickets open" if value == 0 else f"{_plural(value, 'high-priority ticket')} open"
    if base == "escalations_90d":
        return "no escalations in 90 days" if value == 0 else f"{_plural(value, 'escalation')} in 90 days"
    if base == "csat":
        return f"CSAT {_num(value)}/5"
    if base == "nps":
        before = t.measure("nps_90d_ago")[row]
        if not np.isnan(before) and before != value:
            return f"NPS {_num(value)} ({'down' if before > value else 'up'} from {_num(before)})"
        return f"NPS {_num(value)}"
    if base == "days_overdue":
        return "paid on time" if value <= 0 else f"payment {_plural(value, 'day')} overdue"
    if base == "csm_touches_90d":
        return f"{_plural(value, 'CSM touch', 'CSM touches')} in 90 days"
    if base == "csm_pulse":
        return f"CSM pulse {_num(value, 0)}/6"
    if base == "exec_sponsor_engaged":
        return "executive sponsor engaged" if value >= 0.5 else "executive sponsor not engaged"
    if base == "training_completion":
        return f"{_pct(value)} of users completed training"
    if base == "plan_change":
        return {"upgrade": "plan upgraded", "downgrade": "plan downgraded"}.get(str(value), f"plan change: {value}")
    if base == "tags":
        return "tags: " + ", ".join(t.account_tags(int(t.code[row])))
    if base == "declines_in_a_row":
        return f"score fell {_plural(value, 'period')} in a row"
    info = CATALOGUE[base]
    if info.unit == "count":
        return f"{_num(value, 0)} {info.label}"
    return f"{info.label} {format_value(value, info.unit)}"


def _lookback_fact(t: SnapshotTable, parsed: MeasureName, row: int) -> str:
    info = parsed.info
    now = t.measure(parsed.base)[row]
    value = float(t.measure(parsed.name)[row])
    span = f"{parsed.days} days"
    if parsed.lookback in ("avg", "vs_avg"):
        average = t.measure(f"{parsed.base}_avg_{parsed.days}d")[row]
        if parsed.lookback == "avg":
            return f"{info.label}: {format_value(average, info.unit)} on average over the previous {span}"
        return f"{info.label}: {format_value(now, info.unit)} vs {format_value(average, info.unit)} average"
    then = t.measure(f"{parsed.base}_{parsed.days}d_ago")[row]
    if parsed.lookback == "ago":
        return f"{info.label} {span} ago: {format_value(then, info.unit)}"
    was = f"{format_value(then, info.unit)} → {format_value(now, info.unit)}"
    change = _signed(value, "share" if parsed.lookback == "change" else info.unit)
    return f"{info.label} {change} vs {span} ago ({was})"


def _fact_inputs(t: SnapshotTable, parsed: MeasureName, rows: np.ndarray) -> list[np.ndarray]:
    """Every value `fact` reads for `parsed` on `rows`: two rows alike in all of them get the same words."""
    names = [parsed.name, *fact_reads(parsed.name)]
    inputs = [t.measure(name)[rows] for name in names]
    return [*inputs, t.code[rows]] if parsed.base == "tags" else inputs


# What `_base_fact` reads besides the measure itself.
_FACT_ALSO_READS: dict[str, tuple[str, ...]] = {
    "seat_utilisation": ("active_users", "seats_purchased"),
    "feature_adoption": ("features_used", "features_total"),
    "tickets_30d": ("tickets_30d_avg_90d",),
    "nps": ("nps_90d_ago",),
}


def fact_reads(name: str) -> tuple[str, ...]:
    """The measures `fact` reads to word `name`, besides `name` itself."""
    parsed = parse_measure(name)
    if parsed.lookback is None:
        return _FACT_ALSO_READS.get(parsed.base, ())
    related = f"_avg_{parsed.days}d" if parsed.lookback in ("avg", "vs_avg") else f"_{parsed.days}d_ago"
    return (parsed.base, parsed.base + related)


def metric_sources(base: str) -> tuple[str, ...]:
    """The metrics columns a base measure is computed from (none for account facts and the score history)."""
    if base in _SOURCES:
        return _SOURCES[base]
    return (base,) if base in NUMERIC_METRICS or base in ("exec_sponsor_engaged", "plan_change") else ()


_SOURCES: dict[str, tuple[str, ...]] = {
    "seat_utilisation": ("active_users", "seats_purchased"),
    "feature_adoption": ("features_used", "features_total"),
    "logins_per_user_week": ("logins_30d", "active_users"),
    "days_since_login": ("last_login",),
    "days_since_touch": ("last_touch",),
    "days_since_qbr": ("last_qbr",),
}


def facts(t: SnapshotTable, name: str, rows: np.ndarray) -> np.ndarray:
    """`fact` for each of `rows` (an object array of str or None), worded once per distinct set of values: a
    portfolio's facts repeat ("last login 3 days ago"), so the words are built per wording, not per account."""
    if len(rows) == 0:
        return np.empty(0, dtype=object)
    inputs = pd.DataFrame({i: values for i, values in enumerate(_fact_inputs(t, parse_measure(name), rows))})
    group = inputs.groupby(list(inputs.columns), dropna=False, sort=False).ngroup().to_numpy()
    first = np.full(group.max() + 1, -1, dtype="int64")
    first[group[::-1]] = np.arange(len(rows))[::-1]  # the first row of each group: its words stand for all
    worded = np.array([fact(t, name, int(rows[i])) for i in first], dtype=object)
    return worded[group]
