"""Backtest: how well did the stored scores predict which customers left, and would other weights have done better?

The seeds' "predictive power analysis" and "model refinement recommendation", computed from the history:

- Observations are one score per account per month (the month's last), before the account left.
- An observation is *positive* when the account left within `horizon_days` after it. Observations of accounts that
  stayed are kept only when the horizon has fully passed by the end of the history (otherwise we don't know yet).
- ROC AUC of the score (lower = riskier) and of each dimension; precision and recall of the lowest band; lead time
  from the start of an account's last run in the lowest band to the day it left.
- Refined weights are fitted on about 70% of the accounts (chosen by a stable hash of the account ID) and judged on
  the other 30%. They are proposed only if they also predict better there; each weight moves at most 15 points.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from scoring.measures import signed_number
from scoring.model import HealthModel

_TRAIN_SHARE = 7  # of 10 hash buckets
_STEP = 5.0  # weights move in steps of 5 points
_MAX_MOVE = 15.0  # nor more than 15 points from the current weight
_MIN_GAIN = 0.005  # a holdout AUC gain below this is noise, not a better model
_MIN_POSITIVES = 3  # per split, to fit or judge anything at all


@dataclass(frozen=True)
class BacktestResult:
    """Every figure of a backtest; `notes` says in words what the figures can and cannot show."""

    horizon_days: int
    observations: int
    accounts: int
    churned_accounts: int
    auc: float | None
    auc_by_dimension: dict[str, float | None]
    lowest_band: str
    precision_lowest_band: float | None  # of observations in the lowest band, the share followed by churn
    recall_lowest_band: float | None  # of observations followed by churn, the share in the lowest band
    lead_time_days: float | None  # median, over former customers in the lowest band before they left
    flagged_before_churn: int  # former customers in the lowest band at their last score before leaving
    current_weights: dict[str, float]
    refined_weights: dict[str, float]
    holdout_auc_current: float | None
    holdout_auc_refined: float | None  # of the weights fitted on the training accounts, accepted or not
    gain: float | None
    refinement_accepted: bool  # the fitted weights beat the current ones on the holdout by a clear margin
    train_accounts: int
    holdout_accounts: int
    notes: list[str] = field(default_factory=list)


def roc_auc(risk: np.ndarray, positive: np.ndarray) -> float | None:
    """ROC AUC of `risk` (higher = more likely positive) by the rank-sum formula, ties counted half."""
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


def observations(history: pd.DataFrame, churned_on: pd.Series, horizon_days: int) -> pd.DataFrame:
    """One labelled observation per account per month before it left (see the module docstring).

    Args:
        history: account_id, as_of, score, band and one column per dimension key.
        churned_on: the day each former customer left, indexed by account_id (missing = still a customer).
    """
    frame = history.assign(as_of=pd.to_datetime(history["as_of"]))
    frame = frame.sort_values(["account_id", "as_of"])
    month = frame["as_of"].dt.to_period("M")
    frame = frame[~frame.assign(month=month).duplicated(["account_id", "month"], keep="last").to_numpy()]
    left = pd.to_datetime(frame["account_id"].map(churned_on))
    days_to_churn = (left - frame["as_of"]).dt.days
    before_leaving = left.isna() | (days_to_churn > 0)
    positive = (days_to_churn > 0) & (days_to_churn <= horizon_days)
    end = frame["as_of"].max()
    known_future = positive | ((end - frame["as_of"]).dt.days >= horizon_days) | (days_to_churn > horizon_days)
    keep = (before_leaving & known_future).to_numpy()
    return frame[keep].assign(churned=positive[keep].to_numpy(), left_on=left[keep].to_numpy())


def _composite(dims: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The overall score the model's renormalisation gives for these dimension scores and weights."""
    has = ~np.isnan(dims)
    weighted = np.where(has, weights[None, :], 0.0)
    total = weighted.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (weighted * np.nan_to_num(dims)).sum(axis=1) / total, np.nan)


def _score_auc(dims: np.ndarray, weights: np.ndarray, positive: np.ndarray) -> float:
    auc = roc_auc(-_composite(dims, weights), positive)
    return -1.0 if auc is None else auc


