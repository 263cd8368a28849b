"""Every write is permission-checked, forms act only on what they were opened on, malformed requests are refused,
and a replayed slash command is answered once — over signed HTTP through the real app against the Slack stand-in."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func
from sqlmodel import SQLModel, select

from bot.store import (
    AlertAction,
    HealthAlert,
    PlaybookRun,
    PlaybookStepTick,
    Pulse,
    SlackUserCache,
    Touchpoint,
    read_session,
    write_session,
)
from tests.handlers.slack import test_alert_buttons
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import SARAH, block_action, slash_command
from tests.handlers.slack.test_alert_buttons import (
    ALERTS,
    BOSS,
    STRANGER,
    chosen,
    click,
    eventually,
    everything,
    send,
    stored_run,
    view_submission,
)
from tests.slack_api import ApiCall

alert_bot, alert_id = test_alert_buttons.alert_bot, test_alert_buttons.alert_id  # the alert as posted, as fixtures
WRITES = (AlertAction, Pulse, Touchpoint, PlaybookRun, PlaybookStepTick)
TODAY = datetime.now(UTC).date().isoformat()


def count(bot: RunningBot, table: type[SQLModel]) -> int:
    with read_session(bot.engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def nothing_written(bot: RunningBot) -> None:
    counts = {table.__name__: count(bot, table) for table in WRITES}
    assert counts == dict.fromkeys(counts, 0), counts


def stored_alert(bot: RunningBot, alert_id: int) -> HealthAlert:
    with read_session(bot.engine) as session:
        alert = session.get(HealthAlert, alert_id)
    assert alert is not None
    return alert


# --- permissions: buttons on an alert -----------------------------------------------------------------------------

SNOOZE_MENU = {
    "type": "static_select",
    "selected_option": {"value": "{id}:7d", "text": {"type": "plain_text", "text": "7d"}},
}
BUTTON_WRITES = {
    "acknowledge": ("alert_acknowledge", "{id}", {}),
    "resolve": ("alert_resolve", "{id}", {}),
    "snooze": ("alert_snooze", "", SNOOZE_MENU),
    "assign": (
        "alert_assign",
        "",
        {"type": "users_select", "block_id": "alert_actions:{id}", "selected_user": STRANGER},
    ),
}


def _filled(template: Any, alert_id: int) -> Any:
    return json.loads(json.dumps(template).replace("{id}", str(alert_id)))


@pytest.mark.parametrize("write", BUTTON_WRITES)
def test_someone_who_is_neither_the_csm_nor_an_admin_cannot_click_an_alert_into_another_state(
    alert_bot: RunningBot, alert_id: int, write: str
) -> None:
    action_id, value, element = BUTTON_WRITES[write]
    click(alert_bot, action_id, value.format(id=alert_id), user=STRANGER, **_filled(element, alert_id))
    [answer] = alert_bot.api.wait_for_exactly("response_url", 1)
    assert answer.params["response_type"] == "ephemeral"
    assert "Only Sarah Chen (the account's CSM) or a Healthbot admin" in everything(answer)
    nothing_written(alert_bot)
    alert = stored_alert(alert_bot, alert_id)
    assert (alert.status, alert.assigned_to, alert.snoozed_until) == ("open", None, None)
    assert alert_bot.api.sent("chat.update") == [] and alert_bot.api.sent("chat.postMessage") == []


@pytest.mark.parametrize("write", BUTTON_WRITES)
def test_an_admin_may_click_any_alert(alert_bot: RunningBot, alert_id: int, write: str) -> None:
    action_id, value, element = BUTTON_WRITES[write]
    click(alert_bot, action_id, value.format(id=alert_id), user=BOSS, **_filled(element, alert_id))
    alert_bot.api.wait_for("chat.update", 2)
    assert [a.kind for a in eventually(lambda: _actions_or_none(alert_bot))] == [write]


def _actions_or_none(bot: RunningBot) -> list[AlertAction] | None:
    with read_session(bot.engine) as session:
        found = list(session.exec(select(AlertAction)).all())
    return found or None


# --- permissions: forms, from an alert and from a health card --------------------------------------------------------

NOTE = {"type": "plain_text_input", "value": "Called the VP Ops"}
PULSE = {"level": {"type": "radio_buttons", "selected_option": {"value": "2"}}}
PLAYBOOK = {"playbook": chosen("churn_risk_response")}
SNOOZE = {"duration": {"type": "radio_buttons", "selected_option": {"value": "7d"}}}
FORM_WRITES = {
    "pulse on an alert": ("alert_set_pulse", "set_pulse", PULSE, "level"),
    "pulse on a card": ("card_set_pulse", "set_pulse", PULSE, "level"),
    "touch on a card": ("card_log_touch", "log_touch", {"kind": chosen("call"), "note": NOTE}, "note"),
    "note on an alert": ("alert_log_note", "log_touch", {"kind": chosen("note"), "note": NOTE}, "note"),
    "playbook on a card": ("card_start_playbook", "start_playbook", PLAYBOOK, "playbook"),
    "playbook on an alert": ("alert_start_playbook", "start_playbook", PLAYBOOK, "playbook"),
    "snooze on a card": ("card_snooze", "snooze_account", SNOOZE, "duration"),
}


def open_form(bot: RunningBot, action_id: str, alert_id: int, user: str) -> ApiCall:
    """Click the button that opens the form, on the alert's channel copy or on a private health card."""
    if action_id.startswith("alert_"):
        click(bot, action_id, str(alert_id), user=user)
    else:
        send(bot, block_action(action_id, "ACCT-4521", response_url=bot.api.response_url("card"), user=user))
    return bot.api.wait_for("views.open")[-1]


