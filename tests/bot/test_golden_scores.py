"""The stored scores and findings are the ones the scoring code stored before it was made fast (issue 15).

tests/bot/golden/scores_fingerprint.json holds hashes of every stored row (score, band, confidence, dimensions,
trend figures, findings with their facts) for the sample book and a generated one; see scores_fingerprint.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.importer import import_frames
from bot.sample import generate_portfolio, load_sample
from bot.scoring_runs import score_and_store, score_run
from bot.store import create_db_engine, init_db
from scoring import load_model
from tests.bot.golden.scores_fingerprint import (
    FIXTURE,
    GENERATED_ACCOUNTS,
    TODAY,
    fingerprints,
    stored_fingerprint,
)

EXPECTED = json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_stored_scores_and_findings_match_the_golden_fingerprint(tmp_path: Path) -> None:
    found = fingerprints(tmp_path)
    assert set(found) == set(EXPECTED)
    for store, expected in EXPECTED.items():
        assert found[store]["rows"] == expected["rows"], store
        assert found[store]["findings"] == expected["findings"], store
        changed = [day for day, digest in expected["days"].items() if found[store]["days"].get(day) != digest]
        assert changed == [], f"{store}: stored scores or findings changed on {changed}"
        assert found[store]["all"] == expected["all"], store


def test_scoring_in_batches_of_accounts_stores_the_same(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'batches.db'}")
    init_db(engine)
    accounts, metrics = generate_portfolio(GENERATED_ACCOUNTS, TODAY, seed=11)
    import_frames(engine, accounts=accounts, metrics=metrics, source="generated")
    run = score_run(engine, load_model(None), as_of=TODAY, history=True, batch_accounts=GENERATED_ACCOUNTS // 4 + 1)
    assert run.accounts > 0 and run.days == 13
    assert stored_fingerprint(engine) == EXPECTED["generated with history"]


def test_the_sample_book_stores_the_same_results_on_either_database(engine: Engine) -> None:
    load_sample(engine, TODAY)
    score_and_store(engine, load_model(None), as_of=TODAY, history=True)
    found, expected = stored_fingerprint(engine), EXPECTED["sample with history"]
    assert found["rows"] == expected["rows"] > 800
    assert found["days"] == expected["days"]


@pytest.mark.parametrize("store", sorted(EXPECTED))
def test_the_fixture_covers_findings_on_every_day(store: str) -> None:
    # A fingerprint of empty stores would pass whatever the code did.
    assert EXPECTED[store]["findings"] > EXPECTED[store]["rows"] > 0
    assert len(EXPECTED[store]["days"]) == 13
