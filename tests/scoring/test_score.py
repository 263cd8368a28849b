"""Scores, bands, confidence and overrides, pinned with small hand-made frames."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from scoring import load_model, parse_model, score_snapshots
from tests.scoring.frames import TODAY, account, acme_frames, frames, snapshot

# One dimension whose score is the number of CSM touches: a score of 73 is 73 touches.
IDENTITY = """
bands = "{bands}"
[dimensions.engagement]
weight = 100
metrics = [{{ measure = "csm_touches_90d", bad = 0, good = 100 }}]
"""

TWO_DIMENSIONS = """
[dimensions.usage]
weight = 60
metrics = [
    { measure = "seat_utilisation", bad = 0.0, good = 1.0 },
    { measure = "feature_adoption", bad = 0.0, good = 1.0 },
]
[dimensions.sentiment]
weight = 40
metrics = [{ measure = "nps", bad = 0, good = 10 }]
"""


def test_acme_corps_figures_land_yellow_around_68_with_usage_the_weakest_dimension() -> None:
    accounts, metrics = acme_frames()
    scored = score_snapshots(accounts, metrics, load_model(None))
    today = scored.latest_rows()[0]
    row = scored.frame.iloc[today]
    assert row["band"] == "Yellow"
    assert 64 <= row["score"] <= 72
    assert row["confidence"] == 1.0
    lost_points = scored.shares.iloc[today] * (100 - scored.dimensions.iloc[today])
    assert lost_points.idxmax() == "usage"
    assert scored.dimensions.iloc[today]["usage"] < 60  # Red as a dimension, as in the seed's card


@pytest.mark.parametrize(
    ("touches", "band"),
    [(100, "Green"), (80, "Green"), (79.6, "Green"), (79.4, "Yellow"), (60, "Yellow"), (59.4, "Red"), (0, "Red")],
)
def test_band_edges_follow_the_score_as_people_see_it(touches: float, band: str) -> None:
    scored = score_snapshots(
        *frames([account()], [snapshot(csm_touches_90d=touches)]), parse_model(IDENTITY.format(bands="three"))
    )
    assert scored.frame["band"].iloc[0] == band


@pytest.mark.parametrize(
    ("touches", "band"), [(80, "Green"), (60, "Yellow"), (59, "Orange"), (40, "Orange"), (39, "Red")]
)
def test_four_band_option_splits_orange_from_red_at_40(touches: float, band: str) -> None:
    scored = score_snapshots(
        *frames([account()], [snapshot(csm_touches_90d=touches)]), parse_model(IDENTITY.format(bands="four"))
    )
    assert scored.frame["band"].iloc[0] == band


def test_a_missing_metric_is_left_out_of_its_dimension_not_counted_as_zero() -> None:
    model = parse_model(TWO_DIMENSIONS)
    scored = score_snapshots(*frames([account()], [snapshot(active_users=5, seats_purchased=10, nps=10)]), model)
    assert scored.dimensions["usage"].iloc[0] == 50  # seat utilisation alone; feature adoption has no data
    assert scored.frame["score"].iloc[0] == 0.6 * 50 + 0.4 * 100
    # Usage is 60 points of weight, half of its metric weight had data: 30 + 40 of 100 are backed by data.
    assert scored.frame["confidence"].iloc[0] == 0.7


def test_a_dimension_without_data_is_left_out_and_the_weights_renormalised() -> None:
    model = parse_model(TWO_DIMENSIONS)
    scored = score_snapshots(
        *frames([account()], [snapshot(active_users=8, seats_purchased=10, features_used=6, features_total=10)]), model
    )
    assert math.isnan(scored.dimensions["sentiment"].iloc[0])
    assert scored.frame["score"].iloc[0] == 70  # usage alone, at full weight
    assert scored.shares.iloc[0].to_dict() == {"usage": 1.0, "sentiment": 0.0}
    assert scored.frame["confidence"].iloc[0] == 0.6


def test_an_account_with_no_data_at_all_has_no_score_rather_than_zero() -> None:
    scored = score_snapshots(*frames([account()], [snapshot(mrr=1000)]), parse_model(TWO_DIMENSIONS))
    row = scored.frame.iloc[0]
    assert math.isnan(row["score"]) and row["confidence"] == 0
    assert row["band"] is np.nan or row["band"] != row["band"]  # missing, not "Red"


def test_segment_weights_override_the_defaults_for_that_segment_only() -> None:
    model = parse_model(TWO_DIMENSIONS + "[segments.Enterprise]\nweights = { usage = 20, sentiment = 80 }\n")
    rows = [snapshot(a, active_users=10, seats_purchased=10, nps=0) for a in ("ENT", "SMB")]
    scored = score_snapshots(
        *frames([account("ENT", segment="enterprise"), account("SMB", segment="SMB")], rows), model
    )
    scores = dict(zip(scored.frame["account_id"], scored.frame["score"], strict=True))
    assert scores == {"ENT": 20.0, "SMB": 60.0}


def test_onboarding_accounts_are_not_punished_for_low_adoption() -> None:
    model = load_model(None)
    low_adoption = {"active_users": 3, "seats_purchased": 25, "features_used": 1, "features_total": 12, "nps": 8}
    rows = [snapshot(a, **low_adoption, last_login=TODAY) for a in ("NEW", "OLD")]
    accounts = [account("NEW", lifecycle_stage="Onboarding"), account("OLD", lifecycle_stage="adoption")]
    scored = score_snapshots(*frames(accounts, rows), model)
    usage = dict(zip(scored.frame["account_id"], scored.dimensions["usage"], strict=True))
    assert usage["NEW"] == 100  # only days since login counts in month one
    assert usage["OLD"] < 30
    # What does not apply does not lower the confidence either.
    confidence = dict(zip(scored.frame["account_id"], scored.frame["confidence"], strict=True))
    assert confidence["NEW"] > confidence["OLD"]


def test_tags_and_plan_changes_score_through_their_values() -> None:
    model = parse_model(
        """
        [dimensions.relationship]
        weight = 100
        metrics = [
            { measure = "tags", values = { case_study = 100, champion_left = 0 }, otherwise = 70 },
            { measure = "plan_change", values = { upgrade = 100, downgrade = 0 } },
        ]
        """
    )
    accounts = [account("A", tags="case_study"), account("B", tags="Champion_Left; case_study"), account("C")]
    rows = [snapshot("A", plan_change="upgrade"), snapshot("B"), snapshot("C", plan_change="downgrade")]
    scored = score_snapshots(*frames(accounts, rows), model)
    assert dict(zip(scored.frame["account_id"], scored.frame["score"], strict=True)) == {"A": 100, "B": 50, "C": 35}


def test_change_over_time_compares_with_last_months_snapshot_although_months_differ() -> None:
    model = parse_model(IDENTITY.format(bands="three"))
    dates = [TODAY.replace(month=1, day=1), TODAY.replace(month=2, day=1), TODAY.replace(month=3, day=1)]
    rows = [snapshot(as_of=d, active_users=u, csm_touches_90d=50) for d, u in zip(dates, (40, 20, 10), strict=True)]
    scored = score_snapshots(*frames([account()], rows), model)
    change = scored.table.measure("active_users_change_30d")
    assert list(change[1:]) == [-0.5, -0.5]  # 1 Mar vs 1 Feb (28 days), not vs 1 Jan


def test_every_snapshot_is_scored_and_metric_facts_are_in_a_csms_words() -> None:
    accounts, metrics = acme_frames()
    scored = score_snapshots(accounts, metrics, load_model(None))
    assert len(scored.frame) == 4
    from scoring.measures import fact

    today = scored.latest_rows()[0]
    assert fact(scored.table, "seat_utilisation", today) == "12 of 25 seats active (48%)"
    assert fact(scored.table, "feature_adoption", today) == "4 of 12 key features used (33%)"
    assert fact(scored.table, "tickets_30d", today) == "8 tickets in 30 days vs 3 avg"
    assert fact(scored.table, "nps", today) == "NPS 6 (down from 8)"
    assert fact(scored.table, "days_overdue", today) == "Paid on time"
    assert fact(scored.table, "active_users_change_90d", today) == "Active users −20% vs 90 days ago (15 → 12)"
    assert fact(scored.table, "csat", today - 1) == "CSAT 3.2/5"


def test_snapshots_after_as_of_are_not_the_latest() -> None:
    accounts, metrics = acme_frames()
    scored = score_snapshots(accounts, metrics, load_model(None))
    rows = scored.latest_rows(TODAY - timedelta(days=31))
    assert scored.frame["as_of"].iloc[rows[0]].date() == TODAY - timedelta(days=60)
