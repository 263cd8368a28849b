"""Backtest: honest out-of-time figures, per-measure predictive power, and a learned model that earns its file.

Most tests share one backtest of a generated book whose churn we know the cause of (tests/scoring/churn_generator.py):
feature use and MRR drive it, seat utilisation works the other way round from the default model's assumption,
logins, tickets and NPS are noise, and part of it nobody can see.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from scoring import load_model, parse_model, score_snapshots
from scoring.backtest import (
    BacktestResult,
    Baseline,
    backtest,
    describe,
    holdout_accounts,
    model_insights,
    not_written_reason,
    observation_rows,
    prediction_summary,
    roc_auc,
    split_observations,
)
from scoring.learn import MIN_SEGMENT_CHURNERS
from scoring.measures import SnapshotTable
from tests.scoring.churn_generator import ChurnBook, churn_book

MODEL = load_model(None)
HORIZON = 90


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


def tiny_book() -> tuple[pd.DataFrame, pd.DataFrame]:
    """LEFT has four monthly snapshots and leaves 45 days after its last; STAYED has eight, the last today."""
    end = pd.Timestamp("2026-11-24")
    gone = end - pd.DateOffset(months=6)
    rows = [{"account_id": "LEFT", "as_of": gone - pd.DateOffset(months=3 - i), "active_users": 5} for i in range(4)]
    rows += [{"account_id": "STAYED", "as_of": end - pd.DateOffset(months=7 - i), "active_users": 9} for i in range(8)]
    accounts = pd.DataFrame(
        [
            {"account_id": "LEFT", "name": "Left", "csm_owner": "Ana", "churned_on": gone + timedelta(days=45)},
            {"account_id": "STAYED", "name": "Stayed", "csm_owner": "Ana", "churned_on": None},
        ]
    )
    return accounts, pd.DataFrame(rows)


def test_observations_are_labelled_within_the_horizon_and_only_where_the_outcome_is_known() -> None:
    accounts, metrics = tiny_book()
    table = SnapshotTable(accounts, metrics)
    obs = observation_rows(table, HORIZON)
    ids = table.account_ids[obs.account]
    # LEFT left 45 and 75 days after its last two snapshots; its earlier two were more than 90 days before.
    assert obs.churned[ids == "LEFT"].tolist() == [False, False, True, True]
    # STAYED's last three months are not labelled: 90 days have not passed since. Nor would a churned account's be.
    stayed = obs.day[ids == "STAYED"]
    assert len(stayed) == 5 and (stayed + HORIZON <= obs.end_day).all()


@pytest.fixture(scope="module")
def book() -> ChurnBook:
    return churn_book(3000)


@pytest.fixture(scope="module")
def result(book: ChurnBook) -> BacktestResult:
    return backtest(book.accounts, book.metrics, MODEL, horizon_days=HORIZON)


def independent_observations(book: ChurnBook, cut_date: str | None) -> pd.DataFrame:
    """The observations rebuilt from the book with plain pandas, by the rules the report states."""
    metrics = book.metrics.assign(as_of=pd.to_datetime(book.metrics["as_of"]), hazard=book.hazard)
    left = pd.to_datetime(book.accounts.set_index("account_id")["churned_on"])
    frame = metrics.assign(left_on=metrics["account_id"].map(left))
    frame["month"] = frame["as_of"].dt.to_period("M")
    frame = frame.drop_duplicates(["account_id", "month"], keep="last")
    end = frame["as_of"].max()
    days_to_leave = (frame["left_on"] - frame["as_of"]).dt.days
    frame = frame[(frame["left_on"].isna() | (days_to_leave > 0)) & (frame["as_of"] + timedelta(days=HORIZON) <= end)]
    frame = frame.assign(churned=((frame["left_on"] - frame["as_of"]).dt.days <= HORIZON).to_numpy())
    in_test = holdout_accounts(frame["account_id"].to_numpy()) & (
        frame["as_of"] >= pd.Timestamp(cut_date) if cut_date else True
    )
    return frame.assign(test=in_test)


def scored_as(obs: pd.DataFrame, book: ChurnBook, model_text: str | None, column: str = "score") -> pd.DataFrame:
    """`obs` with each snapshot's `column` (score or band) as the scorer gives it for `model_text` (None: default)."""
    model = MODEL if model_text is None else parse_model(model_text)
    frame = score_snapshots(book.accounts, book.metrics, model).frame
    values = frame[column].astype(str if column == "band" else "float64").to_numpy()
    merged = obs.merge(frame[["account_id", "as_of"]].astype({"account_id": str}).assign(**{column: values}))
    assert len(merged) == len(obs)
    return merged


