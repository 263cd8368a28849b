"""The delivery ledger: every message the bot sends on its own (digests, alerts, escalations, thread notes,
checklists) delivered once, on any surface, whatever fails in between.

A message has a key such as `digest:2026-11-24:U0SARAH001:sarah chen`. A process *claims* the key (a unique row
in `sent_message` naming the destination and the surface), posts, then marks the row with what happened. The
states mean what they say:

- `pending` — a live process is posting it. Its holder renews the claim (a heartbeat) while it is alive, so a
  claim never lapses under a slow post; a claim nobody renewed for HEALTHBOT_CLAIM_SECONDS belongs to a process
  that died, and the next run takes it over — as `unknown`, not as "already posted".
- `sent` — the surface took it; its reference (Slack's `ts`) is stored.
- `failed` — the surface refused it or could not be reached: nothing was posted, so the next run posts it.
- `unknown` — no answer (a timeout, a dropped connection, a 5xx, a crash in flight): it may have been posted.
  Every post carries its key (Slack: message metadata), and before posting again the next run asks the surface
  whether a message with that key arrived; found, it is marked sent without posting.
- `review` — it may have been posted and the surface cannot tell (no way to look, or looking was refused): it is
  left for an operator rather than risk posting it twice.

A surface plugs in through a `Poster`: post a message carrying its key, and find a message by its key
(bot.slack.delivery.SlackPoster; a Teams poster the same way). Its `name` is stored as the row's `surface`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.settings import Settings
from bot.store import SentMessage, read_session, write_session
from bot.store.tables import as_utc, utcnow

logger = logging.getLogger(__name__)

Outcome = Literal["sent", "already_sent", "in_progress", "failed", "unknown", "review"]
NOT_DELIVERED: tuple[Outcome, ...] = ("failed", "unknown", "review")
LOOKBACK = timedelta(minutes=2)  # a message is looked for from a little before its first claim (clock skew)


@dataclass(frozen=True)
class Delivery:
    """What happened to one message in this run."""

    key: str
    outcome: Outcome
    channel: str  # the destination: a Slack channel or user ID, a Teams conversation ID
    ts: str | None = None  # the surface's reference to the posted message (Slack: ts)
    error: str | None = None
    surface: str = "slack"

    @property
    def delivered(self) -> bool:
        return self.outcome in ("sent", "already_sent")


@dataclass(frozen=True)
class Posted:
    """A message the surface holds: where it landed and its reference there."""

    destination: str  # Slack: the conversation ID (a DM to U… lands in D…)
    ref: str  # Slack: the message's ts


class NotPosted(Exception):
    """The surface refused the message or could not be reached: nothing was posted, so posting again is safe."""


class OutcomeUnknown(Exception):
    """No answer came back: the message may or may not have been posted."""


class CannotTell(Exception):
    """The surface cannot say whether the message arrived (no way to look, or looking was refused)."""


class Poster(Protocol):
    """How a surface (Slack, Teams) posts a message and finds one by its key; `message` is whatever the surface
    renders (Block Kit, an Adaptive Card)."""

    name: str

    def post(self, destination: str, message: Any, *, key: str, thread: str | None, deadline: float) -> Posted:
        """Post once, carrying `key` so that `find` can recognise it; give up by `deadline` (time.monotonic()).

        Raises:
            NotPosted: nothing was posted.
            OutcomeUnknown: it may have been posted.
        """
        ...

    def find(self, destination: str, *, key: str, thread: str | None, since: datetime) -> Posted | None:
        """The message carrying `key` posted to `destination` (in `thread`) since `since`, or None.

        Raises:
            OutcomeUnknown: the surface did not answer; look again later.
            CannotTell: the surface will not tell.
        """
        ...


def holder_id() -> str:
    """This process, as claims name it."""
    return f"{socket.gethostname()}:{os.getpid()}:{_RUN}"


_RUN = uuid.uuid4().hex[:8]


@dataclass
class Ledger:
    """Claims, states and keys for one store; one per process (or per run) is enough."""

    engine: Engine
    claim_seconds: float = 90.0
    budget_seconds: float = 120.0
    clock: Callable[[], float] = time.monotonic
    _heartbeat: _Heartbeat | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> Ledger:
        """A ledger with HEALTHBOT_CLAIM_SECONDS and HEALTHBOT_DELIVERY_BUDGET_SECONDS."""
        return cls(
            engine=engine,
            claim_seconds=settings.healthbot_claim_seconds,
            budget_seconds=settings.healthbot_delivery_budget_seconds,
        )

    def deliver(
        self,
        surface: Poster,
        *,
        key: str,
        kind: str,
        destination: str,
        message: Any,
        alert_id: int | None = None,
        thread: str | None = None,
    ) -> Delivery:
        """Deliver `message` to `destination` on `surface` unless `key` was delivered already.

        Args:
            key: what makes this message unique, e.g. "digest:2026-11-24:U0SARAH001:sarah chen". Keys are unique
                across surfaces: a surface other than Slack starts its keys with its name.
            kind: digest, alert, escalation, reply, checklist — for the operator reading the table.
            destination: a channel or user ID (Slack), a conversation ID (Teams).
            alert_id: the alert this message shows, so that every copy can be re-rendered.
            thread: post as a reply in this thread (Slack: the parent's ts).
        """
        claim = self._claim(
            key=key, kind=kind, destination=destination, surface=surface.name, alert_id=alert_id, thread=thread
        )
        if isinstance(claim, Delivery):
            return claim
        look_first, since = claim
        with self._held(key):
            try:
                return self._deliver(surface, key, destination, message, thread, look_first=look_first, since=since)
            except BaseException:
                self._settle(key, "unknown", destination, surface.name, "interrupted while posting")
                raise

    def _deliver(
        self,
        surface: Poster,
        key: str,
        destination: str,
        message: Any,
        thread: str | None,
        *,
        look_first: bool,
        since: datetime,
    ) -> Delivery:
        if look_first:
            try:
                found = surface.find(destination, key=key, thread=thread, since=since)
            except OutcomeUnknown as err:
                return self._settle(key, "unknown", destination, surface.name, f"could not look for it: {err}")
            except CannotTell as err:
                return self._settle(key, "review", destination, surface.name, str(err))
            if found is not None:
                logger.info("%s had reached %s before its post was cut short; not posting it again", key, destination)
                return self._sent(key, found, surface.name)
        try:
            deadline = self.clock() + self.budget_seconds
            posted = surface.post(destination, message, key=key, thread=thread, deadline=deadline)
        except NotPosted as err:
            return self._settle(key, "failed", destination, surface.name, str(err))
        except OutcomeUnknown as err:
            # A slow or lost answer usually means the message arrived: look at once, else leave it for the next run.
            try:
                found = surface.find(destination, key=key, thread=thread, since=since)
            except (OutcomeUnknown, CannotTell):
                found = None
            if found is not None:
                return self._sent(key, found, surface.name)
            return self._settle(key, "unknown", destination, surface.name, str(err))
        return self._sent(key, posted, surface.name)

    # --- claims -------------------------------------------------------------------------------------------------

    def _claim(
        self, *, key: str, kind: str, destination: str, surface: str, alert_id: int | None, thread: str | None
    ) -> Delivery | tuple[bool, datetime]:
        """Take `key` for this process — (look first?, since when) — or say why not."""
        now, me = utcnow(), holder_id()
        with write_session(self.engine) as session:
            row = session.exec(select(SentMessage).where(SentMessage.dedupe_key == key).with_for_update()).first()
            if row is None:
                row = SentMessage(
                    dedupe_key=key,
                    kind=kind,
                    channel=destination,
                    surface=surface,
                    claimed_at=now,
                    heartbeat_at=now,
                    holder=me,
                    attempts=1,
                    alert_id=alert_id,
                    thread_ts=thread,
                )
                try:
                    with session.begin_nested():
                        session.add(row)
                except IntegrityError:
                    # PostgreSQL: another process inserted the same key between our look and our insert.
                    return Delivery(key, "in_progress", destination, surface=surface)
                return False, now - LOOKBACK
            if row.status == "sent":
                return Delivery(key, "already_sent", row.channel, row.ts, surface=row.surface)
            if row.status == "review":
                return Delivery(key, "review", row.channel, error=row.error, surface=row.surface)
            if row.status == "pending" and self._alive(row, now):
                return Delivery(key, "in_progress", row.channel, surface=row.surface)
            # failed: nothing was posted. unknown, or pending with a dead holder: it may have been — look first.
            look_first = row.status != "failed"
            if row.status == "pending":
                logger.warning("%s was being posted by %s, which stopped; looking before posting", key, row.holder)
            row.status, row.holder, row.claimed_at, row.heartbeat_at = "pending", me, now, now
            row.attempts += 1
            session.add(row)
            return look_first, (as_utc(row.created_at) or now) - LOOKBACK

    def _alive(self, row: SentMessage, now: datetime) -> bool:
        renewed = as_utc(row.heartbeat_at) or as_utc(row.claimed_at)
        return renewed is not None and renewed + timedelta(seconds=self.claim_seconds) > now

    @contextmanager
    def _held(self, key: str) -> Iterator[None]:
        if self._heartbeat is None:
            self._heartbeat = _Heartbeat(self.engine, interval=self.claim_seconds / 3)
        with self._heartbeat.holding(key):
            yield

    def _sent(self, key: str, posted: Posted, surface: str) -> Delivery:
        with write_session(self.engine) as session:
            row = session.exec(select(SentMessage).where(SentMessage.dedupe_key == key)).one()
            row.status, row.channel, row.ts, row.sent_at = "sent", posted.destination, posted.ref, utcnow()
            row.error, row.holder = None, None
            session.add(row)
        return Delivery(key, "sent", posted.destination, posted.ref, surface=surface)

    def _settle(self, key: str, status: Outcome, destination: str, surface: str, reason: str) -> Delivery:
        next_step = {"failed": "the next run posts it", "unknown": "the next run looks for it before posting"}
        logger.warning("%s to %s: %s (%s; %s)", key, destination, status, reason, next_step.get(status, "review it"))
        with write_session(self.engine) as session:
            row = session.exec(select(SentMessage).where(SentMessage.dedupe_key == key)).one()
            if row.status == "pending" and row.holder == holder_id():
                row.status, row.error, row.holder = status, reason[:500], None
                session.add(row)
        return Delivery(key, status, destination, error=reason, surface=surface)

    # --- what an operator, a re-render or the team digest asks ------------------------------------------------------

    def copies(self, alert_id: int, *, surface: str | None = None) -> list[SentMessage]:
        """The posted messages that show an alert (its DMs, channel posts, escalation), not thread replies."""
        with read_session(self.engine) as session:
            query = select(SentMessage).where(
                SentMessage.alert_id == alert_id,
                SentMessage.status == "sent",
                col(SentMessage.thread_ts).is_(None),
                col(SentMessage.kind).in_(("alert", "escalation")),
            )
            if surface is not None:
                query = query.where(SentMessage.surface == surface)
            return list(session.exec(query.order_by(col(SentMessage.id))).all())

    def unsent(self, *, kind: str | None = None, since: datetime | None = None) -> list[SentMessage]:
        """Messages claimed but not delivered, newest first: what an operator looks at after an outage."""
        with read_session(self.engine) as session:
            query = select(SentMessage).where(SentMessage.status != "sent")
            if kind is not None:
                query = query.where(SentMessage.kind == kind)
            if since is not None:
                query = query.where(SentMessage.created_at >= since)
            return list(session.exec(query.order_by(col(SentMessage.id).desc())).all())

    def keys_not_delivered(self, keys: list[str]) -> list[str]:
        """Which of `keys` are claimed and not delivered (failed, unknown, review, or pending with a dead holder)."""
        if not keys:
            return []
        now = utcnow()
        with read_session(self.engine) as session:
            rows = session.exec(select(SentMessage).where(col(SentMessage.dedupe_key).in_(keys))).all()
        return [
            row.dedupe_key
            for row in rows
            if row.status in NOT_DELIVERED or (row.status == "pending" and not self._alive(row, now))
        ]


def unsent(engine: Engine, *, kind: str | None = None, since: datetime | None = None) -> list[SentMessage]:
    """Messages claimed but not delivered, newest first."""
    return Ledger(engine).unsent(kind=kind, since=since)


class _Heartbeat:
    """Renews this process's claims every `interval` seconds while it holds any (one thread per ledger)."""

    def __init__(self, engine: Engine, *, interval: float) -> None:
        self._engine = engine
        self._interval = max(interval, 0.05)
        self._keys: dict[str, int] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def holding(self, key: str) -> Iterator[None]:
        with self._lock:
            self._keys[key] = self._keys.get(key, 0) + 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._beat, name="healthbot-claims", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._keys[key] -= 1
                if not self._keys[key]:
                    del self._keys[key]

    def _beat(self) -> None:
        while True:
            time.sleep(self._interval)
            with self._lock:
                keys = list(self._keys)
                if not keys:
                    self._thread = None
                    return
            try:
                with write_session(self._engine) as session:
                    session.execute(
                        update(SentMessage)
                        .where(
                            col(SentMessage.dedupe_key).in_(keys),
                            col(SentMessage.holder) == holder_id(),
                            col(SentMessage.status) == "pending",
                        )
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:
                logger.exception("could not renew this process's delivery claims; retrying in %.0f s", self._interval)
