"""Scoring runs against a real store: one row per account a day, replaced on a re-run, history on request."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.cli import app
from bot.scoring_runs import ACCOUNTS, METRICS, SCORES, load_frames, score_and_store
from bot.store import write_session
from scoring import load_model
from tests.scoring.frames import ACME_ACCOUNT, TODAY, account, acme_month
from tests.scoring.test_findings import HEALTHY

MODEL = load_model(None)


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]


def seed(engine: Engine, accounts: list[dict[str, Any]], metrics: list[dict[str, Any]]) -> None:
    """Write accounts and metric snapshots straight into the store (what `healthbot import` leaves behind)."""
    with write_session(engine) as session:
        session.execute(insert(ACCOUNTS), _rows(pd.DataFrame(accounts)))
        session.execute(insert(METRICS), _rows(pd.DataFrame(metrics)))


def monthly(account_id: str, months: int = 4, *, end: date = TODAY, **changes: Any) -> list[dict[str, Any]]:
    """Healthy monthly snapshots ending at `end`, with `changes` applied to the latest."""
    rows = []
    for back in reversed(range(months)):
        as_of = end - timedelta(days=30 * back)
        row = {**HEALTHY, "account_id": account_id, "as_of": as_of, "last_login": as_of}
        row["last_touch"] = as_of - timedelta(days=5)
        row["last_qbr"] = as_of - timedelta(days=40)
        rows.append(row | (changes if back == 0 else {}))
    return rows


def sample_book() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A small book after seed 001: Sarah Chen's Acme (Yellow, sliding), MegaCorp (Red, renewing in 45 days),
    TechFlow (Green, seats full); Mike Lee's Globex (Green) and a former customer, OldTech."""
    accounts = [
        ACME_ACCOUNT,
        account(
            "MEGA",
            name="MegaCorp",
            csm_owner="Sarah Chen",
            csm_slack_id="U0SARAH001",
            segment="Enterprise",
            arr=82_000.0,
            renewal_date=TODAY + timedelta(days=45),
        ),
        account(
            "TECH",
            name="TechFlow",
            csm_owner="Sarah Chen",
            csm_slack_id="U0SARAH001",
            segment="Mid-Market",
            arr=85_000.0,
            renewal_date=TODAY + timedelta(days=300),
        ),
        account(
            "GLOBEX",
            name="Globex",
            csm_owner="Mike Lee",
            segment="SMB",
            arr=12_000.0,
            renewal_date=TODAY + timedelta(days=60),
        ),
        account(
            "OLD",
            name="OldTech",
            csm_owner="Mike Lee",
            segment="SMB",
            arr=9_000.0,
            churned_on=TODAY - timedelta(days=20),
        ),
    ]
    struggling = {
        "active_users": 6,
        "tickets_30d": 11,
        "high_priority_open": 3,
        "escalations_90d": 3,
        "csat": 2.1,
        "nps": 2,
        "days_overdue": 30,
        "csm_touches_90d": 1,
        "training_completion": 0.2,
        "features_used": 2,
    }
    metrics = (
        [acme_month(m) for m in (3, 2, 1, 0)]
        + monthly("MEGA", **struggling)
        + monthly("TECH", active_users=24, nps=9)
        + monthly("GLOBEX")
        + monthly("OLD", end=TODAY - timedelta(days=30), active_users=4)
    )
    return accounts, metrics


@pytest.fixture
def book(engine: Engine) -> Engine:
    seed(engine, *sample_book())
    return engine


def stored(engine: Engine, day: date | None = None) -> pd.DataFrame:
    query = select(SCORES) if day is None else select(SCORES).where(SCORES.c.as_of == day)
    with engine.connect() as connection:
        return pd.read_sql(query, connection)


def test_load_frames_reads_the_contract_columns_up_to_a_day(book: Engine) -> None:
    accounts, metrics = load_frames(book, as_of=TODAY - timedelta(days=1))
    assert {"account_id", "name", "csm_owner", "churned_on"} <= set(accounts.columns)
    assert len(accounts) == 5
    assert metrics["as_of"].max() < TODAY


