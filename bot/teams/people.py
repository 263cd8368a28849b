"""Who a Teams user is: their Entra object ID and email address (from the conversation's member list), and the CSM
whose book they hold when that email (or ID) is on the accounts."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from microsoft_teams.api.clients import ApiClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TeamsUser:
    """The person behind an activity."""

    user_id: str  # the Teams user ID, "29:…"
    aad_object_id: str | None
    name: str | None
    email: str | None  # lower-cased; None when Teams does not share it

    @property
    def identities(self) -> frozenset[str]:
        """Every name this person goes by that HEALTHBOT_ADMINS or an account's CSM fields may hold."""
        return frozenset(value for value in (self.aad_object_id, self.email, self.user_id) if value)

    @property
    def recorded_as(self) -> str:
        """The user ID stored with what they do: the Entra object ID (stable across chats), else the Teams ID."""
        return self.aad_object_id or self.user_id


async def teams_user(
    api: ApiClient, *, conversation_id: str, user_id: str, aad_object_id: str | None, name: str | None
) -> TeamsUser:
    """Look the sender up in the conversation's member list for their email address (one call per activity that
    needs it); a refusal leaves the email unknown rather than failing the answer."""
    email = None
    try:
        member = await api.conversations.get_member_by_id(conversation_id, user_id)
        email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
        aad_object_id = aad_object_id or getattr(member, "aad_object_id", None)
        name = name or getattr(member, "name", None)
    except (httpx.HTTPError, ValueError) as err:
        logger.warning("could not look up Teams member %s (%s)", user_id, err)
    return TeamsUser(user_id, aad_object_id, name, email.strip().lower() if email else None)
