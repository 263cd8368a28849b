"""Advice for one account: what drives its score, what to do first, which playbook, and a 30-day goal.

This is the per-account reading of a `Scored` result (the health card, the recovery plan). It works on one row at
a time: the vectorised work happened in scoring.score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from scoring.findings import Finding, findings_at
from scoring.measures import format_value, parse_measure
from scoring.model import Dimension, HealthModel, MetricRule
from scoring.playbooks import Playbook
from scoring.score import MONTH_DAYS, QUARTER_DAYS, Scored

# How much more a fired signal weighs than the score points its dimension loses, when ordering actions.
_SEVERITY_PULL = {"Critical": 40.0, "High": 20.0, "Medium": 5.0, "Low": 0.0}
_GOAL_STEP = 20.0  # a 30-day target lifts one metric's sub-score by this much: ambitious, not heroic
_MAX_ACTIONS = 4
_MAX_TARGETS = 4
_STRONG = 90.0  # a metric sub-score worth calling a positive indicator


@dataclass(frozen=True)
class Recommendation:
    """A recommended action, most important first."""

    priority: int
    title: str
    steps: list[str] = field(default_factory=list)
    due: str | None = None


@dataclass(frozen=True)
class Goal:
    """A health goal and the metric targets that would reach it."""

    target_score: int
    days: int
    targets: list[str]


@dataclass(frozen=True)
class DimensionDetail:
    """One dimension of one account, with the facts behind it."""

    key: str
    name: str
    score: float | None
    band: str | None
    share: float  # of the overall score, after renormalising
    facts: list[str]
    trend: str | None  # "down 18 points vs last quarter"
    lost_points: float  # overall points it costs: share × (100 − score)


@dataclass(frozen=True)
class Explanation:
    """Everything the health card says about one account beyond its score."""

    dimensions: list[DimensionDetail]
    risks: list[Finding]
    interpretations: list[Finding]
    expansion: list[Finding]
    positives: list[str]
    actions: list[Recommendation]
    playbook: Playbook
    goal: Goal | None
    expansion_ready: bool
    risk_drivers: list[str]  # dimension keys, the one costing most points first


def due_phrase(response_time: str | None) -> str | None:
    """ "24 hours" → "within 24 hours", "Immediate" → "today", "1 week" → "this week"."""
    if response_time is None:
        return None
    lowered = response_time.strip().lower()
    if lowered in ("immediate", "immediately", "now", "today"):
        return "today"
    if lowered in ("1 week", "one week", "a week"):
        return "this week"
    return f"within {response_time.strip()}"


def lost_points(share: float, score: float | None) -> float:
    """Overall points a dimension costs the account: its share of the score times what it lacks of 100."""
    return 0.0 if score is None or math.isnan(score) else share * (100.0 - score)


def recommend_actions(
    model: HealthModel,
    *,
    band: str,
    dimension_scores: Mapping[str, float | None],
    dimension_shares: Mapping[str, float],
    findings: Sequence[Finding],
) -> list[Recommendation]:
    """Prioritised actions: fired signals and weak dimensions, weighed by urgency and by the points at stake.

    A signal tied to a dimension replaces that dimension's generic action. With nothing to fix, the band's own
    action (grow the relationship, stabilise) is the recommendation.
    """
    rules = {r.key: r for r in model.rules}
    top_floor = model.top_band.min
    dimension_band = {d.key: _band_of(model, dimension_scores.get(d.key)) for d in model.dimensions}
    candidates: dict[str, tuple[float, Recommendation]] = {}

    def consider(pull: float, title: str, steps: Sequence[str], due: str | None) -> None:
        if title not in candidates or candidates[title][0] < pull:
            candidates[title] = (pull, Recommendation(0, title, list(steps), due))

    covered: set[str] = set()
    for found in findings:
        rule = rules.get(found.key)
        if rule is None or rule.kind == "expansion":
            continue
        dimension = model.dimension(rule.dimension) if rule.dimension else None
        key = rule.dimension or ""
        at_stake = lost_points(dimension_shares.get(key, 0.0), dimension_scores.get(key))
        title = rule.action or (dimension.action if dimension else rule.title)
        steps = rule.steps or (dimension.steps if dimension else ())
        due = due_phrase(rule.response_time) or "within 30 days"
        consider(_SEVERITY_PULL.get(rule.severity, 0.0) + at_stake, title, steps, due)
        if dimension is not None:
            covered.add(dimension.key)
    for dimension in model.dimensions:
        score = dimension_scores.get(dimension.key)
        if dimension.key in covered or score is None or math.isnan(score) or score >= top_floor:
            continue
        at_stake = lost_points(dimension_shares.get(dimension.key, 0.0), score)
        if at_stake < 1:
            continue
        weakest = dimension_band[dimension.key] == model.lowest_band.name
        consider(at_stake, dimension.action, dimension.steps, "this week" if weakest else "within 30 days")
    if not candidates:
        own = model.band(band)
        consider(0.0, own.action, own.steps, "this month")
    ordered = sorted(candidates.values(), key=lambda c: -c[0])[:_MAX_ACTIONS]
    return [Recommendation(i, r.title, r.steps, r.due) for i, (_, r) in enumerate(ordered, 1)]


def _band_of(model: HealthModel, score: float | None) -> str | None:
    return None if score is None or math.isnan(score) else model.band_for(score).name


def is_expansion_ready(model: HealthModel, *, score: float, band: str, findings: Sequence[Finding]) -> bool:
    """An expansion signal on an account healthy enough to have the conversation (never the lowest band)."""
    return (
        any(f.kind == "expansion" for f in findings)
        and score >= model.expansion_min_score
        and band != model.lowest_band.name
    )


def choose_playbook(model: HealthModel, *, band: str, expansion_ready: bool) -> Playbook:
    """The band's playbook; an expansion-ready account outside the lowest band gets Expansion Acceleration."""
    if expansion_ready and band != model.lowest_band.name and "expansion_acceleration" in model.playbooks:
        return model.playbooks["expansion_acceleration"]
    return model.playbooks[model.band(band).playbook]


