"""What listeners and middleware share: the store, the settings, the people directory, and the seal on our forms."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from functools import lru_cache

from slack_bolt import BoltContext
from sqlalchemy.engine import Engine

from bot.forms import FormSeal, FormTarget
from bot.settings import Settings
from handlers.slack.access import AccessList
from handlers.slack.people import PeopleDirectory

CONTEXT_KEY = "healthbot"


@dataclass(frozen=True)
class AppDeps:
    """The bot's own things a listener needs, beside what Bolt injects."""

    engine: Engine
    settings: Settings
    executor: Executor  # the listeners' worker pool; refusals made by middleware run there too
    access: AccessList
    people: PeopleDirectory


def deps_of(context: BoltContext) -> AppDeps:
    """The AppDeps that `bot.slack.app.create_app` put into every request's context."""
    deps = context.get(CONTEXT_KEY)
    if not isinstance(deps, AppDeps):
        raise RuntimeError("the healthbot middleware did not run: build the app with bot.slack.app.create_app")
    return deps


FORM_TARGET = "healthbot.form_target"  # where RefuseMalformed leaves a submitted form's checked target


def form_seal(settings: Settings) -> FormSeal:
    """The seal on our forms' metadata, keyed from the signing secret (Socket Mode: the app token)."""
    secret = settings.slack_signing_secret or settings.slack_app_token or settings.slack_bot_token or ""
    return _seal(secret)


@lru_cache(maxsize=4)
def _seal(secret: str) -> FormSeal:
    return FormSeal(secret)


def form_target(context: BoltContext) -> FormTarget:
    """What the submitted form was opened on, as its signed metadata says (checked by the middleware)."""
    target = context.get(FORM_TARGET)
    if not isinstance(target, FormTarget):
        raise RuntimeError("the form's metadata was not checked: build the app with bot.slack.app.create_app")
    return target
