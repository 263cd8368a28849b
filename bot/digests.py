"""The morning early-warning digest: one per CSM (by DM, or their routing-file channel) and one for the team
(HEALTHBOT_DIGEST_CHANNEL), each posted once per day and destination however often the job runs."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date

from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot import insights
from bot.routing import CsmRoute, Routing, csm_routes
from bot.settings import Settings
from bot.slack.delivery import Delivery, Pacer, post_once
from messages import views
from messages.blockkit import render_message
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

    def summary(self) -> str:
        sent = sum(d.outcome == "sent" for d in self.deliveries)
        before = sum(d.outcome in ("already_sent", "in_progress") for d in self.deliveries)
        failed = [d for d in self.deliveries if d.outcome == "failed"]
        parts = [f"{count(sent, 'digest')} posted for {self.day:%-d %b %Y}"]
        if before:
            parts.append(f"{before} already posted earlier (nothing new)")
        if failed:
            parts.append(f"{len(failed)} failed (run again to retry): {failed[0].error}")
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
    client: WebClient | None,
    settings: Settings,
    model: HealthModel,
    *,
    day: date,
    routing: Routing | None = None,
    pacer: Pacer | None = None,
    reachable_elsewhere: Collection[str] = (),
) -> DigestRun:
    """Build and post the day's digests; each (day, destination, recipient) is posted once, ever.

    Without a client nothing is posted (the run still reports who would be unreachable).
    """
    routes = csm_routes(engine, client, routing or Routing())
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
    if client is None:
        return run
    pacer = pacer or Pacer()
    for item in run.digests:
        if item.destination is None:
            continue
        run.deliveries.append(
            post_once(
                engine,
                client,
                key=item.key,
                kind="digest",
                channel=item.destination,
                message=render_message(item.digest),
                pacer=pacer,
            )
        )
    return run
