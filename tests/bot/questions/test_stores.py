"""The list questions' SQL on both stores: SQLite and, when TEST_POSTGRES_URL is set, PostgreSQL (window counts,
correlated look-ups, signals matched in the stored JSON)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.answers import AnswerContext, answer
from bot.intents import parse_question
from bot.sample import load_sample
from bot.scoring_runs import score_and_store
from bot.settings import load_settings
from messages import views
from scoring import load_model

DAY = date(2026, 11, 24)


def test_list_filters_agree_with_the_store_on_either_database(engine: Engine) -> None:
    load_sample(engine, DAY)
    score_and_store(engine, load_model(None), as_of=DAY, history=True)
    with engine.connect() as connection:
        book = pd.read_sql(
            text(
                "select a.account_id, a.csm_owner, a.segment, h.band, h.signals, a.renewal_date "
                "from account a join health_score h on h.account_id = a.account_id and h.as_of = :day "
                "where a.churned_on is null or a.churned_on > :day"
            ),
            connection,
            params={"day": DAY},
        )
    book["signals"] = book["signals"].astype(str)
    book["renewal_date"] = pd.to_datetime(book["renewal_date"]).dt.date
    expected = {
        "how many red accounts does Sarah have?": book[(book.csm_owner == "Sarah Chen") & (book.band == "Red")],
        "red accounts in Enterprise": book[(book.segment == "Enterprise") & (book.band == "Red")],
        "who missed a QBR": book[book.signals.str.contains("missed_qbr")],
        "renewals in the next 90 days": book[(book.renewal_date >= DAY) & (book.renewal_date <= date(2027, 2, 22))],
    }
    ctx = AnswerContext(engine=engine, settings=load_settings(), today=DAY)
    asked = 0
    for question, rows in expected.items():
        table = answer(parse_question(question), ctx=ctx)
        assert isinstance(table, views.AccountTable), question
        assert set(table.account_ids) == set(rows["account_id"]) and table.total == len(rows), question
        assert str(len(rows)) in table.headline
        asked += 1
    assert asked == len(expected)
    nps = answer(parse_question("accounts with NPS under 5 and no touch in 30 days"), ctx=ctx)
    assert isinstance(nps, views.AccountTable) and {"NPS", "Last Touch"} <= set(nps.columns)
