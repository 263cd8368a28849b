"""The stored scores and findings of two books, reduced to hashes: what `test_golden_scores` compares against.

    python -m tests.bot.golden.scores_fingerprint        # rewrite scores_fingerprint.json from the current code

The fixture file was written by the scoring code before the scoring path was vectorised (issue 15); a change that
alters any stored score, band, confidence, dimension, trend figure or finding (facts included) changes a hash.
Regenerate it only when a scoring change is meant to change results, and say so in the commit.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.importer import import_frames
from bot.sample import generate_portfolio, load_sample
from bot.scoring_runs import SCORES, score_and_store
from bot.store import create_db_engine, init_db
from scoring import load_model

FIXTURE = Path(__file__).with_name("scores_fingerprint.json")
TODAY = date(2026, 11, 24)
GENERATED_ACCOUNTS = 1_500
COLUMNS = ("account_id", "as_of", "score", "band", "confidence", "dimensions", "signals", "last_month_score",
           "last_quarter_score")  # fmt: skip


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)  # a JSON column read back as text by some drivers
    if isinstance(value, date):
        return value.isoformat()
    return value


def stored_fingerprint(engine: Engine) -> dict[str, Any]:
    """Every stored HealthScore row's results (not when it was computed), hashed per day and in all."""
    with engine.connect() as connection:
        rows = connection.execute(select(*(SCORES.c[name] for name in COLUMNS))).all()
    lines: dict[str, list[str]] = {}
    for row in rows:
        record = {name: _canonical(value) for name, value in zip(COLUMNS, row, strict=True)}
        lines.setdefault(record["as_of"], []).append(json.dumps(record, sort_keys=True))
    days = {day: hashlib.sha256("\n".join(sorted(day_lines)).encode()).hexdigest() for day, day_lines in lines.items()}
    everything = hashlib.sha256("\n".join(f"{day} {days[day]}" for day in sorted(days)).encode()).hexdigest()
    findings = sum(line.count('"key":') for day_lines in lines.values() for line in day_lines)
    return {"rows": len(rows), "findings": findings, "all": everything, "days": dict(sorted(days.items()))}


def _store(folder: Path, name: str, fill: Callable[[Engine], None]) -> Engine:
    engine = create_db_engine(f"sqlite:///{folder / name}")
    init_db(engine)
    fill(engine)
    return engine


def fingerprints(folder: Path) -> dict[str, Any]:
    """Score the sample book and a generated book with their history into fresh SQLite files under `folder`, then
    rescore the latest day alone (as the daily run does), and fingerprint what each store holds."""
    model = load_model(None)
    out: dict[str, Any] = {}

    def generated(engine: Engine) -> None:
        accounts, metrics = generate_portfolio(GENERATED_ACCOUNTS, TODAY, seed=11)
        import_frames(engine, accounts=accounts, metrics=metrics, source="generated")

    for name, fill in (("sample", lambda engine: load_sample(engine, TODAY)), ("generated", generated)):
        engine = _store(folder, f"{name}.db", fill)
        score_and_store(engine, model, as_of=TODAY, history=True)
        out[f"{name} with history"] = stored_fingerprint(engine)
        score_and_store(engine, model, as_of=TODAY)
        out[f"{name} rescored today"] = stored_fingerprint(engine)
        engine.dispose()
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        found = fingerprints(Path(folder))
    FIXTURE.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
    for store, figures in found.items():
        print(f"{store}: {figures['rows']:,} rows, {figures['findings']:,} findings")
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    main()
