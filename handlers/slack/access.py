"""Who may ask the bot: `HEALTHBOT_ALLOWED_USERS`, user IDs and user-group IDs (S…), groups expanded through Slack."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.slack.cache import ExpiringCache
from handlers.slack.failures import slack_error
from messages import views

logger = logging.getLogger(__name__)

GROUP_TTL_SECONDS = 300.0  # a person added to the group gets in within five minutes
_RETRY_FAILED_LOOKUP_SECONDS = 30.0

REFUSAL = views.Notice(
    title="Healthbot isn't open to you yet",
    lines=[
        "Sorry — in this workspace Healthbot answers only the people on its access list, and you're not on it.",
        "Ask whoever looks after Healthbot for your team (usually CS Ops) to add you or one of your user groups.",
    ],
    kind="refused",
)


class AccessList:
    """The access list; empty means everyone in the workspace may ask."""

    def __init__(
        self,
        entries: frozenset[str],
        *,
        client: WebClient,
        ttl_seconds: float = GROUP_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._users = frozenset(entry for entry in entries if not entry.startswith("S"))
        self._groups = tuple(sorted(entry for entry in entries if entry.startswith("S")))
        self._client = client
        self._members: ExpiringCache[str, frozenset[str]] = ExpiringCache(ttl_seconds, clock=clock)

    @property
    def open_to_everyone(self) -> bool:
        return not self._users and not self._groups

    def allows(self, user_id: str) -> bool:
        """Whether `user_id` may ask: listed directly, or a member of a listed user group."""
        if self.open_to_everyone or user_id in self._users:
            return True
        return any(user_id in self._group_members(group) for group in self._groups)

    def _group_members(self, group: str) -> frozenset[str]:
        cached = self._members.lookup(group)
        if cached is not None and cached[1]:
            return cached[0]
        try:
            members = frozenset(self._client.usergroups_users_list(usergroup=group).get("users") or [])
        except (SlackApiError, OSError) as err:
            # Keep the last known members rather than locking a whole group out while Slack hiccups.
            logger.warning("could not list the members of user group %s (%s)", group, slack_error(err))
            members = cached[0] if cached is not None else frozenset()
            self._members.store(group, members, ttl_seconds=_RETRY_FAILED_LOOKUP_SECONDS)
            return members
        self._members.store(group, members)
        return members
