"""Between the store and scoring: read accounts and metrics as frames, score them, store one row per account a day."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.engine import Engine

from bot.activity import with_logged_touches
from bot.pulse import with_pulse
from bot.settings import Settings
from bot.store import Account, HealthScore, MetricSnapshot, write_session
from bot.store.tables import utcnow
from scoring import HealthModel, Scored, findings_by_row, load_model, score_snapshots
from scoring.backtest import BacktestResult, backtest
from scoring.playbooks import load_playbooks

# The tables as SQLAlchemy Core sees them: bulk reads into pandas and bulk writes go through Core.
ACCOUNTS: Table = Account.__table__  # type: ignore[attr-defined]
METRICS: Table = MetricSnapshot.__table__  # type: ignore[attr-defined]
SCORES: Table = HealthScore.__table__  # type: ignore[attr-defined]


def load_health_model(settings: Settings) -> HealthModel:
    """The model HEALTHBOT_MODEL names (a file or a built-in name), else the built-in default, with the playbooks
    of HEALTHBOT_PLAYBOOKS (else the built-in file) — the ones CSMs start, so the plan shows what they will tick.

    Raises:
        scoring.ModelError: the model file is missing or wrong; the message names the key and what is allowed.
        scoring.playbooks.PlaybookFileError: the playbooks file is missing or wrong, named the same way.
    """
    return load_model(settings.healthbot_model, playbooks=load_playbooks(settings.healthbot_playbooks))


def load_frames(
    engine: Engine, *, as_of: date | None = None, account_ids: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The accounts and their metric snapshots (on or before `as_of`) as frames in the CONTRACT schema."""
    accounts_query = select(ACCOUNTS)
    metrics_query = select(METRICS)
    if as_of is not None:
        metrics_query = metrics_query.where(METRICS.c.as_of <= as_of)
    if account_ids is not None:
        accounts_query = accounts_query.where(ACCOUNTS.c.account_id.in_(list(account_ids)))
        metrics_query = metrics_query.where(METRICS.c.account_id.in_(list(account_ids)))
    with engine.connect() as connection:
        accounts = pd.read_sql(accounts_query, connection)
        metrics = pd.read_sql(metrics_query.order_by("account_id", "as_of"), connection)
    # What CSMs recorded in Slack counts too: touches they logged, and their own read of the account.
    metrics = with_logged_touches(engine, metrics, as_of=as_of)
    return accounts, with_pulse(engine, metrics, as_of=as_of)


def score_history(
    engine: Engine, model: HealthModel, *, as_of: date, account_ids: Sequence[str] | None = None
) -> Scored:
    """Every stored snapshot up to `as_of`, scored with `model` (nothing is written)."""
    accounts, metrics = load_frames(engine, as_of=as_of, account_ids=account_ids)
    return score_snapshots(accounts, metrics, model)


def load_score_history(engine: Engine) -> tuple[pd.DataFrame, pd.Series]:
    """Every stored score (account_id, as_of, score, band, one column per dimension) and, indexed by account_id,
    the day each former customer left — what `scoring.backtest` measures."""
    with engine.connect() as connection:
        scores = pd.read_sql(
            select(SCORES.c.account_id, SCORES.c.as_of, SCORES.c.score, SCORES.c.band, SCORES.c.dimensions), connection
        )
        left = pd.read_sql(select(ACCOUNTS.c.account_id, ACCOUNTS.c.churned_on), connection)
    dimensions = pd.DataFrame(scores.pop("dimensions").tolist(), index=scores.index, dtype="float64")
    churned_on = pd.to_datetime(left.set_index("account_id")["churned_on"])
    return scores.join(dimensions), churned_on.dropna()


class NothingToBacktest(ValueError):
    """The store cannot support a backtest yet; the message says what to do."""


def backtest_store(engine: Engine, model: HealthModel, *, horizon_days: int = 90) -> BacktestResult:
    """Backtest `model` over the stored score history against the accounts' churned_on dates.

    Raises:
        NothingToBacktest: fewer than two scored days, or no former customers.
    """
    history, left_on = load_score_history(engine)
    if history["as_of"].nunique() < 2:
        raise NothingToBacktest(
            "The store holds scores for at most one day. Run `healthbot score --history` to score every past snapshot."
        )
    if left_on.empty:
        raise NothingToBacktest(
            "No former customers: give accounts a churned_on date in the accounts file, import it, and score again."
        )
    return backtest(history, left_on, model, horizon_days=horizon_days)


def score_and_store(engine: Engine, model: HealthModel, *, as_of: date, history: bool = False) -> int:
    """Score every current customer as of `as_of` and store one HealthScore row each; returns how many.

    Re-running for the same day replaces that day's rows. With `history`, a row is also stored at every earlier
    snapshot date (replacing those days too), so trends and digests have a past from the first run. Former
    customers are never scored for a day on or after they left, and accounts without any data are skipped.
    """
    scored = score_history(engine, model, as_of=as_of)
    as_of_day = int(np.datetime64(as_of, "D").astype("int64"))
    latest = scored.latest_rows(as_of)
    today = _storable(scored, latest, np.full(len(latest), as_of_day))
    records = _records(scored, latest[today], as_of, with_facts=True)
    if history:
        earlier = np.flatnonzero(scored.table.day < as_of_day)
        earlier = earlier[_storable(scored, earlier, scored.table.day[earlier])]
        # Past days keep which signals fired (digests compare with them) but not their facts: nobody reads them.
        records += _records(scored, earlier, None, with_facts=False)
    days = sorted({r["as_of"] for r in records} | {as_of})
    with write_session(engine) as session:
        session.execute(delete(SCORES).where(SCORES.c.as_of.in_(days)))
        if records:
            session.execute(insert(SCORES), records)
    return int(today.sum())


def _storable(scored: Scored, positions: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Which of `positions`, stored on `days` (day numbers), have a score and an account still a customer then."""
    churned = scored.table.per_account("churned_on", "days")[scored.table.code[positions]]
    still_customer = np.isnan(churned) | (days < churned)
    return still_customer & ~np.isnan(scored.frame["score"].to_numpy()[positions])


def _records(scored: Scored, positions: np.ndarray, as_of: date | None, *, with_facts: bool) -> list[dict[str, Any]]:
    frame = scored.frame.iloc[positions]
    dimensions = scored.dimensions.iloc[positions]
    keys = list(dimensions.columns)
    found = findings_by_row(scored, positions, with_facts=with_facts)
    now = utcnow()
    out = []
    for i, (account_id, day, score, band, confidence, last_month, last_quarter) in enumerate(
        zip(
            frame["account_id"].astype(str),
            frame["as_of"].dt.date,
            frame["score"],
            frame["band"].astype(str),
            frame["confidence"],
            frame["last_month_score"],
            frame["last_quarter_score"],
            strict=True,
        )
    ):
        dims = dimensions.iloc[i]
        out.append(
            {
                "account_id": account_id,
                "as_of": as_of or day,
                "score": float(score),
                "band": band,
                "confidence": float(confidence),
                "dimensions": {k: _number(dims[k]) for k in keys},
                "signals": [f.to_record() for f in found[i]],
                "computed_at": now,
                "last_month_score": _number(last_month),
                "last_quarter_score": _number(last_quarter),
                "model_name": scored.model.name,
                "model_hash": scored.model.fingerprint,
            }
        )
    return out


def _number(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number
