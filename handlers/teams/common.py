"""What the Teams listeners share: who sent an activity, where it came from, and sending a card back."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

from microsoft_teams.apps import ActivityContext

from bot.store import TeamsConversation
from bot.teams.app import TeamsDeps
from bot.teams.conversations import Reference, answered_before, remember
from bot.teams.outbox import activity
from bot.teams.people import TeamsUser
from messages import views
from messages.adaptive import Card, render_card

MENTION = re.compile(r"<at[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)


def now() -> datetime:
    return datetime.now(UTC)


def plain_text(text: str | None) -> str:
    """The words of a message with the bot's @mention taken out ("<at>Healthbot</at> health Acme" → "health Acme")."""
    without = MENTION.sub(" ", text or "")
    return re.sub(r"\s+", " ", without.replace("&nbsp;", " ")).strip()


def conversation_of(ctx: ActivityContext[Any]) -> tuple[str, str]:
    """The conversation ID (a channel thread's base ID, without ";messageid=") and its kind."""
    conversation = ctx.activity.conversation
    kind = getattr(conversation, "conversation_type", None) or "personal"
    return conversation.id.split(";")[0], kind


async def sender(ctx: ActivityContext[Any], deps: TeamsDeps) -> tuple[TeamsUser, TeamsConversation]:
    """Who sent the activity (looked up in the member list for their email), with the conversation remembered."""
    source = ctx.activity.from_
    conversation_id, kind = conversation_of(ctx)
    user = await deps.people.who(
        ctx.api,
        conversation_id=ctx.activity.conversation.id,
        user_id=source.id,
        aad_object_id=getattr(source, "aad_object_id", None),
        name=getattr(source, "name", None),
    )
    tenant = getattr(ctx.activity.conversation, "tenant_id", None)
    ref = Reference(
        conversation_id=conversation_id,
        service_url=str(ctx.activity.service_url or ""),
        kind=kind,
        tenant_id=tenant,
        user_id=user.user_id,
        aad_object_id=user.aad_object_id,
        user_name=user.name,
        email=user.email,
    )
    row = await asyncio.to_thread(remember, deps.engine, ref)
    return user, row


async def seen_before(ctx: ActivityContext[Any], deps: TeamsDeps) -> bool:
    """Whether this activity was handled already (Teams resends what it thinks went unanswered)."""
    activity_id: str | None = ctx.activity.id
    if not activity_id:
        return False
    return await asyncio.to_thread(answered_before, deps.engine, activity_id)


def allowed(user: TeamsUser, deps: TeamsDeps) -> bool:
    """HEALTHBOT_ALLOWED_USERS, when set, lists who may ask (here: Entra object IDs or email addresses)."""
    listed = {entry.lower() for entry in deps.settings.allowed_users}
    return not listed or bool({identity.lower() for identity in user.identities} & listed)


NOT_ALLOWED = views.Notice(
    "You're not on Healthbot's list of people who may ask",
    ["Ask your Healthbot admin to add your email address to HEALTHBOT_ALLOWED_USERS."],
    kind="refused",
)


async def send_card(ctx: ActivityContext[Any], card: Card) -> None:
    """Answer in the conversation (in a channel, in the thread that asked)."""
    await ctx.send(activity(card))


async def send_view(ctx: ActivityContext[Any], view: object, **options: Any) -> None:
    await send_card(ctx, render_card(view, **options))
