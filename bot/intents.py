"""What a person asked for, whether by `/health …`, a mention, a DM or `healthbot ask`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

IntentKind = Literal[
    "account",  # "/health Acme Corp", "What's the health score for Acme Corp?", "how is Acme doing?"
    "drop_cause",  # "What caused Acme Corp health to drop?"
    "recovery_plan",  # "Generate recovery plan for Acme Corp"
    "portfolio",  # "/health portfolio Sarah Chen", "show Sarah's book"; subject None = the asker's own book
    "segment",  # "/health segment Enterprise"
    "risks",  # "/health risks", "who's at risk this quarter?"
    "expansion",  # "/health expansion", "which accounts are expansion ready?"
    "trends",  # "/health trends", "which health trends should worry us most this quarter?"
    "export",  # "/health export xlsx"
    "help",
    "unknown",
]


@dataclass(frozen=True)
class Intent:
    """A parsed request: its kind and its subject (an account, a CSM, a segment, an export format)."""

    kind: IntentKind
    subject: str | None = None
    page: int = 1  # for "Show more" on long lists
    text: str = ""  # what the person typed, for "here's what I can do"
