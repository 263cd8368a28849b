"""The Slack app manifest that creates Healthbot in one paste (api.slack.com/apps → Create New App → From a manifest).

Without a public URL the app uses Socket Mode (no URL needed — the quickest way to try it); with one, Slack sends
commands, events and button clicks to `<url>/slack/events`.
"""

from __future__ import annotations

from typing import Any

import yaml

# Every bot scope, and why the bot needs it. tests/bot/test_manifest.py checks these cover every Web API method the
# code calls, so a new call without its scope fails the build rather than a workspace install.
BOT_SCOPES: dict[str, str] = {
    "commands": "the /health slash command",
    "app_mentions:read": "questions asked by mentioning @Healthbot in a channel",
    "chat:write": "answers in threads and DMs, alerts and digests, and updating them after a click",
    "im:history": "questions sent to Healthbot by direct message; finding a DM whose post got no answer",
    "channels:history": "finding a post to a public channel whose answer was lost, before posting it again",
    "groups:history": "finding a post to a private channel whose answer was lost, before posting it again",
    "mpim:history": "finding a post to a group DM whose answer was lost, before posting it again",
    "im:write": "opening a DM with a CSM for their alerts and digest (conversations.open)",
    "users:read": "looking people up (users.info) to match them to their book of accounts",
    "users:read.email": "matching a person to accounts by the CSM email in the accounts file",
    "usergroups:read": "user groups in HEALTHBOT_ALLOWED_USERS (usergroups.users.list)",
    "files:write": "uploading exports and trend charts",
    "assistant:write": "the agent view: suggested prompts and a status line while an answer is built "
    "(assistant.threads.setSuggestedPrompts, assistant.threads.setStatus)",
}
BOT_EVENTS: tuple[str, ...] = (
    "app_home_opened",
    "app_mention",
    "message.im",
    "assistant_thread_started",  # the agent view: a person opens a new thread with Healthbot
    "assistant_thread_context_changed",
)
# Slack's agent view opens with these until the person's own prompts (drawn from their book) replace them.
AGENT_PROMPTS: tuple[tuple[str, str], ...] = (
    ("My red accounts", "my red accounts"),
    ("Renewals in 30 days", "my renewals in the next 30 days"),
    ("What changed since last week?", "what changed in my book since last week?"),
    ("How is the score calculated?", "how is the health score calculated?"),
)
EVENTS_PATH = "/slack/events"
COMMAND_USAGE = (
    "[account] | portfolio [@user | name | me] | risks | expansion | trends | segment [name] | export | help"
)


def build_manifest(*, public_url: str | None = None, name: str = "Healthbot") -> dict[str, Any]:
    """The manifest as data.

    Args:
        public_url: where Slack reaches this app over HTTPS (e.g. https://healthbot.example.com); None for Socket Mode.
        name: the app's name in the workspace.
    """
    request_url = public_url.rstrip("/") + EVENTS_PATH if public_url else None
    command: dict[str, Any] = {
        "command": "/health",
        "description": "Customer health: an account, a portfolio, risks, expansion, trends",
        "usage_hint": COMMAND_USAGE,
        # Escaped, a mention arrives as <@U123|sarah>: the person's ID, not a name to guess from.
        "should_escape": True,
    }
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if request_url:
        command["url"] = request_url
        events["request_url"] = request_url
        interactivity["request_url"] = request_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Customer health scores, early warnings and playbooks for Customer Success teams",
            "long_description": (
                "Healthbot scores every customer account across product usage, support, sentiment, financial "
                "health and engagement, and brings it to Slack: `/health Acme Corp` for an account's health card, "
                "`/health portfolio` for a CSM's book, early-warning digests every morning, and alerts with "
                'buttons when an account turns red. Ask it in plain words too: "What caused Acme Corp health to '
                'drop?" or "Which accounts are expansion ready?"'
            ),
            "background_color": "#1d4e3f",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "agent_view": {
                "agent_description": "Ask about your accounts in plain words: an account's health, your red "
                "accounts, renewals, what changed, a success plan or QBR prep.",
                "suggested_prompts": [{"title": title, "message": message} for title, message in AGENT_PROMPTS],
            },
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": sorted(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": public_url is None,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(*, public_url: str | None = None, name: str = "Healthbot") -> str:
    """The manifest as the YAML Slack's "From a manifest" dialog takes."""
    return yaml.safe_dump(
        build_manifest(public_url=public_url, name=name), sort_keys=False, allow_unicode=True, width=120
    )