@pytest.mark.parametrize("write", FORM_WRITES)
def test_someone_who_is_neither_the_csm_nor_an_admin_is_refused_in_the_form_and_nothing_is_recorded(
    alert_bot: RunningBot, alert_id: int, write: str
) -> None:
    action_id, callback_id, values, field = FORM_WRITES[write]
    opened = open_form(alert_bot, action_id, alert_id, STRANGER)
    reply = alert_bot.client.action(view_submission(callback_id, opened, values, user=STRANGER))
    assert reply.status == 200 and reply.json()["response_action"] == "errors"
    assert "Only Sarah Chen (the account's CSM)" in reply.json()["errors"][field]
    assert "nothing was recorded" in reply.json()["errors"][field]
    time.sleep(0.2)  # anything a listener would still do after answering
    nothing_written(alert_bot)
    assert stored_alert(alert_bot, alert_id).status == "open"
    assert alert_bot.api.sent("chat.postMessage") == [] and alert_bot.api.sent("chat.update") == []


@pytest.mark.parametrize("write", FORM_WRITES)
def test_an_admin_may_use_every_form(alert_bot: RunningBot, alert_id: int, write: str) -> None:
    action_id, callback_id, values, _ = FORM_WRITES[write]
    opened = open_form(alert_bot, action_id, alert_id, BOSS)
    reply = alert_bot.client.action(view_submission(callback_id, opened, values, user=BOSS))
    assert reply.status == 200 and reply.body == b"", "the form closes: it was done"
    assert eventually(lambda: sum(count(alert_bot, table) for table in WRITES) or None) >= 1


def test_the_csm_known_only_by_email_may_act_on_their_account(alert_bot: RunningBot) -> None:
    with write_session(alert_bot.engine) as session:
        session.add(SlackUserCache(email="mike.ross@example.com", user_id="U0MIKE0001"))
    send(
        alert_bot,
        block_action("card_log_touch", "ACCT-2001", response_url=alert_bot.api.response_url("card"), user="U0MIKE0001"),
    )
    opened = alert_bot.api.wait_for("views.open")[-1]
    values = {"kind": chosen("call"), "note": NOTE}
    assert alert_bot.client.action(view_submission("log_touch", opened, values, user="U0MIKE0001")).body == b""
    assert count(alert_bot, Touchpoint) == 1


