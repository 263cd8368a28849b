"""View-model pieces shared by every view: account rows, signals, actions, goals, trends, group rows."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TypeVar

import pandas as pd

from messages import format as fmt
from messages import views
from scoring import Finding, HealthModel, Recommendation
from scoring import portfolio as book_math
from scoring.advice import Goal

LIST_LIMIT = 10

T = TypeVar("T")


# --- view pieces ---------------------------------------------------------------------------------------------------
def as_date(value: Any) -> date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return value if isinstance(value, date) else pd.Timestamp(value).date()


def number(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def account_refs(accounts: pd.DataFrame, *, notes: Sequence[str | None] | None = None) -> list[views.AccountRef]:
    """AccountRefs for the rows of a book (in order), with the trend delta and its window when the book has one
    (see scoring.portfolio.with_trend: the delta is always the difference of the two scores shown)."""
    has_trend = "delta" in accounts.columns
    refs = []
    for i, row in enumerate(accounts.itertuples(index=False)):
        refs.append(
            views.AccountRef(
                account_id=row.account_id,
                name=row.name,
                csm_owner=row.csm_owner,
                score=number(row.score),
                band=row.band,
                arr=number(row.arr),
                renewal_date=as_date(row.renewal_date),
                delta=number(row.delta) if has_trend else None,
                previous_score=number(row.previous_score) if has_trend else None,
                note=notes[i] if notes is not None else None,
                window=(row.window or None) if has_trend else None,
            )
        )
    return refs


def signal_view(found: Finding) -> views.Signal:
    """The one way from a scoring Finding (live, or read back from the store with Finding.from_record) to the view's
    Signal: the card, the digest and the alerts all show a signal through here."""
    facts = list(found.facts)
    if found.kind == "expansion" and found.opportunity:
        facts.insert(0, f"Opportunity: {found.opportunity}")
    return views.Signal(
        key=found.key,
        title=found.title,
        severity=found.severity,
        kind=found.kind,
        response_time=found.response_time,
        facts=facts,
        impact=found.impact,
    )


def action_view(action: Recommendation) -> views.Action:
    """The one way from scoring's Recommendation to the view's Action."""
    return views.Action(priority=action.priority, title=action.title, steps=list(action.steps), due=action.due)


def goal_view(goal: Goal | None) -> views.HealthGoal | None:
    """The one way from scoring's Goal to the view's HealthGoal."""
    return None if goal is None else views.HealthGoal(goal.target_score, goal.days, list(goal.targets))


def trend_view(row: pd.Series) -> views.Trend:
    score = float(row["score"])
    last_month, last_quarter = number(row["last_month_score"]), number(row["last_quarter_score"])
    vs_quarter = fmt.change(last_quarter, score)  # the change between the scores as shown
    return views.Trend(
        vs_last_month=fmt.change(last_month, score),
        vs_last_quarter=vs_quarter,
        last_month_score=last_month,
        last_quarter_score=last_quarter,
        direction=str(row["direction"]),
        velocity=None if vs_quarter is None else round(vs_quarter / 3, 1),
    )


def tags(value: Any) -> list[str]:
    return [t.strip() for t in re.split(r"[;,]", str(value or "")) if t.strip()]


def renewal_notes(renewing: pd.DataFrame) -> list[str | None]:
    return [f"renewal in {d:.0f} days" for d in renewing["days_to_renewal"]]


def by_owner(items: Sequence[T], *, key: Callable[[T], str]) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped


def risk_driver_views(book: pd.DataFrame, model: HealthModel) -> list[views.RiskDriver]:
    return [
        views.RiskDriver(d.title, int(d.accounts), float(d.arr))
        for d in book_math.risk_drivers(book, model).itertuples()
    ]


def group_rows(book: pd.DataFrame, model: HealthModel, by: str) -> list[views.GroupRow]:
    summary = book_math.group_summary(book, model, by)
    return [
        views.GroupRow(
            group=str(g["group"]),
            accounts=int(g["accounts"]),
            arr=float(g["arr"]),
            average_score=number(g["average_score"]),
            band_counts={b.name: int(g[b.name]) for b in model.bands},
            arr_at_risk=float(g["arr_at_risk"]),
        )
        for g in summary.to_dict("records")
    ]


def model_note(book: pd.DataFrame, model: HealthModel) -> str | None:
    """A warning when the scores shown were made with another model than the one in force (their weights and
    bands would not match the card's), with what to do; None when they match."""
    if book.empty or "model_hash" not in book.columns:
        return None
    stale = book[book["model_hash"].fillna("") != model.fingerprint]
    if stale.empty:
        return None
    made = stale.drop_duplicates(["model_name", "model_hash"])
    names = [
        f"{name} · {digest}" if isinstance(digest, str) else "an earlier model (not recorded)"
        for name, digest in zip(made["model_name"], made["model_hash"], strict=True)
    ]
    share = "These scores were" if len(stale) == len(book) else f"{len(stale)} of these {len(book)} scores were"
    return (
        f"{share} made with {', '.join(names)}; the model in force is {model.label}. "
        "Run `healthbot score` to rescore with it."
    )
