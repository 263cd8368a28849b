"""The running-bot fixtures of tests/handlers, for the app and server tests here."""

from tests.handlers.slack.conftest import bot, slack_api, start_bot, store

__all__ = ["bot", "slack_api", "start_bot", "store"]
