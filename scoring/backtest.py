"""Backtest: does the health score predict who leaves, what would predict it better, and how much better?

How it measures (the seeds' "predictive power analysis" and "model refinement recommendation"):

- **Observations** are one snapshot per account per month (the month's last) while it was still a customer. One is
  *churned* when the account left within `horizon_days` after it. An observation whose horizon runs past the end of
  the data is left out, churned or not: its outcome is not known for everyone yet, and keeping only the ones that
  did churn would make the last months look riskier than they were.
- **Honest validation.** Accounts are split by a stable hash of their ID (70% learn, 30% test) *and* by time: the
  test uses the test accounts' observations on or after a cut date, the learning uses the other accounts'
  observations whose horizon ended by the cut (what a team could have known on the cut day). The cut is the date
  that leaves the most former customers on both sides. An account's snapshots never sit on both sides, and no
  label from the test period is learned from. With too little history for a time split, only the accounts are
  split, and the report says so.
- **Figures.** ROC AUC (1 = the riskiest-ranked observations are exactly those that churned, 0.5 = a coin toss)
  by the rank-sum formula, ties counted half; every AUC is of the observations it names and nothing else.
- **Baselines, side by side on the test observations:** the score of the model in force, the best single measure
  (chosen, with its direction, in the learning period), days to renewal (annual terms assumed: a renewal date is
  stored once, so the past one is read as the stored date less whole years) and a 30-day drop in active users. A
  baseline without a value on an observation takes its learning-period median, so all rank the same observations.
- **The learned model** (scoring/learn.py) is written only when, out of time, it beats both the model in force and
  the best single measure; its AUC is measured by scoring the written file itself, signals and all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from scoring.learn import (
    MIN_SEGMENT_CHURNERS,
    MetricChange,
    Scorecard,
    Shape,
    dimension_average,
    fit_scorecard,
    model_text,
    whole_percentages,
)
from scoring.measures import SnapshotTable, signed_number
from scoring.model import HealthModel, parse_model
from scoring.predictive import (
    MeasurePower,
    measure_label,
    model_directions,
    observed_measures,
    predictive_power,
    roc_auc,
    top_share_rate,
)
from scoring.score import score_snapshots

HOLDOUT_BUCKETS = 3  # of 10 hash buckets: the test accounts
MIN_GAIN = 0.005  # out-of-time AUC a learned model must add to the model in force to be worth a new file
MIN_TRAIN_CHURNED = 20  # churned observations needed to learn anything
MIN_TEST_CHURNED = 5  # churned observations needed to judge anything
LEARNED_TEXTS = ("segment", "plan_tier", "region", "industry", "plan_change")
YEAR = 365

__all__ = [
    "BacktestResult",
    "BandRate",
    "BandReport",
    "Baseline",
    "LearnedReport",
    "Observations",
    "PredictionSummary",
    "SegmentReport",
    "Split",
    "Validation",
    "backtest",
    "describe",
    "holdout_accounts",
    "model_insights",
    "not_written_reason",
    "observation_rows",
    "prediction_summary",
    "roc_auc",
    "split_observations",
]


# --- observations and the split ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Observations:
    """Labelled observations: positions in a SnapshotTable, in its order (account, then date)."""

    rows: np.ndarray
    account: np.ndarray  # account code (SnapshotTable.code)
    day: np.ndarray  # day number (days since 1970)
    churned: np.ndarray  # left within the horizon after the snapshot
    left_on: np.ndarray  # day number the account left, NaN while a customer
    end_day: int  # the last snapshot day in the data


def observation_rows(table: SnapshotTable, horizon_days: int) -> Observations:
    """The month-last snapshot of each account per month while a customer, whose horizon ends within the data."""
    day = table.day
    month = day.astype("datetime64[D]").astype("datetime64[M]").astype("int64")
    last_of_month = np.ones(table.n, dtype=bool)
    last_of_month[:-1] = (table.code[1:] != table.code[:-1]) | (month[1:] != month[:-1])
    left = table.per_account("churned_on", "days")[table.code]
    end = int(day.max()) if table.n else 0
    with np.errstate(invalid="ignore"):
        customer = np.isnan(left) | (day < left)
        churned = (left - day > 0) & (left - day <= horizon_days)
    keep = last_of_month & customer & (day + horizon_days <= end)
    rows = np.flatnonzero(keep)
    return Observations(rows, table.code[rows], day[rows], churned[rows], left[rows], end)


def holdout_accounts(account_ids: np.ndarray) -> np.ndarray:
    """True for the accounts the test uses: a stable hash of the account ID, 3 buckets in 10."""
    hashed = pd.util.hash_array(np.asarray(account_ids, dtype=object).astype(str).astype(object))
    return (hashed % 10) < HOLDOUT_BUCKETS


@dataclass(frozen=True)
class Split:
    """Which observations learn (`train`) and which test, and where time was cut."""

    train: np.ndarray
    test: np.ndarray
    cut_day: int | None  # None: no time split (too little history), accounts only
    inner: np.ndarray  # training observations of the accounts held back inside training (choosing model size)


def split_observations(obs: Observations, account_ids: np.ndarray, horizon_days: int) -> Split:
    """Accounts apart and time apart (see the module docstring)."""
    test_group = holdout_accounts(account_ids)[obs.account]
    inner = (pd.util.hash_array(np.asarray(account_ids, dtype=object).astype(str).astype(object)) // 10 % 4 == 0)[
        obs.account
    ]
    best: tuple[float, int] | None = None
    for cut in np.unique(obs.day):
        train = ~test_group & (obs.day + horizon_days <= cut)
        test = test_group & (obs.day >= cut)
        balance = min(float(obs.churned[train].sum()), 7 / 3 * float(obs.churned[test].sum()))
        if best is None or balance >= best[0]:
            best = (balance, int(cut))
    if best is not None and best[0] >= MIN_TEST_CHURNED:
        cut = best[1]
        train = ~test_group & (obs.day + horizon_days <= cut)
        return Split(train, test_group & (obs.day >= cut), cut, inner & train)
    return Split(~test_group, test_group, None, inner & ~test_group)


# --- result types -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Validation:
    """How the observations were split."""

    end_date: str  # the last snapshot in the data
    cut_date: str | None  # test observations are on or after it; None = accounts split only
    train_observations: int
    train_accounts: int
    train_churned: int  # churned observations
    test_observations: int
    test_accounts: int
    test_churned: int


@dataclass(frozen=True)
class Baseline:
    """One ranking of the test observations and its out-of-time ROC AUC."""

    key: str  # current_model, best_measure, days_to_renewal, usage_drop_30d, learned_model
    label: str
    auc: float | None
    measure: str | None = None


@dataclass(frozen=True)
class BandRate:
    """A band of the test observations: its floor, how many fell in it and how many of those churned."""

    band: str
    floor: float
    observations: int
    share: float
    churn_rate: float | None


@dataclass(frozen=True)
class BandReport:
    """Bands on the test observations as they are, and with floors proposed from the learning period."""

    floors: dict[str, float]
    test: list[BandRate]
    lowest_band: str
    precision_lowest: float | None
    recall_lowest: float | None
    lead_time_days: float | None  # median, from the start of a former customer's last run in the lowest band
    flagged_before_churn: int
    proposed_floors: dict[str, float]
    proposed_test: list[BandRate]
    proposed_precision_lowest: float | None
    proposed_recall_lowest: float | None
    proposed_lead_time_days: float | None


@dataclass(frozen=True)
class SegmentReport:
    """A segment: its former customers in the learning period and whether it got its own weights."""

    segment: str
    train_churned_accounts: int
    own_weights: bool
    test_auc_own: float | None  # the learned scorecard with the segment's weights, on its test observations
    test_auc_shared: float | None  # … with the book's weights


@dataclass(frozen=True)
class LearnedReport:
    """The model learned from the history, as measured on the test observations."""

    test_auc: float | None  # the written file, scored by the scorer (signals included)
    gain_vs_current: float | None
    gain_vs_best_measure: float | None
    accepted: bool
    dimension_weights: dict[str, int]
    changes: list[MetricChange]
    segments: list[SegmentReport]
    min_segment_churners: int
    bands: BandReport | None
    model_file: str  # the file text; written by --write-model only when accepted


@dataclass(frozen=True)
class BacktestResult:
    """Every figure of a backtest; `headline` comes first in any report, `notes` say what the figures cannot show."""

    horizon_days: int
    observations: int
    accounts: int
    churned_accounts: int
    auc: float | None  # the current score over every labelled observation (in-sample: nothing was fitted)
    auc_by_dimension: dict[str, float | None]
    score_top_decile_lift: float | None  # churn rate of the lowest-scoring tenth ÷ the average, every observation
    lowest_band: str
    precision_lowest_band: float | None
    recall_lowest_band: float | None
    lead_time_days: float | None
    flagged_before_churn: int
    validation: Validation
    baselines: list[Baseline]
    score_lift_by_decile: list[float]  # test observations: churn rate of each tenth by score, lowest score first, ÷ avg
    best_measure: str | None
    measures: list[MeasurePower]
    opposite: list[str]  # plain-words flags: measures the model scores the other way round from the data
    bands: BandReport | None
    learned: LearnedReport | None
    headline: list[str]
    notes: list[str] = field(default_factory=list)

    def baseline(self, key: str) -> Baseline | None:
        return next((b for b in self.baselines if b.key == key), None)


# --- pieces -------------------------------------------------------------------------------------------------------
def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _filled(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    median = np.nanmedian(reference) if np.isfinite(reference).any() else 0.0
    return np.where(np.isnan(values), median, values)


def _lead_times(obs: Observations, in_lowest: np.ndarray, subset: np.ndarray) -> tuple[float | None, int]:
    """Median days from the start of each former customer's last run in the lowest band to leaving, over `subset`."""
    pick = subset & ~np.isnan(obs.left_on)
    if not pick.any():
        return None, 0
    account, day, left, red = obs.account[pick], obs.day[pick], obs.left_on[pick], in_lowest[pick]
    new_run = np.r_[True, (red[1:] != red[:-1]) | (account[1:] != account[:-1])]
    run_start = pd.Series(np.where(new_run, day, np.nan)).ffill().to_numpy()
    last = np.r_[account[1:] != account[:-1], True]
    flagged = last & red
    if not flagged.any():
        return None, 0
    return float(np.median(left[flagged] - run_start[flagged])), int(flagged.sum())


