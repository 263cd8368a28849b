"""Trend vs last month and last quarter from the score history: points, direction within ±3, velocity."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from scoring import parse_model, score_snapshots
from tests.scoring.frames import TODAY, account, frames, snapshot

# The score is the number of CSM touches, so each test writes the score history it wants.
MODEL = parse_model(
    """
    [dimensions.engagement]
    weight = 100
    metrics = [{ measure = "csm_touches_90d", bad = 0, good = 100 }]
    """
)


def scored_history(*scores: float) -> dict[str, object]:
    """Monthly snapshots ending today with these scores; today's trend columns."""
    dates = [TODAY - timedelta(days=30 * k) for k in reversed(range(len(scores)))]
    rows = [snapshot(as_of=d, csm_touches_90d=s) for d, s in zip(dates, scores, strict=True)]
    scored = score_snapshots(*frames([account()], rows), MODEL)
    return scored.frame.iloc[-1].to_dict()


def test_trend_compares_with_last_month_and_last_quarter() -> None:
    today = scored_history(78, 75, 71, 68)
    assert (today["last_month_score"], today["vs_last_month"]) == (71, -3)
    assert (today["last_quarter_score"], today["vs_last_quarter"]) == (78, -10)
    assert today["velocity"] == pytest.approx(-3.3)  # points a month over the quarter


@pytest.mark.parametrize(
    ("last_month", "direction"),
    [(65, "stable"), (71, "stable"), (64.9, "improving"), (71.1, "declining")],
)
def test_direction_is_stable_within_three_points_with_a_month_of_history(last_month: float, direction: str) -> None:
    assert scored_history(last_month, 68)["direction"] == direction


def test_an_account_without_history_is_new_with_no_comparison() -> None:
    today = scored_history(68)
    assert today["direction"] == "new"
    assert math.isnan(today["vs_last_month"]) and math.isnan(today["vs_last_quarter"])


def test_direction_reads_the_quarter_when_there_is_one() -> None:
    today = scored_history(78, 70, 66, 68)  # up 2 on the month, down 10 on the quarter
    assert today["direction"] == "declining"


def test_a_gap_in_the_history_reads_last_quarter_when_last_month_is_missing() -> None:
    rows = [
        snapshot(as_of=TODAY - timedelta(days=90), csm_touches_90d=80),
        snapshot(as_of=TODAY, csm_touches_90d=70),
    ]
    today = score_snapshots(*frames([account()], rows), MODEL).frame.iloc[-1]
    assert math.isnan(today["vs_last_month"]) and today["vs_last_quarter"] == -10
    assert today["direction"] == "declining"
