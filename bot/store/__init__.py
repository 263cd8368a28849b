"""The store: SQLModel tables, the engine, and the queries the rest of the bot uses."""

from bot.store.db import create_db_engine, init_db, read_session, write_session
from bot.store.tables import (
    Account,
    AlertAction,
    HealthAlert,
    HealthScore,
    MetricSnapshot,
    ProcessedEvent,
    SentMessage,
)

__all__ = [
    "Account",
    "AlertAction",
    "HealthAlert",
    "HealthScore",
    "MetricSnapshot",
    "ProcessedEvent",
    "SentMessage",
    "create_db_engine",
    "init_db",
    "read_session",
    "write_session",
]
