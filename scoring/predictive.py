"""Predictive power: which measures go with churn, which way, and how strongly (the seeds' "predictive power analysis").

Works on labelled observations (see `scoring.backtest.observation_rows`): one snapshot per account per month, each
marked churned when the account left within the horizon after it. For every measure of the catalogue that has data
— raw metrics, ratios, look-backs, days-since measures, account facts and tags — it reports coverage, direction,
ROC AUC with a bootstrap 90% interval, the churn rate of the riskiest tenth relative to everyone (top-decile lift)
and the churn rate by quintile. It flags measures the model in force scores the other way round from the data.

The interval resamples *accounts*, not rows (an account's monthly snapshots are not independent). Past a few thousand
accounts it resamples a random 1,500 of them and narrows the spread by √(1,500 / accounts) — the m-out-of-n
bootstrap — so a million observations cost seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scoring.measures import CATALOGUE, MeasureName, SnapshotTable, format_value, parse_measure
from scoring.model import HealthModel

BOOTSTRAP_RESAMPLES = 200
BOOTSTRAP_ACCOUNTS = 1_500  # beyond this many accounts, m-out-of-n
_BINS = 256  # distinct values kept per measure inside the bootstrap (the point estimate is exact)

# Numeric measures worth a look, by kind of look-back: counts and money change relatively, bounded scores by delta.
RELATIVE_TRENDS = ("active_users", "seats_purchased", "logins_30d", "features_used", "tickets_30d", "mrr")
DELTA_TRENDS = ("seat_utilisation", "feature_adoption", "logins_per_user_week", "nps", "csat", "training_completion")
LEVELS = tuple(
    name for name, info in CATALOGUE.items() if info.unit not in ("text", "tags", "score") and not info.history
)
TEXT_FACTS = ("segment", "plan_tier", "lifecycle_stage", "region", "industry", "plan_change")
# Account facts the store keeps only as they are today: a backtest reads them as they were, which can leak the
# outcome (a former customer's stage is "renewal", its tags say why it left). Reported, never learned from.
TODAYS_FACTS = ("lifecycle_stage", "tags")
MIN_VALUE_SHARE = 0.01  # a text value or tag must cover this share of observations to be reported on its own


def catalogue_measures() -> list[str]:
    """The numeric measures the predictive-power report looks at: levels, 30/90-day changes and 90-day averages."""
    names = list(LEVELS)
    for base in RELATIVE_TRENDS:
        names += [f"{base}_change_30d", f"{base}_change_90d", f"{base}_vs_avg_90d"]
    for base in DELTA_TRENDS:
        names += [f"{base}_delta_30d", f"{base}_delta_90d"]
    return names


def measure_label(name: str) -> str:
    """A measure in words: `active_users_change_30d` → "active users change over 30 days"."""
    if "=" in name:
        base, value = name.split("=", 1)
        return f"{CATALOGUE[base].label} is {value}" if base in CATALOGUE else name
    if name.startswith("tags:"):
        return f"tagged {name[5:]}"
    parsed: MeasureName = parse_measure(name)
    label = parsed.info.label
    days = parsed.days
    return {
        None: label,
        "change": f"{label} change over {days} days",
        "delta": f"{label} change over {days} days",
        "vs_avg": f"{label} vs its {days}-day average",
        "avg": f"{label}, {days}-day average",
        "ago": f"{label} {days} days ago",
    }[parsed.lookback]


# --- ROC AUC and friends --------------------------------------------------------------------------------------
def roc_auc(risk: np.ndarray, positive: np.ndarray) -> float | None:
    """ROC AUC of `risk` (higher = more likely positive) by the rank-sum formula, ties counted half; rows without a
    value are left out. None when either class is missing."""
    return _Ranked.of(np.asarray(risk, dtype="float64"), np.asarray(positive, dtype=bool)).auc()


def top_share_rate(risk: np.ndarray, positive: np.ndarray, share: float = 0.1) -> float | None:
    """Churn rate among the riskiest `share` of rows; a tied block across the boundary counts in proportion (what
    breaking the ties at random would give on average). None without rows."""
    keep = ~np.isnan(risk)
    risk, positive = risk[keep], np.asarray(positive, dtype=bool)[keep]
    if len(risk) == 0:
        return None
    values, inverse = np.unique(-risk, return_inverse=True)  # riskiest first
    rows = np.bincount(inverse, minlength=len(values)).astype("float64")
    hits = np.bincount(inverse, weights=positive.astype("float64"), minlength=len(values))
    wanted = share * len(risk)
    before = np.cumsum(rows) - rows
    taken = np.clip(wanted - before, 0, rows)  # rows of each tied block inside the top share
    with np.errstate(invalid="ignore", divide="ignore"):
        churned = float(np.sum(np.where(rows > 0, hits * taken / rows, 0.0)))
    return churned / wanted


@dataclass(frozen=True)
class Bootstrap:
    """Account resampling weights shared by every measure: one row of weights per resample."""

    rows: np.ndarray  # observation positions that take part (the sampled accounts' observations)
    weights: np.ndarray  # resamples × len(rows)
    scale: float  # √(m / accounts): narrows the m-out-of-n spread to the full book's

    @classmethod
    def draw(
        cls,
        account: np.ndarray,
        *,
        resamples: int = BOOTSTRAP_RESAMPLES,
        max_accounts: int = BOOTSTRAP_ACCOUNTS,
        seed: int = 2026,
    ) -> Bootstrap:
        rng = np.random.default_rng(seed)
        codes, dense = np.unique(account, return_inverse=True)
        n_accounts = len(codes)
        m = min(n_accounts, max_accounts)
        chosen = np.sort(rng.choice(n_accounts, m, replace=False)) if m < n_accounts else np.arange(n_accounts)
        slot = np.full(n_accounts, -1)
        slot[chosen] = np.arange(m)
        rows = np.flatnonzero(slot[dense] >= 0)
        # Each resample draws m accounts with replacement: an account's weight is how often it was drawn.
        draws = rng.integers(0, m, (resamples, m))
        per_account = np.zeros((resamples, m))
        np.add.at(per_account, (np.repeat(np.arange(resamples), m), draws.ravel()), 1.0)
        return cls(rows, per_account[:, slot[dense[rows]]], float(np.sqrt(m / max(n_accounts, 1))))

    def interval(self, values: np.ndarray, positive: np.ndarray, auc: float) -> tuple[float, float] | None:
        """90% interval of the AUC of `values` (higher = riskier) around the exact `auc`."""
        x = values[self.rows]
        y = np.asarray(positive, dtype=bool)[self.rows]
        keep = ~np.isnan(x)
        if y[keep].all() or not y[keep].any():
            return None
        x, y = x[keep], y[keep]
        distinct, rank = np.unique(x, return_inverse=True)
        bins = rank if len(distinct) <= _BINS else (rank * _BINS // len(distinct))
        k = int(bins.max()) + 1
        key = bins * 2 + y
        # Rows grouped by (bin, churned): each resample's counts are sums of its weights over each group.
        order = np.argsort(key, kind="stable")
        present, starts = np.unique(key[order], return_index=True)
        sums = np.add.reduceat(self.weights[:, np.flatnonzero(keep)[order]], starts, axis=1)
        counts = np.zeros((self.weights.shape[0], 2 * k))
        counts[:, present] = sums
        unit = np.bincount(key, minlength=2 * k).reshape(k, 2).astype("float64")[None]
        boot, centre = _binned_auc(counts.reshape(-1, k, 2)), _binned_auc(unit)[0]
        boot = boot[~np.isnan(boot)]
        if len(boot) == 0 or np.isnan(centre):
            return None
        low, high = np.percentile(boot - centre, [5, 95]) * self.scale
        return float(np.clip(auc + low, 0, 1)), float(np.clip(auc + high, 0, 1))


def _binned_auc(counts: np.ndarray) -> np.ndarray:
    neg, pos = counts[..., 0], counts[..., 1]
    below = np.cumsum(neg, axis=-1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(-1) / (pos.sum(-1) * neg.sum(-1))


# --- the per-measure report -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    """Observations whose measure lies in [low, high] (a quintile, or one value of a discrete measure)."""

    low: float
    high: float
    observations: int
    churn_rate: float


@dataclass(frozen=True)
class MeasurePower:
    """How one measure goes with churn within the horizon over the labelled observations."""

    measure: str  # a catalogue measure, "segment=smb" for one text value, "tags:champion_left" for one tag
    label: str
    coverage: float  # share of observations with a value
    observations: int
    direction: str  # "higher = riskier" or "higher = safer" (for a value or tag: "riskier" / "safer")
    auc: float  # in the data's own direction, so 0.5 … 1
    auc_low: float | None  # bootstrap 90% interval
    auc_high: float | None
    top_decile_lift: float | None  # churn rate of the riskiest tenth ÷ the average churn rate
    quintiles: list[Group] = field(default_factory=list)
    model_direction: str | None = None  # how the model in force scores it, when it does
    opposite: bool = False  # the model scores it the other way round, and the interval excludes 0.5
    note: str | None = None  # the flag in plain words


@dataclass(frozen=True)
class _Ranked:
    """A measure's distinct values in order, with how many observations and churned observations each has: every
    figure of a report line comes from these, after one sort."""

    values: np.ndarray
    rows: np.ndarray
    churned: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, positive: np.ndarray) -> _Ranked:
        keep = ~np.isnan(x)
        values = x[keep]
        if len(values) and np.isfinite(values).all():
            low, high = values.min(), values.max()
            if high - low < 100_000 and np.array_equal(values, np.round(values)):
                # Whole numbers in a modest range (counts, days, flags): count them instead of sorting.
                codes = (values - low).astype(np.int64)
                rows = np.bincount(codes).astype("float64")
                churned = np.bincount(codes, weights=positive[keep].astype("float64"))
                present = rows > 0
                return cls(np.flatnonzero(present) + low, rows[present], churned[present])
        order = np.argsort(values)
        sorted_x = values[order]
        sorted_y = positive[keep][order].astype("float64")
        starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]]) if len(sorted_x) else np.array([], int)
        rows = np.diff(np.r_[starts, len(sorted_x)]).astype("float64")
        churned = np.add.reduceat(sorted_y, starts) if len(starts) else np.array([])
        return cls(sorted_x[starts], rows, churned)

    def auc(self) -> float | None:
        """ROC AUC of "higher = riskier", ties counted half."""
        neg = self.rows - self.churned
        n_pos, n_neg = self.churned.sum(), neg.sum()
        if n_pos == 0 or n_neg == 0:
            return None
        below = np.cumsum(neg) - neg
        return float((self.churned * (below + 0.5 * neg)).sum() / (n_pos * n_neg))

    def top_rate(self, riskier: bool, share: float = 0.1) -> float:
        """Churn rate of the riskiest `share` (ties across the boundary in proportion)."""
        rows, churned = (self.rows[::-1], self.churned[::-1]) if riskier else (self.rows, self.churned)
        wanted = share * rows.sum()
        taken = np.clip(wanted - (np.cumsum(rows) - rows), 0, rows)
        return float((churned * taken / rows).sum() / wanted)

    def quintiles(self) -> list[Group]:
        """Churn rate by fifth of the observations (by average rank, so tied values stay together); a measure with at
        most five values gets one group per value."""
        n = self.rows.sum()
        if len(self.values) <= 5:
            codes = np.arange(len(self.values))
        else:
            average_rank = np.cumsum(self.rows) - (self.rows - 1) / 2
            codes = np.minimum((average_rank - 1) * 5 // n, 4).astype(int)
        out = []
        for code in np.unique(codes):
            inside = codes == code
            rows = self.rows[inside].sum()
            out.append(
                Group(
                    float(self.values[inside].min()),
                    float(self.values[inside].max()),
                    int(rows),
                    round(float(self.churned[inside].sum() / rows), 4),
                )
            )
        return out


def model_directions(model: HealthModel) -> dict[str, str]:
    """How the model scores each numeric metric: "higher = healthier" or "higher = riskier" (its points' slope)."""
    out: dict[str, str] = {}
    for dimension in model.dimensions:
        for metric in dimension.metrics:
            if metric.points and metric.weight > 0 and metric.points[-1][1] != metric.points[0][1]:
                rising = metric.points[-1][1] > metric.points[0][1]
                out[metric.measure] = "higher = healthier" if rising else "higher = riskier"
    return out


def measure_power(
    name: str,
    values: np.ndarray,
    positive: np.ndarray,
    boot: Bootstrap,
    *,
    model_direction: str | None = None,
) -> MeasurePower | None:
    """The report line of one measure (None when it has no data or its observations are all one class)."""
    values = np.asarray(values, dtype="float64")
    ranked = _Ranked.of(values, positive)
    raw = ranked.auc()
    if raw is None:
        return None
    riskier = raw >= 0.5
    auc = max(raw, 1 - raw)
    interval = boot.interval(values if riskier else -values, positive, auc)
    covered = ~np.isnan(values)
    base = float(ranked.churned.sum() / ranked.rows.sum())
    top = ranked.top_rate(riskier)
    indicator = "=" in name or name.startswith("tags:")
    direction = ("riskier" if riskier else "safer") if indicator else f"higher = {'riskier' if riskier else 'safer'}"
    opposite = (
        model_direction is not None
        and (model_direction == "higher = healthier") == riskier
        and interval is not None
        and interval[0] > 0.5
    )
    label = measure_label(name)
    note = None
    if opposite:
        way = "healthier" if model_direction == "higher = healthier" else "riskier"
        data = "more" if riskier else "less"
        note = (
            f"Your model treats higher {label} as {way}; on your data accounts with higher {label} churned {data} "
            f"often (ROC AUC {auc:.2f} the other way round, 90% interval {interval[0]:.2f}–{interval[1]:.2f})."
            if interval
            else None
        )
    return MeasurePower(
        measure=name,
        label=label,
        coverage=round(float(covered.mean()), 4),
        observations=int(covered.sum()),
        direction=direction,
        auc=round(auc, 4),
        auc_low=None if interval is None else round(interval[0], 4),
        auc_high=None if interval is None else round(interval[1], 4),
        top_decile_lift=None if top is None or base == 0 else round(top / base, 3),
        quintiles=ranked.quintiles(),
        model_direction=model_direction,
        opposite=opposite,
        note=note,
    )


def observed_measures(
    table: SnapshotTable, rows: np.ndarray, *, include_todays_facts: bool = True
) -> dict[str, np.ndarray]:
    """Every measure of the report on the observation `rows`: numeric measures as they are, and one 0/1 column per
    frequent text value and tag. Look-backs are worked out for these rows only (nothing cached for all snapshots)."""
    out: dict[str, np.ndarray] = {}
    lookbacks = RowLookBacks(table, rows)
    for name in catalogue_measures():
        values = lookbacks.value(name)
        values[np.isinf(values)] = np.nan  # "up from nothing" has no place on a ranking
        if not np.isnan(values).all():
            out[name] = values
    for fact in TEXT_FACTS:
        if not include_todays_facts and fact in TODAYS_FACTS:
            continue
        codes, values = pd.factorize(pd.Series(table.measure_at(fact, rows), dtype=object))
        shares = np.bincount(codes[codes >= 0], minlength=len(values)) / max(len(codes), 1)
        for code, value in enumerate(values):
            if shares[code] >= MIN_VALUE_SHARE:
                out[f"{fact}={value}"] = (codes == code).astype("float64")
    if include_todays_facts:
        tags = table.per_account("tags", "text")
        if any(t for t in tags if t):
            seen = pd.Series([t for t in tags if t]).str.split(r"\s*[;,]\s*", regex=True).explode().str.strip()
            counts = seen[seen != ""].value_counts()
            for tag in counts.index:
                has = table.has_tag(str(tag))[rows]
                if has.mean() >= MIN_VALUE_SHARE:
                    out[f"tags:{tag}"] = has.astype("float64")
    return out


class RowLookBacks:
    """Measures on some rows of a SnapshotTable, with the look-back positions found once per span: what
    `SnapshotTable.measure_at` gives, computed the same way, without searching the history again for every measure
    (a million observations × 40 look-backs)."""

    def __init__(self, table: SnapshotTable, rows: np.ndarray) -> None:
        self.table = table
        self.rows = rows
        self._then: dict[int, np.ndarray] = {}
        self._start: dict[int, np.ndarray] = {}

    def value(self, name: str) -> np.ndarray:
        """The measure `name` on the rows, float64 (NaN = no data)."""
        parsed = parse_measure(name)
        t, rows = self.table, self.rows
        if parsed.lookback is None:
            return np.asarray(t.measure_at(name, rows), dtype="float64")
        base = t.measure(parsed.base)
        now = base[rows]
        days = parsed.days
        if parsed.lookback in ("avg", "vs_avg"):
            if days not in self._start:
                self._start[days] = np.searchsorted(t.key, t.key[rows] - days, side="left")
            start = self._start[days]
            has = ~np.isnan(base)
            sums = np.concatenate(([0.0], np.cumsum(np.where(has, base, 0.0))))
            counts = np.concatenate(([0], np.cumsum(has)))
            total, count = sums[rows] - sums[start], counts[rows] - counts[start]
            with np.errstate(invalid="ignore", divide="ignore"):
                average = np.where(count > 0, total / np.maximum(count, 1), np.nan)
                if parsed.lookback == "avg":
                    return average
                ratio = now / np.where(average > 0, average, 1.0)
                return np.where(average > 0, ratio, np.where(now > 0, np.inf, np.nan))
        if days not in self._then:
            self._then[days] = t.nearest_before(days, rows)
        position = self._then[days]
        then = base[np.maximum(position, 0)].astype("float64")
        then[position < 0] = np.nan
        if parsed.lookback == "ago":
            return then
        if parsed.lookback == "delta":
            return now - then
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(then > 0, now / np.where(then > 0, then, 1.0), np.nan) - 1.0


def predictive_power(
    measures: dict[str, np.ndarray], positive: np.ndarray, account: np.ndarray, model: HealthModel
) -> list[MeasurePower]:
    """The report, strongest measure first (see the module docstring)."""
    boot = Bootstrap.draw(account)
    directions = model_directions(model)
    lines = [
        measure_power(name, values, positive, boot, model_direction=directions.get(name))
        for name, values in measures.items()
    ]
    return sorted((p for p in lines if p is not None), key=lambda p: (-p.auc, p.measure))


def describe_group(power: MeasurePower, group: Group) -> str:
    """A quintile in words: "48%–61%: 4.1% churned"."""
    if "=" in power.measure or power.measure.startswith("tags:"):
        return f"{'yes' if group.low >= 0.5 else 'no'}: {group.churn_rate:.1%}"
    unit = parse_measure(power.measure).unit
    low, high = format_value(group.low, unit), format_value(group.high, unit)
    span = low if low == high else f"{low} to {high}"
    return f"{span}: {group.churn_rate:.1%}"
