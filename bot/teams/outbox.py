"""Sending to Teams: new cards into a conversation and updated cards over old ones, at the conversation's service
URL, waiting out 429 (Retry-After) and retrying the 5xx answers Microsoft documents as transient."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

import httpx
from microsoft_teams.api.activities.message import MessageActivityInput
from microsoft_teams.api.clients import ApiClient

from bot.ledger import SendFailed
from messages.adaptive import Card, message

logger = logging.getLogger(__name__)

T = TypeVar("T")
RATE_LIMIT_BUDGET_SECONDS = 300.0  # how long one message may wait out 429s before it is left for the next run
TRANSIENT = (502, 503, 504)  # a gateway hiccup: Teams did not post, so a retry cannot post twice
TRANSIENT_RETRIES = 3


def activity(card: Card) -> MessageActivityInput:
    """A card as the SDK's outgoing message activity."""
    return MessageActivityInput.model_validate(message(card))


class TeamsOutbox:
    """Posts and updates cards through the SDK's API client (which carries the bot's token)."""

    def __init__(self, api: ApiClient, *, sleep: Any = asyncio.sleep) -> None:
        self._api = api
        self._sleep = sleep

    async def send(self, *, service_url: str, conversation_id: str, card: Card) -> str:
        """Post a card into a conversation; returns the new message's ID.

        Raises:
            SendFailed: Teams refused it, or kept answering 429 or 5xx past the budget.
        """
        api = self._api.from_service_url(service_url)
        sent = await self._patiently(
            lambda: api.conversations.create_activity(conversation_id, activity(card)),
            what=f"post to {conversation_id}",
        )
        return str(sent.id)

    async def update(self, *, service_url: str, conversation_id: str, activity_id: str, card: Card) -> None:
        """Replace a posted card with a new rendering (the way an alert shows who acknowledged it)."""
        api = self._api.from_service_url(service_url)
        await self._patiently(
            lambda: api.conversations.update_activity(conversation_id, activity_id, activity(card)),
            what=f"update {activity_id} in {conversation_id}",
        )

    async def _patiently(self, call: Any, *, what: str) -> Any:
        deadline = time.monotonic() + RATE_LIMIT_BUDGET_SECONDS
        transient = 0
        while True:
            try:
                return await call()
            except httpx.HTTPStatusError as err:
                status = err.response.status_code
                if status == 429:
                    wait = _retry_after(err.response)
                    if time.monotonic() + wait > deadline:
                        raise SendFailed(f"Teams kept rate limiting ({what}); the next run tries again") from err
                    logger.info("Teams is rate limiting (%s); waiting %.1f s", what, wait)
                    await self._sleep(wait)
                    continue
                if status in TRANSIENT and transient < TRANSIENT_RETRIES:
                    transient += 1
                    await self._sleep(0.5 * 2**transient)
                    continue
                raise SendFailed(f"Teams answered {status} to {what}: {err.response.text[:200]}") from err
            except httpx.TransportError as err:
                raise SendFailed(f"could not reach Teams ({what}): {err}") from err
            except Exception as err:
                # Most often the bot's own token: Entra refused the client secret, or could not be reached.
                logger.exception("could not %s", what)
                raise SendFailed(f"could not {what}: {err}") from err


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "1")), 0.0)
    except ValueError:
        return 1.0


class Loop:
    """A private event loop on its own thread, so synchronous callers (the CLI, the scheduler) can drive the
    asynchronous SDK without owning a loop."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="teams-loop", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T] | Awaitable[T]) -> T:
        """Run `coroutine` on the loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]
        return future.result()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
