"""The question suite (issue 13): each question, typed as CSMs type it, answered over the demo store and checked
against the store's own tables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.store import create_db_engine
from tests.bot.questions.cases import CASES
from tests.bot.questions.expect import Expect
from tests.bot.questions.judge import judge


@pytest.fixture(scope="module")
def demo_engine(demo_db: str) -> Iterator[Engine]:
    engine = create_db_engine(demo_db)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(("question", "want"), CASES, ids=[q for q, _ in CASES])
def test_question_is_answered_as_asked(demo_engine: Engine, question: str, want: Expect) -> None:
    ok, why = judge(demo_engine, question, want)
    assert ok, why
