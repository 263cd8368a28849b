"""Alert buttons end to end, over real HTTP with signed requests against the Web API stand-in: each click recorded
once, every copy of the alert re-rendered naming the person, the action logged in the thread; refusals private."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.alerts import AlertDesk
from bot.playbook_runs import load_playbooks
from bot.slack.app import create_web_client
from bot.slack.surface import SlackSurface
from bot.store import (
    AlertAction,
    AlertPreference,
    HealthAlert,
    HealthScore,
    PlaybookRun,
    PlaybookStepTick,
    Pulse,
    SentMessage,
    Touchpoint,
    read_session,
    write_session,
)
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import API_APP_ID, MIKE, SARAH, app_home_opened, block_action, event_envelope
from tests.slack_api import TEAM_ID, ApiCall

ALERTS = "C0ALERTS01"
BOSS = "U0BOSS0001"
STRANGER = "U0STRANGE1"


@pytest.fixture
def alert_bot(start_bot: Callable[..., RunningBot]) -> RunningBot:
    return start_bot(healthbot_alert_channel=ALERTS, healthbot_admins=BOSS)


@pytest.fixture
def alert_id(alert_bot: RunningBot) -> int:
    """Acme Corp turned red this morning; its alert went to Sarah by DM and to the alert channel."""
    with write_session(alert_bot.engine) as session:
        for day, score, band in ((date(2026, 11, 23), 65.0, "Yellow"), (date(2026, 11, 24), 45.0, "Red")):
            session.add(HealthScore(account_id="ACCT-4521", as_of=day, score=score, band=band, confidence=1))
        alert = HealthAlert(
            account_id="ACCT-4521",
            condition="turned_red",
            severity="High",
            opened_on=date(2026, 11, 24),
            title="turned Red (65 → 45)",
            playbook="red_account_recovery",
            reasons=[{"key": "turned_red", "title": "Health fell from 65 to 45", "severity": "High", "facts": []}],
        )
        session.add(alert)
        session.flush()
        assert alert.id is not None
        new_id = alert.id
    desk = AlertDesk(
        engine=alert_bot.engine,
        settings=alert_bot.settings,
        playbooks=load_playbooks(),
        surface=SlackSurface.create(alert_bot.engine, alert_bot.settings, create_web_client(alert_bot.settings)),
    )
    assert [d.outcome for d in desk.post([new_id], now=datetime.now(UTC))] == ["sent", "sent"]
    alert_bot.api.clear()
    return new_id


def copy_ts(bot: RunningBot, channel: str) -> str:
    with read_session(bot.engine) as session:
        sent = session.exec(
            select(SentMessage).where(SentMessage.kind == "alert", SentMessage.channel == channel)
        ).one()
    assert sent.ts is not None
    return sent.ts


def click(
    bot: RunningBot, action_id: str, value: str, *, user: str = SARAH, channel: str = ALERTS, **element: Any
) -> dict[str, Any]:
    """A click on the alert's copy in `channel`, as Slack sends it; returns the payload (to send it again)."""
    payload = block_action(
        action_id,
        value,
        response_url=bot.api.response_url("click"),
        user=user,
        channel=channel,
        ephemeral=False,
        message_ts=copy_ts(bot, channel),
    )
    payload["actions"][0].update(element)
    send(bot, payload)
    return payload


def send(bot: RunningBot, payload: dict[str, Any]) -> None:
    reply = bot.client.action(payload)
    assert reply.status == 200 and reply.body == b"", "a click is acknowledged at once, with nothing to show"


def actions(bot: RunningBot) -> list[AlertAction]:
    with read_session(bot.engine) as session:
        return list(session.exec(select(AlertAction).order_by(AlertAction.id)).all())  # type: ignore[arg-type]


def everything(call: ApiCall) -> str:
    return json.dumps([call.params.get("blocks"), call.params.get("attachments"), call.params.get("text")])


def settled(bot: RunningBot, method: str, *, quiet: float = 0.3, within: float = 10.0) -> list[ApiCall]:
    """The calls to `method` once none has followed for `quiet` seconds (at most `within` seconds)."""
    deadline = time.monotonic() + within
    seen = bot.api.sent(method)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = bot.api.sent(method)
        if len(now) == len(seen):
            return now
        seen = now
    return seen


def controls(call: ApiCall) -> list[str]:
    blocks = [b for a in call.params.get("attachments") or [] for b in a["blocks"]]
    return [e["action_id"] for b in blocks for e in b.get("elements", []) if "action_id" in e]


