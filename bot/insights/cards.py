"""The account health card, its recovery plan and its drop diagnosis."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from bot.insights.errors import NoScoresError
from bot.insights.loaders import load_book, pulse, recent_actions, scored_day
from bot.insights.lookup import account_or_error
from bot.insights.pieces import action_view, as_date, goal_view, model_note, number, signal_view, tags, trend_view
from bot.scoring_runs import score_history
from messages import views
from scoring import Explanation, HealthModel, diagnose_drop, explain


# --- the account card ------------------------------------------------------------------------------------------------
def _card_parts(
    engine: Engine, model: HealthModel, text: str, as_of: date | None
) -> tuple[pd.Series, Explanation, Any, int, date]:
    match = account_or_error(engine, text)
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
        score = number(stored.get(detail.key, detail.score))
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
    renewal = as_date(account["renewal_date"])
    return views.HealthCard(
        account_id=account["account_id"],
        name=account["name"],
        csm_owner=account["csm_owner"],
        csm_slack_id=account["csm_slack_id"] or None,
        segment=account["segment"] or None,
        arr=number(account["arr"]),
        renewal_date=renewal,
        days_to_renewal=None if renewal is None else (renewal - day).days,
        as_of=day,
        score=float(account["score"]),
        band=str(account["band"]),
        confidence=float(account["confidence"]),
        trend=trend_view(account),
        dimensions=dimensions,
        risks=[signal_view(f) for f in card.risks],
        positives=card.positives,
        expansion=[signal_view(f) for f in card.expansion],
        interpretations=[signal_view(f) for f in card.interpretations],
        actions=[action_view(a) for a in card.actions],
        playbook=card.playbook.name,
        goal=goal_view(card.goal),
        recent_actions=recent_actions(engine, account["account_id"]),
        lifecycle_stage=account["lifecycle_stage"] or None,
        tags=tags(account["tags"]),
        pulse=pulse(engine, account["account_id"], day),
        model_note=model_note(account.to_frame().T, model),
    )


def recovery_plan(
    engine: Engine, model: HealthModel, account_id: str, *, as_of: date | None = None
) -> views.RecoveryPlan:
    """ "Generate recovery plan for Acme Corp": what caused the drop, the account's playbook's stages, the goal.

    The playbook is the one the card recommends (scoring.advice.choose_playbook, the one place an account's
    playbook is chosen), so the plan, the card and "what caused…" never name different playbooks.
    """
    account, card, scored, row, day = _card_parts(engine, model, account_id, as_of)
    view = _card_view(engine, model, account, card, day)
    stages = [views.PlaybookStage(s.name, s.timing, list(s.steps)) for s in card.playbook.stages]
    return views.RecoveryPlan(view, card.playbook.name, diagnose_drop(scored, row), stages, view.goal)


def drop_cause(engine: Engine, model: HealthModel, account_id: str, *, as_of: date | None = None) -> views.RecoveryPlan:
    """ "What caused Acme Corp health to drop?": the diagnosis alone — a RecoveryPlan without stages, named after
    the playbook that would follow."""
    account, card, scored, row, day = _card_parts(engine, model, account_id, as_of)
    view = _card_view(engine, model, account, card, day)
    return views.RecoveryPlan(view, card.playbook.name, diagnose_drop(scored, row), [], view.goal)
