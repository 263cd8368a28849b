"""The store round-trips every table on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.store import (
    Account,
    AlertAction,
    HealthAlert,
    HealthScore,
    MetricSnapshot,
    SentMessage,
    read_session,
    write_session,
)


def test_account_metrics_and_scores_round_trip(engine: Engine) -> None:
    with write_session(engine) as session:
        session.add(
            Account(
                account_id="ACCT-4521",
                name="Acme Corp",
                csm_owner="Sarah Chen",
                arr=45_000,
                renewal_date=date(2027, 3, 31),
                tags="champion_left;case_study",
            )
        )
        session.flush()
        session.add(
            MetricSnapshot(
                account_id="ACCT-4521",
                as_of=date(2026, 11, 1),
                active_users=12,
                seats_purchased=25,
                nps=6,
                exec_sponsor_engaged=True,
            )
        )
        session.add(
            HealthScore(
                account_id="ACCT-4521",
                as_of=date(2026, 11, 1),
                score=68.0,
                band="Yellow",
                confidence=0.9,
                dimensions={"usage": 55.0, "support": None},
                signals=[{"key": "usage_drop", "severity": "High"}],
            )
        )

    with read_session(engine) as session:
        account = session.get(Account, "ACCT-4521")
        snapshot = session.get(MetricSnapshot, ("ACCT-4521", date(2026, 11, 1)))
        scored = session.get(HealthScore, ("ACCT-4521", date(2026, 11, 1)))
    assert account is not None and account.name == "Acme Corp" and account.renewal_date == date(2027, 3, 31)
    assert snapshot is not None and snapshot.active_users == 12 and snapshot.exec_sponsor_engaged is True
    assert snapshot.tickets_30d is None  # no data stays no data
    assert scored is not None and scored.dimensions == {"usage": 55.0, "support": None}
    assert scored.signals[0]["key"] == "usage_drop"


def test_failed_write_session_leaves_nothing_behind(engine: Engine) -> None:
    with pytest.raises(RuntimeError), write_session(engine) as session:
        session.add(Account(account_id="A1", name="Half Written", csm_owner="Mike"))
        session.flush()
        raise RuntimeError("boom")
    with read_session(engine) as session:
        assert session.exec(select(Account)).all() == []


def test_duplicate_action_and_message_keys_are_refused(engine: Engine) -> None:
    with write_session(engine) as session:
        session.add(Account(account_id="A1", name="Acme Corp", csm_owner="Sarah Chen"))
        session.flush()
        alert = HealthAlert(account_id="A1", condition="turned_red", severity="High", opened_on=date(2026, 11, 24))
        session.add(alert)
        session.flush()
        session.add(
            AlertAction(alert_id=alert.id, account_id="A1", user_id="U1", kind="acknowledge", dedupe_key="click-1")
        )
        session.add(SentMessage(dedupe_key="digest:2026-11-24:U1", kind="digest", channel="U1"))
    with pytest.raises(IntegrityError), write_session(engine) as session:
        session.add(AlertAction(account_id="A1", user_id="U1", kind="acknowledge", dedupe_key="click-1"))
    with pytest.raises(IntegrityError), write_session(engine) as session:
        session.add(SentMessage(dedupe_key="digest:2026-11-24:U1", kind="digest", channel="U1"))
    with read_session(engine) as session:
        assert len(session.exec(select(AlertAction)).all()) == 1
        assert len(session.exec(select(SentMessage)).all()) == 1


def test_a_store_from_an_earlier_version_gains_new_columns_and_keeps_its_data(db_url: str) -> None:
    from sqlalchemy import inspect, text

    from bot.store import create_db_engine, init_db

    engine = create_db_engine(db_url)
    init_db(engine)
    with write_session(engine) as session:
        session.add(Account(account_id="A1", name="Acme Corp", csm_owner="Sarah Chen"))
        session.flush()
        session.add(SentMessage(dedupe_key="digest:2026-11-23:U1", kind="digest", channel="U1"))
    # An earlier version's store: without columns and an index added since.
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_health_score_day_scores"))
        conn.execute(text("CREATE INDEX ix_health_score_as_of ON health_score (as_of)"))  # since widened
        conn.execute(text("DROP INDEX ix_metric_snapshot_day_account"))
        conn.execute(text("CREATE INDEX ix_metric_snapshot_as_of ON metric_snapshot (as_of)"))  # since widened
        conn.execute(text("DROP INDEX ix_account_region"))
        conn.execute(text("DROP INDEX ix_account_renewal_date"))
        conn.execute(text("ALTER TABLE sent_message DROP COLUMN attempts"))
        conn.execute(text("ALTER TABLE account DROP COLUMN churned_on"))
    init_db(engine)
    inspector = inspect(engine)
    assert "churned_on" in {c["name"] for c in inspector.get_columns("account")}
    score_indexes = {i["name"] for i in inspector.get_indexes("health_score")}
    assert "ix_health_score_day_scores" in score_indexes and "ix_health_score_as_of" not in score_indexes
    metric_indexes = {i["name"] for i in inspector.get_indexes("metric_snapshot")}
    assert "ix_metric_snapshot_day_account" in metric_indexes and "ix_metric_snapshot_as_of" not in metric_indexes
    # The account columns a question narrows a list by ("in EMEA", "renewing in the next 30 days").
    assert {"ix_account_region", "ix_account_renewal_date"} <= {i["name"] for i in inspector.get_indexes("account")}
    with read_session(engine) as session:
        assert session.get(Account, "A1") is not None
        sent = session.exec(select(SentMessage)).one()
    assert sent.attempts == 0  # a NOT NULL column arrives with its default on existing rows
    engine.dispose()
