"""The "Show more" button under a long list: the next page, where the list was."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from handlers.slack.actions.payload import clicked_in_ephemeral, clicked_intent, clicked_thread, clicker
from handlers.slack.deps import deps_of
from handlers.slack.replies import answer_message, post_safely, respond_safely


def show_more_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """Answer the next page: privately under a private answer, else in the list's thread."""
    ack()
    deps = deps_of(context)
    intent = clicked_intent(action, respond)
    if intent is None:
        return
    thread = clicked_thread(body)
    if clicked_in_ephemeral(body) or thread is None:
        message = answer_message(intent, deps=deps, user_id=clicker(body), shareable=True)
        respond_safely(respond, message, replace_original=False)
        return
    message = answer_message(intent, deps=deps, user_id=clicker(body))
    post_safely(client, channel=thread[0], thread_ts=thread[1], message=message)
