"""Answering and delivering: the one path every listener takes from an intent to a message in Slack.

Our own failures (a bug in answering or rendering, Slack refusing a post) are logged with their traceback and, where
someone is waiting, answered with an apology — never with the error itself.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answers import AnswerContext, answer
from bot.intents import Intent, intent_to_value
from handlers.slack.deps import AppDeps
from handlers.slack.people import SLACK_USER_ID, book_owner
from messages import views
from messages.blockkit import MAX_BLOCKS, render_message
from messages.controls import Action

logger = logging.getLogger(__name__)

SHARE_ACTION_ID = Action.SHARE.value

APOLOGY = views.Notice(
    title="Sorry — something went wrong on our side",
    lines=["I couldn't answer that just now. The problem has been logged for the team; please try again in a minute."],
    kind="error",
)
STALE_BUTTON = views.Notice(
    title="That button has expired",
    lines=["It belongs to an older version of Healthbot's messages. Ask again — `/health help` lists everything."],
    kind="info",
)


def answer_view(intent: Intent, *, deps: AppDeps, user_id: str | None) -> object:
    """The view model that answers `intent` for `user_id`; an apology Notice when answering fails on our side."""
    try:
        intent = whose_book(intent, asker=user_id, deps=deps)
        return answer(intent, ctx=AnswerContext(engine=deps.engine, settings=deps.settings, user_id=user_id))
    except Exception:
        logger.exception("could not answer a %r request", intent.kind)
        return APOLOGY


def whose_book(intent: Intent, *, asker: str | None, deps: AppDeps) -> Intent:
    """A portfolio request about a Slack user (the asker by default) names the book as the store knows it: the
    Slack ID when accounts carry it, else the CSM name matched through their email. Anything else is unchanged."""
    person = intent.subject or asker
    if intent.kind != "portfolio" or person is None or not SLACK_USER_ID.fullmatch(person):
        return intent
    owner = book_owner(person, engine=deps.engine, people=deps.people)
    return replace(intent, subject=owner) if owner else intent


def answer_message(intent: Intent, *, deps: AppDeps, user_id: str | None, shareable: bool = False) -> dict[str, Any]:
    """`intent` answered and rendered as `{"text", "blocks"}`, with "Show more" for long lists and, when
    `shareable`, a "Share in channel" button (answers only — not help, refusals or "no such account")."""
    return answered(intent, deps=deps, user_id=user_id, shareable=shareable)[0]


def answered(
    intent: Intent, *, deps: AppDeps, user_id: str | None, shareable: bool = False
) -> tuple[dict[str, Any], object]:
    """The message answering `intent`, and the view it was drawn from (a chart or file may follow it)."""
    view = answer_view(intent, deps=deps, user_id=user_id)
    try:
        message = render_message(
            view, page=intent.page, more_value=intent_to_value(replace(intent, page=intent.page + 1))
        )
    except Exception:
        logger.exception("could not render a %s", type(view).__name__)
        return apology_message(), APOLOGY
    if shareable and not isinstance(view, views.Notice):
        message = with_share_button(message, intent)
    return message, view


def apology_message() -> dict[str, Any]:
    """The apology as a message; plain text if even rendering it fails."""
    try:
        return render_message(APOLOGY)
    except Exception:
        logger.exception("could not render the apology")
        return {"text": f"{APOLOGY.title}. {APOLOGY.lines[0]}"}


def notice_message(notice: views.Notice) -> dict[str, Any]:
    """A Notice (a refusal, a "not yet") as a message."""
    try:
        return render_message(notice)
    except Exception:
        logger.exception("could not render a notice")
        return {"text": " ".join([notice.title, *notice.lines])}


def with_share_button(message: dict[str, Any], intent: Intent) -> dict[str, Any]:
    """Add "Share in channel" (action_id `health_share`, value = the intent) beside the message's closing buttons
    (those followed by nothing but footnotes), else in a block of its own at the end."""
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Share in channel", "emoji": True},
        "action_id": SHARE_ACTION_ID,
        "value": intent_to_value(intent),
    }
    blocks = list(message.get("blocks") or [])
    closing = len(blocks) - 1
    while closing >= 0 and blocks[closing].get("type") == "context":
        closing -= 1
    if closing >= 0 and blocks[closing].get("type") == "actions" and len(blocks[closing]["elements"]) < 25:
        blocks[closing] = {**blocks[closing], "elements": [*blocks[closing]["elements"], button]}
    elif len(blocks) < MAX_BLOCKS:
        blocks.append({"type": "actions", "block_id": "share", "elements": [button]})
    else:
        return message  # a full message keeps its content rather than the button
    return {**message, "blocks": blocks}


def respond_safely(respond: Respond, message: dict[str, Any], **options: Any) -> bool:
    """Send `message` to the interaction's response_url (ephemeral unless told otherwise); failures are logged.

    Returns:
        Whether Slack took it.
    """
    payload = {"response_type": "ephemeral", **options, **message}
    try:
        response = respond(payload)
    except Exception:
        logger.exception("could not answer through the response_url")
        return False
    if response.status_code != 200:
        logger.error("Slack refused an answer posted to the response_url (HTTP %s)", response.status_code)
        return False
    return True


def post_safely(client: WebClient, *, channel: str, message: dict[str, Any], thread_ts: str | None = None) -> None:
    """Post `message` in `channel` (in the thread of `thread_ts`); failures are logged."""
    try:
        client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=message["text"], blocks=message.get("blocks")
        )
    except (SlackApiError, OSError):
        logger.exception("could not post an answer in %s", channel)
