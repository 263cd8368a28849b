"""Predictive power: which measures go with churn, which way, and how strongly (the seeds' "predictive power analysis").

Works on labelled observations (see `scoring.backtest.observation_rows`): one snapshot per account per month, each
marked churned when the account left within the horizon after it. For every measure of the catalogue that has data
— raw metrics, ratios, look-backs, days-since measures, account facts and tags — it reports coverage, direction,
ROC AUC with a bootstrap 90% interval, the churn rate of the riskiest tenth relative to everyone (top-decile lift)
and the churn rate by quintile. It flags measures the model in force scores the other way round from the data.

The interval resamples *accounts*, not rows (an account's monthly snapshots are not independent). Past a few thousand
accounts it resamples a random 2,000 of them and narrows the spread by √(2,000 / accounts) — the m-out-of-n
bootstrap — so a million observations cost seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scoring.measures import CATALOGUE, MeasureName, SnapshotTable, format_value, parse_measure
from scoring.model import HealthModel

BOOTSTRAP_RESAMPLES = 200
BOOTSTRAP_ACCOUNTS = 2_000  # beyond this many accounts, m-out-of-n
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
    """A measure in words: `active_users_change_30d` → "active users, change over 30 days"."""
    if "=" in name:
        base, value = name.split("=", 1)
        return f"{CATALOGUE[base].label} is {value}" if base in CATALOGUE else name
    if name.startswith("tags:"):
        return f"tagged {name[5:]}"
    parsed: MeasureName = parse_measure(name)
    label = parsed.info.label
    if parsed.lookback is None:
        return label
    words = {
        "change": "change over",
        "delta": "change over",
        "vs_avg": "vs its average over",
        "avg": "average over",
        "ago": "as it was",
    }[parsed.lookback]
    suffix = f"{parsed.days} days ago" if parsed.lookback == "ago" else f"{parsed.days} days"
    return f"{label}, {words} {suffix}"


# --- ROC AUC and friends --------------------------------------------------------------------------------------
def roc_auc(risk: np.ndarray, positive: np.ndarray) -> float | None:
    """ROC AUC of `risk` (higher = more likely positive) by the rank-sum formula, ties counted half; rows without a
    value are left out. None when either class is missing."""
    risk = np.asarray(risk, dtype="float64")
    positive = np.asarray(positive, dtype=bool)
    keep = ~np.isnan(risk)
    risk, positive = risk[keep], positive[keep]
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    _, inverse, counts = np.unique(risk, return_inverse=True, return_counts=True)
    # Average rank of each distinct value: its tied block spans ranks (end − count + 1) … end.
    ends = np.cumsum(counts)
    average_rank = ends - (counts - 1) / 2.0
    ranks = average_rank[inverse]
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


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
        x, y, w = x[keep], y[keep], self.weights[:, keep]
        distinct, rank = np.unique(x, return_inverse=True)
        bins = rank if len(distinct) <= _BINS else (rank * _BINS // len(distinct))
        k = int(bins.max()) + 1
        key = bins * 2 + y
        flat = (np.arange(w.shape[0])[:, None] * (2 * k) + key[None, :]).ravel()
        counts = np.bincount(flat, weights=w.ravel(), minlength=w.shape[0] * 2 * k).reshape(-1, k, 2)
        unit = np.bincount(key, minlength=2 * k).reshape(k, 2).astype("float64")[None]
        boot, centre = _binned_auc(counts), _binned_auc(unit)[0]
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


def _groups(x: np.ndarray, positive: np.ndarray) -> list[Group]:
    keep = ~np.isnan(x)
    x, y = x[keep], positive[keep]
    if len(x) == 0:
        return []
    distinct = np.unique(x)
    if len(distinct) <= 5:
        codes = np.searchsorted(distinct, x)
    else:
        ranks = pd.Series(x).rank(method="average").to_numpy()
        codes = np.minimum((ranks - 1) * 5 // len(x), 4).astype(int)
    out = []
    for code in np.unique(codes):
        inside = codes == code
        out.append(
            Group(float(x[inside].min()), float(x[inside].max()), int(inside.sum()), round(float(y[inside].mean()), 4))
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
    raw = roc_auc(values, positive)
    if raw is None:
        return None
    riskier = raw >= 0.5
    risk = values if riskier else -values
    auc = max(raw, 1 - raw)
    interval = boot.interval(risk, positive, auc)
    covered = ~np.isnan(values)
    base = float(positive[covered].mean())
    top = top_share_rate(risk, positive)
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
        quintiles=_groups(values, positive),
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
    for name in catalogue_measures():
        values = table.measure_at(name, rows).astype("float64")
        values[np.isinf(values)] = np.nan  # "up from nothing" has no place on a ranking
        if not np.isnan(values).all():
            out[name] = values
    for fact in TEXT_FACTS:
        if not include_todays_facts and fact in TODAYS_FACTS:
            continue
        text = pd.Series(table.measure_at(fact, rows))
        if text.isna().all():
            continue
        shares = text.value_counts(normalize=True)
        for value in shares.index[shares >= MIN_VALUE_SHARE]:
            out[f"{fact}={value}"] = (text == value).to_numpy(dtype="float64")
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
