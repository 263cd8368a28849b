"""The App Home tab: the person's own book, matched by their Slack ID or their email address."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.intents import Intent, help_notice
from bot.routing import alert_scope_view
from handlers.slack.deps import AppDeps, deps_of
from handlers.slack.people import book_owner
from handlers.slack.replies import APOLOGY, answer_view
from messages import views
from messages.blockkit import MAX_HOME_BLOCKS, render_home, render_message

logger = logging.getLogger(__name__)


def welcome_notice() -> views.Notice:
    """What someone without a book of accounts sees on the Home tab."""
    return views.Notice(
        title="Welcome to Healthbot",
        lines=[
            "No accounts are assigned to you yet: none lists your Slack ID as its CSM, or your email as the CSM's.",
            "Ask whoever imports the accounts file to fill in `csm_slack_id` or `csm_email`. Meanwhile:",
            "",
            *help_notice().lines,
        ],
        kind="info",
    )


def app_home_opened_callback(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Publish the person's book on their Home tab each time they open it."""
    if event.get("tab") != "home":
        return
    deps = deps_of(context)
    user_id = event["user"]
    view: object
    try:
        owner = book_owner(user_id, engine=deps.engine, people=deps.people)
    except Exception:
        logger.exception("could not find the book of %s", user_id)
        view = APOLOGY
    else:
        view = (
            answer_view(Intent("portfolio", subject=owner), deps=deps, user_id=user_id) if owner else welcome_notice()
        )
    try:
        home = render_home(view)
    except Exception:
        logger.exception("could not render the Home tab")
        home = render_home(APOLOGY)
    home = with_alert_settings(home, deps=deps, user_id=user_id)
    try:
        client.views_publish(user_id=user_id, view=home)
    except (SlackApiError, OSError):
        logger.exception("could not publish the Home tab of %s", user_id)


def with_alert_settings(home: dict[str, Any], *, deps: AppDeps, user_id: str) -> dict[str, Any]:
    """The Home tab with the person's alert settings (whose accounts, which severities) at the bottom."""
    try:
        settings = render_message(alert_scope_view(deps.engine, user_id))["blocks"]
    except Exception:
        logger.exception("could not show the alert settings of %s", user_id)
        return home
    if len(home["blocks"]) + len(settings) > MAX_HOME_BLOCKS:
        return home  # the book comes first; a Home tab that full is trimmed already
    return {**home, "blocks": [*home["blocks"], *settings]}
