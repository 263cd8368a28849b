"""Posting to Slack through the delivery ledger (bot.ledger): chat.postMessage with the message's key in its
metadata, Slack's rate limits waited out within the message's budget, every failure sorted into "nothing was
posted" and "it may have been", and conversations.history to find a message whose post was cut short.

The Web API client's own retries are ours too (`retry_handlers`): slack_sdk's rate-limit handler sleeps for any
Retry-After and its connection handler re-sends a post whose answer was lost, so neither is used for posts.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.client import HTTPException
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy.engine import Engine

from bot.ledger import CannotTell, Delivery, Ledger, NotPosted, OutcomeUnknown, Posted, unsent
from bot.store import SentMessage

logger = logging.getLogger(__name__)

__all__ = ["Delivery", "Pacer", "SlackOutbox", "SlackPoster", "post_once", "unsent"]

CHANNEL_GAP_SECONDS = 1.0  # Slack allows about one message per second per channel
EVENT_TYPE = "healthbot_delivery"  # the metadata event type that carries a message's delivery key
HISTORY_PAGES = 10  # how many pages of conversations.history to look through for a cut-short post
# Calls that create something: a lost answer must not make the client send them again.
NOT_IDEMPOTENT = ("chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage", "files.completeUploadExternal")
# Refusals that looking again will not change: the bot may not read that conversation.
CANNOT_LOOK = ("missing_scope", "not_in_channel", "channel_not_found", "not_allowed_token_type", "access_denied")


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


# --- the client's retries -----------------------------------------------------------------------------------------


def retry_after(headers: Any) -> float:
    """Slack's Retry-After in seconds (1 when it is missing or unreadable)."""
    for name, value in dict(headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                return 1.0
    return 1.0


def _method(request: HttpRequest) -> str:
    return request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class BoundedRateLimitRetry(RetryHandler):
    """Waits out a 429 only when Slack asks for at most `max_wait` seconds (a 429 means nothing was done, so trying
    again is safe); a longer wait is left to the caller — SlackPoster waits within the message's own budget."""

    def __init__(self, *, max_wait: float, max_retry_count: int = 2) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429 and retry_after(response.headers) <= self.max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        time.sleep(retry_after(response.headers if response is not None else {}))
        state.increment_current_attempt()


class IdempotentConnectionRetry(ConnectionErrorRetryHandler):
    """Retries a dropped connection for reads and updates; a post whose answer was lost is left to the ledger,
    which looks for it before posting again."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _method(request) in NOT_IDEMPOTENT:
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def retry_handlers(*, max_wait: float, connection_retries: int = 2) -> list[RetryHandler]:
    """The Web API client's retries: rate limits up to `max_wait` seconds, and dropped connections — never for a
    call that creates something, whose answer may have been lost after Slack did it."""
    return [BoundedRateLimitRetry(max_wait=max_wait), IdempotentConnectionRetry(max_retry_count=connection_retries)]


# --- posting ------------------------------------------------------------------------------------------------------


def slack_error(err: Exception) -> str:
    """What went wrong, in a line an operator can act on."""
    if isinstance(err, SlackApiError):
        return f"Slack answered {err.response.status_code}: {err.response.get('error', 'no reason given')}"
    return f"could not reach Slack: {err}"


def _unreachable(err: Exception) -> bool:
    """The request never left: connection refused, or the host is unknown."""
    reason = err.reason if isinstance(err, URLError) else err
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


@dataclass
class SlackPoster:
    """How Slack posts and finds messages for the ledger (bot.ledger.Poster)."""

    client: WebClient
    pacer: Pacer | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    name: str = "slack"
    _dm_channels: dict[str, str] = field(default_factory=dict)

    def post(self, destination: str, message: Any, *, key: str, thread: str | None, deadline: float) -> Posted:
        """chat.postMessage carrying `key` in its metadata; 429s waited out until `deadline`, never past it."""
        while True:
            if self.pacer is not None:
                self.pacer.wait(destination)
            try:
                response = self.client.chat_postMessage(
                    channel=destination,
                    text=message["text"],
                    blocks=message.get("blocks"),
                    attachments=message.get("attachments"),
                    thread_ts=thread,
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key}},
                )
            except SlackApiError as err:
                status = err.response.status_code
                if status == 429:
                    wait = retry_after(err.response.headers)
                    if self.clock() + wait > deadline:
                        raise NotPosted(f"Slack is rate limiting posts and asked for {wait:.0f} s more") from err
                    logger.info("Slack is rate limiting posts to %s; waiting %.0f s", destination, wait)
                    self.sleep(wait)
                    continue
                if status >= 500:
                    raise OutcomeUnknown(slack_error(err)) from err
                raise NotPosted(slack_error(err)) from err
            except (OSError, HTTPException) as err:
                if isinstance(err, OSError) and _unreachable(err):
                    raise NotPosted(slack_error(err)) from err
                raise OutcomeUnknown(f"no answer from Slack: {err}") from err
            return Posted(str(response["channel"]), str(response["ts"]))

    def find(self, destination: str, *, key: str, thread: str | None, since: datetime) -> Posted | None:
        """The bot's message carrying `key` in `destination` (or in `thread` there) since `since`."""
        try:
            channel = self._conversation(destination)
            cursor: str | None = None
            for _ in range(HISTORY_PAGES):
                common: dict[str, Any] = {"channel": channel, "oldest": f"{since.timestamp():.6f}", "limit": 200}
                if cursor:
                    common["cursor"] = cursor
                if thread:
                    page = self.client.conversations_replies(ts=thread, include_all_metadata=True, **common)
                else:
                    page = self.client.conversations_history(include_all_metadata=True, **common)
                for message in page.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    if (
                        metadata.get("event_type") == EVENT_TYPE
                        and (metadata.get("event_payload") or {}).get("key") == key
                    ):
                        return Posted(channel, str(message["ts"]))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return None
        except SlackApiError as err:
            if err.response.get("error") in CANNOT_LOOK:
                raise CannotTell(
                    f"may have been posted to {destination}, and Slack will not let the bot look "
                    f"({err.response.get('error')}): check there, then delete this row to post it again"
                ) from err
            raise OutcomeUnknown(slack_error(err)) from err
        except (OSError, HTTPException) as err:
            raise OutcomeUnknown(slack_error(err)) from err
        raise CannotTell(f"too many messages in {destination} since {since:%H:%M} to find it: check there")

    def _conversation(self, destination: str) -> str:
        # A DM is posted to the person's user ID, but its history lives in the DM's own conversation ID.
        if destination[:1] not in ("U", "W"):
            return destination
        if destination not in self._dm_channels:
            opened = self.client.conversations_open(users=destination)
            self._dm_channels[destination] = str(opened["channel"]["id"])
        return self._dm_channels[destination]


@dataclass
class SlackOutbox:
    """Posting and updating on Slack for one process: the ledger, the client and one pacer for every channel."""

    ledger: Ledger
    client: WebClient
    pacer: Pacer = field(default_factory=Pacer)
    poster: SlackPoster = field(init=False)

    def __post_init__(self) -> None:
        self.poster = SlackPoster(self.client, self.pacer)

    def post(
        self,
        *,
        key: str,
        kind: str,
        channel: str,
        message: dict[str, Any],
        alert_id: int | None = None,
        thread_ts: str | None = None,
    ) -> Delivery:
        """Post `message` ({"text", "blocks", "attachments"}) to `channel` once, ever, for `key`."""
        return self.ledger.deliver(
            self.poster, key=key, kind=kind, destination=channel, message=message, alert_id=alert_id, thread=thread_ts
        )

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> bool:
        """chat.update one posted message; False (logged) when Slack refuses (deleted, archived) or is away."""
        try:
            self.client.chat_update(
                channel=channel,
                ts=ts,
                text=message["text"],
                blocks=message.get("blocks"),
                attachments=message.get("attachments"),
            )
        except (SlackApiError, OSError, HTTPException) as err:
            logger.warning("could not update the message %s in %s (%s)", ts, channel, slack_error(err))
            return False
        return True

    def copies(self, alert_id: int) -> list[SentMessage]:
        """The alert's posted Slack copies."""
        return self.ledger.copies(alert_id, surface="slack")


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
    """Post `message` to `channel` unless `key` was posted already, with the ledger's default claim and budget."""
    outbox = SlackOutbox(Ledger(engine), client, pacer or Pacer(gap=0))
    return outbox.post(key=key, kind=kind, channel=channel, message=message, alert_id=alert_id, thread_ts=thread_ts)
