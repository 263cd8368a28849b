"""Builders: read stored scores and metrics, ask scoring, and fill the view models of messages.views.

They never know Slack. A question that cannot be answered because of what was asked or what is stored raises an
`InsightError`, whose `notice()` is the answer to show (unknown account with the closest names, no scores yet, …).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

import pandas as pd
from rapidfuzz import fuzz, process, utils
from sqlalchemy import Table, Text, and_, cast, func, or_, select
from sqlalchemy.engine import Engine

from bot.playbook_runs import playbook_results
from bot.pulse import current_pulse
from bot.scoring_runs import ACCOUNTS, METRICS, SCORES, NothingToBacktest, backtest_store, score_history
from bot.store import AlertAction, read_session
from messages import views
from scoring import Explanation, Finding, HealthModel, Recommendation, diagnose_drop, explain
from scoring import portfolio as book_math
from scoring.advice import Goal
from scoring.backtest import model_insights
from scoring.trends import TrendFinding, expansion_opportunities, latest_measures, trend_findings

_ACTIONS: Table = AlertAction.__table__  # type: ignore[attr-defined]
_FUZZY_FOUND = 88  # a rapidfuzz WRatio this high, clearly ahead of the next name, is the account meant
_FUZZY_SUGGEST = 50
_LIST_LIMIT = 10
TEAM = "Team"  # the team digest's recipient
T = TypeVar("T")
_PAST_TENSE = {
    "acknowledge": "acknowledged",
    "snooze": "snoozed",
    "assign": "assigned",
    "start_playbook": "started the playbook",
    "note": "added a note",
    "touch": "logged a touch",
    "resolve": "resolved",
    "unacknowledge": "unacknowledged",
    "unresolve": "reopened",
    "unsnooze": "unsnoozed",
    "pulse": "set the CSM pulse",
    "step_done": "ticked a step",
    "step_undone": "unticked a step",
}


# --- errors a user can act on ----------------------------------------------------------------------------------
class InsightError(LookupError):
    """A question that cannot be answered as asked; `notice()` says why and what to do instead."""

    kind = "info"

    def __init__(self, title: str, lines: Sequence[str] = (), suggestions: Sequence[str] = ()) -> None:
        super().__init__(" ".join([title, *lines]))
        self.title = title
        self.lines = list(lines)
        self.suggestions = list(suggestions)

    def notice(self) -> views.Notice:
        """The answer to show instead of the view."""
        return views.Notice(title=self.title, lines=self.lines, suggestions=self.suggestions, kind=self.kind)


class NoScoresError(InsightError):
    """Nothing scored for the day asked."""

    def __init__(self, day: date | None, what: str = "scores", *, before: bool = False) -> None:
        if day is None:
            title = "No health scores yet"
        else:
            title = f"No {what} {'on or before' if before else 'for'} {day.isoformat()}"
        hint = f"healthbot score --as-of {day.isoformat()}" if day else "healthbot score"
        super().__init__(title, [f"Run `{hint}` first, then ask again."])
        self.day = day


class UnknownAccountError(InsightError):
    """No current customer by that name or ID."""

    kind = "not_found"


class UnknownCsmError(InsightError):
    """No CSM by that name or Slack user."""

    kind = "not_found"


class UnknownSegmentError(InsightError):
    """No segment by that name."""

    kind = "not_found"


# --- finding accounts --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountMatch:
    """Which account a person meant: found (with its ID and name), or not, with up to 5 closest names."""

    found: bool
    account_id: str | None = None
    name: str | None = None
    suggestions: list[str] = field(default_factory=list)  # names, with the ID added where two share a name
    suggestion_ids: list[str] = field(default_factory=list)  # the same accounts' IDs, which always find them


def _clean_query(text: str) -> str:
    return text.strip().strip("\"'“”‘’").rstrip("?!.").strip()


def find_account(engine: Engine, text: str) -> AccountMatch:
    """The current customer `text` names: exact name, account ID, any case, then the closest fuzzy match."""
    query = _clean_query(text)
    if not query:
        return AccountMatch(found=False)
    current = ACCOUNTS.c.churned_on.is_(None)
    with engine.connect() as connection:
        for exact in (
            ACCOUNTS.c.name == query,
            func.lower(ACCOUNTS.c.account_id) == query.lower(),
            func.lower(ACCOUNTS.c.name) == query.lower(),
        ):
            hits = connection.execute(
                select(ACCOUNTS.c.account_id, ACCOUNTS.c.name).where(exact, current).limit(2)
            ).all()
            if len(hits) == 1:
                return AccountMatch(found=True, account_id=hits[0].account_id, name=hits[0].name)
            if len(hits) > 1:  # two customers with one name: ask which, by ID
                hits = connection.execute(
                    select(ACCOUNTS.c.account_id, ACCOUNTS.c.name).where(exact, current).limit(5)
                ).all()
                return _suggest(hits)
        rows = connection.execute(select(ACCOUNTS.c.account_id, ACCOUNTS.c.name).where(current)).all()
    names = [r.name for r in rows]
    ranked = process.extract(
        query, names, scorer=fuzz.WRatio, processor=utils.default_process, limit=6, score_cutoff=_FUZZY_SUGGEST
    )
    if ranked and ranked[0][1] >= _FUZZY_FOUND and (len(ranked) == 1 or ranked[1][1] < ranked[0][1] - 3):
        best = rows[ranked[0][2]]
        return AccountMatch(found=True, account_id=best.account_id, name=best.name)
    return _suggest([rows[index] for _, score, index in ranked[:5] if score >= _FUZZY_SUGGEST])


def _suggest(rows: Sequence[Any]) -> AccountMatch:
    names = [r.name for r in rows]
    labels = [f"{r.name} ({r.account_id})" if names.count(r.name) > 1 else r.name for r in rows]
    return AccountMatch(found=False, suggestions=labels, suggestion_ids=[r.account_id for r in rows])


def _account_or_error(engine: Engine, text: str) -> AccountMatch:
    match = find_account(engine, text)
    if not match.found:
        lines = ["Did you mean one of these?"] if match.suggestions else ["Check the spelling, or import the account."]
        raise UnknownAccountError(f"No account called “{_clean_query(text)}”", lines, match.suggestions)
    return match


# --- reading the store -------------------------------------------------------------------------------------------
def scored_day(engine: Engine, as_of: date | None, *, exact: bool = False) -> date:
    """The scored day a view reads: the latest scored day on or before `as_of` (any day when None), or with
    `exact` the day `as_of` itself (the export's `--as-of`, a digest).

    A question asked before the morning's scoring run is answered from yesterday's scores, and the view's
    `as_of` says so, rather than refused.

    Raises:
        NoScoresError: nothing is stored for the day asked (or at all).
    """
    query = select(func.max(SCORES.c.as_of))
    if as_of is not None:
        query = query.where(SCORES.c.as_of == as_of) if exact else query.where(SCORES.c.as_of <= as_of)
    with engine.connect() as connection:
        found = connection.execute(query).scalar()
    if found is None:
        raise NoScoresError(as_of, before=not exact)
    return found if isinstance(found, date) else date.fromisoformat(str(found))


def load_book(
    engine: Engine,
    model: HealthModel,
    day: date,
    *,
    account_ids: Sequence[str] | None = None,
    csm_owner: str | None = None,
    segment: str | None = None,
    where: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Current customers with their score stored for `day`, one row each, with trend columns added.
    `where` narrows by other account columns (region, industry, plan_tier, lifecycle_stage: value as stored).

    The filters run in SQL, so one CSM's book costs its own rows, not the whole customer base's.
    """
    query = (
        select(
            ACCOUNTS,
            SCORES.c.score,
            SCORES.c.band,
            SCORES.c.confidence,
            cast(SCORES.c.dimensions, Text).label("dimensions"),
            cast(SCORES.c.signals, Text).label("signals"),
            SCORES.c.last_month_score,
            SCORES.c.last_quarter_score,
        )
        .join(SCORES, SCORES.c.account_id == ACCOUNTS.c.account_id)
        .where(SCORES.c.as_of == day)
        .where(or_(ACCOUNTS.c.churned_on.is_(None), ACCOUNTS.c.churned_on > day))
    )
    if account_ids is not None:
        query = query.where(ACCOUNTS.c.account_id.in_(list(account_ids)))
    if csm_owner is not None:
        query = query.where(ACCOUNTS.c.csm_owner == csm_owner)
    if segment is not None:
        query = query.where(ACCOUNTS.c.segment == segment)
    for column, value in (where or {}).items():
        query = query.where(ACCOUNTS.c[column] == value)
    with engine.connect() as connection:
        book = pd.read_sql(query, connection)
    book["dimensions"] = _json_column(book["dimensions"])
    book["signals"] = _json_column(book["signals"])
    book["arr"] = pd.to_numeric(book["arr"]).fillna(0.0)
    return book_math.with_trend(book, model)


def _json_column(texts: pd.Series) -> list[Any]:
    """Decode a column of JSON texts in one call: at 100,000 rows, one parse beats 100,000 small ones tenfold."""
    return json.loads("[" + ",".join(texts.fillna("null")) + "]")


def _previous_rows(engine: Engine, day: date, *, account_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Each account's latest stored score before `day`: account_id, band, signals."""
    latest_query = select(SCORES.c.account_id, func.max(SCORES.c.as_of).label("as_of")).where(SCORES.c.as_of < day)
    if account_ids is not None:
        latest_query = latest_query.where(SCORES.c.account_id.in_(list(account_ids)))
    latest = latest_query.group_by(SCORES.c.account_id).subquery()
    query = select(SCORES.c.account_id, SCORES.c.band, cast(SCORES.c.signals, Text).label("signals")).join(
        latest, and_(SCORES.c.account_id == latest.c.account_id, SCORES.c.as_of == latest.c.as_of)
    )
    with engine.connect() as connection:
        previous = pd.read_sql(query, connection)
    previous["signals"] = _json_column(previous["signals"])
    return previous


def _recent_actions(engine: Engine, account_id: str) -> list[views.RecentAction]:
    query = (
        select(_ACTIONS.c.user_id, _ACTIONS.c.kind, _ACTIONS.c.created_at, _ACTIONS.c.note)
        .where(_ACTIONS.c.account_id == account_id)
        .order_by(_ACTIONS.c.created_at.desc(), _ACTIONS.c.id.desc())
        .limit(5)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [views.RecentAction(r.user_id, _PAST_TENSE.get(r.kind, r.kind), r.created_at, r.note) for r in rows]


def csm_name(engine: Engine, csm: str) -> str:
    """The CSM `csm` names: Slack ID (<@U…> too), full name in any case, e-mail, or first name alone ("Sarah").

    Raises:
        UnknownCsmError: nobody by that name (with the closest names), or a first name two CSMs share.
    """
    wanted = csm.strip().removeprefix("<@").split("|")[0].rstrip(">").strip().lstrip("@")
    folded = wanted.casefold()
    with engine.connect() as connection:
        # Exact keys first, in SQL: at 100,000 accounts a DISTINCT over every contact column costs 150 ms.
        for key in (
            ACCOUNTS.c.csm_slack_id == wanted,
            ACCOUNTS.c.csm_owner == wanted,
            func.lower(ACCOUNTS.c.csm_email) == folded,
        ):
            found = sorted({r[0] for r in connection.execute(select(ACCOUNTS.c.csm_owner).where(key).limit(50))})
            if len(found) == 1:
                return found[0]
        names = sorted({r[0] for r in connection.execute(select(ACCOUNTS.c.csm_owner).distinct())})
    for matches in (
        lambda n: n.casefold() == folded,
        lambda n: n.split()[0].casefold() == folded if n.split() else False,
    ):
        found = [n for n in names if matches(n)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise UnknownCsmError(f"More than one CSM is called “{wanted}”", ["Which one did you mean?"], found)
    ranked = process.extract(wanted, names, scorer=fuzz.WRatio, processor=utils.default_process, limit=5)
    suggestions = [name for name, score, _ in ranked if score >= _FUZZY_SUGGEST]
    raise UnknownCsmError(
        f"No CSM called “{wanted}” owns an account",
        ["Did you mean one of these?"] if suggestions else ["Use the CSM's name as in the accounts file."],
        suggestions,
    )


def segment_name(engine: Engine, segment: str) -> str:
    """The segment `segment` names, in any case.

    Raises:
        UnknownSegmentError: no such segment (with the ones that exist).
    """
    with engine.connect() as connection:
        known = sorted({r[0] for r in connection.execute(select(ACCOUNTS.c.segment).distinct()) if r[0]})
    for name in known:
        if name.casefold() == segment.strip().casefold():
            return name
    raise UnknownSegmentError(f"No segment called “{segment.strip()}”", ["Segments in your data:"], known)


# --- view pieces ---------------------------------------------------------------------------------------------------
def _as_date(value: Any) -> date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return value if isinstance(value, date) else pd.Timestamp(value).date()


def _number(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def account_refs(accounts: pd.DataFrame, *, notes: Sequence[str | None] | None = None) -> list[views.AccountRef]:
    """AccountRefs for the rows of a book (in order), with the trend delta when the book has one."""
    has_trend = "delta" in accounts.columns
    refs = []
    for i, row in enumerate(accounts.itertuples(index=False)):
        refs.append(
            views.AccountRef(
                account_id=row.account_id,
                name=row.name,
                csm_owner=row.csm_owner,
                score=_number(row.score),
                band=row.band,
                arr=_number(row.arr),
                renewal_date=_as_date(row.renewal_date),
                delta=_number(row.delta) if has_trend else None,
                previous_score=_number(row.previous_score) if has_trend else None,
                note=notes[i] if notes is not None else None,
            )
        )
    return refs


def _signal_view(found: Finding) -> views.Signal:
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


def _action_view(action: Recommendation) -> views.Action:
    return views.Action(priority=action.priority, title=action.title, steps=list(action.steps), due=action.due)


def _goal_view(goal: Goal | None) -> views.HealthGoal | None:
    return None if goal is None else views.HealthGoal(goal.target_score, goal.days, list(goal.targets))


def _trend_view(row: pd.Series) -> views.Trend:
    score = float(row["score"])
    last_month, last_quarter = _number(row["last_month_score"]), _number(row["last_quarter_score"])
    vs_quarter = None if last_quarter is None else round(score - last_quarter, 1)
    return views.Trend(
        vs_last_month=None if last_month is None else round(score - last_month, 1),
        vs_last_quarter=vs_quarter,
        last_month_score=last_month,
        last_quarter_score=last_quarter,
        direction=str(row["direction"]),
        velocity=None if vs_quarter is None else round(vs_quarter / 3, 1),
    )


def _tags(value: Any) -> list[str]:
    return [t.strip() for t in re.split(r"[;,]", str(value or "")) if t.strip()]


# --- the account card ------------------------------------------------------------------------------------------------
def _card_parts(
    engine: Engine, model: HealthModel, text: str, as_of: date | None
) -> tuple[pd.Series, Explanation, Any, int, date]:
    match = _account_or_error(engine, text)
    assert match.account_id is not None
    day = scored_day(engine, as_of)
    book = load_book(engine, model, day, account_ids=[match.account_id])
    if book.empty:
        raise NoScoresError(day, what=f"score for {match.name}")
    scored = score_history(engine, model, as_of=day, account_ids=[match.account_id])
    rows = scored.latest_rows(day)
    if len(rows) == 0:
        raise NoScoresError(day, what=f"metrics for {match.name}")
    row = int(rows[0])
    return book.iloc[0], explain(scored, row), scored, row, day


def health_card(engine: Engine, model: HealthModel, account_id: str, *, as_of: date | None = None) -> views.HealthCard:
    """`/health Acme Corp`: the stored score with its dimensions, signals, actions, playbook and goal.

    `account_id` may also be a name as a person typed it (see `find_account`).

    Raises:
        UnknownAccountError: no current customer by that name or ID (with the closest names).
        NoScoresError: nothing scored for the day asked.
    """
    account, card, _, _, day = _card_parts(engine, model, account_id, as_of)
    return _card_view(engine, model, account, card, day)


def _card_view(
    engine: Engine, model: HealthModel, account: pd.Series, card: Explanation, day: date
) -> views.HealthCard:
    stored = account["dimensions"] or {}
    dimensions = []
    for detail in card.dimensions:
        score = _number(stored.get(detail.key, detail.score))
        dimensions.append(
            views.Dimension(
                key=detail.key,
                name=detail.name,
                score=score,
                band=None if score is None else model.band_for(score).name,
                weight=round(detail.share, 4),
                facts=detail.facts,
                trend=detail.trend,
            )
        )
    renewal = _as_date(account["renewal_date"])
    return views.HealthCard(
        account_id=account["account_id"],
        name=account["name"],
        csm_owner=account["csm_owner"],
        csm_slack_id=account["csm_slack_id"] or None,
        segment=account["segment"] or None,
        arr=_number(account["arr"]),
        renewal_date=renewal,
        days_to_renewal=None if renewal is None else (renewal - day).days,
        as_of=day,
        score=float(account["score"]),
        band=str(account["band"]),
        confidence=float(account["confidence"]),
        trend=_trend_view(account),
        dimensions=dimensions,
        risks=[_signal_view(f) for f in card.risks],
        positives=card.positives,
        expansion=[_signal_view(f) for f in card.expansion],
        interpretations=[_signal_view(f) for f in card.interpretations],
        actions=[_action_view(a) for a in card.actions],
        playbook=card.playbook.name,
        goal=_goal_view(card.goal),
        recent_actions=_recent_actions(engine, account["account_id"]),
        lifecycle_stage=account["lifecycle_stage"] or None,
        tags=_tags(account["tags"]),
        pulse=_pulse(engine, account["account_id"], day),
    )


def _pulse(engine: Engine, account_id: str, day: date) -> views.PulseReading | None:
    with read_session(engine) as session:
        return current_pulse(session, account_id, on=day)


def recovery_plan(
    engine: Engine, model: HealthModel, account_id: str, *, as_of: date | None = None
) -> views.RecoveryPlan:
    """ "Generate recovery plan for Acme Corp": what caused the drop, the recovery playbook's stages, the goal.

    A growth playbook is no recovery plan: accounts outside the lowest band get Churn Risk Response.
    """
    account, card, scored, row, day = _card_parts(engine, model, account_id, as_of)
    view = _card_view(engine, model, account, card, day)
    lowest = str(account["band"]) == model.lowest_band.name
    key = "red_account_recovery" if lowest else "churn_risk_response"
    playbook = model.playbooks.get(key, card.playbook)
    stages = [views.PlaybookStage(s.name, s.timing, list(s.steps)) for s in playbook.stages]
    return views.RecoveryPlan(view, playbook.name, diagnose_drop(scored, row), stages, view.goal)


def drop_cause(engine: Engine, model: HealthModel, account_id: str, *, as_of: date | None = None) -> views.RecoveryPlan:
    """ "What caused Acme Corp health to drop?": the diagnosis alone — a RecoveryPlan without stages, named after
    the playbook that would follow."""
    account, card, scored, row, day = _card_parts(engine, model, account_id, as_of)
    view = _card_view(engine, model, account, card, day)
    return views.RecoveryPlan(view, card.playbook.name, diagnose_drop(scored, row), [], view.goal)


# --- portfolios ------------------------------------------------------------------------------------------------------
def _renewal_notes(renewing: pd.DataFrame) -> list[str | None]:
    return [f"renewal in {d:.0f} days" for d in renewing["days_to_renewal"]]


def _portfolio_view(
    book: pd.DataFrame, model: HealthModel, *, title: str, day: date, groups_by: str | None, team: bool
) -> views.Portfolio:
    lowest = model.lowest_band.name
    bands = book_math.band_summary(book, model)
    focus = {b.name: b.focus for b in model.bands}
    band_views = []
    for band in bands.itertuples(index=False):
        members = book[book["band"] == band.band]
        # The accounts to look at: the biggest in healthy bands, the weakest first in troubled ones.
        order = (
            members.sort_values("arr", ascending=False)
            if band.band == model.top_band.name
            else members.sort_values(["score", "arr"], ascending=[True, False])
        )
        band_views.append(
            views.BandSummary(
                band=band.band,
                count=int(band.count),
                share=float(band.share),
                arr=float(band.arr),
                focus=focus[band.band],
                top=account_refs(order.head(3)),
            )
        )
    improving, declining, stable = book_math.movers(book)
    renewing = book_math.renewals(book, model, as_of=day)
    red = int((book["band"] == lowest).sum())
    status, note = book_math.capacity(red, model.healthy_span)
    capacity = None if team else views.Capacity(red, model.healthy_span, status, note)
    ready = book_math.expansion_ready(book, model, reasons_for=0)
    groups = _group_rows(book, model, groups_by) if groups_by is not None and len(book) else []
    return views.Portfolio(
        title=title,
        as_of=day,
        total_accounts=len(book),
        total_arr=float(book["arr"].sum()),
        average_score=None if book.empty else round(float(book["score"].mean()), 1),
        bands=band_views,
        improving=account_refs(improving.head(_LIST_LIMIT)),
        declining=account_refs(declining.head(_LIST_LIMIT)),
        stable_count=stable,
        renewals=account_refs(renewing.head(_LIST_LIMIT), notes=_renewal_notes(renewing.head(_LIST_LIMIT))),
        renewal_arr_at_risk=book_math.arr_at_risk(renewing, model),
        capacity=capacity,
        risk_drivers=_risk_driver_views(book, model),
        expansion_ready=account_refs(ready.head(_LIST_LIMIT), notes=list(ready["opportunity"].head(_LIST_LIMIT))),
        recommendations=book_math.portfolio_recommendations(book, model, as_of=day),
        groups=groups,
    )


def portfolio(
    engine: Engine,
    model: HealthModel,
    *,
    csm: str | None = None,
    segment: str | None = None,
    as_of: date | None = None,
    group_by: str | None = None,
    where: Mapping[str, str] | None = None,
) -> views.Portfolio:
    """`/health portfolio`: a CSM's book (name any case, first name alone, or Slack ID), a segment, or everyone.

    The team view (no CSM) carries one group row per CSM unless `group_by` names another grouping
    (segment, region, industry, plan_tier).

    Raises:
        UnknownCsmError / UnknownSegmentError: with the closest names; NoScoresError: nothing scored that day.
    """
    day = scored_day(engine, as_of)
    owner = None if csm is None else csm_name(engine, csm)
    group = None if segment is None else segment_name(engine, segment)
    book = load_book(engine, model, day, csm_owner=owner, segment=group, where=where)
    title = " · ".join(filter(None, [owner, f"{group} segment" if group else None, *(where or {}).values()]))
    title = title or "All accounts"
    team = csm is None
    return _portfolio_view(
        book, model, title=title, day=day, groups_by=group_by or ("csm" if team else None), team=team
    )


def risk_list(
    engine: Engine, model: HealthModel, *, as_of: date | None = None, csm: str | None = None
) -> views.Portfolio:
    """ "Who's at risk this quarter?": a Portfolio of the accounts in the lowest band, declining, or renewing
    within the window outside the top band — the same view, narrowed to what needs attention."""
    day = scored_day(engine, as_of)
    owner = None if csm is None else csm_name(engine, csm)
    book = load_book(engine, model, day, csm_owner=owner)
    renewing = book_math.renewals(book, model, as_of=day)
    at_risk = (
        (book["band"] == model.lowest_band.name)
        | (book["direction"] == "declining")
        | (book["account_id"].isin(renewing.loc[renewing["band"] != model.top_band.name, "account_id"]))
    )
    title = "At risk this quarter" + (f" · {owner}" if owner else "")
    return _portfolio_view(
        book[at_risk], model, title=title, day=day, groups_by=None if owner else "csm", team=owner is None
    )


def expansion_list(
    engine: Engine, model: HealthModel, *, as_of: date | None = None, csm: str | None = None
) -> views.ExpansionList:
    """`/health expansion`: accounts with an expansion signal that are healthy enough to grow, biggest first."""
    day = scored_day(engine, as_of)
    book = load_book(engine, model, day, csm_owner=None if csm is None else csm_name(engine, csm))
    ready = book_math.expansion_ready(book, model)
    refs = account_refs(ready)
    candidates = [
        views.ExpansionCandidate(account=ref, reasons=list(reasons), opportunity=str(opportunity))
        for ref, reasons, opportunity in zip(refs, ready["reasons"], ready["opportunity"], strict=True)
    ]
    return views.ExpansionList(as_of=day, candidates=candidates, total_arr=float(ready["arr"].sum()))


# --- the trend report -------------------------------------------------------------------------------------------
def trend_report(engine: Engine, model: HealthModel, *, as_of: date | None = None) -> views.TrendReport:
    """ "Which health trends should worry us most this quarter?": segment-level patterns ranked by ARR affected,
    positive trends and expansion momentum, and what the playbooks started lately achieved."""
    day = scored_day(engine, as_of)
    book = load_book(engine, model, day)
    scored = score_history(engine, model, as_of=day, account_ids=list(book["account_id"]))
    measures = latest_measures(scored, scored.latest_rows(day))
    concerns, positives = trend_findings(measures, book)
    positives = sorted(
        expansion_opportunities(book_math.expansion_ready(book, model, reasons_for=0)) + positives,
        key=lambda f: -f.arr_affected,
    )
    by_id = book.set_index("account_id", drop=False)
    quarter = (day.month - 1) // 3 + 1

    def view(found: TrendFinding) -> views.TrendFinding:
        return views.TrendFinding(
            title=found.title,
            concern=found.concern,
            pattern=found.pattern,
            affected_accounts=found.affected_accounts,
            total_accounts=found.total_accounts,
            arr_affected=found.arr_affected,
            indicators=found.indicators,
            actions=found.actions,
            accounts=account_refs(by_id.loc[found.account_ids[:5]]),
        )

    return views.TrendReport(
        title=f"Q{quarter} {day.year} customer health trends",
        as_of=day,
        concerns=[view(f) for f in concerns[:6]],
        positives=[view(f) for f in positives[:4]],
        model_insights=_model_insights(engine, model),
        summary_actions=[f"{f.title}: {f.actions[0]}" for f in concerns[:3] if f.actions],
        # The overall line, then per playbook how its accounts fared (bot/playbook_runs.py: runs and their checklists).
        playbook_results=[
            *_playbook_results(engine, book, day),
            *playbook_results(engine, as_of=day, red_band=model.lowest_band.name),
        ],
    )


def _model_insights(engine: Engine, model: HealthModel) -> list[str]:
    """What the backtest says about the model, when the store has history and former customers."""
    try:
        return model_insights(backtest_store(engine, model), model)
    except NothingToBacktest:
        return []


def _playbook_results(engine: Engine, book: pd.DataFrame, day: date) -> list[str]:
    """Intervention tracking: how accounts moved since a playbook was started on them in the last 90 days."""
    since = datetime.combine(day - timedelta(days=90), time.min, tzinfo=UTC)
    started = select(_ACTIONS.c.account_id, func.min(_ACTIONS.c.created_at).label("started")).where(
        _ACTIONS.c.kind == "start_playbook", _ACTIONS.c.created_at >= since
    )
    with engine.connect() as connection:
        runs = pd.read_sql(started.group_by(_ACTIONS.c.account_id), connection)
        if runs.empty:
            return []
        history = pd.read_sql(
            select(SCORES.c.account_id, SCORES.c.as_of, SCORES.c.score).where(
                SCORES.c.account_id.in_(list(runs["account_id"]))
            ),
            connection,
        )
    # Both sides as day-precision timestamps: merge_asof refuses mixed resolutions.
    started_on = pd.to_datetime(runs["started"], utc=True).dt.tz_localize(None).dt.normalize()
    runs["started"] = started_on.astype("datetime64[s]")
    history["as_of"] = pd.to_datetime(history["as_of"]).astype("datetime64[s]")
    at_start = pd.merge_asof(
        runs.sort_values("started"),
        history.sort_values("as_of"),
        left_on="started",
        right_on="as_of",
        by="account_id",
    )
    now = book.set_index("account_id")["score"]
    moved = (at_start["account_id"].map(now) - at_start["score"]).dropna()
    if moved.empty:
        return [f"{len(runs)} playbook{'s' * (len(runs) != 1)} started in the last 90 days; no score before them yet"]
    improved, declined = moved[moved > 0], moved[moved < 0]
    line = f"{len(runs)} playbook{'s' * (len(runs) != 1)} started in the last 90 days: {len(improved)} improved"
    if len(improved):
        line += f" (average +{improved.mean():.0f} points)"
    line += f", {len(declined)} declined"
    return [line]


# --- the digest --------------------------------------------------------------------------------------------------
def digest(engine: Engine, model: HealthModel, *, day: date, csm: str | None = None) -> views.Digest:
    """The morning early-warning digest for one CSM (`csm`) or the team (None), from the scores stored for `day`.

    New reds and new signals are new since each account's previous stored score. One CSM's digest reads only
    their accounts; `digests` builds everyone's at once and says the same.

    Raises:
        NoScoresError: `day` has not been scored; UnknownCsmError: no such CSM.
    """
    scored_day(engine, day, exact=True)
    owner = None if csm is None else csm_name(engine, csm)
    book, sections = _digest_sections(engine, model, day, owner=owner)
    if owner is None:
        return _team_digest(book, sections, model, day)
    return _csm_digests(book, sections, model, day, csms=[owner])[owner]


def digests(
    engine: Engine, model: HealthModel, *, day: date, csms: Sequence[str]
) -> tuple[dict[str, views.Digest], views.Digest]:
    """Each CSM's digest (for `csms`, by name as in the accounts file) and the team's, from one read of the day.

    The sections are computed once over the whole book and split by CSM, so 200 CSMs cost about what one team
    digest costs instead of 200 separate reads.

    Raises:
        NoScoresError: `day` has not been scored.
    """
    scored_day(engine, day, exact=True)
    book, sections = _digest_sections(engine, model, day, owner=None)
    return _csm_digests(book, sections, model, day, csms=csms), _team_digest(book, sections, model, day)


@dataclass(frozen=True)
class _DigestSections:
    """The digest's sections over a book (one CSM's or everyone's), each in the order the digest lists it."""

    new_reds: pd.DataFrame  # in the lowest band now, not at the previous score; biggest ARR first
    drops: pd.DataFrame  # fell by more than the model's stable points this month; biggest fall first
    renewals: pd.DataFrame  # renewing within the window, outside the top band; soonest first
    ready: pd.DataFrame  # expansion ready, with their opportunity
    due: list[tuple[views.AccountRef, views.Signal]]  # risk signals new since the previous score
    red_arr: pd.Series  # ARR in the lowest band, by CSM


def _digest_sections(
    engine: Engine, model: HealthModel, day: date, *, owner: str | None
) -> tuple[pd.DataFrame, _DigestSections]:
    book = load_book(engine, model, day, csm_owner=owner)
    previous = _previous_rows(engine, day, account_ids=None if owner is None else list(book["account_id"]))
    lowest = model.lowest_band.name
    was_band = book["account_id"].map(previous.set_index("account_id")["band"])
    # What changed lately: the month's move (the portfolio's movers read the quarter).
    drops = book[book["month_delta"] < -model.stable_points].sort_values("month_delta")
    renewing = book_math.renewals(book, model, as_of=day)
    return book, _DigestSections(
        new_reds=book[(book["band"] == lowest) & (was_band != lowest)].sort_values("arr", ascending=False),
        drops=drops.assign(delta=drops["month_delta"], previous_score=drops["score"] - drops["month_delta"]),
        renewals=renewing[renewing["band"] != model.top_band.name],
        ready=book_math.expansion_ready(book, model, reasons_for=0),
        due=_new_signals(book, previous),
        red_arr=book.loc[book["band"] == lowest].groupby("csm_owner")["arr"].sum(),
    )


def _team_digest(book: pd.DataFrame, sections: _DigestSections, model: HealthModel, day: date) -> views.Digest:
    renewals, ready = sections.renewals.head(_LIST_LIMIT), sections.ready.head(5)
    return views.Digest(
        recipient=TEAM,
        day=day,
        new_reds=account_refs(sections.new_reds),
        biggest_drops=account_refs(sections.drops.head(5)),
        due_today=sections.due,
        renewals_at_risk=account_refs(renewals, notes=_renewal_notes(renewals)),
        expansion_ready=account_refs(ready, notes=list(ready["opportunity"])),
        by_group=_group_rows(book, model, "csm") if len(book) else [],
        arr_at_risk=float(sections.red_arr.sum()),
        risk_drivers=_risk_driver_views(book, model),
    )


def _csm_digests(
    book: pd.DataFrame, sections: _DigestSections, model: HealthModel, day: date, *, csms: Sequence[str]
) -> dict[str, views.Digest]:
    def refs(
        frame: pd.DataFrame, n: int | None, notes: Callable[[pd.DataFrame], list[str | None]] | None = None
    ) -> dict[str, list[views.AccountRef]]:
        # Each CSM's first n rows in the frame's order (groupby keeps it), so every CSM's list is sorted as the
        # team's; one pass over all of them, then split: far cheaper than a pass per CSM.
        rows = frame if n is None else frame.groupby("csm_owner", sort=False).head(n)
        listed = account_refs(rows, notes=notes(rows) if notes else None)
        return _by_owner(listed, key=lambda ref: ref.csm_owner)

    new_reds, drops = refs(sections.new_reds, None), refs(sections.drops, 5)
    renewals = refs(sections.renewals, _LIST_LIMIT, _renewal_notes)
    ready = refs(sections.ready, 5, lambda rows: list(rows["opportunity"]))
    due = _by_owner(sections.due, key=lambda item: item[0].csm_owner)
    books = {str(csm): rows for csm, rows in book.groupby("csm_owner", sort=False)}
    return {
        csm: views.Digest(
            recipient=csm,
            day=day,
            due_today=due.get(csm, []),
            arr_at_risk=float(sections.red_arr.get(csm, 0.0)),
            risk_drivers=_risk_driver_views(books.get(csm, book.iloc[0:0]), model),
            new_reds=new_reds.get(csm, []),
            biggest_drops=drops.get(csm, []),
            renewals_at_risk=renewals.get(csm, []),
            expansion_ready=ready.get(csm, []),
        )
        for csm in csms
    }


def _by_owner(items: Sequence[T], *, key: Callable[[T], str]) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped


def _risk_driver_views(book: pd.DataFrame, model: HealthModel) -> list[views.RiskDriver]:
    return [
        views.RiskDriver(d.title, int(d.accounts), float(d.arr))
        for d in book_math.risk_drivers(book, model).itertuples()
    ]


def _group_rows(book: pd.DataFrame, model: HealthModel, by: str) -> list[views.GroupRow]:
    summary = book_math.group_summary(book, model, by)
    return [
        views.GroupRow(
            group=str(g["group"]),
            accounts=int(g["accounts"]),
            arr=float(g["arr"]),
            average_score=_number(g["average_score"]),
            band_counts={b.name: int(g[b.name]) for b in model.bands},
        )
        for g in summary.to_dict("records")
    ]


def _new_signals(book: pd.DataFrame, previous: pd.DataFrame) -> list[tuple[views.AccountRef, views.Signal]]:
    """Risk signals raised since each account's previous score, most severe first, then biggest ARR."""
    from scoring.findings import severity_rank

    today = book_math.signal_table(book, kind="risk")
    if today.empty:
        return []
    before = book_math.signal_table(previous.assign(arr=0.0), kind="risk")
    known = set(zip(before["account_id"], before["key"], strict=True))
    new = today[[(a, k) not in known for a, k in zip(today["account_id"], today["key"], strict=True)]]
    new = new.assign(rank=new["severity"].map(severity_rank)).sort_values(["rank", "arr"], ascending=[True, False])
    accounts = book[book["account_id"].isin(new["account_id"])]
    refs = dict(zip(accounts["account_id"], account_refs(accounts), strict=True))
    records = book.set_index("account_id")["signals"]
    out = []
    for account_id, key in zip(new["account_id"], new["key"], strict=True):
        record = next(r for r in records[account_id] if r.get("key") == key)
        out.append((refs[account_id], _signal_view(Finding.from_record(record))))
    return out


# --- the report table --------------------------------------------------------------------------------------------
REPORT_COLUMNS = (
    "Account ID",
    "Account Name",
    "CSM Owner",
    "Health Score",
    "Status",
    "Last Touch",
    "Risk Notes",
    "Action Needed",
    "Trend vs Last Month",
    "Segment",
    "ARR",
    "Renewal Date",
    "Confidence",
)
_EXTRA_COLUMNS = {"region": "Region", "industry": "Industry", "plan_tier": "Plan Tier", "csm_email": "CSM Email"}
UPSELL_COLUMN = "Upsell Opportunity"  # the report's last column: "Seat expansion", … or empty (bot.export counts it)


def report_table(
    engine: Engine,
    model: HealthModel,
    *,
    as_of: date | None = None,
    group_by: str | None = None,
    account_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The portfolio report (CONTRACT.md "Report table"): one row per current customer, the contract's columns in
    order, then Region, Industry, Plan Tier, CSM Email, Upsell Opportunity. `group_by` (csm, segment, region,
    industry, plan_tier) sorts by that group, then weakest score first; otherwise weakest score first.

    Raises:
        NoScoresError: nothing scored for `as_of` ("run `healthbot score --as-of …` first").
    """
    day = scored_day(engine, as_of, exact=True)
    book = load_book(engine, model, day, account_ids=account_ids)  # `account_ids`: only those rows (a question's)
    last_touch = _last_touch(engine, day, account_ids=account_ids)
    actions, notes = _first_actions(book, model)
    ready = book_math.expansion_ready(book, model, reasons_for=0).set_index("account_id")["opportunity"]
    upsell = book["account_id"].map(ready.astype("string").fillna("Upsell conversation")).astype("string").fillna("")
    table = pd.DataFrame(
        {
            "Account ID": book["account_id"],
            "Account Name": book["name"],
            "CSM Owner": book["csm_owner"],
            "Health Score": book["score"].round(0).astype(int),
            "Status": book["band"],
            "Last Touch": book["account_id"].map(last_touch),
            "Risk Notes": notes,
            "Action Needed": actions,
            "Trend vs Last Month": (book["score"] - pd.to_numeric(book["last_month_score"])).round(1),
            "Segment": book["segment"],
            "ARR": book["arr"],
            "Renewal Date": book["renewal_date"].map(_as_date),
            "Confidence": book["confidence"].round(2),
            **{label: book[column] for column, label in _EXTRA_COLUMNS.items()},
            UPSELL_COLUMN: upsell,  # what the export's summary counts as upsell-ready
        }
    )
    sort = ["Health Score", "Account Name"]
    if group_by is not None:
        column = book_math.GROUPINGS.get(group_by, group_by)
        label = {"csm_owner": "CSM Owner", "segment": "Segment", **_EXTRA_COLUMNS}[column]
        sort = [label, *sort]
    return table.sort_values(sort, na_position="last").reset_index(drop=True)


def _last_touch(engine: Engine, day: date, *, account_ids: Sequence[str] | None = None) -> dict[str, date | None]:
    """Each account's most recent CSM touch on record up to `day`."""
    query = select(METRICS.c.account_id, func.max(METRICS.c.last_touch).label("last_touch")).where(
        METRICS.c.as_of <= day
    )
    if account_ids is not None:
        query = query.where(METRICS.c.account_id.in_(list(account_ids)))
    query = query.group_by(METRICS.c.account_id)
    with engine.connect() as connection:
        return {r.account_id: _as_date(r.last_touch) for r in connection.execute(query).all()}


def _first_actions(book: pd.DataFrame, model: HealthModel) -> tuple[list[str], list[str]]:
    """Per account: the top recommended action, and its risk signals' titles (most severe first)."""
    from scoring import recommend_actions

    weights = model.weights
    actions, notes = [], []
    for band, dims, records in zip(book["band"], book["dimensions"], book["signals"], strict=True):
        found = [Finding.from_record(r) for r in records or []]
        scores = {k: float(v) for k, v in (dims or {}).items() if v is not None and k in weights}
        total = sum(weights[k] for k in scores) or 1.0
        shares = {k: weights[k] / total for k in scores}  # renormalised over the dimensions with data
        recommended = recommend_actions(
            model, band=str(band), dimension_scores=scores, dimension_shares=shares, findings=found
        )
        actions.append(recommended[0].title if recommended else "")
        notes.append("; ".join(f.title for f in found if f.kind == "risk"))
    return actions, notes
