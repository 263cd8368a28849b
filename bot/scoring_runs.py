"""Between the store and scoring: read accounts and metrics as frames, score them, store one row per account a day."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection, Engine

from bot.activity import with_logged_touches
from bot.pulse import with_pulse
from bot.settings import Settings
from bot.store import write_session
from bot.store.db import bulk_insert, page_cache, read_frame
from bot.store.tables import ACCOUNTS, METRICS, SCORES, utcnow
from scoring import HealthModel, Scored, load_model, score_snapshots
from scoring.backtest import BacktestResult, PredictionSummary, backtest, prediction_summary
from scoring.findings import findings_json
from scoring.playbooks import load_playbooks
from scoring.score import history_reach

# The tables as SQLAlchemy Core sees them: bulk reads into pandas and bulk writes go through Core.


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
    """The accounts and their metric snapshots (on or before `as_of`) as frames in the CONTRACT schema, dates as
    `datetime.date` (what `scoring_frames` gives, for readers outside scoring)."""
    accounts, metrics = scoring_frames(engine, as_of=as_of, account_ids=account_ids)
    for frame in (accounts, metrics):
        for column in frame.columns:
            if frame[column].dtype.kind == "M" and column != "last_touch":
                frame[column] = np.where(frame[column].isna(), None, frame[column].dt.date)
    return accounts, metrics


def scoring_frames(
    engine: Engine,
    *,
    as_of: date | None = None,
    account_ids: Sequence[str] | None = None,
    span: tuple[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The accounts (those of `account_ids`, or with IDs from `span[0]` to `span[1]`) and their metric snapshots on
    or before `as_of` as scoring reads them: dates as datetime64, numbers as float64, with the touches and pulses
    CSMs logged in Slack folded in."""
    accounts_query = select(ACCOUNTS)
    metrics_query = select(METRICS)
    if as_of is not None:
        metrics_query = metrics_query.where(METRICS.c.as_of <= as_of)
    if span is not None:
        accounts_query = accounts_query.where(ACCOUNTS.c.account_id.between(*span))
        metrics_query = metrics_query.where(METRICS.c.account_id.between(*span))
    if account_ids is not None:
        accounts_query = accounts_query.where(ACCOUNTS.c.account_id.in_(list(account_ids)))
        metrics_query = metrics_query.where(METRICS.c.account_id.in_(list(account_ids)))
    with engine.connect() as connection:
        accounts = read_frame(connection, accounts_query)
        metrics = read_frame(connection, metrics_query.order_by(METRICS.c.account_id, METRICS.c.as_of))
    # What CSMs recorded in Slack counts too: touches they logged, and their own read of the account.
    metrics = with_logged_touches(engine, metrics, as_of=as_of)
    return accounts, with_pulse(engine, metrics, as_of=as_of)


def score_history(
    engine: Engine,
    model: HealthModel,
    *,
    as_of: date,
    account_ids: Sequence[str] | None = None,
    span: tuple[str, str] | None = None,
) -> Scored:
    """Every stored snapshot up to `as_of`, scored with `model` (nothing is written)."""
    accounts, metrics = scoring_frames(engine, as_of=as_of, account_ids=account_ids, span=span)
    return score_snapshots(accounts, metrics, model)


class NothingToBacktest(ValueError):
    """The store cannot support a backtest yet; the message says what to do."""


def backtest_store(
    engine: Engine, model: HealthModel, *, horizon_days: int = 90, learn: bool = False, day: date | None = None
) -> BacktestResult:
    """Backtest `model` over every stored metrics snapshot against the accounts' churned_on dates.

    The history is scored here, with `model`, whatever was stored by `healthbot score` (nothing is written): the
    figures are always those of the model in force. `learn` also learns a model from the history (what
    `healthbot backtest` shows; about half the time on a large book).

    Raises:
        NothingToBacktest: no metrics, metrics for a single day only, or no former customers.
    """
    accounts, metrics = load_frames(engine)
    if metrics.empty or pd.to_datetime(metrics["as_of"]).nunique() < 2:
        raise NothingToBacktest(
            "The store holds metrics for at most one day: a backtest needs the history. Import past metrics "
            "snapshots (one row per account per date) with `healthbot import`."
        )
    if "churned_on" not in accounts.columns or accounts["churned_on"].isna().all():
        raise NothingToBacktest(
            "No former customers: give accounts a churned_on date in the accounts file and import it again."
        )
    return backtest(accounts, metrics, model, horizon_days=horizon_days, learn=learn, day=day)


