"""`/health …` end to end: a signed slash command over HTTP, acknowledged at once, answered on the response_url."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import text
from sqlmodel import delete

from bot.intents import intent_from_value
from bot.store import Account, write_session
from tests.handlers.slack.checks import all_text, assert_valid_message
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import slash_command

EVERY_FORM = [
    "Acme Corp",
    "ACCT-4521",
    "portfolio",
    "portfolio me",
    "portfolio Sarah Chen",
    "portfolio <@U0MIKE0001|mike>",
    "risks",
    "expansion",
    "trends",
    "segment Enterprise",
    "export csv",
    "export xlsx",
    "help",
    "",
]


@pytest.mark.parametrize("text", EVERY_FORM)
def test_every_form_is_acknowledged_then_answered_privately(bot: RunningBot, text: str) -> None:
    started = time.monotonic()
    reply = bot.client.command(slash_command(text, response_url=bot.api.response_url("cmd")))
    acked_in = time.monotonic() - started

    assert reply.status == 200
    assert reply.body == b""  # the ack says nothing; the answer follows on the response_url
    assert acked_in < 3, "Slack gives up on a command after 3 seconds"
    [answer] = bot.api.wait_for("response_url")
    assert answer.path == "/response/cmd"
    assert answer.params["response_type"] == "ephemeral"
    assert_valid_message(answer.params)


def test_help_lists_everything_with_examples(bot: RunningBot) -> None:
    bot.client.command(slash_command("help", response_url=bot.api.response_url()))
    [answer] = bot.api.wait_for("response_url")
    said = all_text(answer.params)
    for example in ("/health Acme Corp", "/health portfolio", "/health risks", "/health segment Enterprise"):
        assert example in said


def test_an_unknown_account_is_answered_privately(scored_bot: RunningBot) -> None:
    bot = scored_bot  # ("Acme Corpp" is close enough to be taken as Acme Corp: it is not an unknown account)
    bot.client.command(slash_command("Tech Corp", response_url=bot.api.response_url()))
    [answer] = bot.api.wait_for("response_url")
    assert answer.params["response_type"] == "ephemeral"
    blocks = assert_valid_message(answer.params)
    suggestions = [e for b in blocks for e in b.get("elements", []) if e.get("action_id") == "pick_account"]
    assert "No account called “Tech Corp”" in all_text(answer.params)
    offered = {e["text"]["text"]: e["value"] for e in suggestions}
    assert {"Acme Corp": "ACCT-4521", "TechFlow": "ACCT-1001"}.items() <= offered.items(), "the closest names, offered"


def test_an_empty_store_still_answers(bot: RunningBot) -> None:
    with write_session(bot.engine) as session:
        session.exec(delete(Account))  # type: ignore[call-overload]
    for n, asked in enumerate(("portfolio", "risks", "Acme Corp")):
        bot.client.command(slash_command(asked, response_url=bot.api.response_url(str(n))))
    for answer in bot.api.wait_for("response_url", 3):
        assert_valid_message(answer.params)


def test_the_answer_carries_the_request_for_sharing_and_paging(scored_bot: RunningBot) -> None:
    bot = scored_bot
    bot.client.command(slash_command("risks", response_url=bot.api.response_url()))
    [answer] = bot.api.wait_for("response_url")
    blocks = answer.params.get("blocks") or []
    carried = [
        e for b in blocks for e in b.get("elements", []) if e.get("action_id") in ("health_share", "health_show_more")
    ]
    assert [e["action_id"] for e in carried] == ["health_share"], "a private answer offers to share itself"
    assert {intent_from_value(e["value"]).kind for e in carried} == {"risks"}
    assert "MegaCorp" in all_text(answer.params) and "Acme Corp" in all_text(answer.params)


def test_a_failure_of_ours_is_logged_and_answered_with_an_apology(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    with bot.engine.begin() as connection:
        connection.execute(text("DROP TABLE account"))  # the store breaks under the bot
    bot.client.command(slash_command("portfolio", response_url=bot.api.response_url()))
    [answer] = bot.api.wait_for("response_url")
    said = all_text(answer.params)
    assert "Sorry — something went wrong on our side" in said
    assert "Traceback" not in said and "account" not in said.lower()
    [logged] = [record for record in caplog.records if record.exc_info]
    assert logged.levelno == logging.ERROR and "could not answer" in logged.getMessage()
