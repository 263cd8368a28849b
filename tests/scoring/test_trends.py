"""Segment-level trend patterns, ranked by ARR affected, and positive trends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd

from scoring import load_model, score_snapshots
from scoring.trends import expansion_opportunities, latest_measures, trend_findings
from tests.scoring.frames import TODAY, account, frames, snapshot
from tests.scoring.test_findings import HEALTHY

QUARTER_AGO = TODAY - timedelta(days=90)


def book(
    specs: list[tuple[str, str, float, dict[str, Any]]], *, before: dict[str, dict[str, Any]] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(account_id, segment, arr, today's changes): healthy a quarter ago (changed by `before[account_id]`),
    changed today. Returns the latest measures and the accounts."""
    accounts = [account(a, segment=segment, arr=arr) for a, segment, arr, _ in specs]
    rows = []
    for a, _, _, changes in specs:
        rows.append(snapshot(a, as_of=QUARTER_AGO, **{**HEALTHY, **(before or {}).get(a, {})}))
        rows.append(snapshot(a, as_of=TODAY, **{**HEALTHY, "last_qbr": TODAY - timedelta(days=40), **changes}))
    scored = score_snapshots(*frames(accounts, rows), load_model(None))
    return latest_measures(scored, scored.latest_rows()), pd.DataFrame(accounts)


def test_usage_decline_across_a_segment_is_a_concern_with_its_arr() -> None:
    down = {"active_users": 15}  # −25% vs a quarter ago
    specs = [(f"E{i}", "Enterprise", 100_000.0, down if i < 3 else {}) for i in range(6)]
    specs += [(f"S{i}", "SMB", 10_000.0, down if i < 1 else {}) for i in range(5)]
    measures, accounts = book(specs)
    concerns, _ = trend_findings(measures, accounts)
    (usage,) = [c for c in concerns if c.key == "usage_decline"]
    assert usage.title == "Enterprise usage decline"
    assert usage.pattern == "3 of 6 Enterprise accounts show usage down more than 15% vs last quarter"
    assert (usage.concern, usage.arr_affected) == ("High", 300_000)
    assert usage.indicators[0] == "Average −25% active users vs last quarter"
    assert usage.account_ids == ["E0", "E1", "E2"]  # one SMB account is not an SMB trend


def test_concerns_are_ranked_by_arr_affected() -> None:
    skipped = {"last_qbr": TODAY - timedelta(days=130)}
    strained = {"tickets_30d": 6}
    specs = [(f"M{i}", "Mid-Market", 40_000.0, skipped if i < 4 else {}) for i in range(10)]
    specs += [(f"E{i}", "Enterprise", 200_000.0, strained if i < 2 else {}) for i in range(4)]
    measures, accounts = book(specs)
    concerns, _ = trend_findings(measures, accounts)
    assert [(c.title, c.arr_affected) for c in concerns] == [
        ("Enterprise support strain", 400_000),
        ("Mid-Market engagement drop", 160_000),
    ]
    assert concerns[1].concern == "High" and concerns[1].pattern.startswith("4 of 10 Mid-Market accounts skipped")


def test_improving_health_and_csat_are_positive_trends() -> None:
    specs = [(f"S{i}", "SMB", 10_000.0, {"csat": 4.6}) for i in range(4)]
    recovering = {"csat": 3.6, "nps": 3, "tickets_30d": 9}  # a quarter ago, for two of them
    measures, accounts = book(specs, before={"S0": recovering, "S1": recovering, "S2": {"csat": 4.2}})
    _, positives = trend_findings(measures, accounts)
    # Ranked by ARR touched: the CSAT rise spans three accounts, the health gain two.
    assert [p.title for p in positives] == ["Support satisfaction improvement", "SMB health improving"]
    assert positives[0].pattern == "Average CSAT improved from 4.0 to 4.6 over the quarter"
    assert positives[1].pattern == "2 of 4 SMB accounts gained 5+ points vs last quarter"


def test_expansion_ready_accounts_are_an_opportunity_per_segment() -> None:
    ready = pd.DataFrame(
        {
            "account_id": ["A", "B", "C"],
            "segment": ["SMB", "SMB", "Enterprise"],
            "arr": [10_000.0, 12_000.0, 90_000.0],
            "opportunity": ["Seat expansion", "Seat expansion", "Tier upgrade"],
        }
    )
    (smb,) = expansion_opportunities(ready)
    assert (smb.title, smb.concern, smb.arr_affected) == ("SMB expansion momentum", "Opportunity", 22_000)
    assert smb.indicators == ["2 × Seat expansion"]
