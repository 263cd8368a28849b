"""The Slack app manifest: scopes that cover every Web API method the code calls, the events it listens to, and
the rest of what makes one paste create a working app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.slack.manifest import BOT_SCOPES, build_manifest, manifest_yaml

ROOT = Path(__file__).resolve().parents[3]
SOURCE_PACKAGES = ("bot", "handlers", "messages", "scoring")

# Slack's documented bot scope for each Web API method (api.slack.com/methods). A method the code starts calling
# must be added here with its scope — the test below fails until it is.
SCOPES_FOR_METHOD: dict[str, frozenset[str]] = {
    "auth_test": frozenset(),
    "chat_postMessage": frozenset({"chat:write"}),
    "chat_postEphemeral": frozenset({"chat:write"}),
    "chat_update": frozenset({"chat:write"}),
    "chat_delete": frozenset({"chat:write"}),
    "conversations_open": frozenset({"im:write"}),
    # Either conversation kind may be the destination; the bot needs every one of them.
    "conversations_history": frozenset({"channels:history", "groups:history", "im:history", "mpim:history"}),
    "conversations_replies": frozenset({"channels:history", "groups:history", "im:history", "mpim:history"}),
    "users_info": frozenset({"users:read"}),
    "users_lookupByEmail": frozenset({"users:read", "users:read.email"}),
    "usergroups_users_list": frozenset({"usergroups:read"}),
    "views_publish": frozenset(),
    "views_open": frozenset(),
    "views_update": frozenset(),
    "views_push": frozenset(),
    "files_upload_v2": frozenset({"files:write"}),
    "files_getUploadURLExternal": frozenset({"files:write"}),
    "files_completeUploadExternal": frozenset({"files:write"}),
}
SCOPES_FOR_EVENT = {
    "app_mention": {"app_mentions:read"},
    "message.im": {"im:history"},
    "app_home_opened": set(),
    "assistant_thread_started": {"assistant:write"},
    "assistant_thread_context_changed": {"assistant:write"},
}
WEB_API_METHODS = {name for name in dir(WebClient) if not name.startswith("_") and "_" in name}


def web_api_methods_called() -> dict[str, set[str]]:
    """Every WebClient method called anywhere in the source, with the files that call it."""
    called: dict[str, set[str]] = {}
    for package in SOURCE_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text()
            for name in set(re.findall(r"\.([a-z]+_[A-Za-z_0-9]+)\(", source)) & WEB_API_METHODS:
                called.setdefault(name, set()).add(str(path.relative_to(ROOT)))
            for method in re.findall(r"api_call\(\s*[\"']([a-zA-Z]+\.[a-zA-Z.]+)[\"']", source):
                called.setdefault(method.replace(".", "_"), set()).add(str(path.relative_to(ROOT)))
    return called


def test_the_source_scan_finds_the_calls_we_know_of() -> None:
    called = web_api_methods_called()
    for method in ("chat_postMessage", "views_publish", "users_info", "usergroups_users_list"):
        assert method in called


def test_bot_scopes_cover_every_web_api_method_the_code_calls() -> None:
    scopes = set(build_manifest()["oauth_config"]["scopes"]["bot"])
    for method, files in sorted(web_api_methods_called().items()):
        assert method in SCOPES_FOR_METHOD, f"{method} (called in {sorted(files)}): add its scope to this test"
        missing = SCOPES_FOR_METHOD[method] - scopes
        assert not missing, f"{method} needs {sorted(missing)} in bot/slack/manifest.py's BOT_SCOPES"


def test_bot_scopes_cover_every_event_and_the_slash_command() -> None:
    manifest = build_manifest()
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert set(events) == {
        "app_mention",
        "message.im",
        "app_home_opened",
        "assistant_thread_started",
        "assistant_thread_context_changed",
    }
    for event in events:
        assert SCOPES_FOR_EVENT[event] <= scopes
    assert "commands" in scopes


def test_the_agent_view_is_on_with_prompts_and_its_scope() -> None:
    manifest = build_manifest()
    agent = manifest["features"]["agent_view"]
    assert agent["agent_description"] and 1 <= len(agent["suggested_prompts"]) <= 4
    assert all(p["title"] and p["message"] for p in agent["suggested_prompts"])
    assert "assistant:write" in manifest["oauth_config"]["scopes"]["bot"]


def test_every_scope_says_why_it_is_needed() -> None:
    for scope, why in BOT_SCOPES.items():
        assert len(why) > 10, scope


def test_socket_mode_manifest_needs_no_url() -> None:
    manifest = build_manifest()
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"] == {"is_enabled": True}
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/health" and "url" not in command
    assert command["should_escape"] is True  # mentions arrive as <@U123|name>, which parse_command reads
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"] and not home["messages_tab_read_only_enabled"]


def test_http_mode_manifest_points_everything_at_one_request_url() -> None:
    manifest = build_manifest(public_url="https://healthbot.example.com/")
    url = "https://healthbot.example.com/slack/events"
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"] == {"is_enabled": True, "request_url": url}
    assert manifest["features"]["slash_commands"][0]["url"] == url


def test_slack_limits_on_the_texts() -> None:
    info = build_manifest()["display_information"]
    assert len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    assert re.fullmatch(r"#[0-9a-f]{6}", info["background_color"])


def test_healthbot_manifest_prints_yaml_that_reads_back() -> None:
    result = CliRunner().invoke(cli, ["manifest", "--url", "https://cs.example.com", "--name", "Pulse"])
    assert result.exit_code == 0, result.output
    manifest = yaml.safe_load(result.output)
    assert manifest == build_manifest(public_url="https://cs.example.com", name="Pulse")
    assert manifest["features"]["bot_user"]["display_name"] == "Pulse"
    assert yaml.safe_load(manifest_yaml()) == build_manifest()


@pytest.mark.parametrize("url", ["http://cs.example.com", "cs.example.com"])
def test_a_url_that_is_not_https_is_refused(url: str) -> None:
    result = CliRunner().invoke(cli, ["manifest", "--url", url])
    assert result.exit_code == 2
    assert "https://" in result.output
