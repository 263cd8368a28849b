"""The trend report: segment patterns, positive trends, model insights and playbook results."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.insights.loaders import ACTIONS, load_book, scored_day
from bot.insights.pieces import account_refs
from bot.playbook_runs import playbook_results
from bot.scoring_runs import SCORES, NothingToBacktest, backtest_store, score_history
from messages import views
from scoring import HealthModel
from scoring import portfolio as book_math
from scoring.backtest import model_insights
from scoring.trends import TrendFinding, expansion_opportunities, latest_measures, trend_findings


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
    started = select(ACTIONS.c.account_id, func.min(ACTIONS.c.created_at).label("started")).where(
        ACTIONS.c.kind == "start_playbook", ACTIONS.c.created_at >= since
    )
    with engine.connect() as connection:
        runs = pd.read_sql(started.group_by(ACTIONS.c.account_id), connection)
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
        average = round(improved.mean())
        line += f" (average +{average} point{'' if average == 1 else 's'})"
    line += f", {len(declined)} declined"
    return [line]
