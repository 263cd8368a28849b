"""Recommended actions, playbook choice, the 30-day goal and the drop diagnosis, as a CSM would read them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scoring import HealthModel, Scored, load_model, parse_model, score_snapshots
from scoring.advice import diagnose_drop, explain, health_goal
from tests.scoring.frames import TODAY, account, acme_frames, frames, snapshot
from tests.scoring.test_findings import HEALTHY

MODEL = load_model(None)


def explain_today(
    accounts: list[dict[str, object]], rows: list[dict[str, object]], model: HealthModel = MODEL
) -> tuple[Scored, int]:
    scored = score_snapshots(*frames(accounts, rows), model)
    return scored, int(scored.latest_rows()[-1])


def test_acme_card_reads_like_the_seeds_example() -> None:
    scored = score_snapshots(*acme_frames(), MODEL)
    row = int(scored.latest_rows()[0])
    card = explain(scored, row)
    assert card.risk_drivers[0] == "usage"
    usage = card.dimensions[0]
    assert (usage.name, usage.band) == ("Product Usage", "Red")
    assert usage.facts[:2] == ["12 of 25 seats active (48%)", "4 of 12 key features used (33%)"]
    assert usage.trend == "down 4 points vs last quarter"
    assert (card.actions[0].priority, card.actions[0].title, card.actions[0].due) == (
        1,
        "Address usage decline",
        "this week",
    )
    assert "Expand stakeholder engagement" in [a.title for a in card.actions]  # the champion-risk reading
    assert [f.key for f in card.interpretations] == ["champion_risk"]
    assert card.playbook.name == "Churn Risk Response"
    assert "Paid on time" in card.positives
    assert "No immediate renewal threat (renewal in 127 days)" in card.positives
    assert card.goal is not None and card.goal.target_score == 75 and card.goal.days == 30
    # Feature adoption weighs most in usage since issue 14's backtest (4 of 12 features is Acme's biggest lever).
    assert card.goal.targets[:3] == [
        "Raise feature adoption to 50%",
        "Bring tickets down to 6 a month",
        "Increase usage to 60% seat utilisation",
    ]


def test_goal_targets_are_read_back_through_the_models_curve() -> None:
    model = parse_model(
        """
        [dimensions.sentiment]
        weight = 100
        metrics = [{ measure = "nps", bad = 0, good = 10 }]
        """
    )
    scored, row = explain_today([account()], [snapshot(nps=5)], model)
    goal = health_goal(scored, row)
    assert goal is not None and goal.target_score == 57
    assert goal.targets == ["Improve NPS to 7+"]


def test_a_fired_signal_replaces_its_dimensions_generic_action_and_comes_first() -> None:
    overdue = {**HEALTHY, "days_overdue": 45, "active_users": 12}
    scored, row = explain_today([account()], [snapshot(**overdue)])
    actions = explain(scored, row).actions
    assert (actions[0].title, actions[0].due) == ("Resolve the overdue payment", "today")
    assert "Secure the commercial relationship" not in [a.title for a in actions]


def test_a_healthy_account_gets_its_bands_action_and_proactive_success() -> None:
    scored, row = explain_today([account()], [snapshot(**HEALTHY)])
    card = explain(scored, row)
    assert scored.frame["band"].iloc[row] == "Green"
    assert [a.title for a in card.actions] == ["Grow the relationship"]
    assert card.playbook.name == "Proactive Success"


def test_expansion_ready_accounts_get_expansion_acceleration_but_red_ones_never_do() -> None:
    full = {**HEALTHY, "active_users": 24}
    scored, row = explain_today([account()], [snapshot(**full)])
    card = explain(scored, row)
    assert card.expansion_ready and card.playbook.name == "Expansion Acceleration"

    struggling = {**full, "tickets_30d": 14, "high_priority_open": 4, "escalations_90d": 4, "csat": 1.5, "nps": 1}
    struggling |= {"days_overdue": 60, "csm_touches_90d": 0, "training_completion": 0, "features_used": 0}
    scored, row = explain_today([account()], [snapshot(**struggling)])
    card = explain(scored, row)
    assert scored.frame["band"].iloc[row] == "Red"
    assert [f.key for f in card.expansion] == ["seats_nearly_full"] and not card.expansion_ready
    assert card.playbook.name == "Red Account Recovery"


def test_drop_diagnosis_names_the_dimensions_that_cost_points_and_the_new_signals() -> None:
    scored = score_snapshots(*acme_frames(), MODEL)
    lines = diagnose_drop(scored, int(scored.latest_rows()[0]))
    assert lines[0] == "Health fell 11 points since last quarter: 79 → 68."  # the seed's 78 → 68, near enough
    assert any(line.startswith("Product Usage cost") and "seat utilisation 60% → 48%" in line for line in lines)
    assert "New signal: Low NPS — NPS 6 (down from 8)" in lines


@pytest.mark.parametrize("days", [10, 200])
def test_diagnosis_without_a_comparable_earlier_score_says_so(days: int) -> None:
    rows = [snapshot(as_of=TODAY - timedelta(days=days), **HEALTHY), snapshot(**HEALTHY)]
    scored, row = explain_today([account()], rows)
    assert diagnose_drop(scored, row)[0].startswith("There is no earlier score to compare with yet")
