"""Filters added after the suite was written (exclusions, score and ARR ranges), checked against the store's tables
like the suite: a scope left out is left out, never listed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.store import create_db_engine
from messages import views
from tests.bot.questions.judge import ask, scored_day


@pytest.fixture(scope="module")
def demo_engine(demo_db: str) -> Iterator[Engine]:
    engine = create_db_engine(demo_db)
    yield engine
    engine.dispose()


def ids_where(engine: Engine, condition: str) -> set[str]:
    con = sqlite3.connect(str(engine.url.database))
    day = scored_day(con)
    rows = con.execute(
        "select a.account_id from account a join health_score h on h.account_id = a.account_id and h.as_of = ? "
        f"where (a.churned_on is null or a.churned_on > ?) and ({condition})",
        (day, day),
    ).fetchall()
    con.close()
    return {r[0] for r in rows}


@pytest.mark.parametrize(
    ("question", "condition"),
    [
        ("red accounts not in SMB", "h.band = 'Red' and a.segment != 'SMB'"),
        ("red accounts excluding enterprise", "h.band = 'Red' and a.segment != 'Enterprise'"),
        ("non-enterprise red accounts", "h.band = 'Red' and a.segment != 'Enterprise'"),
        ("all accounts except Sarah's", "a.csm_owner != 'Sarah Chen'"),
        ("accounts scoring under 50", "h.score <= 50"),
        ("accounts with a health score above 85", "h.score >= 85"),
        ("accounts with score between 60 and 70", "h.score between 60 and 70"),
        ("accounts with ARR over 100k", "a.arr >= 100000"),
        ("accounts over $50k ARR that are red", "a.arr >= 50000 and h.band = 'Red'"),
        ("Sarah's red accounts in SMB", "a.csm_owner = 'Sarah Chen' and h.band = 'Red' and a.segment = 'SMB'"),
    ],
)
def test_exclusions_and_ranges(demo_engine: Engine, question: str, condition: str) -> None:
    table = ask(demo_engine, question)
    expected = ids_where(demo_engine, condition)
    assert isinstance(table, views.AccountTable), question
    assert set(table.account_ids) == expected and table.total == len(expected)
    assert str(len(expected)) in table.headline
