"""What listeners and middleware share: the store, the settings, and the people directory."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

from slack_bolt import BoltContext
from sqlalchemy.engine import Engine

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
