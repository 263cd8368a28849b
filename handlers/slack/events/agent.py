"""Slack's agent surface (the app's Agent View / assistant threads): the DM opens with suggested prompts drawn from
the person's own book, shows a status line while the answer is built, and every answer carries feedback buttons
whose clicks are kept in the store. Questions go through the same reader as mentions, DMs and `/health`."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, Assistant, BoltContext, Say, SetStatus, SetSuggestedPrompts
from slack_sdk import WebClient

from bot import insights
from bot.questions.feedback import record_feedback
from bot.questions.parse import Question
from bot.questions.rows import band_names, matching
from bot.scoring_runs import load_health_model
from handlers.slack.deps import AppDeps, deps_of
from handlers.slack.events.conversation import answer_in_thread
from handlers.slack.people import book_owner
from messages.blockkit import MAX_BLOCKS
from messages.controls import Action

logger = logging.getLogger(__name__)

FEEDBACK_ACTION_ID = Action.ANSWER_FEEDBACK.value
STATUS = "is reading your book…"
_VALUE_QUESTION_CHARS = 1500  # a feedback button's value carries the question; Slack allows 2,000 characters


def suggested_prompts(deps: AppDeps, owner: str | None) -> list[dict[str, str]]:
    """Up to four prompts from the person's own book ("Your 3 red accounts", "Renewals in 30 days"), or the
    team's when they own no accounts; the counts are the lists those prompts answer."""
    model = load_health_model(deps.settings)
    day = insights.scored_day(deps.engine, None)
    red = Question(text="", wanted="list", bands=(model.lowest_band.name,))
    renewing = Question(text="", wanted="list", renew_days=30)
    reds = matching(deps.engine, model, red, day, csm=owner).total
    renewals = matching(deps.engine, model, renewing, day, csm=owner).total
    band = band_names(red, model)[0]
    if owner is not None:
        return [
            {"title": f"Your {reds} {band.lower()} account{'s' * (reds != 1)}", "message": f"my {band} accounts"},
            {"title": f"Renewals in 30 days ({renewals})", "message": "my renewals in the next 30 days"},
            {"title": "What changed since last week?", "message": "what changed in my book since last week?"},
            {"title": "How is the score calculated?", "message": "how is the health score calculated?"},
        ]
    return [
        {"title": f"{reds} {band.lower()} accounts across the team", "message": f"show me all {band} accounts"},
        {"title": f"Renewals in 30 days ({renewals})", "message": "renewals in the next 30 days"},
        {"title": "What changed since last week?", "message": "what changed since last week?"},
        {"title": "How is the score calculated?", "message": "how is the health score calculated?"},
    ]


def thread_started_callback(
    payload: dict[str, Any], say: Say, set_suggested_prompts: SetSuggestedPrompts, context: BoltContext
) -> None:
    """A new agent thread: a greeting, and prompts from the person's own book."""
    deps = deps_of(context)
    user_id = (payload.get("assistant_thread") or {}).get("user_id") or payload.get("user")
    try:
        owner = book_owner(user_id, engine=deps.engine, people=deps.people) if user_id else None
        prompts = suggested_prompts(deps, owner)
    except insights.InsightError:
        owner, prompts = None, []
    except Exception:
        logger.exception("could not draw suggested prompts for %s", user_id)
        owner, prompts = None, []
    whose = f"{owner}'s book" if owner else "the team's accounts"
    say(f"Hi! Ask me anything about {whose}: an account, a list, a plan, what changed.")
    if prompts:
        set_suggested_prompts(prompts=prompts, title="Try asking")


def user_message_callback(
    payload: dict[str, Any], set_status: SetStatus, client: WebClient, context: BoltContext
) -> None:
    """A question in an agent thread: a status line while it is answered, then the answer with feedback buttons."""
    deps = deps_of(context)
    try:
        set_status(STATUS)
    except Exception:
        logger.exception("could not set the agent status")
    question = payload.get("text") or ""
    answer_in_thread(payload, client=client, deps=deps, decorate=lambda m, v: with_feedback(m, v, question=question))


def with_feedback(message: dict[str, Any], view: object, *, question: str) -> dict[str, Any]:
    """The answer with 👍 / 👎 buttons (a `context_actions` block) whose value carries the question."""
    blocks = list(message.get("blocks") or [])
    if len(blocks) >= MAX_BLOCKS:
        return message

    def value(helpful: bool) -> str:
        return json.dumps({"h": helpful, "k": type(view).__name__, "q": question[:_VALUE_QUESTION_CHARS]})

    blocks.append(
        {
            "type": "context_actions",
            "block_id": "feedback",
            "elements": [
                {
                    "type": "feedback_buttons",
                    "action_id": FEEDBACK_ACTION_ID,
                    "positive_button": {"text": {"type": "plain_text", "text": "Good answer"}, "value": value(True)},
                    "negative_button": {"text": {"type": "plain_text", "text": "Wrong answer"}, "value": value(False)},
                }
            ],
        }
    )
    return {**message, "blocks": blocks}


def feedback_callback(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Keep a 👍 / 👎 on an answer: who, which message, the question and what answered it."""
    ack()
    deps = deps_of(context)
    action = (body.get("actions") or [{}])[0]
    try:
        data = json.loads(action.get("value") or "")
        helpful, kind, question = bool(data["h"]), str(data["k"]), str(data["q"])
    except (ValueError, KeyError, TypeError):
        logger.warning("a feedback click with a value we did not write: %r", action.get("value"))
        return
    message = body.get("message") or {}
    container = body.get("container") or {}
    record_feedback(
        engine=deps.engine,
        user_id=(body.get("user") or {}).get("id", ""),
        channel=(body.get("channel") or {}).get("id") or container.get("channel_id", ""),
        message_ts=message.get("ts") or container.get("message_ts", ""),
        helpful=helpful,
        question=question,
        answer_kind=kind,
    )


def build_assistant() -> Assistant:
    """The agent-thread listeners, as Bolt's Assistant middleware."""
    assistant = Assistant()
    assistant.thread_started(thread_started_callback)
    assistant.user_message(user_message_callback)
    return assistant
