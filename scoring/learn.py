"""A health model learned from the team's own churn history, written as an ordinary model file.

The method is a monotone scorecard, chosen because every part of it is something the model-file language already
says and a CS ops person can read and argue with:

1. Each candidate measure becomes a 0–100 sub-score by `points`: its training observations are cut into up to eight
   groups by value, each group's churn rate is smoothed towards the average, forced to move one way only (pool
   adjacent violators: more feature use never *raises* risk), and put on the log-odds scale, so 0 is the measure's
   riskiest group and 100 its safest. Text facts (segment, plan tier, plan change) get `values` the same way.
2. A logistic regression with a light ridge penalty on those sub-scores gives each measure its weight (the log-odds a
   sub-score point is worth). Measures whose weight comes out negative are dropped and the fit repeated. How many
   measures to keep (at most 12) is chosen on a quarter of the training accounts held back for that purpose, so
   the file stays short and the choice never sees the test period.
3. A measure joins the dimension that already scores it in the model in force, else the dimension of its kind
   (usage, support, …), else a new one. Dimension weights are the sums of their measures' weights; within a
   dimension each measure keeps its own: with every metric present the file's weighted averages give exactly the
   regression's ranking, and a metric without data drops out the way the model language always does it.
4. Segments with at least `MIN_SEGMENT_CHURNERS` former customers in the training period get their own dimension
   weights (`[segments.X] weights`), fitted the same way on their own accounts, when those rank the held-back
   training accounts better than the book's weights — the segment's own (by 0.005 AUC) and the whole book's (by
   0.002): one score ranks every account, and weights of a segment's own also move it against the others.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scoring.measures import parse_measure
from scoring.model import HealthModel
from scoring.predictive import TODAYS_FACTS, measure_label, roc_auc

MIN_COVERAGE = 0.5  # a measure must have data on half the training observations to be learned from
MIN_SEGMENT_CHURNERS = 30  # former customers a segment needs in the training period to get its own weights
MAX_MEASURES = 12
_GROUPS = 8
_SMOOTHING = 20.0  # observations' worth of the average churn rate mixed into each group's rate
_RIDGE = 1.0
_CHOOSE_ROWS = 120_000  # measures are chosen and weighed on at most this many training observations
_FIT_ROWS = 40_000  # … and each trial regression while choosing on at most this many
_CANDIDATES = 20  # the strongest measures (not near-copies of each other) that compete for a place
# Not learned: renewal dates and today's account facts are stored as they are now, not as they were (a former
# customer's renewal date is the day it left), so a backtest would learn the outcome, not the customer's health.
NOT_LEARNED = ("days_to_renewal", *TODAYS_FACTS)
# ARR is stored as it is today too, but a price is a price; only a CRM's habit of zeroing a former customer's ARR
# would give the outcome away, so a zero ARR counts as no data here.
NO_ZERO = ("arr",)

# The kind of each base measure: the dimension it joins when the model in force does not score it yet.
KIND = {
    **dict.fromkeys(
        (
            "active_users",
            "seats_purchased",
            "seat_utilisation",
            "logins_30d",
            "logins_per_user_week",
            "features_used",
            "features_total",
            "feature_adoption",
            "days_since_login",
        ),
        "usage",
    ),
    **dict.fromkeys(("tickets_30d", "high_priority_open", "escalations_90d", "csat"), "support"),
    **dict.fromkeys(("nps",), "sentiment"),
    **dict.fromkeys(("mrr", "arr", "days_overdue", "plan_change", "days_to_renewal"), "financial"),
    **dict.fromkeys(
        ("csm_touches_90d", "days_since_touch", "exec_sponsor_engaged", "days_since_qbr", "training_completion"),
        "engagement",
    ),
    **dict.fromkeys(("csm_pulse",), "relationship"),
    **dict.fromkeys(("segment", "plan_tier", "region", "industry"), "account"),
}
KIND_NAMES = {
    "usage": "Product Usage",
    "support": "Support",
    "sentiment": "Sentiment",
    "financial": "Financial",
    "engagement": "Engagement",
    "relationship": "Relationship",
    "account": "Account Profile",
}


# --- sub-scores ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shape:
    """How a measure becomes a 0–100 sub-score: `points` for numbers, `values` (+ `otherwise`) for text."""

    measure: str
    points: tuple[tuple[float, float], ...] = ()
    values: tuple[tuple[str, float], ...] = ()
    otherwise: float | None = None

    @property
    def higher_is_safer(self) -> bool:
        return bool(self.points) and self.points[-1][1] > self.points[0][1]

    def sub_score(self, values: np.ndarray) -> np.ndarray:
        """The sub-score of each value, as the scorer computes it (NaN = no data)."""
        if self.points:
            xs, ys = zip(*self.points, strict=True)
            x = np.asarray(values, dtype="float64")
            return np.where(np.isnan(x), np.nan, np.interp(np.nan_to_num(x), xs, ys))
        out = np.full(len(values), np.nan if self.otherwise is None else self.otherwise)
        for value, score in self.values:
            out[values == value] = score
        return out


def _pool_adjacent(rates: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Non-decreasing least-squares fit of `rates` (pool adjacent violators); a handful of groups, so a plain loop."""
    blocks: list[list[float]] = []  # [mean, weight, length]
    for r, w in zip(rates.tolist(), weights.tolist(), strict=True):
        blocks.append([r, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    return np.concatenate([np.full(int(n), m) for m, _, n in blocks])


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _scaled(logits: np.ndarray) -> tuple[np.ndarray, float] | None:
    """0 = the riskiest group, 100 the safest; and the log-odds one point is worth. None when flat."""
    span = float(logits.max() - logits.min())
    if span < 1e-3:
        return None
    return 100 * (logits.max() - logits) / span, span


def _round_value(value: float) -> float:
    return float(f"{value:.3g}") if value != 0 else 0.0


def numeric_shape(measure: str, x: np.ndarray, positive: np.ndarray) -> Shape | None:
    """The monotone sub-score of a number measure from training observations (None when it carries no signal)."""
    keep = ~np.isnan(x)
    x, y = x[keep], positive[keep].astype("float64")
    if len(x) < 50 or y.sum() == 0 or y.sum() == len(y):
        return None
    distinct = np.unique(x)
    if len(distinct) <= _GROUPS:
        codes = np.searchsorted(distinct, x)
    else:
        ranks = pd.Series(x).rank(method="min").to_numpy() - 1
        codes = np.unique((ranks * _GROUPS // len(x)).astype(int), return_inverse=True)[1]
    n = np.bincount(codes).astype("float64")
    hits = np.bincount(codes, weights=y)
    centres = np.bincount(codes, weights=x) / n
    base = y.mean()
    rates = (hits + _SMOOTHING * base) / (n + _SMOOTHING)
    riskier = (roc_auc(x, y.astype(bool)) or 0.5) >= 0.5
    fitted = _pool_adjacent(rates, n) if riskier else _pool_adjacent(rates[::-1], n[::-1])[::-1]
    scaled = _scaled(_logit(fitted))
    if scaled is None:
        return None
    scores = np.round(scaled[0])
    # Only the corners of the curve: the first and last point of every flat run.
    keep_point = np.ones(len(scores), dtype=bool)
    keep_point[1:-1] = ~((scores[1:-1] == scores[:-2]) & (scores[1:-1] == scores[2:]))
    points: list[tuple[float, float]] = []
    for value, score in zip(centres[keep_point], scores[keep_point], strict=True):
        value = _round_value(float(value))
        if points and value <= points[-1][0]:
            continue
        points.append((value, float(score)))
    if len(points) < 2 or points[0][1] == points[-1][1]:
        return None
    return Shape(measure, points=tuple(points))


def text_shape(measure: str, text: np.ndarray, positive: np.ndarray, *, min_rows: int = 30) -> Shape | None:
    """Scores per value of a text measure (segment, plan tier, plan change); rarer values and no value → otherwise."""
    codes, uniques = pd.factorize(pd.Series(text, dtype=object))
    y = positive.astype("float64")
    rows = np.bincount(codes[codes >= 0], minlength=len(uniques))
    frequent = [code for code in np.argsort(-rows, kind="stable") if rows[code] >= min_rows]
    if not frequent:
        return None
    base = y.mean()
    rest = ~np.isin(codes, frequent)
    rates = [(y[codes == code].sum() + _SMOOTHING * base) / (rows[code] + _SMOOTHING) for code in frequent]
    rates.append((y[rest].sum() + _SMOOTHING * base) / (rest.sum() + _SMOOTHING))
    frequent_values = [uniques[code] for code in frequent]
    scaled = _scaled(_logit(np.array(rates)))
    if scaled is None:
        return None
    scores = np.round(scaled[0])
    values = tuple((str(v), float(s)) for v, s in zip(frequent_values, scores[:-1], strict=True))
    return Shape(measure, values=values, otherwise=float(scores[-1]))


# --- the regression -----------------------------------------------------------------------------------------------
def logistic_fit(features: np.ndarray, positive: np.ndarray, *, ridge: float = _RIDGE) -> np.ndarray:
    """Coefficients (intercept first) of a logistic regression on standardised `features` (no NaN), by Newton steps
    with a ridge penalty on everything but the intercept. Returned on the features' own scale."""
    mean = features.mean(axis=0)
    sd = features.std(axis=0)
    sd[sd == 0] = 1.0
    z = np.column_stack([np.ones(len(features)), (features - mean) / sd])
    y = positive.astype("float64")
    beta = np.zeros(z.shape[1])
    beta[0] = _logit(np.array([y.mean()]))[0]
    penalty = np.full(z.shape[1], ridge)
    penalty[0] = 0.0
    for _ in range(25):
        p = 1 / (1 + np.exp(-np.clip(z @ beta, -30, 30)))
        gradient = z.T @ (y - p) - penalty * beta
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.abs(step).max() < 1e-5:
            break
    scaled = beta[1:] / sd
    return np.concatenate([[beta[0] - float(scaled @ mean)], scaled])


def _filled(sub: np.ndarray, means: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(sub), means[None, :], sub)


def positive_weights(sub: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Per sub-score point, the log-odds of staying it is worth (≥ 0; a measure the fit turns against is dropped)."""
    means = np.nanmean(sub, axis=0)
    filled = _filled(sub, np.nan_to_num(means))
    active = np.ones(sub.shape[1], dtype=bool)
    weights = np.zeros(sub.shape[1])
    for _ in range(sub.shape[1]):
        if not active.any():
            break
        beta = logistic_fit(filled[:, active], positive)[1:]
        weights[:] = 0.0
        weights[active] = -beta  # a sub-score point is safer, so churn log-odds fall with it
        if (weights[active] > 0).all():
            break
        active &= weights > 0
    return np.where(active, np.maximum(weights, 0.0), 0.0)


# --- composing the file -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scorecard:
    """The learned shapes and their weights, grouped into dimensions."""

    shapes: tuple[Shape, ...]
    weights: tuple[float, ...]  # per shape, log-odds per sub-score point
    dimension_of: tuple[str, ...]  # per shape, the dimension key
    segment_weights: dict[str, dict[str, float]] = field(default_factory=dict)  # segment → dimension → weight

    @property
    def dimensions(self) -> list[str]:
        return list(dict.fromkeys(self.dimension_of))

    def dimension_weights(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for key, weight in zip(self.dimension_of, self.weights, strict=True):
            totals[key] = totals.get(key, 0.0) + weight
        return totals

    def composite(self, values: dict[str, np.ndarray], *, drop: str | None = None) -> np.ndarray:
        """The score the written file gives (before signals cap it): weighted averages with missing data left out,
        within each dimension and then across them. `drop` leaves one measure out (its gain)."""
        subs = {s.measure: s.sub_score(values[s.measure]) for s in self.shapes if s.measure != drop}
        n = len(next(iter(values.values())))
        total = np.zeros(n)
        weight_with_data = np.zeros(n)
        for dimension in self.dimensions:
            members = [
                (s, w)
                for s, w, d in zip(self.shapes, self.weights, self.dimension_of, strict=True)
                if d == dimension and s.measure in subs
            ]
            if not members:
                continue
            num = np.zeros(n)
            den = np.zeros(n)
            for shape, weight in members:
                sub = subs[shape.measure]
                num += np.nan_to_num(sub) * weight
                den += ~np.isnan(sub) * weight
            with np.errstate(invalid="ignore", divide="ignore"):
                score = np.where(den > 0, num / np.maximum(den, 1e-12), np.nan)
            dim_weight = sum(w for _, w in members)
            total += np.nan_to_num(score) * dim_weight
            weight_with_data += ~np.isnan(score) * dim_weight
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(weight_with_data > 0, total / np.maximum(weight_with_data, 1e-12), np.nan)

    def dimension_scores(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """One column per dimension (in `dimensions` order): its score, NaN without data."""
        out = []
        for dimension in self.dimensions:
            inside = [i for i, d in enumerate(self.dimension_of) if d == dimension]
            part = Scorecard(
                tuple(self.shapes[i] for i in inside),
                tuple(self.weights[i] for i in inside),
                tuple(self.dimension_of[i] for i in inside),
            )
            out.append(part.composite(values))
        return np.column_stack(out)


def _dimension_for(measure: str, model: HealthModel) -> str:
    base = measure if "=" in measure else parse_measure(measure).base
    for dimension in model.dimensions:
        for metric in dimension.metrics:
            if metric.measure == measure or parse_measure(metric.measure).base == base:
                return dimension.key
    kind = KIND.get(base, "account")
    return kind


def learnable(name: str) -> bool:
    """Whether a measure may go into a learned model (not a leak, not an indicator of one value)."""
    if "=" in name or name.startswith("tags:"):
        return False
    return parse_measure(name).base not in NOT_LEARNED


def _auc_of(sub: np.ndarray, positive: np.ndarray) -> float:
    return roc_auc(-sub, positive) or 0.5


def fit_scorecard(
    numbers: dict[str, np.ndarray],
    texts: dict[str, np.ndarray],
    positive: np.ndarray,
    inner_holdout: np.ndarray,
    segment: np.ndarray,
    account: np.ndarray,
    model: HealthModel,
) -> Scorecard | None:
    """Fit the scorecard on training observations (see the module docstring). `inner_holdout` marks the training
    accounts held back to choose how many measures to keep. None when nothing carries a signal."""
    shapes: list[Shape] = []
    fit_rows = ~inner_holdout
    numbers = {k: np.where(v > 0, v, np.nan) if k in NO_ZERO else v for k, v in numbers.items()}
    for name, x in numbers.items():
        if not learnable(name) or np.mean(~np.isnan(x)) < MIN_COVERAGE:
            continue
        shape = numeric_shape(name, x[fit_rows], positive[fit_rows])
        if shape is not None:
            shapes.append(shape)
    for name, text in texts.items():
        shape = text_shape(name, text[fit_rows], positive[fit_rows])
        if shape is not None:
            shapes.append(shape)
    columns = {**numbers, **texts}
    if not shapes:
        return None
    # Choosing measures and weights needs far fewer rows than the shapes: a fixed random subset of a large book.
    work = _rows(len(positive), _CHOOSE_ROWS)
    sub = np.column_stack([s.sub_score(columns[s.measure][work]) for s in shapes])
    positive, inner_holdout, fit_rows = positive[work], inner_holdout[work], fit_rows[work]
    auc = np.array([_auc_of(sub[fit_rows, j], positive[fit_rows]) for j in range(len(shapes))])
    # Strongest first; a measure nearly the same as one already kept (|r| > 0.9) adds nothing readable.
    order = [j for j in np.argsort(-auc, kind="stable") if auc[j] > 0.52]
    means = np.nanmean(sub, axis=0)
    filled = _filled(sub, np.nan_to_num(means))
    corr = np.nan_to_num(np.corrcoef(filled.T)) if len(shapes) > 1 else np.ones((1, 1))
    kept: list[int] = []
    for j in order:
        if len(kept) < _CANDIDATES and all(abs(corr[j, k]) <= 0.9 for k in kept):
            kept.append(j)
    if not kept:
        return None
    fit = _rows(int(fit_rows.sum()), _FIT_ROWS)
    fit_idx = np.flatnonzero(fit_rows)[fit]
    weights = positive_weights(sub[fit_idx][:, kept], positive[fit_idx])
    importance = weights * np.nanstd(sub[:, kept], axis=0)
    ranked = [kept[j] for j in np.argsort(-importance, kind="stable") if weights[j] > 0][:MAX_MEASURES]
    chosen = _choose_count(sub, positive, fit_idx, inner_holdout, ranked)
    final = positive_weights(sub[:, chosen], positive)
    picked = [(shapes[j], float(w)) for j, w in zip(chosen, final, strict=True) if w > 0]
    if not picked:
        return None
    card = Scorecard(
        shapes=tuple(s for s, _ in picked),
        weights=tuple(w for _, w in picked),
        dimension_of=tuple(_dimension_for(s.measure, model) for s, _ in picked),
    )
    return _with_segments(
        card, {k: v[work] for k, v in columns.items()}, positive, inner_holdout, segment[work], account[work]
    )


def _rows(n: int, at_most: int) -> np.ndarray:
    if n <= at_most:
        return np.arange(n)
    return np.sort(np.random.default_rng(14).choice(n, at_most, replace=False))


def _choose_count(
    sub: np.ndarray, positive: np.ndarray, fit_idx: np.ndarray, inner_holdout: np.ndarray, ranked: list[int]
) -> list[int]:
    """The fewest of the `ranked` measures whose held-back AUC is within 0.002 of the best count's."""
    check = np.flatnonzero(inner_holdout)
    if len(ranked) <= 1 or not positive[check].any() or positive[check].all():
        return ranked
    results = []
    for count in range(1, len(ranked) + 1):
        columns = ranked[:count]
        weights = positive_weights(sub[fit_idx][:, columns], positive[fit_idx])
        means = np.nan_to_num(np.nanmean(sub[fit_idx][:, columns], axis=0))
        score = _filled(sub[check][:, columns], means) @ weights
        results.append(roc_auc(-score, positive[check]) or 0.5)
    best = max(results)
    count = next(i for i, r in enumerate(results, start=1) if r >= best - 0.002)
    return ranked[:count]


def _with_segments(
    card: Scorecard,
    columns: dict[str, np.ndarray],
    positive: np.ndarray,
    inner_holdout: np.ndarray,
    segment: np.ndarray,
    account: np.ndarray,
) -> Scorecard:
    """Own dimension weights for segments with enough former customers, kept only where they rank the held-back
    training accounts better: the segment's own (by 0.005 AUC) and the whole book's (by 0.002), since one score
    ranks every account and a segment's own weights also move its accounts up or down against the others."""
    if len(card.dimensions) < 2:
        return card
    dims = card.dimension_scores(columns)
    shared = np.array(list(card.dimension_weights().values()))
    check = inner_holdout
    overall = dimension_average(dims, shared)
    book_auc = roc_auc(-overall[check], positive[check])
    segments: dict[str, dict[str, float]] = {}
    for value in pd.unique(pd.Series(segment, dtype=object).dropna()):
        inside = segment == value
        churners = len(np.unique(account[inside & positive]))
        if churners < MIN_SEGMENT_CHURNERS or book_auc is None:
            continue
        fit = inside & ~inner_holdout
        rows = np.flatnonzero(fit)[_rows(int(fit.sum()), _FIT_ROWS)]
        trial = positive_weights(dims[rows], positive[rows])
        if trial.sum() == 0:
            continue
        mixed = overall.copy()
        mixed[inside] = dimension_average(dims[inside], trial)
        own_auc = roc_auc(-mixed[inside & check], positive[inside & check])
        shared_auc = roc_auc(-overall[inside & check], positive[inside & check])
        mixed_auc = roc_auc(-mixed[check], positive[check])
        if own_auc is None or shared_auc is None or mixed_auc is None:
            continue
        if own_auc < shared_auc + 0.005 or mixed_auc < book_auc + 0.002:
            continue
        rows = np.flatnonzero(inside)[_rows(int(inside.sum()), _FIT_ROWS)]
        weights = positive_weights(dims[rows], positive[rows])
        if weights.sum() > 0:
            segments[str(value)] = dict(zip(card.dimensions, weights.tolist(), strict=True))
            overall, book_auc = mixed, mixed_auc  # judged on held-back accounts: the trial weights
    return Scorecard(card.shapes, card.weights, card.dimension_of, segments)


def dimension_average(dims: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The overall score from dimension scores, dimensions without data left out (the file's arithmetic)."""
    has = ~np.isnan(dims)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.nan_to_num(dims) * weights).sum(1) / (has * weights).sum(1)


# --- the file -----------------------------------------------------------------------------------------------------
def whole_percentages(weights: dict[str, float]) -> dict[str, int]:
    """Weights as whole numbers adding up to 100 (largest remainders), a measure with weight keeping at least 1."""
    total = sum(weights.values())
    if total <= 0:
        return dict.fromkeys(weights, 0)
    raw = {k: 100 * v / total for k, v in weights.items()}
    out = {k: max(math.floor(v), 1 if v > 0 else 0) for k, v in raw.items()}
    for key in sorted(raw, key=lambda k: out[k] - raw[k]):
        if sum(out.values()) >= 100:
            break
        out[key] += 1
    while sum(out.values()) > 100:
        key = max(out, key=lambda k: out[k] - raw[k] if out[k] > 1 else -math.inf)
        out[key] -= 1
    return out


@dataclass(frozen=True)
class MetricChange:
    """What the learned model did to one metric, with the figures its comment carries."""

    dimension: str
    measure: str
    change: str  # added, dropped, flipped, re-weighted
    auc_alone: float | None  # out of time: the learned shape's (or, for a dropped metric, the current one's)
    gain: float | None  # out-of-time AUC of the learned model with it minus without it (dropped: without minus with)
    share_before: float  # of the overall score, with every metric present
    share_after: float

    def comment(self) -> str:
        label = measure_label(self.measure)
        alone = "no out-of-time AUC" if self.auc_alone is None else f"ROC AUC {self.auc_alone:.2f} alone out of time"
        gain = "" if self.gain is None else f"; {self.gain:+.3f} to the learned model's out-of-time AUC"
        shares = f"{self.share_before:.0%} → {self.share_after:.0%} of the score"
        if self.change == "dropped":
            kept = "" if self.gain is None else f"; leaving it out changes the learned model's AUC by {self.gain:+.3f}"
            return f"dropped {self.measure} ({label}): {alone} the way the current model scores it{kept} ({shares})"
        if self.change == "flipped":
            return (
                f"flipped {self.measure} ({label}): the current model scored it the other way round; {alone} this "
                f"way{gain} ({shares})"
            )
        return f"{self.change} {self.measure} ({label}): {alone}{gain} ({shares})"


def _toml_number(value: float) -> str:
    return f"{value:g}"


def _metric_line(shape: Shape, weight: int) -> str:
    if shape.points:
        points = ", ".join(f"[{_toml_number(v)}, {_toml_number(s)}]" for v, s in shape.points)
        return f'{{ measure = "{shape.measure}", points = [{points}], weight = {weight} }}'
    values = ", ".join(f"{json.dumps(v)} = {_toml_number(s)}" for v, s in shape.values)
    otherwise = "" if shape.otherwise is None else f", otherwise = {_toml_number(shape.otherwise)}"
    return f'{{ measure = "{shape.measure}", values = {{ {values} }}{otherwise}, weight = {weight} }}'


def model_text(
    card: Scorecard,
    model: HealthModel,
    *,
    header: list[str],
    changes: list[MetricChange],
    bands: list[tuple[str, float]] | None = None,
) -> str:
    """The learned model as a file that `extends` `model`: every dimension rewritten, each change commented."""
    dim_percent = whole_percentages(card.dimension_weights())
    lines = [f"# {line}" if line else "#" for line in header]
    lines += [
        "# Point HEALTHBOT_MODEL at this file to use it; edit it like any model file (weights must add up to 100).",
        "",
        f"extends = {json.dumps(model.source)}",
        f"name = {json.dumps(model.name + ' (learned from your churn history)')}",
    ]
    if bands is not None:
        lines += ["", "# Bands cut where the training period's churn says (see the backtest report)."]
        for band_name, floor in bands:
            band = model.band(band_name)
            lines += ["", "[[bands]]", f"name = {json.dumps(band.name)}", f"min = {_toml_number(floor)}"]
            lines += [f"meaning = {json.dumps(band.meaning)}", f"focus = {json.dumps(band.focus)}"]
            lines += [f"playbook = {json.dumps(band.playbook)}", f"action = {json.dumps(band.action)}"]
            lines.append(f"steps = {json.dumps(list(band.steps))}")
    by_dimension: dict[str, list[MetricChange]] = {}
    for change in changes:
        by_dimension.setdefault(change.dimension, []).append(change)
    existing = {d.key: d for d in model.dimensions}
    for key in [*existing, *[k for k in card.dimensions if k not in existing]]:
        lines += ["", f"[dimensions.{key}]"]
        members = [(s, w) for s, w, d in zip(card.shapes, card.weights, card.dimension_of, strict=True) if d == key]
        before = existing[key].weight if key in existing else 0
        after = dim_percent.get(key, 0)
        if key not in existing:
            lines.append(f"name = {json.dumps(KIND_NAMES.get(key, key.replace('_', ' ').title()))}")
        lines.append(f"weight = {after}  # was {before:g}")
        for change in by_dimension.get(key, []):
            if change.change == "dropped":
                lines.append(f"# {change.comment()}")
        if not members:
            continue
        metric_percent = whole_percentages({s.measure: w for s, w in members})
        lines.append("metrics = [")
        comments = {c.measure: c for c in by_dimension.get(key, []) if c.change != "dropped"}
        for shape, _ in members:
            if shape.measure in comments:
                lines.append(f"    # {comments[shape.measure].comment()}")
            lines.append(f"    {_metric_line(shape, metric_percent[shape.measure])},")
        lines.append("]")
    lines += _override_lines(card, model, dim_percent)
    return "\n".join(lines) + "\n"


def _override_lines(card: Scorecard, model: HealthModel, dim_percent: dict[str, int]) -> list[str]:
    """Segment weights (learned, or the shared ones where the file in force had its own), and the in-force model's
    `ignore` lists cut down to the metrics still in the file."""
    lines: list[str] = []
    active = [k for k, v in dim_percent.items() if v > 0]
    measures = {s.measure for s in card.shapes}
    learned = {k.lower(): v for k, v in card.segment_weights.items()}
    for table, overrides in (("segments", model.segments), ("lifecycle", model.lifecycle)):
        names = list(dict.fromkeys([*overrides, *(learned if table == "segments" else {})]))
        for name in names:
            override = overrides.get(name)
            own = learned.get(name) if table == "segments" else None
            entry: list[str] = []
            if own is not None:
                percent = whole_percentages({k: own.get(k, 0.0) for k in active})
                entry.append(
                    "# learned on this segment's own former customers (at least "
                    f"{MIN_SEGMENT_CHURNERS} in the training period)"
                )
                entry.append("weights = { " + ", ".join(f"{k} = {percent[k]}" for k in active) + " }")
            elif override is not None and override.weights:
                entry.append("# the learned weights (the model in force had its own here; none were learned for it)")
                entry.append("weights = { " + ", ".join(f"{k} = {dim_percent[k]}" for k in active) + " }")
            if override is not None and override.ignore:
                kept = sorted(m for m in override.ignore if m in measures)
                entry.append(f"ignore = {json.dumps(kept)}")
            if entry:
                lines += ["", f"[{table}.{json.dumps(name)}]", *entry]
    return lines
