"""The morning early-warning digest: one per CSM (by DM, or their routing-file channel) and one for the team
(HEALTHBOT_DIGEST_CHANNEL), each posted once per day and destination however often the job runs."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy.engine import Engine

from bot import insights
from bot.ledger import NOT_DELIVERED, Delivery, Ledger
from bot.routing import CsmRoute, People, Routing, csm_routes
from bot.settings import Settings
from bot.store.tables import as_utc
from bot.surfaces import Surface
from messages import views
from messages.format import count
from scoring import HealthModel

logger = logging.getLogger(__name__)

TEAM = insights.TEAM


@dataclass(frozen=True)
class Addressed:
    """A digest and where it goes (None: nowhere — a CSM nobody could resolve, or no team channel set)."""

    digest: views.Digest
    destination: str | None
    key: str  # the sent-message key: one per day, destination and recipient


@dataclass
class DigestRun:
    """What one digest run did."""

    day: date
    digests: list[Addressed] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def unreachable(self) -> list[str]:
        return [a.digest.recipient for a in self.digests if a.destination is None and a.digest.recipient != TEAM]

    @property
    def not_delivered(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.outcome in NOT_DELIVERED]

    @property
    def complete(self) -> bool:
        """Every digest that has somewhere to go is delivered (or being delivered by a live process)."""
        return not self.not_delivered

    def summary(self) -> str:
        sent = sum(d.outcome == "sent" for d in self.deliveries)
        before = sum(d.outcome == "already_sent" for d in self.deliveries)
        elsewhere = sum(d.outcome == "in_progress" for d in self.deliveries)
        parts = [f"{count(sent, 'digest')} posted for {self.day:%-d %b %Y}"]
        if before:
            parts.append(f"{before} already posted earlier (nothing new)")
        if elsewhere:
            parts.append(f"{elsewhere} being posted by another process right now")
        for outcome, says in (
            ("failed", "failed (run again to retry)"),
            ("unknown", "got no answer from Slack (the next run looks for them before posting)"),
            ("review", "may have been posted and cannot be checked (see `sent_message`)"),
        ):
            missing = [d for d in self.deliveries if d.outcome == outcome]
            if missing:
                parts.append(f"{len(missing)} {says}: {missing[0].error}")
        if self.unreachable:
            parts.append(f"could not reach {', '.join(self.unreachable)} (named in the team digest)")
        return "; ".join(parts)


def build_digests(
    engine: Engine,
    model: HealthModel,
    *,
    day: date,
    routes: dict[str, CsmRoute],
    team_channel: str | None,
    reachable_elsewhere: Collection[str] = (),
) -> list[Addressed]:
    """Every CSM's digest and the team's, addressed; the team digest names the CSMs no message can reach.

    `reachable_elsewhere` names CSMs another surface reaches (Teams), who are not named as unreachable.

    Raises:
        insights.NoScoresError: `day` has not been scored.
    """
    by_csm, team = insights.digests(engine, model, day=day, csms=sorted(routes))
    addressed = []
    for csm, view in by_csm.items():
        destination = routes[csm].destination
        addressed.append(Addressed(view, destination, f"digest:{day.isoformat()}:{destination}:{csm}"))
    unreachable = sorted(
        csm for csm, route in routes.items() if route.destination is None and csm not in set(reachable_elsewhere)
    )
    team = replace(team, unreachable_csms=unreachable)
    addressed.append(Addressed(team, team_channel, f"digest:{day.isoformat()}:{team_channel}:{TEAM.lower()}"))
    return addressed


def send_digests(
    engine: Engine,
    surface: Surface | None,
    settings: Settings,
    model: HealthModel,
    *,
    day: date,
    routing: Routing | None = None,
    people: People | None = None,
    reachable_elsewhere: Collection[str] = (),
) -> DigestRun:
    """Build and post the day's digests; each (day, destination, recipient) is delivered once, ever.

    Without a surface nothing is posted (the run still reports who would be unreachable). The team digest names
    what earlier runs could not deliver (bot.ledger).
    """
    routes = csm_routes(engine, people, routing or Routing())
    run = DigestRun(
        day=day,
        digests=build_digests(
            engine,
            model,
            day=day,
            routes=routes,
            team_channel=settings.healthbot_digest_channel,
            reachable_elsewhere=reachable_elsewhere,
        ),
    )
    if surface is None:
        return run
    for item in run.digests:
        if item.destination is None:
            continue
        digest = item.digest
        if digest.recipient == TEAM:
            digest = replace(digest, undelivered=undelivered_before(surface.ledger, day=day, tz=settings.timezone))
        run.deliveries.append(surface.post(digest, key=item.key, kind="digest", destination=item.destination))
    return run


def undelivered_before(ledger: Ledger, *, day: date, tz: tzinfo) -> list[str]:
    """What the bot could not deliver on the day before `day`, in words: "digest for U0DIEGO001", …"""
    start = datetime.combine(day - timedelta(days=1), time(0), tzinfo=tz)
    end = datetime.combine(day, time(0), tzinfo=tz)
    missing = [row for row in ledger.unsent(since=start) if (as_utc(row.created_at) or end) < end]
    return [f"{row.kind} for {row.channel}" + (f" ({row.status})" if row.status == "review" else "") for row in missing]


def digests_owed(ledger: Ledger, *, day: date) -> bool:
    """Whether a digest of `day` was claimed and is not delivered (failed, no answer, or its process died)."""
    # A surface other than Slack starts its keys with its name ("teams:digest:…").
    keys = [
        row.dedupe_key
        for row in ledger.unsent(kind="digest")
        if row.dedupe_key.removeprefix(f"{row.surface}:").startswith(f"digest:{day}:")
    ]
    return bool(ledger.keys_not_delivered(keys))
