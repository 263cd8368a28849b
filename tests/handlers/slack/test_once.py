"""Handled once: the store remembers which Slack events were handled, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.store import ProcessedEvent, read_session, write_session
from bot.store.tables import utcnow
from handlers.slack.once import first_delivery, forget_old_events


def test_an_event_is_a_first_delivery_once(engine: Engine) -> None:
    assert first_delivery(engine, "Ev0000000001") is True
    assert first_delivery(engine, "Ev0000000001") is False
    assert first_delivery(engine, "Ev0000000002") is True


def test_racing_deliveries_of_one_event_let_exactly_one_through(engine: Engine) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda _: first_delivery(engine, "Ev0RACE00001"), range(16)))
    assert outcomes.count(True) == 1


def test_events_older_than_a_day_are_forgotten(engine: Engine) -> None:
    with write_session(engine) as session:
        session.add(ProcessedEvent(event_id="Ev0OLD000001", received_at=utcnow() - timedelta(days=2)))
        session.add(ProcessedEvent(event_id="Ev0NEW000001"))
    assert forget_old_events(engine) == 1
    with read_session(engine) as session:
        assert [row.event_id for row in session.exec(select(ProcessedEvent))] == ["Ev0NEW000001"]
