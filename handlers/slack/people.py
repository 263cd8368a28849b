"""People: whose book a Slack user is, matched on the account's `csm_slack_id`, else on their email address."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.insights import UnknownCsmError, csm_name
from handlers.slack.cache import ExpiringCache
from handlers.slack.failures import slack_error

logger = logging.getLogger(__name__)

EMAIL_TTL_SECONDS = 600.0
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


class PeopleDirectory:
    """Email addresses of workspace members (`users.info`), cached: one lookup per person per ten minutes."""

    def __init__(
        self, *, client: WebClient, ttl_seconds: float = EMAIL_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._emails: ExpiringCache[str, str | None] = ExpiringCache(ttl_seconds, clock=clock)

    def email_of(self, user_id: str) -> str | None:
        """The person's email address, or None when Slack does not share it (or they are not found)."""
        cached = self._emails.lookup(user_id)
        if cached is not None and cached[1]:
            return cached[0]
        try:
            profile = (self._client.users_info(user=user_id).get("user") or {}).get("profile") or {}
            email = profile.get("email") or None
        except (SlackApiError, OSError) as err:
            logger.warning("could not look up Slack user %s (%s)", user_id, slack_error(err))
            email = None
        self._emails.store(user_id, email)
        return email


def book_owner(user_id: str, *, engine: Engine, people: PeopleDirectory) -> str | None:
    """The CSM name on `user_id`'s book: matched on the accounts' `csm_slack_id`, else on their Slack email against
    `csm_email`; None when no account is theirs."""
    lookups: tuple[Callable[[], str | None], ...] = (lambda: user_id, lambda: people.email_of(user_id))
    for lookup in lookups:  # the email costs a call to Slack: only when the Slack ID is not on any account
        key = lookup()
        if not key:
            continue
        try:
            return csm_name(engine, key)
        except UnknownCsmError:
            continue
    return None
