"""`healthbot backtest` on a real store: a book imported as files would be, nothing scored beforehand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.importer import import_frames
from bot.scoring_runs import churn_prediction_summary
from bot.store import create_db_engine, init_db
from scoring import load_model
from tests.scoring.churn_generator import churn_book


@pytest.fixture(scope="module")
def churn_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The churn book imported into a fresh SQLite file (never scored: the backtest must score it itself)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('churn') / 'healthbot.db'}"
    engine = create_db_engine(url)
    init_db(engine)
    book = churn_book(2000, seed=21)
    import_frames(engine, accounts=book.accounts, metrics=book.metrics)
    engine.dispose()
    return url


def test_backtest_leads_with_the_single_column_that_beats_the_score_and_saves_a_model_healthbot_uses(
    churn_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    learned = tmp_path / "learned.toml"
    result = CliRunner().invoke(app, ["backtest", "--write-model", str(learned), "--db", churn_store])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Your health score predicts churn worse than a single column: features used alone")
    assert lines[1].startswith("A model learned from your history reaches ")
    assert "Warning: Your model treats higher seat utilisation as healthier" in result.stdout
    assert f"Saved the learned model to {learned}" in result.stderr
    text = learned.read_text()
    assert text.startswith("# Learned by `healthbot backtest`") and 'extends = "default"' in text
    monkeypatch.setenv("HEALTHBOT_MODEL", str(learned))
    scored = CliRunner().invoke(app, ["score", "--as-of", "2026-11-24", "--db", churn_store])
    assert scored.exit_code == 0, scored.output


def test_backtest_json_carries_every_figure(churn_store: str) -> None:
    result = CliRunner().invoke(app, ["backtest", "--json", "--db", churn_store])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["validation"]["cut_date"] is not None and figures["validation"]["test_churned"] > 0
    assert [b["key"] for b in figures["baselines"]] == [
        "current_model",
        "best_measure",
        "days_to_renewal",
        "usage_drop_30d",
        "learned_model",
    ]
    utilisation = next(m for m in figures["measures"] if m["measure"] == "seat_utilisation")
    assert utilisation["opposite"] and utilisation["auc_low"] > 0.5 and len(utilisation["quintiles"]) == 5
    assert figures["bands"]["proposed_floors"] and figures["bands"]["test"][0]["band"] == "Green"
    assert figures["learned"]["accepted"] and figures["learned"]["model_file"].startswith("# Learned by")
    assert {c["change"] for c in figures["learned"]["changes"]} >= {"added", "flipped", "dropped"}
    assert figures["learned"]["min_segment_churners"] == 30 and figures["learned"]["segments"]
    assert figures["headline"][0].startswith("Your health score predicts churn worse than a single column")


def test_the_chat_summary_reads_the_same_figures_from_the_store(churn_store: str) -> None:
    engine = create_db_engine(churn_store)
    summary = churn_prediction_summary(engine, load_model(None))
    assert summary.best_measure == "features used" and summary.learned_proposed
    assert summary.score_auc is not None and summary.best_measure_auc is not None
    assert summary.score_auc < summary.best_measure_auc < (summary.learned_auc or 0)
    assert [band for band, _ in summary.churn_rate_by_band] == ["Green", "Yellow", "Red"]
    assert summary.flipped[0].startswith("Your model treats higher seat utilisation as healthier")
    assert summary.headline[0].startswith("Your health score predicts churn worse than a single column")


def test_backtest_on_an_empty_store_says_what_it_needs(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["backtest", "--db", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert result.exit_code == 1
    assert "Nothing to backtest yet." in result.stderr and "healthbot import" in result.stderr