# --- one account's card --------------------------------------------------------------------------------------
def explain(scored: Scored, row: int) -> Explanation:
    """Read one scored snapshot the way a senior CS analyst would."""
    model = scored.model
    frame = scored.frame.iloc[row]
    score, band = float(frame["score"]), str(frame["band"])
    found = findings_at(scored, row)
    dimensions = [_dimension_detail(scored, d, row) for d in model.dimensions]
    drivers = [d.key for d in sorted(dimensions, key=lambda d: -d.lost_points) if d.lost_points > 0]
    ready = is_expansion_ready(model, score=score, band=band, findings=found)
    return Explanation(
        dimensions=dimensions,
        risks=[f for f in found if f.kind == "risk"],
        interpretations=[f for f in found if f.kind == "interpretation"],
        expansion=[f for f in found if f.kind == "expansion"],
        positives=positives(scored, row),
        actions=_steps_that_hold(
            recommend_actions(
                model,
                band=band,
                dimension_scores={d.key: d.score for d in dimensions},
                dimension_shares={d.key: d.share for d in dimensions},
                findings=found,
            ),
            sponsor_engaged=_value(scored.table.measure("exec_sponsor_engaged"), row),
        ),
        playbook=choose_playbook(model, band=band, expansion_ready=ready),
        goal=health_goal(scored, row),
        expansion_ready=ready,
        risk_drivers=drivers,
    )


_SPONSOR_FIRST = "Find and re-engage an executive sponsor first (none is engaged now)"


def _steps_that_hold(actions: list[Recommendation], *, sponsor_engaged: float | None) -> list[Recommendation]:
    """Steps that lean on an executive sponsor, when none is engaged, start by finding one: a step that cites a
    fact must not contradict the facts beside it."""
    if sponsor_engaged is None or sponsor_engaged >= 0.5:
        return actions
    out = []
    for action in actions:
        steps = list(action.steps)
        leaning = [i for i, step in enumerate(steps) if "sponsor" in step.casefold()]
        if leaning and _SPONSOR_FIRST not in steps:
            steps.insert(leaning[0], _SPONSOR_FIRST)
        out.append(Recommendation(action.priority, action.title, steps, action.due))
    return out


