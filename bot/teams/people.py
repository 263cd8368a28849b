"""Who a Teams user is: their Entra object ID and email address (from the conversation's member list), and the CSM
whose book they hold when that email (or ID) is on the accounts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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


MEMBER_TTL_SECONDS = 600.0


@dataclass
class TeamsPeople:
    """Who Teams users are, from the member list: one lookup per person per ten minutes (every question would
    otherwise cost a call to Teams before its answer)."""

    ttl_seconds: float = MEMBER_TTL_SECONDS
    clock: Callable[[], float] = time.monotonic
    _known: dict[str, tuple[float, TeamsUser]] = field(default_factory=dict)

    async def who(
        self, api: ApiClient, *, conversation_id: str, user_id: str, aad_object_id: str | None, name: str | None
    ) -> TeamsUser:
        """The sender, with their email address when Teams shares it; a refusal leaves it unknown rather than
        failing the answer (and it is asked again next time)."""
        cached = self._known.get(user_id)
        if cached is not None and cached[0] + self.ttl_seconds > self.clock():
            return cached[1]
        email = None
        try:
            member = await api.conversations.get_member_by_id(conversation_id, user_id)
            email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
            aad_object_id = aad_object_id or getattr(member, "aad_object_id", None)
            name = name or getattr(member, "name", None)
        except (httpx.HTTPError, ValueError) as err:
            logger.warning("could not look up Teams member %s (%s)", user_id, err)
        user = TeamsUser(user_id, aad_object_id, name, email.strip().lower() if email else None)
        if email:
            self._known[user_id] = (self.clock(), user)
        return user
