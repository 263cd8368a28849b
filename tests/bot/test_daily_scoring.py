"""`healthbot score` on a day when only that day's metrics are new scores that day alone, from the stored past,
and stores exactly what scoring the whole history would have stored for it."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.cli import app
from bot.importer import import_frames
from bot.sample import generate_portfolio
from bot.scoring_runs import SCORES, score_run
from scoring import load_model

MODEL = load_model(None)
TODAY = date(2026, 11, 24)
NEXT = date(2026, 12, 24)
ACCOUNTS = 300


@pytest.fixture
def book(engine: Engine) -> Engine:
    """A generated book with 13 monthly snapshots up to TODAY, and next month's snapshot imported on top."""
    accounts, metrics = generate_portfolio(ACCOUNTS, TODAY, seed=11)
    _, later = generate_portfolio(ACCOUNTS, NEXT, seed=11)
    import_frames(engine, accounts=accounts, metrics=metrics, source="book")
    import_frames(engine, metrics=later[later["as_of"] == later["as_of"].max()], source="next month")
    return engine


def stored(engine: Engine) -> pd.DataFrame:
    with engine.connect() as connection:
        rows = pd.read_sql(select(SCORES), connection)
    return rows.sort_values(["as_of", "account_id"], ignore_index=True)


def results(rows: pd.DataFrame, day: date) -> pd.DataFrame:
    """One day's stored results, as comparable values (not when they were computed)."""
    day_rows = rows[pd.to_datetime(rows["as_of"]) == pd.Timestamp(day)].drop(columns=["computed_at"])
    return day_rows.astype(str).where(day_rows.notna(), None).reset_index(drop=True)


def test_the_daily_run_scores_the_new_day_alone_and_stores_what_the_whole_history_gives(book: Engine) -> None:
    score_run(book, MODEL, as_of=TODAY, history=True)
    before = stored(book)

    run = score_run(book, MODEL, as_of=NEXT, day_batch_accounts=ACCOUNTS // 3)  # in batches, as big books are
    after = stored(book)
    assert run.from_stored and run.days == 1
    assert 0 < run.accounts == len(results(after, NEXT))
    assert run.whole_history_accounts < run.accounts / 5  # most accounts scored from their stored past
    # Every earlier day is left as it was, down to when it was computed.
    earlier = after[pd.to_datetime(after["as_of"]) < pd.Timestamp(NEXT)].reset_index(drop=True)
    pd.testing.assert_frame_equal(earlier, before)

    whole = score_run(book, MODEL, as_of=NEXT, history=True)
    assert not whole.from_stored and whole.days == 14
    pd.testing.assert_frame_equal(results(after, NEXT), results(stored(book), NEXT))
    assert results(after, NEXT)["signals"].str.contains("facts").sum() > run.accounts / 2


def test_without_a_stored_past_every_account_is_scored_from_its_whole_history(book: Engine) -> None:
    score_run(book, MODEL, as_of=TODAY)  # today only: no earlier day is stored
    run = score_run(book, MODEL, as_of=NEXT)
    # All but the accounts whose only earlier snapshot is the day stored (new this month) read their whole history.
    assert run.from_stored and run.accounts * 0.9 < run.whole_history_accounts < run.accounts
    daily = results(stored(book), NEXT)
    score_run(book, MODEL, as_of=NEXT, history=True)
    pd.testing.assert_frame_equal(daily, results(stored(book), NEXT))


def test_healthbot_score_says_it_scored_the_day_alone(book: Engine) -> None:
    url = book.url.render_as_string(hide_password=False)
    runner = CliRunner()
    first = runner.invoke(app, ["score", "--history", "--as-of", TODAY.isoformat(), "--db", url])
    assert first.exit_code == 0, first.output
    assert "Every snapshot scored (13 days" in first.output
    daily = runner.invoke(app, ["score", "--as-of", NEXT.isoformat(), "--db", url])
    assert daily.exit_code == 0, daily.output
    assert f"Only {NEXT.isoformat()} was scored; earlier days' stored scores were kept" in daily.output