def _value(array: np.ndarray, row: int) -> float | None:
    value = float(array[row])
    return None if math.isnan(value) else value


def _dimension_detail(scored: Scored, dimension: Dimension, row: int) -> DimensionDetail:
    from scoring.measures import fact

    score = _value(scored.dimensions[dimension.key].to_numpy(), row)
    share = float(scored.shares[dimension.key].iloc[row])
    facts = []
    for m in dimension.metrics:
        text = fact(scored.table, m.measure, row)
        if text is None:
            continue
        if math.isnan(_sub_score(scored, dimension, m.measure, row)):
            # Data the model sets aside here (onboarding ignores usage): say so beside the fact, or the score
            # next to it reads as a contradiction.
            text += f" — not counted {_ignored_because(scored, m.measure, row)}"
        facts.append(text)
    return DimensionDetail(
        key=dimension.key,
        name=dimension.name,
        score=score,
        band=_band_of(scored.model, score),
        share=share,
        facts=facts,
        trend=_dimension_trend(scored, dimension.key, row),
        lost_points=lost_points(share, score),
    )


def _ignored_because(scored: Scored, measure: str, row: int) -> str:
    """Why a metric with data does not count on this row: the override that sets it aside, in words."""
    t, model = scored.table, scored.model
    account = t.code[row]
    for column, overrides, what in (
        ("lifecycle_stage", model.lifecycle, "while {}"),
        ("segment", model.segments, "for the {} segment"),
    ):
        if not overrides:
            continue
        value = t.per_account(column, "text")[account]
        if value in overrides and measure in overrides[value].ignore:
            return what.format(value)
    return "for this account"


def _comparison_row(scored: Scored, row: int) -> tuple[int, str] | None:
    """The snapshot about a quarter earlier (else a month), and how to say it."""
    for days, period in ((QUARTER_DAYS, "last quarter"), (MONTH_DAYS, "last month")):
        then = int(scored.table.nearest_before(days)[row])
        if then >= 0:
            return then, period
    return None


def _dimension_trend(scored: Scored, key: str, row: int) -> str | None:
    comparison = _comparison_row(scored, row)
    if comparison is None:
        return None
    then, period = comparison
    values = scored.dimensions[key].to_numpy()
    now_value, then_value = _value(values, row), _value(values, then)
    if now_value is None or then_value is None:
        return None
    points = round(now_value) - round(then_value)  # between the dimension scores as shown
    if points == 0:
        return None
    return f"{'down' if points < 0 else 'up'} {abs(points)} point{'' if abs(points) == 1 else 's'} vs {period}"


def positives(scored: Scored, row: int) -> list[str]:
    """What is going well: the strongest fact of each dimension (heaviest dimension first) that is truly strong,
    and a renewal far enough out not to be a threat."""
    from scoring.measures import fact

    strong: list[tuple[float, str]] = []
    for dimension in scored.model.dimensions:
        share = float(scored.shares[dimension.key].iloc[row])
        # The strongest metric; among equals the heaviest, then the first in the model file.
        best = max(
            (
                (_sub_score(scored, dimension, rule.measure, row), weight, rule.measure)
                for rule, weight in _metric_weights(scored, dimension, row)
            ),
            key=lambda candidate: candidate[:2],
            default=None,
        )
        if best is not None and best[0] >= _STRONG and (text := fact(scored.table, best[2], row)) is not None:
            strong.append((share, text))
    out = [text for _, text in sorted(strong, key=lambda s: -s[0])][:3]
    days_to_renewal = scored.table.measure("days_to_renewal")[row]
    if days_to_renewal > scored.model.renewal_window_days:
        out.append(f"No immediate renewal threat (renewal in {days_to_renewal:.0f} days)")
    return out


def _sub_score(scored: Scored, dimension: Dimension, measure: str, row: int) -> float:
    return float(scored.metric_scores[(dimension.key, measure)].iloc[row])


def _part_of_score(scored: Scored, dimension: Dimension, row: int) -> float:
    """The points a dimension contributes to the overall score on `row`."""
    share = float(scored.shares[dimension.key].iloc[row])
    return share * float(np.nan_to_num(scored.dimensions[dimension.key].iloc[row]))


