"""Slack's agent surface over signed HTTP: the thread opens with prompts from the asker's own book, a question gets
a status line then its answer (a list as one table block) with feedback buttons, and a click is kept in the store."""

from __future__ import annotations

import json
import sqlite3
import time

from bot.questions.feedback import feedback_counts
from tests.handlers.slack.checks import all_text, assert_valid_message
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import (
    DM_CHANNEL,
    SARAH,
    app_mention,
    block_action,
    direct_message,
    event_envelope,
)


def sarahs_red_accounts(bot: RunningBot) -> set[str]:
    """Straight from the store: Sarah's current accounts scored Red on the latest scored day."""
    with sqlite3.connect(str(bot.engine.url.database)) as con:
        day = con.execute("select max(as_of) from health_score").fetchone()[0]
        rows = con.execute(
            "select a.name from account a join health_score h on h.account_id = a.account_id and h.as_of = ? "
            "where a.csm_slack_id = ? and h.band = 'Red' and (a.churned_on is null or a.churned_on > ?)",
            (day, SARAH, day),
        ).fetchall()
    return {r[0] for r in rows}


def params_list(value: object) -> list[dict[str, str]]:
    return json.loads(value) if isinstance(value, str) else value  # type: ignore[return-value]


def test_a_new_agent_thread_opens_with_prompts_from_the_askers_book(demo_bot: RunningBot) -> None:
    started = {
        "type": "assistant_thread_started",
        "assistant_thread": {"user_id": SARAH, "channel_id": DM_CHANNEL, "thread_ts": "1700000000.000100"},
        "event_ts": "1700000000.000101",
    }
    demo_bot.client.event(event_envelope(started))
    [prompts] = demo_bot.api.wait_for("assistant.threads.setSuggestedPrompts")
    titles = [p["title"] for p in params_list(prompts.params["prompts"])]
    reds = len(sarahs_red_accounts(demo_bot))
    assert reds > 0 and titles[0] == f"Your {reds} red accounts"
    assert any(t.startswith("Renewals in 30 days") for t in titles) and len(titles) <= 4
    assert prompts.params["thread_ts"] == "1700000000.000100"


def test_a_question_in_the_thread_gets_a_status_then_a_table_with_feedback(demo_bot: RunningBot) -> None:
    question = direct_message("my red accounts", ts="1700000000.000200")
    question["thread_ts"] = "1700000000.000100"
    demo_bot.client.event(event_envelope(question))
    [status] = demo_bot.api.wait_for("assistant.threads.setStatus")
    assert status.params["status"] == "is reading your book…"
    [reply] = demo_bot.api.wait_for("chat.postMessage")
    blocks = assert_valid_message(reply.params)
    assert reply.params["thread_ts"] == "1700000000.000100"
    [table] = [b for b in blocks if b["type"] == "table"]
    names = {row[0]["text"] for row in table["rows"][1:]}
    assert names == sarahs_red_accounts(demo_bot)  # the rows shown are the count said
    assert f"Sarah Chen has {len(names)} Red accounts" in all_text(reply.params)
    [feedback] = [b for b in blocks if b["type"] == "context_actions"]
    buttons = feedback["elements"][0]
    assert buttons["type"] == "feedback_buttons" and buttons["action_id"] == "answer_feedback"

    click = block_action(
        "answer_feedback",
        buttons["negative_button"]["value"],
        response_url=demo_bot.api.response_url("feedback"),
        channel=DM_CHANNEL,
        ephemeral=False,
        message_ts=reply.params.get("ts") or "1700000000.000300",
    )
    click["actions"][0]["type"] = "feedback_buttons"
    demo_bot.client.action(click)
    for _ in range(50):
        if feedback_counts(demo_bot.engine):
            break
        time.sleep(0.05)
    assert feedback_counts(demo_bot.engine) == {False: 1}


def test_a_mention_naming_a_csm_nobody_is_says_so_with_buttons(demo_bot: RunningBot) -> None:
    demo_bot.client.event(event_envelope(app_mention("how many red accounts does Bob have?")))
    [reply] = demo_bot.api.wait_for("chat.postMessage")
    blocks = assert_valid_message(reply.params)
    assert "No CSM called “Bob”" in all_text(reply.params)
    values = [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert values and all("red accounts does" in v and "Bob" not in v for v in values)


def test_a_did_you_mean_button_asks_again_with_the_name_chosen(demo_bot: RunningBot) -> None:
    click = block_action(
        "ask_again_0", "how many red accounts does Diego Ramirez have?", response_url=demo_bot.api.response_url("again")
    )
    demo_bot.client.action(click)
    [answer] = demo_bot.api.wait_for("response_url")
    assert_valid_message(answer.params)
    with sqlite3.connect(str(demo_bot.engine.url.database)) as con:
        day = con.execute("select max(as_of) from health_score").fetchone()[0]
        reds = con.execute(
            "select count(*) from account a join health_score h on h.account_id = a.account_id and h.as_of = ? "
            "where a.csm_owner = 'Diego Ramirez' and h.band = 'Red' and (a.churned_on is null or a.churned_on > ?)",
            (day, day),
        ).fetchone()[0]
    noun = "Red account" if reds == 1 else "Red accounts"
    assert f"Diego Ramirez has {reds} {noun}" in all_text(answer.params)
    assert answer.params.get("replace_original") is True
