"""Between the store and scoring: read accounts and metrics as frames, score them, store one row per account a day."""

from __future__ import annotations

import json
import logging
import traceback
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, delete, func, select
from sqlalchemy.engine import Connection, Engine

from bot.scoring_inputs import with_logged_touches, with_pulse
from bot.settings import Settings
from bot.store import day_copies, write_session
from bot.store.db import bulk_insert, distinct_values, page_cache, read_frame
from bot.store.tables import ACCOUNTS, METRICS, SCORES, utcnow
from scoring import HealthModel, Scored, load_model, score_snapshots
from scoring.findings import findings_json
from scoring.measures import SnapshotRows, as_text
from scoring.playbooks import load_playbooks
from scoring.score import HistoryReach, history_reach

if TYPE_CHECKING:
    from multiprocessing.connection import Connection as MPConnection
    from multiprocessing.process import BaseProcess

    from scoring.backtest import BacktestResult, PredictionSummary

logger = logging.getLogger(__name__)

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
        if account_ids is None and day_copies.enabled(connection):
            metrics = _every_day(connection, metrics_query, as_of=as_of, span=span)
        else:
            metrics = read_frame(connection, metrics_query.order_by(METRICS.c.account_id, METRICS.c.as_of))
    # What CSMs recorded in Slack counts too: touches they logged, and their own read of the account.
    metrics = with_logged_touches(engine, metrics, as_of=as_of)
    return accounts, with_pulse(engine, metrics, as_of=as_of)


def _every_day(
    connection: Connection, query: Select[Any], *, as_of: date | None, span: tuple[str, str] | None
) -> pd.DataFrame:
    """The metric rows of `query` (every day up to `as_of`, the accounts of `span`) by account and day: each day
    from its columnar copy where that is current, the other days' rows from the store."""
    below = None if as_of is None else as_of + timedelta(days=1)
    days = distinct_values(connection, METRICS.c.as_of, below=below)
    frames, rest = day_copies.read(connection, days, span=span, by_account=True)
    ordered = query.order_by(METRICS.c.account_id, METRICS.c.as_of)
    if not frames:
        return read_frame(connection, ordered)
    if not rest:
        return frames[0]
    metrics = pd.concat(
        [frames[0], read_frame(connection, ordered.where(METRICS.c.as_of.in_(rest)))], ignore_index=True
    )
    # Python orders text by code point, as SQLite orders UTF-8 bytes: the same order as the query's.
    accounts, _ = pd.factorize(metrics["account_id"], sort=True)
    return metrics.take(np.lexsort((metrics["as_of"].to_numpy(), accounts))).reset_index(drop=True)


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
    from scoring.backtest import backtest  # the backtest's modules are for this command alone

    return backtest(accounts, metrics, model, horizon_days=horizon_days, learn=learn, day=day)


def churn_prediction_summary(engine: Engine, model: HealthModel, *, horizon_days: int = 90) -> PredictionSummary:
    """How well the score in force predicts churn, out of time, in the figures a chat answer shows (the whole
    backtest runs: seconds on a book of thousands, about a minute at 100,000 accounts — answer after the ack).

    Raises:
        NothingToBacktest: as `backtest_store`.
    """
    from scoring.backtest import prediction_summary

    return prediction_summary(backtest_store(engine, model, horizon_days=horizon_days, learn=True))


