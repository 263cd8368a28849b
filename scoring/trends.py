"""Trend report: patterns across segments ("18 of 45 Enterprise accounts show usage down more than 15%"),
ranked by the ARR they touch, and the positive trends worth acting on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scoring.measures import signed_number
from scoring.score import Scored

_MIN_ACCOUNTS = 2  # a pattern on one account is that account's story, not a trend
_MIN_SHARE = 0.10


@dataclass(frozen=True)
class TrendPattern:
    """A pattern to look for in every segment: which accounts show it, and how to talk about it."""

    key: str
    title: str  # "{segment} usage decline"
    sentence: str  # "{n} of {total} {segment} accounts show usage down more than 15% vs last quarter"
    shows: Callable[[pd.DataFrame], pd.Series]
    indicators: Callable[[pd.DataFrame], list[str]]
    actions: tuple[str, ...]


@dataclass(frozen=True)
class TrendFinding:
    """A pattern found in one segment (or across all accounts)."""

    key: str
    title: str
    concern: str  # "High", "Medium", "Low", "Opportunity", "Positive"
    pattern: str
    affected_accounts: int
    total_accounts: int
    arr_affected: float
    indicators: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    account_ids: list[str] = field(default_factory=list)  # the affected accounts, biggest ARR first


# Measures the patterns read, at each account's latest snapshot.
MEASURES = (
    "active_users_change_90d",
    "feature_adoption_delta_90d",
    "tickets_30d_vs_avg_90d",
    "days_since_qbr",
    "csm_touches_90d_delta_90d",
    "nps",
    "nps_90d_ago",
    "csat",
    "csat_90d_ago",
)


def _pct(value: float) -> str:
    return f"{'+' if value > 0 else '−' if value < 0 else '±'}{abs(value) * 100:.0f}%"


def _average_points(value: float) -> str:
    shown = signed_number(value, 0)
    return f"Average {shown} point{'' if shown[1:] == '1' else 's'} among them"


def _mean(series: pd.Series) -> float:
    value = series.replace([np.inf, -np.inf], np.nan).mean()
    return float(value) if pd.notna(value) else float("nan")


def _usage_indicators(a: pd.DataFrame) -> list[str]:
    out = [f"Average {_pct(_mean(a['active_users_change_90d']))} active users vs last quarter"]
    adoption = _mean(a["feature_adoption_delta_90d"])
    if not np.isnan(adoption):
        shown = _pct(adoption).replace("%", "")
        out.append(f"Feature adoption {shown} point{'' if shown[1:] == '1' else 's'}")
    tickets = _mean(a["tickets_30d_vs_avg_90d"])
    if not np.isnan(tickets):
        out.append(f"Support tickets at {tickets:.1f}× their usual volume")
    return out


def _engagement_indicators(a: pd.DataFrame) -> list[str]:
    # An indicator backs the pattern it sits under: fewer touches support "engagement drop", more do not.
    out = [f"{_mean(a['days_since_qbr']):.0f} days since the last QBR on average"]
    touches = _mean(a["csm_touches_90d_delta_90d"])
    if round(touches, 1) < 0:  # NaN compares False
        out.append(f"CSM touches {signed_number(touches, 1)} a quarter on average")
    return out


PATTERNS = (
    TrendPattern(
        "usage_decline",
        "{segment} usage decline",
        "{n} of {total} {segment} accounts show usage down more than 15% vs last quarter",
        lambda a: a["active_users_change_90d"] <= -0.15,
        _usage_indicators,
        (
            "Product team: review recent releases for workflow disruption",
            "CSM team: reach out proactively to every affected account",
            "Enablement: fast-track training on the changed workflows",
        ),
    ),
    TrendPattern(
        "engagement_drop",
        "{segment} engagement drop",
        "{n} of {total} {segment} accounts skipped their last QBR",
        lambda a: a["days_since_qbr"] > 100,
        _engagement_indicators,
        (
            "Redesign the QBR around value delivered, not reporting",
            "Ask customers which engagement they prefer",
            "Add executive touchpoints for the largest accounts",
        ),
    ),
    TrendPattern(
        "support_strain",
        "{segment} support strain",
        "{n} of {total} {segment} accounts file at least 1.5× their usual tickets",
        lambda a: a["tickets_30d_vs_avg_90d"] >= 1.5,
        lambda a: [f"Tickets at {_mean(a['tickets_30d_vs_avg_90d']):.1f}× the usual volume among them"],
        (
            "Support: look for a common root cause across the new tickets",
            "Product: prioritise the top recurring issue",
            "CS: send affected accounts a workaround and a fix date",
        ),
    ),
    TrendPattern(
        "nps_decline",
        "{segment} NPS decline",
        "{n} of {total} {segment} accounts gave a lower NPS than a quarter ago",
        lambda a: (a["nps"] - a["nps_90d_ago"]) <= -1,
        lambda a: [f"Average NPS {_mean(a['nps_90d_ago']):.1f} → {_mean(a['nps']):.1f} among them"],
        (
            "Call the detractors to understand their scores",
            "Prioritise the top feature requests behind the drop",
            "Step up value demonstration and ROI reviews",
        ),
    ),
)


def _finding(
    key: str,
    title: str,
    concern: str,
    pattern: str,
    affected: pd.DataFrame,
    total: int,
    indicators: list[str] | None = None,
    actions: list[str] | tuple[str, ...] = (),
) -> TrendFinding:
    """A finding about the `affected` rows (account_id, arr) out of `total` accounts."""
    return TrendFinding(
        key=key,
        title=title,
        concern=concern,
        pattern=pattern,
        affected_accounts=len(affected),
        total_accounts=total,
        arr_affected=float(affected["arr"].sum()),
        indicators=indicators or [],
        actions=list(actions),
        account_ids=list(affected["account_id"]),
    )


def _concern(share: float) -> str:
    return "High" if share >= 0.3 else "Medium" if share >= 0.15 else "Low"


def latest_measures(scored: Scored, rows: np.ndarray) -> pd.DataFrame:
    """The trend measures at `rows` (one per account), with account_id, score and the quarter's score change."""
    table = scored.table
    data = {name: table.measure(name)[rows] for name in MEASURES}
    frame = pd.DataFrame(data)
    frame.insert(0, "account_id", scored.frame["account_id"].to_numpy()[rows].astype(str))
    frame["score"] = scored.frame["score"].to_numpy()[rows]
    frame["vs_last_quarter"] = scored.frame["vs_last_quarter"].to_numpy()[rows]
    return frame


