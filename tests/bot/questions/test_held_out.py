"""The held-out questions (issue 13): never used to tune the parser. The figure printed is the honest estimate;
every held-out question must at least never be answered confidently wrong (a list or book of another scope)."""

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
