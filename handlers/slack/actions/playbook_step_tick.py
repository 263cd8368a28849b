"""A tick in a playbook's checklist: the stage's ticks recorded, the checklist and its alert re-rendered."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.permissions import NotAllowed, Person
from bot.playbook_runs import RunGone, set_stage_ticks
from handlers.slack.actions.payload import clicker
from handlers.slack.alert_clicks import desk_for, now, playbooks_of
from handlers.slack.deps import deps_of
from handlers.slack.replies import STALE_BUTTON, notice_message, respond_safely
from messages import views

RUN_GONE = views.Notice("That playbook run no longer exists", ["Nothing was recorded."])


def tick_step_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """Make the stage's ticks match the boxes now checked (Slack sends them all), once per change."""
    ack()
    deps = deps_of(context)
    match = re.fullmatch(r"run:(\d+):stage:(\d+)", str(action.get("block_id", "")))  # from playbook_run.json.j2
    if match is None:
        respond_safely(respond, notice_message(STALE_BUTTON), replace_original=False)
        return
    done = {str(option.get("value", "")).partition(":")[2] for option in action.get("selected_options") or []}
    at = now()
    try:
        result = set_stage_ticks(
            deps.engine,
            run_id=int(match.group(1)),
            stage=int(match.group(2)),
            done=done,
            person=Person(clicker(body) or ""),
            now=at,
            playbooks=playbooks_of(deps),
            settings=deps.settings,
        )
    except RunGone:
        respond_safely(respond, notice_message(RUN_GONE), replace_original=False)
        return
    except NotAllowed as refusal:
        notice = views.Notice("You can't tick this checklist", [str(refusal)], kind="refused")
        respond_safely(respond, notice_message(notice), replace_original=False)
        # The boxes the person ticked show ticked on their screen until the checklist is drawn again from the store.
        desk_for(deps, client).refresh_checklist(int(match.group(1)), now=at, clicked=_clicked_message(body))
        return
    desk = desk_for(deps, client)
    desk.refresh_checklist(int(match.group(1)), now=at, clicked=_clicked_message(body))
    if result.run.alert_id is not None and (result.ticked or result.unticked):
        desk.refresh(result.run.alert_id, now=at)  # its "5 of 16 steps done"


def _clicked_message(body: dict[str, Any]) -> tuple[str, str] | None:
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    return (channel, ts) if channel and ts else None
