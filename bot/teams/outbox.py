"""Sending to Teams: new cards into a conversation and updated cards over old ones, at the conversation's service
URL, waiting out 429 (Retry-After) within the delivery budget and retrying the 5xx answers Microsoft documents as
transient. Failures are told apart as the ledger needs them (bot.ledger): NotPosted when Teams refused or was never
reached, OutcomeUnknown when the card may have been posted (no answer, a 500)."""

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

from bot.ledger import NotPosted, OutcomeUnknown
from messages.adaptive import Card, message

logger = logging.getLogger(__name__)

T = TypeVar("T")
RATE_LIMIT_BUDGET_SECONDS = 120.0  # updates (outside the ledger): how long one may wait out 429s
TRANSIENT = (502, 503, 504)  # a gateway hiccup: Teams did not post, so a retry cannot post twice
TRANSIENT_RETRIES = 3


def activity(card: Card, *, key: str | None = None) -> MessageActivityInput:
    """A card as the SDK's outgoing message activity; `key` (the delivery key) rides in its channelData."""
    body = message(card)
    if key is not None:
        body["channelData"] = {"healthbotKey": key}
    return MessageActivityInput.model_validate(body)


class TeamsOutbox:
    """Posts and updates cards through the SDK's API client (which carries the bot's token)."""

    def __init__(self, api: ApiClient, *, sleep: Any = asyncio.sleep) -> None:
        self._api = api
        self._sleep = sleep

    async def send(
        self,
        *,
        service_url: str,
        conversation_id: str,
        card: Card,
        key: str | None = None,
        deadline: float | None = None,
    ) -> str:
        """Post a card into a conversation; returns the new message's ID. 429s are waited out until `deadline`
        (time.monotonic()), RATE_LIMIT_BUDGET_SECONDS from now when not given.

        Raises:
            NotPosted: Teams refused it, kept answering 429 or 502-504 past the budget, or was never reached.
            OutcomeUnknown: no answer came back, or a 500: the card may have been posted.
        """
        api = self._api.from_service_url(service_url)
        sent = await self._patiently(
            lambda: api.conversations.create_activity(conversation_id, activity(card, key=key)),
            what=f"post to {conversation_id}",
            deadline=deadline,
        )
        return str(sent.id)

    async def update(self, *, service_url: str, conversation_id: str, activity_id: str, card: Card) -> None:
        """Replace a posted card with a new rendering (the way an alert shows who acknowledged it)."""
        api = self._api.from_service_url(service_url)
        await self._patiently(
            lambda: api.conversations.update_activity(conversation_id, activity_id, activity(card)),
            what=f"update {activity_id} in {conversation_id}",
        )

    async def _patiently(self, call: Any, *, what: str, deadline: float | None = None) -> Any:
        if deadline is None:
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
                        raise NotPosted(f"Teams kept rate limiting ({what}); the next run tries again") from err
                    logger.info("Teams is rate limiting (%s); waiting %.1f s", what, wait)
                    await self._sleep(wait)
                    continue
                if status in TRANSIENT and transient < TRANSIENT_RETRIES:
                    transient += 1
                    await self._sleep(0.5 * 2**transient)
                    continue
                answer = f"Teams answered {status} to {what}: {err.response.text[:200]}"
                if status >= 500 and status not in TRANSIENT:
                    raise OutcomeUnknown(answer) from err  # a 500 may come after the card was posted
                raise NotPosted(answer) from err
            except (httpx.ConnectError, httpx.ConnectTimeout) as err:
                raise NotPosted(f"could not reach Teams ({what}): {err}") from err
            except httpx.TransportError as err:
                raise OutcomeUnknown(f"no answer from Teams ({what}): {err}") from err
            except Exception as err:
                # Most often the bot's own token: Entra refused the client secret, or could not be reached.
                logger.exception("could not %s", what)
                raise NotPosted(f"could not {what}: {err}") from err


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
