"""Conversation references: where the bot may write on its own. Kept when the app is installed or first messaged,
refreshed on every message (Teams may move a conversation to another service URL)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.insights import UnknownCsmError, csm_name
from bot.store import Account, ProcessedEvent, TeamsConversation, read_session, write_session
from bot.store.tables import as_utc, utcnow
from messages.adaptive import Card, people_in, render_card


@dataclass(frozen=True)
class Reference:
    """What an incoming activity says about its conversation and sender."""

    conversation_id: str
    service_url: str
    kind: str  # personal, channel, groupChat
    tenant_id: str | None = None
    user_id: str | None = None
    aad_object_id: str | None = None
    user_name: str | None = None
    email: str | None = None


def remember(engine: Engine, ref: Reference) -> TeamsConversation:
    """Store (or refresh) a conversation reference; a personal chat also records who the person is as a CSM."""
    email = ref.email.strip().lower() if ref.email else None
    known = find(engine, ref.conversation_id)
    if known is not None and not _news(known, ref, email):
        return known  # every message would otherwise be a write: only what changed is written
    with write_session(engine) as session:
        row = session.get(TeamsConversation, ref.conversation_id)
        if row is None:
            row = TeamsConversation(conversation_id=ref.conversation_id, service_url=ref.service_url)
        row.service_url, row.kind, row.updated_at = ref.service_url, ref.kind, utcnow()
        row.tenant_id = ref.tenant_id or row.tenant_id
        if ref.kind == "personal":
            row.user_id = ref.user_id or row.user_id
            row.aad_object_id = ref.aad_object_id or row.aad_object_id
            row.user_name = ref.user_name or row.user_name
            row.email = email or row.email
            row.csm_owner = _csm_of(engine, row.email, row.aad_object_id) or row.csm_owner
        session.add(row)
        session.flush()
        session.expunge(row)
    return row


REFRESH = timedelta(hours=1)  # who a person is as a CSM is looked at again this often (the accounts may change)


def _news(known: TeamsConversation, ref: Reference, email: str | None) -> bool:
    seen = as_utc(known.updated_at)
    stale = seen is None or seen + REFRESH < utcnow()
    changed = (ref.service_url, ref.kind) != (known.service_url, known.kind)
    personal = ref.kind == "personal" and (
        (email and email != known.email) or (ref.aad_object_id and ref.aad_object_id != known.aad_object_id)
    )
    return bool(stale or changed or personal)


def _csm_of(engine: Engine, *keys: str | None) -> str | None:
    for key in keys:
        if not key:
            continue
        try:
            return csm_name(engine, key)
        except UnknownCsmError:
            continue
    return None


def answered_before(engine: Engine, activity_id: str) -> bool:
    """Note an incoming activity as handled; True when it already was (Teams resends an activity it got no answer
    to in time), so a question is answered once however often it arrives."""
    key = "teams:" + hashlib.sha256(activity_id.encode()).hexdigest()[:40]
    try:
        with write_session(engine) as session:
            session.add(ProcessedEvent(event_id=key))
    except IntegrityError:
        return True
    return False


def find(engine: Engine, conversation_id: str) -> TeamsConversation | None:
    """The stored reference of a conversation, or None when the bot has never seen it."""
    with read_session(engine) as session:
        return session.get(TeamsConversation, conversation_id)


def service_url_for(engine: Engine, conversation_id: str) -> str | None:
    """Where to send into a conversation: its own service URL, else the one Teams used most recently for this
    tenant (a configured channel the bot was added to but never @mentioned in); None before Teams ever called."""
    with read_session(engine) as session:
        own = session.get(TeamsConversation, conversation_id)
        if own is not None:
            return own.service_url
        latest = session.exec(select(TeamsConversation).order_by(col(TeamsConversation.updated_at).desc())).first()
        return latest.service_url if latest else None


def personal_chats(engine: Engine) -> dict[str, TeamsConversation]:
    """Each CSM's personal chat with the bot (the most recently used when they have several), by CSM name."""
    with read_session(engine) as session:
        rows = session.exec(
            select(TeamsConversation)
            .where(TeamsConversation.kind == "personal", col(TeamsConversation.csm_owner).is_not(None))
            .order_by(col(TeamsConversation.updated_at))
        ).all()
    return {row.csm_owner: row for row in rows if row.csm_owner}


def assignable_people(engine: Engine, *, first: tuple[str, str] | None = None) -> list[tuple[str, str]]:
    """Whom a Teams user may assign an alert to: everyone with the app in a personal chat (Entra object ID, name;
    the CSM they are beside their name when it differs), by name, with `first` (the clicker) at the top."""
    with read_session(engine) as session:
        rows = session.exec(
            select(TeamsConversation.aad_object_id, TeamsConversation.user_name, TeamsConversation.csm_owner).where(
                TeamsConversation.kind == "personal", col(TeamsConversation.aad_object_id).is_not(None)
            )
        ).all()
    people: dict[str, str] = {}
    for aad, name, csm in rows:
        shown = name or csm or str(aad)
        people[str(aad)] = f"{shown} ({csm})" if csm and csm not in shown else shown
    ordered = sorted(people.items(), key=lambda person: person[1].lower())
    if first is None:
        return ordered
    me = (first[0], f"{first[1]} (me)" if first[1] else "Me")
    return [me, *(person for person in ordered if person[0] != first[0])]


def display_names(engine: Engine, user_ids: Collection[str]) -> dict[str, str]:
    """Names for the user IDs a card shows (who acknowledged, who set the pulse): Entra object IDs of Teams users,
    and Slack IDs of CSMs (a Slack click shows as the CSM's name in Teams when the ID is on their accounts)."""
    wanted = sorted({user_id for user_id in user_ids if user_id})
    if not wanted:
        return {}
    with read_session(engine) as session:
        teams = session.exec(
            select(TeamsConversation.aad_object_id, TeamsConversation.user_name).where(
                col(TeamsConversation.aad_object_id).in_(wanted), col(TeamsConversation.user_name).is_not(None)
            )
        ).all()
        slack = session.exec(
            select(Account.csm_slack_id, Account.csm_owner).where(col(Account.csm_slack_id).in_(wanted)).distinct()
        ).all()
    return {**{str(uid): str(name) for uid, name in slack}, **{str(aad): str(name) for aad, name in teams}}


def card_for(engine: Engine, view: object, **options: Any) -> Card:
    """A view as its Adaptive Card, with the names of the people it shows."""
    return render_card(view, names=display_names(engine, people_in(view)), **options)
