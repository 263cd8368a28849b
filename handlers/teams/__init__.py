"""Teams listeners: thin functions that read an activity, ask the core, and answer with an Adaptive Card."""

from __future__ import annotations

from microsoft_teams.apps import App

from bot.teams.app import TeamsDeps
from handlers.teams import card_actions, install, messages


def register(app: App, deps: TeamsDeps) -> None:
    """Register every Teams listener on the SDK app."""
    messages.register(app, deps)
    install.register(app, deps)
    card_actions.register(app, deps)