def test_score_stores_one_row_per_current_customer_and_a_rerun_replaces_it(book: Engine) -> None:
    assert score_and_store(book, MODEL, as_of=TODAY) == 4  # OldTech left 20 days ago
    assert score_and_store(book, MODEL, as_of=TODAY) == 4
    today = stored(book, TODAY)
    assert sorted(today["account_id"]) == ["ACCT-4521", "GLOBEX", "MEGA", "TECH"]
    acme = today.set_index("account_id").loc["ACCT-4521"]
    assert acme["band"] == "Yellow" and 64 <= acme["score"] <= 72
    assert set(acme["dimensions"]) == {"usage", "support", "financial", "sentiment", "engagement"}
    assert {s["key"] for s in acme["signals"]} >= {"low_nps", "champion_risk"}
    assert acme["last_quarter_score"] > acme["score"]


def test_history_stores_every_earlier_snapshot_date_but_never_after_a_customer_left(book: Engine) -> None:
    score_and_store(book, MODEL, as_of=TODAY, history=True)
    everything = stored(book)
    assert len(everything[everything["account_id"] == "ACCT-4521"]) == 4
    old = everything[everything["account_id"] == "OLD"]
    assert len(old) == 4 and pd.to_datetime(old["as_of"]).max().date() < TODAY - timedelta(days=20)
    score_and_store(book, MODEL, as_of=TODAY, history=True)
    assert len(stored(book)) == len(everything)  # replaced, not duplicated


def test_healthbot_score_twice_the_same_day_keeps_one_row_per_account(sqlite_url: str) -> None:
    from bot.store import create_db_engine, init_db

    engine = create_db_engine(sqlite_url)
    init_db(engine)
    seed(engine, *sample_book())
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["score", "--as-of", TODAY.isoformat(), "--db", sqlite_url])
        assert result.exit_code == 0, result.output
    assert "Scored 4 accounts as of 2026-11-24" in result.output
    assert "2 Green · 1 Yellow · 1 Red" in result.output
    assert len(stored(engine, TODAY)) == 4


def test_healthbot_score_names_a_bad_model_file(
    sqlite_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "model.toml"
    bad.write_text('extends = "default"\n[dimensions.usage]\nweight = 50\n')
    monkeypatch.setenv("HEALTHBOT_MODEL", str(bad))
    result = CliRunner().invoke(app, ["score", "--db", sqlite_url])
    assert result.exit_code == 2
    assert "must add up to 100; they add up to 110" in result.output


def test_healthbot_score_with_no_data_says_what_to_do(sqlite_url: str) -> None:
    result = CliRunner().invoke(app, ["score", "--db", sqlite_url])
    assert result.exit_code == 1
    assert "nothing was scored" in result.output and "healthbot import" in result.output


def scored_store(sqlite_url: str, *, history: bool) -> Engine:
    from bot.store import create_db_engine, init_db

    engine = create_db_engine(sqlite_url)
    init_db(engine)
    seed(engine, *sample_book())
    score_and_store(engine, MODEL, as_of=TODAY, history=history)
    return engine


def test_backtest_prints_its_figures_as_json_and_writes_no_model_from_one_former_customer(
    sqlite_url: str, tmp_path: Any
) -> None:
    import json

    scored_store(sqlite_url, history=True)
    refined = tmp_path / "refined.toml"
    result = CliRunner().invoke(app, ["backtest", "--json", "--write-model", str(refined), "--db", sqlite_url])
    figures = json.loads(result.stdout)
    assert figures["horizon_days"] == 90 and figures["churned_accounts"] == 1
    assert set(figures["auc_by_dimension"]) == {"usage", "support", "financial", "sentiment", "engagement"}
    # One former customer is too few to learn from: nothing is written, and the command says why.
    assert result.exit_code == 1 and not refined.exists()
    assert "No model file written." in result.stderr


def test_backtest_in_words(sqlite_url: str) -> None:
    scored_store(sqlite_url, history=True)
    result = CliRunner().invoke(app, ["backtest", "--horizon-days", "60", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "Did the score predict churn within 60 days?" in result.output
    assert "Predictive power of each measure" in result.output


def test_backtest_scores_the_stored_history_itself(sqlite_url: str) -> None:
    # Only today was scored; the backtest scores every stored snapshot on its own, no `score --history` needed.
    scored_store(sqlite_url, history=False)
    result = CliRunner().invoke(app, ["backtest", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "Did the score predict churn within 90 days?" in result.output
