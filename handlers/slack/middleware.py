"""Global middleware, in the order `bot.slack.app.create_app` installs it: hand listeners their dependencies,
answer each Slack event once, and turn away people who are not on the access list."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from handlers.slack.access import REFUSAL
from handlers.slack.deps import CONTEXT_KEY, AppDeps
from handlers.slack.once import first_delivery, forget_old_events
from handlers.slack.replies import notice_message, respond_safely

logger = logging.getLogger(__name__)

_PRUNE_EVERY_SECONDS = 3600.0


class ProvideDeps(Middleware):
    """Put the bot's `AppDeps` into every request's context."""

    def __init__(self, deps: AppDeps) -> None:
        self.deps = deps

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        req.context[CONTEXT_KEY] = self.deps
        next()
        return resp


class DeliverEventsOnce(Middleware):
    """Answer each Events API envelope once. Slack retries an event it thinks we missed (`X-Slack-Retry-Num`);
    the envelope's `event_id` is recorded in the store before any side effect, and a second delivery of the same
    id is acknowledged and dropped. A retry whose first delivery never arrived is answered as usual."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self._clock = clock
        self._next_prune = clock()
        self._prune_lock = threading.Lock()

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        event_id = req.body.get("event_id") if req.body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id:
            try:
                first = first_delivery(self.engine, event_id)
            except Exception:
                # Without the store we cannot tell a retry from a first delivery; answering twice beats silence.
                logger.exception("could not record Slack event %s; handling it anyway", event_id)
                first = True
            if not first:
                retry = req.headers.get("x-slack-retry-num", ["0"])[0]
                logger.info("Slack delivered event %s again (retry %s); it was already handled", event_id, retry)
                return BoltResponse(status=200, body="")
            self._prune_now_and_then()
        next()
        return resp

    def _prune_now_and_then(self) -> None:
        if self._clock() < self._next_prune or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._next_prune = self._clock() + _PRUNE_EVERY_SECONDS
            forget_old_events(self.engine)
        except Exception:
            logger.exception("could not prune old processed events")
        finally:
            self._prune_lock.release()


class AllowedUsersOnly(Middleware):
    """Turn away people who are not on `HEALTHBOT_ALLOWED_USERS`, politely and where they asked; nothing else runs."""

    def __init__(self, deps: AppDeps) -> None:
        self.deps = deps

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        user_id = req.context.user_id
        if user_id is None or _from_a_bot(req.body) or self.deps.access.allows(user_id):
            next()
            return resp
        logger.info("turned away %s: not on the access list", user_id)
        refusal = notice_message(REFUSAL)
        if req.body.get("command"):
            return BoltResponse(status=200, body={"response_type": "ephemeral", **refusal})
        self.deps.executor.submit(self._refuse, req, user_id, refusal)
        return BoltResponse(status=200, body="")

    def _refuse(self, req: BoltRequest, user_id: str, refusal: dict[str, Any]) -> None:
        body, context = req.body, req.context
        event = body.get("event") or {}
        try:
            if body.get("type") == "block_actions" and context.respond is not None:
                respond_safely(context.respond, refusal, replace_original=False)
            elif event.get("type") == "app_home_opened":
                context.client.views_publish(user_id=user_id, view={"type": "home", "blocks": refusal["blocks"]})
            elif event.get("type") == "app_mention":
                context.client.chat_postEphemeral(channel=event["channel"], user=user_id, **refusal)
            elif event.get("type") == "message" and event.get("channel_type") == "im" and not event.get("subtype"):
                context.client.chat_postMessage(
                    channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"], **refusal
                )
        except (SlackApiError, OSError):
            logger.exception("could not deliver a refusal to %s", user_id)


def _from_a_bot(body: dict[str, Any]) -> bool:
    # Another bot talking to us gets no answer at all — refusing it would start a conversation between bots.
    event = body.get("event") or {}
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message")
