"""Render view models as Slack messages: `{"text": fallback, "blocks": [...]}`.

One Jinja2 environment over messages/templates/*.json.j2. Templates interpolate every value with `tojson`, and
customer-supplied text with `esc` (Slack's own escaping of &, <, > — HTML escaping would show up as `&#39;`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import fields, is_dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from messages import briefing, views
from messages import format as fmt

logger = logging.getLogger(__name__)

MAX_BLOCKS = 50  # Slack refuses a message with more
MAX_HOME_BLOCKS = 100
PAGE_SIZE = 10  # accounts in a paginated list before "Show more"

_TEMPLATES: dict[type, str] = {
    views.HealthCard: "health_card.json.j2",
    views.Portfolio: "portfolio.json.j2",
    views.TrendReport: "trend_report.json.j2",
    views.ExpansionList: "expansion_list.json.j2",
    views.RecoveryPlan: "recovery_plan.json.j2",
    views.Digest: "digest.json.j2",
    views.Notice: "notice.json.j2",
    views.Alert: "alert.json.j2",
    views.AlertEvent: "alert_event.json.j2",
    views.PlaybookChecklist: "playbook_run.json.j2",
    views.Form: "form.json.j2",
    views.AlertScope: "alert_scope.json.j2",
}


def slack_escape(text: object) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _when(value: datetime) -> str:
    return value.strftime("%-d %b %H:%M")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("messages", "templates"),
        autoescape=False,
        undefined=StrictUndefined,
        lstrip_blocks=True,
    )
    env.filters.update(
        esc=slack_escape,
        clip=fmt.clip,
        money=fmt.money,
        money_full=fmt.money_full,
        score=fmt.score,
        signed=fmt.signed,
        move=fmt.move,
        change=fmt.change,
        pct=fmt.pct,
        day=fmt.day,
        days_phrase=fmt.days_phrase,
        band_emoji=fmt.band_emoji,
        severity_emoji=fmt.severity_emoji,
        concern_emoji=fmt.concern_emoji,
        arrow=fmt.arrow,
        when=_when,
        respond_by=fmt.respond_by,
    )
    env.globals.update(PAGE_SIZE=PAGE_SIZE, count=fmt.count, SEVERITIES=views.SEVERITIES)
    return env


_ENV = _environment()


def render_message(view: object, *, page: int = 1, more_value: str | None = None) -> dict[str, Any]:
    """Render any view model from messages.views as a Block Kit message with a plain-text fallback.

    Args:
        view: a view model (HealthCard, Portfolio, …).
        page: which page of the view's main list to show, from 1.
        more_value: the serialised request for the next page; with it, a long list ends in a "Show more" button
            (action_id `health_show_more`), without it in "…and N more".
    """
    if isinstance(view, briefing.BRIEFED):  # issue 13's answers: one shape, drawn in Python (messages/briefing.py)
        message = briefing.blocks(view, slack_escape)
        message["text"] = slack_escape(message["text"])
        return _within_limits(message, limit=MAX_BLOCKS)
    template_name = _TEMPLATES.get(type(view))
    if template_name is None:
        raise TypeError(f"no Block Kit template for {type(view).__name__}")
    rendered = _ENV.get_template(template_name).render(view=view, page=max(page, 1), more_value=more_value)
    message = json.loads(rendered)
    message["blocks"] = [block for block in message["blocks"] if block is not None]
    # Fallbacks are plain words, but Slack reads `text` (and an attachment's `fallback`, shown in notifications) as
    # mrkdwn too: customer text there must not ping the channel (<!channel>) or mention people (<@U…>).
    for attachment in message.get("attachments", []):  # alerts carry their colour bar in an attachment
        attachment["blocks"] = [block for block in attachment["blocks"] if block is not None]
        if "fallback" in attachment:
            attachment["fallback"] = slack_escape(fmt.one_stop(attachment["fallback"]))
    message["text"] = slack_escape(fmt.one_stop(message["text"]))
    return _within_limits(message, limit=MAX_BLOCKS)


def render_modal(form: views.Form) -> dict[str, Any]:
    """Render a Form as a modal view (`views.open`)."""
    modal = render_message(form)
    del modal["text"]  # a modal has no fallback text; the template carries one only so render_message accepts it
    return modal


def render_home(view: object) -> dict[str, Any]:
    """Render a view as an App Home tab (`views.publish`), which allows up to 100 blocks."""
    message = render_message(view)
    return {"type": "home", "blocks": _within_limits(message, limit=MAX_HOME_BLOCKS)["blocks"]}


def _within_limits(message: dict[str, Any], *, limit: int) -> dict[str, Any]:
    # Templates are written to stay inside Slack's limits; this guard keeps a bug from becoming a refused message.
    blocks = message["blocks"]
    if len(blocks) > limit:
        logger.warning("message had %d blocks; trimmed to Slack's limit of %d", len(blocks), limit)
        note = {"type": "context", "elements": [{"type": "mrkdwn", "text": "…trimmed to fit Slack's limits"}]}
        message["blocks"] = [*blocks[: limit - 1], note]
    return message


def as_dict(view: object) -> Any:
    """A view model as plain JSON-ready data (dates as ISO strings), for `--json` and logs."""
    if is_dataclass(view) and not isinstance(view, type):
        return {f.name: as_dict(getattr(view, f.name)) for f in fields(view)}
    if isinstance(view, list | tuple):
        return [as_dict(item) for item in view]
    if isinstance(view, dict):
        return {key: as_dict(value) for key, value in view.items()}
    if hasattr(view, "isoformat"):
        return view.isoformat()
    return view
