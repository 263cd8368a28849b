"""What every alert button, checklist tick and alert modal does around the store: who clicked, record it once,
re-render every copy of the message from the store, log it in the thread, and answer refusals privately."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.activity import AlertClick, AlertGone, AlertOutcome, act_on_alert
from bot.alerts import AlertDesk
from bot.forms import AccountGlance, FormTarget, alert_account, glance
from bot.permissions import NotAllowed
from bot.playbook_runs import Playbook, load_playbooks
from bot.routing import load_routing
from bot.slack.surface import SlackSurface
from handlers.slack.actions.payload import clicked_in_ephemeral, clicked_thread, clicker
from handlers.slack.deps import AppDeps, deps_of, form_seal
from handlers.slack.failures import slack_error
from handlers.slack.replies import APOLOGY, notice_message, respond_safely
from messages import views
from messages.blockkit import render_modal

logger = logging.getLogger(__name__)
T = TypeVar("T")

GONE = views.Notice(
    "That alert no longer exists",
    ["It may have been cleared when the data was re-imported. Nothing was recorded; `/health risks` shows what is "
     "at risk now."],
)  # fmt: skip


def now() -> datetime:
    """The time of a click, in UTC (messages show it in each reader's own timezone)."""
    return datetime.now(UTC)


def playbooks_of(deps: AppDeps) -> Mapping[str, Playbook]:
    """The playbooks in force (HEALTHBOT_PLAYBOOKS or the built-in file)."""
    return load_playbooks(deps.settings.healthbot_playbooks)


def desk_for(deps: AppDeps, client: WebClient) -> AlertDesk:
    """An AlertDesk for this click, posting and updating with the app's Web API client."""
    return AlertDesk(
        engine=deps.engine,
        settings=deps.settings,
        playbooks=playbooks_of(deps),
        routing=load_routing(deps.settings.healthbot_routing),
        surface=SlackSurface.create(deps.engine, deps.settings, client),
    )


def dedupe_key(body: dict[str, Any], action: dict[str, Any]) -> str:
    """The same for a double click's twin and for Slack's retry of one click, different for every other click."""
    return f"{action.get('action_ts')}:{clicker(body)}:{action.get('action_id')}:{action.get('block_id', '')}"


def alert_id_from(value: object) -> int | None:
    """The alert id in a button value ("42"), a select option ("42:7d") or a block id ("alert_actions:42")."""
    if not value or not isinstance(value, str):
        return None
    text = value
    for part in (text.split(":")[-1], text.split(":")[0]):
        if part.isascii() and part.isdigit():
            return int(part)
    return None


def click_from(
    body: dict[str, Any], action: dict[str, Any], *, deps: AppDeps, alert_id: int, kind: str, **extra: Any
) -> AlertClick:
    """The click as the store records it: who, what, when, and whether it came from the alert channel."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return AlertClick(
        alert_id=alert_id,
        user_id=clicker(body) or "",
        kind=kind,
        dedupe_key=dedupe_key(body, action),
        at=now(),
        in_alert_channel=channel is not None and channel == deps.settings.alert_channel,
        **extra,
    )


def apply_alert_click(
    click: AlertClick, *, deps: AppDeps, client: WebClient, respond: Respond | None
) -> AlertOutcome | None:
    """Record the click (once), then show the alert's new state everywhere it was posted and in its thread.

    Refusals and a vanished alert are answered privately to the clicker; our own failures are logged and answered
    with an apology. Returns the outcome, or None when nothing was recorded for one of those reasons.
    """
    try:
        outcome = act_on_alert(deps.engine, click, settings=deps.settings)
    except NotAllowed as refusal:
        _tell(respond, views.Notice("You can't change this alert", [str(refusal)], kind="refused"))
        return None
    except AlertGone:
        _tell(respond, GONE)
        return None
    except Exception:
        logger.exception("could not record %s on alert %s", click.kind, click.alert_id)
        _tell(respond, APOLOGY)
        return None
    show_everywhere(deps, client, outcome, click)
    return outcome


def show_everywhere(deps: AppDeps, client: WebClient, outcome: AlertOutcome, click: AlertClick) -> None:
    """Re-render every copy of the alert from the store and, when something was recorded, say so in its thread."""
    desk = desk_for(deps, client)
    try:
        # Even a click that changed nothing re-renders: the copy clicked may have been out of date.
        desk.refresh(click.alert_id, now=click.at)
        if outcome.action is not None and outcome.action.id is not None:
            event = views.AlertEvent(
                kind=outcome.action.kind,
                user=click.user_id,
                at=click.at.astimezone(deps.settings.timezone),
                account=desk.view(click.alert_id, now=click.at).account.name,
                note=outcome.action.note,
            )
            desk.reply(click.alert_id, event, key=f"action:{outcome.action.id}")
    except Exception:
        logger.exception("recorded %s on alert %s but could not update its messages", click.kind, click.alert_id)


def record_from_form(
    click: AlertClick, *, ack: Ack, field: str, deps: AppDeps, client: WebClient
) -> AlertOutcome | None:
    """A modal's alert action: recorded before the modal closes, so a refusal is shown in the form itself."""
    outcome = write_from_form(lambda: act_on_alert(deps.engine, click, settings=deps.settings), ack=ack, field=field)
    if outcome is not None:
        show_everywhere(deps, client, outcome, click)
    return outcome


def write_from_form(write: Callable[[], T], *, ack: Ack, field: str) -> T | None:
    """Do a form's write before the modal closes: the modal closes when it was done, and a refusal, a vanished
    alert or a failure of ours is shown in the form under `field` (nothing recorded). None unless it was done."""
    try:
        done = write()
    except NotAllowed as refusal:
        ack(response_action="errors", errors={field: str(refusal)})
        return None
    except AlertGone:
        ack(response_action="errors", errors={field: GONE.title + ". Nothing was recorded."})
        return None
    except Exception:
        logger.exception("could not record a form's %s", field)
        ack(response_action="errors", errors={field: APOLOGY.title + ". Please try again in a minute."})
        return None
    ack()
    return done


def tell_person(client: WebClient, user_id: str, notice: views.Notice, *, channel: str | None = None) -> None:
    """Tell one person something privately: an ephemeral message where they were, else a DM."""
    message = notice_message(notice)
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user_id, text=message["text"], blocks=message["blocks"])
        else:
            client.chat_postMessage(channel=user_id, text=message["text"], blocks=message["blocks"])
    except (SlackApiError, OSError) as err:
        logger.warning("could not tell %s privately (%s)", user_id, slack_error(err))


