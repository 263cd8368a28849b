"""Posting to Slack exactly once.

Every message the bot posts on its own (digests, alerts, escalations, thread replies) has a key such as
`digest:2026-11-24:U0SARAH001`. A process first *claims* the key in the store (a unique row in `sent_message`),
then posts, then marks it sent. A second run, a restarted process or a second scheduler started by mistake finds
the row and posts nothing. Slack refusing or being down marks the row failed, and the next run posts it.

The one gap no store can close: a process killed between Slack's "ok" and marking the row sent leaves it pending;
once its claim has expired (CLAIM_LEASE) the next run posts it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.store import SentMessage, read_session, write_session
from bot.store.tables import as_utc, utcnow

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)  # longer than any post takes, 429 waits included
CHANNEL_GAP_SECONDS = 1.0  # Slack allows about one message per second per channel
RATE_LIMIT_BUDGET_SECONDS = 300.0  # how long one message may wait out 429s before it is left for the next run

Outcome = Literal["sent", "already_sent", "in_progress", "failed"]


@dataclass(frozen=True)
class Delivery:
    """What happened to one message: posted now, posted before, being posted by another process, or failed."""

    key: str
    outcome: Outcome
    channel: str
    ts: str | None = None
    error: str | None = None


@dataclass
class Pacer:
    """Keeps posts to one channel at least `gap` seconds apart (Slack's per-channel limit), across threads."""

    gap: float = CHANNEL_GAP_SECONDS
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _last: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, channel: str) -> None:
        """Block until a message may be posted to `channel`, and count it as posted now."""
        with self._lock:
            now = self.clock()
            due = self._last.get(channel, now - self.gap) + self.gap
            self._last[channel] = max(now, due)
        if due > now:
            self.sleep(due - now)


def post_once(
    engine: Engine,
    client: WebClient,
    *,
    key: str,
    kind: str,
    channel: str,
    message: dict[str, Any],
    pacer: Pacer | None = None,
    alert_id: int | None = None,
    thread_ts: str | None = None,
) -> Delivery:
    """Post `message` ({"text", "blocks", "attachments"}) to `channel` unless `key` was posted already.

    Args:
        key: what makes this message unique, e.g. "digest:2026-11-24:U0SARAH001".
        kind: digest, alert, escalation, reply — for the operator reading the table.
        channel: a channel ID, or a user ID for a DM from the bot.
        pacer: spaces posts to one channel; None posts at once.
        alert_id: the alert this message shows, so clicks can re-render it.
        thread_ts: post as a reply in this thread.
    """
    claimed = _claim(engine, key=key, kind=kind, channel=channel, alert_id=alert_id, thread_ts=thread_ts)
    if claimed is not None:
        return claimed
    try:
        response = _post(client, channel=channel, message=message, thread_ts=thread_ts, pacer=pacer)
    except SlackApiError as err:
        reason = f"Slack answered {err.response.status_code}: {err.response.get('error', 'no reason given')}"
        return _failed(engine, key, channel, reason)
    except OSError as err:  # connection refused or reset, DNS, timeout (URLError is an OSError)
        return _failed(engine, key, channel, f"could not reach Slack: {err}")
    posted_channel, ts = str(response["channel"]), str(response["ts"])
    with write_session(engine) as session:
        row = session.exec(select(SentMessage).where(SentMessage.dedupe_key == key)).one()
        row.status, row.channel, row.ts, row.sent_at, row.error = "sent", posted_channel, ts, utcnow(), None
        session.add(row)
    return Delivery(key, "sent", posted_channel, ts)