def unknown_override_names(engine: Engine, model: HealthModel) -> list[str]:
    """Warnings for the model's [segments.X] and [lifecycle.X] that no account has: a typo ("Enterprize") would
    otherwise silently weigh nobody. Each names the values the store holds."""
    warnings = []
    with engine.connect() as connection:
        for column, table, overrides in (
            (ACCOUNTS.c.segment, "segments", model.segments),
            (ACCOUNTS.c.lifecycle_stage, "lifecycle", model.lifecycle),
        ):
            if not overrides:
                continue
            present = sorted(
                {v for v in as_text(pd.Series([r[0] for r in connection.execute(select(column).distinct())])) if v}
            )
            for name in sorted(set(overrides) - set(present)):
                held = ", ".join(present) or "none"
                warnings.append(
                    f"The model's [{table}.{name}] matches no account; {table} in your data: {held}. "
                    "Check the spelling in the model file."
                )
    return warnings


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
    bands: tuple[tuple[str, int], ...] = ()  # (band, accounts) as of `as_of`, as stored

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
    engine: Engine,
    model: HealthModel,
    *,
    as_of: date,
    history: bool = False,
    batch_accounts: int = 25_000,
    day_batch_accounts: int = 100_000,
    workers: int = 1,
    parallel_from: int | None = None,
) -> ScoringRun:
    """`score_and_store`, saying what it did. Accounts are scored `batch_accounts` at a time (by ID), in one
    transaction, so a run's memory does not grow with the book; scoring `as_of` alone reads a few snapshots an
    account, so `day_batch_accounts` at a time (each read of a day then serves more accounts).

    Without `history` only `as_of` is scored: each account's latest snapshot in full, earlier snapshots only in
    the columns the model's look-backs read, and the stored scores of the earlier days for the trend. An account
    whose recent past is not stored (or whose decline streak runs back beyond it) is scored from its whole history.

    With `workers` 2 (only from a process without threads of its own, such as the command line: the helper is a
    fork), a run over `parallel_from` (`PARALLEL_FROM`) accounts or more has most of them read and scored by a helper
    process, on the other core, while this one does the rest (a history run, up to one batch of accounts); this
    process writes every row, in its one transaction. Should the helper fail, its accounts are scored here: the rows
    stored are the same either way.
    """
    with engine.connect() as connection:
        ids = read_frame(connection, select(ACCOUNTS.c.account_id).order_by(ACCOUNTS.c.account_id))["account_id"]
        days = {as_of}
        if history:
            days |= set(distinct_values(connection, METRICS.c.as_of, below=as_of + timedelta(days=1)))
    ids = ids.to_numpy(dtype=object)
    run = ScoringRun(as_of, 0, len(days), 0, from_stored=not history)
    size = batch_accounts if history else day_batch_accounts
    n = len(ids)
    helped = workers > 1 and n >= (PARALLEL_FROM if parallel_from is None else parallel_from)
    # A history run is helped up to one batch of accounts, split between the two processes: together they then hold
    # about what one process held for that batch (past it, two batches' frames and the rows handed over would pass a
    # gigabyte at 100,000 accounts).
    helped = helped and (not history or n <= batch_accounts)
    batches, theirs = _batches(ids, size), []
    if helped:
        # The helper takes the larger share: this process writes every row, its own first. A day's run of many
        # accounts is handed over in two batches, so that the first is written while the helper scores the second.
        share, parts = (HISTORY_HELPER_SHARE, 1) if history else (HELPER_SHARE, HELPER_BATCHES)
        parts = parts if n * share >= parts * MIN_HELPER_BATCH else 1
        cut = n - round(n * share)
        batches = _batches(ids[:cut], size)
        theirs = _batches(ids[cut:], min(size, -(-(n - cut) // parts)))
    spans = [_span(b) for b in theirs]
    helper = _Helper.start(engine, model, as_of=as_of, spans=spans, history=history) if helped else None
    with write_session(engine) as session:
        day_copies.drop_scores(session.connection(), sorted(days))
        session.execute(delete(SCORES).where(SCORES.c.as_of.in_(sorted(days))))
        with page_cache(session.connection()) as connection:
            writer = _ScoreWriter(connection, as_of)

            def store(batch: np.ndarray, done: _DayRows | None) -> ScoringRun:
                return _store(engine, writer, model, done, batch, as_of, history=history, batch_accounts=batch_accounts)

            for batch in batches:
                run = run.plus(
                    store(batch, None if history else _day_rows(engine, model, as_of=as_of, span=_span(batch)))
                )
            for batch, handed in zip(theirs, helper.results() if helper else [], strict=True):
                if isinstance(handed, str):
                    logger.warning(
                        "Scoring accounts %s to %s here, the helper having failed: %s", *_span(batch), handed
                    )
                    handed = None if history else _day_rows(engine, model, as_of=as_of, span=_span(batch))
                run = run.plus(store(batch, handed))
            writer.copy(model)
    return replace(run, bands=tuple(sorted(writer.bands.items())))


class _ScoreWriter:
    """Writes a run's HealthScore rows, keeping each day's scores for the day's score copy (written at the end)."""

    def __init__(self, connection: Connection, as_of: date) -> None:
        self.connection, self.as_of = connection, pd.Timestamp(as_of)
        self.days: dict[Any, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.bands: Counter[str] = Counter()  # the run's day's accounts by band

    def insert(self, rows: pd.DataFrame) -> None:
        bulk_insert(self.connection, SCORES, rows)
        codes, days = pd.factorize(rows["as_of"])
        for code, day in enumerate(days):
            at = np.flatnonzero(codes == code) if len(days) > 1 else slice(None)
            ids, scores = rows["account_id"].to_numpy(dtype=object)[at], rows["score"].to_numpy("float64")[at]
            self.days.setdefault(day, []).append((ids, scores))
            if day == self.as_of:
                self.bands.update(pd.Series(rows["band"].to_numpy(dtype=object)[at]).value_counts().to_dict())

    def copy(self, model: HealthModel) -> None:
        for day, parts in self.days.items():
            ids, scores = (np.concatenate(part) for part in zip(*parts, strict=True))
            day_copies.copy_scores(self.connection, pd.Timestamp(day).date(), model.fingerprint, ids, scores)


# The helper's share of a day's run, and how many batches it hands them over in (each of this many accounts at
# least: a batch costs some reads of its own); its share of a history run, whose rows take longer to write.
HELPER_SHARE = 0.56
HELPER_BATCHES = 2
MIN_HELPER_BATCH = 20_000
HISTORY_HELPER_SHARE = 0.6
# Below this many accounts a day's run is quick enough alone (a helper costs about a tenth of a second to start).
PARALLEL_FROM = 10_000


def _store(
    engine: Engine,
    writer: _ScoreWriter,
    model: HealthModel,
    done: _DayRows | None,
    batch: np.ndarray,
    as_of: date,
    *,
    history: bool,
    batch_accounts: int,
) -> ScoringRun:
    """Write the rows of a batch scored for the day alone (`done`); without them, score the batch's whole history,
    `batch_accounts` at a time, and write that."""
    if done is not None:
        for rows in done.rows:
            writer.insert(rows)
        return done.run
    run = ScoringRun(as_of, 0, 0, 0, from_stored=not history)
    for part in _batches(batch, batch_accounts):
        run = run.plus(_score_batch(engine, writer, model, as_of=as_of, history=history, span=_span(part)))
    return run


class _Helper:
    """A forked process scoring some batches of a day's run, handing their rows back to be written here."""

    def __init__(self, process: BaseProcess, receiving: MPConnection, count: int) -> None:
        self._process, self._receiving, self._count = process, receiving, count

    @classmethod
    def start(
        cls, engine: Engine, model: HealthModel, *, as_of: date, spans: list[tuple[str, str]], history: bool
    ) -> _Helper:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        receiving, sending = context.Pipe(duplex=False)
        engine.dispose()  # no open connection crosses the fork: each process opens its own
        process = context.Process(target=_help, args=(engine, model, as_of, spans, history, sending), daemon=True)
        process.start()
        sending.close()
        return cls(process, receiving, len(spans))

    def results(self) -> Iterator[_DayRows | str | None]:
        """Each batch's rows, in order; None for a batch to score from its whole history (as a run without a
        helper does); the text of what went wrong where the helper failed or died (the batch is then scored here)."""
        try:
            for _ in range(self._count):
                try:
                    yield self._receiving.recv()
                except (EOFError, OSError):
                    yield f"the helper process ended (exit code {self._process.exitcode}) before handing them over"
        finally:
            self._receiving.close()
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()


def _help(
    engine: Engine, model: HealthModel, as_of: date, spans: list[tuple[str, str]], history: bool, sending: MPConnection
) -> None:
    """In the helper: score each span (for the day alone, or with `history` every snapshot) and hand the rows over
    (a failure hands over its text)."""
    import queue
    import signal
    import threading

    # Ctrl-C is for the command: it stops, rolls back and ends its daemon helper, which says nothing of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A batch's rows wait in the pipe until the command takes them (after its own batch): they are handed over from a
    # thread, so that scoring the next batch goes on meanwhile.
    handing = queue.Queue[_DayRows | str | None](maxsize=1)  # one batch waits at most: memory stays bounded
    rows_of = _whole_history_rows if history else _day_rows

    def hand_over() -> None:
        for _ in spans:
            sending.send(handing.get())
        sending.close()

    hander = threading.Thread(target=hand_over, name="scoring-helper-hand-over")
    hander.start()
    for span in spans:
        try:
            handing.put(rows_of(engine, model, as_of=as_of, span=span))
        except Exception:  # reported to the parent, which scores the span itself
            handing.put(traceback.format_exc())
    hander.join()


def _batches(ids: np.ndarray, size: int) -> list[np.ndarray]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _span(ids: np.ndarray) -> tuple[str, str]:
    return str(ids[0]), str(ids[-1])


def _score_batch(
    engine: Engine, writer: _ScoreWriter, model: HealthModel, *, as_of: date, history: bool, span: tuple[str, str]
) -> ScoringRun:
    """Every snapshot of the accounts of `span` scored; `as_of` stored, and with `history` every earlier day."""
    scored = score_history(engine, model, as_of=as_of, span=span)
    today, rows = _history_rows(scored, as_of, history=history)
    for chunk in rows:
        writer.insert(chunk)
    return ScoringRun(as_of, today, 0, scored.table.n, from_stored=False)


def _whole_history_rows(engine: Engine, model: HealthModel, *, as_of: date, span: tuple[str, str]) -> _DayRows:
    """In a helper: what `_score_batch` stores with `history`, as rows to hand over."""
    scored = score_history(engine, model, as_of=as_of, span=span)
    today, rows = _history_rows(scored, as_of, history=True)
    return _DayRows(list(rows), ScoringRun(as_of, today, 0, scored.table.n, from_stored=False))


def _history_rows(scored: Scored, as_of: date, *, history: bool) -> tuple[int, Iterator[pd.DataFrame]]:
    """The rows a batch scored from its whole history stores, a chunk at a time (a million rows of JSON at once
    would take gigabytes): `as_of`'s, with their facts, and with `history` every earlier snapshot's on its own day;
    and how many are `as_of`'s."""
    as_of_day = _day_number(as_of)
    latest = scored.latest_rows(as_of)
    today = latest[_storable(scored, latest, np.full(len(latest), as_of_day))]

    def chunks() -> Iterator[pd.DataFrame]:
        yield from _row_chunks(scored, today, as_of, with_facts=True)
        if history:
            earlier = np.flatnonzero(scored.table.day < as_of_day)
            earlier = earlier[_storable(scored, earlier, scored.table.day[earlier])]
            # Past days keep which signals fired (digests compare with them) but not their facts: nobody reads them.
            yield from _row_chunks(scored, earlier, None, with_facts=False)

    return len(today), chunks()


def _row_chunks(
    scored: Scored, positions: np.ndarray, as_of: date | None, *, with_facts: bool
) -> Iterator[pd.DataFrame]:
    """The HealthScore rows of `positions`, `STORE_CHUNK_ROWS` a frame."""
    for start in range(0, len(positions), STORE_CHUNK_ROWS):
        yield _score_rows(scored, positions[start : start + STORE_CHUNK_ROWS], as_of, with_facts=with_facts)


STORE_CHUNK_ROWS = 100_000
# Above this many accounts of a batch without a stored past, one pass over the batch's whole history is quicker.
WHOLE_HISTORY_AFTER = 1_000
# Accounts whose snapshots are read by ID at a time, and the most read that way (beyond, they are scored from their
# whole history: past WHOLE_HISTORY_AFTER accounts, the batch's, 25,000 accounts at a time). When more than this
# share of a batch's accounts have their latest snapshot off the common day, nothing is planned by day.
ID_CHUNK = 5_000
BY_ID_UP_TO = 25_000
EVERY_SNAPSHOT_UP_TO = 0.25
# The accounts file's columns scoring reads (the rest are for people).
SCORING_ACCOUNT_COLUMNS = (
    "account_id",
    "segment",
    "region",
    "industry",
    "plan_tier",
    "lifecycle_stage",
    "tags",
    "arr",
    "renewal_date",
    "churned_on",
)


@dataclass(frozen=True)
class _DayRows:
    """The rows a batch of accounts scored for a day alone stores (HealthScore columns, a chunk a frame)."""

    rows: list[pd.DataFrame]
    run: ScoringRun


def _day_rows(engine: Engine, model: HealthModel, *, as_of: date, span: tuple[str, str]) -> _DayRows | None:
    """Score `as_of` alone, from each account's latest snapshot, the few earlier snapshots its look-backs read and
    the stored scores of earlier days; None when the batch is better scored from its whole history.

    Most accounts share their latest day: for them only the snapshots each look-back reads are fetched (for "about
    N days earlier", the snapshot day nearest to it; for an average, the days it spans), with the columns it reads.
    An account whose snapshots do not follow the book's days, or whose decline streak runs back beyond the days
    read, has every earlier snapshot read; one whose recent past is not stored is scored from its whole history.
    """
    reach = history_reach(model)
    with engine.connect() as reading:
        accounts = read_frame(
            reading,
            select(*(ACCOUNTS.c[name] for name in SCORING_ACCOUNT_COLUMNS)).where(ACCOUNTS.c.account_id.between(*span)),
        )
        latest = _latest_days(reading, accounts["account_id"], as_of=as_of, span=span)
        gone = accounts.set_index("account_id")["churned_on"].reindex(latest["account_id"]).to_numpy()
        latest = latest[~(gone <= np.datetime64(as_of))].reset_index(drop=True)  # not stored: former customers
        if latest.empty:
            return None
        day = _day_numbers(latest["as_of"])
        common = int(pd.Series(day).mode().iloc[0])
        others = latest["account_id"][day != common]
        if len(others) > EVERY_SNAPSHOT_UP_TO * len(latest):
            planned, rest = _nothing_planned(), latest["account_id"]
        else:
            planned = _planned_context(reading, model, reach, latest[day == common], common, as_of=as_of, span=span)
            rest = pd.concat([others, planned.irregular], ignore_index=True)
    # Scored first, written once the whole batch is known to be scored this way.
    done: list[tuple[Scored, np.ndarray]] = []
    read, whole = len(planned.metrics), np.empty(0, dtype=object)
    if len(planned.metrics):
        scored, more = _score_context(engine, accounts, planned, model, reach, as_of=as_of, complete=False)
        done.append((scored, np.flatnonzero(~np.isin(scored.table.code, more))))
        if 0 < len(more) <= BY_ID_UP_TO:
            # Mostly accounts whose decline streak runs back past the days read: their earlier stored scores
            # complete it, with no need to read those snapshots' metrics.
            with engine.connect() as reading:
                longer = _with_earlier_scores(reading, model, planned, scored.table.account_ids[more], as_of=as_of)
            scored, more = _score_context(engine, accounts, longer, model, reach, as_of=as_of, complete=True)
            done.append((scored, np.flatnonzero(~np.isin(scored.table.code, more))))
            read += len(longer.metrics)
        rest = pd.concat([rest, pd.Series(scored.table.account_ids[more], dtype=object)], ignore_index=True)
    if len(rest) > BY_ID_UP_TO:
        whole = rest.to_numpy(dtype=object)  # too many to read by ID: their whole history, or the batch's
    elif len(rest):
        with engine.connect() as reading:
            every = _every_snapshot(reading, model, rest, as_of=as_of)
        scored, more = _score_context(engine, accounts, every, model, reach, as_of=as_of, complete=True)
        done.append((scored, np.flatnonzero(~np.isin(scored.table.code, more))))
        read, whole = read + len(every.metrics), scored.table.account_ids[more]
    if len(whole) > WHOLE_HISTORY_AFTER:
        return None
    if len(whole):
        again = score_history(engine, model, as_of=as_of, account_ids=list(whole))
        done.append((again, again.latest_rows(as_of)))
    rows = [chunk for scored, positions in done for chunk in _today_rows(scored, positions, as_of)]
    count = sum(len(chunk) for chunk in rows)
    return _DayRows(rows, ScoringRun(as_of, count, 0, read, from_stored=True, whole_history_accounts=len(whole)))


@dataclass(frozen=True)
class _Context:
    """What scoring a day reads: latest snapshots in full, earlier ones in the columns look-backs read, with the
    score stored for each earlier snapshot (`stored_score`, NaN without)."""

    metrics: pd.DataFrame
    latest: pd.DataFrame  # account_id, as_of: the latest snapshot of each account to score
    irregular: pd.Series = field(default_factory=lambda: pd.Series([], dtype=object))  # to read in full instead


def _nothing_planned() -> _Context:
    empty = pd.DataFrame({"account_id": pd.Series([], dtype=object), "as_of": pd.Series([], dtype="datetime64[s]")})
    return _Context(empty, empty)


def _with_stored_scores(model: HealthModel, *columns: Any) -> Select[Any]:
    """`columns` of the metrics with the score stored for the same account and day by `model`, if any."""
    same = (
        (SCORES.c.account_id == METRICS.c.account_id)
        & (SCORES.c.as_of == METRICS.c.as_of)
        & (SCORES.c.model_hash == model.fingerprint)
    )
    return select(*columns, SCORES.c.score.label("stored_score")).select_from(METRICS.outerjoin(SCORES, same))


def _latest_days(reading: Connection, ids: pd.Series, *, as_of: date, span: tuple[str, str]) -> pd.DataFrame:
    """Each of accounts `ids`' (those of `span`) latest snapshot day on or before `as_of`: the book's latest day
    for the accounts its copy holds; for the others (or all, without a copy), one index probe an account."""
    earlier = METRICS.alias("earlier")
    day = (
        select(func.max(earlier.c.as_of))
        .where(earlier.c.account_id == ACCOUNTS.c.account_id, earlier.c.as_of <= as_of)
        .scalar_subquery()
    )
    probe = select(ACCOUNTS.c.account_id, day.label("as_of"))
    book_latest = reading.execute(select(func.max(METRICS.c.as_of)).where(METRICS.c.as_of <= as_of)).scalar()
    on_latest = None if book_latest is None else day_copies.accounts_on(reading, book_latest, ids, span=span)
    if on_latest is None:
        latest = read_frame(reading, probe.where(ACCOUNTS.c.account_id.between(*span)))
        return latest[latest["as_of"].notna()].reset_index(drop=True)
    days = np.where(on_latest, np.datetime64(book_latest, "s"), np.datetime64("NaT", "s"))
    others = ids[~on_latest].to_numpy(dtype=object)
    if len(others):
        chunks = np.array_split(others, -(-len(others) // ID_CHUNK))
        probed = pd.concat([read_frame(reading, probe.where(ACCOUNTS.c.account_id.in_(list(c)))) for c in chunks])
        days[~on_latest] = probed.set_index("account_id")["as_of"].reindex(others).to_numpy()
    known = ~np.isnat(days)
    return pd.DataFrame({"account_id": ids[known].reset_index(drop=True), "as_of": days[known]})


def _day_numbers(days: pd.Series) -> np.ndarray:
    return days.to_numpy(dtype="datetime64[D]").astype("int64")


def _planned_context(
    reading: Connection,
    model: HealthModel,
    reach: HistoryReach,
    latest: pd.DataFrame,
    latest_day: int,
    *,
    as_of: date,
    span: tuple[str, str],
) -> _Context:
    """The context of accounts whose latest snapshot is on `latest_day`: that day in full, and on each earlier
    day a look-back reads, the columns it reads there. An account without a snapshot on the day a look-back
    reads first, where the look-back has other days to choose from, is `irregular`."""
    since = _as_date(latest_day - max(reach.metric_days, reach.score_days) - 1)
    # The book's snapshot days, not only the batch's: a batch lacking one of them reads its accounts in full.
    book_days = distinct_values(reading, METRICS.c.as_of, above=since, below=min(as_of, _as_date(latest_day)))
    days = np.array([_day_number(d) for d in book_days], dtype="int64")
    # Every earlier day within the score look-backs' reach (their stored scores are checked), then each
    # look-back's first day (or every day an average spans), with the columns read there.
    columns: dict[int, set[str]] = {int(d): set() for d in days[days >= latest_day - reach.score_days]}
    first_days = []
    for lookback in reach.lookbacks:
        ordered = lookback.by_nearness(latest_day, days)
        wanted = ordered if lookback.kind == "average" else ordered[:1]
        for d in wanted:
            columns.setdefault(int(d), set()).update(c for c in lookback.columns if c in METRICS.c)
        if lookback.kind == "then" and len(ordered) > 1:
            first_days.append(int(ordered[0]))
    ids = latest["account_id"]
    frames = [_on_days(reading, [_as_date(latest_day)], None, span=span)]
    # The days whose stored scores count, then the others, each in the columns read there.
    for with_scores in (True, False):
        chosen = [_as_date(d) for d in sorted(columns) if (d >= latest_day - reach.score_days) == with_scores]
        if not chosen:
            continue
        names = sorted(set().union(*(columns[_day_number(d)] for d in chosen)))
        frame = _on_days(reading, chosen, names, span=span)
        frames.append(_stored_scores(reading, model, frame, chosen, span=span) if with_scores else frame)
    metrics = pd.concat(frames, ignore_index=True)
    day = _day_numbers(metrics["as_of"])
    irregular = np.zeros(len(ids), dtype=bool)
    for d in first_days:
        irregular |= ~ids.isin(metrics["account_id"][day == d]).to_numpy()
    # Rows of accounts not scored here stay: earlier snapshots of no account scored, read by nothing.
    return _Context(metrics, latest[~irregular], irregular=ids[irregular])


def _on_days(reading: Connection, days: list[date], names: list[str] | None, *, span: tuple[str, str]) -> pd.DataFrame:
    """The metric rows of the accounts of `span` on `days`: account_id, as_of and `names` (None: every column);
    from the days' columnar copies where current, else from the rows."""
    frames, rest = day_copies.read(reading, days, columns=names, span=span)
    if rest:
        read = [METRICS] if names is None else [METRICS.c.account_id, METRICS.c.as_of, *(METRICS.c[n] for n in names)]
        on_days = METRICS.c.account_id.between(*span), METRICS.c.as_of.in_(rest)
        frames.append(read_frame(reading, select(*read).where(*on_days)))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _stored_scores(
    reading: Connection, model: HealthModel, metrics: pd.DataFrame, days: list[date], *, span: tuple[str, str]
) -> pd.DataFrame:
    """`metrics` with the score `model` stored for each row's account and day (`stored_score`, NaN without): from
    the days' score copies, else from the day index of the scores alone."""
    copies = day_copies.stored_scores(reading, days, model.fingerprint, span=span)
    if copies is not None:
        stored = np.full(len(metrics), np.nan)
        ids, on = metrics["account_id"].to_numpy(dtype=object), metrics["as_of"].to_numpy()
        for day, (copied, scores) in copies.items():
            at = np.flatnonzero(on == np.datetime64(day, "s"))
            stored[at] = day_copies.lookup(copied, scores, ids[at])
        return metrics.assign(stored_score=stored)
    scores = read_frame(
        reading,
        select(SCORES.c.account_id, SCORES.c.as_of, SCORES.c.score.label("stored_score")).where(
            SCORES.c.as_of.in_(days),
            SCORES.c.account_id.between(*span),
            SCORES.c.model_hash == model.fingerprint,
        ),
    )
    return metrics.merge(scores, on=["account_id", "as_of"], how="left", sort=False)


def _as_date(day: int) -> date:
    return np.datetime64(day, "D").astype(date)


def _every_snapshot(reading: Connection, model: HealthModel, ids: pd.Series, *, as_of: date) -> _Context:
    """The context of accounts `ids` (read by ID): every snapshot up to `as_of`, with its stored score."""
    chunks = np.array_split(ids.to_numpy(), max(1, -(-len(ids) // ID_CHUNK)))
    batches = [METRICS.c.account_id.in_(list(chunk)) for chunk in chunks]
    everything = _with_stored_scores(model, *METRICS.c)
    frame = pd.concat(
        [read_frame(reading, everything.where(which, METRICS.c.as_of <= as_of)) for which in batches],
        ignore_index=True,
    )
    return _Context(frame, frame.groupby("account_id", as_index=False)["as_of"].max())


def _with_earlier_scores(
    reading: Connection, model: HealthModel, planned: _Context, ids: np.ndarray, *, as_of: date
) -> _Context:
    """`planned` narrowed to accounts `ids`, with the stored score of each of their earlier snapshots: on a row it
    holds, and on a row of its own (metrics NaN) for a day it lacks. Enough for score look-backs over their whole
    history, while look-backs at metrics are unchanged: each reads the day nearest its target, which `planned`
    holds."""
    key = ["account_id", "as_of"]
    metrics = planned.metrics[planned.metrics["account_id"].isin(ids)]
    # The snapshot days come from the primary key's index alone; only the stored score is read from its row.
    earlier = _with_stored_scores(model, METRICS.c.account_id, METRICS.c.as_of).where(METRICS.c.as_of < as_of)
    chunks = np.array_split(ids, max(1, -(-len(ids) // ID_CHUNK)))
    scores = pd.concat(
        [read_frame(reading, earlier.where(METRICS.c.account_id.in_(list(chunk)))) for chunk in chunks],
        ignore_index=True,
    ).rename(columns={"stored_score": "earlier_score"})
    merged = metrics.merge(scores, on=key, how="outer", sort=False)
    held = merged.pop("earlier_score")
    merged["stored_score"] = merged["stored_score"].fillna(held) if "stored_score" in merged else held
    latest = planned.latest[planned.latest["account_id"].isin(ids)]
    return _Context(merged, latest)


def _score_context(
    engine: Engine,
    accounts: pd.DataFrame,
    context: _Context,
    model: HealthModel,
    reach: HistoryReach,
    *,
    as_of: date,
    complete: bool,
) -> tuple[Scored, np.ndarray]:
    """`context`'s latest snapshots scored, and the codes of the accounts among them whose stored past does not
    give their trend and decline streak (see `_without_stored_past`)."""
    metrics = context.metrics.reset_index(drop=True)
    # One pass over the rows' account IDs; after it, each account's latest day and its position among the accounts
    # are looked up once per account (at 100,000 accounts every pass over the ~600,000 rows' text counts).
    codes, ids = pd.factorize(metrics["account_id"])
    latest_day = pd.Series(context.latest.set_index("account_id")["as_of"].reindex(ids).to_numpy()[codes])
    known = metrics.pop("stored_score") if "stored_score" in metrics else pd.Series(np.nan, index=metrics.index)
    known = known.where(metrics["as_of"] < latest_day)  # today's score is worked out, never taken as stored
    metrics = with_pulse(engine, with_logged_touches(engine, metrics, as_of=as_of), as_of=as_of)
    metrics["account_id"] = pd.Categorical.from_codes(codes, categories=ids)
    today = np.flatnonzero((metrics["as_of"] == latest_day).to_numpy())
    scored = score_snapshots(accounts, metrics, model, stored_scores=known, rows=today)
    return scored, _without_stored_past(scored, known, reach.score_days, complete=complete)


def _today_rows(scored: Scored, positions: np.ndarray, as_of: date) -> list[pd.DataFrame]:
    """The storable ones of `positions` as today's rows, with their facts, a chunk a frame."""
    positions = positions[_storable(scored, positions, np.full(len(positions), _day_number(as_of)))]
    return list(_row_chunks(scored, positions, as_of, with_facts=True))


def _without_stored_past(scored: Scored, known: pd.Series, score_days: int, *, complete: bool) -> np.ndarray:
    """Codes of the accounts scored whose score look-backs would read a score the context lacks: an earlier
    snapshot within `score_days` without a stored score, or a decline streak reaching back past the stored scores
    just before today's. The context holds every snapshot within `score_days` of today's, and with `complete`
    every earlier one too (a streak may then reach the first); without, the older ones it holds are not all."""
    t = scored.table
    c = t.context if isinstance(t, SnapshotRows) else t
    today = t.rows if isinstance(t, SnapshotRows) else np.arange(t.n)
    n_accounts = len(c.account_ids)
    stored = ~np.isnan(known.to_numpy(dtype="float64", na_value=np.nan)[c.source_rows])
    latest_day = np.full(n_accounts, np.nan)
    latest_day[t.code] = t.day
    earlier = c.day < latest_day[c.code]
    in_reach = c.day >= latest_day[c.code] - score_days
    lacking = earlier & ~stored
    lacking_in_reach = np.bincount(c.code[lacking & in_reach], minlength=n_accounts)
    if not complete:
        lacking |= ~in_reach  # a gap: the snapshots between them were not read
    # The stored scores running back unbroken from today's snapshot: a decline streak is exact while it stays
    # within them, the snapshot before its first fall included.
    first_row = np.full(n_accounts, c.n)
    np.minimum.at(first_row, c.code, np.arange(c.n))
    last_gap = first_row - 1 - (c.n + 1 if complete else 0)
    np.maximum.at(last_gap, c.code[lacking], np.flatnonzero(lacking))
    unbroken = today - last_gap[t.code] - 1
    streak = scored.frame["declines_in_a_row"].to_numpy()
    return np.unique(t.code[(lacking_in_reach[t.code] > 0) | (streak >= unbroken)])


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
