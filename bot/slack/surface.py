"""Slack as the core sees it (bot.surfaces.Surface): digests, alerts, escalations, thread notes and checklists
rendered as Block Kit and posted, updated and threaded through the delivery ledger."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.ledger import Delivery, Ledger
from bot.settings import Settings
from bot.slack.delivery import Pacer, SlackOutbox
from bot.slack.people import SlackPeople
from bot.store import SentMessage
from bot.surfaces import Shown
from messages.blockkit import render_message


@dataclass
class SlackSurface:
    """Slack for the core: one per process (its pacer keeps posts to a channel a second apart)."""

    outbox: SlackOutbox
    people: SlackPeople
    name: str = "slack"

    @property
    def ledger(self) -> Ledger:
        return self.outbox.ledger

    @classmethod
    def create(
        cls, engine: Engine, settings: Settings, client: WebClient, *, pacer: Pacer | None = None
    ) -> SlackSurface:
        """The surface for `client`, with the ledger's claim and budget from `settings`."""
        outbox = SlackOutbox(Ledger.from_settings(engine, settings), client, pacer or Pacer())
        return cls(outbox=outbox, people=SlackPeople(client=client, engine=engine))

    def post(
        self,
        view: Shown,
        *,
        key: str,
        kind: str,
        destination: str,
        alert_id: int | None = None,
        thread: str | None = None,
    ) -> Delivery:
        return self.outbox.post(
            key=key, kind=kind, channel=destination, message=render_message(view), alert_id=alert_id, thread_ts=thread
        )

    def copies(self, alert_id: int) -> list[SentMessage]:
        return self.outbox.copies(alert_id)

    def update(self, destination: str, ref: str, view: Shown) -> bool:
        return self.outbox.update(destination, ref, render_message(view))
