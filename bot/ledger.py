"""The exactly-once ledger (the `sent_message` claim table) for any surface: claim a key, send, mark it sent.

A surface-neutral seam beside Slack's `post_once` (issue 16: Teams). The claim and failure bookkeeping it shares with
Slack lives in bot/slack/delivery.py for now; when delivery is reworked it belongs here, and Slack's `post_once`
becomes `deliver_once` with a Slack sender.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.slack.delivery import Delivery, _claim, _failed
from bot.store import SentMessage, write_session
from bot.store.tables import utcnow

__all__ = ["Delivery", "SendFailed", "deliver_once"]


class SendFailed(Exception):
    """A surface refused or could not be reached; the message says why, for the operator."""


def deliver_once(
    engine: Engine,
    *,
    key: str,
    kind: str,
    channel: str,
    send: Callable[[], tuple[str, str]],
    alert_id: int | None = None,
    thread_ts: str | None = None,
) -> Delivery:
    """The same exactly-once ledger as `post_once`, for a surface other than Slack.

    Args:
        key: unique per message and destination; name the surface in it, e.g. "digest:2026-11-24:teams:a:1…".
        channel: the destination as the surface names it, prefixed by the surface ("teams:19:…").
        send: posts the message and returns (channel, message id); raises SendFailed when the surface refused.
    """
    claimed = _claim(engine, key=key, kind=kind, channel=channel, alert_id=alert_id, thread_ts=thread_ts)
    if claimed is not None:
        return claimed
    try:
        posted_channel, message_id = send()
    except SendFailed as err:
        return _failed(engine, key, channel, str(err))
    with write_session(engine) as session:
        row = session.exec(select(SentMessage).where(SentMessage.dedupe_key == key)).one()
        row.status, row.channel, row.ts, row.sent_at, row.error = "sent", posted_channel, message_id, utcnow(), None
        session.add(row)
    return Delivery(key, "sent", posted_channel, message_id)
