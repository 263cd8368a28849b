"""The delivery ledger through its surface-neutral seam (bot.ledger.Poster): a surface that can post but cannot look
(as a Teams poster may be) leaves an unanswered post for review instead of posting it again; a claim left by an
earlier version's process is taken over; every row names its destination and surface."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.ledger import CannotTell, Ledger, NotPosted, OutcomeUnknown, Posted
from bot.store import SentMessage, read_session, write_session
from bot.store.tables import utcnow

CONVERSATION = "19:abc@thread.tacv2"


@dataclass
class Conversation:
    """A surface stand-in that keeps what it was given and answers as told: "ok", "lost", "refused"."""

    answers: list[str]
    can_look: bool = False
    name: str = "teams"
    held: list[tuple[str, str]] = field(default_factory=list)  # (destination, key) of every message it holds

    def post(self, destination: str, message: Any, *, key: str, thread: str | None, deadline: float) -> Posted:
        answer = self.answers.pop(0)
        if answer == "refused":
            raise NotPosted("the service refused it")
        self.held.append((destination, key))
        if answer == "lost":
            raise OutcomeUnknown("no answer")
        return Posted(destination, f"activity-{len(self.held)}")

    def find(self, destination: str, *, key: str, thread: str | None, since: datetime) -> Posted | None:
        if not self.can_look:
            raise CannotTell("this surface cannot list what it holds")
        return Posted(destination, "found") if (destination, key) in self.held else None


def deliver(ledger: Ledger, surface: Conversation, key: str = "teams:digest:2026-11-24:sarah") -> str:
    return ledger.deliver(surface, key=key, kind="digest", destination=CONVERSATION, message={"card": 1}).outcome


def test_an_unanswered_post_on_a_surface_that_cannot_look_is_left_for_review(engine: Engine) -> None:
    ledger, surface = Ledger(engine), Conversation(["lost", "ok"])
    assert deliver(ledger, surface) == "unknown"
    assert deliver(ledger, surface) == "review"  # not posted again: it may be there
    assert deliver(ledger, surface) == "review"
    assert surface.held == [(CONVERSATION, "teams:digest:2026-11-24:sarah")]
    with read_session(engine) as session:
        row = session.exec(select(SentMessage)).one()
    assert (row.status, row.surface, row.channel) == ("review", "teams", CONVERSATION)
    assert "cannot list" in (row.error or "")


def test_a_refusal_is_posted_again_and_a_found_message_is_not(engine: Engine) -> None:
    ledger = Ledger(engine)
    refused = Conversation(["refused", "ok"])
    assert [deliver(ledger, refused, "a"), deliver(ledger, refused, "a"), deliver(ledger, refused, "a")] == [
        "failed",
        "sent",
        "already_sent",
    ]
    looking = Conversation(["lost"], can_look=True)
    assert [deliver(ledger, looking, "b"), deliver(ledger, looking, "b")] == ["sent", "already_sent"]
    assert looking.held == [(CONVERSATION, "b")]  # the lost answer was found where it landed, not posted twice


def test_a_claim_left_by_a_process_of_an_earlier_version_is_looked_for_then_posted(engine: Engine) -> None:
    ledger = Ledger(engine, claim_seconds=60)
    with write_session(engine) as session:  # no holder, no heartbeat: only when it was claimed
        session.add(SentMessage(dedupe_key="old", kind="digest", channel=CONVERSATION, claimed_at=utcnow()))
    surface = Conversation(["ok"], can_look=True)
    assert deliver(ledger, surface, "old") == "in_progress"  # claimed a moment ago
    with write_session(engine) as session:
        row = session.exec(select(SentMessage)).one()
        row.claimed_at = utcnow() - timedelta(minutes=5)
        session.add(row)
    assert deliver(ledger, surface, "old") == "sent"
    assert surface.held == [(CONVERSATION, "old")]