def _metric_weights(scored: Scored, dimension: Dimension, row: int) -> list[tuple[MetricRule, float]]:
    """The dimension's metrics with data on `row`, each with its share of the dimension."""
    with_data = [m for m in dimension.metrics if not math.isnan(_sub_score(scored, dimension, m.measure, row))]
    total = sum(m.weight for m in with_data)
    return [(m, m.weight / total) for m in with_data] if total else []


# --- the 30-day goal ---------------------------------------------------------------------------------------
# Goal phrasing per base measure: (template, the sub-score a target aims for: None = +_GOAL_STEP, 100 = all).
_GOALS: dict[str, tuple[str, float | None]] = {
    "seat_utilisation": ("Increase usage to {v} seat utilisation", None),
    "feature_adoption": ("Raise feature adoption to {v}", None),
    "logins_per_user_week": ("Lift logins to {v} a week per active user", None),
    "days_since_login": ("Get users logging in again (last login within {v} days)", None),
    "tickets_30d": ("Bring tickets down to {v} a month", None),
    "high_priority_open": ("Close high-priority tickets ({v} open at most)", None),
    "escalations_90d": ("Resolve the product escalation", 100.0),
    "csat": ("Raise CSAT to {v}/5", None),
    "nps": ("Improve NPS to {v}+", None),
    "days_overdue": ("Clear the overdue payment", 100.0),
    "csm_touches_90d": ("Reach {v} CSM touches in 90 days", None),
    "days_since_touch": ("Touch base (last CSM touch within {v} days)", None),
    "exec_sponsor_engaged": ("Re-engage the executive sponsor", 100.0),
    "days_since_qbr": ("Hold a QBR", 100.0),
    "training_completion": ("Raise training completion to {v}", None),
}


def health_goal(scored: Scored, row: int) -> Goal | None:
    """A goal `goal_points` above today's score and the metric targets that would get there, biggest lever first.

    Each target lifts one metric's sub-score (by 20 points, or fully for yes/no facts such as a payment) and
    is read back through the model's own curve, so "Improve NPS to 7+" is what the model would reward.
    """
    model = scored.model
    score = float(scored.frame["score"].iloc[row])
    target = min(100, round(score + model.goal_points))
    if math.isnan(score) or target <= round(score):
        return None
    levers: list[tuple[float, float, str]] = []  # (points at stake, points a target gains, phrase)
    for dimension in model.dimensions:
        share = float(scored.shares[dimension.key].iloc[row])
        for rule, weight in _metric_weights(scored, dimension, row):
            sub = _sub_score(scored, dimension, rule.measure, row)
            lever = _lever(scored, rule, row, sub)
            if lever is not None and sub < 100:
                aim, phrase = lever
                levers.append((share * weight * (100 - sub), share * weight * (aim - sub), phrase))
    targets: list[str] = []
    gained = 0.0
    for _, gain, phrase in sorted(levers, key=lambda lever: -lever[0]):
        if gained >= target - score or len(targets) == _MAX_TARGETS:
            break
        if phrase not in targets:
            targets.append(phrase)
            gained += gain
    return Goal(target_score=target, days=model.goal_days, targets=targets) if targets else None


def _lever(scored: Scored, rule: MetricRule, row: int, sub: float) -> tuple[float, str] | None:
    """The sub-score a target aims for and the target in words, or None when the metric is no lever."""
    parsed = parse_measure(rule.measure)
    if not rule.points:
        return None
    if parsed.lookback == "change":
        then = scored.table.measure(f"{parsed.base}_{parsed.days}d_ago")[row]
        aim = min(100.0, sub + _GOAL_STEP)
        needed = _invert(rule.points, aim)
        now = scored.table.measure(parsed.base)[row]
        if needed is None or math.isnan(then) or math.isnan(now):
            return None
        back_to = math.ceil(_clean(then * (1 + needed), True))
        if now >= then or back_to <= now:
            return None  # nothing to win back: the metric has not fallen, or the target is where it already is
        was, aim_for = format_value(then, parsed.info.unit), format_value(back_to, parsed.info.unit)
        return aim, f"Win back {parsed.info.label} to {aim_for} ({was} {parsed.days} days ago)"
    if parsed.lookback is not None or parsed.base not in _GOALS:
        return None
    template, fixed_aim = _GOALS[parsed.base]
    aim = fixed_aim if fixed_aim is not None else min(100.0, sub + _GOAL_STEP)
    needed = _invert(rule.points, aim)
    if needed is None:
        return None
    higher_is_better = rule.points[-1][1] > rule.points[0][1]
    return aim, template.format(v=_round_target(needed, parsed.unit, higher_is_better))


