"""The list questions' SQL on both stores: SQLite and, when TEST_POSTGRES_URL is set, PostgreSQL (window counts,
correlated look-ups, signals matched in the stored JSON)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.answers import AnswerContext, answer
from bot.intents import parse_question
from bot.sample import load_sample
from bot.scoring_runs import score_and_store
from bot.settings import load_settings
from bot.store import HealthAlert, write_session
from messages import format as fmt
from messages import views
from scoring import load_model

DAY = date(2026, 11, 24)


def test_list_filters_agree_with_the_store_on_either_database(engine: Engine) -> None:
    load_sample(engine, DAY)
    score_and_store(engine, load_model(None), as_of=DAY, history=True)
    with engine.connect() as connection:
        book = pd.read_sql(
            text(
                "select a.account_id, a.csm_owner, a.segment, h.band, h.signals, a.renewal_date, a.arr "
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
        # The ARR the headline carries is every match's, as the store adds it up.
        assert f"{fmt.money(float(pd.to_numeric(rows['arr']).sum()))} ARR" in table.headline, table.headline
        asked += 1
    assert asked == len(expected)
    nps = answer(parse_question("accounts with NPS under 5 and no touch in 30 days"), ctx=ctx)
    assert isinstance(nps, views.AccountTable) and {"NPS", "Last Touch"} <= set(nps.columns)
    # A threshold on a ratio of two integer columns: a share, not integer division, on either database.
    with engine.connect() as connection:
        latest = pd.read_sql(
            text(
                "select m.account_id, m.active_users, m.seats_purchased from metric_snapshot m "
                "where m.as_of = (select max(n.as_of) from metric_snapshot n "
                "where n.account_id = m.account_id and n.as_of <= :day)"
            ),
            connection,
            params={"day": DAY},
        )
    latest = latest[latest.account_id.isin(book.account_id) & (latest.seats_purchased > 0)]
    under_half = latest[latest.active_users / latest.seats_purchased < 0.5]
    seats = answer(parse_question("accounts with seat utilisation below 50%"), ctx=ctx)
    assert isinstance(seats, views.AccountTable) and "Seat utilisation" in seats.columns
    assert set(seats.account_ids) == set(under_half.account_id) and seats.total == len(under_half) > 0
    # A yes/no flag compared on either database (PostgreSQL will not compare a boolean with a number).
    with engine.connect() as connection:
        flags = pd.read_sql(
            text(
                "select m.account_id, m.exec_sponsor_engaged from metric_snapshot m "
                "where m.as_of = (select max(n.as_of) from metric_snapshot n "
                "where n.account_id = m.account_id and n.as_of <= :day)"
            ),
            connection,
            params={"day": DAY},
        )
    unengaged = flags[flags.account_id.isin(book.account_id) & (flags.exec_sponsor_engaged == False)]  # noqa: E712
    sponsor = answer(parse_question("accounts with no exec sponsor"), ctx=ctx)
    assert isinstance(sponsor, views.AccountTable)
    assert set(sponsor.account_ids) == set(unengaged.account_id) and sponsor.total == len(unengaged) > 0
    # A plan change on the latest snapshot: two accounts upgrade (an import would say so the same way).
    upgraded = sorted(book.account_id)[:2]
    with engine.begin() as connection:
        for account_id in upgraded:
            connection.execute(
                text(
                    "update metric_snapshot set plan_change = 'upgrade' where account_id = :id and as_of = "
                    "(select max(n.as_of) from metric_snapshot n where n.account_id = :id and n.as_of <= :day)"
                ),
                {"id": account_id, "day": DAY},
            )
    upgrades = answer(parse_question("which accounts upgraded"), ctx=ctx)
    assert isinstance(upgrades, views.AccountTable)
    assert sorted(upgrades.account_ids) == upgraded and upgrades.total == 2
    # Accounts with an alert still open, and with one nobody has acknowledged.
    first, second, third = sorted(book.account_id)[2:5]
    now = datetime.now(UTC)
    with write_session(engine) as session:
        for account_id, acked, resolved in ((first, False, False), (second, True, False), (third, True, True)):
            session.add(
                HealthAlert(
                    account_id=account_id,
                    condition="turned_red",
                    severity="High",
                    opened_on=DAY,
                    acknowledged_by="U0SARAH001" if acked else None,
                    acknowledged_at=now if acked else None,
                    resolved_by="U0SARAH001" if resolved else None,
                    resolved_at=now if resolved else None,
                    status="resolved" if resolved else ("acknowledged" if acked else "open"),
                )
            )
    open_alerts = answer(parse_question("which accounts have open alerts"), ctx=ctx)
    assert isinstance(open_alerts, views.AccountTable) and sorted(open_alerts.account_ids) == sorted([first, second])
    unacked = answer(parse_question("any unacknowledged alerts?"), ctx=ctx)
    assert isinstance(unacked, views.AccountTable) and unacked.account_ids == [first]
    # Renewal dates behind us, and none on file.
    lapsed, undated = sorted(book.account_id)[5:7], sorted(book.account_id)[7]
    with engine.begin() as connection:
        connection.execute(
            text("update account set renewal_date = :day where account_id in (:a, :b)"),
            {"day": date(2026, 11, 1), "a": lapsed[0], "b": lapsed[1]},
        )
        connection.execute(text("update account set renewal_date = null where account_id = :a"), {"a": undated})
    already = {a for a, r in zip(book.account_id, book.renewal_date, strict=True) if pd.notna(r) and r < DAY}
    passed = answer(parse_question("accounts past their renewal date"), ctx=ctx)
    assert isinstance(passed, views.AccountTable) and set(passed.account_ids) == already | set(lapsed)
    missing = {a for a, r in zip(book.account_id, book.renewal_date, strict=True) if pd.isna(r)}
    none = answer(parse_question("accounts without a renewal date"), ctx=ctx)
    assert isinstance(none, views.AccountTable) and set(none.account_ids) == missing | {undated}
    # A move over a quarter, from the score a quarter ago, on either database.
    quarter = answer(parse_question("which accounts dropped the most this quarter"), ctx=ctx)
    assert isinstance(quarter, views.AccountTable) and "Trend vs Last Quarter" in quarter.columns
    assert "since last quarter" in quarter.headline and quarter.total > 0


def test_a_long_list_shows_the_first_page_in_order_and_counts_every_match(engine: Engine) -> None:
    """More accounts match than one Slack table holds: the 99 shown are the first 99 in the order asked, and the
    headline counts them all (the page and the count are found in one pass; the join order differs by filter)."""
    from bot.importer import import_frames
    from bot.sample import generate_portfolio

    book, metrics = generate_portfolio(400, DAY)
    import_frames(engine, accounts=book, metrics=metrics)
    score_and_store(engine, load_model(None), as_of=DAY)
    with engine.connect() as connection:
        scored = pd.read_sql(
            text(
                "select a.name, a.segment, a.renewal_date, h.score from account a "
                "join health_score h on h.account_id = a.account_id and h.as_of = :day "
                "where a.churned_on is null or a.churned_on > :day"
            ),
            connection,
            params={"day": DAY},
        )
    scored["renewal_date"] = pd.to_datetime(scored["renewal_date"]).dt.date
    segment = scored["segment"].value_counts().index[0]
    renewing = scored[(scored.renewal_date >= DAY) & (scored.renewal_date <= date(2027, 11, 24))]
    expected = {
        f"list accounts in {segment}": scored[scored.segment == segment].sort_values(["score", "name"]),
        "renewals in the next 365 days": renewing.sort_values(["renewal_date", "name"]),
        "accounts with a score under 100": scored[scored.score < 100].sort_values(["score", "name"]),
    }
    ctx = AnswerContext(engine=engine, settings=load_settings(), today=DAY)
    for question, rows in expected.items():
        assert len(rows) > 99, question
        table = answer(parse_question(question), ctx=ctx)
        assert isinstance(table, views.AccountTable), question
        shown = [row[table.columns.index("Account Name")] for row in table.rows]
        assert shown == list(rows["name"].head(99)), question
        assert table.total == len(rows) and f"all {len(rows)} are in the attached file" in " ".join(table.left_out)
