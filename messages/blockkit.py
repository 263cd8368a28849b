"""Render view models as Slack messages: `{"text": fallback, "blocks": [...]}`."""

from __future__ import annotations

from typing import Any

from messages import views


def render_message(view: object) -> dict[str, Any]:
    """Render any view model from messages.views as a Block Kit message with a plain-text fallback."""
    if isinstance(view, views.Notice):
        body = "\n".join([f"*{view.title}*", *view.lines])
        return {"text": view.title, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": body}}]}
    raise TypeError(f"no Block Kit renderer for {type(view).__name__}")
