"""Small hand-made accounts and metrics frames in the CONTRACT schema, for scoring tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

TODAY = date(2026, 11, 24)

# Acme Corp as the customer-health-scorer seed describes it (the health card of its first example).
ACME_ACCOUNT: dict[str, Any] = {
    "account_id": "ACCT-4521",
    "name": "Acme Corp",
    "csm_owner": "Sarah Chen",
    "csm_slack_id": "U0SARAH001",
    "segment": "Mid-Market",
    "arr": 45_000.0,
    "renewal_date": TODAY + timedelta(days=127),
    "lifecycle_stage": "adoption",
}


def acme_month(months_ago: int, **changes: Any) -> dict[str, Any]:
    """Acme's metrics `months_ago` months before TODAY: today 12 of 25 seats, a quarter ago 15."""
    as_of = TODAY - timedelta(days=30 * months_ago)
    active = {0: 12, 1: 13, 2: 14}.get(months_ago, 15)
    row: dict[str, Any] = {
        "account_id": "ACCT-4521",
        "as_of": as_of,
        "active_users": active,
        "seats_purchased": 25,
        "logins_30d": round(2.1 * active * 30 / 7),  # 2.1 logins a week per active user
        "features_used": 4,
        "features_total": 12,
        "last_login": as_of - timedelta(days=2),
        "tickets_30d": 8 if months_ago == 0 else 3,  # 8 in the last 30 days vs 3 on average
        "high_priority_open": 1 if months_ago == 0 else 0,
        "escalations_90d": 1,
        "csat": 3.2,
        "nps": 6 if months_ago == 0 else 8,  # down from 8 last quarter
        "mrr": 3_750.0,
        "days_overdue": 0,
        "csm_touches_90d": 6,
        "last_touch": as_of - timedelta(days=10),
        "exec_sponsor_engaged": True,
        "last_qbr": as_of - timedelta(days=45),
        "training_completion": 0.6,
    }
    row.update(changes)
    return row


def acme_frames(**today_changes: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Acme's account and four monthly snapshots (a quarter of history), with `today_changes` applied to today."""
    rows = [acme_month(m) for m in (3, 2, 1)] + [acme_month(0, **today_changes)]
    return pd.DataFrame([ACME_ACCOUNT]), pd.DataFrame(rows)


def account(account_id: str = "A1", **fields: Any) -> dict[str, Any]:
    """An account row with only what a test cares about."""
    return {"account_id": account_id, "name": fields.pop("name", account_id), "csm_owner": "Mike Lee", **fields}


def snapshot(account_id: str = "A1", as_of: date = TODAY, **metrics: Any) -> dict[str, Any]:
    """A metrics row; every metric not given is no data."""
    return {"account_id": account_id, "as_of": as_of, **metrics}


def frames(accounts: list[dict[str, Any]], snapshots: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Frames from rows; metrics columns a row leaves out are no data (NaN)."""
    return pd.DataFrame(accounts), pd.DataFrame(snapshots)