def churn_prediction_summary(engine: Engine, model: HealthModel, *, horizon_days: int = 90) -> PredictionSummary:
    """How well the score in force predicts churn, out of time, in the figures a chat answer shows (the whole
    backtest runs: seconds on a book of thousands, about a minute at 100,000 accounts — answer after the ack).

    Raises:
        NothingToBacktest: as `backtest_store`.
    """
    return prediction_summary(backtest_store(engine, model, horizon_days=horizon_days, learn=True))


def score_and_store(engine: Engine, model: HealthModel, *, as_of: date, history: bool = False) -> int:
    """Score every current customer as of `as_of` and store one HealthScore row each; returns how many.

    Re-running for the same day replaces that day's rows. With `history`, a row is also stored at every earlier
    snapshot date (replacing those days too), so trends and digests have a past from the first run. Former
    customers are never scored for a day on or after they left, and accounts without any data are skipped.
    """
    return score_run(engine, model, as_of=as_of, history=history).accounts


@dataclass(frozen=True)
class ScoringRun:
    """What one scoring run did, told to the person who ran it."""

    as_of: date
    accounts: int  # accounts scored as of `as_of`
    days: int  # days whose scores were stored (replacing what the store held for them)
    snapshots_read: int  # metric snapshots read from the store
    from_stored: bool  # only `as_of` was scored; earlier days' stored scores gave the trends
    whole_history_accounts: int = 0  # of those, accounts scored from their whole history instead

    def plus(self, batch: ScoringRun) -> ScoringRun:
        """This run with one more batch of accounts scored."""
        return ScoringRun(
            self.as_of,
            self.accounts + batch.accounts,
            self.days,
            self.snapshots_read + batch.snapshots_read,
            self.from_stored and batch.from_stored,
            self.whole_history_accounts + batch.whole_history_accounts,
        )

    def summary(self) -> str:
        """One sentence: what was scored and from what."""
        if self.days > 1:
            return f"Every snapshot scored ({self.days} days, {self.snapshots_read:,} snapshots read)."
        if not self.from_stored:
            return f"{self.as_of.isoformat()} scored from the whole history ({self.snapshots_read:,} snapshots read)."
        whole = self.whole_history_accounts
        return (
            f"Only {self.as_of.isoformat()} was scored; earlier days' stored scores were kept and gave the trends "
            f"({self.snapshots_read:,} snapshots read"
            + (
                f"; {whole:,} accounts scored from their whole history, their recent past not being stored"
                if whole
                else ""
            )
            + ")."
        )


def score_run(
    engine: Engine, model: HealthModel, *, as_of: date, history: bool = False, batch_accounts: int = 25_000
) -> ScoringRun:
    """`score_and_store`, saying what it did. Accounts are scored `batch_accounts` at a time (by ID), in one
    transaction, so a run's memory does not grow with the book.

    Without `history` only `as_of` is scored: each account's latest snapshot in full, earlier snapshots only in
    the columns the model's look-backs read, and the stored scores of the earlier days for the trend. An account
    whose recent past is not stored (or whose decline streak runs back beyond it) is scored from its whole history.
    """
    with engine.connect() as connection:
        ids = read_frame(connection, select(ACCOUNTS.c.account_id).order_by(ACCOUNTS.c.account_id))["account_id"]
        days = {as_of}
        if history:
            snapshot_days = select(METRICS.c.as_of).where(METRICS.c.as_of <= as_of).distinct()
            days |= set(read_frame(connection, snapshot_days)["as_of"].dt.date)
    ids = ids.to_numpy(dtype=object)
    run = ScoringRun(as_of, 0, len(days), 0, from_stored=not history)
    with write_session(engine) as session:
        session.execute(delete(SCORES).where(SCORES.c.as_of.in_(sorted(days))))
        with page_cache(session.connection()) as connection:
            for start in range(0, len(ids), batch_accounts):
                span = (str(ids[start]), str(ids[min(start + batch_accounts, len(ids)) - 1]))
                run = run.plus(_score_batch(engine, connection, model, as_of=as_of, history=history, span=span))
    return run


def _score_batch(
    engine: Engine, connection: Connection, model: HealthModel, *, as_of: date, history: bool, span: tuple[str, str]
) -> ScoringRun:
    if not history:
        day_run = _score_day(engine, connection, model, as_of=as_of, span=span)
        if day_run is not None:
            return day_run
    scored = score_history(engine, model, as_of=as_of, span=span)
    as_of_day = _day_number(as_of)
    latest = scored.latest_rows(as_of)
    today = _storable(scored, latest, np.full(len(latest), as_of_day))
    _write(connection, scored, latest[today], as_of, with_facts=True)
    if history:
        earlier = np.flatnonzero(scored.table.day < as_of_day)
        earlier = earlier[_storable(scored, earlier, scored.table.day[earlier])]
        # Past days keep which signals fired (digests compare with them) but not their facts: nobody reads them.
        _write(connection, scored, earlier, None, with_facts=False)
    return ScoringRun(as_of, int(today.sum()), 0, scored.table.n, from_stored=False)