def _band_codes(scores: np.ndarray, floors: list[float]) -> np.ndarray:
    """Band index (0 = top) of each displayed score for band floors given top first."""
    shown = np.round(scores)
    codes = np.zeros(len(scores), dtype=int)
    for floor in floors[:-1]:
        codes += shown < floor
    return codes


def _band_rates(names: list[str], floors: list[float], scores: np.ndarray, churned: np.ndarray) -> list[BandRate]:
    codes = _band_codes(scores, floors)
    out = []
    for i, (name, floor) in enumerate(zip(names, floors, strict=True)):
        inside = codes == i
        rate = float(churned[inside].mean()) if inside.any() else None
        out.append(BandRate(name, floor, int(inside.sum()), round(float(inside.mean()), 4), _rounded(rate, 4)))
    return out


def _precision_recall(in_lowest: np.ndarray, churned: np.ndarray) -> tuple[float | None, float | None]:
    precision = float(churned[in_lowest].mean()) if in_lowest.any() else None
    recall = float(in_lowest[churned].mean()) if churned.any() else None
    return _rounded(precision), _rounded(recall)


def propose_floors(
    model: HealthModel, scores: np.ndarray, churned: np.ndarray, reference: np.ndarray
) -> list[tuple[str, float]]:
    """Band floors (top first) from learning-period scores. The lowest band's ceiling goes where it catches churn
    best (the F1 of "lowest band = will leave", tried at the 5th … 50th percentiles); the top band keeps the share
    of observations it has under the model in force (`reference`: that model's scores of the same observations);
    bands in between share the rest evenly."""
    names = [b.name for b in model.bands]
    if len(names) == 1:
        return [(names[0], 0.0)]
    shown = np.round(scores)
    candidates = np.unique(np.ceil(np.quantile(shown, np.arange(0.05, 0.501, 0.05))))
    best_floor, best_f1 = float(candidates[0]), -1.0
    for floor in candidates:
        lowest = shown < floor
        hits = float((lowest & churned).sum())
        if hits == 0:
            continue
        f1 = 2 * hits / (lowest.sum() + churned.sum())
        if f1 > best_f1:
            best_floor, best_f1 = float(floor), f1
    floors = [best_floor, 0.0]
    if len(names) > 2:
        low_share = float(np.mean(shown < best_floor))
        top_share = float(np.mean(np.round(reference) < model.bands[0].min))
        if top_share <= low_share:
            top_share = low_share + (1 - low_share) / 2
        # Quantiles from the top band's floor down to just above the lowest band's ceiling.
        for share in np.linspace(low_share, top_share, len(names) - 1)[1:]:
            floor = float(np.ceil(np.quantile(shown, min(share, 1.0))))
            floors.insert(0, min(max(floor, floors[0] + 1), 100.0))
    return list(zip(names, floors, strict=True))