def test_every_auc_reported_equals_an_independent_computation(book: ChurnBook, result: BacktestResult) -> None:
    obs = independent_observations(book, result.validation.cut_date)
    assert result.observations == len(obs)
    test = obs[obs["test"]]
    assert result.validation.test_observations == len(test) > 1000
    assert result.validation.test_churned == int(test["churned"].sum())
    score = scored_as(obs, book, None)
    assert result.auc == round(roc_auc_score(score["churned"], -score["score"]), 3)
    in_test = score[score["test"]]
    current = result.baseline("current_model")
    assert current is not None and current.auc == round(roc_auc_score(in_test["churned"], -in_test["score"]), 3)
    # The single columns, on the same test observations (the churn book has every value, so nothing is filled in).
    best = result.baseline("best_measure")
    assert best is not None and best.measure == "features_used"
    assert best.auc == round(roc_auc_score(test["churned"], -test["features_used"]), 3)
    renewal = pd.to_datetime(test["account_id"].map(book.accounts.set_index("account_id")["renewal_date"]))
    days_to_renewal = (renewal - test["as_of"]).dt.days % 365  # annual terms: the renewal then, not today's
    assert result.baseline("days_to_renewal") == Baseline(
        "days_to_renewal",
        "Days to renewal (sooner = riskier)",
        round(roc_auc_score(test["churned"], -days_to_renewal), 3),
    )
    # Per measure, over every observation, in the data's direction.
    power = {p.measure: p for p in result.measures}
    assert power["features_used"].auc == round(roc_auc_score(obs["churned"], -obs["features_used"]), 4)
    utilisation = obs["active_users"] / obs["seats_purchased"]
    assert power["seat_utilisation"].auc == round(roc_auc_score(obs["churned"], utilisation), 4)
    # The learned model's AUC is its written file's, scored by the scorer.
    assert result.learned is not None
    mine = scored_as(test, book, result.learned.model_file)
    assert result.learned.test_auc == round(roc_auc_score(mine["churned"], -mine["score"]), 3)


def test_the_split_keeps_accounts_and_time_apart(book: ChurnBook) -> None:
    table = SnapshotTable(book.accounts, book.metrics)
    obs = observation_rows(table, HORIZON)
    split = split_observations(obs, table.account_ids, HORIZON)
    assert split.cut_day is not None and split.train.any() and split.test.any()
    assert not set(obs.account[split.train]) & set(obs.account[split.test])
    # Training labels were all known on the cut day; the test starts on it.
    assert (obs.day[split.train] + HORIZON <= split.cut_day).all()
    assert (obs.day[split.test] >= split.cut_day).all()


def test_the_report_finds_the_measure_the_default_model_has_backwards(result: BacktestResult) -> None:
    power = {p.measure: p for p in result.measures}
    utilisation = power["seat_utilisation"]
    assert utilisation.direction == "higher = riskier" and utilisation.opposite
    assert utilisation.auc_low is not None and utilisation.auc_low > 0.5
    assert utilisation.note is not None and utilisation.note.startswith(
        "Your model treats higher seat utilisation as healthier; on your data accounts with higher seat "
        "utilisation churned more often"
    )
    assert utilisation.note in result.opposite
    features = power["features_used"]
    assert features.direction == "higher = safer" and not features.opposite and features.auc > 0.6
    assert features.top_decile_lift is not None and features.top_decile_lift > 1.5
    rates = [g.churn_rate for g in features.quintiles]
    assert len(rates) == 5 and rates == sorted(rates, reverse=True)
    # Noise stays near a coin toss.
    assert power["nps"].auc < 0.55 and power["tickets_30d"].auc < 0.55
    # Every report line has its interval around its AUC, and coverage of the observations.
    assert all(p.auc_low is None or p.auc_low <= p.auc <= (p.auc_high or 1) for p in result.measures)
    assert power["features_used_change_90d"].coverage < 1


def test_the_learned_model_comes_close_to_the_hidden_hazard_and_beats_every_single_column(
    book: ChurnBook, result: BacktestResult
) -> None:
    learned = result.learned
    assert learned is not None and learned.test_auc is not None and learned.accepted
    obs = independent_observations(book, result.validation.cut_date)
    test = obs[obs["test"]]
    hazard_auc = roc_auc_score(test["churned"], test["hazard"])
    assert abs(learned.test_auc - hazard_auc) <= 0.03
    singles = [b for b in result.baselines if b.key in ("best_measure", "days_to_renewal", "usage_drop_30d")]
    assert len(singles) == 3 and all(b.auc is not None and learned.test_auc >= b.auc for b in singles)
    current = result.baseline("current_model")
    assert current is not None and current.auc is not None and learned.test_auc > current.auc + 0.1