def _write(
    connection: Connection, scored: Scored, positions: np.ndarray, as_of: date | None, *, with_facts: bool
) -> int:
    """Store `positions` of `scored` on `as_of` (None: on each snapshot's own day), a chunk of rows at a time (a
    million rows of JSON at once would take gigabytes); returns how many."""
    for start in range(0, len(positions), STORE_CHUNK_ROWS):
        rows = _score_rows(scored, positions[start : start + STORE_CHUNK_ROWS], as_of, with_facts=with_facts)
        bulk_insert(connection, SCORES, rows)
    return len(positions)


STORE_CHUNK_ROWS = 100_000
# Above this many accounts of a batch without a stored past, one pass over the batch's whole history is quicker.
WHOLE_HISTORY_AFTER = 1_000


def _score_day(
    engine: Engine, connection: Connection, model: HealthModel, *, as_of: date, span: tuple[str, str]
) -> ScoringRun | None:
    """Score `as_of` alone from the latest snapshots and the stored past; None when the whole history is needed."""
    reach = history_reach(model)
    with engine.connect() as reading:
        latest = read_frame(
            reading,
            select(METRICS.c.account_id, func.max(METRICS.c.as_of).label("as_of"))
            .where(METRICS.c.as_of <= as_of, METRICS.c.account_id.between(*span))
            .group_by(METRICS.c.account_id),
        )
        if latest.empty:
            return None
        since = (latest["as_of"].min() - pd.Timedelta(days=reach.metric_days)).date()
        accounts = read_frame(reading, select(ACCOUNTS).where(ACCOUNTS.c.account_id.between(*span)))
        columns = ["account_id", "as_of", *sorted(reach.metric_columns)]
        earlier = read_frame(
            reading,
            select(*(METRICS.c[name] for name in columns))
            .where(METRICS.c.as_of >= since, METRICS.c.as_of <= as_of, METRICS.c.account_id.between(*span))
            .order_by(METRICS.c.account_id, METRICS.c.as_of),
        )
        latest_days = sorted(set(latest["as_of"].dt.date))
        newest = read_frame(
            reading,
            select(METRICS).where(METRICS.c.as_of.in_(latest_days), METRICS.c.account_id.between(*span)),
        )
        # By account alone: with a day range too, SQLite walks the day index and fetches rows all over the table.
        stored = read_frame(
            reading,
            select(SCORES.c.account_id, SCORES.c.as_of, SCORES.c.score).where(
                SCORES.c.account_id.between(*span), SCORES.c.model_hash == model.fingerprint
            ),
        )
    stored = stored[(stored["as_of"] >= pd.Timestamp(since)) & (stored["as_of"] < pd.Timestamp(as_of))]
    latest_day = earlier["account_id"].map(latest.set_index("account_id")["as_of"])
    earlier = earlier[earlier["as_of"] < latest_day]
    newest = newest.merge(latest, on=["account_id", "as_of"])
    metrics = pd.concat([earlier, newest], ignore_index=True).sort_values(["account_id", "as_of"], ignore_index=True)
    known = metrics.merge(stored, on=["account_id", "as_of"], how="left")["score"]
    metrics = with_pulse(engine, with_logged_touches(engine, metrics, as_of=as_of), as_of=as_of)
    scored = score_snapshots(accounts, metrics, model, stored_scores=known)

    positions = scored.latest_rows(as_of)
    today = positions[_storable(scored, positions, np.full(len(positions), _day_number(as_of)))]
    whole = _without_stored_past(scored, known, today, reach.score_days)
    if len(whole) > WHOLE_HISTORY_AFTER:
        return None
    count = _write(connection, scored, today[~np.isin(scored.table.code[today], whole)], as_of, with_facts=True)
    if len(whole):
        again = score_history(engine, model, as_of=as_of, account_ids=list(scored.table.account_ids[whole]))
        latest_again = again.latest_rows(as_of)
        latest_again = latest_again[_storable(again, latest_again, np.full(len(latest_again), _day_number(as_of)))]
        count += _write(connection, again, latest_again, as_of, with_facts=True)
    return ScoringRun(as_of, count, 0, len(metrics), from_stored=True, whole_history_accounts=len(whole))