def _claim(
    engine: Engine, *, key: str, kind: str, channel: str, alert_id: int | None, thread_ts: str | None
) -> Delivery | None:
    """Take `key` for this process (None), or say why not: already sent, or another process is posting it."""
    now = utcnow()
    with write_session(engine) as session:
        row = session.exec(select(SentMessage).where(SentMessage.dedupe_key == key).with_for_update()).first()
        if row is None:
            row = SentMessage(
                dedupe_key=key,
                kind=kind,
                channel=channel,
                claimed_at=now,
                attempts=1,
                alert_id=alert_id,
                thread_ts=thread_ts,
            )
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                # PostgreSQL: another process inserted the same key between our look and our insert.
                return Delivery(key, "in_progress", channel)
            return None
        if row.status == "sent":
            return Delivery(key, "already_sent", row.channel, row.ts)
        claimed_at = as_utc(row.claimed_at)
        if row.status == "pending" and claimed_at is not None and claimed_at + CLAIM_LEASE > now:
            return Delivery(key, "in_progress", row.channel)
        row.status, row.claimed_at, row.attempts, row.error = "pending", now, row.attempts + 1, None
        session.add(row)
    return None


def _post(
    client: WebClient, *, channel: str, message: dict[str, Any], thread_ts: str | None, pacer: Pacer | None
) -> Any:
    # A 429 means Slack did not post, so waiting out Retry-After and trying again cannot post twice. The client's
    # own retry handler covers short bursts; a storm longer than its retries is waited out here, within a budget.
    deadline = time.monotonic() + RATE_LIMIT_BUDGET_SECONDS
    while True:
        if pacer is not None:
            pacer.wait(channel)
        try:
            return client.chat_postMessage(
                channel=channel,
                text=message["text"],
                blocks=message.get("blocks"),
                attachments=message.get("attachments"),
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as err:
            if err.response.status_code != 429:
                raise
            wait = float(err.response.headers.get("Retry-After", err.response.headers.get("retry-after", 1)))
            if time.monotonic() + wait > deadline:
                raise
            logger.info("Slack is rate limiting posts to %s; waiting %.0f s", channel, wait)
            time.sleep(wait)


def _failed(engine: Engine, key: str, channel: str, reason: str) -> Delivery:
    logger.warning("could not post %s to %s (%s); the next run will try again", key, channel, reason)
    with write_session(engine) as session:
        row = session.exec(select(SentMessage).where(SentMessage.dedupe_key == key)).one()
        row.status, row.error, row.claimed_at = "failed", reason[:500], None
        session.add(row)
    return Delivery(key, "failed", channel, error=reason)


def alert_messages(engine: Engine, alert_id: int) -> list[SentMessage]:
    """The posted messages that show an alert (its DM, its channel post, its escalation), not thread replies."""
    with read_session(engine) as session:
        return list(
            session.exec(
                select(SentMessage)
                .where(
                    SentMessage.alert_id == alert_id,
                    SentMessage.status == "sent",
                    col(SentMessage.thread_ts).is_(None),
                    col(SentMessage.kind).in_(("alert", "escalation")),
                )
                .order_by(col(SentMessage.id))
            ).all()
        )


def update_everywhere(
    engine: Engine, client: WebClient, alert_id: int, render: Callable[[SentMessage], dict[str, Any]]
) -> int:
    """Re-render every posted copy of an alert with chat.update, so they all show the same state.

    Returns how many copies were updated; a copy Slack refuses to update (deleted, channel archived) is logged
    and skipped.
    """
    updated = 0
    for sent in alert_messages(engine, alert_id):
        assert sent.ts is not None
        message = render(sent)
        try:
            client.chat_update(
                channel=sent.channel,
                ts=sent.ts,
                text=message["text"],
                blocks=message.get("blocks"),
                attachments=message.get("attachments"),
            )
        except (SlackApiError, OSError):
            logger.exception("could not update alert %s's message in %s", alert_id, sent.channel)
            continue
        updated += 1
    return updated


def unsent(engine: Engine, *, kind: str | None = None, since: datetime | None = None) -> list[SentMessage]:
    """Messages claimed but not (yet) posted, newest first: what an operator looks at after an outage."""
    with read_session(engine) as session:
        query = select(SentMessage).where(SentMessage.status != "sent")
        if kind is not None:
            query = query.where(SentMessage.kind == kind)
        if since is not None:
            query = query.where(SentMessage.created_at >= since)
        return list(session.exec(query.order_by(col(SentMessage.id).desc())).all())
