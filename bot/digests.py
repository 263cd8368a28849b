"""The morning early-warning digest: one per CSM (by DM, or their routing-file channel) and one for the team
(HEALTHBOT_DIGEST_CHANNEL), each posted once per day and destination however often the job runs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TypeVar

import pandas as pd
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot import insights
from bot.delivery import Delivery, Pacer, post_once
from bot.routing import CsmRoute, Routing, csm_routes
from bot.settings import Settings
from messages import views
from messages.blockkit import render_message
from scoring import HealthModel
from scoring import portfolio as book_math

logger = logging.getLogger(__name__)

TEAM = "Team"
T = TypeVar("T")


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
        parts = [f"{sent} digest(s) posted for {self.day:%-d %b %Y}"]
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
) -> list[Addressed]:
    """Every CSM's digest and the team's, addressed; the team digest names the CSMs no message can reach.

    Raises:
        insights.NoScoresError: `day` has not been scored.
    """
    by_csm, team = digests(engine, model, day=day, csms=sorted(routes))
    addressed = []
    for csm, view in by_csm.items():
        destination = routes[csm].destination
        addressed.append(Addressed(view, destination, f"digest:{day.isoformat()}:{destination}:{csm}"))
    unreachable = sorted(csm for csm, route in routes.items() if route.destination is None)
    team = replace(team, unreachable_csms=unreachable)
    addressed.append(Addressed(team, team_channel, f"digest:{day.isoformat()}:{team_channel}:{TEAM.lower()}"))
    return addressed


def digests(
    engine: Engine, model: HealthModel, *, day: date, csms: Sequence[str]
) -> tuple[dict[str, views.Digest], views.Digest]:
    """Each CSM's digest (for `csms`, by name as in the accounts file) and the team's, from one read of the day.

    The sections are insights.digest's, computed once over the whole book and split by CSM, so 200 CSMs cost
    about what one team digest costs instead of 200 separate reads (tests hold the two equal).

    Raises:
        insights.NoScoresError: `day` has not been scored.
    """
    insights.scored_day(engine, day, exact=True)
    book = insights.load_book(engine, model, day)
    previous = insights._previous_rows(engine, day)
    lowest, top = model.lowest_band.name, model.top_band.name
    was_band = book["account_id"].map(previous.set_index("account_id")["band"])
    new_reds = book[(book["band"] == lowest) & (was_band != lowest)].sort_values("arr", ascending=False)
    drops = book[book["delta"] < -model.stable_points].sort_values("delta")
    renewing = book_math.renewals(book, model, as_of=day)
    at_risk = renewing[renewing["band"] != top]
    ready = book_math.expansion_ready(book, model, reasons_for=0)
    due = insights._new_signals(book, previous)
    red_arr = book.loc[book["band"] == lowest].groupby("csm_owner")["arr"].sum()

    def refs(
        frame: pd.DataFrame, n: int | None, notes: Callable[[pd.DataFrame], list[str | None]] | None = None
    ) -> dict[str, list[views.AccountRef]]:
        # Each CSM's first n rows in the frame's order (groupby keeps it), so every CSM's list is sorted as above;
        # one pass over all of them, then split: far cheaper than a pass per CSM.
        rows = frame if n is None else frame.groupby("csm_owner", sort=False).head(n)
        listed = insights.account_refs(rows, notes=notes(rows) if notes else None)
        return _by_owner(listed, key=lambda ref: ref.csm_owner)

    def drivers(mine: pd.DataFrame) -> list[views.RiskDriver]:
        return [
            views.RiskDriver(d.title, int(d.accounts), float(d.arr))
            for d in book_math.risk_drivers(mine, model).itertuples()
        ]

    renewal_notes = insights._renewal_notes

    def opportunity_notes(rows: pd.DataFrame) -> list[str | None]:
        return list(rows["opportunity"])

    reds, falls = refs(new_reds, None), refs(drops, 5)
    renewals, growth = refs(at_risk, insights._LIST_LIMIT, renewal_notes), refs(ready, 5, opportunity_notes)
    due_by_csm = _by_owner(due, key=lambda item: item[0].csm_owner)
    books = {str(csm): rows for csm, rows in book.groupby("csm_owner", sort=False)}
    by_csm = {
        csm: views.Digest(
            recipient=csm,
            day=day,
            due_today=due_by_csm.get(csm, []),
            arr_at_risk=float(red_arr.get(csm, 0.0)),
            risk_drivers=drivers(books.get(csm, book.iloc[0:0])),
            new_reds=reds.get(csm, []),
            biggest_drops=falls.get(csm, []),
            renewals_at_risk=renewals.get(csm, []),
            expansion_ready=growth.get(csm, []),
        )
        for csm in csms
    }
    renewing_first = at_risk.head(insights._LIST_LIMIT)
    team = views.Digest(
        recipient=TEAM,
        day=day,
        new_reds=insights.account_refs(new_reds),
        biggest_drops=insights.account_refs(drops.head(5)),
        due_today=due,
        renewals_at_risk=insights.account_refs(renewing_first, notes=renewal_notes(renewing_first)),
        expansion_ready=insights.account_refs(ready.head(5), notes=list(ready["opportunity"].head(5))),
        by_group=insights._group_rows(book, model, "csm") if len(book) else [],
        arr_at_risk=float(red_arr.sum()),
        risk_drivers=drivers(book),
    )
    return by_csm, team


def _by_owner(items: Sequence[T], *, key: Callable[[T], str]) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped


def send_digests(
    engine: Engine,
    client: WebClient | None,
    settings: Settings,
    model: HealthModel,
    *,
    day: date,
    routing: Routing | None = None,
    pacer: Pacer | None = None,
) -> DigestRun:
    """Build and post the day's digests; each (day, destination, recipient) is posted once, ever.

    Without a client nothing is posted (the run still reports who would be unreachable).
    """
    routes = csm_routes(engine, client, routing or Routing())
    run = DigestRun(
        day=day,
        digests=build_digests(engine, model, day=day, routes=routes, team_channel=settings.healthbot_digest_channel),
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