def test_acknowledge_updates_every_copy_names_the_person_and_logs_it_in_the_thread(
    alert_bot: RunningBot, alert_id: int
) -> None:
    payload = click(alert_bot, "alert_acknowledge", str(alert_id))
    send(alert_bot, payload)  # a double click / Slack's retry: the same action_ts

    # Each delivery asks for both copies to be re-rendered; a request made while the other is still waiting to
    # render is served by that render (AlertDesk.refresh), so the copies get one or two updates each, never more.
    replies = alert_bot.api.wait_for_exactly("chat.postMessage", 2)
    updates = settled(alert_bot, "chat.update")
    assert len(updates) in (2, 4) and {u.params["channel"] for u in updates} == {SARAH, ALERTS}
    for update in updates:
        assert f"Acknowledged by <@{SARAH}>" in everything(update)
        assert "alert_unacknowledge" in controls(update) and "alert_acknowledge" not in controls(update)
    assert {(r.params["channel"], r.params["thread_ts"]) for r in replies} == {
        (SARAH, copy_ts(alert_bot, SARAH)),
        (ALERTS, copy_ts(alert_bot, ALERTS)),
    }
    assert "acknowledged this" in everything(replies[0])
    assert [(a.kind, a.user_id, a.alert_id) for a in actions(alert_bot)] == [("acknowledge", SARAH, alert_id)]


def test_someone_who_may_not_act_is_told_privately_and_nothing_changes(alert_bot: RunningBot, alert_id: int) -> None:
    click(alert_bot, "alert_resolve", str(alert_id), user=STRANGER)
    [answer] = alert_bot.api.wait_for_exactly("response_url", 1)
    assert answer.params["response_type"] == "ephemeral" and answer.params["replace_original"] is False
    assert "You can't change this alert" in everything(answer) and "Sarah Chen" in everything(answer)
    assert actions(alert_bot) == [] and alert_bot.api.sent("chat.update") == []


def test_an_admin_snoozes_and_the_buttons_follow(alert_bot: RunningBot, alert_id: int) -> None:
    option = {"text": {"type": "plain_text", "text": "Snooze 7 days"}, "value": f"{alert_id}:7d"}
    click(alert_bot, "alert_snooze", "", user=BOSS, type="static_select", selected_option=option)
    update = alert_bot.api.wait_for("chat.update", 2)[-1]
    assert f"Snoozed by <@{BOSS}> until" in everything(update)
    assert "alert_unsnooze" in controls(update) and "alert_snooze" not in controls(update)
    assert [(a.kind, a.note) for a in actions(alert_bot)] == [("snooze", "for 7 days")]


def test_assign_to_someone_who_may_then_act(alert_bot: RunningBot, alert_id: int) -> None:
    click(
        alert_bot,
        "alert_assign",
        "",
        type="users_select",
        block_id=f"alert_actions:{alert_id}",
        selected_user=MIKE,
    )
    assert f"Assigned to <@{MIKE}>" in everything(alert_bot.api.wait_for("chat.update", 2)[-1])
    click(alert_bot, "alert_resolve", str(alert_id), user=MIKE)
    resolved = alert_bot.api.wait_for("chat.update", 4)[-1]
    assert f"Resolved by <@{MIKE}>" in everything(resolved) and controls(resolved) == ["alert_unresolve"]
    assert [a.kind for a in actions(alert_bot)] == ["assign", "resolve"]


def test_a_click_on_an_alert_that_no_longer_exists_is_answered_politely(alert_bot: RunningBot, alert_id: int) -> None:
    click(alert_bot, "alert_acknowledge", str(alert_id + 100))
    [answer] = alert_bot.api.wait_for("response_url")
    assert "That alert no longer exists" in everything(answer)
    assert actions(alert_bot) == []


def eventually(found: Callable[[], Any], *, timeout: float = 5.0) -> Any:
    """Wait for what a listener writes after answering Slack (listeners run on worker threads)."""
    deadline = time.monotonic() + timeout
    while (value := found()) is None:
        assert time.monotonic() < deadline, "the listener did not finish in time"
        time.sleep(0.01)
    return value


def stored_run(bot: RunningBot) -> PlaybookRun | None:
    with read_session(bot.engine) as session:
        runs = session.exec(select(PlaybookRun)).all()
    assert len(runs) <= 1
    return runs[0] if runs and runs[0].ts else None