def _without_stored_past(scored: Scored, known: pd.Series, today: np.ndarray, score_days: int) -> np.ndarray:
    """Codes of the accounts among `today`'s rows whose score look-backs would read a score the store lacks: an
    earlier snapshot within `score_days` without a stored score, or a decline streak reaching back past the
    stored scores just before today's."""
    t = scored.table
    n_accounts = len(t.account_ids)
    stored = ~np.isnan(known.to_numpy(dtype="float64", na_value=np.nan)[t.source_rows])
    latest_row = np.full(n_accounts, -1)
    latest_row[t.code[today]] = today
    latest_day = np.full(n_accounts, np.nan)
    latest_day[t.code[today]] = t.day[today]
    earlier = t.day < latest_day[t.code]
    lacking = earlier & ~stored
    lacking_in_reach = np.bincount(t.code[lacking & (t.day >= latest_day[t.code] - score_days)], minlength=n_accounts)
    # The stored scores running back unbroken from today's snapshot: a decline streak is exact while it stays
    # within them, the snapshot before its first fall included.
    first_row = np.full(n_accounts, t.n)
    np.minimum.at(first_row, t.code, np.arange(t.n))
    last_gap = first_row - 1
    np.maximum.at(last_gap, t.code[lacking], np.flatnonzero(lacking))
    codes = t.code[today]
    unbroken = today - last_gap[codes] - 1
    streak = scored.frame["declines_in_a_row"].to_numpy()[today]
    return np.unique(codes[(lacking_in_reach[codes] > 0) | (streak >= unbroken)])


def _day_number(day: date) -> int:
    return int(np.datetime64(day, "D").astype("int64"))


def _storable(scored: Scored, positions: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Which of `positions`, stored on `days` (day numbers), have a score and an account still a customer then."""
    churned = scored.table.per_account("churned_on", "days")[scored.table.code[positions]]
    still_customer = np.isnan(churned) | (days < churned)
    return still_customer & ~np.isnan(scored.frame["score"].to_numpy()[positions])


def _score_rows(scored: Scored, positions: np.ndarray, as_of: date | None, *, with_facts: bool) -> pd.DataFrame:
    """The HealthScore rows of `positions` as columns, dimensions and findings already JSON (stored on `as_of`,
    else on each snapshot's own date)."""
    frame = scored.frame
    day = frame["as_of"].to_numpy()[positions]
    return pd.DataFrame(
        {
            "account_id": scored.table.account_ids[scored.table.code[positions]],
            "as_of": np.full(len(positions), np.datetime64(as_of, "s")) if as_of is not None else day,
            "score": frame["score"].to_numpy()[positions],
            "band": np.asarray(frame["band"].astype(object))[positions],
            "confidence": frame["confidence"].to_numpy()[positions],
            "dimensions": dimensions_json(scored.dimensions, positions),
            "signals": findings_json(scored, positions, with_facts=with_facts),
            "computed_at": np.full(len(positions), np.datetime64(utcnow().replace(tzinfo=None), "us")),
            "last_month_score": frame["last_month_score"].to_numpy()[positions],
            "last_quarter_score": frame["last_quarter_score"].to_numpy()[positions],
            "model_name": np.full(len(positions), scored.model.name, dtype=object),
            "model_hash": np.full(len(positions), scored.model.fingerprint, dtype=object),
        }
    )


def dimensions_json(dimensions: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    """Each row's dimension scores as the JSON object HealthScore.dimensions stores ({"usage": 71.2, …}, null
    without data), built column by column.

    Dimension scores are rounded to tenths of 0–100, so each column's text is looked up among the 1,001 possible
    ones, already prefixed with its key, instead of formatting a number per row.
    """
    out = np.full(len(positions), "", dtype=object)
    for i, key in enumerate(dimensions.columns):
        prefix = ("{" if i == 0 else ", ") + json.dumps(key) + ": "
        values = dimensions[key].to_numpy(dtype="float64")[positions]
        tenths = np.rint(np.nan_to_num(values, nan=-1.0) * 10)
        known = (tenths >= 0) & (tenths <= 1000) & (tenths / 10 == values)
        pieces = (prefix + TENTHS_JSON)[np.where(known, tenths, 1001).astype("int64")]
        odd = ~known & ~np.isnan(values)  # a model whose scores leave 0–100: formatted one by one, as JSON would
        pieces[odd] = [prefix + json.dumps(float(value)) for value in values[odd]]
        out = out + pieces
    return out + "}"


# "0.0" … "100.0" as JSON writes them, then "null" (no data).
TENTHS_JSON = np.array([json.dumps(k / 10) for k in range(1001)] + ["null"], dtype=object)
