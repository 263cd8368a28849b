"""Portfolio analytics on a hand-made book: bands, groups, movers, renewals, risk drivers, capacity, expansion."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from scoring import load_model
from scoring import portfolio as p
from tests.scoring.frames import TODAY

MODEL = load_model(None)
NO_DIMENSIONS = {"usage": 90.0, "support": 90.0, "financial": 90.0, "sentiment": 90.0, "engagement": 90.0}


def row(name: str, score: float, band: str, *, arr: float = 10_000, **extra: Any) -> dict[str, Any]:
    return {
        "account_id": name.upper(),
        "name": name,
        "csm_owner": extra.pop("csm_owner", "Sarah Chen"),
        "segment": extra.pop("segment", "SMB"),
        "region": extra.pop("region", "EMEA"),
        "industry": None,
        "plan_tier": None,
        "arr": arr,
        "renewal_date": extra.pop("renewal_date", TODAY + timedelta(days=300)),
        "score": score,
        "band": band,
        "last_month_score": extra.pop("last_month_score", score),
        "last_quarter_score": extra.pop("last_quarter_score", score),
        "signals": extra.pop("signals", []),
        "dimensions": {**NO_DIMENSIONS, **extra.pop("dimensions", {})},
    }


def book(*rows: dict[str, Any]) -> pd.DataFrame:
    return p.with_trend(pd.DataFrame(list(rows)), MODEL)


def test_band_summary_lists_every_band_best_first_even_when_empty() -> None:
    summary = p.band_summary(book(row("A", 85, "Green", arr=50_000), row("B", 82, "Green")), MODEL)
    assert summary[["band", "count", "arr"]].values.tolist() == [["Green", 2, 60_000], ["Yellow", 0, 0], ["Red", 0, 0]]
    assert summary["share"].tolist() == [1.0, 0.0, 0.0]


@pytest.mark.parametrize("by", ["csm", "segment", "region"])
def test_group_summary_counts_accounts_arr_and_bands_per_group(by: str) -> None:
    accounts = book(
        row("A", 85, "Green", csm_owner="Sarah Chen", segment="SMB", region="EMEA"),
        row("B", 65, "Yellow", csm_owner="Sarah Chen", segment="SMB", region="EMEA"),
        row("C", 40, "Red", arr=90_000, csm_owner="Mike Lee", segment="Enterprise", region="APAC"),
    )
    summary = p.group_summary(accounts, MODEL, by).set_index("group")
    first = {"csm": "Sarah Chen", "segment": "SMB", "region": "EMEA"}[by]
    assert summary.loc[first, ["accounts", "arr", "average_score", "Green", "Yellow", "Red"]].tolist() == [
        2,
        20_000,
        75,
        1,
        1,
        0,
    ]


def test_movers_read_the_quarter_and_split_at_three_points() -> None:
    accounts = book(
        row("StartupXYZ", 73, "Yellow", last_quarter_score=58, last_month_score=70),
        row("Acme Corp", 68, "Yellow", last_quarter_score=78, last_month_score=70),
        row("Flat", 70, "Yellow", last_quarter_score=67, last_month_score=60),
        row("New", 60, "Yellow", last_quarter_score=None, last_month_score=71),
    )
    improving, declining, stable = p.movers(accounts)
    assert improving[["name", "delta", "previous_score"]].values.tolist() == [["StartupXYZ", 15, 58]]
    # Biggest fall first; an account with less than a quarter of history is judged on its month.
    assert declining[["name", "delta"]].values.tolist() == [["New", -11], ["Acme Corp", -10]]
    assert stable == 1


def test_renewals_in_the_window_riskiest_first_and_the_arr_at_risk() -> None:
    accounts = book(
        row("Soon Green", 90, "Green", arr=30_000, renewal_date=TODAY + timedelta(days=10)),
        row("Mega", 45, "Red", arr=82_000, renewal_date=TODAY + timedelta(days=45)),
        row("Acme", 68, "Yellow", arr=45_000, renewal_date=TODAY + timedelta(days=80)),
        row("Later", 50, "Red", renewal_date=TODAY + timedelta(days=91)),
        row("Lapsed", 50, "Red", renewal_date=TODAY - timedelta(days=1)),
    )
    renewing = p.renewals(accounts, MODEL, as_of=TODAY)
    assert renewing["name"].tolist() == ["Mega", "Acme", "Soon Green"]
    assert renewing["days_to_renewal"].tolist() == [45, 80, 10]
    assert p.arr_at_risk(renewing, MODEL) == 127_000


def test_risk_drivers_count_each_account_once_per_reason_most_accounts_first() -> None:
    nps = {"key": "low_nps", "kind": "risk", "title": "Low NPS", "severity": "Medium", "dimension": "sentiment"}
    overdue = {"key": "payment_overdue", "kind": "risk", "title": "Payment overdue", "severity": "High"}
    accounts = book(
        row("A", 55, "Red", arr=50_000, signals=[nps, overdue], dimensions={"usage": 40, "sentiment": 30}),
        row("B", 62, "Yellow", signals=[nps], dimensions={"sentiment": 40}),
        row("C", 58, "Red", dimensions={"usage": 20}),
    )
    drivers = p.risk_drivers(accounts, MODEL)
    # Weak sentiment is already told by "Low NPS"; weak usage has no signal, so it is named by its dimension.
    assert drivers.values.tolist() == [
        ["Low NPS", 2, 60_000],
        ["Low product usage", 2, 60_000],
        ["Payment overdue", 1, 50_000],
    ]


@pytest.mark.parametrize(
    ("red", "status", "note"),
    [
        (3, "Healthy", "3 red accounts within the healthy span of 3"),
        (6, "Stretched", "6 red accounts exceeds the healthy span of 3"),
        (7, "Overloaded", "7 red accounts exceeds the healthy span of 3"),
    ],
)
def test_capacity_against_the_healthy_span(red: int, status: str, note: str) -> None:
    assert p.capacity(red, 3) == (status, note)


def test_expansion_ready_needs_a_healthy_enough_account() -> None:
    seats = {
        "key": "seats_nearly_full",
        "kind": "expansion",
        "title": "Seats nearly full",
        "opportunity": "Seat expansion",
        "severity": "Low",
    }
    accounts = book(
        row("Ready", 85, "Green", arr=20_000, signals=[seats]),
        row("Bigger", 72, "Yellow", arr=80_000, signals=[seats]),
        row("Too weak", 65, "Yellow", signals=[seats]),
        row("Red", 50, "Red", signals=[seats]),
        row("Quiet", 95, "Green"),
    )
    ready = p.expansion_ready(accounts, MODEL)
    assert ready[["name", "opportunity"]].values.tolist() == [["Bigger", "Seat expansion"], ["Ready", "Seat expansion"]]
    assert ready["reasons"].tolist() == [["Seats nearly full"], ["Seats nearly full"]]


def test_portfolio_recommendations_start_with_red_renewals_and_capacity() -> None:
    reds = [row(f"Red {i}", 40, "Red", renewal_date=TODAY + timedelta(days=30 + i)) for i in range(7)]
    lines = p.portfolio_recommendations(book(*reds), MODEL, as_of=TODAY)
    assert lines[0] == "Escalate Red 0 this week: Red, renewal in 30 days — request executive sponsor support"
    # Nothing green to reassign in a book of seven reds: the advice says what can be done instead.
    assert (
        "Rebalance: 7 red accounts exceeds the healthy span of 3; move some red accounts to a CSM with capacity"
        in lines
    )
    assert not any("green" in line for line in lines)
