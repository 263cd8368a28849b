"""The intent router: `/health` grammar, plain questions and close paraphrases, help, and button values."""

from __future__ import annotations

import pytest
from slack_sdk.models.blocks import Block

from bot.intents import Intent, help_notice, intent_from_value, intent_to_value, parse_command, parse_question
from messages.blockkit import render_message


def kind_and_subject(intent: Intent) -> tuple[str, str | None]:
    return intent.kind, intent.subject


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Acme Corp", ("ask", "Acme Corp")),
        ("  Acme   Corp  ", ("ask", "Acme Corp")),
        ("ACCT-4521", ("ask", "ACCT-4521")),
        ("AT&amp;T Wireless", ("ask", "AT&T Wireless")),
        ("account Trends Inc", ("account", "Trends Inc")),
        ("Trends Inc", ("ask", "Trends Inc")),
        ("Export Logistics Ltd", ("ask", "Export Logistics Ltd")),
        ("portfolio", ("portfolio", None)),
        ("portfolio me", ("portfolio", None)),
        ("Portfolio Sarah Chen", ("portfolio", "Sarah Chen")),
        ("portfolio <@U0SARAH001|sarah>", ("portfolio", "U0SARAH001")),
        ("portfolio <@U0SARAH001>", ("portfolio", "U0SARAH001")),
        ("portfolio @sarah", ("portfolio", "sarah")),
        ("book Mike Ross", ("portfolio", "Mike Ross")),
        ("<@U0MIKE0001|mike>", ("portfolio", "U0MIKE0001")),
        ("risks", ("risks", None)),
        ("risks this quarter", ("risks", None)),
        ("expansion", ("expansion", None)),
        ("trends", ("trends", None)),
        ("segment Enterprise", ("segment", "Enterprise")),
        ("segment Mid-Market", ("segment", "Mid-Market")),
        ("segment", ("unknown", None)),
        ("export", ("export", "csv")),
        ("export csv", ("export", "csv")),
        ("export xlsx", ("export", "xlsx")),
        ("export excel", ("export", "xlsx")),
        ("export pdf", ("export", "pdf")),
        ("export xlsx csm Sarah Chen", ("export", "xlsx")),
        ("export by segment", ("export", "csv")),
        ("export <@U0SARAH001|sarah>", ("export", "csv")),
        ("help", ("help", None)),
        ("", ("help", None)),
        ("   ", ("help", None)),
        ("how is Acme doing?", ("ask", "how is Acme doing?")),
        ("what caused Acme Corp health to drop?", ("ask", "what caused Acme Corp health to drop?")),
    ],
)
def test_health_command_grammar(text: str, expected: tuple[str, str | None]) -> None:
    assert kind_and_subject(parse_command(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "What's the health score for Acme Corp?",
        "Show me the health distribution across Sarah's portfolio",
        "who\u2019s at risk this quarter?",
        "show <@U0MIKE0001|mike>'s book",
        "red accounts in Enterprise",
    ],
)
def test_plain_questions_go_to_the_question_reader_whole(text: str) -> None:
    # bot.questions reads them against the store's names (tests/bot/questions); the text travels unchanged.
    assert kind_and_subject(parse_question(text)) == ("ask", text)


def test_the_command_grammar_still_works_in_a_dm() -> None:
    assert kind_and_subject(parse_question("portfolio Sarah Chen")) == ("portfolio", "Sarah Chen")
    assert kind_and_subject(parse_question("/health risks")) == ("risks", None)


def test_what_was_typed_is_kept_for_here_is_what_i_can_do() -> None:
    assert parse_question("tell me a joke about spreadsheets please now").text == (
        "tell me a joke about spreadsheets please now"
    )


def test_help_lists_every_command_with_examples_and_renders_within_limits() -> None:
    notice = help_notice()
    body = "\n".join(notice.lines)
    for command in ("/health Acme Corp", "/health portfolio", "/health risks", "/health expansion", "/health trends"):
        assert command in body
    for command in ("/health segment Enterprise", "/health export", "What caused Acme Corp health to drop?"):
        assert command in body
    message = render_message(notice)
    assert message["text"]
    for block in Block.parse_all(message["blocks"]):
        assert block is not None
        block.validate_json()


def test_help_for_an_unplaced_question_says_it_back() -> None:
    notice = help_notice("<@U0BOT0001> what's the weather in Lisbon?")
    assert "what's the weather in Lisbon?" in notice.lines[0]
    assert "U0BOT0001" not in "".join(notice.lines)


@pytest.mark.parametrize(
    "intent",
    [
        Intent("account", subject="Acme Corp"),
        Intent("portfolio", subject=None, page=3),
        Intent("segment", subject="Mid-Market “EMEA”", page=2),
        Intent("risks"),
    ],
)
def test_button_values_round_trip(intent: Intent) -> None:
    value = intent_to_value(intent)
    assert len(value) < 2000
    back = intent_from_value(value)
    assert (back.kind, back.subject, back.page) == (intent.kind, intent.subject, intent.page)


def test_a_huge_subject_still_fits_in_a_button() -> None:
    assert len(intent_to_value(Intent("account", subject="A" * 5000, page=99))) < 2000


@pytest.mark.parametrize("value", ["", "Acme Corp", "[]", '{"k": "launch_missiles"}', '{"k": "account", "p": 0}'])
def test_a_value_we_did_not_write_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        intent_from_value(value)
