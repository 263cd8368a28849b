"""What the core asks of a surface (Slack, Teams): show a view once at a destination, list and update the posted
copies of an alert. The core builds views and state; a surface renders and delivers them (bot.ledger)."""

from __future__ import annotations

from typing import Protocol

from bot.ledger import Delivery, Ledger
from bot.routing import People
from bot.store import SentMessage
from messages import views

Shown = views.Alert | views.AlertEvent | views.PlaybookChecklist | views.Digest


class Surface(Protocol):
    """A surface as the core sees it (bot.slack.surface.SlackSurface): it renders the views the core builds and
    delivers them through its ledger."""

    name: str

    @property
    def people(self) -> People:
        """Who a person is on this surface."""
        ...

    @property
    def ledger(self) -> Ledger:
        """The delivery ledger it posts through."""
        ...

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
        """Post `view` to `destination` once for `key`."""
        ...

    def copies(self, alert_id: int) -> list[SentMessage]:
        """The alert's posted copies on this surface (not thread replies)."""
        ...

    def update(self, destination: str, ref: str, view: Shown) -> bool:
        """Show `view` in place of the posted message `ref`; False when the surface refused."""
        ...
