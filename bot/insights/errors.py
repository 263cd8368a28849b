"""Errors a user can act on: a question that cannot be answered as asked, and what to do instead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from messages import views


# --- errors a user can act on ----------------------------------------------------------------------------------
class InsightError(LookupError):
    """A question that cannot be answered as asked; `notice()` says why and what to do instead."""

    kind = "info"

    def __init__(self, title: str, lines: Sequence[str] = (), suggestions: Sequence[str] = ()) -> None:
        super().__init__(" ".join([title, *lines]))
        self.title = title
        self.lines = list(lines)
        self.suggestions = list(suggestions)

    def notice(self) -> views.Notice:
        """The answer to show instead of the view."""
        return views.Notice(title=self.title, lines=self.lines, suggestions=self.suggestions, kind=self.kind)


class NoScoresError(InsightError):
    """Nothing scored for the day asked."""

    def __init__(self, day: date | None, what: str = "scores", *, before: bool = False) -> None:
        if day is None:
            title = "No health scores yet"
        else:
            title = f"No {what} {'on or before' if before else 'for'} {day.isoformat()}"
        hint = f"healthbot score --as-of {day.isoformat()}" if day else "healthbot score"
        super().__init__(title, [f"Run `{hint}` first, then ask again."])
        self.day = day


class UnknownAccountError(InsightError):
    """No current customer by that name or ID."""

    kind = "not_found"


class UnknownCsmError(InsightError):
    """No CSM by that name or Slack user."""

    kind = "not_found"


class UnknownSegmentError(InsightError):
    """No segment by that name."""

    kind = "not_found"
