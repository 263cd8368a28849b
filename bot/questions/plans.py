"""Answers built around one account or a window: success plan, QBR prep, renewal strategy, expansion opportunities,
an account's trend, what changed, and the model explained. Every figure comes from the store or the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Text, cast, func, select
from sqlalchemy.engine import Engine

from bot import insights
from bot.scoring_runs import ACCOUNTS, METRICS, SCORES, NothingToBacktest, backtest_store
from bot.store.tables import TOUCHES
from messages import format as fmt
from messages import views
from scoring import Finding, HealthModel, alert_rules
from scoring.backtest import model_insights

_SEAT_HEADROOM = 0.85  # seat utilisation at which more seats are worth a conversation
_FEATURE_HEADROOM = 0.8  # share of features in use at which a tier upgrade is worth a conversation
_TIER_UPLIFT = 0.25  # the ARR a tier upgrade adds, as a share of today's: a stated assumption, shown to the user


def latest_metrics(engine: Engine, account_id: str, day: date) -> dict[str, Any]:
    """The account's most recent metrics snapshot on or before `day` (empty when it has none)."""
    with engine.connect() as connection:
        row = (
            connection.execute(
                select(METRICS)
                .where(METRICS.c.account_id == account_id, METRICS.c.as_of <= day)
                .order_by(METRICS.c.as_of.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
    return dict(row) if row else {}


def _n(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _current_state(metrics: Mapping[str, Any], card: views.HealthCard) -> list[str]:
    active, seats = _n(metrics.get("active_users")), _n(metrics.get("seats_purchased"))
    used, total = _n(metrics.get("features_used")), _n(metrics.get("features_total"))
    usage = []
    if active is not None and seats:
        usage.append(f"{active:.0f} of {seats:.0f} seats active ({active / seats:.0%})")
    if used is not None and total:
        usage.append(f"{used:.0f} of {total:.0f} key features in use")
    if metrics.get("logins_30d") is not None:
        usage.append(f"{metrics['logins_30d']} logins in 30 days")
    support = []
    if metrics.get("tickets_30d") is not None:
        support.append(f"{metrics['tickets_30d']} tickets in 30 days")
    if metrics.get("escalations_90d") is not None:
        support.append(f"{metrics['escalations_90d']} escalations in 90 days")
    if metrics.get("csat") is not None:
        support.append(f"CSAT {metrics['csat']}")
    engagement = []
    if metrics.get("last_touch"):
        engagement.append(f"last touch {fmt.day(metrics['last_touch'])}")
    if metrics.get("last_qbr"):
        engagement.append(f"last QBR {fmt.day(metrics['last_qbr'])}")
    if metrics.get("nps") is not None:
        engagement.append(f"NPS {metrics['nps']:.0f}")
    if metrics.get("exec_sponsor_engaged") is not None:
        engagement.append("exec sponsor engaged" if metrics["exec_sponsor_engaged"] else "exec sponsor not engaged")
    return [
        "Usage: " + ("; ".join(usage) or "no usage data"),
        "Support: " + ("; ".join(support) or "no support data"),
        "Engagement: " + ("; ".join(engagement) or "no engagement data"),
    ]


def opportunities(card: views.HealthCard, metrics: Mapping[str, Any]) -> list[views.Opportunity]:
    """002's whitespace: seats, features and the tier, each sized from the account's own ARR and seat price."""
    out: list[views.Opportunity] = []
    arr = card.arr or 0.0
    active, seats = _n(metrics.get("active_users")), _n(metrics.get("seats_purchased"))
    used, total = _n(metrics.get("features_used")), _n(metrics.get("features_total"))
    seat_price = arr / seats if arr and seats else None
    if active is not None and seats:
        share = active / seats
        if share >= _SEAT_HEADROOM:
            more = max(1.0, round(seats * 0.2))
            out.append(
                views.Opportunity(
                    "Seat expansion",
                    f"{active:.0f} of {seats:.0f} seats in use ({share:.0%}); {more:.0f} more seats (+20%) at today's "
                    f"{fmt.money(seat_price)} a seat",
                    more * seat_price if seat_price else None,
                )
            )
        else:
            unused = seats - active
            out.append(
                views.Opportunity(
                    "Unused seats",
                    f"{unused:.0f} of {seats:.0f} seats unused ({1 - share:.0%}): adoption comes before any seat sale; "
                    "this is ARR at risk at renewal, not new ARR",
                    -unused * seat_price if seat_price else None,
                )
            )
    if used is not None and total:
        unadopted = total - used
        if used / total >= _FEATURE_HEADROOM:
            out.append(
                views.Opportunity(
                    "Tier upgrade",
                    f"using {used:.0f} of {total:.0f} key features: nearing the plan's limits "
                    f"(sized at +{_TIER_UPLIFT:.0%} of ARR)",
                    arr * _TIER_UPLIFT if arr else None,
                )
            )
        elif unadopted:
            out.append(
                views.Opportunity(
                    "Unadopted features",
                    f"{unadopted:.0f} of {total:.0f} key features unused: enablement first, then premium features",
                    None,
                )
            )
    for signal in card.expansion:
        out.append(views.Opportunity("Whitespace", f"{signal.title}: " + "; ".join(signal.facts[:2]), None))
    return out


def success_plan(engine: Engine, model: HealthModel, account_id: str, *, as_of: date | None) -> views.SuccessPlan:
    """A customer success plan in the 004 seed's format."""
    card = insights.health_card(engine, model, account_id, as_of=as_of)
    metrics = latest_metrics(engine, account_id, card.as_of)
    owner = card.csm_owner
    actions = [
        views.PlanAction(a.title, owner, card.as_of + timedelta(days=7 * (i + 1)), "Not started")
        for i, a in enumerate(card.actions[:4])
    ]
    goals = [f"Reach a health score of {card.goal.target_score} within {card.goal.days} days"] if card.goal else []
    goals += card.goal.targets[:3] if card.goal else []
    if not goals:
        goals = [f"Keep the score in {card.band} and grow usage"]
    stakeholders = [f"CSM: {owner}"]
    if metrics.get("exec_sponsor_engaged") is not None:
        stakeholders.append("Executive sponsor: " + ("engaged" if metrics["exec_sponsor_engaged"] else "not engaged"))
    if "champion_left" in card.tags:
        stakeholders.append("Champion: left — find a new one")
    return views.SuccessPlan(
        card=card,
        stakeholders=stakeholders,
        current_state=_current_state(metrics, card),
        goals=goals,
        actions=actions,
        risks=[f"{r.title} ({r.severity})" for r in card.risks] or ["No risk signals today"],
        opportunities=opportunities(card, metrics),
    )


def qbr_prep(engine: Engine, model: HealthModel, account_id: str, *, as_of: date | None) -> views.QbrPrep:
    """QBR prep in the 004 seed's 60-minute agenda, each point with the account's figures."""
    card = insights.health_card(engine, model, account_id, as_of=as_of)
    metrics = latest_metrics(engine, account_id, card.as_of)
    state = _current_state(metrics, card)
    trend = card.trend
    ops = opportunities(card, metrics)
    agenda = [
        views.AgendaSection(
            "Review",
            20,
            [
                f"Health {fmt.score(card.score)}/100 ({card.band}), "
                f"{fmt.signed(trend.vs_last_quarter)} vs last quarter",
                *(f"Strength: {p}" for p in card.positives[:2]),
                "Value delivered / ROI: bring the customer's own goals (not in our data)",
            ],
        ),
        views.AgendaSection("Current state", 15, [*state, *(f"Risk: {r.title}" for r in card.risks[:3])]),
        views.AgendaSection(
            "Future",
            20,
            [
                *(f"{o.kind}: {o.detail}" for o in ops[:3]),
                f"Renewal {fmt.day(card.renewal_date)}" if card.renewal_date else "Renewal date not on file",
            ],
        ),
        views.AgendaSection("Actions", 5, [f"{a.title} — {card.csm_owner}" for a in card.actions[:3]]),
    ]
    ask = ["The customer's goals for next quarter", "Who attends from their side (exec sponsor?)"]
    return views.QbrPrep(card=card, agenda=agenda, ask_before=ask)


def renewal_strategy(
    engine: Engine, model: HealthModel, account_id: str, *, as_of: date | None
) -> views.RenewalStrategy:
    """How to approach the renewal: where the account stands, the steps by date, the risks and what helps."""
    card = insights.health_card(engine, model, account_id, as_of=as_of)
    days = card.days_to_renewal
    when = f"{days} days out ({fmt.day(card.renewal_date)})" if days is not None else "no renewal date on file"
    at_risk = card.band in model.at_risk_bands
    position = f"{'At risk' if at_risk else 'Healthy'}: {card.band} at {fmt.score(card.score)}, {when}"
    today = card.as_of
    renew_on = card.renewal_date or today + timedelta(days=90)
    lead = max((renew_on - today).days, 0)
    steps = [
        views.PlanAction(
            "Value review with the champion: usage, outcomes, open issues",
            card.csm_owner,
            today + timedelta(days=min(7, lead)),
            "Not started",
        ),
        views.PlanAction(
            "Executive alignment call" if at_risk else "Confirm the decision maker and timeline",
            card.csm_owner,
            today + timedelta(days=min(21, lead)),
            "Not started",
        ),
        views.PlanAction(
            "Send the renewal proposal", card.csm_owner, renew_on - timedelta(days=min(30, lead // 2)), "Not started"
        ),
    ]
    if at_risk:
        steps.insert(
            0,
            views.PlanAction(
                f"Fix first: {card.actions[0].title}" if card.actions else "Start recovery",
                card.csm_owner,
                today + timedelta(days=min(2, lead)),
                "Not started",
            ),
        )
    leverage = list(card.positives[:3]) + [f"{s.title}" for s in card.expansion[:2]]
    return views.RenewalStrategy(
        card=card,
        position=position,
        steps=steps,
        risks=[f"{r.title} ({r.severity})" for r in card.risks] or ["No risk signals today"],
        leverage=leverage or ["No strengths stand out in the data: lead with the roadmap and support"],
    )


def expansion_plan(engine: Engine, model: HealthModel, account_id: str, *, as_of: date | None) -> views.ExpansionPlan:
    """One account's expansion opportunities, sized, and whether it is healthy enough to have the conversation."""
    card = insights.health_card(engine, model, account_id, as_of=as_of)
    metrics = latest_metrics(engine, account_id, card.as_of)
    ready = card.band == model.top_band.name
    caveats = (
        [] if ready else [f"{card.name} is {card.band} ({fmt.score(card.score)}): fix health before selling more."]
    )
    caveats.append(f"Sizing: seat price = ARR ÷ seats; a tier upgrade is taken as +{_TIER_UPLIFT:.0%} of ARR.")
    return views.ExpansionPlan(card=card, opportunities=opportunities(card, metrics), ready=ready, caveats=caveats)


def account_trend(engine: Engine, account_id: str, *, months: int, as_of: date | None) -> views.AccountTrend:
    """The account's stored scores over the last `months` months."""
    day = insights.scored_day(engine, as_of)
    start = day - timedelta(days=round(months * 30.44))
    with engine.connect() as connection:
        name = connection.execute(select(ACCOUNTS.c.name).where(ACCOUNTS.c.account_id == account_id)).scalar()
        rows = connection.execute(
            select(SCORES.c.as_of, SCORES.c.score, SCORES.c.band)
            .where(SCORES.c.account_id == account_id, SCORES.c.as_of >= start, SCORES.c.as_of <= day)
            .order_by(SCORES.c.as_of)
        ).all()
    points = [views.TrendPoint(_date(r.as_of), float(r.score), r.band) for r in rows]
    if not points:
        raise insights.InsightError(
            f"No scores for {name} in the last {months} months",
            ["Run `healthbot score --history` to score the stored history."],
        )
    first, last = points[0], points[-1]
    move = int(fmt.score(last.score)) - int(fmt.score(first.score))  # the scores as shown
    since = f"{fmt.score(first.score)} ({first.band}) on {fmt.day(first.day)}"
    summary = f"{fmt.score(last.score)} ({last.band}) on {fmt.day(last.day)}, " + (
        f"{'up' if move > 0 else 'down'} {abs(move)} from {since}" if move else f"level with {since}"
    )
    low = min(points, key=lambda p: p.score)
    moves = [f"Lowest: {fmt.score(low.score)} on {fmt.day(low.day)}"]
    if len(points) < months:
        moves.append(f"Only {len(points)} scored days in the last {months} months.")
    return views.AccountTrend(account_id, str(name), months, points, summary, moves)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def changes(
    engine: Engine,
    model: HealthModel,
    *,
    days: int,
    as_of: date | None,
    account_id: str | None,
    csm: str | None,
    where: Mapping[str, str],
    title: str,
) -> views.Changes:
    """What changed between the latest scored day and the last one at least `days` before it."""
    day = insights.scored_day(engine, as_of)
    with engine.connect() as connection:
        before = connection.execute(
            select(func.max(SCORES.c.as_of)).where(SCORES.c.as_of <= day - timedelta(days=days))
        ).scalar()
    ids = [account_id] if account_id else None
    now = insights.load_book(engine, model, day, account_ids=ids, csm_owner=csm, where=dict(where) or None)
    if before is None:
        return views.Changes(
            f"What changed · {title}",
            day,
            day,
            len(now),
            [],
            [],
            [],
            [],
            [],
            [f"No scores stored from {days} days before {fmt.day(day)}: nothing to compare with."],
        )
    before = _date(before)
    with engine.connect() as connection:
        old = pd.read_sql(
            select(
                SCORES.c.account_id, SCORES.c.score, SCORES.c.band, cast(SCORES.c.signals, Text).label("signals")
            ).where(SCORES.c.as_of == before, SCORES.c.account_id.in_(list(now["account_id"]))),
            connection,
        )
    merged = now.merge(
        old.rename(columns={"score": "was_score", "band": "was_band", "signals": "was_signals"}),
        on="account_id",
        how="left",
    )
    merged["delta"] = merged["score"] - merged["was_score"]
    merged["previous_score"] = merged["was_score"]
    moved = merged[merged["was_band"].notna() & (merged["was_band"] != merged["band"])]
    move_refs = insights.account_refs(moved)
    band_moves = [
        views.BandMove(ref, str(w), str(n))
        for ref, w, n in zip(move_refs, moved["was_band"], moved["band"], strict=True)
    ]
    scored = merged[merged["delta"].notna()]
    drops = scored[scored["delta"] < -model.stable_points].sort_values("delta").head(5)
    gains = scored[scored["delta"] > model.stable_points].sort_values("delta", ascending=False).head(5)
    new_signals = []
    for row, ref in zip(merged.itertuples(index=False), insights.account_refs(merged), strict=True):
        was = str(row.was_signals or "")
        for record in row.signals or []:
            if record.get("kind") == "risk" and f'"{record.get("key")}"' not in was:
                new_signals.append((ref, _signal(record)))
    since = datetime_floor(before)
    with engine.connect() as connection:
        touched = connection.execute(
            select(TOUCHES.c.account_id, TOUCHES.c.kind, TOUCHES.c.happened_on, TOUCHES.c.user_id)
            .where(TOUCHES.c.happened_on > since, TOUCHES.c.account_id.in_(list(now["account_id"])))
            .order_by(TOUCHES.c.happened_on.desc())
            .limit(10)
        ).all()
    names = dict(zip(now["account_id"], now["name"], strict=True))
    touches = [
        f"{names.get(t.account_id, t.account_id)} · {t.kind} on {fmt.day(_date(t.happened_on))}" for t in touched
    ]
    notes = []
    if (day - before).days != days:
        notes.append(
            f"Scores are stored for {fmt.day(before)} and {fmt.day(day)}: "
            f"compared those ({(day - before).days} days apart)."
        )
    return views.Changes(
        title=f"What changed since {fmt.day(before)} · {title}",
        as_of=day,
        since=before,
        accounts=len(now),
        band_moves=band_moves,
        biggest_drops=insights.account_refs(drops),
        biggest_gains=insights.account_refs(gains),
        new_signals=new_signals[:10],
        touches=touches,
        notes=notes,
    )


def datetime_floor(day: date) -> date:
    return day


def _signal(record: Mapping[str, Any]) -> views.Signal:
    found = Finding.from_record(dict(record))
    return views.Signal(found.key, found.title, found.severity, found.kind, found.response_time, list(found.facts))


_BACKTESTS: dict[tuple[str, str, Any], list[str]] = {}


def _backtest_lines(engine: Engine, model: HealthModel) -> list[str]:
    """What the backtest says, computed once per store, model and latest scored day (seconds at 100,000 accounts)."""
    with engine.connect() as connection:
        latest = connection.execute(select(func.max(SCORES.c.as_of))).scalar()  # a new scored day: backtest again
    key = (str(engine.url), model.name, latest)
    if key not in _BACKTESTS:
        try:
            _BACKTESTS[key] = model_insights(backtest_store(engine, model), model)
        except NothingToBacktest:
            _BACKTESTS[key] = [
                "No former customers on file yet, so how well the score predicts churn can't be measured."
            ]
    return _BACKTESTS[key]


def model_explainer(engine: Engine, model: HealthModel) -> views.ModelExplainer:
    """The model in force: dimensions and weights, bands, what the lowest band means, when scores are recomputed."""
    total = sum(d.weight for d in model.dimensions) or 1.0
    dims = [
        views.ModelDimension(d.name, d.weight / total, [m.measure.replace("_", " ") for m in d.metrics])
        for d in model.dimensions
    ]
    ordered = sorted(model.bands, key=lambda b: b.min, reverse=True)
    bands = [
        views.ModelBand(b.name, b.min, None if i == 0 else ordered[i - 1].min, b.meaning, b.action)
        for i, b in enumerate(ordered)
    ]
    backtest = _backtest_lines(engine, model)
    return views.ModelExplainer(
        name=model.name,
        dimensions=dims,
        bands=bands,
        lowest_band=model.lowest_band.name,
        recomputed=(
            "Scores are recomputed every morning before the digest (the scheduler runs `healthbot score` when the day "
            "isn't scored yet), and whenever someone runs `healthbot score`; each day's score is kept as history."
        ),
        backtest=backtest,
        alerts=_when_alerts_open(model),
    )


def _when_alerts_open(model: HealthModel) -> str:
    response = alert_rules.CONDITION_RESPONSE
    severe = " or ".join(alert_rules.ALERTING_SEVERITIES)
    return (
        f"An alert opens when an account turns {model.lowest_band.name} (respond within {response['turned_red']}), "
        f"drops more than {alert_rules.DROP_POINTS:g} points in {alert_rules.DROP_DAYS} days "
        f"({response['score_drop']}), falls a band ({response['band_drop']}), or raises a new {severe} signal (its "
        "own response time). It is posted to the account's CSM and the alert channel, with buttons to acknowledge, "
        f"snooze, assign or start a playbook; a {' or '.join(alert_rules.ESCALATING_SEVERITIES)} one that nobody "
        "acknowledges within its response time is escalated."
    )
