"""The app added to a personal chat or a team: keep the conversation reference (so digests and alerts can be sent
there later) and say hello with the help card."""

from __future__ import annotations

import asyncio
from typing import Any

from microsoft_teams.api.activities.conversation import ConversationUpdateActivity
from microsoft_teams.api.activities.install_update import InstalledActivity
from microsoft_teams.apps import ActivityContext, App

from bot.intents import help_notice
from bot.teams.app import TeamsDeps
from bot.teams.conversations import Reference, remember
from handlers.teams.common import conversation_of, seen_before, send_view, sender


def register(app: App, deps: TeamsDeps) -> None:
    @app.on_conversation_update
    async def bot_added_callback(ctx: ActivityContext[ConversationUpdateActivity]) -> None:
        """Teams says who joined; when it is the bot itself, the app was just installed here."""
        bot_id = ctx.activity.recipient.id
        if not any(member.id == bot_id for member in ctx.activity.members_added or []):
            return
        if await seen_before(ctx, deps):
            return  # Teams sent it again: one hello is enough
        await introduce(ctx, deps)

    @app.on_install_add
    async def installed_callback(ctx: ActivityContext[InstalledActivity]) -> None:
        """The newer installationUpdate activity says the same; the reference is kept once either way."""
        conversation_id, kind = conversation_of(ctx)
        ref = Reference(conversation_id, str(ctx.activity.service_url or ""), kind)
        await asyncio.to_thread(remember, deps.engine, ref)


async def introduce(ctx: ActivityContext[Any], deps: TeamsDeps) -> None:
    """Remember the conversation (in a personal chat: who the person is as a CSM) and send the help card."""
    _, kind = conversation_of(ctx)
    if kind == "personal":
        await sender(ctx, deps)
    else:
        conversation_id, _ = conversation_of(ctx)
        ref = Reference(conversation_id, str(ctx.activity.service_url or ""), kind)
        await asyncio.to_thread(remember, deps.engine, ref)
    await send_view(ctx, help_notice())