def _band_report(
    model: HealthModel,
    floors: list[tuple[str, float]],
    scores: np.ndarray,
    obs: Observations,
    split: Split,
    proposed: list[tuple[str, float]],
) -> BandReport:
    names = [n for n, _ in floors]
    test_scores, test_churned = scores[split.test], obs.churned[split.test]

    def figures(cuts: list[tuple[str, float]]) -> tuple[list[BandRate], float | None, float | None, float | None]:
        values = [f for _, f in cuts]
        lowest_all = _band_codes(scores, values) == len(values) - 1
        precision, recall = _precision_recall(lowest_all[split.test], test_churned)
        lead, _ = _lead_times(obs, lowest_all, split.test)
        return _band_rates(names, values, test_scores, test_churned), precision, recall, lead

    rates, precision, recall, lead = figures(floors)
    lowest_all = _band_codes(scores, [f for _, f in floors]) == len(floors) - 1
    _, flagged = _lead_times(obs, lowest_all, split.test)
    proposed_rates, proposed_precision, proposed_recall, proposed_lead = figures(proposed)
    return BandReport(
        floors=dict(floors),
        test=rates,
        lowest_band=names[-1],
        precision_lowest=precision,
        recall_lowest=recall,
        lead_time_days=lead,
        flagged_before_churn=flagged,
        proposed_floors=dict(proposed),
        proposed_test=proposed_rates,
        proposed_precision_lowest=proposed_precision,
        proposed_recall_lowest=proposed_recall,
        proposed_lead_time_days=proposed_lead,
    )


def _best_measure(measures: dict[str, np.ndarray], churned: np.ndarray, split: Split) -> tuple[str, np.ndarray] | None:
    """The single measure that ranked the learning period best (its direction from there too), and its risk on
    every observation (missing → the learning-period median)."""
    best: tuple[float, str, bool] | None = None
    for name, values in measures.items():
        train = values[split.train]
        if np.mean(~np.isnan(train)) < 0.5:
            continue
        auc = roc_auc(train, churned[split.train])
        if auc is None:
            continue
        strength = max(auc, 1 - auc)
        if best is None or strength > best[0]:
            best = (strength, name, auc >= 0.5)
    if best is None:
        return None
    _, name, riskier = best
    risk = measures[name] if riskier else -measures[name]
    return name, _filled(risk, risk[split.train])


def _annual_days_to_renewal(table: SnapshotTable, obs: Observations) -> np.ndarray:
    renewal = table.per_account("renewal_date", "days")[obs.account]
    return np.mod(renewal - obs.day, YEAR)


# --- the backtest ---------------------------------------------------------------------------------------------------
def backtest(
    accounts: pd.DataFrame,
    metrics: pd.DataFrame,
    model: HealthModel,
    *,
    horizon_days: int = 90,
    learn: bool = True,
    day: date | None = None,
) -> BacktestResult:
    """Score the history with `model` and measure it against who left (see the module docstring).

    Args:
        accounts: the accounts file's columns, `churned_on` among them (missing = still a customer).
        metrics: every stored snapshot.
        learn: also learn a model from the history (the slow part on a large book).
        day: the date written into a learned model's header (default: the last snapshot's).
    """
    scored = score_snapshots(accounts, metrics, model)
    table = scored.table
    obs = observation_rows(table, horizon_days)
    score = scored.frame["score"].to_numpy(dtype="float64")[obs.rows]
    dims = scored.dimensions.to_numpy(dtype="float64")[obs.rows]
    band = np.asarray(scored.frame["band"].astype(str))[obs.rows]
    # Only the snapshots' measures are needed from here on: at a million snapshots the scored frames are a few
    # hundred MB, and the learned model is scored later, so one scored book is in memory at a time.
    del scored
    history = _History.of(table, obs, score, dims, band)
    del table
    overall = _overall(history, model)
    split = split_observations(obs, history.account_ids, horizon_days)
    # From here on only the learning and test observations count: keep just those (half the measures' memory).
    history, split = history.compact(split)
    return _measure(history, split, overall, accounts, metrics, model, horizon_days=horizon_days, learn=learn, day=day)