def test_the_learned_model_is_a_readable_file_that_extends_the_current_one(result: BacktestResult) -> None:
    assert result.learned is not None
    text = result.learned.model_file
    assert 'extends = "default"' in text
    model = parse_model(text)
    metrics = [m.measure for d in model.dimensions for m in d.metrics]
    assert "features_used" in metrics and "seat_utilisation" in metrics
    utilisation = next(m for d in model.dimensions for m in d.metrics if m.measure == "seat_utilisation")
    assert utilisation.points[0][1] > utilisation.points[-1][1]  # flipped: more seats in use scores lower
    assert "nps" not in metrics and "tickets_30d" not in metrics
    lines = text.splitlines()
    # Every metric line has its comment just above it, with its AUC and its gain.
    metric_lines = [i for i, line in enumerate(lines) if line.strip().startswith("{ measure = ")]
    assert len(metric_lines) == len(metrics) > 1
    for i in metric_lines:
        assert lines[i - 1].strip().startswith("# ") and "ROC AUC" in lines[i - 1] and "learned model" in lines[i - 1]
    assert any(line.startswith("# flipped seat_utilisation") for line in (x.strip() for x in lines))
    assert any(line.startswith("# dropped nps") for line in lines)
    kinds = {c.measure: c.change for c in result.learned.changes}
    assert kinds["seat_utilisation"] == "flipped" and kinds["features_used"] == "added" and kinds["nps"] == "dropped"


def test_segments_share_the_books_weights_when_their_own_rank_no_better(
    result: BacktestResult,
) -> None:
    assert result.learned is not None
    segments = result.learned.segments
    assert {s.segment for s in segments} == {"smb", "mid-market", "enterprise"}
    for segment in segments:
        if segment.own_weights:
            assert segment.train_churned_accounts >= MIN_SEGMENT_CHURNERS
        assert (f'[segments."{segment.segment}"]' in result.learned.model_file) == segment.own_weights
    # Churn follows the same measures in every segment here: no segment's own weights rank better than the book's.
    assert not any(s.own_weights for s in segments)
    assert all(s.test_auc_shared is not None for s in segments)


def test_bands_are_calibrated_on_the_learning_period_and_judged_on_the_test(
    book: ChurnBook, result: BacktestResult
) -> None:
    bands = result.bands
    assert bands is not None and [b.band for b in bands.test] == ["Green", "Yellow", "Red"]
    assert sum(b.observations for b in bands.test) == result.validation.test_observations
    learned = result.learned
    assert learned is not None and learned.bands is not None
    rates = [b.churn_rate for b in learned.bands.test]
    # The learned model's lowest band holds the accounts most likely to leave; its top band the least likely.
    assert rates == sorted(rates) and rates[-1] is not None and rates[-1] > 2 * (rates[0] or 0)
    red = learned.bands
    obs = independent_observations(book, result.validation.cut_date)
    test = scored_as(obs[obs["test"]], book, learned.model_file, "band")
    in_red = test["band"] == "Red"
    assert red.precision_lowest == round(test.loc[in_red, "churned"].mean(), 3)
    assert red.recall_lowest == round(in_red[test["churned"]].mean(), 3)
    assert red.lead_time_days is not None and red.lead_time_days > 0


def test_the_report_says_first_when_the_score_loses_to_a_single_column(result: BacktestResult) -> None:
    lines = describe(result, MODEL)
    assert lines[0].startswith("Your health score predicts churn worse than a single column: ")
    assert "features used alone ranks who left within 90 days at ROC AUC" in lines[0]
    assert lines[1].startswith("A model learned from your history reaches ")
    assert any(line.startswith("Warning: Your model treats higher seat utilisation as healthier") for line in lines)
    assert "Did the score predict churn within 90 days?" in lines
    assert any(line.startswith("    The health score (Default") for line in lines)
    assert any(line.startswith("    Days to renewal (sooner = riskier): ROC AUC ") for line in lines)
    assert any(line.startswith("    30-day drop in active users: ROC AUC ") for line in lines)
    assert model_insights(result, MODEL)[0].startswith("Predictive power (ROC AUC for churn within 90 days): ")


def test_the_summary_for_a_chat_answer_carries_the_out_of_time_figures(result: BacktestResult) -> None:
    summary = prediction_summary(result)
    current = result.baseline("current_model")
    assert current is not None and summary.score_auc == current.auc
    assert summary.best_measure == "features used" and summary.learned_proposed
    assert [label for label, _ in summary.churn_rate_by_band] == ["Green", "Yellow", "Red"]
    assert summary.flipped == result.opposite and summary.strongest[0][1] == result.measures[0].auc
    # The lift chart: ten tenths of the test observations by score, the lowest-scoring first.
    assert len(summary.score_lift_by_decile) == 10 and summary.score_lift_by_decile == result.score_lift_by_decile
    assert summary.headline[0].startswith("Your health score predicts churn worse than a single column")


def test_when_churn_follows_nothing_observable_nothing_is_proposed() -> None:
    book = churn_book(1500, seed=7, signal=False)
    result = backtest(book.accounts, book.metrics, MODEL, horizon_days=HORIZON)
    assert result.learned is not None and not result.learned.accepted
    reason = not_written_reason(result)
    assert reason.startswith("The learned model ranks who left at ROC AUC ") and "a file is written only" in reason
    assert any("no model file is proposed" in line for line in result.headline)


def test_too_few_former_customers_to_learn_says_so() -> None:
    book = churn_book(40, seed=3)
    result = backtest(book.accounts, book.metrics, MODEL, horizon_days=HORIZON)
    assert result.learned is None
    assert not_written_reason(result).startswith("Too few former customers to learn a model out of time")
