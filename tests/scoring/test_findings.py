"""One test per early-warning signal, interpretation and expansion signal of the default model, and forced Red."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from scoring import load_model, score_snapshots
from scoring.findings import Finding, findings_at
from tests.scoring.frames import TODAY, account, frames, snapshot

MODEL = load_model(None)
MONTH_AGO = TODAY - timedelta(days=30)
HEALTHY: dict[str, Any] = {
    "active_users": 20,
    "seats_purchased": 25,
    "features_used": 8,
    "features_total": 12,
    "logins_30d": 300,
    "last_login": TODAY,
    "tickets_30d": 2,
    "high_priority_open": 0,
    "escalations_90d": 0,
    "csat": 4.6,
    "nps": 8,
    "mrr": 2000,
    "days_overdue": 0,
    "csm_touches_90d": 6,
    "last_touch": TODAY - timedelta(days=5),
    "exec_sponsor_engaged": True,
    "last_qbr": TODAY - timedelta(days=40),
    "training_completion": 0.9,
}


def latest(now: dict[str, Any], before: dict[str, Any] | None = None, **account_fields: Any) -> list[Finding]:
    """What fired today for an account that was healthy a month ago (changed by `before`) and is `now` today."""
    rows = [
        snapshot(as_of=TODAY - timedelta(days=60), **HEALTHY),
        snapshot(as_of=MONTH_AGO, **{**HEALTHY, **(before or {})}),
        snapshot(as_of=TODAY, **{**HEALTHY, **now}),
    ]
    scored = score_snapshots(*frames([account(**account_fields)], rows), MODEL)
    return findings_at(scored, int(scored.latest_rows()[0]))


def keys(found: list[Finding]) -> set[str]:
    return {f.key for f in found}


def test_a_healthy_account_raises_nothing() -> None:
    assert keys(latest({})) == set()


@pytest.mark.parametrize(
    ("key", "fires", "does_not", "severity", "response"),
    [
        ("usage_drop", {"active_users": 13}, {"active_users": 15}, "High", "24 hours"),
        ("multiple_escalations", {"escalations_90d": 2}, {"escalations_90d": 1}, "High", "24 hours"),
        ("payment_overdue", {"days_overdue": 5}, {"days_overdue": 0}, "High", "Immediate"),
        ("exec_sponsor_change", {"exec_sponsor_engaged": False}, {}, "Medium", "48 hours"),
        (
            "missed_qbr",
            {"last_qbr": TODAY - timedelta(days=120)},
            {"last_qbr": TODAY - timedelta(days=95)},
            "Medium",
            "1 week",
        ),
        ("low_nps", {"nps": 6}, {"nps": 7}, "Medium", "1 week"),
        (
            "no_recent_login",
            {"last_login": TODAY - timedelta(days=14)},
            {"last_login": TODAY - timedelta(days=13)},
            "Medium",
            "48 hours",
        ),
        ("plan_downgrade", {"plan_change": "downgrade"}, {"plan_change": "upgrade"}, "High", "48 hours"),
        ("few_touchpoints", {"csm_touches_90d": 2}, {"csm_touches_90d": 3}, "Low", "1 week"),
    ],
)
def test_each_early_warning_signal_fires_on_its_threshold_with_severity_and_response_time(
    key: str, fires: dict[str, Any], does_not: dict[str, Any], severity: str, response: str
) -> None:
    found = {f.key: f for f in latest(fires)}
    assert key in found
    assert (found[key].severity, found[key].response_time, found[key].kind) == (severity, response, "risk")
    assert key not in keys(latest(does_not))


def test_sponsor_change_needs_a_sponsor_who_was_engaged_a_month_ago() -> None:
    assert "exec_sponsor_change" in keys(latest({"exec_sponsor_engaged": False}))
    never_engaged = latest({"exec_sponsor_engaged": False}, before={"exec_sponsor_engaged": False})
    assert "exec_sponsor_change" not in keys(never_engaged)


@pytest.mark.parametrize(("tag", "key"), [("champion_left", "champion_left"), ("acquisition", "acquisition_risk")])
def test_risk_tags_raise_their_signals(tag: str, key: str) -> None:
    assert key in keys(latest({}, tags=f"case_study;{tag}"))
    assert key not in keys(latest({}, tags="case_study"))


def test_missing_data_never_fires_a_signal() -> None:
    assert "low_nps" not in keys(latest({"nps": None}))
    assert "usage_drop" not in keys(latest({"active_users": 5}, before={"active_users": None}))


def test_usage_drop_says_how_far_usage_fell() -> None:
    found = {f.key: f for f in latest({"active_users": 13})}
    assert found["usage_drop"].facts == ["Active users −35% vs 30 days ago (20 → 13)"]
    assert found["usage_drop"].impact == "Low perceived value, renewal risk"


def slow_slide(users: list[int]) -> list[Finding]:
    """Findings today for an account whose active users were `users` 90, 60, 30 days ago and today."""
    rows = [
        snapshot(as_of=TODAY - timedelta(days=days), **{**HEALTHY, "active_users": n})
        for days, n in zip((90, 60, 30, 0), users, strict=True)
    ]
    scored = score_snapshots(*frames([account()], rows), MODEL)
    return findings_at(scored, int(scored.latest_rows()[0]))


def test_a_slow_quarter_long_usage_slide_is_a_usage_decline_not_a_sudden_drop() -> None:
    # The seed's Acme Corp: seats in use slide over a quarter, never 30% in one month.
    found = {f.key: f for f in slow_slide([20, 18, 16, 14])}
    assert "usage_decline" in found and "usage_drop" not in found
    assert (found["usage_decline"].severity, found["usage_decline"].response_time) == ("High", "48 hours")
    assert "usage_decline" not in keys(slow_slide([20, 19, 18, 17]))  # −15% over a quarter is not yet a decline


def test_a_sudden_drop_is_reported_once_not_also_as_a_decline() -> None:
    found = keys(slow_slide([20, 20, 20, 12]))
    assert "usage_drop" in found and "usage_decline" not in found


def test_more_than_five_tickets_with_usage_down_30_percent_forces_red() -> None:
    rows = [
        snapshot(as_of=MONTH_AGO, **HEALTHY),
        snapshot(as_of=TODAY, **{**HEALTHY, "active_users": 14, "tickets_30d": 6}),
    ]
    scored = score_snapshots(*frames([account()], rows), MODEL)
    today = scored.frame.iloc[-1]
    assert today["band"] == "Red" and today["score"] == 59
    found = {f.key: f for f in findings_at(scored, len(rows) - 1)}
    surge = found["ticket_surge_with_usage_drop"]
    assert (surge.severity, surge.response_time, surge.forced_band) == ("Critical", "Immediate", "Red")
    assert "Forced Red: the score is capped at 59" in surge.facts
    # Five tickets is not "more than five": the same drop alone does not force the band.
    rows[-1]["tickets_30d"] = 5
    calmer = score_snapshots(*frames([account()], rows), MODEL)
    assert calmer.frame["band"].iloc[-1] != "Red"


def test_three_falls_in_a_row_is_a_sustained_gradual_decline() -> None:
    dates = [TODAY - timedelta(days=30 * k) for k in (4, 3, 2, 1, 0)]
    slipping = [
        snapshot(as_of=d, **{**HEALTHY, "csat": c}) for d, c in zip(dates, (4.6, 4.6, 4.4, 4.2, 4.0), strict=True)
    ]
    scored = score_snapshots(*frames([account()], slipping), MODEL)
    fired = scored.rules["gradual_decline"].tolist()
    assert fired == [False, False, False, False, True]
    assert scored.frame["declines_in_a_row"].iloc[-1] == 3


@pytest.mark.parametrize(
    ("key", "now", "before"),
    [
        ("onboarding_gap", {"active_users": 17, "tickets_30d": 6}, {}),
        ("quiet_disengagement", {"active_users": 15, "tickets_30d": 0}, {"tickets_30d": 4}),
        ("champion_risk", {"active_users": 10}, {"active_users": 11}),
    ],
)
def test_interpretations_read_patterns_like_an_advisor(key: str, now: dict[str, Any], before: dict[str, Any]) -> None:
    found = {f.key: f for f in latest(now, before=before)}
    assert key in found and found[key].kind == "interpretation"
    assert found[key].facts[0] == MODEL.rules[[r.key for r in MODEL.rules].index(key)].meaning


def test_high_nps_without_growth_in_a_year_suggests_an_upsell_conversation() -> None:
    year_ago = snapshot(as_of=TODAY - timedelta(days=365), **HEALTHY)
    rows = [year_ago, snapshot(as_of=TODAY, **{**HEALTHY, "nps": 9})]
    scored = score_snapshots(*frames([account()], rows), MODEL)
    assert scored.rules["upsell_conversation"].iloc[-1]
    rows[-1]["mrr"] = 2500  # it grew: nothing to suggest
    assert not score_snapshots(*frames([account()], rows), MODEL).rules["upsell_conversation"].iloc[-1]


@pytest.mark.parametrize(
    ("key", "now", "opportunity"),
    [
        ("success_pattern", {"active_users": 19, "nps": 9}, "Upsell conversation"),
        ("seats_nearly_full", {"active_users": 23}, "Seat expansion"),
        ("nearing_feature_limits", {"features_used": 11}, "Tier upgrade"),
    ],
)
def test_expansion_signals_name_the_opportunity(key: str, now: dict[str, Any], opportunity: str) -> None:
    found = {f.key: f for f in latest(now)}
    assert found[key].kind == "expansion" and found[key].opportunity == opportunity


def test_an_upgrade_request_tag_is_a_tier_upgrade_signal() -> None:
    found = {f.key: f for f in latest({}, tags="upgrade_requested")}
    assert found["upgrade_requested"].opportunity == "Tier upgrade"


def test_findings_survive_the_store_as_records() -> None:
    found = latest({"active_users": 13})[0]
    assert Finding.from_record(found.to_record()) == found
    assert Finding.from_record({"key": "old_signal"}).title == "Old signal"
