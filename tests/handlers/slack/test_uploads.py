"""Uploading a file the way Slack wants it now (files.getUploadURLExternal → bytes → files.completeUploadExternal),
over real HTTP to the Web API stand-in, with the asker's DM as the way round a channel the bot is not in."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.settings import Settings
from bot.slack.app import create_web_client
from handlers.slack.uploads import upload_file
from tests.handlers.slack.requests import CHANNEL, SARAH
from tests.slack_api import BOT_TOKEN, SlackApiStandIn

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def api(slack_api: SlackApiStandIn) -> SlackApiStandIn:
    return slack_api


@pytest.fixture
def client(api: SlackApiStandIn) -> WebClient:
    """The bot's own client: it waits out a 429 and retries a dropped connection."""
    return create_web_client(Settings(slack_bot_token=BOT_TOKEN, slack_api_url=api.base_url))


def test_a_file_goes_into_the_thread_it_was_asked_in(api: SlackApiStandIn, client: WebClient) -> None:
    landed = upload_file(
        client,
        content=PNG,
        filename="acme-corp-trend.png",
        title="Acme Corp: health trend",
        channel=CHANNEL,
        thread_ts="1700000000.000100",
        comment="Acme Corp over 13 months",
        alt_text="Health score line chart",
        asker=SARAH,
    )

    [ask] = api.sent("files.getUploadURLExternal")
    assert ask.params["filename"] == "acme-corp-trend.png" and int(ask.params["length"]) == len(PNG)
    assert ask.params["alt_txt"] == "Health score line chart"
    [upload] = api.sent("upload")
    assert upload.params["content"] == PNG  # the bytes arrive unchanged
    assert upload.path == f"/upload/{ask_file_id(api)}"
    [complete] = api.sent("files.completeUploadExternal")
    assert complete.params["channel_id"] == CHANNEL
    assert complete.params["thread_ts"] == "1700000000.000100"
    assert complete.params["initial_comment"] == "Acme Corp over 13 months"
    assert complete.params["files"][0]["title"] == "Acme Corp: health trend"
    assert landed.channel == CHANNEL and not landed.moved_to_dm and landed.file_id == ask_file_id(api)


def ask_file_id(api: SlackApiStandIn) -> str:
    return api.sent("upload")[0].path.rsplit("/", 1)[-1]


def test_a_channel_the_bot_is_not_in_sends_the_file_to_the_askers_dm(api: SlackApiStandIn, client: WebClient) -> None:
    api.channels_without_bot.add(CHANNEL)
    landed = upload_file(
        client, content=b"a,b\n1,2\n", filename="report.csv", title="Report", channel=CHANNEL, asker=SARAH
    )

    [opened] = api.sent("conversations.open")
    assert opened.params["users"] == SARAH
    [complete] = api.sent("files.completeUploadExternal")
    assert complete.params["channel_id"] == landed.channel != CHANNEL
    assert "thread_ts" not in complete.params
    assert landed.moved_to_dm


def test_without_someone_to_fall_back_to_the_refusal_is_raised(api: SlackApiStandIn, client: WebClient) -> None:
    api.channels_without_bot.add(CHANNEL)
    with pytest.raises(SlackApiError):
        upload_file(client, content=b"x", filename="x.csv", title="x", channel=CHANNEL)
    assert api.sent("conversations.open") == []


def test_a_rate_limited_upload_is_retried_by_the_bots_client(api: SlackApiStandIn, client: WebClient) -> None:
    api.fail("files.completeUploadExternal", status=429, retry_after=0)
    landed = upload_file(client, content=PNG, filename="chart.png", title="Chart", channel=CHANNEL)
    assert len(api.attempts("files.completeUploadExternal")) == 2
    assert landed.channel == CHANNEL
