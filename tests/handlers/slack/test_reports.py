"""Reports in Slack, end to end over real HTTP with signed requests: `/health export` uploads the file into the
conversation, "Show trend" and `/health trends` upload their charts — through files.getUploadURLExternal, the upload
URL and files.completeUploadExternal of the Web API stand-in. The bot runs on a copy of the scored demo portfolio."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from bot.store import create_db_engine
from tests.handlers.slack.checks import all_text, assert_valid_message
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import (
    CHANNEL,
    DM_CHANNEL,
    SARAH,
    app_mention,
    block_action,
    event_envelope,
    slash_command,
)
from tests.messages.test_charts import png_size


@pytest.fixture
def sqlite_url(demo_db: str, tmp_path: Path) -> str:
    """A private copy of the scored demo store (the bot records events in its store)."""
    copy = tmp_path / "demo-copy.db"
    shutil.copyfile(demo_db.removeprefix("sqlite:///"), copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Engine]:
    engine = create_db_engine(sqlite_url)
    yield engine
    engine.dispose()


def command(bot: RunningBot, text: str, *, channel: str = CHANNEL) -> None:
    reply = bot.client.command(slash_command(text, response_url=bot.api.response_url("cmd"), channel_id=channel))
    assert reply.status == 200 and reply.body == b"", "acknowledged at once, with nothing to show"


def uploaded(bot: RunningBot) -> tuple[dict[str, object], bytes]:
    """The one file that was shared: what files.completeUploadExternal was told, and the bytes uploaded."""
    [complete] = bot.api.wait_for("files.completeUploadExternal")
    [upload] = bot.api.sent("upload")
    [asked] = bot.api.sent("files.getUploadURLExternal")
    assert upload.path.endswith(complete.params["files"][0]["id"])  # the bytes belong to the file being shared
    assert int(asked.params["length"]) == len(upload.params["content"])
    return complete.params, upload.params["content"]


# ------------------------------------------------------------------------------------------------- /health export


def test_export_xlsx_is_uploaded_into_the_conversation(bot: RunningBot) -> None:
    command(bot, "export xlsx")

    shared, content = uploaded(bot)
    assert shared["channel_id"] == CHANNEL and "thread_ts" not in shared
    assert "accounts scored on 24 Nov 2026" in str(shared["initial_comment"])
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Summary", "Accounts"]
    assert book["Accounts"].max_row > 50
    [asked] = bot.api.sent("files.getUploadURLExternal")
    assert asked.params["filename"] == "customer-health-2026-11-24.xlsx"
    assert bot.api.sent("response_url") == []  # the file is the answer


def test_export_csv_of_my_own_book_holds_only_my_accounts(bot: RunningBot) -> None:
    command(bot, "export csv csm me")

    _, content = uploaded(bot)
    table = pd.read_csv(io.BytesIO(content))
    assert set(table["CSM Owner"]) == {"Sarah Chen"} and "Acme Corp" in set(table["Account Name"])
    [asked] = bot.api.sent("files.getUploadURLExternal")
    assert asked.params["filename"] == "customer-health-sarah-chen-2026-11-24.csv"


def test_export_grouped_by_segment_has_a_sheet_per_segment(bot: RunningBot) -> None:
    command(bot, "export xlsx segment enterprise by csm")

    _, content = uploaded(bot)
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames[0] == "Summary" and len(book.sheetnames) > 2
    segments = {row[9] for name in book.sheetnames[1:] for row in book[name].iter_rows(min_row=2, values_only=True)}
    assert segments == {"Enterprise"}


def test_export_where_the_bot_is_not_a_member_goes_to_the_askers_dm(bot: RunningBot) -> None:
    bot.api.channels_without_bot.add(CHANNEL)
    command(bot, "export xlsx")

    [opened] = bot.api.wait_for("conversations.open")
    assert opened.params["users"] == SARAH
    [said] = bot.api.wait_for("response_url")
    assert said.params["response_type"] == "ephemeral"
    assert "in your DM" in all_text(said.params) and "/invite" in all_text(said.params)
    completes = bot.api.attempts("files.completeUploadExternal")
    assert [c.ok for c in completes] == [False, True]
    assert completes[-1].params["channel_id"] != CHANNEL


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("export pdf", "I can't export “pdf”"),
        ("export xlsx csm Sara Chen", "Sarah Chen"),
        ("export xlsx segment Nonprofit", "No accounts for segment"),
        ("export xlsx by colour", "I can't group by"),
        ("export xlsx please now", "I didn't understand"),
    ],
)
def test_an_export_asked_wrongly_is_answered_privately_and_uploads_nothing(
    bot: RunningBot, text: str, says: str
) -> None:
    command(bot, text)

    [said] = bot.api.wait_for_exactly("response_url", 1)
    assert said.params["response_type"] == "ephemeral"
    assert says in all_text(said.params)
    assert_valid_message(said.params)
    assert bot.api.sent("files.getUploadURLExternal") == []


def test_an_export_before_anything_is_scored_says_what_to_run(bot: RunningBot) -> None:
    from sqlmodel import delete

    from bot.store import HealthScore, write_session

    with write_session(bot.engine) as session:
        session.exec(delete(HealthScore))  # type: ignore[call-overload]
    command(bot, "export csv")

    [said] = bot.api.wait_for_exactly("response_url", 1)
    assert "healthbot score" in all_text(said.params)
    assert bot.api.sent("files.getUploadURLExternal") == []


# ------------------------------------------------------------------------------------------------ "Show trend"


def test_show_trend_on_a_card_in_the_channel_uploads_the_chart_in_its_thread(bot: RunningBot) -> None:
    payload = block_action("card_show_trend", "ACCT-4521", response_url=bot.api.response_url("click"), ephemeral=False)
    card_ts = payload["message"]["ts"]
    assert bot.client.action(payload).status == 200

    shared, content = uploaded(bot)
    assert shared["channel_id"] == CHANNEL and shared["thread_ts"] == card_ts
    assert png_size(content) == (1200, 675)
    assert str(shared["initial_comment"]).startswith("Acme Corp: health score")
    assert shared["files"][0]["title"] == "Acme Corp: health trend"
    bot.api.wait_for_exactly("files.completeUploadExternal", 1)
    assert bot.api.sent("response_url") == []


def test_show_trend_on_a_private_card_sends_the_chart_to_the_clickers_dm(bot: RunningBot) -> None:
    bot.client.action(block_action("card_show_trend", "ACCT-4521", response_url=bot.api.response_url("click")))

    shared, content = uploaded(bot)
    [opened] = bot.api.sent("conversations.open")
    assert opened.params["users"] == SARAH and shared["channel_id"] != CHANNEL
    assert png_size(content) == (1200, 675)
    [said] = bot.api.wait_for("response_url")
    assert "in your DM" in all_text(said.params) and said.params["replace_original"] is False


def test_show_trend_for_an_account_that_is_gone_says_so(bot: RunningBot) -> None:
    bot.client.action(block_action("card_show_trend", "ACCT-GONE", response_url=bot.api.response_url("click")))

    [said] = bot.api.wait_for_exactly("response_url", 1)
    assert "ACCT-GONE" in all_text(said.params)
    assert bot.api.sent("files.getUploadURLExternal") == []


# ----------------------------------------------------------------------------------------------------- /health trends


def test_health_trends_answers_privately_and_sends_the_segment_chart_to_the_dm(bot: RunningBot) -> None:
    command(bot, "trends")

    [answer] = bot.api.wait_for("response_url")
    assert answer.params["response_type"] == "ephemeral"
    shared, content = uploaded(bot)
    assert shared["channel_id"] != CHANNEL and png_size(content) == (1200, 675)
    assert "Enterprise" in str(shared["initial_comment"])


def test_a_trends_question_in_a_thread_gets_the_chart_in_that_thread(bot: RunningBot) -> None:
    event = app_mention("Which health trends should worry us most this quarter?", channel=DM_CHANNEL)
    bot.client.event(event_envelope(event))

    [reply] = bot.api.wait_for("chat.postMessage")
    assert reply.params["thread_ts"] == event["ts"]
    shared, content = uploaded(bot)
    assert shared["channel_id"] == DM_CHANNEL and shared["thread_ts"] == event["ts"]
    assert png_size(content) == (1200, 675)
