"""Who a person is in Slack — the one resolver for the Slack surface.

Routing asks it for a CSM's user ID by email (users.lookupByEmail, remembered in the store, found or not); the
listeners ask it for a user's email (users.info, remembered for ten minutes) and whose book they own.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.insights import UnknownCsmError, csm_name
from bot.store import SlackUserCache, read_session, write_session
from bot.store.tables import as_utc, utcnow
from handlers.slack.cache import ExpiringCache
from handlers.slack.failures import slack_error

logger = logging.getLogger(__name__)

EMAIL_TTL_SECONDS = 600.0
# How long "Slack has nobody with this email" is believed before asking again (someone may join tomorrow).
NOT_FOUND_MEMORY = timedelta(days=1)
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


class SlackPeople:
    """People in the workspace: user ID by email (cached in the store) and email by user ID (cached in memory).

    Without a client (dry runs, no token) only what was cached before answers.
    """

    def __init__(
        self,
        *,
        client: WebClient | None,
        engine: Engine | None = None,
        ttl_seconds: float = EMAIL_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._engine = engine
        self._emails: ExpiringCache[str, str | None] = ExpiringCache(ttl_seconds, clock=clock)
        self.unanswered = 0  # lookups by email Slack did not answer (down, rate limited): worth asking again

    def email_of(self, user_id: str) -> str | None:
        """The person's email address, or None when Slack does not share it (or they are not found)."""
        cached = self._emails.lookup(user_id)
        if cached is not None and cached[1]:
            return cached[0]
        if self._client is None:
            return cached[0] if cached else None
        try:
            profile = (self._client.users_info(user=user_id).get("user") or {}).get("profile") or {}
            email = profile.get("email") or None
        except (SlackApiError, OSError) as err:
            logger.warning("could not look up Slack user %s (%s)", user_id, slack_error(err))
            email = None
        self._emails.store(user_id, email)
        return email

    def user_for_email(self, email: str, *, now: datetime | None = None) -> str | None:
        """The Slack user with this email: from the store's cache, else users.lookupByEmail (cached, found or not).

        A Slack error other than "no such user" is logged and not cached, so the next run asks again.
        """
        assert self._engine is not None, "SlackPeople needs the store to look people up by email"
        now = now or utcnow()
        email = email.strip().lower()
        with read_session(self._engine) as session:
            cached = session.get(SlackUserCache, email)
        if cached is not None:
            checked_at = as_utc(cached.checked_at)
            if cached.user_id or self._client is None or (checked_at and checked_at + NOT_FOUND_MEMORY > now):
                return cached.user_id
        if self._client is None:
            return None
        try:
            user_id: str | None = self._client.users_lookupByEmail(email=email)["user"]["id"]
        except SlackApiError as err:
            if err.response.get("error") != "users_not_found":
                logger.warning("users.lookupByEmail failed for a CSM email: %s", err.response.get("error"))
                self.unanswered += 1
                return None
            user_id = None
        except OSError:
            logger.warning("could not reach Slack to look up a CSM's email")
            self.unanswered += 1
            return None
        try:
            with write_session(self._engine) as session:
                session.merge(SlackUserCache(email=email, user_id=user_id, checked_at=now))
        except IntegrityError:
            pass  # another process cached the same person a moment ago; Slack told it the same thing
        return user_id


def book_owner(user_id: str, *, engine: Engine, people: SlackPeople) -> str | None:
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