def trend_findings(measures: pd.DataFrame, accounts: pd.DataFrame) -> tuple[list[TrendFinding], list[TrendFinding]]:
    """Concerns (most ARR affected first) and positive trends, per segment.

    Args:
        measures: from `latest_measures`.
        accounts: account_id, segment, arr — the current customers to report on.
    """
    book = accounts[["account_id", "segment", "arr"]].merge(measures, on="account_id", how="inner")
    book["segment"] = book["segment"].fillna("Unsegmented").astype(str)
    concerns: list[TrendFinding] = []
    for segment, members in book.groupby("segment"):
        for pattern in PATTERNS:
            shows = pattern.shows(members).fillna(False).astype(bool)
            affected = members[shows].sort_values("arr", ascending=False)
            share = len(affected) / len(members)
            if len(affected) < _MIN_ACCOUNTS or share < _MIN_SHARE:
                continue
            words = {"segment": segment, "n": len(affected), "total": len(members)}
            concerns.append(
                _finding(
                    pattern.key,
                    pattern.title.format(**words),
                    _concern(share),
                    pattern.sentence.format(**words),
                    affected,
                    len(members),
                    pattern.indicators(affected),
                    pattern.actions,
                )
            )
    concerns.sort(key=lambda f: (-f.arr_affected, f.title))
    return concerns, _positives(book)


def _positives(book: pd.DataFrame) -> list[TrendFinding]:
    out = []
    for segment, members in book.groupby("segment"):
        improving = members[members["vs_last_quarter"] >= 5].sort_values("arr", ascending=False)
        if len(improving) >= _MIN_ACCOUNTS and len(improving) / len(members) >= _MIN_SHARE:
            out.append(
                _finding(
                    "health_improving",
                    f"{segment} health improving",
                    "Positive",
                    f"{len(improving)} of {len(members)} {segment} accounts gained 5+ points vs last quarter",
                    improving,
                    len(members),
                    [_average_points(_mean(improving["vs_last_quarter"]))],
                )
            )
    before, after = _mean(book["csat_90d_ago"]), _mean(book["csat"])
    if after - before >= 0.2:
        out.append(
            _finding(
                "csat_improving",
                "Support satisfaction improvement",
                "Positive",
                f"Average CSAT improved from {before:.1f} to {after:.1f} over the quarter",
                book[book["csat"] > book["csat_90d_ago"]],
                len(book),
            )
        )
    return sorted(out, key=lambda f: -f.arr_affected)


def expansion_opportunities(ready: pd.DataFrame) -> list[TrendFinding]:
    """Per segment, the expansion-ready accounts (from scoring.portfolio.expansion_ready) as an opportunity."""
    out = []
    for segment, members in ready.assign(segment=ready["segment"].fillna("Unsegmented")).groupby("segment"):
        if len(members) < _MIN_ACCOUNTS:
            continue
        opportunities = members["opportunity"].value_counts()
        out.append(
            _finding(
                "expansion_momentum",
                f"{segment} expansion momentum",
                "Opportunity",
                f"{len(members)} {segment} accounts match the expansion profile",
                members,
                len(members),
                [f"{count} × {name}" for name, count in opportunities.items()],
                ["Deploy the Expansion Acceleration playbook to these accounts systematically"],
            )
        )
    return out
