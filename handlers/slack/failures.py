"""How a failed Slack call is described in the log: Slack's error code, never the request or the token."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError


def slack_error(err: Exception) -> str:
    """`invalid_auth`, `user_not_found`, … for a Slack refusal; the exception's kind for a network failure."""
    if isinstance(err, SlackApiError):
        return str(err.response.get("error"))
    return type(err).__name__
