"""Turn an intent into a view model: the one place Slack, the CLI and App Home ask questions of the store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.intents import Intent, help_notice
from bot.settings import Settings
from messages import views


@dataclass(frozen=True)
class AnswerContext:
    """Who is asking, and what they are asking against."""

    engine: Engine
    settings: Settings
    user_id: str | None = None  # Slack user ID of the asker
    user_name: str | None = None  # the asker's name, for "me" / "my portfolio" outside Slack


def answer(intent: Intent, *, ctx: AnswerContext) -> object:
    """Answer `intent` with a view model from messages.views (a HealthCard, Portfolio, Notice, …)."""
    if intent.kind in ("help", "unknown"):
        return help_notice(intent.text if intent.kind == "unknown" else None)
    return views.Notice(
        title="Not built yet",
        lines=[f"Answering '{intent.kind}' questions lands with the scoring and Slack issues."],
        kind="error",
    )
