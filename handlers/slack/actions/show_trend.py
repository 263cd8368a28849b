"""The health card's "Show trend" button: the account's 13-month chart, uploaded under the card."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.trend_charts import account_trend
from handlers.slack.actions.payload import clicked_thread, clicker
from handlers.slack.deps import deps_of
from handlers.slack.uploads import send_chart


def show_trend_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """Upload the account's trend chart in the card's thread; a private card's chart goes to the clicker's DM."""
    ack()
    deps = deps_of(context)
    account_id = action.get("value") or ""
    # A private (ephemeral) card has no thread to reply in, and the chart must not go public in its channel.
    where = None if (body.get("container") or {}).get("is_ephemeral") else clicked_thread(body)
    send_chart(
        lambda model: account_trend(deps.engine, model, account_id),
        deps=deps,
        client=client,
        channel=where[0] if where else None,
        thread_ts=where[1] if where else None,
        asker=clicker(body),
        respond=respond,
    )
