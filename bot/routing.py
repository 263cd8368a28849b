"""Who gets which digest and alert, and where: CSMs by DM (their Slack ID, else their email, which the surface's
people resolver looks up), channels from the optional routing file, and each person's alert scope from App Home."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.store import Account, AlertPreference, read_session, write_session
from bot.store.tables import utcnow
from messages.views import SEVERITIES, AlertScope
from scoring.tomlfile import read_toml

logger = logging.getLogger(__name__)

ALERT_SCOPES = {"mine": "My accounts", "segment": "My segments", "all": "All accounts"}


class RoutingFileError(ValueError):
    """The routing file is missing or malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class Routing:
    """The routing file (HEALTHBOT_ROUTING): channels for particular CSMs and segments.

    A CSM listed under [csm] gets their digest and alerts in that channel instead of a DM; a segment listed under
    [segment] gets every alert on its accounts in that channel, besides the CSM's own copy.

        [csm]
        "Sarah Chen" = "C0SARAH001"
        [segment]
        Enterprise = "C0ENTERPRISE"
    """

    csm_channels: dict[str, str] = field(default_factory=dict)  # CSM name, lower-cased → channel ID
    segment_channels: dict[str, str] = field(default_factory=dict)  # segment, lower-cased → channel ID

    def csm_channel(self, csm_owner: str) -> str | None:
        return self.csm_channels.get(csm_owner.strip().lower())

    def segment_channel(self, segment: str | None) -> str | None:
        return self.segment_channels.get(segment.strip().lower()) if segment else None


def load_routing(path: str | Path | None) -> Routing:
    """Read the routing file; no file configured means DMs and the team channels only.

    Raises:
        RoutingFileError: the file is missing, not TOML, or maps a name to something that is not a channel ID.
    """
    if not path:
        return Routing()
    raw = read_toml(path, setting="HEALTHBOT_ROUTING", error=RoutingFileError)
    unknown = set(raw) - {"csm", "segment"}
    if unknown:
        raise RoutingFileError(f"{path} has sections {sorted(unknown)}; only [csm] and [segment] are read")
    tables = {}
    for section in ("csm", "segment"):
        entries = raw.get(section, {})
        for name, channel in entries.items():
            if not isinstance(channel, str) or channel.strip()[:1] not in ("C", "G", "U", "D"):
                raise RoutingFileError(
                    f'{path} [{section}] {name!r} should be a channel ID like "C0123ABCD" (got {channel!r}); '
                    "copy it from the channel's details in Slack"
                )
        tables[section] = {str(name).strip().lower(): channel.strip() for name, channel in entries.items()}
    return Routing(csm_channels=tables["csm"], segment_channels=tables["segment"])


class People(Protocol):
    """A surface's way to find who a person is (bot.slack.people.SlackPeople)."""

    def user_for_email(self, email: str) -> str | None: ...


@dataclass(frozen=True)
class CsmRoute:
    """Where one CSM's digest and alerts go."""

    csm: str  # as written in the accounts file, "Sarah Chen"
    slack_id: str | None  # who they are in Slack, when known
    destination: str | None  # a channel from the routing file, else their user ID (a DM); None: unreachable


def csm_routes(
    engine: Engine, people: People | None, routing: Routing, *, csms: Iterable[str] | None = None
) -> dict[str, CsmRoute]:
    """Every CSM who owns an account (or just `csms`), keyed by name, with where their messages go; `people` finds
    a CSM who has an email but no user ID on their accounts (None: nobody is looked up)."""
    with read_session(engine) as session:
        query = select(col(Account.csm_owner), func.max(Account.csm_slack_id), func.max(Account.csm_email)).group_by(
            col(Account.csm_owner)
        )
        if csms is not None:
            query = query.where(col(Account.csm_owner).in_(list(csms)))
        rows = session.exec(query).all()
    routes = {}
    for csm, slack_id, email in rows:
        user = slack_id or (people.user_for_email(email) if email and people is not None else None)
        routes[csm] = CsmRoute(csm=csm, slack_id=user, destination=routing.csm_channel(csm) or user)
    return routes


# --- alert scope (App Home) -------------------------------------------------------------------------------------


def alert_preference(engine: Engine, user_id: str) -> AlertPreference:
    """The person's alert scope; someone who never chose gets their own accounts, every severity."""
    with read_session(engine) as session:
        return session.get(AlertPreference, user_id) or AlertPreference(user_id=user_id)


def alert_scope_view(engine: Engine, user_id: str) -> AlertScope:
    """The person's alert settings as App Home shows them."""
    preference = alert_preference(engine, user_id)
    chosen = [s for s in preference.severities.split(",") if s in SEVERITIES]
    return AlertScope(scope=preference.scope, scopes=list(ALERT_SCOPES.items()), severities=chosen)


def set_alert_preference(
    engine: Engine, *, user_id: str, scope: str | None = None, severities: Iterable[str] | None = None
) -> AlertPreference:
    """Change the person's alert scope and/or severities (App Home), keeping what they did not change."""
    if scope is not None and scope not in ALERT_SCOPES:
        raise ValueError(f"alert scope must be one of {', '.join(ALERT_SCOPES)}, not {scope!r}")
    with write_session(engine) as session:
        preference = session.get(AlertPreference, user_id) or AlertPreference(user_id=user_id)
        if scope is not None:
            preference.scope = scope
        if severities is not None:
            chosen = [s for s in SEVERITIES if s in set(severities)]
            preference.severities = ",".join(chosen)
        preference.updated_at = utcnow()
        session.add(preference)
    return preference


def watchers(engine: Engine, *, account: Account, severity: str, csm_slack_id: str | None) -> list[str]:
    """Slack user IDs who want this alert by DM: the account's CSM unless they turned its severity off, and anyone
    whose scope is "all" or covers the account's segment (a segment is theirs when they own an account in it)."""
    with read_session(engine) as session:
        preferences = {p.user_id: p for p in session.exec(select(AlertPreference)).all()}
        own_segments: dict[str, set[str]] = {}
        wide = [p for p in preferences.values() if p.scope == "segment"]
        if wide and account.segment:
            owned = session.exec(
                select(col(Account.csm_slack_id), col(Account.segment))
                .where(col(Account.csm_slack_id).in_([p.user_id for p in wide]))
                .distinct()
            ).all()
            for user, segment in owned:
                if user and segment:
                    own_segments.setdefault(user, set()).add(segment)

    def wants(user_id: str) -> bool:
        preference = preferences.get(user_id)
        return preference is None or severity in preference.severities.split(",")

    people = [csm_slack_id] if csm_slack_id and wants(csm_slack_id) else []
    for user_id, preference in preferences.items():
        if user_id == csm_slack_id or not wants(user_id):
            continue
        if preference.scope == "all" or (
            preference.scope == "segment" and account.segment in own_segments.get(user_id, set())
        ):
            people.append(user_id)
    return people
