"""Alert, thread-reply and checklist messages: valid Block Kit, state at a glance, buttons that follow the state."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.forms import AccountGlance, playbook_form, snooze_form, touch_form
from bot.playbook_runs import load_playbooks
from messages import views
from messages.blockkit import render_message, render_modal
from messages.terminal import render_terminal
from tests.messages.test_blockkit import assert_valid_slack_message

AT = datetime(2026, 11, 24, 10, 32, tzinfo=UTC)
SARAH, MIKE = "U0SARAH001", "U0MIKE0001"


def acme_alert(**overrides: Any) -> views.Alert:
    alert = views.Alert(
        alert_id=42,
        account=views.AccountRef("ACCT-4521", "Acme Corp", "Sarah Chen", 45, "Red", arr=45_000),
        title="turned Red (65 → 45)",
        condition="turned_red",
        severity="High",
        state="open",
        opened_on=date(2026, 11, 24),
        reasons=[
            views.Signal("turned_red", "Health fell from 65 (Yellow) to 45 since 23 Nov", "High", "risk"),
            views.Signal(
                "usage_drop", "Usage decline", "High", "risk", "24 hours", ["48% seat utilisation <down from 68%>"]
            ),
        ],
        playbook="Red Account Recovery",
        respond_within="24 hours",
        respond_by=AT + timedelta(hours=24),
    )
    return replace(alert, **overrides)


def all_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    return message["blocks"] + [b for a in message.get("attachments", []) for b in a["blocks"]]


def controls(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in all_blocks(message) for e in b.get("elements", []) if "action_id" in e}


def assert_valid_alert(message: dict[str, Any]) -> None:
    assert_valid_slack_message(message)
    for attachment in message["attachments"]:
        for block in Block.parse_all(attachment["blocks"]):
            block.validate_json()
        assert attachment["color"].startswith("#")


def test_open_alert_says_what_why_and_offers_every_action() -> None:
    message = render_message(acme_alert())
    assert_valid_alert(message)
    body = json.dumps(all_blocks(message), ensure_ascii=False)
    assert "🚨 *Acme Corp* turned Red (65 → 45)" in body
    assert "respond within 24 hours" in body and "Red Account Recovery" in body
    assert "48% seat utilisation &lt;down from 68%&gt;" in body
    assert message["attachments"][0]["color"] == "#E01E5A"
    assert list(controls(message)) == [
        "alert_acknowledge",
        "alert_resolve",
        "alert_snooze",
        "alert_assign",
        "alert_start_playbook",
        "alert_log_note",
        "alert_set_pulse",
    ]
    snooze = controls(message)["alert_snooze"]
    assert [o["value"] for o in snooze["options"]] == ["42:1d", "42:7d"]
    assert message["text"].startswith("🚨 Acme Corp turned Red (65 → 45) · High · Open")


def test_acknowledged_alert_names_who_and_when_and_offers_unacknowledge() -> None:
    message = render_message(acme_alert(state="acknowledged", acknowledged_by=MIKE, acknowledged_at=AT))
    assert_valid_alert(message)
    body = json.dumps(all_blocks(message), ensure_ascii=False)
    when = f"<!date^{int(AT.timestamp())}^{{date_short_pretty}} {{time}}|24 Nov 10:32>"  # each reader's own timezone
    assert f"Acknowledged by <@{MIKE}> · {when}" in body
    assert "alert_unacknowledge" in controls(message) and "alert_acknowledge" not in controls(message)
    assert message["attachments"][0]["color"] == "#ECB22E"


def test_snoozed_assigned_and_resolved_states() -> None:
    snoozed = render_message(
        acme_alert(state="snoozed", snoozed_by=SARAH, snoozed_until=AT + timedelta(days=7), assigned_to=MIKE)
    )
    assert_valid_alert(snoozed)
    assert "alert_unsnooze" in controls(snoozed) and "alert_snooze" not in controls(snoozed)
    assert controls(snoozed)["alert_assign"]["initial_user"] == MIKE
    assert f"Snoozed by <@{SARAH}> until" in json.dumps(all_blocks(snoozed))

    resolved = render_message(acme_alert(state="resolved", resolved_by=SARAH, resolved_at=AT))
    assert_valid_alert(resolved)
    assert list(controls(resolved)) == ["alert_unresolve"]
    assert resolved["attachments"][0]["color"] == "#2EB67D"


def test_escalated_alert_with_a_running_playbook_and_a_pulse() -> None:
    pulse = views.PulseReading(3, "Concerned", SARAH, AT, date(2027, 2, 22), "Champion left")
    message = render_message(
        acme_alert(escalated=True, playbook_run="Red Account Recovery · 5 of 16 steps done", pulse=pulse)
    )
    assert_valid_alert(message)
    body = json.dumps(all_blocks(message), ensure_ascii=False)
    assert "⏫ *Escalated*" in body and "nobody acknowledged it within 24 hours" in body
    assert "📋 *Red Account Recovery · 5 of 16 steps done*" in body
    assert "CSM pulse: *Concerned* (3/6)" in body and "Champion left" in body
    assert "alert_start_playbook" not in controls(message)


@pytest.mark.parametrize("kind", ["acknowledge", "snooze", "assign", "start_playbook", "note", "resolve"])
def test_thread_reply_names_the_person_and_the_action(kind: str) -> None:
    note = {"snooze": "for 7 days", "assign": f"to <@{MIKE}>", "note": "Called the VP <ops> & booked a review"}
    message = render_message(views.AlertEvent(kind, SARAH, AT, "Acme Corp", note.get(kind)))
    assert_valid_slack_message(message)
    body = json.dumps(message["blocks"], ensure_ascii=False)
    assert f"<@{SARAH}>" in body
    if kind == "note":
        assert "Called the VP &lt;ops&gt; &amp; booked a review" in body
    if kind == "snooze":
        assert "snoozed this for 7 days" in body


def checklist(done: set[str]) -> views.PlaybookChecklist:
    stages = [
        views.ChecklistStage(
            i,
            f"Stage {i}",
            "Hours 0–24",
            date(2026, 11, 25),
            [views.ChecklistStep(f"{i}.{j}", f"Step {i}.{j}", f"{i}.{j}" in done) for j in range(1, 5)],
        )
        for i in range(1, 5)
    ]
    return views.PlaybookChecklist(
        run_id=7,
        playbook="Red Account Recovery",
        situation="A high-value account drops to red health",
        account=views.AccountRef("ACCT-4521", "Acme Corp", "Sarah Chen", 52, "Red", previous_score=45, delta=7),
        started_by=SARAH,
        started_at=AT,
        status="active",
        stages=stages,
        done_steps=len(done),
        total_steps=16,
    )


def test_checklist_shows_each_stage_with_ticked_steps() -> None:
    message = render_message(checklist({"1.1", "1.2", "1.3", "1.4", "2.2"}))
    assert_valid_slack_message(message)
    stages = [b for b in message["blocks"] if b.get("accessory", {}).get("type") == "checkboxes"]
    assert len(stages) == 4
    assert [o["value"] for o in stages[1]["accessory"]["initial_options"]] == ["7:2.2"]
    assert "initial_options" not in stages[2]["accessory"]
    body = json.dumps(message["blocks"], ensure_ascii=False)
    assert "*5 of 16* steps done" in body and "45 → 🔴 52 (+7 since the start)" in body
    assert "✅ done" in stages[0]["text"]["text"] and "due 25 Nov 2026" in stages[1]["text"]["text"]


def test_terminal_shows_alerts_and_checklists() -> None:
    console = Console(record=True, width=120)
    render_terminal(acme_alert(state="acknowledged", acknowledged_by=MIKE, acknowledged_at=AT), console)
    render_terminal(checklist({"1.1"}), console)
    text = console.export_text()
    assert "Acme Corp turned Red" in text and f"acknowledged by {MIKE} at 10:32" in text
    assert "☑ Step 1.1" in text and "☐ Step 1.2" in text


def test_forms_are_valid_modals_with_the_recommended_choice_preselected() -> None:
    acme = AccountGlance("ACCT-4521", "Smith & Sons <EU>", 45, "Red", 45_000)
    forms = [
        touch_form(acme, today=date(2026, 11, 24), metadata='{"account_id":"ACCT-4521"}'),
        playbook_form(acme, load_playbooks(), reasons=["turned_red"], metadata="{}"),
        snooze_form(acme, open_alerts=2, metadata="{}"),
    ]
    for form in forms:
        modal = render_modal(form)
        View(**modal).validate_json()
        assert modal["blocks"][0]["text"]["text"].startswith("*Smith &amp; Sons &lt;EU&gt;* · 🔴 45/100 Red")
    touch, playbook, snooze = (render_modal(form) for form in forms)
    assert touch["blocks"][2]["element"]["initial_date"] == "2026-11-24"
    assert playbook["blocks"][1]["element"]["initial_option"]["value"] == "red_account_recovery"
    assert snooze["blocks"][1]["element"]["initial_option"]["value"] == "1d"


def test_alert_settings_for_app_home() -> None:
    view = views.AlertScope("segment", [("mine", "My accounts"), ("segment", "My segments")], ["Critical", "High"])
    message = render_message(view)
    assert_valid_slack_message(message)
    scope, severities = (b["accessory"] for b in message["blocks"] if "accessory" in b)
    assert scope["initial_option"]["value"] == "segment"
    assert [o["value"] for o in severities["initial_options"]] == ["Critical", "High"]


def test_an_immediate_alert_says_respond_immediately_in_slack_and_the_terminal() -> None:
    overdue = views.Signal("payment_overdue", "Payment overdue", "High", "risk", "Immediate", ["45 days overdue"])
    alert = acme_alert(reasons=[overdue], respond_within="Immediate", condition="payment_overdue")
    said = json.dumps(all_blocks(render_message(alert)), ensure_ascii=False)
    assert "respond immediately" in said and "within Immediate" not in said
    console = Console(record=True, width=120, color_system=None)
    render_terminal(alert, console)
    shown = console.export_text()
    assert "respond immediately" in shown and "within Immediate" not in shown
