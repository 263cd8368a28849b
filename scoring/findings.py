"""What fired on an account: early-warning signals, interpretations and expansion signals, with their facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scoring.measures import fact
from scoring.model import SEVERITIES, Rule
from scoring.score import Scored


@dataclass(frozen=True)
class Finding:
    """A rule that fired on one snapshot, in words."""

    key: str
    kind: str  # "risk", "interpretation" or "expansion"
    title: str
    severity: str
    response_time: str | None = None
    facts: list[str] = field(default_factory=list)
    impact: str | None = None
    opportunity: str | None = None
    dimension: str | None = None
    forced_band: str | None = None

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready dict (the store keeps these in HealthScore.signals)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, [])}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Finding:
        """The inverse of `to_record`, tolerant of records written by an older model."""
        known = {k: record[k] for k in cls.__dataclass_fields__ if k in record}
        known.setdefault("kind", "risk")
        known.setdefault("title", str(known.get("key", "signal")).replace("_", " ").capitalize())
        known.setdefault("severity", "Medium")
        return cls(**known)


def stored_risks(records: Sequence[dict[str, Any]] | None) -> list[Finding]:
    """The risk findings among a stored score's records (HealthScore.signals), most severe first — readable
    whatever version of the scorer stored them."""
    found = [Finding.from_record(r) for r in records or []]
    return sorted((f for f in found if f.kind == "risk"), key=lambda f: severity_rank(f.severity))


def severity_rank(severity: str) -> int:
    """0 for Critical … 3 for Low; unknown severities sort last."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def rule_facts(scored: Scored, rule: Rule, row: int) -> list[str]:
    """The facts behind a rule on one row: its meaning, then each condition's measure in words."""
    facts = [rule.meaning] if rule.meaning else []
    for condition in rule.when:
        text = f"Tagged {condition.value}" if condition.op == "has" else fact(scored.table, condition.measure, row)
        if text and text not in facts:
            facts.append(text)
    return facts


def finding(scored: Scored, rule: Rule, row: int, *, with_facts: bool = True) -> Finding:
    """One fired rule on one row as a Finding."""
    facts = rule_facts(scored, rule, row) if with_facts else []
    if rule.force_band:
        facts.append(f"Forced {rule.force_band}: the score is capped at {scored.model.band_ceiling(rule.force_band):g}")
    return Finding(
        key=rule.key,
        kind=rule.kind,
        title=rule.title,
        severity=rule.severity,
        response_time=rule.response_time,
        facts=facts,
        impact=rule.impact,
        opportunity=rule.opportunity,
        dimension=rule.dimension,
        forced_band=rule.force_band,
    )


def findings_at(scored: Scored, row: int) -> list[Finding]:
    """Everything that fired on one row, most severe first (risks, then interpretations, then expansion)."""
    fired = scored.rules.iloc[row]
    rules = [r for r in scored.model.rules if fired[r.key]]
    kind_order = {"risk": 0, "interpretation": 1, "expansion": 2}
    rules.sort(key=lambda r: (kind_order[r.kind], severity_rank(r.severity)))
    return [finding(scored, r, row) for r in rules]


def findings_by_row(scored: Scored, rows: np.ndarray, *, with_facts: bool = True) -> list[list[Finding]]:
    """For each of `rows`, what fired there; the rule loop is per rule, the Python work only per firing."""
    out: list[list[Finding]] = [[] for _ in rows]
    fired = scored.rules.to_numpy()[rows]
    order = sorted(range(len(scored.model.rules)), key=lambda j: severity_rank(scored.model.rules[j].severity))
    for j in order:
        rule = scored.model.rules[j]
        for i in np.flatnonzero(fired[:, j]):
            out[i].append(finding(scored, rule, int(rows[i]), with_facts=with_facts))
    return out


URGENT_SEVERITIES = SEVERITIES[:2]  # Critical and High: worth an alert of their own, and no time for an upsell


def wrong_at_first_scan(*, band_rank: pd.Series, lowest_rank: int, signals_json: pd.Series) -> pd.Series:
    """The first alert scan of a store has no earlier day to compare with, so "what changed" is everything: the
    accounts to alert on are those wrong now — in the lowest band, or with a High or Critical signal.

    Args:
        band_rank: each account's band, 0 for the best.
        lowest_rank: the lowest band's rank.
        signals_json: each account's stored signals as JSON text.
    """
    severe = signals_json.fillna("").str.contains("|".join(f'"{s}"' for s in URGENT_SEVERITIES), regex=True)
    return (band_rank == lowest_rank) | severe
