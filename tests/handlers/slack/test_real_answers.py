"""The real answers, end to end: the sample portfolio scored in the store, questions asked over signed HTTP, and the
cards, portfolios and reports a CSM would read arriving at the Slack stand-in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.handlers.slack.checks import all_text, assert_valid_message
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import CHANNEL, app_mention, block_action, event_envelope, slash_command


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What's the health score for Acme Corp?", ["Acme Corp ·", "/100 Yellow", "Usage decline", "Sarah Chen"]),
        ("Show me the health distribution across Sarah's portfolio", ["Portfolio health · Sarah Chen", "32 accounts"]),
        ("Which health trends should worry us most this quarter?", ["customer health trends", "Affected ARR"]),
        ("Which accounts are expansion ready?", ["Expansion-ready accounts", "Upsell conversation"]),
        ("What caused Acme Corp health to drop?", ["What caused the drop", "Product Usage cost"]),
        ("Generate recovery plan for Acme Corp", ["Acme Corp", "☐"]),
        ("who's at risk this quarter?", ["At-risk accounts", "MegaCorp"]),
    ],
)
def test_each_contract_question_gets_the_real_answer(demo_bot: RunningBot, question: str, expected: list[str]) -> None:
    demo_bot.client.event(event_envelope(app_mention(question)))
    [reply] = demo_bot.api.wait_for("chat.postMessage")
    assert_valid_message(reply.params)
    said = all_text(reply.params)
    for words in expected:
        assert words in said


def test_health_command_answers_the_card_privately_with_a_share_button(demo_bot: RunningBot) -> None:
    demo_bot.client.command(slash_command("Acme Corp", response_url=demo_bot.api.response_url("card")))
    [answer] = demo_bot.api.wait_for("response_url")
    assert answer.params["response_type"] == "ephemeral"
    assert_valid_message(answer.params)
    assert "Acme Corp" in answer.params["text"] and "health" in answer.params["text"]
    buttons = {e["action_id"] for b in answer.params["blocks"] for e in b.get("elements", []) if "action_id" in e}
    assert {"card_start_playbook", "card_log_touch", "card_snooze", "card_show_trend", "health_share"} <= buttons


def test_two_customers_with_one_name_are_told_apart_by_id(demo_bot: RunningBot) -> None:
    # The handlers' seed book has a MegaCorp of its own beside the sample's: asking for "MegaCorp" is ambiguous.
    demo_bot.client.command(slash_command("MegaCorp", response_url=demo_bot.api.response_url("miss")))
    [answer] = demo_bot.api.wait_for("response_url")
    picks = [e for b in answer.params["blocks"] for e in b.get("elements", []) if e.get("action_id") == "pick_account"]
    labels = [p["text"]["text"] for p in picks]
    assert len(picks) == 2 and all(label.startswith("MegaCorp (ACCT-") for label in labels)
    demo_bot.api.clear()
    [chosen] = [p["value"] for p in picks if p["value"] != "ACCT-1002"]  # the sample's MegaCorp, which is scored
    demo_bot.client.action(block_action("pick_account", chosen, response_url=demo_bot.api.response_url("pick")))
    [card] = demo_bot.api.wait_for("response_url")
    assert "MegaCorp ·" in all_text(card.params) and chosen in all_text(card.params)


def test_a_misspelt_account_offers_the_closest_names(demo_bot: RunningBot) -> None:
    demo_bot.client.command(slash_command("Zzyzx Holdings", response_url=demo_bot.api.response_url("miss")))
    [answer] = demo_bot.api.wait_for("response_url")
    assert "No account called “Zzyzx Holdings”" in all_text(answer.params)


def overflow_choice(value: str, **options: Any) -> dict[str, Any]:
    """A choice from a digest line's menu (an overflow element, not a button)."""
    payload = block_action("digest_line_menu", "", **options)
    action = payload["actions"][0]
    action.update(type="overflow", selected_option={"text": {"type": "plain_text", "text": "…"}, "value": value})
    del action["value"]
    return payload


def test_show_card_from_a_digest_line_answers_in_the_digest_thread(demo_bot: RunningBot) -> None:
    payload = overflow_choice(
        "show_card:ACCT-4521", response_url=demo_bot.api.response_url("menu"), ephemeral=False, channel=CHANNEL
    )
    demo_bot.client.action(payload)
    [reply] = demo_bot.api.wait_for("chat.postMessage")
    assert reply.params["channel"] == CHANNEL
    assert reply.params["thread_ts"] == payload["container"]["message_ts"]
    assert "Acme Corp ·" in all_text(reply.params)


def test_start_playbook_from_a_digest_line_opens_the_cards_form(demo_bot: RunningBot) -> None:
    payload = overflow_choice(
        "card_start_playbook:ACCT-4521", response_url=demo_bot.api.response_url("menu"), ephemeral=False
    )
    demo_bot.client.action(payload)
    [opened] = demo_bot.api.wait_for("views.open")
    assert opened.params["trigger_id"] == payload["trigger_id"]
    assert "Acme Corp" in all_text({"blocks": opened.params["view"]["blocks"]})
