"""The data-file schema of CONTRACT.md: which columns an accounts or metrics file may carry, and their kinds.

The store's tables, the importer and the sample generator all read these lists, so a new column is added here once.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["text", "number", "integer", "date", "boolean", "tags", "plan_change"]

ACCOUNT_REQUIRED = ("account_id", "name", "csm_owner")
ACCOUNT_COLUMNS: dict[str, Kind] = {
    "account_id": "text",
    "name": "text",
    "csm_owner": "text",
    "csm_slack_id": "text",
    "csm_email": "text",
    "segment": "text",
    "region": "text",
    "industry": "text",
    "plan_tier": "text",
    "arr": "number",
    "renewal_date": "date",
    "lifecycle_stage": "text",
    "tags": "tags",
    "churned_on": "date",
}

METRIC_REQUIRED = ("account_id", "as_of")
METRIC_COLUMNS: dict[str, Kind] = {
    "account_id": "text",
    "as_of": "date",
    # usage
    "active_users": "integer",
    "seats_purchased": "integer",
    "logins_30d": "integer",
    "features_used": "integer",
    "features_total": "integer",
    "last_login": "date",
    # support
    "tickets_30d": "integer",
    "high_priority_open": "integer",
    "escalations_90d": "integer",
    "csat": "number",
    # sentiment
    "nps": "number",
    # financial
    "mrr": "number",
    "days_overdue": "integer",
    "plan_change": "plan_change",
    # engagement
    "csm_touches_90d": "integer",
    "last_touch": "date",
    "exec_sponsor_engaged": "boolean",
    "last_qbr": "date",
    "training_completion": "number",
}

# Ranges a value must fall in; outside them the row is refused with the range named.
METRIC_RANGES: dict[str, tuple[float, float]] = {
    "csat": (1, 5),
    "nps": (0, 10),
    "training_completion": (0, 1),
}
NON_NEGATIVE = frozenset(
    name for name, kind in {**ACCOUNT_COLUMNS, **METRIC_COLUMNS}.items() if kind in ("number", "integer")
) - {"days_overdue"}
PLAN_CHANGES = ("upgrade", "downgrade")
