"""Per-measure predictive power: the look-backs it reads, its AUC, lift and quintiles, and its interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from scoring import load_model
from scoring.measures import SnapshotTable, parse_measure
from scoring.predictive import (
    Bootstrap,
    RowLookBacks,
    catalogue_measures,
    measure_power,
    model_directions,
    roc_auc,
)
from tests.scoring.churn_generator import churn_book


def test_look_backs_on_observation_rows_equal_the_scorers_own() -> None:
    book = churn_book(300, seed=2)
    table = SnapshotTable(book.accounts, book.metrics)
    rows = np.arange(0, table.n, 3)
    lookbacks = RowLookBacks(table, rows)
    names = [n for n in catalogue_measures() if parse_measure(n).lookback is not None]
    assert len(names) > 20
    for name in names:
        np.testing.assert_array_equal(lookbacks.value(name), table.measure(name)[rows], err_msg=name)


def test_one_measure_line_matches_a_plain_computation() -> None:
    rng = np.random.default_rng(8)
    n = 4000
    account = np.repeat(np.arange(n // 4), 4)
    x = rng.normal(size=n)
    churned = rng.random(n) < 1 / (1 + np.exp(-(-2 + 0.8 * x)))
    x[::10] = np.nan
    line = measure_power("mrr", x, churned, Bootstrap.draw(account), model_direction="higher = healthier")
    assert line is not None
    known = ~np.isnan(x)
    assert line.auc == round(roc_auc_score(churned[known], x[known]), 4)
    assert line.direction == "higher = riskier" and line.opposite and line.coverage == 0.9
    assert line.auc_low is not None and line.auc_high is not None and line.auc_low < line.auc < line.auc_high
    # The riskiest tenth by value, against the average.
    top = pd.Series(x[known]).rank(ascending=False) <= known.sum() / 10
    assert line.top_decile_lift == pytest.approx(churned[known][top].mean() / churned[known].mean(), abs=0.01)
    assert [g.observations for g in line.quintiles] == [720] * 5
    assert line.quintiles[0].churn_rate < line.quintiles[-1].churn_rate
    assert line.note is not None and line.note.startswith("Your model treats higher MRR as healthier")


def test_counts_and_fractions_rank_the_same_way_as_the_textbook_formula() -> None:
    rng = np.random.default_rng(4)
    whole = rng.integers(0, 7, 500).astype(float)
    fraction = whole / 7 + 0.01
    label = rng.random(500) < 0.2
    assert roc_auc(whole, label) == pytest.approx(roc_auc_score(label, whole))
    assert roc_auc(fraction, label) == pytest.approx(roc_auc_score(label, fraction))


def test_a_measure_the_model_scores_the_right_way_is_not_flagged() -> None:
    model = load_model(None)
    book = churn_book(600, seed=9)
    table = SnapshotTable(book.accounts, book.metrics)
    values = table.measure("feature_adoption")
    churned = book.accounts.set_index("account_id")["churned_on"].notna().to_numpy()[table.code]
    direction = model_directions(model)["feature_adoption"]
    assert direction == "higher = healthier"
    line = measure_power("feature_adoption", values, churned, Bootstrap.draw(table.code), model_direction=direction)
    assert line is not None and line.direction == "higher = safer" and not line.opposite and line.note is None
