"""Alerts and digests sent proactively under the exactly-once ledger (429 honoured), and clicks on their
Action.Execute buttons: recorded once, permission-checked like Slack, answered with the updated card, every copy
updated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from bot.activity import alert_actions
from bot.alerts import alert_view
from bot.store import Account, HealthAlert, SentMessage, read_session, write_session
from bot.teams.conversations import Reference, remember
from bot.teams.delivery import TeamsDelivery
from bot.teams.outbox import Loop
from handlers.teams.card_actions import ALERT_CONTROLS
from messages.adaptive import render_card
from scoring import load_model
from tests.conftest import DEMO_DAY
from tests.teams.conftest import (
    CHANNEL,
    MARCUS,
    SARAH_CHAT,
    RunningTeams,
    assert_valid_card,
    card_click,
    card_text,
    dialog_invoke,
    installed,
    personal_message,
)


def open_alert(teams: RunningTeams) -> int:
    with write_session(teams.engine) as session:
        alert = HealthAlert(
            account_id="ACCT-4521",
            condition="turned_red",
            severity="High",
            opened_on=datetime.now(UTC).date(),  # opened today: alerts are posted for a week after they open
            title="turned Red (52 → 38)",
            playbook="red_account_recovery",
            reasons=[
                {"key": "usage_drop", "title": "Usage decline", "severity": "High", "facts": ["12 of 25 seats active"]}
            ],
            respond_by=datetime.now(UTC) + timedelta(hours=24),
        )
        session.add(alert)
        session.flush()
        assert alert.id is not None
        return alert.id


def deliver(teams: RunningTeams) -> TeamsDelivery:
    loop = Loop()
    return TeamsDelivery(teams.engine, teams.settings, teams.bot.deps.outbox, loop)


def test_an_alert_goes_to_the_csm_and_the_channel_once_and_a_click_updates_every_copy(
    start_teams: Callable[..., RunningTeams],
) -> None:
    teams = start_teams(healthbot_teams_channel=CHANNEL)
    teams.post(installed(teams.api.service_url))  # Sarah installs the app
    remember(teams.engine, Reference(CHANNEL, teams.api.service_url, "channel"))
    teams.api.wait_for("create")
    alert_id = open_alert(teams)
    delivery = deliver(teams)
    teams.api.fail("create", status=429, retry_after=1)  # Teams throttles the first send

    first = delivery.post_alerts({}, now=datetime.now(UTC))
    again = delivery.post_alerts({}, now=datetime.now(UTC))

    assert [d.outcome for d in first.deliveries] == ["sent", "sent"]
    assert [d.outcome for d in again.deliveries] == ["already_sent", "already_sent"]
    throttled, *retried = [c for c in teams.api.calls("create") if c.body.get("attachments")][1:]
    assert throttled.status == 429 and retried[0].at - throttled.at >= 1.0  # waited out Retry-After
    alert_cards = [c for c in teams.api.cards() if "turned Red" in card_text(c)]
    assert len(alert_cards) == 2
    for card in alert_cards:
        assert_valid_card(card)
    ack = next(a for a in alert_cards[0]["actions"] if a.get("verb") == "alert_acknowledge")

    # Sarah (the account's CSM, known by her email) acknowledges; Teams sends the invoke twice (a double click).
    click = card_click("alert_acknowledge", ack["data"], teams.api.service_url)
    status, response = teams.post(click)
    status_again, _ = teams.post(card_click("alert_acknowledge", ack["data"], teams.api.service_url))

    assert status == status_again == 200
    assert response["type"] == "application/vnd.microsoft.card.adaptive"
    assert_valid_card(response["value"])
    assert "Acknowledged by Sarah Chen" in card_text(response["value"])
    assert "Unacknowledge" in card_text(response["value"])
    assert [a.kind for a in alert_actions(teams.engine, alert_id)] == ["acknowledge"]  # recorded once
    updates = teams.api.wait_for("update", count=2)
    assert {u.conversation_id for u in updates} >= {SARAH_CHAT, CHANNEL}
    for card in teams.api.cards("update"):
        assert_valid_card(card)
        assert "Acknowledged by Sarah Chen" in card_text(card)
    delivery.loop.close()


def test_the_ledger_sends_once_retries_what_teams_refused_and_leaves_a_lost_answer_for_review(
    teams: RunningTeams,
) -> None:
    teams.post(installed(teams.api.service_url))
    welcome = len(teams.api.wait_for("create"))  # the app says hello on install
    delivery = deliver(teams)
    hello = render_card(alert_view(teams.engine, open_alert(teams), now=datetime.now(UTC), playbooks={}))
    key = f"digest:2026-11-24:{SARAH_CHAT}:sarah chen"
    teams.api.fail("create", status=403)  # refused: nothing was posted

    refused = delivery.post(key=key, kind="digest", conversation_id=SARAH_CHAT, card=hello)
    sent = delivery.post(key=key, kind="digest", conversation_id=SARAH_CHAT, card=hello)
    again = delivery.post(key=key, kind="digest", conversation_id=SARAH_CHAT, card=hello)

    assert (refused.outcome, refused.surface) == ("failed", "teams") and "403" in (refused.error or "")
    assert sent.outcome == "sent" and sent.ts is not None and sent.ts.startswith("activity-")
    assert again.outcome == "already_sent"
    posts = teams.api.calls("create")[welcome:]
    assert [c.status for c in posts] == [403, 201]  # posted once after the refusal, never again
    assert posts[-1].body["channelData"]["healthbotKey"] == f"teams:{key}"  # the card carries its key

    lost = f"alert:2026-11-24:{SARAH_CHAT}"
    teams.api.fail("create", status=500)  # Teams may have posted it: the answer says nothing
    unknown = delivery.post(key=lost, kind="alert", conversation_id=SARAH_CHAT, card=hello)
    review = delivery.post(key=lost, kind="alert", conversation_id=SARAH_CHAT, card=hello)

    assert unknown.outcome == "unknown" and review.outcome == "review"  # Teams cannot be asked: never re-sent
    assert "cannot read" in (review.error or "")
    assert [c.status for c in teams.api.calls("create")[welcome:]] == [403, 201, 500]
    delivery.loop.close()


def test_someone_who_may_not_act_is_told_so_and_nothing_is_recorded(teams: RunningTeams) -> None:
    alert_id = open_alert(teams)
    status, response = teams.post(
        card_click(
            "alert_resolve",
            {"alert_id": alert_id, "rev": "x"},
            teams.api.service_url,
            user=MARCUS,
            conversation="a:1marcus",
        )
    )

    assert status == 200
    assert response["type"] == "application/vnd.microsoft.activity.message"
    assert "Only Sarah Chen (the account's CSM)" in response["value"]
    assert alert_actions(teams.engine, alert_id) == []
    with read_session(teams.engine) as session:
        assert session.get(HealthAlert, alert_id).resolved_at is None  # type: ignore[union-attr]


def test_snooze_note_and_pulse_open_a_dialog_and_are_recorded_once(teams: RunningTeams) -> None:
    teams.post(installed(teams.api.service_url))
    teams.api.wait_for("create")
    alert_id = open_alert(teams)
    delivery = deliver(teams)
    delivery.post_alerts({}, now=datetime.now(UTC))
    [alert_card] = [c for c in teams.api.cards() if "turned Red" in card_text(c)]
    buttons = {a["title"]: a for a in alert_card["actions"]}

    def open_and_submit(button: str, inputs: dict[str, str]) -> tuple[dict[str, Any], Any]:
        status, opened = teams.post(dialog_invoke("task/fetch", buttons[button]["data"], teams.api.service_url))
        assert status == 200 and opened["task"]["type"] == "continue"
        form = opened["task"]["value"]["card"]["content"]
        assert_valid_card(form)
        [submit] = form["actions"]
        status, closed = teams.post(dialog_invoke("task/submit", {**submit["data"], **inputs}, teams.api.service_url))
        assert status == 200
        return form, closed

    form, closed = open_and_submit("Snooze…", {"snooze": "7d"})
    assert "Snooze for" in card_text(form) and not (closed or {}).get("task")  # recorded: the dialog closes
    open_and_submit("Log note…", {"note": "Called their VP"})
    open_and_submit("Log note…", {"note": "Called their VP"})  # submitted twice: recorded once
    _, refused = open_and_submit("Set pulse…", {"pulse": "9"})
    assert "is not a pulse level" in refused["task"]["value"]
    open_and_submit("Set pulse…", {"pulse": "3", "pulse_note": "Champion left"})

    assert [(a.kind, a.note) for a in alert_actions(teams.engine, alert_id)] == [
        ("snooze", "for 7 days"),
        ("note", "Called their VP"),
        ("pulse", "Concerned: Champion left"),
    ]
    latest = teams.api.cards("update")[-1]  # the alert in Sarah's chat, updated after each submit
    assert_valid_card(latest)
    assert "Snoozed by Sarah Chen" in card_text(latest) and "Concerned (3/6)" in card_text(latest)
    delivery.loop.close()


def test_assign_offers_the_people_with_the_app_and_the_assignee_may_then_act(teams: RunningTeams) -> None:
    teams.post(installed(teams.api.service_url))
    teams.post(personal_message("help", teams.api.service_url, user=MARCUS))  # Marcus has the app too
    alert_id = open_alert(teams)
    marcus_chat = {"user": MARCUS, "conversation": f"a:1{MARCUS['id']}"}
    refused = teams.post(
        card_click("alert_acknowledge", {"alert_id": alert_id, "rev": "a"}, teams.api.service_url, **marcus_chat)
    )
    assert "Only Sarah Chen (the account's CSM)" in refused[1]["value"]

    view = alert_view(teams.engine, alert_id, now=datetime.now(UTC), playbooks=teams.bot.deps.playbooks)
    [assign] = [a for a in render_card(view)["actions"] if a["title"] == "Assign…"]
    assert assign["mode"] == "secondary"  # the seventh action: under the card's "…" menu
    status, opened = teams.post(dialog_invoke("task/fetch", assign["data"], teams.api.service_url))
    assert status == 200 and opened["task"]["type"] == "continue"
    form = opened["task"]["value"]["card"]["content"]
    assert_valid_card(form)
    [picker] = [e for e in form["body"] if e.get("id") == "assignee"]
    assert [c["title"] for c in picker["choices"]] == ["Sarah Chen (me)", "Marcus Johnson"]
    [submit] = form["actions"]

    forged = {**submit["data"], "assignee": "aad-somebody-else"}
    _, answer = teams.post(dialog_invoke("task/submit", forged, teams.api.service_url))
    assert "Pick someone from the list" in answer["task"]["value"]
    assert alert_actions(teams.engine, alert_id) == []

    for _ in range(2):  # submitted twice: recorded once
        teams.post(
            dialog_invoke("task/submit", {**submit["data"], "assignee": MARCUS["aadObjectId"]}, teams.api.service_url)
        )
    assert [a.kind for a in alert_actions(teams.engine, alert_id)] == ["assign"]
    reassigned = alert_view(teams.engine, alert_id, now=datetime.now(UTC), playbooks=teams.bot.deps.playbooks)
    assert reassigned.assigned_to == MARCUS["aadObjectId"]
    shown = teams.post(
        card_click("alert_acknowledge", {"alert_id": alert_id, "rev": "b"}, teams.api.service_url, **marcus_chat)
    )
    text = card_text(shown[1]["value"])
    assert "Assigned to Marcus Johnson" in text and "Acknowledged by Marcus Johnson" in text
    assert [a.kind for a in alert_actions(teams.engine, alert_id)] == ["assign", "acknowledge"]


def test_every_button_an_alert_card_shows_is_answered(teams: RunningTeams) -> None:
    """Each control an alert card carries in each state reaches a listener (none is answered "older version")."""
    alert_id = open_alert(teams)
    seen: set[str] = set()
    for click in ("alert_acknowledge", "alert_unsnooze", "alert_resolve", "alert_unresolve"):
        data = {"alert_id": alert_id, "rev": click}
        if click == "alert_unsnooze":  # snooze first, through its dialog's submit, so Unsnooze shows
            snooze = {**data, "dialog_id": "alert_snooze", "snooze": "1d"}
            teams.post(dialog_invoke("task/submit", snooze, teams.api.service_url))
        view = alert_view(teams.engine, alert_id, now=datetime.now(UTC), playbooks=teams.bot.deps.playbooks)
        for action in render_card(view)["actions"]:
            control = action.get("verb") or action["data"]["dialog_id"]
            seen.add(control)
            assert control in ALERT_CONTROLS
        status, response = teams.post(card_click(click, data, teams.api.service_url))
        assert status == 200 and response["type"] == "application/vnd.microsoft.card.adaptive", response
    assert seen >= {
        "alert_acknowledge",
        "alert_resolve",
        "alert_snooze",
        "alert_log_note",
        "alert_set_pulse",
        "alert_unacknowledge",
        "alert_unsnooze",
        "alert_unresolve",
        "alert_start_playbook",
        "alert_assign",
    }
    assert [a.kind for a in alert_actions(teams.engine, alert_id)] == [
        "acknowledge",
        "snooze",
        "unsnooze",
        "resolve",
        "unresolve",
    ]


def test_the_digest_reaches_the_csm_in_teams_and_names_whom_nobody_reaches(teams: RunningTeams) -> None:
    teams.post(installed(teams.api.service_url))
    teams.api.wait_for("create")
    remember(teams.engine, Reference(CHANNEL, teams.api.service_url, "channel"))
    with write_session(teams.engine) as session:  # Marcus has neither a Slack ID nor the Teams app
        for account in session.exec(select(Account).where(Account.csm_owner == "Marcus Johnson")).all():
            account.csm_slack_id = None
            session.add(account)
        for account in session.exec(select(Account).where(Account.csm_owner == "Sarah Chen")).all():
            account.csm_slack_id = None  # Sarah has no Slack either: Teams alone reaches her
            session.add(account)
    settings = teams.settings.model_copy(update={"healthbot_teams_channel": CHANNEL})
    delivery = TeamsDelivery(teams.engine, settings, teams.bot.deps.outbox, Loop())

    run = delivery.send_digests(load_model(None), day=DEMO_DAY)
    again = delivery.send_digests(load_model(None), day=DEMO_DAY)

    assert sorted((d.surface, d.channel) for d in run.deliveries if d.outcome == "sent") == sorted(
        [("teams", SARAH_CHAT), ("teams", CHANNEL)]
    )
    assert {d.outcome for d in again.deliveries} == {"already_sent"}
    digests = [c for c in teams.api.cards() if "Early-warning digest" in card_text(c)]
    assert len(digests) == 2
    for card in digests:
        assert_valid_card(card)
    team = next(c for c in digests if "Team" in card_text(c))
    unreachable = card_text(team).split("Could not reach")[1]
    assert "Marcus Johnson" in unreachable and "Sarah Chen" not in unreachable
    assert "Marcus Johnson" in run.unreachable and "Sarah Chen" not in run.unreachable  # not in Teams
    with read_session(teams.engine) as session:
        keys = [m.dedupe_key for m in session.exec(select(SentMessage)).all()]
    assert f"teams:digest:{DEMO_DAY.isoformat()}:{SARAH_CHAT}:sarah chen" in keys
    delivery.loop.close()


def test_start_playbook_starts_the_recommended_one_and_sends_its_checklist(teams: RunningTeams) -> None:
    alert_id = open_alert(teams)
    data = {"alert_id": alert_id, "rev": "r1"}

    status, response = teams.post(card_click("alert_start_playbook", data, teams.api.service_url))

    assert status == 200
    assert "📋" in card_text(response["value"]) and "Start playbook" not in card_text(response["value"])
    [checklist] = teams.api.wait_for("create") and teams.api.cards()
    assert_valid_card(checklist)
    assert "Acme Corp" in card_text(checklist) and "☐" in card_text(checklist)
    assert [a.kind for a in alert_actions(teams.engine, alert_id)] == ["start_playbook"]
