"""The columnar copy of each snapshot day (SQLite): read back, it is the day's rows exactly; scoring from it stores
what scoring from the rows stores; and a day whose rows changed past the importer is read from its rows again."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Engine

from bot.importer import import_files, import_frames
from bot.sample import generate_portfolio
from bot.scoring_runs import SCORES, score_run, scoring_frames
from bot.store import create_db_engine, day_copies, init_db
from bot.store.db import read_frame
from bot.store.tables import DAY_COPIES, METRICS, SCORE_COPIES
from scoring import load_model

MODEL = load_model(None)
TODAY = date(2026, 11, 24)
NEXT = date(2026, 12, 24)

# IDs whose order differs between byte order and other orders people expect (case, digits, accents).
ACCOUNTS_CSV = """account_id,name,csm_owner
ACCT-9,Nine,Sarah Chen
ACCT-10,Ten,Sarah Chen
acct-lower,Lower,Sarah Chen
ACCT-Ž7,Accented,Kenji Tanaka
Zeta,Zeta,Kenji Tanaka
"""
# Values a float32 cannot hold exactly (money with cents, 2^24 + 1), empty cells, yes/no words, dates, plan changes.
METRICS_CSV = (
    "account_id,as_of,active_users,seats_purchased,logins_30d,csat,nps,mrr,training_completion,"
    "exec_sponsor_engaged,plan_change,last_login,last_touch,days_overdue\n"
    """ACCT-9,2026-10-24,13,25,400,3.4,7,4500.37,0.58,yes,,2026-10-20,2026-09-01,0
