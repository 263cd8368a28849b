"""App Home's alert settings: whose accounts' alerts a person gets by DM, and which severities."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.routing import set_alert_preference
from handlers.slack.actions.payload import clicker
from handlers.slack.deps import deps_of
from handlers.slack.events.app_home_opened import app_home_opened_callback

logger = logging.getLogger(__name__)


def alert_scope_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Store the choice, then show the Home tab again with it."""
    ack()
    user_id = clicker(body)
    if not user_id:
        return
    deps = deps_of(context)
    try:
        if action["action_id"] == "alert_scope":
            set_alert_preference(deps.engine, user_id=user_id, scope=(action.get("selected_option") or {}).get("value"))
        else:
            chosen = [option.get("value", "") for option in action.get("selected_options") or []]
            set_alert_preference(deps.engine, user_id=user_id, severities=chosen)
    except ValueError:
        logger.warning("App Home sent an alert scope we do not know: %r", action.get("selected_option"))
        return
    app_home_opened_callback({"tab": "home", "user": user_id}, client, context)
