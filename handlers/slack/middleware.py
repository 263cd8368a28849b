"""Global middleware, in the order `bot.slack.app.create_app` installs it: hand listeners their dependencies,
answer each Slack event and slash command once, turn away people who are not on the access list, and refuse a
submitted form that does not carry the metadata we signed when we opened it."""

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

from bot.forms import FORM_CALLBACKS, ForgedForm
from handlers.slack.access import REFUSAL
from handlers.slack.deps import CONTEXT_KEY, FORM_TARGET, AppDeps, form_seal
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
    """Answer each Events API envelope and each slash command once. Slack retries an event it thinks we missed
    (`X-Slack-Retry-Num`); the envelope's `event_id` is recorded in the store before any side effect, and a second
    delivery of the same id is acknowledged and dropped. A retry whose first delivery never arrived is answered as
    usual. A slash command carries no id, so its request signature stands for it: the same signed body sent again
    (a replay, inside the five minutes the signature is good for) is acknowledged and not answered again. The store
    is shared, so every web worker agrees."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self._clock = clock
        self._next_prune = clock()
        self._prune_lock = threading.Lock()

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        key = _delivery_key(req)
        if key is not None:
            try:
                first = first_delivery(self.engine, key)
            except Exception:
                # Without the store we cannot tell a retry from a first delivery; answering twice beats silence.
                logger.exception("could not record Slack delivery %s; handling it anyway", key)
                first = True
            if not first:
                retry = req.headers.get("x-slack-retry-num", ["0"])[0]
                logger.info("Slack delivery %s came again (retry %s); it was already handled", key, retry)
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


def _delivery_key(req: BoltRequest) -> str | None:
    """What makes this request one delivery: an event's id, a slash command's signature; None for the rest
    (clicks and form submissions are recorded once by their own keys)."""
    if req.body.get("type") == "event_callback":
        event_id = req.body.get("event_id")
        return event_id if isinstance(event_id, str) and event_id else None
    if req.body.get("command"):
        signature = (req.headers.get("x-slack-signature") or [""])[0]
        if signature.startswith("v0=") and len(signature) > 3:
            return "command:" + signature[3:][:56]  # the key column holds 64 characters; 224 bits tell them apart
    return None


class CheckSealedForms(Middleware):
    """A submitted form of ours must carry the metadata we signed when we opened it (see bot.forms.FormSeal), and
    be submitted by the person it was opened for; otherwise 400 and nothing runs. The checked target is left in the
    context for the listener (`alert_clicks.form_target`)."""

    def __init__(self, deps: AppDeps) -> None:
        self.seal = form_seal(deps.settings)

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        view = req.body.get("view")
        if req.body.get("type") != "view_submission" or not isinstance(view, dict):
            next()
            return resp
        if view.get("callback_id") not in FORM_CALLBACKS:
            next()
            return resp
        try:
            target = self.seal.open(view.get("private_metadata"))
        except ForgedForm as err:
            logger.warning("refused a %s form: %s", view.get("callback_id"), err)
            return BoltResponse(status=400, body="this form was not opened by Healthbot")
        if target.opened_by != req.context.user_id:
            logger.warning("refused a %s form submitted by someone it was not opened for", view.get("callback_id"))
            return BoltResponse(status=400, body="this form was opened for someone else")
        req.context[FORM_TARGET] = target
        next()
        return resp


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
