"""Mentions and DMs end to end: questions in plain words answered in their thread, each message answered once."""

from __future__ import annotations

import pytest

from tests.handlers.slack.checks import all_text, assert_valid_message
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import CHANNEL, DM_CHANNEL, app_mention, direct_message, event_envelope
from tests.slack_api import BOT_ID

CONTRACT_QUESTIONS = [
    "What's the health score for Acme Corp?",
    "Show me the health distribution across Sarah's portfolio",
    "Which health trends should worry us most this quarter?",
    "Which accounts are expansion ready?",
    "What caused Acme Corp health to drop?",
    "Generate recovery plan for Acme Corp",
    "how is Acme doing?",
    "show Sarah's book",
    "who's at risk this quarter?",
]


@pytest.mark.parametrize("question", CONTRACT_QUESTIONS)
def test_a_mention_is_answered_in_its_thread(bot: RunningBot, question: str) -> None:
    mention = app_mention(question)
    assert bot.client.event(event_envelope(mention)).status == 200
    [reply] = bot.api.wait_for("chat.postMessage")
    assert reply.params["channel"] == CHANNEL
    assert reply.params["thread_ts"] == mention["ts"]
    assert_valid_message(reply.params)


def test_a_mention_inside_a_thread_is_answered_in_that_thread(bot: RunningBot) -> None:
    mention = app_mention("how is Acme doing?", thread_ts="1700000000.000100")
    bot.client.event(event_envelope(mention))
    [reply] = bot.api.wait_for("chat.postMessage")
    assert reply.params["thread_ts"] == "1700000000.000100"


@pytest.mark.parametrize("question", ["Which accounts are expansion ready?", "recovery plan for Acme", "Acme Corp"])
def test_a_direct_message_is_answered_in_its_thread(bot: RunningBot, question: str) -> None:
    message = direct_message(question)
    bot.client.event(event_envelope(message))
    [reply] = bot.api.wait_for("chat.postMessage")
    assert reply.params["channel"] == DM_CHANNEL
    assert reply.params["thread_ts"] == message["ts"]
    assert_valid_message(reply.params)


def test_a_question_it_cannot_place_gets_what_it_can_do(bot: RunningBot) -> None:
    bot.client.event(event_envelope(app_mention("what is the meaning of life and everything else")))
    [reply] = bot.api.wait_for("chat.postMessage")
    said = all_text(reply.params)
    assert "I can't do that — here is what I can" in said and "meaning of life" in said
    assert "/health Acme Corp" in said


@pytest.mark.parametrize(
    "message",
    [
        direct_message("how is Acme doing?", subtype="message_changed"),
        direct_message("how is Acme doing?", subtype="message_deleted"),
        direct_message("Daily sync reminder", bot_id="B0OTHERBOT"),
        direct_message("an answer of ours", bot_id=BOT_ID),
    ],
    ids=["edit", "deletion", "another-bot", "our-own-message"],
)
def test_edits_and_bot_messages_are_left_alone(bot: RunningBot, message: dict[str, object]) -> None:
    assert bot.client.event(event_envelope(message)).status == 200
    bot.api.assert_quiet()


def test_a_retried_event_is_answered_once(bot: RunningBot) -> None:
    envelope = event_envelope(app_mention("how is Acme doing?"), event_id="Ev0RETRIED01")
    assert bot.client.event(envelope).status == 200
    assert bot.client.event(envelope, retry_num=1).status == 200
    assert bot.client.event(envelope, retry_num=2).status == 200
    bot.api.wait_for_exactly("chat.postMessage", 1)


def test_a_retry_whose_first_delivery_never_arrived_is_answered(bot: RunningBot) -> None:
    envelope = event_envelope(app_mention("who's at risk this quarter?"), event_id="Ev0FIRSTLOST")
    assert bot.client.event(envelope, retry_num=1).status == 200
    bot.api.wait_for("chat.postMessage")


def test_a_dm_mentioning_the_bot_is_answered_once_though_slack_sends_it_twice(bot: RunningBot) -> None:
    dm = direct_message("<@U0BOT00001> how is Acme doing?")
    as_mention = {**dm, "type": "app_mention"}
    bot.client.event(event_envelope(dm))
    bot.client.event(event_envelope(as_mention))
    bot.api.wait_for_exactly("chat.postMessage", 1)
