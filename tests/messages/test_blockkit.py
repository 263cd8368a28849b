"""Every view renders to a Block Kit message Slack accepts: valid blocks, within the limits, with a text fallback."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from messages import views
from messages.blockkit import MAX_BLOCKS, render_home, render_message
from tests.messages import factories as f


def assert_valid_slack_message(message: dict[str, Any]) -> None:
    """The checks Slack itself applies to chat.postMessage blocks."""
    assert message["text"].strip(), "every message needs a text fallback"
    blocks = message["blocks"]
    assert 0 < len(blocks) <= MAX_BLOCKS
    for block in Block.parse_all(blocks):
        block.validate_json()
    for block in blocks:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
        for field in block.get("fields", []):
            assert len(field["text"]) <= 2000
    json.dumps(message)  # serialisable as sent


def texts(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for block in message["blocks"]:
        found += [e for e in block.get("elements", []) if e.get("type") == "button"]
        if block.get("accessory", {}).get("type") == "button":
            found.append(block["accessory"])
    return found


def test_health_card_shows_score_trend_dimensions_risks_and_actions() -> None:
    message = render_message(f.acme_card())
    assert_valid_slack_message(message)
    body = texts(message)
    assert "Acme Corp · 68/100 Yellow" in body
    assert "−10 vs last quarter (78)" in body
    assert "12 of 25 seats active (48%)" in body
    assert "Usage decline" in body and "respond within 24 hours" in body
    assert "30-day health goal: 75/100" in body and "Increase seat utilisation to 60%" in body
    assert "Red Account Recovery" in body
    assert message["text"].startswith("Acme Corp: health 68/100 (Yellow)")
    assert {b["action_id"] for b in buttons(message)} == {
        "card_start_playbook",
        "card_log_touch",
        "card_snooze",
        "card_show_trend",
    }
    assert all(b["value"] == "ACCT-4521" for b in buttons(message))


def test_customer_text_is_escaped_for_slack_not_html() -> None:
    message = render_message(f.acme_card(name="Smith & Sons <EU>", csm_owner="O'Brien"))
    body = texts(message)
    assert message["text"].startswith("Smith &amp; Sons &lt;EU&gt;: health")  # mrkdwn text is escaped
    assert "Smith & Sons <EU> · 68/100" in body  # plain_text header is not
    assert "O'Brien" in body and "&#39;" not in body
    assert "Called VP Ops &lt;urgent&gt; &amp; booked audit" in body


def test_card_with_missing_data_says_so_instead_of_zero() -> None:
    card = f.acme_card(
        confidence=0.6,
        dimensions=[views.Dimension("financial", "Financial", None, None, 0.0, [])],
        trend=views.Trend(None, None, None, None, "new"),
        recent_actions=[],
        tags=[],
    )
    message = render_message(card)
    assert_valid_slack_message(message)
    body = texts(message)
    assert "Financial* · no data" in body
    assert "60% of the model has data" in body
    assert "No history yet" in body


def test_full_card_confidence_is_not_shown() -> None:
    assert "of the model has data" not in texts(render_message(f.acme_card(confidence=1.0)))


def test_long_texts_are_cut_to_slack_limits() -> None:
    facts = ["x" * 900 for _ in range(6)]
    card = f.acme_card(
        name="N" * 400,
        dimensions=[views.Dimension("usage", "Product Usage", 55, "Red", 0.4, facts)],
        risks=[views.Signal(f"r{i}", "R" * 500, "High", "risk", "24 hours", facts) for i in range(9)],
    )
    assert_valid_slack_message(render_message(card))


def test_portfolio_of_two_thousand_accounts_summarises() -> None:
    message = render_message(f.portfolio(2000))
    assert_valid_slack_message(message)
    body = texts(message)
    assert "2000 accounts" in body
    assert "Improving* · 500 accounts" in body
    assert "Renewals in the next 90 days" in body and "$215K ARR at risk" in body
    assert "6 red accounts exceeds the healthy span of 3" in body


def test_team_portfolio_pages_through_many_groups() -> None:
    view = f.portfolio(2000, groups=200)
    first = render_message(view, more_value='{"kind":"portfolio","page":2}')
    assert_valid_slack_message(first)
    more = [b for b in buttons(first) if b["action_id"] == "health_show_more"]
    assert len(more) == 1 and more[0]["value"] == '{"kind":"portfolio","page":2}'
    assert "1–10 of 200" in texts(first) and "CSM 000" in texts(first)
    last = render_message(view, page=20)
    assert_valid_slack_message(last)
    assert "191–200 of 200" in texts(last) and "CSM 199" in texts(last)
    assert not [b for b in buttons(last) if b["action_id"] == "health_show_more"]


def test_empty_portfolio_explains_what_to_do() -> None:
    empty = replace(
        f.portfolio(0),
        bands=[],
        improving=[],
        declining=[],
        renewals=[],
        expansion_ready=[],
        risk_drivers=[],
        capacity=None,
        recommendations=[],
        average_score=None,
    )
    message = render_message(empty)
    assert_valid_slack_message(message)
    assert "healthbot import" in texts(message)


def trend_report(n: int) -> views.TrendReport:
    accounts = [f.ref(f"Ent {i}", 64, "Yellow", 120_000) for i in range(18)]
    finding = views.TrendFinding(
        "Enterprise usage decline",
        "High",
        "18 of 45 Enterprise accounts show usage down more than 15%",
        18,
        45,
        2_100_000,
        ["Support tickets up 140%"],
        ["Proactive outreach to all 18 accounts"],
        accounts,
    )
    positive = views.TrendFinding(
        "SMB expansion momentum",
        "Opportunity",
        "38 SMB accounts match the profile",
        38,
        120,
        160_000,
        [],
        ["Deploy the expansion playbook"],
    )
    return views.TrendReport(
        "Q4 2026 customer health trends",
        f.AS_OF,
        [finding] * n,
        [positive],
        ["Usage predicted churn best (AUC 0.78)"],
        ["Emergency response to enterprise usage"],
    )


def test_trend_report_ranks_concerns_and_pages() -> None:
    message = render_message(trend_report(10), more_value='{"kind":"trends","page":2}')
    assert_valid_slack_message(message)
    body = texts(message)
    assert "1. Enterprise usage decline* · High concern" in body
    assert "Affected ARR: *$2.1M* · 18 of 45 accounts" in body
    assert "SMB expansion momentum" in body and "AUC 0.78" in body
    assert [b["value"] for b in buttons(message) if b["action_id"] == "health_show_more"]
    second = render_message(trend_report(10), page=3)
    assert "9. Enterprise usage decline" in texts(second)
    assert "SMB expansion momentum" not in texts(second)  # the positives belong to the first page


def test_expansion_list_pages_without_a_button_says_how_many_more() -> None:
    candidates = [
        views.ExpansionCandidate(
            f.ref(f"Tiny {i}", 91, "Green", 12_000), ["24 of 25 seats used", "NPS 9"], "Seat expansion"
        )
        for i in range(25)
    ]
    message = render_message(views.ExpansionList(f.AS_OF, candidates, 300_000))
    assert_valid_slack_message(message)
    assert "Seat expansion* — 24 of 25 seats used · NPS 9" in texts(message)
    assert "…and 15 more" in texts(message)


def test_recovery_plan_lists_stages_as_a_checklist() -> None:
    stages = [
        views.PlaybookStage("Immediate triage", "Hours 0–24", ["Review all recent interactions"]),
        views.PlaybookStage("Executive alignment", "Hours 24–48", ["Schedule an executive call"]),
    ]
    plan = views.RecoveryPlan(
        f.acme_card(),
        "Red Account Recovery",
        ["Seat utilisation fell from 68% to 48%"],
        stages,
        views.HealthGoal(75, 30, ["Increase seat utilisation to 60%"]),
    )
    message = render_message(plan)
    assert_valid_slack_message(message)
    body = texts(message)
    assert "1. Immediate triage* · Hours 0–24" in body and "☐ Review all recent interactions" in body
    assert (
        message["text"].startswith("Recovery plan for Acme Corp")
        and "the Red Account Recovery playbook" in message["text"]
    )
    assert message["blocks"][0]["text"]["text"] == "🛟 Recovery plan · Acme Corp"


@pytest.mark.parametrize("recipient", ["Sarah Chen", "Team"])
def test_digest_renders_for_a_csm_and_the_team(recipient: str) -> None:
    red = f.ref("MegaCorp", 48, "Red", 82_000, note="renews in 45 days")
    signal = views.Signal("usage_drop", "Usage decline", "High", "risk", "24 hours", ["48% seat utilisation"])
    digest = views.Digest(
        recipient,
        date(2026, 11, 24),
        [red] * 12,
        [red],
        [(red, signal)] * 3,
        [red],
        [],
        by_group=[views.GroupRow("Sarah Chen", 32, 1.2e6, 74, {"Green": 12, "Red": 6})] * 30,
        arr_at_risk=215_000,
        risk_drivers=[views.RiskDriver("Usage decline", 11, 480_000)],
        unreachable_csms=["Pat Doe"],
    )
    message = render_message(digest)
    assert_valid_slack_message(message)
    body = texts(message)
    assert "12 new red accounts" in body and "…and 4 more" in body
    assert "Usage decline (respond within 24 hours)" in body
    assert "Could not reach by DM" in body and "Pat Doe" in body
    menus = [b["accessory"] for b in message["blocks"] if b.get("accessory", {}).get("type") == "overflow"]
    assert len(menus) == 8 + 1  # each red line shown, and the renewal at risk, carry the account's menu
    assert [o["value"].split(":")[0] for o in menus[0]["options"]] == [
        "show_card",
        "card_start_playbook",
        "card_log_touch",
        "card_set_pulse",
        "card_snooze",
    ]
    assert menus[0]["options"][0]["value"] == f"show_card:{red.account_id}"


def test_immediate_response_times_read_as_an_instruction() -> None:
    red = f.ref("Cobalt Systems", 44, "Red", 18_000)
    overdue = views.Signal("payment_overdue", "Payment overdue", "High", "risk", "Immediate", ["45 days overdue"])
    message = render_message(views.Digest("Sarah Chen", date(2026, 11, 24), [], [], [(red, overdue)], [], []))
    assert "Payment overdue (respond immediately)" in texts(message)
    assert "within Immediate" not in texts(message)


def test_quiet_digest_says_nothing_needs_attention() -> None:
    message = render_message(views.Digest("Sarah Chen", date(2026, 11, 24), [], [], [], [], []))
    assert_valid_slack_message(message)
    assert "Nothing needs you this morning" in texts(message)


def test_not_found_notice_offers_closest_names_as_buttons() -> None:
    notice = views.Notice(
        "No account called “Acme Crop”", ["Did you mean one of these?"], ["Acme Corp", "Acme Labs"], kind="not_found"
    )
    message = render_message(notice)
    assert_valid_slack_message(message)
    assert [(b["action_id"], b["value"]) for b in buttons(message)] == [
        ("pick_account", "Acme Corp"),
        ("pick_account", "Acme Labs"),
    ]


def test_home_tab_allows_a_hundred_blocks() -> None:
    home = render_home(f.portfolio(40))
    assert home["type"] == "home" and 0 < len(home["blocks"]) <= 100
    for block in Block.parse_all(home["blocks"]):
        block.validate_json()


def test_unknown_view_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        render_message(object())
