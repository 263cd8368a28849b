"""Button clicks end to end: Show more, a suggested account, Share in channel."""

from __future__ import annotations

import pytest

from bot.intents import Intent, intent_to_value
from handlers.slack.replies import with_share_button
from messages.blockkit import render_message
from tests.handlers.slack.checks import all_text, assert_valid_message, buttons
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import CHANNEL, SARAH, block_action
from tests.messages.factories import acme_card


def click(bot: RunningBot, action_id: str, value: str, **where: object) -> None:
    reply = bot.client.action(block_action(action_id, value, response_url=bot.api.response_url("click"), **where))
    assert reply.status == 200
    assert reply.body == b"", "a click is acknowledged at once, with nothing to show"


def test_show_more_under_a_private_answer_answers_privately(bot: RunningBot) -> None:
    click(bot, "health_show_more", intent_to_value(Intent("risks", page=2)))
    [answer] = bot.api.wait_for("response_url")
    assert answer.params["response_type"] == "ephemeral"
    assert answer.params["replace_original"] is False
    assert_valid_message(answer.params)


def test_show_more_under_a_thread_answer_continues_in_the_thread(bot: RunningBot) -> None:
    value = intent_to_value(Intent("portfolio", subject="Sarah Chen", page=2))
    click(bot, "health_show_more", value, ephemeral=False, message_ts="1700000000.000200", thread_ts="1700000000.0001")
    [post] = bot.api.wait_for("chat.postMessage")
    assert post.params["channel"] == CHANNEL
    assert post.params["thread_ts"] == "1700000000.0001"
    assert bot.api.sent("response_url") == []


def test_a_suggested_account_replaces_the_suggestions_with_its_card(bot: RunningBot) -> None:
    click(bot, "pick_account", "Acme Corp")
    [answer] = bot.api.wait_for("response_url")
    assert answer.params["replace_original"] is True
    assert answer.params["response_type"] == "ephemeral"
    assert_valid_message(answer.params)


def test_a_suggestion_in_a_visible_thread_stays_visible(bot: RunningBot) -> None:
    click(bot, "pick_account", "Acme Corp", ephemeral=False)
    [answer] = bot.api.wait_for("response_url")
    assert answer.params["replace_original"] is True
    assert answer.params["response_type"] == "in_channel"


def test_share_posts_the_answer_for_everyone_and_removes_the_private_copy(bot: RunningBot) -> None:
    click(bot, "health_share", intent_to_value(Intent("risks")))
    shared, removed = bot.api.wait_for("response_url", 2)
    assert shared.params["response_type"] == "in_channel"
    assert shared.params["replace_original"] is False
    assert f"Shared by <@{SARAH}>" in all_text(shared.params)
    assert_valid_message(shared.params)
    assert removed.params["delete_original"] is True
    assert "health_share" not in buttons(shared.params["blocks"]), "a shared answer is not shared again"


@pytest.mark.parametrize("action_id", ["health_share", "health_show_more"])
def test_a_button_from_an_older_version_is_answered_plainly(bot: RunningBot, action_id: str) -> None:
    click(bot, action_id, "acme-corp-page-2")
    [answer] = bot.api.wait_for("response_url")
    assert "That button has expired" in all_text(answer.params)


def test_share_button_joins_the_cards_own_buttons() -> None:
    card = render_message(acme_card())
    shared = with_share_button(card, Intent("account", subject="Acme Corp"))
    assert_valid_message(shared)
    found = buttons(shared["blocks"])
    assert found["health_share"] == intent_to_value(Intent("account", subject="Acme Corp"))
    assert {"card_start_playbook", "card_show_trend"} <= set(found)
    assert len(shared["blocks"]) == len(card["blocks"]), "it joins the last actions block"


def test_share_button_never_pushes_a_message_past_fifty_blocks() -> None:
    full = {"text": "t", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": str(n)}} for n in range(50)]}
    assert with_share_button(full, Intent("risks")) == full
    roomy = {"text": "t", "blocks": full["blocks"][:10]}
    assert len(with_share_button(roomy, Intent("risks"))["blocks"]) == 11
