"""The answers of issue 13 (lists, comparisons, changes, trends, plans, the model, "did you mean") as one shape — a
title, short sections and at most one table — that Block Kit and the terminal both draw.

Slack: a list is a `table` block (one per message, at most 100 rows; the rest go to a file the handler attaches).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from messages import format as fmt
from messages import views
from messages.controls import Action

MAX_TABLE_ROWS = 100  # Slack's limit for a table block
ASK_ACTION_ID = Action.ASK_AGAIN.value  # a "did you mean" button: its value is the question asked again


@dataclass(frozen=True)
class Briefing:
    """What an answer says, surface-free."""

    title: str
    fallback: str  # the notification / screen-reader text
    sections: list[tuple[str, list[str]]] = field(default_factory=list)  # (heading or "", lines)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (label, action_id, value)
    footnote: str = ""


def _card_line(card: views.HealthCard) -> str:
    return (
        f"{fmt.band_emoji(card.band)} {card.name}: {fmt.score(card.score)}/100 {card.band} · "
        f"ARR {fmt.money(card.arr)} · renewal {fmt.day(card.renewal_date)} · CSM {card.csm_owner}"
    )


def _actions(actions: list[views.PlanAction]) -> tuple[list[str], list[list[str]]]:
    return ["Action", "Owner", "Due Date", "Status"], [[a.action, a.owner, fmt.day(a.due), a.status] for a in actions]


def _money_or_unsized(o: views.Opportunity) -> str:
    if o.potential is None:
        return "not sized"
    return ("−" if o.potential < 0 else "") + fmt.money(abs(o.potential))


def briefing(view: object) -> Briefing:
    """The Briefing of one of the views this module draws.

    Raises:
        TypeError: not one of them.
    """
    if isinstance(view, views.AccountTable):
        sections = [("", [f"*{view.headline}*"])]
        if view.read_as:
            sections.append(("", ["Read as: " + " · ".join(view.read_as)]))
        if view.left_out:
            sections.append(("", view.left_out))
        if not view.rows:
            sections.append(("", ["No account matches."]))
        return Briefing(
            title=view.title,
            fallback=view.headline,
            sections=sections,
            columns=view.columns,
            rows=view.rows[:MAX_TABLE_ROWS],
            footnote=f"Rows of the portfolio report as scored on {fmt.day(view.as_of)}",
        )
    if isinstance(view, views.Comparison):
        names = [c.name for c in view.cards]
        dims = [d.name for d in view.cards[0].dimensions]
        rows = [
            ["Health score", *(f"{fmt.score(c.score)} {c.band}" for c in view.cards)],
            ["vs last month", *(fmt.signed(c.trend.vs_last_month) for c in view.cards)],
            ["ARR", *(fmt.money(c.arr) for c in view.cards)],
            ["Renewal", *(fmt.day(c.renewal_date) for c in view.cards)],
            ["CSM", *(c.csm_owner for c in view.cards)],
        ]
        for dim in dims:
            rows.append([dim, *(_dimension(c, dim) for c in view.cards)])
        rows.append(["Top risk", *((c.risks[0].title if c.risks else "none") for c in view.cards)])
        return Briefing(
            title=" vs ".join(names),
            fallback=view.verdict[0] if view.verdict else " vs ".join(names),
            sections=[("", view.verdict)],
            columns=["", *names],
            rows=rows,
            footnote=f"As scored on {fmt.day(view.as_of)}",
        )
    if isinstance(view, views.Changes):
        sections = [
            ("", [f"{fmt.count(view.accounts, 'account')} compared: {fmt.day(view.since)} → {fmt.day(view.as_of)}"])
        ]
        sections.append(("Band moves", [f"{m.account.name}: {m.was} → {m.now}" for m in view.band_moves] or ["none"]))
        sections.append(
            (
                "Biggest drops",
                [f"{a.name}: {fmt.signed(a.delta)} to {fmt.score(a.score)}" for a in view.biggest_drops] or ["none"],
            )
        )
        sections.append(
            (
                "Biggest gains",
                [f"{a.name}: {fmt.signed(a.delta)} to {fmt.score(a.score)}" for a in view.biggest_gains] or ["none"],
            )
        )
        sections.append(
            ("New signals", [f"{a.name}: {s.title} ({s.severity})" for a, s in view.new_signals] or ["none"])
        )
        sections.append(("Touches logged", view.touches or ["none logged in Slack"]))
        if view.notes:
            sections.append(("", view.notes))
        return Briefing(title=view.title, fallback=view.title, sections=sections)
    if isinstance(view, views.AccountTrend):
        rows = [[fmt.day(p.day), fmt.score(p.score), p.band] for p in view.points]
        return Briefing(
            title=f"{view.name}: health over {view.months} months",
            fallback=f"{view.name}: {view.summary}",
            sections=[("", [view.summary, *view.dimension_moves])],
            columns=["Scored on", "Score", "Status"],
            rows=rows,
            buttons=[("Show chart", "card_show_trend", view.account_id)],
        )
    if isinstance(view, views.SuccessPlan):
        c = view.card
        columns, rows = _actions(view.actions)
        return Briefing(
            title=f"Customer Success Plan: {c.name}",
            fallback=f"Customer success plan for {c.name}",
            sections=[
                (
                    "Account Overview",
                    [
                        f"ARR: {fmt.money_full(c.arr)}",
                        f"Contract End: {fmt.day(c.renewal_date)}",
                        f"Health Score: {fmt.score(c.score)}/100 ({c.band})",
                        "Key Stakeholders: " + "; ".join(view.stakeholders),
                    ],
                ),
                ("Current State", view.current_state),
                ("Goals", [f"{i}. {g}" for i, g in enumerate(view.goals, 1)]),
                ("Risk Factors", view.risks),
                (
                    "Expansion Opportunities",
                    [f"{o.kind}: {_money_or_unsized(o)} — {o.detail}" for o in view.opportunities]
                    or ["none found in the data"],
                ),
                ("Success Plan", []),
            ],
            columns=columns,
            rows=rows,
        )
    if isinstance(view, views.QbrPrep):
        c = view.card
        sections = [("", [_card_line(c)])]
        sections += [(f"{s.title} ({s.minutes} min)", s.points) for s in view.agenda]
        sections.append(("Find out before the meeting", view.ask_before))
        return Briefing(title=f"QBR prep: {c.name} (60 minutes)", fallback=f"QBR prep for {c.name}", sections=sections)
    if isinstance(view, views.RenewalStrategy):
        c = view.card
        columns, rows = _actions(view.steps)
        return Briefing(
            title=f"Renewal strategy: {c.name}",
            fallback=f"Renewal strategy for {c.name}: {view.position}",
            sections=[
                ("", [_card_line(c), view.position]),
                ("Risks", view.risks),
                ("What helps", view.leverage),
                ("Steps", []),
            ],
            columns=columns,
            rows=rows,
        )
    if isinstance(view, views.ExpansionPlan):
        c = view.card
        return Briefing(
            title=f"Expansion opportunities: {c.name}",
            fallback=f"Expansion opportunities for {c.name}",
            sections=[("", [_card_line(c), *view.caveats])],
            columns=["Opportunity", "Potential ARR", "Why"],
            rows=[[o.kind, _money_or_unsized(o), o.detail] for o in view.opportunities],
        )
    if isinstance(view, views.ModelExplainer):
        dims = [f"{d.name}: {fmt.pct(d.weight)} — {', '.join(d.measures)}" for d in view.dimensions]
        bands = [
            f"{fmt.band_emoji(b.name)} {b.name}: {b.floor:g}"
            + (f"–{b.ceiling:g}" if b.ceiling is not None else "+")
            + f" — {b.meaning}. {b.action}"
            for b in view.bands
        ]
        return Briefing(
            title="How the health score works",
            fallback=f"How the health score works ({view.name})",
            sections=[
                (
                    "",
                    [
                        f"Model: {view.name}. Each dimension scores 0–100 from its metrics; the overall score is their "
                        "weighted average over the dimensions that have data (missing data is never a zero)."
                    ],
                ),
                ("Dimensions and weights", dims),
                ("Bands", bands),
                (
                    f"What {view.lowest_band} means",
                    [next((b.meaning for b in view.bands if b.name == view.lowest_band), "")],
                ),
                ("When scores change", [view.recomputed]),
                *([("When an alert opens", [view.alerts])] if view.alerts else []),
                ("How well it predicts churn", view.backtest),
            ],
        )
    if isinstance(view, views.Clarify):
        return Briefing(
            title=view.title,
            fallback=view.title,
            sections=[("", view.lines)],
            buttons=[(label, ASK_ACTION_ID, question) for label, question in view.options],
        )
    raise TypeError(f"no briefing for {type(view).__name__}")


def _dimension(card: views.HealthCard, name: str) -> str:
    found = next((d for d in card.dimensions if d.name == name), None)
    return "no data" if found is None or found.score is None else fmt.score(found.score)


BRIEFED: tuple[type, ...] = (
    views.AccountTable,
    views.Comparison,
    views.Changes,
    views.AccountTrend,
    views.SuccessPlan,
    views.QbrPrep,
    views.RenewalStrategy,
    views.ExpansionPlan,
    views.ModelExplainer,
    views.Clarify,
)


def _text(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def blocks(view: object, escape: Any) -> dict[str, Any]:
    """The view as a Block Kit message; a list's rows as one `table` block (Slack allows one per message)."""
    b = briefing(view)
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": b.title[:150], "emoji": True}}
    ]
    for heading, lines in b.sections:
        body = (f"*{escape(heading)}*\n" if heading else "") + "\n".join(
            line if line.startswith("*") and line.endswith("*") else escape(line) for line in lines
        )
        if body.strip():
            out.append({"type": "section", "text": _text(fmt.clip(body, 3000))})
    if b.rows:
        table_rows = [[{"type": "raw_text", "text": c or " "} for c in b.columns]]
        table_rows += [
            [{"type": "raw_text", "text": (cell or "—")[:200]} for cell in row] for row in b.rows[: MAX_TABLE_ROWS - 1]
        ]
        out.append({"type": "table", "rows": table_rows})
    if b.buttons:
        out.append(
            {
                "type": "actions",
                "block_id": "answer_buttons",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": label[:75], "emoji": True},
                        "action_id": f"{action}_{i}" if action == ASK_ACTION_ID else action,
                        "value": value[:2000],
                    }
                    for i, (label, action, value) in enumerate(b.buttons[:5])
                ],
            }
        )
    if b.footnote:
        out.append({"type": "context", "elements": [_text(escape(b.footnote))]})
    return {"text": b.fallback, "blocks": out}
