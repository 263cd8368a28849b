"""create_app: the Web API client it builds (SLACK_API_URL, retries on 429 and dropped connections), and the
ways it refuses to start."""

from __future__ import annotations

import logging
import time

import pytest
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.settings import Settings, SettingsError
from bot.slack.app import create_app, create_web_client
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import SIGNING_SECRET, app_mention, event_envelope
from tests.slack_api import BOT_TOKEN, SlackApiStandIn


def settings_for(api: SlackApiStandIn, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": api.base_url,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def test_the_web_client_talks_to_slack_api_url(slack_api: SlackApiStandIn, store: Engine) -> None:
    create_app(settings_for(slack_api), engine=store)
    [check] = slack_api.sent("auth.test")  # Bolt checks the token once, at start-up
    assert check.path == "/api/auth.test"


def test_slack_api_url_works_without_its_trailing_slash(slack_api: SlackApiStandIn) -> None:
    client = create_web_client(settings_for(slack_api, slack_api_url=slack_api.base_url.rstrip("/")))
    assert client.auth_test()["user_id"]


def test_a_rate_limited_answer_still_lands(bot: RunningBot) -> None:
    bot.api.fail("chat.postMessage", status=429, retry_after=1)
    bot.client.event(event_envelope(app_mention("which accounts are expansion ready?")))
    [posted] = bot.api.wait_for("chat.postMessage", timeout=10)
    attempts = bot.api.attempts("chat.postMessage")
    assert [attempt.status for attempt in attempts] == [429, 200]
    assert posted.at - attempts[0].at >= 1, "the client waited as long as Retry-After asked"


def test_a_post_whose_answer_was_lost_is_not_sent_again(bot: RunningBot) -> None:
    bot.api.fail("chat.postMessage", status=0, carried_out=True)  # Slack posted it; the connection dropped after
    bot.client.event(event_envelope(app_mention("which accounts are expansion ready?")))
    bot.api.wait_for_exactly("chat.postMessage", 1, settle=1.0)
    assert len(bot.api.attempts("chat.postMessage")) == 1 and len(bot.api.posted()) == 1


def test_a_dropped_connection_is_retried_for_a_call_that_creates_nothing(slack_api: SlackApiStandIn) -> None:
    slack_api.fail("auth.test", status=0)
    assert create_web_client(settings_for(slack_api)).auth_test()["ok"]
    assert [attempt.ok for attempt in slack_api.attempts("auth.test")] == [False, True]


def test_a_long_retry_after_is_not_slept_by_the_client(slack_api: SlackApiStandIn) -> None:
    slack_api.fail("users.info", status=429, retry_after=250)  # issue 12: the SDK's handler slept any Retry-After
    started = time.monotonic()
    with pytest.raises(SlackApiError):
        create_web_client(settings_for(slack_api, healthbot_slack_timeout_seconds=2)).users_info(user="U0SARAH001")
    assert time.monotonic() - started < 2


def test_no_bot_token_is_a_settings_error_that_says_where_to_find_it(store: Engine) -> None:
    with pytest.raises(SettingsError, match=r"SLACK_BOT_TOKEN is not set.*OAuth & Permissions"):
        create_app(Settings(), engine=store)


def test_a_token_slack_refuses_stops_the_start(slack_api: SlackApiStandIn, store: Engine) -> None:
    with pytest.raises(BoltError):
        create_app(settings_for(slack_api, slack_bot_token="xoxb-revoked-or-mistyped"), engine=store)


def test_starting_logs_no_false_alarm_about_the_token(
    slack_api: SlackApiStandIn, store: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)  # as in every deployment
    create_app(settings_for(slack_api), engine=store)
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []
