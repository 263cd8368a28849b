"""Builders: read stored scores and metrics, ask scoring, and fill the view models of messages.views.

They never know Slack. A question that cannot be answered because of what was asked or what is stored raises an
`InsightError`, whose `notice()` is the answer to show (unknown account with the closest names, no scores yet, …).

One module a job: `errors` (what a user can act on), `lookup` (which account, CSM or segment was meant), `loaders`
(reading the store), `pieces` (view-model rows shared by every view), then one module per view: `cards`,
`portfolio`, `trends`, `digest`, `report`.
"""

from bot.insights.cards import drop_cause, health_card, recovery_plan
from bot.insights.digest import TEAM, digest, digests
from bot.insights.errors import (
    InsightError,
    NoScoresError,
    UnknownAccountError,
    UnknownCsmError,
    UnknownSegmentError,
)
from bot.insights.loaders import load_book, scored_day
from bot.insights.lookup import AccountMatch, csm_name, find_account, segment_name
from bot.insights.pieces import account_refs
from bot.insights.portfolio import expansion_list, portfolio, risk_list
from bot.insights.report import REPORT_COLUMNS, UPSELL_COLUMN, report_table
from bot.insights.trends import trend_report

__all__ = [
    "REPORT_COLUMNS",
    "TEAM",
    "UPSELL_COLUMN",
    "AccountMatch",
    "InsightError",
    "NoScoresError",
    "UnknownAccountError",
    "UnknownCsmError",
    "UnknownSegmentError",
    "account_refs",
    "csm_name",
    "digest",
    "digests",
    "drop_cause",
    "expansion_list",
    "find_account",
    "health_card",
    "load_book",
    "portfolio",
    "recovery_plan",
    "report_table",
    "risk_list",
    "scored_day",
    "segment_name",
    "trend_report",
]
