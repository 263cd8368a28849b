"""Feedback on answers: a person's thumbs up or down, kept so the team can see which questions the bot gets wrong."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from bot.store import AnswerFeedback, write_session
from bot.store.tables import FEEDBACK


def record_feedback(
    *,
    engine: Engine,
    user_id: str,
    channel: str,
    message_ts: str,
    helpful: bool,
    question: str,
    answer_kind: str,
) -> None:
    """Record `user_id`'s verdict on one answer; a second click on the same answer replaces the first."""
    with write_session(engine) as session:
        session.execute(
            delete(FEEDBACK).where(
                FEEDBACK.c.user_id == user_id, FEEDBACK.c.channel == channel, FEEDBACK.c.message_ts == message_ts
            )
        )
        session.add(
            AnswerFeedback(
                user_id=user_id,
                channel=channel,
                message_ts=message_ts,
                helpful=helpful,
                question=question[:500],
                answer_kind=answer_kind[:64],
            )
        )


def feedback_counts(engine: Engine) -> dict[bool, int]:
    """How many answers were marked helpful (True) and not (False)."""
    with engine.connect() as connection:
        rows = connection.execute(select(FEEDBACK.c.helpful, func.count()).group_by(FEEDBACK.c.helpful)).all()
    return {bool(helpful): int(n) for helpful, n in rows}
