"""Digests and alerts sent to Teams on the bot's own initiative, through the delivery ledger (bot.ledger) like
Slack's: each CSM's personal chat with the bot, and HEALTHBOT_TEAMS_CHANNEL.

Rows are stored with surface "teams", the conversation ID as destination and keys that start with "teams:", so a
Slack copy and a Teams copy of the same digest are two messages, each delivered once. Every card carries its key
in the activity's channelData, but a bot cannot read a Teams conversation back: a post whose answer never came is
left for review (`sent_message`), never posted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.alerts import alert_view
from bot.digests import TEAM, Addressed, build_digests
from bot.ledger import CannotTell, Delivery, Ledger, NotPosted, OutcomeUnknown, Posted
from bot.playbook_runs import Playbook
from bot.routing import Routing, csm_routes
from bot.settings import Settings
from bot.store import Account, HealthAlert, SentMessage, read_session
from bot.teams.conversations import card_for, personal_chats, service_url_for
from bot.teams.outbox import Loop, TeamsOutbox
from messages.adaptive import Card
from scoring import HealthModel

logger = logging.getLogger(__name__)

SURFACE = "teams"


def teams_key(key: str) -> str:
    """A ledger key for Teams: keys of surfaces other than Slack start with the surface's name."""
    return f"{SURFACE}:{key}"


@dataclass
class TeamsPoster:
    """How Teams posts a card for the ledger (bot.ledger.Poster); `destination` is a conversation ID."""

    engine: Engine
    outbox: TeamsOutbox
    loop: Loop
    name: str = SURFACE

    def post(self, destination: str, message: Any, *, key: str, thread: str | None, deadline: float) -> Posted:
        service_url = service_url_for(self.engine, destination)
        if service_url is None:
            raise NotPosted(
                f"Teams has not introduced the bot to {destination} yet; add the app to that chat or "
                "team (or @mention it there once), then run again"
            )
        sent = self.loop.run(
            self.outbox.send(
                service_url=service_url, conversation_id=destination, card=message, key=key, deadline=deadline
            )
        )
        return Posted(destination, sent)

    def find(self, destination: str, *, key: str, thread: str | None, since: datetime) -> Posted | None:
        raise CannotTell(
            f"Teams gave no answer to {key}'s post and a bot cannot read {destination} back to look for it; "
            "check the conversation, then delete the row (to post it again) or mark it sent"
        )


@dataclass
class TeamsRun:
    """What one Teams delivery run did."""

    deliveries: list[Delivery] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)

    def summary(self, noun: str) -> str:
        sent = sum(d.outcome == "sent" for d in self.deliveries)
        before = sum(d.outcome in ("already_sent", "in_progress") for d in self.deliveries)
        parts = [f"Teams: {sent} {noun}(s) sent"]
        if before:
            parts.append(f"{before} already sent earlier (nothing new)")
        for outcome, says in (
            ("failed", "failed (run again to retry)"),
            ("unknown", "got no answer from Teams (left for review on the next run)"),
            ("review", "may have been posted and cannot be checked (see `sent_message`)"),
        ):
            missing = [d for d in self.deliveries if d.outcome == outcome]
            if missing:
                parts.append(f"{len(missing)} {says}: {missing[0].error}")
        return "; ".join(parts)

    @property
    def not_delivered(self) -> list[Delivery]:
        return [d for d in self.deliveries if not d.delivered and d.outcome != "in_progress"]