def test_someone_else_cannot_tick_a_checklist(alert_bot: RunningBot, alert_id: int) -> None:
    opened = open_form(alert_bot, "alert_start_playbook", alert_id, SARAH)
    alert_bot.client.action(view_submission("start_playbook", opened, {"playbook": chosen("red_account_recovery")}))
    run = eventually(lambda: stored_run(alert_bot))
    alert_bot.api.clear()
    tick = block_action(
        "playbook_step_tick", "", response_url=alert_bot.api.response_url("tick"), user=STRANGER, channel=ALERTS,
        ephemeral=False, message_ts=run.ts,
    )  # fmt: skip
    tick["actions"][0].update(
        type="checkboxes", block_id=f"run:{run.id}:stage:1", selected_options=[{"value": f"{run.id}:1.1"}]
    )
    send(alert_bot, tick)
    [answer] = alert_bot.api.wait_for("response_url")
    assert "You can't tick this checklist" in everything(answer) and "Only Sarah Chen" in everything(answer)
    [redrawn] = alert_bot.api.wait_for("chat.update")  # the box the stranger ticked is unticked again on screen
    assert (redrawn.params["ts"], "*0 of 16* steps done" in everything(redrawn)) == (run.ts, True)
    assert count(alert_bot, PlaybookStepTick) == 0 and [a.kind for a in _actions_or_none(alert_bot) or []] == [
        "start_playbook"
    ]


# --- forms act only on what they were opened on -----------------------------------------------------------------------


def forged(opened: ApiCall, **changes: Any) -> ApiCall:
    """The opened modal with its metadata's JSON changed, its signature kept (or dropped with `signature=None`)."""
    signature, _, body = opened.params["view"]["private_metadata"].partition(".")
    fields = {**json.loads(body), **changes}
    metadata = json.dumps(fields, separators=(",", ":"))
    view = {**opened.params["view"], "private_metadata": f"{signature}.{metadata}"}
    return ApiCall(opened.method, {**opened.params, "view": view}, opened.status, opened.ok)


def with_metadata(opened: ApiCall, metadata: str) -> ApiCall:
    view = {**opened.params["view"], "private_metadata": metadata}
    return ApiCall(opened.method, {**opened.params, "view": view}, opened.status, opened.ok)


def test_a_checklist_cannot_be_sent_to_a_channel_named_in_forged_metadata(alert_bot: RunningBot) -> None:
    opened = open_form(alert_bot, "card_start_playbook", 0, SARAH)  # a private card: the checklist goes by DM
    elsewhere = forged(opened, channel="C0ELSEWHERE", thread_ts="1700000000.000100")
    reply = alert_bot.client.action(
        view_submission("start_playbook", elsewhere, {"playbook": chosen("churn_risk_response")})
    )
    assert reply.status == 400
    time.sleep(0.2)
    assert alert_bot.api.sent("chat.postMessage") == []
    nothing_written(alert_bot)


def test_a_pulse_opened_on_one_account_cannot_note_itself_on_another_accounts_alert(
    alert_bot: RunningBot, alert_id: int
) -> None:
    with write_session(alert_bot.engine) as session:
        other = HealthAlert(
            account_id="ACCT-1001", condition="usage_drop", severity="Medium", opened_on=date(2026, 11, 24)
        )
        session.add(other)
        session.flush()
        other_id = other.id
    opened = open_form(alert_bot, "card_set_pulse", alert_id, SARAH)  # opened on Acme Corp's card
    values = PULSE
    reply = alert_bot.client.action(view_submission("set_pulse", forged(opened, alert_id=other_id), values))
    assert reply.status == 400
    time.sleep(0.2)
    nothing_written(alert_bot)
    assert alert_bot.api.sent("chat.postMessage") == [] and alert_bot.api.sent("chat.update") == []


def test_a_form_submitted_by_someone_it_was_not_opened_for_is_refused(alert_bot: RunningBot, alert_id: int) -> None:
    opened = open_form(alert_bot, "card_log_touch", alert_id, BOSS)
    reply = alert_bot.client.action(
        view_submission("log_touch", opened, {"kind": chosen("call"), "note": NOTE}, user=SARAH)
    )
    assert reply.status == 400
    nothing_written(alert_bot)


@pytest.mark.parametrize(
    "metadata",
    [
        "notjson",
        "",
        '{"account_id":"ACCT-4521","alert_id":"abc"}',
        '{"account_id":"ACCT-4521"}',
        "[1,2]",
    ],
)
def test_a_form_whose_metadata_we_did_not_write_gets_400_and_changes_nothing(
    alert_bot: RunningBot, alert_id: int, metadata: str
) -> None:
    opened = open_form(alert_bot, "alert_log_note", alert_id, SARAH)
    values = {"kind": chosen("note"), "note": NOTE}
    reply = alert_bot.client.action(view_submission("log_touch", with_metadata(opened, metadata), values))
    assert reply.status == 400 and b"Traceback" not in reply.body
    time.sleep(0.2)
    nothing_written(alert_bot)


