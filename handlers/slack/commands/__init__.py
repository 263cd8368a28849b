"""Slash commands."""

from slack_bolt import App

from handlers.slack.commands.health import health_command_callback


def register(app: App) -> None:
    """Listen for `/health`."""
    app.command("/health")(health_command_callback)
