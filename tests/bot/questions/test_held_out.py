"""The held-out questions (issue 13): run once, at the end, after the parser was tuned on CASES only.

That first run answered 117 of 119 right (98%); the two misses ("Enterprise plan tier summary" read as the
Enterprise segment, "Asia Pacific accounts" read as Pacific Rim Foods) were then fixed in general (a value two kinds
share takes the kind named beside it; scopes are read before an account's first word), so these questions are no
longer held out: they stay as regressions, and the estimate to quote is the first run's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.store import create_db_engine
from tests.bot.questions.cases import HELD_OUT
from tests.bot.questions.judge import judge


@pytest.fixture(scope="module")
def demo_engine(demo_db: str) -> Iterator[Engine]:
    engine = create_db_engine(demo_db)
    yield engine
    engine.dispose()


def test_held_out_questions(demo_engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    misses = []
    for question, want in HELD_OUT:
        ok, why = judge(demo_engine, question, want)
        if not ok:
            misses.append(f"{question!r}: {why}")
    right = len(HELD_OUT) - len(misses)
    with capsys.disabled():
        print(f"\nheld-out questions: {right}/{len(HELD_OUT)} right ({right / len(HELD_OUT):.0%})")
        for miss in misses:
            print("  MISS", miss)
    assert len(HELD_OUT) >= 100
    assert right / len(HELD_OUT) >= 0.85, "\n".join(misses)
