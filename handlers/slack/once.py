"""Handled once: Slack events (and conversation messages) recorded in the store, so a redelivery is not answered
twice — across threads, worker processes and restarts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.store import ProcessedEvent, write_session
from bot.store.tables import utcnow

# Slack retries an event for up to about an hour; a day's memory is plenty, and keeps the table small.
PROCESSED_EVENT_MEMORY = timedelta(days=1)


def first_delivery(engine: Engine, key: str) -> bool:
    """Record `key` (an event_id, or a message's channel and ts) as handled; False when it already was.

    The row is written before anything else happens, so two deliveries racing each other answer once too.
    """
    try:
        with write_session(engine) as session:
            session.add(ProcessedEvent(event_id=key[:64]))
    except IntegrityError:
        return False
    return True


def forget_old_events(engine: Engine, *, older_than: timedelta = PROCESSED_EVENT_MEMORY) -> int:
    """Delete processed-event rows older than `older_than`; returns how many went."""
    with write_session(engine) as session:
        cutoff = utcnow() - older_than
        result = session.connection().execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff))  # type: ignore[arg-type]
        return result.rowcount
