"""Files into Slack: exports and trend charts, uploaded with files_upload_v2 (files.getUploadURLExternal → upload →
files.completeUploadExternal).

A file can't be private inside a channel, so where the bot may not post (it was never invited, or the command came
from someone else's DM) the file goes to the asker's direct message with the bot instead, and they are told so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.failures import slack_error

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
