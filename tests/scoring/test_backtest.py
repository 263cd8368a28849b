"""Backtest: ROC AUC, precision of the lowest band, lead time, and refined weights checked on a holdout."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import numpy as np
import pandas as pd
import pytest

from scoring import load_model
from scoring.backtest import backtest, describe, model_insights, observations, roc_auc
from tests.scoring.frames import TODAY

MODEL = load_model(None)
KEYS = ["usage", "support", "financial", "sentiment", "engagement"]


def test_roc_auc_counts_pairs_ranked_right_and_ties_as_half() -> None:
    assert roc_auc(np.array([0.9, 0.8, 0.1, 0.2]), np.array([1, 1, 0, 0])) == 1.0
    assert roc_auc(np.array([0.1, 0.2, 0.9, 0.8]), np.array([1, 1, 0, 0])) == 0.0
    assert roc_auc(np.array([0.5, 0.5, 0.5]), np.array([1, 0, 0])) == 0.5
    assert roc_auc(np.array([0.3, 0.1]), np.array([0, 0])) is None
    rng = np.random.default_rng(3)
    risk, label = rng.integers(0, 5, 60).astype(float), rng.random(60) < 0.3
    pairs = [(p, n) for p, n in product(risk[label], risk[~label])]
    brute = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs) / len(pairs)
    assert roc_auc(risk, label) == pytest.approx(brute)


def history_rows(account_id: str, scores: list[float], *, end: pd.Timestamp) -> list[dict[str, object]]:
    months = len(scores)
    return [
        {
            "account_id": account_id,
            "as_of": end - pd.DateOffset(months=months - 1 - i),
            "score": s,
            "band": MODEL.band_for(s).name,
        }
        for i, s in enumerate(scores)
    ]


def test_observations_label_churn_within_the_horizon_and_drop_what_is_not_known_yet() -> None:
    end = pd.Timestamp(TODAY)
    history = pd.DataFrame(
        history_rows("LEFT", [80, 70, 60, 50], end=end - pd.DateOffset(months=6))
        + history_rows("STAYED", [80] * 8, end=end)
    )
    left_on = pd.Series({"LEFT": end - pd.DateOffset(months=6) + timedelta(days=45)})
    obs = observations(history, left_on, 90)
    left = obs[obs["account_id"] == "LEFT"]
    assert left["churned"].tolist() == [False, False, True, True]  # left 45 and 75 days after the last two
    stayed = obs[obs["account_id"] == "STAYED"]
    # The last three months of a current customer are not labelled: 90 days have not passed yet.
    assert len(stayed) == 5 and not stayed["churned"].any()


def synthetic_history(n: int = 240, seed: int = 7) -> tuple[pd.DataFrame, pd.Series]:
    """Twelve monthly scores per account; a fifth of the accounts leave, and their usage sinks beforehand while
    their other dimensions look like everyone else's."""
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(TODAY)
    rows, left = [], {}
    for i in range(n):
        leaves = i % 5 == 0
        dims = {k: rng.uniform(55, 95, 12) for k in KEYS}
        if leaves:
            dims["usage"][-4:] = np.linspace(55, 20, 4) + rng.normal(0, 5, 4)
            left[f"A{i}"] = end + timedelta(days=int(rng.integers(10, 60)))
        weights = np.array([MODEL.weights[k] for k in KEYS])
        for month in range(12):
            values = np.array([dims[k][month] for k in KEYS])
            score = round(float(values @ weights / weights.sum()), 1)
            rows.append(
                {
                    "account_id": f"A{i}",
                    "as_of": end - pd.DateOffset(months=11 - month) - (timedelta(days=120) if leaves else timedelta(0)),
                    "score": score,
                    "band": MODEL.band_for(score).name,
                    **{k: float(dims[k][month]) for k in KEYS},
                }
            )
    left = {a: d - timedelta(days=120) for a, d in left.items()}
    return pd.DataFrame(rows), pd.Series(left)


def test_backtest_measures_each_dimension_and_proposes_weights_that_hold_on_the_holdout() -> None:
    history, left_on = synthetic_history()
    result = backtest(history, left_on, MODEL, horizon_days=90)
    assert result.churned_accounts == 48 and result.accounts == 240
    assert result.auc is not None and result.auc > 0.7
    assert result.auc_by_dimension["usage"] > 0.85 > max(result.auc_by_dimension[k] for k in KEYS[1:])  # type: ignore[operator]
    assert result.precision_lowest_band is not None and result.precision_lowest_band > 0.5
    assert result.flagged_before_churn > 0 and result.lead_time_days is not None and result.lead_time_days > 0
    # Usage carries the signal: the refinement moves weight to it, and it holds on accounts it never saw.
    assert result.refinement_accepted and result.gain is not None and result.gain > 0
    assert result.refined_weights["usage"] > 40 and sum(result.refined_weights.values()) == 100
    assert all(abs(result.refined_weights[k] - MODEL.weights[k]) <= 15 for k in KEYS)
    assert result.train_accounts + result.holdout_accounts == 240


def test_backtest_without_enough_former_customers_keeps_the_weights_and_says_why() -> None:
    history, left_on = synthetic_history(n=20)
    result = backtest(history, left_on.iloc[:2], MODEL)
    assert result.refined_weights == result.current_weights and not result.refinement_accepted
    assert any("Too few former customers" in note for note in result.notes)


def test_describe_reads_the_figures_back_in_words() -> None:
    history, left_on = synthetic_history()
    lines = describe(backtest(history, left_on, MODEL), MODEL)
    assert lines[0] == "Did the score predict churn within 90 days?"
    assert any(line.startswith("  Score ROC AUC") for line in lines)
    assert any(line.startswith("  By dimension: Product Usage") for line in lines)
    assert any(line.startswith("  Product Usage: 40 → ") for line in lines)


def test_model_insights_rank_the_dimensions_and_state_the_refinement() -> None:
    history, left_on = synthetic_history()
    lines = model_insights(backtest(history, left_on, MODEL), MODEL)
    assert lines[0].startswith("Predictive power (ROC AUC for churn within 90 days): Product Usage 1.00")
    assert lines[-1].startswith("Model refinement: Product Usage 40% → ")