ACCT-9,2026-11-24,12,25,,3.2,6,4500.37,0.6,no,downgrade,2026-11-20,,12
ACCT-10,2026-11-24,16777217,16777217,3,4.9,10,16777217,1,true,upgrade,,2026-11-01,
acct-lower,2026-11-24,,,,,,,,,,,,
ACCT-Ž7,2026-10-24,1,2,3,1,0,0.1,0,false,none,2025-01-31,2025-02-28,90
ACCT-Ž7,2026-11-24,1,2,3,5,0,99999999.99,0.333,FALSE,,2024-02-29,2026-11-24,0
Zeta,2026-11-24,0,0,0,2.5,5,0,0.5,,,2026-11-23,2026-11-23,1
"""
)


def _write(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return path


def _imported(tmp_path: Path) -> Engine:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'copies.db'}")
    init_db(engine)
    import_files(engine, [_write(tmp_path, "accounts.csv", ACCOUNTS_CSV), _write(tmp_path, "metrics.csv", METRICS_CSV)])
    return engine


def _rows(engine: Engine, day: date, span: tuple[str, str] | None = None) -> pd.DataFrame:
    query = select(METRICS).where(METRICS.c.as_of == day).order_by(METRICS.c.account_id)
    if span is not None:
        query = query.where(METRICS.c.account_id.between(*span))
    with engine.connect() as connection:
        return read_frame(connection, query)


def _copy(engine: Engine, day: date, span: tuple[str, str] | None = None) -> pd.DataFrame | None:
    with engine.connect() as connection:
        frames, missing = day_copies.read(connection, [day], span=span)
    return None if missing else frames[0]


def _assert_copied_exactly(engine: Engine, *days: date) -> None:
    for day in days:
        copy = _copy(engine, day)
        assert copy is not None, f"{day} has no current copy"
        pd.testing.assert_frame_equal(copy, _rows(engine, day))


def test_a_copied_day_reads_back_as_its_rows_exactly(tmp_path: Path) -> None:
    engine = _imported(tmp_path)
    with engine.connect() as connection:
        assert connection.execute(select(func.count(DAY_COPIES.c.as_of.distinct()))).scalar_one() == 2
        both, _ = day_copies.read(connection, [date(2026, 10, 24), date(2026, 11, 24)], by_account=True)
    _assert_copied_exactly(engine, date(2026, 10, 24), date(2026, 11, 24))
    # Both days at once, by account and then day, as a history is read.
    with engine.connect() as connection:
        history = read_frame(connection, select(METRICS).order_by(METRICS.c.account_id, METRICS.c.as_of))
    pd.testing.assert_frame_equal(both[0], history)
    # The accounts of a span are those SQLite finds between the two IDs (it compares UTF-8 bytes).
    for span in (("ACCT-10", "ACCT-9"), ("ACCT-9", "acct-lower"), ("A", "ACCT-Ž8"), ("Zeta", "Zeta"), ("b", "c")):
        copy = _copy(engine, date(2026, 11, 24), span)
        assert copy is not None
        pd.testing.assert_frame_equal(copy, _rows(engine, date(2026, 11, 24), span))
    november = _copy(engine, date(2026, 11, 24))
    assert november is not None
    assert november["active_users"].tolist()[:2] == [16777217.0, 12.0]  # held exactly, not rounded to a float32


def test_a_day_that_held_rows_is_copied_again_from_what_the_store_holds_after_the_import(tmp_path: Path) -> None:
    engine = _imported(tmp_path)
    # A second file for a day already stored: one row changes, one is new, and a column the file lacks is kept.
    again = "account_id,as_of,nps\nACCT-9,2026-11-24,2\nZeta,2026-10-24,9\n"
    import_files(engine, [_write(tmp_path, "nps.csv", again)])
    _assert_copied_exactly(engine, date(2026, 10, 24), date(2026, 11, 24))
    november = _rows(engine, date(2026, 11, 24)).set_index("account_id")
    assert (november.loc["ACCT-9", "nps"], november.loc["ACCT-9", "active_users"]) == (2.0, 12.0)


def test_a_new_day_from_files_of_different_columns_is_copied_as_the_store_holds_it(tmp_path: Path) -> None:
    engine = _imported(tmp_path)
    usage = "account_id,as_of,active_users,last_login\nACCT-9,2026-12-24,11,2026-12-20\nZeta,2026-12-24,4,\n"
    support = "account_id,as_of,tickets_30d,plan_change\nACCT-9,2026-12-24,2,upgrade\nACCT-10,2026-12-24,0,\n"
    nps_only = "account_id,as_of,nps\nACCT-Ž7,2027-01-24,8\n"
    import_files(
        engine,
        [_write(tmp_path, "usage.csv", usage), _write(tmp_path, "support.csv", support)],
    )
    import_files(engine, [_write(tmp_path, "nps.csv", nps_only)])
    _assert_copied_exactly(engine, date(2026, 12, 24), date(2027, 1, 24))
    december = _rows(engine, date(2026, 12, 24)).set_index("account_id")
    assert december.loc["ACCT-9", ["active_users", "tickets_30d"]].tolist() == [11.0, 2.0]
    assert pd.isna(december.loc["ACCT-10", "active_users"]) and pd.isna(december.loc["Zeta", "plan_change"])


def test_a_store_made_before_copies_gets_one_for_every_day_at_its_next_import(tmp_path: Path) -> None:
    engine = _imported(tmp_path)
    with engine.begin() as connection:
        connection.execute(delete(DAY_COPIES))  # as an earlier version left it
    assert _copy(engine, date(2026, 10, 24)) is None
    import_files(engine, [_write(tmp_path, "december.csv", "account_id,as_of,nps\nZeta,2026-12-24,9\n")])
    _assert_copied_exactly(engine, date(2026, 10, 24), date(2026, 11, 24), date(2026, 12, 24))


def test_rows_changed_past_the_importer_are_read_from_the_store_not_from_an_old_copy(tmp_path: Path) -> None:
    engine = _imported(tmp_path)
    day = date(2026, 11, 24)
    with engine.begin() as connection:
        connection.execute(update(METRICS).where(METRICS.c.account_id == "Zeta").values(nps=1))
    assert _copy(engine, day) is None  # the trigger dropped it
    assert _copy(engine, date(2026, 10, 24)) is not None  # other days keep theirs

    import_files(engine, [_write(tmp_path, "metrics.csv", METRICS_CSV)])  # copied again (and Zeta's NPS put back)
    with engine.begin() as connection:
        connection.execute(
            insert(METRICS).values(account_id="ACCT-10", as_of=date(2026, 10, 24), nps=3)  # a row added in SQL
        )
    assert _copy(engine, date(2026, 10, 24)) is None  # the day holds more rows than its copy
    assert _copy(engine, date(2026, 10, 24), ("ACCT-9", "ACCT-9")) is not None  # its other accounts are unchanged
    _, metrics = scoring_frames(engine, as_of=day)
    added = metrics[(metrics["account_id"] == "ACCT-10") & (metrics["as_of"] == pd.Timestamp(2026, 10, 24))]
    assert added["nps"].tolist() == [3.0]

    with engine.begin() as connection:
        connection.execute(delete(METRICS).where(METRICS.c.account_id == "ACCT-Ž7", METRICS.c.as_of == day))
    assert _copy(engine, day) is None
    _, metrics = scoring_frames(engine, as_of=day)
    assert len(metrics[metrics["account_id"] == "ACCT-Ž7"]) == 1

    import_files(engine, [_write(tmp_path, "metrics.csv", METRICS_CSV)])  # both days copied again
    with engine.begin() as connection:
        connection.execute(delete(METRICS).where(METRICS.c.account_id == "Zeta"))  # November's copy dropped
        connection.execute(insert(METRICS).values(account_id="Zeta", as_of=date(2026, 9, 24), nps=4))  # no copy
    _, metrics = scoring_frames(engine, as_of=day)
    # October from its copy, September and November from their rows: the history the rows alone give, in order.
    with engine.begin() as connection:
        assert connection.execute(select(func.count(DAY_COPIES.c.as_of.distinct()))).scalar_one() == 1
        connection.execute(delete(DAY_COPIES))
    pd.testing.assert_frame_equal(metrics, scoring_frames(engine, as_of=day)[1])
    assert metrics["account_id"].is_monotonic_increasing and len(metrics) == 8


def _book(url: str) -> Engine:
    engine = create_db_engine(url)
    init_db(engine)
    accounts, metrics = generate_portfolio(400, TODAY, seed=5)
    _, later = generate_portfolio(400, NEXT, seed=5)
    import_frames(engine, accounts=accounts, metrics=metrics, source="book")
    import_frames(engine, metrics=later[later["as_of"] == later["as_of"].max()], source="next month")
    return engine


def _scores(engine: Engine) -> pd.DataFrame:
    with engine.connect() as connection:
        rows = pd.read_sql(select(SCORES).order_by(SCORES.c.as_of, SCORES.c.account_id), connection)
    return rows.drop(columns=["computed_at"])


def test_scores_from_the_copies_are_the_scores_from_the_rows(tmp_path: Path) -> None:
    with_copies = _book(f"sqlite:///{tmp_path / 'with.db'}")
    without = _book(f"sqlite:///{tmp_path / 'without.db'}")
    with without.begin() as connection:
        assert connection.execute(select(func.count(DAY_COPIES.c.as_of.distinct()))).scalar_one() == 14
        connection.execute(delete(DAY_COPIES))
    for engine in (with_copies, without):
        score_run(engine, MODEL, as_of=TODAY, history=True)
    with with_copies.connect() as connection:  # each day scored has a copy of its scores
        assert connection.execute(select(func.count()).select_from(SCORE_COPIES)).scalar_one() == 13
    with without.begin() as connection:
        connection.execute(delete(SCORE_COPIES))
    for engine in (with_copies, without):
        score_run(engine, MODEL, as_of=NEXT, day_batch_accounts=150)
    history, daily = _scores(with_copies), _scores(without)
    assert len(history) > 4000 and (history["as_of"] == NEXT).sum() > 300
    pd.testing.assert_frame_equal(history, daily)


def test_scores_changed_past_the_scoring_run_are_read_from_their_rows(tmp_path: Path) -> None:
    engine = _book(f"sqlite:///{tmp_path / 'book.db'}")
    score_run(engine, MODEL, as_of=TODAY, history=True)
    october, span = date(2026, 10, 24), ("ACCT-000000", "ACCT-999999")
    with engine.connect() as connection:
        copied = day_copies.stored_scores(connection, [october, TODAY], MODEL.fingerprint, span=span)
        first, second = connection.execute(
            select(SCORES.c.account_id).where(SCORES.c.as_of == TODAY).order_by(SCORES.c.account_id).limit(2)
        ).scalars()
    assert copied is not None and len(copied[TODAY][0]) > 300
    with engine.begin() as connection:
        connection.execute(update(SCORES).where(SCORES.c.as_of == TODAY, SCORES.c.account_id == first).values(score=1))
    with engine.connect() as connection:
        assert day_copies.stored_scores(connection, [TODAY], MODEL.fingerprint, span=span) is None
        assert day_copies.stored_scores(connection, [october], MODEL.fingerprint, span=span) is not None
    with engine.begin() as connection:  # a row deleted: the day's copy goes with it
        connection.execute(delete(SCORES).where(SCORES.c.as_of == october, SCORES.c.account_id == second))
    with engine.connect() as connection:
        assert day_copies.stored_scores(connection, [october], MODEL.fingerprint, span=span) is None
    # The next day's run takes the changed score as stored, not the copy's: a month before, the account scored 1.
    score_run(engine, MODEL, as_of=NEXT)
    with engine.connect() as connection:
        trend = connection.execute(
            select(SCORES.c.last_month_score).where(SCORES.c.as_of == NEXT, SCORES.c.account_id == first)
        ).scalar_one()
    assert trend == 1


def test_sqlite_keeps_a_copy_of_each_day_and_postgresql_none(engine: Engine, tmp_path: Path) -> None:
    import_files(engine, [_write(tmp_path, "accounts.csv", ACCOUNTS_CSV), _write(tmp_path, "metrics.csv", METRICS_CSV)])
    with engine.connect() as connection:
        copies = connection.execute(select(func.count(DAY_COPIES.c.as_of.distinct()))).scalar_one()
        assert connection.execute(text("SELECT count(*) FROM metric_snapshot")).scalar_one() == 7
    assert copies == (2 if engine.dialect.name == "sqlite" else 0)