@dataclass(frozen=True)
class _History:
    """What a backtest needs of the history scored with the model in force, on the observations only."""

    obs: Observations
    account_ids: np.ndarray
    score: np.ndarray
    dims: np.ndarray
    band: np.ndarray
    measures: dict[str, np.ndarray]
    texts: dict[str, np.ndarray]

    @classmethod
    def of(
        cls, table: SnapshotTable, obs: Observations, score: np.ndarray, dims: np.ndarray, band: np.ndarray
    ) -> _History:
        measures = observed_measures(table, obs.rows)
        measures["days_to_renewal"] = _annual_days_to_renewal(table, obs)
        return cls(
            obs=obs,
            account_ids=table.account_ids,
            score=score,
            dims=dims,
            band=band,
            measures=measures,
            texts={name: np.asarray(table.measure_at(name, obs.rows), dtype=object) for name in LEARNED_TEXTS},
        )

    def compact(self, split: Split) -> tuple[_History, Split]:
        """Only the observations that learn or test, and the split over them."""
        used = split.train | split.test
        o = self.obs
        obs = Observations(o.rows[used], o.account[used], o.day[used], o.churned[used], o.left_on[used], o.end_day)
        history = replace(
            self,
            obs=obs,
            score=self.score[used],
            dims=self.dims[used],
            band=self.band[used],
            measures={k: v[used] for k, v in self.measures.items()},
            texts={k: v[used] for k, v in self.texts.items()},
        )
        return history, Split(split.train[used], split.test[used], split.cut_day, split.inner[used])


def _overall(history: _History, model: HealthModel) -> dict[str, Any]:
    """The figures over every labelled observation (nothing is fitted to them): BacktestResult's first fields."""
    obs, score, churned = history.obs, history.score, history.obs.churned
    in_lowest = history.band == model.lowest_band.name
    lead, flagged = _lead_times(obs, in_lowest, np.ones(len(obs.rows), dtype=bool))
    precision, recall = _precision_recall(in_lowest, churned)
    power = predictive_power(history.measures, churned, obs.account, model)
    return {
        "observations": len(obs.rows),
        "accounts": len(np.unique(obs.account)),
        "churned_accounts": len(np.unique(obs.account[~np.isnan(obs.left_on)])),
        "auc": _rounded(roc_auc(-score, churned)),
        "auc_by_dimension": {
            d.key: _rounded(roc_auc(-history.dims[:, j], churned)) for j, d in enumerate(model.dimensions)
        },
        "score_top_decile_lift": _lift(-score, churned),
        "lowest_band": model.lowest_band.name,
        "precision_lowest_band": precision,
        "recall_lowest_band": recall,
        "lead_time_days": lead,
        "flagged_before_churn": flagged,
        "measures": power,
        "opposite": [p.note for p in power if p.opposite and p.note],
    }


def _measure(
    history: _History,
    split: Split,
    overall: dict[str, Any],
    accounts: pd.DataFrame,
    metrics: pd.DataFrame,
    model: HealthModel,
    *,
    horizon_days: int,
    learn: bool,
    day: date | None,
) -> BacktestResult:
    obs, score, measures = history.obs, history.score, history.measures
    churned = obs.churned
    notes: list[str] = []
    end_date = str(np.datetime64(obs.end_day, "D")) if overall["observations"] else ""

    enough = churned[split.train].sum() >= MIN_TRAIN_CHURNED and churned[split.test].sum() >= MIN_TEST_CHURNED
    baselines: list[Baseline] = []
    deciles: list[float] = []
    best_name: str | None = None
    bands: BandReport | None = None
    learned: LearnedReport | None = None
    if churned[split.test].any() and (~churned[split.test]).any() and churned[split.train].any():
        current_risk = _filled(-score, -score[split.train])
        deciles = _lift_by_decile(current_risk[split.test], churned[split.test])
        baselines.append(
            Baseline("current_model", f"The health score ({model.name})", _test_auc(current_risk, obs, split))
        )
        candidates = {k: v for k, v in measures.items() if k != "days_to_renewal"}
        best = _best_measure(candidates, churned, split)
        if best is not None:
            best_name = best[0]
            baselines.append(
                Baseline("best_measure", measure_label(best[0]), _test_auc(best[1], obs, split), measure=best[0])
            )
        no_data = np.full(len(churned), np.nan)
        for key, label, risk in (
            ("days_to_renewal", "Days to renewal (sooner = riskier)", -measures["days_to_renewal"]),
            ("usage_drop_30d", "30-day drop in active users", -measures.get("active_users_change_30d", no_data)),
        ):
            auc = _test_auc(_filled(risk, risk[split.train]), obs, split) if np.isfinite(risk).any() else None
            baselines.append(Baseline(key, label, auc))
        proposed = propose_floors(model, score[split.train], churned[split.train], score[split.train])
        bands = _band_report(model, [(b.name, b.min) for b in model.bands], score, obs, split, proposed)
        if learn and enough:
            learned = _learn(history, accounts, metrics, model, split, baselines, day or _end(obs))
            if learned.test_auc is not None:
                baselines.append(Baseline("learned_model", "The learned model", learned.test_auc))
        elif learn:
            notes.append(
                f"Too few former customers to learn a model out of time: {int(churned[split.train].sum())} churned "
                f"observations to learn from (need {MIN_TRAIN_CHURNED}) and {int(churned[split.test].sum())} to test "
                f"on (need {MIN_TEST_CHURNED}). Nothing was learned and no model file will be written."
            )
    else:
        notes.append(
            "No former customer left within the horizon of a test observation (or none stayed): the score cannot be "
            "judged out of time yet. The figures over every observation below are all there is."
        )
    if split.cut_day is None:
        notes.append(
            f"Too little history to split by time as well as by account with a {horizon_days}-day horizon: the test "
            "uses other accounts over the same months."
        )
    validation = Validation(
        end_date=end_date,
        cut_date=None if split.cut_day is None else str(np.datetime64(split.cut_day, "D")),
        train_observations=int(split.train.sum()),
        train_accounts=len(np.unique(obs.account[split.train])),
        train_churned=int(churned[split.train].sum()),
        test_observations=int(split.test.sum()),
        test_accounts=len(np.unique(obs.account[split.test])),
        test_churned=int(churned[split.test].sum()),
    )
    result = BacktestResult(
        horizon_days=horizon_days,
        **overall,
        validation=validation,
        baselines=baselines,
        score_lift_by_decile=deciles,
        best_measure=best_name,
        bands=bands,
        learned=learned,
        headline=[],
        notes=notes,
    )
    return _with_headline(result)