def test_signed_metadata_with_a_value_of_the_wrong_type_gets_400(alert_bot: RunningBot, alert_id: int) -> None:
    opened = open_form(alert_bot, "alert_set_pulse", alert_id, SARAH)
    values = PULSE
    reply = alert_bot.client.action(view_submission("set_pulse", forged(opened, alert_id="abc"), values))
    assert reply.status == 400
    nothing_written(alert_bot)


# --- malformed but validly signed requests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload=notjson", "application/x-www-form-urlencoded"),
        (b"payload=", "application/x-www-form-urlencoded"),
        (b"", "application/x-www-form-urlencoded"),
        (urlencode({"payload": "[1, 2]"}).encode(), "application/x-www-form-urlencoded"),
        (
            urlencode({"payload": json.dumps({"type": "block_actions", "user": "U0SARAH001"})}).encode(),
            "application/x-www-form-urlencoded",
        ),
        (b"notjson", "application/json"),
        (b"[]", "application/json"),
    ],
)
def test_a_signed_request_slack_would_never_send_gets_400_and_changes_nothing(
    alert_bot: RunningBot, alert_id: int, body: bytes, content_type: str
) -> None:
    reply = alert_bot.client.post(body, content_type)
    assert reply.status == 400 and b"malformed request" in reply.body and b"Traceback" not in reply.body
    alert_bot.api.assert_quiet()
    nothing_written(alert_bot)
    assert alert_bot.processed_events() == 0


def test_a_button_whose_alert_id_is_not_a_number_is_answered_politely(alert_bot: RunningBot, alert_id: int) -> None:
    click(alert_bot, "alert_acknowledge", "abc")
    [answer] = alert_bot.api.wait_for("response_url")
    assert answer.params["response_type"] == "ephemeral"
    nothing_written(alert_bot)


# --- replays --------------------------------------------------------------------------------------------------------


def test_a_replayed_slash_command_is_answered_once(alert_bot: RunningBot) -> None:
    body = urlencode(slash_command("risks", response_url=alert_bot.api.response_url("cmd"))).encode()
    stamp = str(int(time.time()))
    first = alert_bot.client.post(body, "application/x-www-form-urlencoded", timestamp=stamp)
    replay = alert_bot.client.post(body, "application/x-www-form-urlencoded", timestamp=stamp)
    assert (first.status, replay.status) == (200, 200)
    alert_bot.api.wait_for_exactly("response_url", 1, settle=0.5)

    again = urlencode(slash_command("risks", response_url=alert_bot.api.response_url("cmd2"))).encode()
    assert alert_bot.client.post(again, "application/x-www-form-urlencoded").status == 200
    assert [c.path for c in alert_bot.api.wait_for("response_url", 2)] == ["/response/cmd", "/response/cmd2"]


def test_two_web_workers_answer_a_replay_once(start_bot: Any) -> None:
    one, other = start_bot(), start_bot()  # two servers over one store, as two gunicorn workers
    body = urlencode(slash_command("risks", response_url=one.api.response_url("cmd"))).encode()
    stamp = str(int(time.time()))
    assert one.client.post(body, "application/x-www-form-urlencoded", timestamp=stamp).status == 200
    assert other.client.post(body, "application/x-www-form-urlencoded", timestamp=stamp).status == 200
    one.api.wait_for_exactly("response_url", 1, settle=0.5)


def test_ack_unack_ack_by_one_person_is_recorded_three_times(alert_bot: RunningBot, alert_id: int) -> None:
    for n, action_id in enumerate(("alert_acknowledge", "alert_unacknowledge", "alert_acknowledge"), 1):
        click(alert_bot, action_id, str(alert_id))
        alert_bot.api.wait_for("chat.update", 2 * n)
    recorded = eventually(lambda: ((found := _actions_or_none(alert_bot)) and len(found) == 3 and found) or None)
    assert [(a.kind, a.user_id) for a in recorded] == [
        ("acknowledge", SARAH),
        ("unacknowledge", SARAH),
        ("acknowledge", SARAH),
    ]
    assert stored_alert(alert_bot, alert_id).acknowledged_by == SARAH