def refine_weights(dims: np.ndarray, positive: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Move 5 points of weight from one dimension to another while the AUC on these rows improves.

    Weights stay whole multiples of 5 (when they start so), add up to the same total, and stay within 15 points
    of where they started: a refinement a CS leader can read and argue with, not an unconstrained fit.
    """
    start = weights.astype("float64")
    best = start.copy()
    best_auc = _score_auc(dims, best, positive)
    improved = True
    while improved:
        improved = False
        for give in range(len(best)):
            for take in range(len(best)):
                if give == take or best[give] < _STEP or best[take] + _STEP - start[take] > _MAX_MOVE:
                    continue
                if start[give] - (best[give] - _STEP) > _MAX_MOVE:
                    continue
                trial = best.copy()
                trial[give] -= _STEP
                trial[take] += _STEP
                auc = _score_auc(dims, trial, positive)
                if auc > best_auc + 1e-9:
                    best, best_auc, improved = trial, auc, True
    return best


def _in_training(account_ids: pd.Series) -> np.ndarray:
    buckets = np.array([zlib.crc32(str(a).encode()) % 10 for a in account_ids])
    return buckets < _TRAIN_SHARE


def _lead_times(obs: pd.DataFrame, lowest: str) -> tuple[float | None, int]:
    """Median days from the start of each former customer's last run in the lowest band to leaving."""
    gone = obs[obs["left_on"].notna()].sort_values(["account_id", "as_of"])
    if gone.empty:
        return None, 0
    red = (gone["band"] == lowest).to_numpy()
    ids = gone["account_id"].to_numpy()
    new_run = np.r_[True, (red[1:] != red[:-1]) | (ids[1:] != ids[:-1])]
    run_start = gone["as_of"].where(new_run).ffill()
    last = gone.assign(red=red, run_start=run_start).groupby("account_id").tail(1)
    flagged = last[last["red"]]
    if flagged.empty:
        return None, 0
    lead = (pd.to_datetime(flagged["left_on"]) - flagged["run_start"]).dt.days
    return float(lead.median()), len(flagged)


def backtest(
    history: pd.DataFrame, churned_on: pd.Series, model: HealthModel, *, horizon_days: int = 90
) -> BacktestResult:
    """Measure the stored scores against who left (see the module docstring for the method)."""
    keys = [d.key for d in model.dimensions]
    current = np.array([d.weight for d in model.dimensions], dtype="float64")
    obs = observations(history, churned_on, horizon_days)
    for key in keys:
        if key not in obs.columns:
            obs[key] = np.nan
    positive = obs["churned"].to_numpy(dtype=bool)
    dims = obs[keys].to_numpy(dtype="float64")
    lowest = model.lowest_band.name
    in_lowest = (obs["band"] == lowest).to_numpy()
    lead, flagged = _lead_times(obs, lowest)
    notes: list[str] = []

    train = _in_training(obs["account_id"])
    refined, holdout_current, holdout_refined, accepted = current.copy(), None, None, False
    if positive[train].sum() >= _MIN_POSITIVES and positive[~train].sum() >= _MIN_POSITIVES:
        candidate = refine_weights(dims[train], positive[train], current)
        holdout_current = roc_auc(-_composite(dims[~train], current), positive[~train])
        holdout_refined = roc_auc(-_composite(dims[~train], candidate), positive[~train])
        accepted = (
            holdout_current is not None
            and holdout_refined is not None
            and holdout_refined >= holdout_current + _MIN_GAIN
        )
        if accepted:
            refined = candidate
        elif not np.array_equal(candidate, current):
            notes.append(
                "Weights fitted on the training accounts did not predict clearly better on the holdout accounts "
                "(they would be fitting noise): keep the current weights."
            )
    else:
        notes.append(
            f"Too few former customers to fit and check new weights (need {_MIN_POSITIVES} in each of the training "
            "and holdout groups): the current weights stand."
        )
    if not positive.any():
        notes.append("No account left within the horizon of any stored score: nothing to measure the score against.")

    return BacktestResult(
        horizon_days=horizon_days,
        observations=len(obs),
        accounts=int(obs["account_id"].nunique()),
        churned_accounts=int(obs.loc[obs["left_on"].notna(), "account_id"].nunique()),
        auc=_rounded(roc_auc(-obs["score"].to_numpy(dtype="float64"), positive)),
        auc_by_dimension={k: _rounded(roc_auc(-dims[:, j], positive)) for j, k in enumerate(keys)},
        lowest_band=lowest,
        precision_lowest_band=_rounded(float(positive[in_lowest].mean())) if in_lowest.any() else None,
        recall_lowest_band=_rounded(float(in_lowest[positive].mean())) if positive.any() else None,
        lead_time_days=lead,
        flagged_before_churn=flagged,
        current_weights=dict(zip(keys, current.tolist(), strict=True)),
        refined_weights=dict(zip(keys, refined.tolist(), strict=True)),
        holdout_auc_current=_rounded(holdout_current),
        holdout_auc_refined=_rounded(holdout_refined),
        gain=_gain(holdout_current, holdout_refined),
        refinement_accepted=accepted,
        train_accounts=int(obs.loc[train, "account_id"].nunique()),
        holdout_accounts=int(obs.loc[~train, "account_id"].nunique()),
        notes=notes,
    )


def _gain(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else round(after - before, 3)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def describe(result: BacktestResult, model: HealthModel) -> list[str]:
    """The backtest in a CS leader's words, one line each."""
    names = {d.key: d.name for d in model.dimensions}
    lines = [
        f"Did the score predict churn within {result.horizon_days} days?",
        f"  {result.observations:,} monthly scores of {result.accounts} accounts; "
        f"{result.churned_accounts} of them left.",
    ]
    if result.auc is not None:
        lines.append(f"  Score ROC AUC {result.auc:.2f} (1.00 = perfect ranking of who left, 0.50 = a coin toss)")
        ranked = sorted(((k, v) for k, v in result.auc_by_dimension.items() if v is not None), key=lambda kv: -kv[1])
        lines.append("  By dimension: " + " · ".join(f"{names.get(k, k)} {v:.2f}" for k, v in ranked))
    if result.precision_lowest_band is not None:
        recall = ""
        if result.recall_lowest_band is not None:
            recall = f" (and {result.recall_lowest_band:.0%} of those who left were {result.lowest_band})"
        lines.append(
            f"  {result.lowest_band} precision: {result.precision_lowest_band:.0%} of {result.lowest_band} scores were "
            f"followed by churn within {result.horizon_days} days{recall}"
        )
    if result.lead_time_days is not None:
        lines.append(
            f"  Lead time: {result.flagged_before_churn} of {result.churned_accounts} former customers were "
            f"{result.lowest_band} before they left, a median {result.lead_time_days:.0f} days ahead"
        )
    lines.append(
        f"Refined weights (fitted on {result.train_accounts} accounts, checked on {result.holdout_accounts} others):"
    )
    for key, now in result.current_weights.items():
        proposed = result.refined_weights[key]
        change = "" if proposed == now else f" → {proposed:g}"
        lines.append(f"  {names.get(key, key)}: {now:g}{change}")
    if result.holdout_auc_current is not None and result.holdout_auc_refined is not None:
        lines.append(
            f"  Holdout ROC AUC {result.holdout_auc_current:.2f} with the current weights, "
            f"{result.holdout_auc_refined:.2f} with the fitted ones ({signed_number(result.gain or 0.0, 3)}"
            + (", proposed)" if result.refinement_accepted else ", not enough to change)")
        )
    lines += [f"Note: {note}" for note in result.notes]
    return lines


def refinement_notes(result: BacktestResult, *, day: date) -> list[str]:
    """The header comment of a refined model file: when, how it was fitted, what it gained."""
    notes = [
        f"Refined by `healthbot backtest` on {day.isoformat()}: churn within {result.horizon_days} days, weights "
        f"fitted on {result.train_accounts} accounts and checked on {result.holdout_accounts} others.",
    ]
    if result.refinement_accepted:
        notes.append(
            f"Holdout ROC AUC {result.holdout_auc_current} with the previous weights, "
            f"{result.holdout_auc_refined} with these ({result.gain:+})."
        )
    else:
        notes.append("No clearly better weights were found, so these are the current weights.")
    return notes


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
    if result.refinement_accepted and result.gain is not None:
        moves = [
            f"{names.get(k, k)} {result.current_weights[k]:g}% → {w:g}%"
            for k, w in result.refined_weights.items()
            if w != result.current_weights[k]
        ]
        out.append(f"Model refinement: {', '.join(moves)} (holdout ROC AUC {signed_number(result.gain, 3)})")
    return out
