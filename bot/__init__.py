"""Healthbot: customer health for Customer Success teams, inside Slack."""

__version__ = "0.1.0"