def _lift(risk: np.ndarray, churned: np.ndarray) -> float | None:
    rate = top_share_rate(risk, churned)
    base = float(churned.mean()) if len(churned) else 0.0
    return None if rate is None or base == 0 else round(rate / base, 2)


def _lift_by_decile(risk: np.ndarray, churned: np.ndarray) -> list[float]:
    """Churn rate of each tenth of the observations, riskiest first, as a multiple of the average (ties by average
    rank, so tied scores share a tenth)."""
    base = float(churned.mean()) if len(churned) else 0.0
    if base == 0:
        return []
    ranks = pd.Series(-risk).rank(method="average").to_numpy()
    tenth = np.minimum(((ranks - 1) * 10 // len(ranks)).astype(int), 9)
    rows = np.bincount(tenth, minlength=10)
    hits = np.bincount(tenth, weights=churned.astype("float64"), minlength=10)
    with np.errstate(invalid="ignore", divide="ignore"):
        return [round(float(h / r / base), 2) if r else 0.0 for h, r in zip(hits, rows, strict=True)]


def _end(obs: Observations) -> date:
    return pd.Timestamp(np.datetime64(obs.end_day, "D")).date()


def _test_auc(risk: np.ndarray, obs: Observations, split: Split) -> float | None:
    return _rounded(roc_auc(risk[split.test], obs.churned[split.test]))


def _learn(
    history: _History,
    accounts: pd.DataFrame,
    metrics: pd.DataFrame,
    model: HealthModel,
    split: Split,
    baselines: list[Baseline],
    day: date,
) -> LearnedReport:
    obs, measures, texts = history.obs, history.measures, history.texts
    churned = obs.churned
    segment = texts["segment"]
    train = split.train
    card = fit_scorecard(
        {k: v[train] for k, v in measures.items()},
        {k: v[train] for k, v in texts.items()},
        churned[train],
        split.inner[train],
        segment[train],
        obs.account[train],
        model,
    )
    current = next(b.auc for b in baselines if b.key == "current_model")
    best = next((b.auc for b in baselines if b.key == "best_measure"), None)
    if card is None:
        return LearnedReport(None, None, None, False, {}, [], [], MIN_SEGMENT_CHURNERS, None, "")
    columns = {**measures, **texts}
    changes = _changes(card, model, columns, churned, split)
    header = _header(day, obs, split)
    # Bands from the learning period's scores as the file computes them before any signal caps one (scoring the
    # whole book twice for that would cost more than the caps move a cut point).
    train_scores = np.round(card.composite({k: v[split.train] for k, v in columns.items()}), 1)
    proposed = propose_floors(model, train_scores, churned[split.train], history.score[split.train])
    text = model_text(card, model, header=header, changes=changes, bands=proposed)
    final = parse_model(text, source="learned model")
    learned_scores = _scores(accounts, metrics, final, obs)
    risk = _filled(-learned_scores, -learned_scores[split.train])
    auc = _test_auc(risk, obs, split)
    accepted = auc is not None and current is not None and auc >= current + MIN_GAIN and (best is None or auc > best)
    # The same file, its header now saying how it did (comments only: the model is the one just measured).
    verdict = (
        f"Out of time it ranks who left at ROC AUC {auc}: the model in force {current}, the best single measure {best}."
    )
    text = model_text(card, model, header=[*header[:2], verdict, *header[2:]], changes=changes, bands=proposed)
    band_report = _band_report(final, proposed, learned_scores, obs, split, proposed)
    return LearnedReport(
        test_auc=auc,
        gain_vs_current=None if auc is None or current is None else round(auc - current, 3),
        gain_vs_best_measure=None if auc is None or best is None else round(auc - best, 3),
        accepted=accepted,
        dimension_weights=whole_percentages(card.dimension_weights()),
        changes=changes,
        segments=_segment_reports(card, columns, churned, split, segment, obs),
        min_segment_churners=MIN_SEGMENT_CHURNERS,
        bands=band_report,
        model_file=text,
    )


def _scores(accounts: pd.DataFrame, metrics: pd.DataFrame, model: HealthModel, obs: Observations) -> np.ndarray:
    return score_snapshots(accounts, metrics, model).frame["score"].to_numpy(dtype="float64")[obs.rows]


def _header(day: date, obs: Observations, split: Split) -> list[str]:
    cut = "" if split.cut_day is None else f", before {np.datetime64(split.cut_day, 'D')}"
    return [
        f"Learned by `healthbot backtest` on {day.isoformat()} from the history up to "
        f"{np.datetime64(obs.end_day, 'D')}:",
        f"churn within the horizon, learned on {len(np.unique(obs.account[split.train]))} accounts' observations"
        f"{cut}, and tested on {len(np.unique(obs.account[split.test]))} other accounts"
        + ("" if split.cut_day is None else " after it")
        + ".",
        "Each metric's comment: its ROC AUC alone on the test observations, and what it adds to the learned model's.",
    ]


def _changes(
    card: Scorecard, model: HealthModel, columns: dict[str, np.ndarray], churned: np.ndarray, split: Split
) -> list[MetricChange]:
    """What happened to every metric, with out-of-time AUCs and gains (the composite, before signals cap it)."""
    test = split.test
    values = {k: v[test] for k, v in columns.items()}
    y = churned[test]
    full = roc_auc(-card.composite(values), y) or 0.5
    before_share = _shares_in(model)
    after_share = _shares_of(card)
    old = {(m.measure): (d.key, m) for d in model.dimensions for m in d.metrics if m.weight > 0}
    directions = model_directions(model)
    changes: list[MetricChange] = []
    for shape, dimension in zip(card.shapes, card.dimension_of, strict=True):
        alone = roc_auc(-shape.sub_score(values[shape.measure]), y)
        without = roc_auc(-card.composite(values, drop=shape.measure), y) if len(card.shapes) > 1 else 0.5
        if shape.measure not in old:
            kind = "added"
        elif shape.points and directions.get(shape.measure) == (
            "higher = riskier" if shape.higher_is_safer else "higher = healthier"
        ):
            kind = "flipped"
        else:
            kind = "re-weighted"
        changes.append(
            MetricChange(
                dimension,
                shape.measure,
                kind,
                _rounded(alone),
                None if without is None else round(full - without, 3),
                before_share.get(shape.measure, 0.0),
                after_share.get(shape.measure, 0.0),
            )
        )
    learned = {s.measure for s in card.shapes}
    for measure, (dimension, metric) in old.items():
        if measure in learned or measure not in values:
            continue
        shape = Shape(measure, points=metric.points, values=metric.values, otherwise=metric.otherwise)
        alone = roc_auc(-shape.sub_score(values[measure]), y) if metric.points else None
        mean_weight = float(np.mean(card.weights))
        with_it = Scorecard(
            (*card.shapes, shape), (*card.weights, mean_weight), (*card.dimension_of, card.dimension_of[0])
        )
        back = roc_auc(-with_it.composite(values), y)
        changes.append(
            MetricChange(
                dimension,
                measure,
                "dropped",
                _rounded(alone),
                None if back is None else round(full - back, 3),
                before_share.get(measure, 0.0),
                0.0,
            )
        )
    return changes


def _shares_in(model: HealthModel) -> dict[str, float]:
    out: dict[str, float] = {}
    total = sum(d.weight for d in model.dimensions)
    for d in model.dimensions:
        inner = sum(m.weight for m in d.metrics)
        for m in d.metrics:
            out[m.measure] = out.get(m.measure, 0.0) + d.weight / total * m.weight / inner
    return out


def _shares_of(card: Scorecard) -> dict[str, float]:
    total = sum(card.weights)
    return {s.measure: w / total for s, w in zip(card.shapes, card.weights, strict=True)}


def _segment_reports(
    card: Scorecard,
    columns: dict[str, np.ndarray],
    churned: np.ndarray,
    split: Split,
    segment: np.ndarray,
    obs: Observations,
) -> list[SegmentReport]:
    out = []
    values = pd.Series(segment, dtype=object)
    for name in sorted(values.dropna().unique()):
        inside = (values == name).to_numpy()
        train = inside & split.train
        churners = len(np.unique(obs.account[train & churned]))
        test = inside & split.test
        own = card.segment_weights.get(str(name))
        auc_own = auc_shared = None
        if test.any():
            test_values = {k: v[test] for k, v in columns.items()}
            auc_shared = _rounded(roc_auc(-card.composite(test_values), churned[test]))
            if own is not None:
                weights = np.array([own.get(k, 0.0) for k in card.dimensions])
                mixed = dimension_average(card.dimension_scores(test_values), weights)
                auc_own = _rounded(roc_auc(-mixed, churned[test]))
        out.append(SegmentReport(str(name), churners, own is not None, auc_own, auc_shared))
    return out


# --- words --------------------------------------------------------------------------------------------------------
def _with_headline(result: BacktestResult) -> BacktestResult:
    lines: list[str] = []
    current = result.baseline("current_model")
    columns = [b for b in result.baselines if b.key in ("best_measure", "days_to_renewal", "usage_drop_30d")]
    beaten_by = max((b for b in columns if b.auc is not None), key=lambda b: b.auc or 0.0, default=None)
    if current is not None and current.auc is not None and beaten_by is not None and beaten_by.auc is not None:
        if beaten_by.auc > current.auc:
            lines.append(
                f"Your health score predicts churn worse than a single column: {beaten_by.label} alone ranks who "
                f"left within {result.horizon_days} days at ROC AUC {beaten_by.auc:.2f} out of time, the score at "
                f"{current.auc:.2f}."
            )
        else:
            lines.append(
                f"Your health score ranks who left within {result.horizon_days} days at ROC AUC {current.auc:.2f} out "
                f"of time, ahead of every single column (best: {beaten_by.label}, {beaten_by.auc:.2f})."
            )
    learned = result.learned
    if learned is not None and learned.test_auc is not None:
        if learned.accepted:
            lines.append(
                f"A model learned from your history reaches {learned.test_auc:.2f} out of time "
                f"({signed_number(learned.gain_vs_current or 0.0, 3)} over the score): `--write-model FILE` saves it."
            )
        else:
            lines.append(
                f"A model learned from your history reaches {learned.test_auc:.2f} out of time, not clearly better "
                "than both the score and the best single measure: no model file is proposed."
            )
    lines += [f"Warning: {note}" for note in result.opposite[:3]]
    return replace(result, headline=lines)


def _auc_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def describe(result: BacktestResult, model: HealthModel, *, measures: int = 12) -> list[str]:
    """The backtest in a CS leader's words, one line each; the headline first."""
    names = {d.key: d.name for d in model.dimensions}
    v = result.validation
    lines = [*result.headline, ""] if result.headline else []
    lines += [
        f"Did the score predict churn within {result.horizon_days} days?",
        f"  {result.observations:,} monthly snapshots of {result.accounts:,} accounts (outcome known: up to "
        f"{result.horizon_days} days before {v.end_date}); {result.churned_accounts:,} of the accounts left.",
    ]
    split = (
        f"learned on {v.train_accounts:,} accounts before {v.cut_date}, tested on {v.test_accounts:,} others from "
        f"{v.cut_date}"
        if v.cut_date
        else f"learned on {v.train_accounts:,} accounts, tested on {v.test_accounts:,} others (no time split)"
    )
    lines.append(f"  Out of time ({split}; {v.test_churned} of {v.test_observations:,} test snapshots churned):")
    for b in result.baselines:
        lines.append(f"    {b.label}: ROC AUC {_auc_text(b.auc)}")
    if result.auc is not None:
        lines.append(f"  Over every snapshot: score ROC AUC {result.auc:.2f} (1.00 = perfect, 0.50 = a coin toss)")
        ranked = sorted(((k, x) for k, x in result.auc_by_dimension.items() if x is not None), key=lambda kv: -kv[1])
        lines.append("  By dimension: " + " · ".join(f"{names.get(k, k)} {x:.2f}" for k, x in ranked))
    if result.precision_lowest_band is not None:
        recall = ""
        if result.recall_lowest_band is not None:
            recall = f" (and {result.recall_lowest_band:.0%} of those who left were {result.lowest_band})"
        lines.append(
            f"  {result.lowest_band} precision: {result.precision_lowest_band:.0%} of {result.lowest_band} snapshots "
            f"were followed by churn within {result.horizon_days} days{recall}"
        )
    if result.lead_time_days is not None:
        lines.append(
            f"  Lead time: {result.flagged_before_churn} former customers were {result.lowest_band} before they left, "
            f"a median {result.lead_time_days:.0f} days ahead"
        )
    if result.bands is not None:
        lines += _band_lines("Bands of the score", result.bands, result.horizon_days)
    if result.measures:
        lines.append("Predictive power of each measure (ROC AUC the way the data points, 90% interval, top-10% lift):")
        for p in result.measures[:measures]:
            interval = "" if p.auc_low is None else f" ({p.auc_low:.2f}–{p.auc_high:.2f})"
            lift = "" if p.top_decile_lift is None else f", lift {p.top_decile_lift:.1f}×"
            lines.append(f"  {p.label}: {p.auc:.2f}{interval} {p.direction}{lift}, coverage {p.coverage:.0%}")
        if len(result.measures) > measures:
            lines.append(f"  … and {len(result.measures) - measures} more in --json")
    lines += [f"Warning: {note}" for note in result.opposite[3:]]
    if result.learned is not None:
        lines += _learned_lines(result.learned, result.horizon_days)
    lines += [f"Note: {note}" for note in result.notes]
    return lines


def _band_lines(title: str, bands: BandReport, horizon: int) -> list[str]:
    lines = [f"{title} on the test snapshots (churn within {horizon} days):"]
    lines.append("  now: " + " · ".join(_band_rate_text(b, bands.test) for b in bands.test))
    lowest = bands.lowest_band
    if bands.precision_lowest is not None and bands.recall_lowest is not None:
        lines.append(
            f"  {lowest}: precision {bands.precision_lowest:.0%}, recall {bands.recall_lowest:.0%}"
            + ("" if bands.lead_time_days is None else f", lead time {bands.lead_time_days:.0f} days")
        )
    if bands.proposed_floors != bands.floors:
        floors = list(bands.proposed_floors.items())
        cuts = ", ".join(f"{name} from {floor:g}" for name, floor in floors[:-1])
        cuts += f", {floors[-1][0]} below {floors[-2][1]:g}" if len(floors) > 1 else ""
        figures = ""
        if bands.proposed_precision_lowest is not None and bands.proposed_recall_lowest is not None:
            figures = (
                f": {lowest} precision {bands.proposed_precision_lowest:.0%}, recall {bands.proposed_recall_lowest:.0%}"
            )
        lines.append(f"  proposed cut points ({cuts}){figures}")
    return lines


def _band_rate_text(band: BandRate, bands: list[BandRate]) -> str:
    rate = "n/a" if band.churn_rate is None else f"{band.churn_rate:.1%}"
    where = f"{band.floor:g}+" if band is not bands[-1] or len(bands) == 1 else f"below {bands[-2].floor:g}"
    return f"{band.band} {where} {band.share:.0%} of snapshots, {rate} churned"


def _learned_lines(learned: LearnedReport, horizon: int) -> list[str]:
    lines = ["The learned model:"]
    if learned.test_auc is None:
        return [*lines, "  No measure carried a signal in the learning period: nothing was learned."]
    lines.append(
        f"  out-of-time ROC AUC {learned.test_auc:.2f} ({signed_number(learned.gain_vs_current or 0.0, 3)} vs the "
        f"score, {signed_number(learned.gain_vs_best_measure or 0.0, 3)} vs the best single measure): "
        + ("proposed; `--write-model FILE` saves it" if learned.accepted else "not proposed")
    )
    lines.append("  dimension weights: " + ", ".join(f"{k} {v}" for k, v in learned.dimension_weights.items() if v))
    for change in learned.changes:
        lines.append(f"  {change.comment()}")
    own = [s for s in learned.segments if s.own_weights]
    if learned.segments:
        lines.append(
            f"  segments with their own weights (at least {learned.min_segment_churners} former customers in the "
            f"learning period): " + (", ".join(s.segment for s in own) if own else "none")
        )
    if learned.bands is not None:
        lines += ["  " + line for line in _band_lines("Its bands", learned.bands, horizon)]
    return lines


def not_written_reason(result: BacktestResult) -> str:
    """Why no learned model file is proposed, in words (empty when one is)."""
    learned = result.learned
    if learned is not None and learned.accepted:
        return ""
    if learned is None:
        return next(
            (n for n in result.notes if n.startswith(("Too few", "No former"))),
            "Nothing was learned from this history.",
        )
    if learned.test_auc is None:
        return "No measure carried a signal in the learning period: nothing was learned."
    current = result.baseline("current_model")
    best = result.baseline("best_measure")
    return (
        f"The learned model ranks who left at ROC AUC {learned.test_auc:.3f} out of time; a file is written only "
        f"when it beats the score in force ({_auc_text(current.auc if current else None)}, by at least {MIN_GAIN}) "
        f"and the best single measure ({_auc_text(best.auc if best else None)})."
    )


def model_insights(result: BacktestResult, model: HealthModel) -> list[str]:
    """The seeds' "predictive power analysis" and "model refinement recommendation", in a few lines."""
    names = {d.key: d.name for d in model.dimensions}
    ranked = sorted(((k, v) for k, v in result.auc_by_dimension.items() if v is not None), key=lambda kv: -kv[1])
    out = []
    if ranked:
        out.append(
            "Predictive power (ROC AUC for churn within "
            f"{result.horizon_days} days): " + ", ".join(f"{names.get(k, k)} {v:.2f}" for k, v in ranked)
        )
    if result.auc is not None:
        out.append(f"The overall score ranks who left at ROC AUC {result.auc:.2f}")
    out += result.headline
    return out


@dataclass(frozen=True)
class PredictionSummary:
    """What a chat answer to "how well does our health score predict churn?" needs, every figure out of time."""

    horizon_days: int
    headline: list[str]
    accounts: int
    churned_accounts: int
    test_observations: int
    score_auc: float | None  # the score in force, on the test observations
    best_measure: str | None
    best_measure_auc: float | None
    learned_auc: float | None
    learned_proposed: bool
    baselines: list[tuple[str, float | None]]  # (label, out-of-time AUC), the score first
    churn_rate_by_band: list[tuple[str, float | None]]  # test observations, bands in force, best band first
    score_top_decile_lift: float | None  # churn rate of the lowest-scoring tenth ÷ average, every observation
    score_lift_by_decile: list[float]  # test observations, lowest-scoring tenth first: the lift chart
    lowest_band: str
    lowest_band_precision: float | None
    lowest_band_recall: float | None
    lead_time_days: float | None
    flipped: list[str]  # plain-words warnings
    strongest: list[tuple[str, float, str]]  # (measure label, AUC, direction), up to five


def prediction_summary(result: BacktestResult) -> PredictionSummary:
    """The summary figures of a backtest (see `PredictionSummary`)."""
    current = result.baseline("current_model")
    best = result.baseline("best_measure")
    bands = result.bands
    return PredictionSummary(
        horizon_days=result.horizon_days,
        headline=result.headline,
        accounts=result.accounts,
        churned_accounts=result.churned_accounts,
        test_observations=result.validation.test_observations,
        score_auc=None if current is None else current.auc,
        best_measure=None if best is None else best.label,
        best_measure_auc=None if best is None else best.auc,
        learned_auc=None if result.learned is None else result.learned.test_auc,
        learned_proposed=result.learned is not None and result.learned.accepted,
        baselines=[(b.label, b.auc) for b in result.baselines],
        churn_rate_by_band=[] if bands is None else [(b.band, b.churn_rate) for b in bands.test],
        score_top_decile_lift=result.score_top_decile_lift,
        score_lift_by_decile=result.score_lift_by_decile,
        lowest_band=result.lowest_band,
        lowest_band_precision=None if bands is None else bands.precision_lowest,
        lowest_band_recall=None if bands is None else bands.recall_lowest,
        lead_time_days=None if bands is None else bands.lead_time_days,
        flipped=result.opposite,
        strongest=[(p.label, p.auc, p.direction) for p in result.measures[:5]],
    )
