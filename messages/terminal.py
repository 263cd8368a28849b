"""Render view models for the terminal (`healthbot demo`, `healthbot ask`): the same views Slack gets, drawn by rich."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from messages import briefing, views
from messages import format as fmt

BAND_STYLE = {"green": "green", "yellow": "yellow", "orange": "dark_orange", "red": "red"}


def _band(band: str | None) -> str:
    return BAND_STYLE.get((band or "").lower(), "white")


def _account_line(a: views.AccountRef, *, owner: bool = False, window: str | None = None) -> str:
    parts = [f"{fmt.band_emoji(a.band)} [bold]{escape(a.name)}[/bold]"]
    if owner:
        parts.append(escape(a.csm_owner))
    if a.arr is not None:
        parts.append(fmt.money(a.arr))
    if a.score is not None:
        other_window = a.previous_score is not None and a.window and a.window != window
        parts.append(fmt.move(a.previous_score, a.score) + (f" vs {a.window}" if other_window else ""))
    if a.note:
        parts.append(escape(a.note))
    return " · ".join(parts)


def _bullets(title: str, lines: list[str], *, limit: int = 8) -> RenderableType:
    body = "\n".join(lines[:limit]) + (f"\n[dim]…and {len(lines) - limit} more[/dim]" if len(lines) > limit else "")
    return Group(Text.from_markup(f"[bold]{title}[/bold]"), Text.from_markup(body or "[dim]none[/dim]"), Text(""))


def _model_note(note: str | None) -> list[RenderableType]:
    return [Text(f"⚠️  {note}", style="yellow"), Text("")] if note else []


def _risk_drivers(drivers: list[views.RiskDriver]) -> RenderableType:
    return _bullets(
        "Top risk drivers",
        [
            f"{i}. {escape(d.title)} — {fmt.count(d.accounts, 'account')} · {fmt.money(d.arr)}"
            for i, d in enumerate(drivers[:5], 1)
        ],
    )


def health_card(card: views.HealthCard) -> RenderableType:
    """The account health card as a rich panel."""
    t = card.trend
    head = Table.grid(padding=(0, 3))
    head.add_row(
        Text.from_markup(f"[bold {_band(card.band)}]{fmt.score(card.score)}/100 {card.band}[/]"),
        Text.from_markup(
            f"{fmt.arrow(t.direction)} {t.direction}"
            + (
                f" · {fmt.signed(fmt.change(t.last_quarter_score, card.score))} vs last quarter"
                f" ({fmt.score(t.last_quarter_score)})"
                if t.last_quarter_score is not None
                else ""
            )
            + (
                f" · {fmt.signed(fmt.change(t.last_month_score, card.score))} vs last month"
                f" ({fmt.score(t.last_month_score)})"
                if t.last_month_score is not None
                else ""
            )
        ),
    )
    dims = Table(box=box.SIMPLE_HEAD, show_edge=False, expand=True)
    dims.add_column("Dimension")
    dims.add_column("Score", justify="right")
    dims.add_column("Weight", justify="right")
    dims.add_column("What drives it")
    for d in card.dimensions:
        score = "[dim]no data[/dim]" if d.score is None else f"[{_band(d.band)}]{fmt.score(d.score)}[/]"
        # The dimension's own trend on its own line: after the last fact it would read as that fact's change.
        facts = escape("; ".join(d.facts)) + (f"\n[dim]{escape(d.name)} {escape(d.trend)}[/dim]" if d.trend else "")
        dims.add_row(f"{fmt.band_emoji(d.band)} {d.name}", score, fmt.pct(d.weight), facts)

    parts: list[RenderableType] = [*_model_note(card.model_note), head, Text(""), dims, Text("")]
    if card.risks:
        parts.append(
            _bullets(
                "Key risks",
                [
                    f"{fmt.severity_emoji(s.severity)} [bold]{escape(s.title)}[/bold] ({s.severity}"
                    + (f", {fmt.respond_by(s.response_time)}" if s.response_time else "")
                    + ") — "
                    + escape("; ".join(s.facts))
                    for s in card.risks
                ],
                limit=5,
            )
        )
    if card.interpretations:
        parts.append(
            _bullets(
                "What it likely means",
                [f"💡 {escape(s.title)} — {escape('; '.join(s.facts))}" for s in card.interpretations],
            )
        )
    if card.positives:
        parts.append(_bullets("Positive indicators", [f"✅ {escape(p)}" for p in card.positives]))
    if card.expansion:
        parts.append(
            _bullets(
                "Expansion signals", [f"📈 {escape(s.title)} — {escape('; '.join(s.facts))}" for s in card.expansion]
            )
        )
    if card.actions:
        parts.append(
            _bullets(
                "Recommended actions (next 30 days)",
                [
                    f"{a.priority}. [bold]{escape(a.title)}[/bold]"
                    + (f" · {a.due}" if a.due else "")
                    + "".join(f"\n     • {escape(step)}" for step in a.steps[:4])
                    for a in card.actions[:4]
                ],
            )
        )
    if card.goal:
        parts.append(
            _bullets(
                f"🎯 {card.goal.days}-day health goal: {card.goal.target_score}/100",
                [f"• {escape(x)}" for x in card.goal.targets],
            )
        )
    if card.playbook:
        parts.append(Text.from_markup(f"Recommended playbook: [bold]{escape(card.playbook)}[/bold]"))
    if card.recent_actions:
        parts.append(
            _bullets(
                "Recent actions",
                [
                    f"{escape(r.who)} {escape(r.what)} · {r.when:%-d %b %H:%M}"
                    + (f" — “{escape(r.note)}”" if r.note else "")
                    for r in card.recent_actions
                ],
            )
        )
    meta = [escape(card.csm_owner), escape(card.segment or "no segment"), f"{fmt.money_full(card.arr)} ARR"]
    if card.renewal_date:
        meta.append(f"renews {fmt.day(card.renewal_date)} ({fmt.days_phrase(card.days_to_renewal)})")
    if card.confidence < 0.995:
        meta.append(f"confidence {fmt.pct(card.confidence)}")
    if card.pulse:
        meta.append(f"CSM pulse {card.pulse.label} ({card.pulse.level}/6)")
    # The account's facts go in the body, which wraps to the terminal's width; a panel's subtitle is cut instead.
    parts.append(Text(" · ".join(meta), style="dim"))
    return Panel(
        Group(*parts),
        title=f"{fmt.band_emoji(card.band)} [bold]{escape(card.name)}[/bold] · {card.account_id}",
        subtitle=f"as of {fmt.day(card.as_of)}",
        border_style=_band(card.band),
    )


def portfolio(p: views.Portfolio) -> RenderableType:
    """A portfolio (CSM book, segment or whole base) as a rich panel."""
    bands = Table(box=box.SIMPLE_HEAD, show_edge=False, expand=True)
    for column, justify in (
        ("Band", "left"),
        ("Accounts", "right"),
        ("Share", "right"),
        ("ARR", "right"),
        ("", "left"),
        ("Top accounts", "left"),
    ):
        bands.add_column(column, justify=justify)  # type: ignore[arg-type]
    for b in p.bands:
        bar = "█" * round(b.share * 20)
        bands.add_row(
            f"{fmt.band_emoji(b.band)} {b.band}",
            str(b.count),
            fmt.pct(b.share),
            fmt.money(b.arr),
            f"[{_band(b.band)}]{bar}[/]",
            escape(", ".join(a.name for a in b.top[:3])),
        )
    lead = [Text(p.lead, style="bold")] if p.lead else []
    parts: list[RenderableType] = [*_model_note(p.model_note), *lead, bands]
    if p.total_accounts == 0:
        parts = [Text("No scored accounts yet. Import data (healthbot import), then run healthbot score.")]
    line = lambda a: _account_line(a, window=p.window)  # noqa: E731
    parts.append(Text.from_markup(f"[bold]Trends vs {p.window}[/bold]"))
    if p.improving:
        parts.append(_bullets(f"↗ Improving ({p.improving_total})", [line(a) for a in p.improving], limit=5))
    if p.declining:
        parts.append(_bullets(f"↘ Declining ({p.declining_total})", [line(a) for a in p.declining], limit=5))
    stable = f"→ Stable (±{fmt.score(p.stable_points)}): {fmt.count(p.stable_count, 'account')}"
    parts.append(
        Text(stable + (f"\n• New (no earlier score): {fmt.count(p.new_count, 'account')}" if p.new_count else ""))
    )
    parts.append(Text(""))
    if p.renewals:
        parts.append(
            _bullets(
                f"Renewals in the next 90 days ({p.renewal_total}) · {fmt.money(p.renewal_arr_at_risk)} ARR at risk",
                [line(a) for a in p.renewals],
                limit=6,
            )
        )
    if p.capacity:
        parts.append(Text.from_markup(f"[bold]Capacity:[/bold] {p.capacity.status} — {escape(p.capacity.note)}\n"))
    if p.risk_drivers:
        parts.append(_risk_drivers(p.risk_drivers))
    if p.expansion_ready:
        parts.append(
            _bullets(f"Expansion-ready ({p.expansion_total})", [f"📈 {line(a)}" for a in p.expansion_ready], limit=5)
        )
    if p.groups:
        at_risk = ("At risk",) if p.lead else ()  # a ranked breakdown shows each group's ARR at risk too
        groups = Table("Group", "Accounts", "ARR", *at_risk, "Avg", "Bands", box=box.SIMPLE_HEAD, show_edge=False)
        for g in p.groups[:20]:
            groups.add_row(
                escape(g.group),
                str(g.accounts),
                fmt.money(g.arr),
                *((fmt.money(g.arr_at_risk),) if p.lead else ()),
                fmt.score(g.average_score),
                " ".join(f"{fmt.band_emoji(k)}{v}" for k, v in g.band_counts.items()),
            )
        parts.append(groups)
    if p.recommendations:
        parts.append(
            _bullets("Recommended portfolio actions", [f"{i}. {escape(r)}" for i, r in enumerate(p.recommendations, 1)])
        )
    summary = (
        f"{fmt.count(p.total_accounts, 'account')} · {fmt.money(p.total_arr)} ARR · "
        f"average {fmt.score(p.average_score)}/100"
    )
    return Panel(
        Group(Text(summary, style="bold"), Text(""), *parts),
        title=f"📊 [bold]Portfolio health · {escape(p.title)}[/bold]",
        subtitle=f"as of {fmt.day(p.as_of)}",
    )


def digest(d: views.Digest) -> RenderableType:
    """The morning digest as a rich panel."""
    team = d.recipient == "Team"
    parts: list[RenderableType] = []

    def line(a: views.AccountRef) -> str:
        return _account_line(a, owner=team, window=d.window)

    parts.extend(_model_note(d.model_note))

    if d.new_reds:
        heading = ("🔴 Red " if d.since is None else "🔴 New red ") + d.new_since + f" · changes vs {d.window}"
        parts.append(_bullets(heading, [line(a) for a in d.new_reds]))
    if d.due_today:
        parts.append(
            _bullets(
                "⏰ Due for a response today",
                [
                    f"{fmt.severity_emoji(s.severity)} [bold]{escape(a.name)}[/bold] — {escape(s.title)}"
                    + (f" ({fmt.respond_by(s.response_time)})" if s.response_time else "")
                    for a, s in d.due_today
                ],
            )
        )
    if d.biggest_drops:
        parts.append(_bullets(f"↘ Biggest score drops vs {d.window}", [line(a) for a in d.biggest_drops], limit=5))
    if d.renewals_at_risk:
        parts.append(
            _bullets(
                f"📅 Renewals in 90 days at risk ({d.renewal_total}) · changes vs {d.window}",
                [line(a) for a in d.renewals_at_risk],
            )
        )
    if d.expansion_ready:
        parts.append(
            _bullets(f"📈 Expansion-ready · changes vs {d.window}", [line(a) for a in d.expansion_ready], limit=5)
        )
    if d.risk_drivers:
        parts.append(_risk_drivers(d.risk_drivers))
    if d.undelivered:
        parts.append(Text(f"⚠️  Not delivered yesterday: {', '.join(d.undelivered)}"))
    if d.unreachable_csms:
        parts.append(Text(f"⚠️  Could not reach by DM: {', '.join(d.unreachable_csms)}"))
    if not parts:
        parts.append(Text("✅ Nothing needs you this morning."))
    summary = (
        f"{fmt.count(len(d.new_reds), 'new red account')} · {fmt.count(len(d.due_today), 'signal')} due today"
        f" · {fmt.count(d.renewal_total, 'renewal')} at risk"
    )
    return Panel(
        Group(Text(summary, style="bold"), Text(""), *parts),
        title=f"☀️ [bold]Early-warning digest · {escape(d.recipient)}[/bold] · {d.day:%a %-d %b %Y}",
    )


def trend_report(r: views.TrendReport) -> RenderableType:
    """The trend report as a rich panel."""
    parts: list[RenderableType] = []
    for i, f in enumerate(r.concerns, 1):
        lines = [
            escape(f.pattern),
            f"Affected ARR: [bold]{fmt.money(f.arr_affected)}[/bold] · "
            f"{f.affected_accounts} of {f.total_accounts} accounts",
        ]
        lines += [f"[dim]indicator:[/dim] {escape(x)}" for x in f.indicators[:3]]
        lines += [f"→ {escape(x)}" for x in f.actions[:3]]
        parts.append(_bullets(f"{fmt.concern_emoji(f.concern)} {i}. {escape(f.title)} · {f.concern} concern", lines))
    if r.positives:
        parts.append(
            _bullets(
                "Emerging positive trends",
                [
                    f"{fmt.concern_emoji(f.concern)} [bold]{escape(f.title)}[/bold] — {escape(f.pattern)}"
                    for f in r.positives
                ],
            )
        )
    for title, lines in (
        ("Playbook results", r.playbook_results),
        ("Health model insights", r.model_insights),
        ("This week", r.summary_actions),
    ):
        if lines:
            parts.append(_bullets(title, [f"• {escape(x)}" for x in lines]))
    if not parts:
        parts.append(Text("No trends stand out yet: score history is too short."))
    return Panel(Group(*parts), title=f"📈 [bold]{escape(r.title)}[/bold]", subtitle=f"as of {fmt.day(r.as_of)}")


def expansion_list(e: views.ExpansionList) -> RenderableType:
    """Expansion-ready accounts as a rich panel."""
    lines = [
        f"{_account_line(c.account, owner=True)}\n     [bold]{escape(c.opportunity)}[/bold] — "
        + escape(" · ".join(c.reasons))
        for c in e.candidates
    ]
    return Panel(
        _bullets(f"{fmt.count(len(e.candidates), 'account')} · {fmt.money(e.total_arr)} ARR", lines, limit=20),
        title="📈 [bold]Expansion-ready accounts[/bold]",
        subtitle=f"as of {fmt.day(e.as_of)}",
    )


def recovery_plan(r: views.RecoveryPlan) -> RenderableType:
    """A recovery plan as a rich panel."""
    parts: list[RenderableType] = []
    if r.diagnosis:
        parts.append(_bullets("What caused the drop", [f"{i}. {escape(x)}" for i, x in enumerate(r.diagnosis, 1)]))
    for i, stage in enumerate(r.stages, 1):
        parts.append(
            _bullets(f"{i}. {escape(stage.name)} · {escape(stage.timing)}", [f"☐ {escape(s)}" for s in stage.steps])
        )
    if r.goal:
        parts.append(
            _bullets(
                f"🎯 {r.goal.days}-day goal: {r.goal.target_score}/100", [f"• {escape(x)}" for x in r.goal.targets]
            )
        )
    c = r.card
    return Panel(
        Group(*parts),
        title=f"🛟 [bold]Recovery plan · {escape(c.name)}[/bold] ({escape(r.playbook)} playbook)",
        subtitle=f"{fmt.band_emoji(c.band)} {fmt.score(c.score)}/100 {c.band} · {escape(c.csm_owner)}",
        border_style=_band(c.band),
    )


def notice(n: views.Notice) -> RenderableType:
    """A short answer: help, not found, refusal, apology."""
    lines = [escape(x) for x in n.lines]
    lines += [f"  • {escape(name)}" for name in n.suggestions]
    return Panel(
        Text.from_markup("\n".join(lines) or " "),
        title=f"[bold]{escape(n.title)}[/bold]",
        border_style="red" if n.kind in ("error", "refused") else "blue",
    )


STATE_STYLE = {"open": "red", "acknowledged": "yellow", "snoozed": "grey50", "resolved": "green"}


def alert(a: views.Alert) -> RenderableType:
    """A red-account alert as a rich panel: what happened, why, and its state."""
    parts: list[RenderableType] = []
    if a.reasons:
        parts.append(
            _bullets(
                "Why",
                [
                    f"{fmt.severity_emoji(r.severity)} [bold]{escape(r.title)}[/bold]"
                    + (f" ({fmt.respond_by(r.response_time)})" if r.response_time else "")
                    + "".join(f"\n     {escape(fact)}" for fact in r.facts[:3])
                    for r in a.reasons
                ],
            )
        )
    if a.playbook_run:
        parts.append(Text.from_markup(f"📋 [bold]{escape(a.playbook_run)}[/bold]"))
    elif a.playbook:
        parts.append(Text.from_markup(f"Recommended playbook: [bold]{escape(a.playbook)}[/bold]"))
    if a.pulse:
        note = f" — “{escape(a.pulse.note)}”" if a.pulse.note else ""
        parts.append(Text.from_markup(f"CSM pulse: [bold]{a.pulse.label}[/bold] ({a.pulse.level}/6){note}"))
    state = [f"[{STATE_STYLE[a.state]}]{a.state}[/]"]
    if a.acknowledged_by and a.acknowledged_at:
        state.append(f"acknowledged by {a.acknowledged_by} at {a.acknowledged_at:%H:%M}")
    if a.assigned_to:
        state.append(f"assigned to {a.assigned_to}")
    if a.state == "snoozed" and a.snoozed_until:
        state.append(f"snoozed until {a.snoozed_until:%-d %b %H:%M}")
    if a.escalated:
        state.append("escalated")
    parts.append(Text.from_markup(" · ".join(state)))
    acct = a.account
    parts.append(
        Text(
            f"{a.severity} · {acct.csm_owner} · {fmt.money(acct.arr)} ARR · opened {fmt.day(a.opened_on)}", style="dim"
        )
    )
    return Panel(
        Group(*parts),
        title=f"{fmt.severity_emoji(a.severity)} [bold]{escape(acct.name)}[/bold] {escape(a.title)}",
        border_style=STATE_STYLE[a.state],
    )


def alert_event(e: views.AlertEvent) -> RenderableType:
    """One action on an alert, as a line."""
    note = f" — {escape(e.note)}" if e.note else ""
    return Text.from_markup(f"{escape(e.user)} {e.kind.replace('_', ' ')} on {escape(e.account)} · {e.at:%H:%M}{note}")


def playbook_checklist(r: views.PlaybookChecklist) -> RenderableType:
    """A playbook run as a checklist panel."""
    parts: list[RenderableType] = []
    for stage in r.stages:
        parts.append(
            _bullets(
                f"{stage.index}. {escape(stage.name)} · {escape(stage.timing)} · due {fmt.day(stage.due)}",
                [f"{'☑' if step.done else '☐'} {escape(step.text)}" for step in stage.steps],
                limit=10,
            )
        )
    acct = r.account
    moved = ""
    if acct.previous_score is not None and acct.score is not None:
        moved = (
            f" · health {fmt.score(acct.previous_score)} → {fmt.score(acct.score)}"
            f" ({fmt.signed(fmt.change(acct.previous_score, acct.score))} since the start)"
        )
    return Panel(
        Group(*parts),
        title=f"📋 [bold]{escape(r.playbook)} · {escape(acct.name)}[/bold]",
        subtitle=f"{r.done_steps} of {r.total_steps} steps done · {r.status}{moved}",
    )


_RENDERERS: dict[type, Callable[[Any], RenderableType]] = {
    views.HealthCard: health_card,
    views.Portfolio: portfolio,
    views.Digest: digest,
    views.TrendReport: trend_report,
    views.ExpansionList: expansion_list,
    views.RecoveryPlan: recovery_plan,
    views.Notice: notice,
    views.Alert: alert,
    views.AlertEvent: alert_event,
    views.PlaybookChecklist: playbook_checklist,
}


def briefed(view: object) -> RenderableType:
    """Issue 13's answers (lists, comparisons, plans, …) from their Briefing: sections, then the table."""
    b = briefing.briefing(view)
    parts: list[RenderableType] = [Text(b.title, style="bold")]
    for heading, lines in b.sections:
        if heading:
            parts.append(Text(heading, style="bold"))
        parts += [Text(line.strip("*")) for line in lines]
    if b.rows:
        table = Table(show_header=True, header_style="bold")
        for column in b.columns:
            table.add_column(column)
        for row in b.rows:
            table.add_row(*row)
        parts.append(table)
    for label, _, value in b.buttons:
        parts.append(Text(f'→ {label}: healthbot ask "{value}"'))
    if b.footnote:
        parts.append(Text(b.footnote, style="dim"))
    return Group(*parts)


def render_terminal(view: object, console: Console) -> None:
    """Print any view model from messages.views to `console`."""
    renderer = briefed if isinstance(view, briefing.BRIEFED) else _RENDERERS.get(type(view))
    if renderer is None:
        raise TypeError(f"no terminal renderer for {type(view).__name__}")
    console.print(renderer(view))