def _invert(points: tuple[tuple[float, float], ...], aim: float) -> float | None:
    """The value at which a monotone piecewise-linear curve reaches `aim`."""
    values = np.array([p[0] for p in points])
    scores = np.array([p[1] for p in points])
    if np.all(np.diff(scores) > 0):
        return float(np.interp(aim, scores, values))
    if np.all(np.diff(scores) < 0):
        return float(np.interp(aim, scores[::-1], values[::-1]))
    return None


def _round_target(value: float, unit: str, higher_is_better: bool) -> str:
    up = math.ceil if higher_is_better else math.floor
    if unit == "share":
        return f"{up(_clean(value * 20, higher_is_better)) * 5}%"  # to the next 5%
    if unit in ("count", "days"):
        return str(max(0, up(_clean(value, higher_is_better))))
    return f"{up(_clean(value * 10, higher_is_better)) / 10:g}"


def _clean(value: float, higher_is_better: bool) -> float:
    """Nudge float noise (12.000000001) away from the next whole number before rounding up or down."""
    return value - 1e-6 if higher_is_better else value + 1e-6


# --- what caused a drop -----------------------------------------------------------------------------------
def diagnose_drop(scored: Scored, row: int) -> list[str]:
    """What moved the score since about a quarter ago (else a month): dimensions by points lost, then new signals."""
    comparison = _comparison_row(scored, row)
    score = float(scored.frame["score"].iloc[row])
    if comparison is None:
        return [f"There is no earlier score to compare with yet; today's score is {score:.0f}."]
    then, period = comparison
    before = float(scored.frame["score"].iloc[then])
    fell = round(before) - round(score)  # the difference of the two scores as shown
    lines = (
        [f"Health fell {fell} point{'' if fell == 1 else 's'} since {period}: {before:.0f} → {score:.0f}."]
        if fell > 0
        else [f"The score has not dropped since {period}: {before:.0f} then, {score:.0f} now."]
    )
    moves = [(_part_of_score(scored, d, row) - _part_of_score(scored, d, then), d) for d in scored.model.dimensions]
    for contribution, dimension in sorted(moves, key=lambda m: m[0]):
        if contribution > -0.5:
            break
        causes = _metric_moves(scored, dimension, then, row)
        if not causes:
            continue  # the dimension moved because data appeared or vanished, not because anything got worse
        was = _value(scored.dimensions[dimension.key].to_numpy(), then)
        now = _value(scored.dimensions[dimension.key].to_numpy(), row)
        change = f" ({was:.0f} → {now:.0f})" if was is not None and now is not None else ""
        cost = round(-contribution)
        lines.append(f"{dimension.name} cost {cost} point{'' if cost == 1 else 's'}{change}: {'; '.join(causes)}")
    fired_then = scored.rules.iloc[then]
    for found in findings_at(scored, row):
        if found.kind == "risk" and not fired_then[found.key]:
            lines.append(f"New signal: {found.title}" + (f" — {found.facts[0]}" if found.facts else ""))
    return lines


def _metric_moves(scored: Scored, dimension: Dimension, then: int, row: int) -> list[str]:
    moves = []
    for rule in dimension.metrics:
        drop = _sub_score(scored, dimension, rule.measure, then) - _sub_score(scored, dimension, rule.measure, row)
        if drop >= 2:  # NaN on either side compares False
            parsed = parse_measure(rule.measure)
            values = scored.table.measure(rule.measure)
            was, now = format_value(float(values[then]), parsed.unit), format_value(float(values[row]), parsed.unit)
            label = parsed.info.label if parsed.lookback is None else rule.measure.replace("_", " ")
            moves.append((drop, f"{label} {was} → {now}"))
    return [text for _, text in sorted(moves, key=lambda m: -m[0])[:2]]
