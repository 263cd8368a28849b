"""The store: SQLModel tables, the engine, and the queries the rest of the bot uses."""

from bot.store.db import create_db_engine, init_db, read_session, write_session
from bot.store.tables import (
    Account,
    AlertAction,
    AlertPreference,
    AnswerFeedback,
    HealthAlert,
    HealthScore,
    MetricSnapshot,
    PlaybookRun,
    PlaybookStepTick,
    ProcessedEvent,
    Pulse,
    SentMessage,
    SlackUserCache,
    TeamsConversation,
    Touchpoint,
)

__all__ = [
    "Account",
    "AlertAction",
    "AlertPreference",
    "AnswerFeedback",
    "HealthAlert",
    "HealthScore",
    "MetricSnapshot",
    "PlaybookRun",
    "PlaybookStepTick",
    "ProcessedEvent",
    "Pulse",
    "SentMessage",
    "SlackUserCache",
    "TeamsConversation",
    "Touchpoint",
    "create_db_engine",
    "init_db",
    "read_session",
    "write_session",
]