def _tell(respond: Respond | None, notice: views.Notice) -> None:
    if respond is not None:
        respond_safely(respond, notice_message(notice), replace_original=False)


# --- modals -----------------------------------------------------------------------------------------------------


def open_form(client: WebClient, trigger_id: str | None, form: views.Form) -> bool:
    """Open a modal for the clicker; False (logged) when Slack refused, e.g. the trigger expired after 3 seconds."""
    if not trigger_id:
        return False
    try:
        client.views_open(trigger_id=trigger_id, view=render_modal(form))
    except (SlackApiError, OSError) as err:
        logger.warning("could not open the %s modal (%s)", form.callback_id, slack_error(err))
        return False
    return True


def submitted(view: dict[str, Any]) -> dict[str, str | None]:
    """A submitted Form's values by block id (select, radio, date or text)."""
    values: dict[str, str | None] = {}
    for block_id, inputs in (view.get("state") or {}).get("values", {}).items():
        element = inputs.get("value") or {}
        chosen = element.get("selected_option") or {}
        values[block_id] = chosen.get("value") or element.get("selected_date") or element.get("value")
    return values


def submitted_day(text: str | None, default: date) -> date | None:
    """A datepicker's value, `default` when it was left empty, None when it is not a date."""
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return None


def click_from_form(view: dict[str, Any], *, user_id: str, alert_id: int, kind: str, **extra: Any) -> AlertClick:
    """An alert click made by submitting a modal; the modal's id makes a double submit record once."""
    return AlertClick(
        alert_id=alert_id, user_id=user_id, kind=kind, dedupe_key=f"view:{view.get('id')}", at=now(), **extra
    )


@dataclass(frozen=True)
class Target:
    """What a form button was clicked on: an account, maybe one of its alerts, and the visible message it sat in."""

    account: AccountGlance
    alert_id: int | None
    reasons: list[str]  # what the account's trouble is about, for recommending a playbook
    channel: str | None  # None when the button sat in a message only the clicker could see
    thread_ts: str | None
    metadata: str  # all of the above, signed, for the form to carry back


def target_or_gone(
    body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
) -> tuple[AppDeps, Target] | None:
    """The app's deps and what was clicked on; None (and a polite private answer) when it no longer exists."""
    deps = deps_of(context)
    target = clicked_target(deps, body, action)
    if target is None:
        _tell(respond, GONE)
        return None
    return deps, target


def clicked_target(deps: AppDeps, body: dict[str, Any], action: dict[str, Any]) -> Target | None:
    """The account (and alert) behind an alert button (value = alert id) or a health-card button (value = account
    id); None when it no longer exists."""
    value = str(action.get("value") or "")
    alert_id: int | None = None
    if str(action.get("action_id", "")).startswith("alert_"):
        alert_id = alert_id_from(value)
        found = alert_account(deps.engine, alert_id) if alert_id is not None else None
        if found is None:
            return None
        account_id, reasons = found
    else:
        account_id, reasons = value, []
    account = glance(deps.engine, account_id)
    if account is None:
        return None
    thread = None if clicked_in_ephemeral(body) else clicked_thread(body)
    channel, thread_ts = thread if thread else (None, None)
    opened = FormTarget(account_id, clicker(body) or "", alert_id, channel, thread_ts)
    return Target(
        account=account,
        alert_id=alert_id,
        reasons=reasons or [(account.band or "").lower()],
        channel=channel,
        thread_ts=thread_ts,
        metadata=form_seal(deps.settings).seal(opened),
    )