@dataclass
class TeamsDelivery:
    """Proactive sends for the CLI and the scheduler (synchronous callers), through a private event loop."""

    engine: Engine
    settings: Settings
    outbox: TeamsOutbox
    loop: Loop
    ledger: Ledger = field(init=False)
    poster: TeamsPoster = field(init=False)

    def __post_init__(self) -> None:
        self.ledger = Ledger.from_settings(self.engine, self.settings)
        self.poster = TeamsPoster(self.engine, self.outbox, self.loop)

    def post(self, *, key: str, kind: str, conversation_id: str, card: Card, alert_id: int | None = None) -> Delivery:
        """Send `card` into a conversation once, ever, for `key` (given without the "teams:" prefix)."""
        return self.ledger.deliver(
            self.poster, key=teams_key(key), kind=kind, destination=conversation_id, message=card, alert_id=alert_id
        )

    def send_digests(self, model: HealthModel, *, day: date, routing: Routing | None = None) -> TeamsRun:
        """Each CSM with the app installed gets their digest in their personal chat; the team digest goes to
        HEALTHBOT_TEAMS_CHANNEL and names the CSMs reachable on neither Slack nor Teams."""
        chats = personal_chats(self.engine)
        routes = csm_routes(self.engine, None, routing or Routing())  # Slack IDs from the cache: asks Slack nothing
        built = build_digests(
            self.engine,
            model,
            day=day,
            routes=routes,
            team_channel=self.settings.healthbot_teams_channel,
            reachable_elsewhere=set(chats),
        )
        run = TeamsRun()
        for item in built:
            target = self._digest_target(item, chats)
            if target is None:
                if item.digest.recipient != TEAM and item.digest.recipient not in chats:
                    run.unreachable.append(item.digest.recipient)
                continue
            key = f"digest:{day.isoformat()}:{target}:{item.digest.recipient.lower()}"
            card = card_for(self.engine, item.digest)
            run.deliveries.append(self.post(key=key, kind="digest", conversation_id=target, card=card))
        return run

    def _digest_target(self, item: Addressed, chats: Mapping[str, object]) -> str | None:
        if item.digest.recipient == TEAM:
            return self.settings.healthbot_teams_channel
        chat = chats.get(item.digest.recipient)
        return getattr(chat, "conversation_id", None)

    def post_alerts(self, playbooks: Mapping[str, Playbook], *, now: datetime) -> TeamsRun:
        """Send every open alert of the last week that Teams has not had yet: to its CSM's personal chat and to
        HEALTHBOT_TEAMS_CHANNEL; copies sent before are skipped by the ledger."""
        run = TeamsRun()
        chats = personal_chats(self.engine)
        for alert_id, csm in self._open_alerts(now):
            view = alert_view(self.engine, alert_id, now=now, playbooks=playbooks, tz=self.settings.timezone)
            if view.state in ("snoozed", "resolved"):
                continue
            card = card_for(self.engine, view)
            chat = chats.get(csm)
            places = [chat.conversation_id if chat else None, self.settings.healthbot_teams_channel]
            for place in dict.fromkeys(p for p in places if p):
                key = f"alert:{alert_id}:{place}"
                run.deliveries.append(
                    self.post(key=key, kind="alert", conversation_id=place, card=card, alert_id=alert_id)
                )
        return run

    def _open_alerts(self, now: datetime) -> list[tuple[int, str]]:
        since = now.date() - timedelta(days=7)
        with read_session(self.engine) as session:
            rows = session.exec(
                select(HealthAlert.id, Account.csm_owner)
                .join(Account, col(Account.account_id) == col(HealthAlert.account_id))
                .where(col(HealthAlert.resolved_at).is_(None), HealthAlert.opened_on >= since)
                .order_by(col(HealthAlert.id))
            ).all()
        return [(int(alert_id), str(csm)) for alert_id, csm in rows if alert_id is not None]


def teams_delivery(settings: Settings, engine: Engine, *, token: Any = None) -> TeamsDelivery | None:
    """Proactive Teams delivery for the CLI and the scheduler; None when the Teams credentials are not all set."""
    if not settings.teams_enabled:
        return None
    from bot.teams.app import sdk_app

    return TeamsDelivery(engine, settings, TeamsOutbox(sdk_app(settings, token=token).api), Loop())


def reachable_in_teams(engine: Engine) -> set[str]:
    """The CSMs with the app installed in a personal chat: a digest reaches them even without Slack."""
    return set(personal_chats(engine))


def alert_copies(engine: Engine, alert_id: int) -> list[SentMessage]:
    """Every Teams message that shows the alert (the CSM's chat, the channel), for updating after a click."""
    return Ledger(engine).copies(alert_id, surface=SURFACE)


async def update_copies(
    engine: Engine, outbox: TeamsOutbox, alert_id: int, card: Card, *, skip: Sequence[str] = ()
) -> int:
    """Replace every Teams copy of an alert with `card`; returns how many were updated. A copy Teams refuses to
    update (deleted, the bot removed) is logged and skipped."""
    updated = 0
    for sent in alert_copies(engine, alert_id):
        if sent.ts is None or sent.ts in skip:
            continue
        conversation_id = sent.channel
        service_url = service_url_for(engine, conversation_id)
        if service_url is None:
            continue
        try:
            await outbox.update(
                service_url=service_url, conversation_id=conversation_id, activity_id=sent.ts, card=card
            )
        except (NotPosted, OutcomeUnknown) as err:
            logger.warning("could not update alert %s's card in %s (%s)", alert_id, conversation_id, err)
            continue
        updated += 1
    return updated
