"""Shared fixtures: a real SQLite file per test, and the same tests against PostgreSQL when one is configured."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bot.store import create_db_engine, init_db
from bot.store.db import normalise_url

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the developer's .env or real Slack credentials."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "HEALTHBOT_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def _postgres_schema_url(schema: str) -> str:
    assert POSTGRES_URL is not None
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{normalise_url(POSTGRES_URL)}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for an empty store: a SQLite file, then a private PostgreSQL schema when available."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'healthbot.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set: no PostgreSQL server to run the store tests against")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty store with every table created."""
    eng = create_db_engine(db_url)
    init_db(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file URL, for tests that only need the default store."""
    return f"sqlite:///{tmp_path / 'healthbot.db'}"


DEMO_DAY = date(2026, 11, 24)  # "today" of the shared demo store: the seeds' worked examples are dated around it


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample portfolio scored with 13 months of history (as `healthbot demo` builds it on DEMO_DAY), in one
    SQLite file shared by every test that only reads it."""
    from bot.sample import load_sample
    from bot.scoring_runs import score_and_store
    from scoring import load_model

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'healthbot.db'}"
    engine = create_db_engine(url)
    init_db(engine)
    load_sample(engine, DEMO_DAY)
    score_and_store(engine, load_model(None), as_of=DEMO_DAY, history=True)
    engine.dispose()
    return url
