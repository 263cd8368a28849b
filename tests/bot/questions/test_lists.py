"""A list's rows are the report table's rows: the cells shown equal `healthbot export`'s for the same accounts, and
the file that follows a long list holds every row the headline counts."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.answers import AnswerContext, list_file
from bot.insights import report_table
from bot.scoring_runs import load_health_model
from bot.settings import load_settings
from bot.store import create_db_engine
from messages import views
from messages.blockkit import render_message
from tests.bot.questions.judge import TODAY, ask, expected_rows

QUESTIONS = [
    "Sarah's red accounts",
    "renewals in the next 90 days",
    "accounts with no touch in 30 days",
    "top 5 accounts by ARR",
    "which accounts are expansion ready?",
    "detractors in mid-market",
]


@pytest.fixture(scope="module")
def demo_engine(demo_db: str) -> Iterator[Engine]:
    engine = create_db_engine(demo_db)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_cells_shown_are_the_reports(demo_engine: Engine, question: str) -> None:
    table = ask(demo_engine, question)
    assert isinstance(table, views.AccountTable) and table.rows
    report = report_table(demo_engine, load_health_model(load_settings()), as_of=table.as_of).set_index("Account ID")
    checked = 0
    for account_id, row in zip(table.account_ids, table.rows, strict=True):
        shown = dict(zip(table.columns, row, strict=True))
        expected = report.loc[account_id]
        assert shown["Account Name"] == expected["Account Name"]
        assert shown["Health Score"] == str(expected["Health Score"])
        assert shown["Status"] == expected["Status"]
        assert float(shown["Trend vs Last Month"] or "nan") == pytest.approx(
            expected["Trend vs Last Month"], nan_ok=True
        )
        if "Upsell Opportunity" in shown:
            assert shown["Upsell Opportunity"] == expected["Upsell Opportunity"]
        checked += 1
    assert checked == len(table.rows)
    message = render_message(table)
    [block] = [b for b in message["blocks"] if b["type"] == "table"]
    assert len(block["rows"]) == len(table.rows) + 1  # the header, then one row an account


def test_the_file_after_a_list_holds_every_row_counted(demo_engine: Engine) -> None:
    ctx = AnswerContext(engine=demo_engine, settings=load_settings(), today=TODAY)
    rows = list(csv.DictReader(io.StringIO(list_file("Sarah Chen's accounts", ctx=ctx).decode("utf-8"))))
    expected = expected_rows(demo_engine, {"csm": "Sarah Chen"})
    assert len(rows) == len(expected) > 0
    assert {r["Account ID"] for r in rows} == set(expected)
    assert list(rows[0])[:4] == ["Account ID", "Account Name", "CSM Owner", "Health Score"]


@pytest.mark.parametrize(
    ("question", "filters", "plan_view"),
    [
        ("recovery plan for our worst account", {"sort": "score", "limit": 1}, views.RecoveryPlan),
        ("QBR prep for our largest customer", {"sort": "arr", "limit": 1}, views.QbrPrep),
        (
            "success plan for Diego's riskiest account",
            {"csm": "Diego Ramirez", "sort": "score", "limit": 1},
            views.SuccessPlan,
        ),
    ],
)
def test_a_plan_for_the_worst_or_largest_account_is_for_the_one_the_list_puts_first(
    demo_engine: Engine, question: str, filters: dict[str, object], plan_view: type
) -> None:
    [first] = expected_rows(demo_engine, filters)  # from the store's own SQL
    got = ask(demo_engine, question)
    assert isinstance(got, plan_view), got
    assert got.card.account_id == first  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("question", "asker", "recipient"),
    [
        ("show me the digest", None, "Team"),
        ("what's in today's morning briefing", None, "Team"),
        ("Sarah's digest", None, "Sarah Chen"),
        ("my digest", "U0SARAH001", "Sarah Chen"),
    ],
)
def test_the_digest_asked_for_is_the_one_sent(
    demo_engine: Engine, question: str, asker: str | None, recipient: str
) -> None:
    from bot.insights import digest, scored_day

    got = ask(demo_engine, question, asker)
    assert isinstance(got, views.Digest), got
    assert got.recipient == recipient
    model = load_health_model(load_settings())
    sent = digest(
        demo_engine, model, day=scored_day(demo_engine, TODAY), csm=None if recipient == "Team" else recipient
    )
    assert got == sent


def test_what_triggers_an_alert_is_answered_with_the_alert_rules_in_force(demo_engine: Engine) -> None:
    from scoring import alert_rules

    got = ask(demo_engine, "what triggers an alert")
    assert isinstance(got, views.ModelExplainer)
    assert f"drops more than {alert_rules.DROP_POINTS:g} points in {alert_rules.DROP_DAYS} days" in got.alerts
    assert "turns Red" in got.alerts
    shown = render_message(got)
    assert "When an alert opens" in str(shown)
