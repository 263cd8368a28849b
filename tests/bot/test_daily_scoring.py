"""`healthbot score` on a day when only that day's metrics are new scores that day alone, from the stored past,
and stores exactly what scoring the whole history would have stored for it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.activity import log_touch
from bot.cli import app
from bot.importer import import_frames
from bot.permissions import Person
from bot.pulse import set_pulse
from bot.sample import generate_portfolio
from bot.scoring_runs import SCORES, ScoringRun, score_run
from bot.settings import Settings
from scoring import HealthModel, load_model, parse_model

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
    # Decline streaks running back past the earlier days read are completed from the stored scores alone.
    assert results(after, NEXT)["signals"].str.contains("Score fell [3-9] periods in a row").any()


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
    # The band counts printed are those the store holds for the day.
    with book.connect() as connection:
        held = connection.execute(
            select(SCORES.c.band, func.count()).where(SCORES.c.as_of == NEXT).group_by(SCORES.c.band)
        ).all()
    assert len(held) >= 2
    assert " · ".join(f"{dict(held).get(b.name, 0)} {b.name}" for b in MODEL.bands) in daily.output


# The default model, with the CSM's pulse and its change in the engagement dimension, a signal on the pulse's fall,
# and one on the score's own quarter (a score-history look-back beside the trend).
PULSE_MODEL = """
extends = "default"
[dimensions.engagement]
metrics = [
    { measure = "exec_sponsor_engaged", bad = 0, good = 1 },
    { measure = "csm_touches_90d", bad = 0, good = 6 },
    { measure = "days_since_touch", good = 14, bad = 60 },
    { measure = "csm_pulse", bad = 1, good = 6 },
    { measure = "csm_pulse_delta_30d", bad = -2, good = 0 },
]
[signals.pulse_fell]
title = "CSM pulse fell"
severity = "Medium"
when = [["csm_pulse_delta_30d", "<", 0]]
[signals.score_slide]
title = "Score slid over the quarter"
severity = "Low"
when = [["score_change_90d", "<=", -0.05]]
"""
ADMIN = Person("U0ADMIN001")


@pytest.fixture
def lived_in(book: Engine) -> Engine:
    """The book with what CSMs did in Slack: pulses (changing between snapshots) and logged customer touches."""
    settings = Settings(healthbot_admins=ADMIN.user_id)
    accounts = sorted(generate_portfolio(ACCOUNTS, TODAY, seed=11)[0]["account_id"])[:90]
    for i, account_id in enumerate(accounts):
        earlier = datetime(2026, 10, 1 + i % 28, 9, tzinfo=UTC)
        set_pulse(book, account_id=account_id, level=1 + i % 6, person=ADMIN, settings=settings, at=earlier, days=120)
        if i % 2:
            later = datetime(2026, 12, 1 + i % 20, 9, tzinfo=UTC)
            set_pulse(book, account_id=account_id, level=1 + i % 4, person=ADMIN, settings=settings, at=later, days=60)
        for days_before in range(i % 4):
            happened = NEXT - timedelta(days=5 + 20 * days_before + i % 7)
            at = datetime.combine(happened, datetime.min.time(), tzinfo=UTC)
            log_touch(
                book, account_id=account_id, person=ADMIN, kind="call", happened_on=happened, at=at, settings=settings
            )
    return book


@pytest.mark.parametrize("day", [NEXT, NEXT + timedelta(days=3)])
def test_the_daily_run_stores_what_score_history_stores_with_pulses_touches_and_look_backs(
    lived_in: Engine, day: date
) -> None:
    model: HealthModel = parse_model(PULSE_MODEL)
    score_run(lived_in, model, as_of=TODAY, history=True)
    daily = score_run(lived_in, model, as_of=day)
    assert daily.from_stored and daily.days == 1 and daily.accounts > ACCOUNTS / 2
    # A few snapshots an account read (of 14), and hardly any account scored from its whole history.
    assert daily.snapshots_read < 7 * ACCOUNTS and daily.whole_history_accounts < ACCOUNTS / 10
    assert f"Only {day.isoformat()} was scored" in daily.summary()
    from_the_stored_past = results(stored(lived_in), day)

    whole = score_run(lived_in, model, as_of=day, history=True)
    assert whole.accounts == daily.accounts
    pd.testing.assert_frame_equal(from_the_stored_past, results(stored(lived_in), day))
    signals = from_the_stored_past["signals"]
    # The book does exercise what is compared: the pulse's change, the score's own look-back, facts.
    assert signals.str.contains("pulse_fell").sum() > 5
    assert signals.str.contains("score_slide").sum() > 5
    assert signals.str.contains("gradual_decline").sum() > 0
    assert from_the_stored_past["last_quarter_score"].notna().sum() > ACCOUNTS / 2


def _scored_alone(book: Engine) -> tuple[ScoringRun, pd.DataFrame]:
    """Every day scored, then NEXT by this process alone: that run, and its rows."""
    score_run(book, MODEL, as_of=TODAY, history=True)
    alone = score_run(book, MODEL, as_of=NEXT)
    return alone, results(stored(book), NEXT)


def test_a_helper_process_scores_half_the_book_and_the_rows_are_the_same(book: Engine) -> None:
    alone, by_one = _scored_alone(book)

    helped = score_run(book, MODEL, as_of=NEXT, workers=2, parallel_from=2)
    assert helped == alone  # the same accounts, snapshots read and accounts scored from their whole history
    pd.testing.assert_frame_equal(by_one, results(stored(book), NEXT))


def test_when_the_helper_dies_its_accounts_are_scored_here_and_nothing_is_lost(
    book: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import os

    import bot.scoring_runs as runs

    alone, by_one = _scored_alone(book)
    parent = os.getpid()
    day_rows = runs._day_rows

    def killed_in_the_helper(*args: object, **kwargs: object) -> object:
        if os.getpid() != parent:
            os._exit(9)  # as if the kernel had killed it for memory
        return day_rows(*args, **kwargs)

    # Not a stand-in for our code: the helper is made to die the way a process dies, mid-run.
    monkeypatch.setattr(runs, "_day_rows", killed_in_the_helper)
    helped = score_run(book, MODEL, as_of=NEXT, workers=2, parallel_from=2)
    assert helped == alone
    pd.testing.assert_frame_equal(by_one, results(stored(book), NEXT))
    assert "the helper process ended (exit code 9)" in caplog.text


def test_a_batch_the_helper_fails_on_is_scored_here_after_the_one_it_handed_over(
    book: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import os

    import bot.scoring_runs as runs

    alone, by_one = _scored_alone(book)
    parent, calls = os.getpid(), []
    day_rows = runs._day_rows

    def fails_on_its_second_batch(*args: object, **kwargs: object) -> object:
        if os.getpid() != parent:
            calls.append(1)  # counted in the helper's own memory
            if len(calls) == 2:
                raise OSError("disk I/O error")
        return day_rows(*args, **kwargs)

    monkeypatch.setattr(runs, "_day_rows", fails_on_its_second_batch)
    monkeypatch.setattr(runs, "MIN_HELPER_BATCH", 1)  # the helper's share in two batches, as in a big book
    helped = score_run(book, MODEL, as_of=NEXT, workers=2, parallel_from=2)
    assert helped == alone
    pd.testing.assert_frame_equal(by_one, results(stored(book), NEXT))
    assert caplog.text.count("the helper having failed") == 1 and "disk I/O error" in caplog.text


def test_a_helper_scores_most_of_a_history_run_and_the_rows_are_the_same(
    book: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import os

    import bot.scoring_runs as runs

    alone = score_run(book, MODEL, as_of=NEXT, history=True)
    by_one = stored(book).drop(columns=["computed_at"])
    helped = score_run(book, MODEL, as_of=NEXT, history=True, workers=2, parallel_from=2)
    assert helped == alone and helped.days == 14
    pd.testing.assert_frame_equal(by_one, stored(book).drop(columns=["computed_at"]))

    # A helper that dies mid-run: its accounts are scored here, every day of them.
    parent, score_history = os.getpid(), runs.score_history

    def killed_in_the_helper(*args: object, **kwargs: object) -> object:
        if os.getpid() != parent:
            os._exit(9)
        return score_history(*args, **kwargs)

    monkeypatch.setattr(runs, "score_history", killed_in_the_helper)
    assert score_run(book, MODEL, as_of=NEXT, history=True, workers=2, parallel_from=2) == alone
    pd.testing.assert_frame_equal(by_one, stored(book).drop(columns=["computed_at"]))
    assert "the helper process ended (exit code 9)" in caplog.text
