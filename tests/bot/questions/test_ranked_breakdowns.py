""" "Which CSM has the most red accounts": the breakdown ranked by what was asked, and its first line naming who.
The expected leaders are worked out here with plain SQL over the demo store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.store import create_db_engine
from messages import format as fmt
from messages import views
from messages.blockkit import render_message
from tests.bot.questions.judge import ask, scored_day


@pytest.fixture(scope="module")
def demo_engine(demo_db: str) -> Iterator[Engine]:
    engine = create_db_engine(demo_db)
    yield engine
    engine.dispose()


def per_group(engine: Engine, column: str, value_sql: str) -> dict[str, float]:
    con = sqlite3.connect(str(engine.url.database))
    day = scored_day(con)
    rows = con.execute(
        f"select a.{column}, {value_sql} from account a join health_score h on h.account_id = a.account_id "
        f"and h.as_of = ? where a.churned_on is null or a.churned_on > ? group by a.{column}",
        (day, day),
    ).fetchall()
    return {str(group): float(value or 0) for group, value in rows}


CASES = [
    ("which CSM has the most red accounts", "csm_owner", "sum(h.band = 'Red')", True, "the most Red accounts"),
    ("who's got the most ARR at risk", "csm_owner", "sum(case when h.band != 'Green' then a.arr end)", True,
     "the most ARR at risk"),
    ("which CSM has the fewest accounts", "csm_owner", "count(*)", False, "the fewest accounts"),
    ("who has the most at-risk accounts", "csm_owner", "sum(h.band in ('Yellow', 'Red'))", True,
     "the most at-risk accounts (Yellow or Red)"),
    ("which CSM has the most healthy accounts", "csm_owner", "sum(h.band = 'Green')", True,
     "the most Green accounts"),
    ("CSM with the most red accounts", "csm_owner", "sum(h.band = 'Red')", True, "the most Red accounts"),
    ("top CSM by at-risk ARR", "csm_owner", "sum(case when h.band != 'Green' then a.arr end)", True,
     "the most ARR at risk"),
    ("which region has the most revenue", "region", "sum(a.arr)", True, "the most ARR"),
    ("which segment is doing worst", "segment", "round(avg(h.score), 1)", False, "the lowest average score"),
    ("which segment has the lowest average score", "segment", "round(avg(h.score), 1)", False,
     "the lowest average score"),
]  # fmt: skip


@pytest.mark.parametrize(("question", "column", "value_sql", "most", "phrase"), CASES, ids=[c[0] for c in CASES])
def test_the_breakdown_is_ranked_and_its_first_line_names_the_leader(
    demo_engine: Engine, question: str, column: str, value_sql: str, most: bool, phrase: str
) -> None:
    values = per_group(demo_engine, column, value_sql)
    best = (max if most else min)(values.values())
    leaders = sorted(group for group, value in values.items() if value == best)

    view = ask(demo_engine, question)
    assert isinstance(view, views.Portfolio) and view.lead is not None
    named = " and ".join([", ".join(leaders[:-1]), leaders[-1]] if len(leaders) > 1 else leaders)
    assert view.lead.startswith(f"{named} ha") and phrase in view.lead
    shown = [values[g.group] for g in view.groups]
    assert shown == sorted(shown, reverse=most)  # every group, ranked by what was asked
    assert len(view.groups) == len(values)
    message = render_message(view)
    assert message["text"].startswith(view.lead)  # the notification says the answer
    assert any(view.lead in str(block) for block in message["blocks"][:4])


def test_the_at_risk_arr_lead_gives_the_figure_the_store_holds(demo_engine: Engine) -> None:
    values = per_group(demo_engine, "csm_owner", "sum(case when h.band != 'Green' then a.arr end)")
    leader, most = max(values.items(), key=lambda item: item[1])
    view = ask(demo_engine, "which CSM has the most at-risk ARR")
    assert isinstance(view, views.Portfolio) and view.lead is not None
    total = fmt.money(sum(values.values()))
    assert view.lead == f"{leader} has the most ARR at risk (accounts not Green): {fmt.money(most)} of {total}."


@pytest.mark.parametrize(
    "question",
    [
        "health by CSM",
        # What the breakdown's rows do not count is not ranked by what they do: no "has the most accounts" lead.
        "who has the most accounts renewing this quarter",
        "which csm has the most declining accounts",
    ],
)
def test_a_breakdown_without_a_ranking_it_can_give_names_no_leader(demo_engine: Engine, question: str) -> None:
    view = ask(demo_engine, question)
    assert not isinstance(view, views.Portfolio) or view.lead is None
