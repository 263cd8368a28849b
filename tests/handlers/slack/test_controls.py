"""Every button and menu a template can emit has a listener, and every listener a button: the templates are rendered
in every state that changes their controls, and each control found is clicked on the real app over signed HTTP.

Bolt answers a request no listener matched with 404, so a control whose listener went missing fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from bot.forms import AccountGlance, FormTarget, playbook_form, snooze_form, touch_form
from bot.playbook_runs import load_playbooks
from handlers.slack.deps import form_seal
from messages import views
from messages.blockkit import render_home, render_message, render_modal
from messages.controls import DIGEST_MENU_CHOICES, FORM_INPUT, Action, FormId
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import block_action
from tests.messages import factories as f
from tests.messages.test_alert_messages import AT, MIKE, acme_alert, checklist
from tests.messages.test_blockkit import trend_report


def every_view() -> Iterator[object]:
    """One view model per template, in each state that changes which controls it shows."""
    yield f.acme_card()
    yield f.portfolio(40)
    yield trend_report(10)
    yield views.Notice("No account called “Acme Crop”", ["Did you mean?"], ["Acme Corp"], kind="not_found")
    red = f.ref("MegaCorp", 48, "Red", 82_000)
    signal = views.Signal("usage_drop", "Usage decline", "High", "risk", "24 hours", ["48% seat utilisation"])
    yield views.Digest("Sarah Chen", date(2026, 11, 24), [red], [red], [(red, signal)], [red], [])
    yield acme_alert(state="open")
    for state in ("acknowledged", "snoozed", "resolved"):
        yield acme_alert(
            state=state,
            acknowledged_by=MIKE,
            acknowledged_at=AT,
            snoozed_by=MIKE,
            snoozed_until=AT,
            resolved_by=MIKE,
            resolved_at=AT,
        )
    yield checklist({"1.1"})
    yield views.AlertScope("mine", [("mine", "My accounts"), ("all", "All accounts")], ["High"])
    yield views.Clarify("No CSM called “Sara”", ["Did you mean one of these?"], [("Sarah Chen", "Sarah Chen's book")])


def every_form() -> list[views.Form]:
    acme = AccountGlance("ACCT-4521", "Acme Corp", 45, "Red", 45_000)
    return [
        touch_form(acme, today=date(2026, 11, 24), metadata="{}"),
        playbook_form(acme, load_playbooks(), reasons=["turned_red"], metadata="{}"),
        snooze_form(acme, open_alerts=1, metadata="{}"),
    ]


def controls_in(node: Any, found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every element carrying an `action_id`, anywhere in a message (blocks, attachments, accessories); numbered
    copies of one control ("ask_again_2": action IDs are unique within a block) count as the control."""
    if isinstance(node, dict):
        if "action_id" in node and node["action_id"] != FORM_INPUT:
            found.setdefault(re.sub(r"_\d+$", "", node["action_id"]), node)
        for value in node.values():
            controls_in(value, found)
    elif isinstance(node, list):
        for item in node:
            controls_in(item, found)
    return found


def emitted_controls() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for view in every_view():
        controls_in(render_message(view, more_value='{"kind":"portfolio","page":2}'), found)
    controls_in(render_home(f.portfolio(40)), found)
    return found


def test_the_templates_emit_exactly_the_controls_named_in_one_place() -> None:
    emitted = set(emitted_controls())
    menu_choices = {choice for choice in DIGEST_MENU_CHOICES if choice in set(Action)}
    assert menu_choices == {
        Action.CARD_START_PLAYBOOK,
        Action.CARD_LOG_TOUCH,
        Action.CARD_SET_PULSE,
        Action.CARD_SNOOZE,
    }
    # "Share in channel" and the feedback buttons are added to an answer by the Slack surface, not by a template;
    # "Set pulse" on a health card is offered only as a choice of the digest line's menu.
    by_the_surface = {Action.SHARE, Action.ANSWER_FEEDBACK}
    assert emitted | menu_choices | by_the_surface == {action.value for action in Action}
    assert {render_modal(form)["callback_id"] for form in every_form()} | {FormId.SET_PULSE} == {
        form.value for form in FormId
    }


def test_every_digest_menu_choice_is_one_the_menu_offers() -> None:
    menu = emitted_controls()[Action.DIGEST_LINE_MENU]
    assert [option["value"].split(":")[0] for option in menu["options"]] == list(DIGEST_MENU_CHOICES)


def click(element: dict[str, Any], action_id: str, *, response_url: str) -> dict[str, Any]:
    """A click on `element` as Slack sends it: a button's value, or the first option of a menu."""
    payload = block_action(action_id, str(element.get("value", "ACCT-4521")), response_url=response_url)
    action = payload["actions"][0]
    action["type"] = element.get("type", "button")
    options = element.get("options") or []
    if action["type"] in ("static_select", "overflow") and options:
        action["selected_option"] = options[0]
    elif action["type"] == "checkboxes":
        action["selected_options"] = options[:1]
    elif action["type"] == "users_select":
        action["selected_user"] = MIKE
    return payload


@pytest.mark.parametrize("action", sorted(Action), ids=str)
def test_every_control_reaches_a_listener(bot: RunningBot, action: Action) -> None:
    emitted = emitted_controls()
    element = emitted.get(action, {"type": "button", "value": "{}"})
    action_id = f"{action}_0" if action == Action.ASK_AGAIN else action  # as the template numbers it
    reply = bot.client.action(click(element, action_id, response_url=bot.api.response_url()))
    assert reply.status == 200, f"{action}: {reply.status} {reply.body[:200]!r}"


@pytest.mark.parametrize("form", sorted(FormId), ids=str)
def test_every_form_reaches_a_listener(bot: RunningBot, form: FormId) -> None:
    payload = {
        "type": "view_submission",
        "user": {"id": "U0SARAH001", "team_id": "T0STANDIN"},
        "api_app_id": "A0HEALTHBOT",
        "team": {"id": "T0STANDIN"},
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": form.value,
            # what the form was opened on, signed as the bot signs it (unsigned metadata is refused with 400)
            "private_metadata": form_seal(bot.settings).seal(FormTarget("ACCT-4521", "U0SARAH001")),
            "state": {"values": {}},
        },
    }
    reply = bot.client.action(payload)
    assert reply.status == 200, f"{form}: {reply.status} {reply.body[:200]!r}"


def test_a_control_nobody_listens_to_is_refused(bot: RunningBot) -> None:
    # The check above can fail: an action ID with no listener is answered 404 by the app.
    reply = bot.client.action(click({"type": "button"}, "no_such_button", response_url=bot.api.response_url()))
    assert reply.status == 404


def test_a_form_heads_with_the_account_in_bold_and_escaped() -> None:
    form = replace(every_form()[0], subject="Smith & Sons <EU>")
    assert render_modal(form)["blocks"][0]["text"]["text"].startswith("*Smith &amp; Sons &lt;EU&gt;* · 🔴 45/100")