def view_submission(callback_id: str, opened: ApiCall, values: dict[str, dict[str, Any]], user: str = SARAH) -> Any:
    """Submit the modal the bot opened (its metadata as opened), with `values` by block id."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "standin"},
        "user": {"id": user, "username": "sarah.chen", "team_id": TEAM_ID},
        "api_app_id": API_APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": "1.1234.abcdef",
        "view": {
            "id": f"V{int(time.time() * 1000) % 10**8:08d}",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": opened.params["view"]["private_metadata"],
            "state": {"values": {block: {"value": element} for block, element in values.items()}},
            "hash": "1700000000.abcdef",
        },
    }


def chosen(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}}}


def test_start_playbook_records_once_posts_the_checklist_in_the_thread_and_ticks_are_recorded(
    alert_bot: RunningBot, alert_id: int
) -> None:
    click(alert_bot, "alert_start_playbook", str(alert_id))
    [opened] = alert_bot.api.wait_for("views.open")
    chooser = opened.params["view"]["blocks"][1]["element"]
    assert chooser["initial_option"]["value"] == "red_account_recovery"

    submission = view_submission("start_playbook", opened, {"playbook": chosen("red_account_recovery")})
    assert alert_bot.client.action(submission).status == 200
    assert alert_bot.client.action(submission).status == 200  # submitted twice
    checklist = next(
        c for c in alert_bot.api.wait_for("chat.postMessage", 3) if "Red Account Recovery" in c.params["text"]
    )
    assert checklist.params["channel"] == ALERTS and checklist.params["thread_ts"] == copy_ts(alert_bot, ALERTS)
    run = eventually(lambda: stored_run(alert_bot))  # where the checklist is, written once Slack answered
    assert run.start_score == 45 and run.started_by == SARAH
    assert [a.kind for a in actions(alert_bot)] == ["start_playbook"]
    assert "Acknowledged by" in everything(alert_bot.api.wait_for("chat.update", 2)[-1])

    tick = block_action(
        "playbook_step_tick", "", response_url=alert_bot.api.response_url("tick"), channel=ALERTS, ephemeral=False,
        message_ts=run.ts,
    )  # fmt: skip
    tick["actions"][0].update(
        type="checkboxes",
        block_id=f"run:{run.id}:stage:1",
        selected_options=[{"value": f"{run.id}:1.1"}, {"value": f"{run.id}:1.2"}],
    )
    send(alert_bot, tick)
    checklist_now = eventually(
        lambda: next((u for u in alert_bot.api.sent("chat.update") if "*2 of 16* steps done" in everything(u)), None)
    )
    assert (checklist_now.params["channel"], checklist_now.params["ts"]) == (ALERTS, run.ts)
    assert eventually(
        lambda: next((u for u in alert_bot.api.sent("chat.update") if "2 of 16 steps done" in everything(u)), None)
    ), "the alert shows the run's progress too"
    with read_session(alert_bot.engine) as session:
        assert sorted(t.step for t in session.exec(select(PlaybookStepTick)).all()) == ["1.1", "1.2"]


def test_log_note_with_a_call_writes_a_touchpoint_and_a_note_in_the_thread(
    alert_bot: RunningBot, alert_id: int
) -> None:
    click(alert_bot, "alert_log_note", str(alert_id))
    [opened] = alert_bot.api.wait_for("views.open")
    values = {
        "kind": chosen("call"),
        "happened_on": {"type": "datepicker", "selected_date": datetime.now(UTC).date().isoformat()},
        "note": {"type": "plain_text_input", "value": "Called the VP Ops; audit booked for Thursday"},
    }
    assert alert_bot.client.action(view_submission("log_touch", opened, values)).status == 200
    replies = alert_bot.api.wait_for("chat.postMessage", 2)
    assert "Call: Called the VP Ops; audit booked for Thursday" in everything(replies[0])
    with read_session(alert_bot.engine) as session:
        [touch] = session.exec(select(Touchpoint)).all()
    assert (touch.kind, touch.account_id, touch.user_id) == ("call", "ACCT-4521", SARAH)
    assert [a.kind for a in actions(alert_bot)] == ["note"]


def test_a_refused_note_is_explained_in_the_form(alert_bot: RunningBot, alert_id: int) -> None:
    click(alert_bot, "alert_log_note", str(alert_id), user=STRANGER)
    [opened] = alert_bot.api.wait_for("views.open")
    values = {"kind": chosen("note"), "note": {"type": "plain_text_input", "value": "Looks bad"}}
    reply = alert_bot.client.action(view_submission("log_touch", opened, values, user=STRANGER))
    assert reply.json()["response_action"] == "errors"
    assert "Only Sarah Chen (the account's CSM)" in reply.json()["errors"]["note"]
    assert actions(alert_bot) == []


def test_set_pulse_is_stored_and_shown_on_the_alert(alert_bot: RunningBot, alert_id: int) -> None:
    click(alert_bot, "alert_set_pulse", str(alert_id))
    [opened] = alert_bot.api.wait_for("views.open")
    values = {
        "level": {"type": "radio_buttons", "selected_option": {"value": "3"}},
        "note": {"type": "plain_text_input", "value": "Champion left last week"},
    }
    assert alert_bot.client.action(view_submission("set_pulse", opened, values)).status == 200
    update = alert_bot.api.wait_for("chat.update", 2)[-1]
    assert "CSM pulse: *Concerned* (3/6)" in everything(update)
    with read_session(alert_bot.engine) as session:
        assert session.exec(select(func.count()).select_from(Pulse)).one() == 1


def card_click(bot: RunningBot, action_id: str) -> ApiCall:
    """A button on a private health card (an answer to `/health Acme Corp`); returns the modal it opened."""
    send(bot, block_action(action_id, "ACCT-4521", response_url=bot.api.response_url("card")))
    return bot.api.wait_for("views.open")[-1]


def test_log_touch_from_a_health_card_feeds_engagement(alert_bot: RunningBot) -> None:
    opened = card_click(alert_bot, "card_log_touch")
    assert opened.params["view"]["title"]["text"] == "Log a touch"
    values = {"kind": chosen("meeting"), "happened_on": {"type": "datepicker", "selected_date": "2026-11-20"}}
    submission = view_submission("log_touch", opened, values)
    assert alert_bot.client.action(submission).status == 200
    assert alert_bot.client.action(submission).status == 200  # submitted twice
    touch = eventually(lambda: next(iter(_touches(alert_bot)), None))
    assert (touch.kind, touch.happened_on) == ("meeting", date(2026, 11, 20))
    time.sleep(0.2)
    assert len(_touches(alert_bot)) == 1


def _touches(bot: RunningBot) -> list[Touchpoint]:
    with read_session(bot.engine) as session:
        return list(session.exec(select(Touchpoint)).all())


def test_start_playbook_from_a_private_card_sends_the_checklist_by_dm_and_never_twice(alert_bot: RunningBot) -> None:
    opened = card_click(alert_bot, "card_start_playbook")
    alert_bot.client.action(view_submission("start_playbook", opened, {"playbook": chosen("churn_risk_response")}))
    [checklist] = alert_bot.api.wait_for("chat.postMessage")
    assert checklist.params["channel"] == SARAH and "Churn Risk Response" in checklist.params["text"]

    again = card_click(alert_bot, "card_start_playbook")
    alert_bot.client.action(view_submission("start_playbook", again, {"playbook": chosen("churn_risk_response")}))
    said = alert_bot.api.wait_for("chat.postMessage", 2)[-1]
    assert said.params["channel"] == SARAH and "already under way" in everything(said)
    assert [a.kind for a in actions(alert_bot)] == ["start_playbook"]


def test_snooze_from_a_health_card(alert_bot: RunningBot, alert_id: int) -> None:
    opened = card_click(alert_bot, "card_snooze")
    values = {"duration": {"type": "radio_buttons", "selected_option": {"value": "7d"}}}
    alert_bot.client.action(view_submission("snooze_account", opened, values))
    assert "Snoozed by" in everything(alert_bot.api.wait_for("chat.update", 2)[-1])
    assert [(a.kind, a.alert_id) for a in actions(alert_bot)] == [("snooze", alert_id)]


def test_snooze_from_a_health_card_without_open_alerts_says_so(alert_bot: RunningBot) -> None:
    send(alert_bot, block_action("card_snooze", "ACCT-4521", response_url=alert_bot.api.response_url("card")))
    [answer] = alert_bot.api.wait_for("response_url")
    assert "No open alerts on Acme Corp" in everything(answer)
    assert alert_bot.api.sent("views.open") == []


def test_app_home_lets_a_csm_choose_their_alert_scope(alert_bot: RunningBot) -> None:
    alert_bot.client.event(event_envelope(app_home_opened(SARAH)))
    [home] = alert_bot.api.wait_for("views.publish")
    scope = next(b for b in home.params["view"]["blocks"] if b.get("block_id") == "alert_scope")
    assert scope["accessory"]["initial_option"]["value"] == "mine"

    choice = block_action("alert_scope", "", response_url=alert_bot.api.response_url("home"))
    choice["actions"][0].update(type="static_select", selected_option={"value": "segment"}, block_id="alert_scope")
    send(alert_bot, choice)
    republished = alert_bot.api.wait_for("views.publish", 2)[-1]
    scope = next(b for b in republished.params["view"]["blocks"] if b.get("block_id") == "alert_scope")
    assert scope["accessory"]["initial_option"]["value"] == "segment"

    levels = block_action("alert_severities", "", response_url=alert_bot.api.response_url("home"))
    levels["actions"][0].update(type="checkboxes", selected_options=[{"value": "Critical"}, {"value": "High"}])
    send(alert_bot, levels)
    alert_bot.api.wait_for("views.publish", 3)
    preference = eventually(lambda: _preference_with_severities(alert_bot))
    assert (preference.scope, preference.severities) == ("segment", "Critical,High")


def _preference_with_severities(bot: RunningBot) -> AlertPreference | None:
    with read_session(bot.engine) as session:
        preference = session.get(AlertPreference, SARAH)
    return preference if preference and preference.severities == "Critical,High" else None
