"""The learned scorecard: monotone sub-scores, positive weights, and segment weights only where they earn them."""

from __future__ import annotations

import numpy as np

from scoring import load_model
from scoring.learn import (
    MIN_SEGMENT_CHURNERS,
    dimension_average,
    fit_scorecard,
    numeric_shape,
    whole_percentages,
)
from scoring.predictive import roc_auc

MODEL = load_model(None)


def test_a_sub_score_moves_one_way_only_and_spans_0_to_100() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 12, 20_000)
    churned = rng.random(20_000) < 1 / (1 + np.exp(-(-1 - 0.3 * x)))
    shape = numeric_shape("features_used", x, churned)
    assert shape is not None and shape.higher_is_safer
    scores = [s for _, s in shape.points]
    assert scores == sorted(scores) and scores[0] == 0 and scores[-1] == 100


def test_weights_are_whole_numbers_adding_up_to_100() -> None:
    assert whole_percentages({"usage": 2.0, "support": 1.0}) == {"usage": 67, "support": 33}
    assert sum(whole_percentages({"a": 0.333, "b": 0.333, "c": 0.334, "d": 0.001}).values()) == 100


def test_segments_whose_churn_follows_other_measures_get_their_own_weights() -> None:
    rng = np.random.default_rng(7)
    accounts = 6000
    account = np.repeat(np.arange(accounts), 5)
    n = len(account)
    segment = np.where(account % 20 == 19, "startup", np.where(account % 2 == 0, "smb", "enterprise")).astype(object)
    features = rng.uniform(0, 12, n)
    tickets = rng.poisson(4, n).astype(float)
    # Small customers leave when they use little of the product; big ones when support fails them.
    logit = np.where(segment == "smb", -2.2 - 0.35 * (features - 6), -2.2 + 0.45 * (tickets - 4))
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    startup = segment == "startup"
    churned[startup] = np.arange(startup.sum()) < MIN_SEGMENT_CHURNERS // 2  # too few former customers
    card = fit_scorecard(
        {"features_used": features, "tickets_30d": tickets},
        {},
        churned,
        (account // 7) % 4 == 0,  # the held-back quarter of accounts
        segment,
        account,
        MODEL,
    )
    assert card is not None and set(card.dimension_of) == {"usage", "support"}
    weights = card.segment_weights
    assert set(weights) == {"smb", "enterprise"}  # the startups have too few former customers of their own
    assert weights["smb"]["usage"] > weights["smb"]["support"]
    assert weights["enterprise"]["support"] > weights["enterprise"]["usage"]


def test_a_segments_own_weights_are_refused_when_they_would_misrank_it_against_the_rest_of_the_book() -> None:
    # Enterprise customers file three times the tickets but rarely leave, and when they do, tickets say so: weights
    # of their own (support first) rank them better among themselves, but put every one of them below the small
    # customers, who leave four times as often. One score ranks the whole book, so the shared weights must stay.
    rng = np.random.default_rng(3)
    account = np.repeat(np.arange(6000), 5)
    n = len(account)
    enterprise = account % 3 == 0
    segment = np.where(enterprise, "enterprise", "smb").astype(object)
    features = rng.uniform(0, 12, n)
    tickets = rng.poisson(np.where(enterprise, 12, 4), n).astype(float)
    logit = np.where(
        enterprise,
        -4.0 + 0.4 * (tickets - 12) - 0.02 * (features - 6),
        -2.0 - 0.3 * (features - 6) + 0.15 * (tickets - 4),
    )
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    train = account % 10 < 7
    card = fit_scorecard(
        {"features_used": features[train], "tickets_30d": tickets[train]},
        {},
        churned[train],
        ((account // 7) % 4 == 0)[train],
        segment[train],
        account[train],
        MODEL,
    )
    assert card is not None and "enterprise" not in card.segment_weights
    test = ~train
    values = {"features_used": features[test], "tickets_30d": tickets[test]}
    dims = card.dimension_scores(values)
    shared = dimension_average(dims, np.array(list(card.dimension_weights().values())))
    written = shared.copy()
    for name, weights in card.segment_weights.items():
        inside = segment[test] == name
        written[inside] = dimension_average(dims[inside], np.array([weights[d] for d in card.dimensions]))
    assert roc_auc(-written, churned[test]) >= roc_auc(-shared, churned[test]) - 0.005
