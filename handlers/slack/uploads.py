"""Files into Slack: exports and trend charts, uploaded with files_upload_v2 (files.getUploadURLExternal → upload →
files.completeUploadExternal).

A file can't be private inside a channel, so where the bot may not post (it was never invited, or the command came
from someone else's DM) the file goes to the asker's direct message with the bot instead, and they are told so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.insights import InsightError
from bot.scoring_runs import load_health_model
from bot.trend_charts import Chart, segment_trends
from handlers.slack.deps import AppDeps
from handlers.slack.failures import slack_error
from handlers.slack.replies import apology_message, notice_message, respond_safely
from messages import views
from scoring import HealthModel, ModelError

logger = logging.getLogger(__name__)

# Slack's answers when the bot can't share into a conversation; anything else is our problem, not a place to avoid.
CANNOT_POST_HERE = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})


@dataclass(frozen=True)
class Uploaded:
    """Where a file landed."""

    channel: str
    file_id: str | None
    moved_to_dm: bool  # True when the conversation asked for refused it and the asker got it by DM


def upload_file(
    client: WebClient,
    *,
    content: bytes,
    filename: str,
    title: str,
    channel: str | None,
    thread_ts: str | None = None,
    comment: str | None = None,
    alt_text: str | None = None,
    asker: str | None = None,
) -> Uploaded:
    """Upload `content` into `channel` (in the thread of `thread_ts`), else into `asker`'s DM with the bot.

    Args:
        client: the bot's Web API client.
        content: the file's bytes.
        filename, title: as Slack shows them.
        channel: the conversation; None to go straight to the asker's DM.
        thread_ts: the message to reply under.
        comment: the message posted with the file.
        alt_text: what a screen reader says for an image.
        asker: the Slack user who asked; their DM is the fallback.

    Raises:
        SlackApiError, OSError: Slack refused for another reason, or could not be reached.
    """
    if channel is not None:
        try:
            return Uploaded(
                channel, _share(client, content, filename, title, channel, thread_ts, comment, alt_text), False
            )
        except SlackApiError as err:
            if asker is None or slack_error(err) not in CANNOT_POST_HERE:
                raise
            logger.info("could not share a file in %s (%s); sending it to the asker's DM", channel, slack_error(err))
    if asker is None:
        raise ValueError("a file needs a conversation or a person to go to")
    dm = client.conversations_open(users=asker)["channel"]["id"]
    return Uploaded(dm, _share(client, content, filename, title, dm, None, comment, alt_text), channel is not None)


def _share(
    client: WebClient,
    content: bytes,
    filename: str,
    title: str,
    channel: str,
    thread_ts: str | None,
    comment: str | None,
    alt_text: str | None,
) -> str | None:
    options: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
    if comment:
        options["initial_comment"] = comment
    if alt_text:
        options["alt_txt"] = alt_text
    response = client.files_upload_v2(file=content, filename=filename, title=title, channel=channel, **options)
    file = response.get("file") or {}
    return file.get("id") if isinstance(file, dict) else None


def send_chart(
    build: Callable[[HealthModel], Chart],
    *,
    deps: AppDeps,
    client: WebClient,
    channel: str | None,
    thread_ts: str | None,
    asker: str | None,
    respond: Respond | None = None,
) -> None:
    """Draw a chart and upload it into `channel`'s thread, or into the asker's DM when `channel` is None (the
    request was private: a file can't be).

    With `respond` (a button click, a slash command) the asker is told, privately, when the chart went to their DM
    and why, or why there is no chart. Without it (the chart follows an answer already in the thread, which said any
    "no scores yet"), a user-caused problem stays quiet. Our own failures are logged and, where someone is waiting,
    apologised for.
    """
    try:
        chart = build(load_health_model(deps.settings))
    except InsightError as err:
        if respond is not None:
            respond_safely(respond, notice_message(err.notice()), replace_original=False)
        return
    except ModelError as err:
        if respond is not None:
            notice = views.Notice("The health model file has a problem", [str(err)], kind="error")
            respond_safely(respond, notice_message(notice), replace_original=False)
        return
    except Exception:
        logger.exception("could not draw a chart")
        if respond is not None:
            respond_safely(respond, apology_message(), replace_original=False)
        return
    try:
        landed = upload_file(
            client,
            content=chart.png,
            filename=chart.filename,
            title=chart.title,
            channel=channel,
            thread_ts=thread_ts,
            comment=chart.summary,
            alt_text=chart.summary,
            asker=asker,
        )
    except (SlackApiError, OSError, ValueError) as err:
        logger.error("could not upload the chart %r: %s", chart.filename, slack_error(err))
        if respond is not None:
            respond_safely(respond, apology_message(), replace_original=False)
        return
    if respond is not None and (channel is None or landed.moved_to_dm):
        respond_safely(
            respond, notice_message(sent_to_dm(chart.title, refused=landed.moved_to_dm)), replace_original=False
        )


def send_trends_chart(
    *, deps: AppDeps, client: WebClient, channel: str | None, thread_ts: str | None, asker: str | None
) -> None:
    """The chart beside a trends answer (each segment's health by month): in the answer's thread, or the asker's DM
    when the answer was private."""
    send_chart(
        lambda model: segment_trends(deps.engine, model),
        deps=deps,
        client=client,
        channel=channel,
        thread_ts=thread_ts,
        asker=asker,
    )


def sent_to_dm(what: str, *, refused: bool) -> views.Notice:
    """Telling someone privately that what they asked for is waiting in their DM with the bot, and why."""
    why = (
        "I'm not a member of this conversation, so I can't share files here — invite me with `/invite @Healthbot` "
        "to get them here next time."
        if refused
        else "A file can't be shown only to you in a channel, so it's in your direct messages with me."
    )
    return views.Notice(f"{what} is in your DM", [why], kind="info")
