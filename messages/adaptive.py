"""Render view models as Adaptive Cards (version 1.5) for Microsoft Teams.

The same view models messages/blockkit.py draws for Slack, drawn with Adaptive Card elements: TextBlock, FactSet,
ColumnSet, Image, ActionSet, Action.Execute (Universal Actions: a click comes back to the bot as an
`adaptiveCard/action` invoke and is answered with the updated card) and Action.ShowCard (the small forms of an alert:
snooze, note, pulse). Text is plain: Adaptive Card markdown is a small subset, and customer-supplied names are shown
as they are written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from messages import format as fmt
from messages import views
from messages.briefing import briefing
from messages.controls import Action

VERSION = "1.5"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
LIST_LIMIT = 10  # accounts in a list before "…and N more"
MAX_BODY = 60  # a guard like Block Kit's: a bug must not become a card Teams refuses (about 28 KB)

Card = dict[str, Any]
Element = dict[str, Any]
Names = Mapping[str, str]  # user IDs → display names, for "Acknowledged by …"


def text(value: object, **style: Any) -> Element:
    """A wrapping TextBlock."""
    return {"type": "TextBlock", "text": str(value), "wrap": True, **style}


def heading(value: object) -> Element:
    return text(value, size="Large", weight="Bolder")


def subheading(value: object) -> Element:
    return text(value, weight="Bolder", spacing="Medium", separator=True)


def subtle(value: object) -> Element:
    return text(value, isSubtle=True, spacing="Small")


def facts(pairs: Iterable[tuple[str, object]]) -> Element | None:
    found = [{"title": str(title), "value": str(value)} for title, value in pairs if value not in (None, "")]
    return {"type": "FactSet", "facts": found} if found else None


def bullets(lines: Iterable[object], *, limit: int = LIST_LIMIT) -> Element | None:
    items = [str(line) for line in lines]
    if not items:
        return None
    shown = items[:limit]
    more = len(items) - len(shown)
    return text("\n".join(f"- {line}" for line in shown) + (f"\n\n…and {more} more" if more > 0 else ""))


def execute(title: str, verb: str, data: Mapping[str, Any], *, style: str | None = None) -> Element:
    action: Element = {"type": "Action.Execute", "title": title, "verb": str(verb), "data": dict(data)}
    if style:
        action["style"] = style
    return action


def card(body: Iterable[Element | None], *, fallback: str, actions: Iterable[Element] = ()) -> Card:
    """A complete card; `fallback` is what clients without Adaptive Card support (and notifications) show."""
    elements = [element for element in body if element is not None]
    if len(elements) > MAX_BODY:
        elements = [*elements[: MAX_BODY - 1], subtle("…trimmed to fit Teams' limits")]
    built: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "fallbackText": fallback}
    built["body"] = elements
    acts = list(actions)
    if acts:
        built["actions"] = acts
    return built


def _ref_line(ref: views.AccountRef) -> str:
    parts = [f"{fmt.band_emoji(ref.band)} {ref.name} · {fmt.score(ref.score)}"]
    if ref.delta is not None:
        parts.append(fmt.signed(ref.delta))
    if ref.arr is not None:
        parts.append(f"{fmt.money(ref.arr)} ARR")
    if ref.note:
        parts.append(ref.note)
    return " · ".join(parts)


def _refs(title: str, refs: list[views.AccountRef]) -> list[Element | None]:
    if not refs:
        return []
    return [subheading(f"{title} ({len(refs)})"), bullets(_ref_line(r) for r in refs)]


def _who(user: str | None, names: Names) -> str:
    return names.get(user or "", user or "someone")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%-d %b %H:%M") if moment else ""


# --- one function per view ------------------------------------------------------------------------------------------


def health_card(c: views.HealthCard, names: Names) -> Card:
    t = c.trend
    trend = [f"{fmt.arrow(t.direction)} {t.direction}"]
    if t.vs_last_month is not None:
        trend.append(f"{fmt.signed(t.vs_last_month)} vs last month ({fmt.score(t.last_month_score)})")
    if t.vs_last_quarter is not None:
        trend.append(f"{fmt.signed(t.vs_last_quarter)} vs last quarter ({fmt.score(t.last_quarter_score)})")
    renewal = (
        f"{fmt.day(c.renewal_date)} · {fmt.days_phrase(c.days_to_renewal)}" if c.renewal_date else "No renewal date"
    )
    meta = " · ".join(p for p in (c.csm_owner, c.segment, c.lifecycle_stage, c.account_id) if p)
    body: list[Element | None] = [
        heading(f"{fmt.band_emoji(c.band)} {c.name} · {fmt.score(c.score)}/100 {c.band}"),
        subtle(meta),
        facts(
            [
                ("Health score", f"{fmt.score(c.score)}/100 · {c.band}"),
                ("Trend", "; ".join(trend)),
                ("ARR", fmt.money_full(c.arr) if c.arr is not None else None),
                ("Renewal", renewal),
                ("Confidence", f"{fmt.pct(c.confidence)} of the model has data" if c.confidence < 0.995 else None),
                (
                    "CSM pulse",
                    f"{c.pulse.label} ({c.pulse.level}/6) by {_who(c.pulse.author, names)}" if c.pulse else None,
                ),
            ]
        ),
        subheading("Health by dimension"),
    ]
    for d in c.dimensions[:8]:
        if d.score is None:
            body.append(text(f"⚪ {d.name} · no data — left out, other weights rescaled"))
            continue
        body.append(
            text(f"{fmt.band_emoji(d.band)} **{d.name} · {fmt.score(d.score)}/100** (weight {fmt.pct(d.weight)})")
        )
        body.append(bullets([*d.facts[:6], *([d.trend] if d.trend else [])]))
    if c.risks:
        body.append(subheading("Key risks"))
        body.append(bullets(_signal_line(s) for s in c.risks[:5]))
    if c.interpretations:
        body.append(subheading("What it likely means"))
        body.append(bullets(f"💡 {s.title}" + "".join(f" — {f}" for f in s.facts[:2]) for s in c.interpretations[:4]))
    if c.positives:
        body.append(subheading("Going well"))
        body.append(bullets(c.positives[:5]))
    if c.expansion:
        body.append(subheading("Expansion signals"))
        body.append(bullets(_signal_line(s) for s in c.expansion[:3]))
    if c.actions:
        body.append(subheading("Recommended actions"))
        body.append(bullets(f"{a.priority}. {a.title}" + (f" ({a.due})" if a.due else "") for a in c.actions[:5]))
    if c.playbook:
        body.append(text(f"Recommended playbook: **{c.playbook}**"))
    if c.goal:
        body.append(text(f"30-day goal: {c.goal.target_score}/100", weight="Bolder"))
        body.append(bullets(c.goal.targets[:4]))
    if c.recent_actions:
        body.append(subheading("Recent activity"))
        body.append(bullets(f"{_when(r.when)} · {_who(r.who, names)} · {r.what}" for r in c.recent_actions[:5]))
    fallback = f"{c.name}: health {fmt.score(c.score)}/100 ({c.band})"
    if t.vs_last_month is not None:
        fallback += f", {fmt.signed(t.vs_last_month)} vs last month"
    return card(body, fallback=fallback + ".")


def _signal_line(s: views.Signal) -> str:
    line = f"{fmt.severity_emoji(s.severity)} {s.title} · {s.severity}"
    if s.response_time:
        line += f" · {fmt.respond_by(s.response_time)}"
    if s.facts:
        line += " — " + "; ".join(s.facts[:3])
    if s.impact:
        line += f" (impact: {s.impact})"
    return line


def portfolio(p: views.Portfolio, names: Names) -> Card:
    body: list[Element | None] = [
        heading(f"{p.title}: portfolio health"),
        subtle(f"As of {fmt.day(p.as_of)}"),
        text(p.lead, weight="Bolder") if p.lead else None,
        facts(
            [
                ("Accounts", p.total_accounts),
                ("ARR", fmt.money(p.total_arr)),
                ("Average score", f"{fmt.score(p.average_score)}/100"),
                ("Renewal ARR at risk", fmt.money(p.renewal_arr_at_risk) if p.renewals else None),
                ("Capacity", f"{p.capacity.status}: {p.capacity.note}" if p.capacity else None),
            ]
        ),
        subheading("Health distribution"),
        facts(
            (f"{fmt.band_emoji(b.band)} {b.band}", f"{b.count} ({fmt.pct(b.share)}) · {fmt.money(b.arr)} · {b.focus}")
            for b in p.bands
        ),
    ]
    if p.groups:
        body.append(subheading("By group"))
        body.append(
            bullets(
                f"{g.group}: {g.accounts} accounts · {fmt.money(g.arr)} · avg {fmt.score(g.average_score)} · "
                + (f"{fmt.money(g.arr_at_risk)} at risk · " if p.lead else "")
                + ", ".join(f"{n} {band}" for band, n in g.band_counts.items())
                for g in p.groups
            )
        )
    body += _refs("Declining", p.declining)
    body += _refs("Improving", p.improving)
    body += _refs("Renewing in the next 90 days", p.renewals)
    if p.risk_drivers:
        body.append(subheading("What drives the risk"))
        body.append(bullets(f"{d.title}: {d.accounts} accounts · {fmt.money(d.arr)}" for d in p.risk_drivers))
    body += _refs("Expansion ready", p.expansion_ready)
    if p.recommendations:
        body.append(subheading("Recommendations"))
        body.append(bullets(p.recommendations))
    bands = ", ".join(f"{b.count} {b.band}" for b in p.bands)
    summary = f"{p.title}: {p.total_accounts} accounts, {fmt.money(p.total_arr)} ARR ({bands})."
    return card(body, fallback=f"{p.lead} {summary}" if p.lead else summary)


def trend_report(r: views.TrendReport, names: Names, *, chart_url: str | None = None) -> Card:
    body: list[Element | None] = [heading(r.title), subtle(f"As of {fmt.day(r.as_of)}")]
    if chart_url:
        body.append({"type": "Image", "url": chart_url, "altText": "Average health score by segment, month by month"})
    for title, findings in (("Concerns", r.concerns), ("Going well", r.positives)):
        if not findings:
            continue
        body.append(subheading(title))
        for f in findings[:6]:
            body.append(text(f"{fmt.concern_emoji(f.concern)} **{f.title}** · {f.concern}"))
            body.append(
                bullets(
                    [
                        f.pattern,
                        f"{f.affected_accounts} of {f.total_accounts} accounts · {fmt.money(f.arr_affected)} ARR",
                        *f.indicators[:3],
                        *(f"Action: {a}" for a in f.actions[:2]),
                    ]
                )
            )
    for title, lines in (
        ("What the model learned", r.model_insights),
        ("Recommended actions", r.summary_actions),
        ("Playbook results", r.playbook_results),
    ):
        if lines:
            body += [subheading(title), bullets(lines)]
    return card(body, fallback=f"{r.title}: {len(r.concerns)} concerns, {len(r.positives)} positives.")


def expansion_list(e: views.ExpansionList, names: Names) -> Card:
    body: list[Element | None] = [
        heading(f"Expansion ready: {fmt.count(len(e.candidates), 'account')}"),
        subtle(f"As of {fmt.day(e.as_of)} · {fmt.money(e.total_arr)} ARR"),
    ]
    for c in e.candidates[:LIST_LIMIT]:
        body.append(text(f"**{_ref_line(c.account)}** · {c.opportunity}"))
        body.append(bullets(c.reasons[:3]))
    if len(e.candidates) > LIST_LIMIT:
        body.append(subtle(f"…and {len(e.candidates) - LIST_LIMIT} more"))
    return card(body, fallback=f"{len(e.candidates)} accounts ready for an expansion conversation.")


def recovery_plan(plan: views.RecoveryPlan, names: Names) -> Card:
    c = plan.card
    body: list[Element | None] = [
        heading(f"Recovery plan: {c.name}"),
        subtle(
            f"{fmt.band_emoji(c.band)} {fmt.score(c.score)}/100 {c.band} · {c.csm_owner} · playbook {plan.playbook}"
        ),
        subheading("Diagnosis"),
        bullets(plan.diagnosis),
    ]
    for stage in plan.stages:
        body.append(text(f"**{stage.name}** · {stage.timing}", spacing="Medium"))
        body.append(bullets(stage.steps))
    if plan.goal:
        body.append(subheading(f"Goal: {plan.goal.target_score}/100 in {plan.goal.days} days"))
        body.append(bullets(plan.goal.targets))
    return card(body, fallback=f"Recovery plan for {c.name}: {plan.playbook}, {len(plan.stages)} stages.")


def digest(d: views.Digest, names: Names) -> Card:
    body: list[Element | None] = [
        heading(f"Early-warning digest · {d.recipient}"),
        subtle(f"{fmt.day(d.day)}" + (f" · {fmt.money(d.arr_at_risk)} ARR at risk" if d.arr_at_risk else "")),
    ]
    body += _refs("New Red accounts", d.new_reds)
    body += _refs("Biggest drops", d.biggest_drops)
    if d.due_today:
        body.append(subheading(f"Due today ({len(d.due_today)})"))
        body.append(
            bullets(f"{ref.name}: {sig.title} · {fmt.respond_by(sig.response_time)}" for ref, sig in d.due_today)
        )
    body += _refs("Renewals at risk", d.renewals_at_risk)
    body += _refs("Expansion ready", d.expansion_ready)
    if d.by_group:
        body.append(subheading("By CSM"))
        body.append(
            bullets(
                f"{g.group}: {g.accounts} accounts · avg {fmt.score(g.average_score)} · "
                + ", ".join(f"{n} {band}" for band, n in g.band_counts.items())
                for g in d.by_group
            )
        )
    if d.risk_drivers:
        body.append(subheading("What drives the risk"))
        body.append(bullets(f"{r.title}: {r.accounts} accounts · {fmt.money(r.arr)}" for r in d.risk_drivers))
    if d.unreachable_csms:
        body.append(subheading("Could not reach"))
        body.append(text(", ".join(d.unreachable_csms) + " — not reachable in Slack or Teams; please forward."))
    quiet = not (d.new_reds or d.biggest_drops or d.due_today or d.renewals_at_risk)
    if quiet:
        body.append(text("✅ Nothing new needs attention today."))
    fallback = (
        f"Digest for {d.recipient}, {fmt.day(d.day)}: {len(d.new_reds)} new Red, {len(d.biggest_drops)} big drops, "
        f"{len(d.due_today)} due today."
    )
    return card(body, fallback=fallback)


def notice(n: views.Notice, names: Names) -> Card:
    marker = {"error": "⚠️ ", "refused": "⛔ ", "not_found": "🔎 "}.get(n.kind, "")
    body: list[Element | None] = [text(f"{marker}{n.title}", weight="Bolder", size="Medium")]
    body += [text(_teams_words(line)) for line in n.lines if not _slack_only(line)]
    values = n.suggestion_values or n.suggestions
    actions = [
        execute(name, Action.PICK_ACCOUNT, {"account": value})
        for name, value in zip(n.suggestions, values, strict=False)
    ]
    return card(body, fallback=n.title, actions=actions[:5])


def _teams_words(line: str) -> str:
    # Slack's slash command is a bot command in Teams: "/health Acme Corp" is typed "health Acme Corp".
    return line.replace("/health", "health")


def _slack_only(line: str) -> bool:
    return "Share in channel" in line  # Teams answers are never private to the asker, so there is nothing to share


STATE_WORDS = {"open": "🚨 Open", "acknowledged": "👀 Acknowledged", "snoozed": "😴 Snoozed", "resolved": "✅ Resolved"}


def alert(a: views.Alert, names: Names) -> Card:
    """An alert with the buttons that make sense in its state; every click is answered with this card re-rendered."""
    acct = a.account
    state = STATE_WORDS.get(a.state, a.state)
    meta = [a.severity, state, acct.csm_owner]
    if a.respond_within and a.state == "open":
        meta.insert(2, fmt.respond_by(a.respond_within))
    if acct.arr is not None:
        meta.append(f"{fmt.money(acct.arr)} ARR")
    if acct.score is not None:
        meta.append(f"now {fmt.band_emoji(acct.band)} {fmt.score(acct.score)}/100")
    if acct.renewal_date:
        meta.append(f"renews {fmt.day(acct.renewal_date)}")
    head = f"{acct.name} {a.title}" + (" · ⏫ Escalated" if a.escalated and a.state == "open" else "")
    body: list[Element | None] = [
        {
            "type": "Container",
            "style": {"open": "attention", "acknowledged": "warning", "snoozed": "emphasis"}.get(a.state, "good"),
            "items": [text(head, weight="Bolder", size="Medium"), subtle(" · ".join(meta))],
        }
    ]
    if a.reasons:
        body.append(subheading("Why"))
        body.append(bullets(_signal_line(r) for r in a.reasons[:3]))
    if a.playbook_run:
        body.append(text(f"📋 {a.playbook_run}"))
    elif a.playbook:
        body.append(text(f"Recommended playbook: **{a.playbook}**"))
    if a.pulse:
        note = f" — “{fmt.clip(a.pulse.note, 200)}”" if a.pulse.note else ""
        body.append(text(f"💬 CSM pulse: {a.pulse.label} ({a.pulse.level}/6) by {_who(a.pulse.author, names)}{note}"))
    done = []
    if a.acknowledged_by and a.state != "resolved":
        done.append(f"👀 Acknowledged by {_who(a.acknowledged_by, names)} · {_when(a.acknowledged_at)}")
    if a.assigned_to:
        done.append(f"👤 Assigned to {_who(a.assigned_to, names)}")
    if a.state == "snoozed":
        done.append(f"😴 Snoozed by {_who(a.snoozed_by, names)} until {_when(a.snoozed_until)}")
    if a.state == "resolved":
        done.append(f"✅ Resolved by {_who(a.resolved_by, names)} · {_when(a.resolved_at)}")
    if a.escalated and a.state == "open":
        done.append(f"⏫ Escalated: nobody acknowledged it within {a.respond_within or 'its response time'}")
    if done:
        body.append(subtle("\n\n".join(done)))
    fallback = f"{acct.name} {a.title} · {a.severity} · {state}" + (f": {a.reasons[0].title}" if a.reasons else "")
    return card(body, fallback=fallback, actions=alert_actions(a))


def alert_actions(a: views.Alert) -> list[Element]:
    """The buttons of an alert in its state: Action.Execute for the one-click actions (the verb is the control's
    name), and Action.Submit opening a dialog (task/fetch) for snooze, note and pulse, which ask for more."""
    ref = {"alert_id": a.alert_id, "rev": alert_revision(a)}
    if a.state == "resolved":
        return [execute("Reopen", Action.ALERT_UNRESOLVE, ref)]
    actions = [
        execute("Unacknowledge", Action.ALERT_UNACKNOWLEDGE, ref)
        if a.acknowledged_by
        else execute("Acknowledge", Action.ALERT_ACKNOWLEDGE, ref, style="positive"),
        execute("Resolve", Action.ALERT_RESOLVE, ref),
        execute("Unsnooze", Action.ALERT_UNSNOOZE, ref) if a.state == "snoozed" else _opens("Snooze…", DIALOGS[0], ref),
    ]
    if not a.playbook_run and a.playbook:
        actions.append(execute("Start playbook", Action.ALERT_START_PLAYBOOK, ref))
    actions += [_opens("Log note…", DIALOGS[1], ref), _opens("Set pulse…", DIALOGS[2], ref)]
    # Teams shows six actions in a row; the seventh goes under the card's "…" menu.
    actions.append({**_opens("Reassign…" if a.assigned_to else "Assign…", DIALOGS[3], ref), "mode": "secondary"})
    return actions


# The alert actions that ask for something first, each in a dialog of its own.
DIALOGS = (Action.ALERT_SNOOZE, Action.ALERT_LOG_NOTE, Action.ALERT_SET_PULSE, Action.ALERT_ASSIGN)


def _opens(title: str, dialog: Action, ref: Mapping[str, Any]) -> Element:
    """A button that opens a dialog (Teams sends `task/fetch` with this data)."""
    data = {"msteams": {"type": "task/fetch"}, "dialog_id": str(dialog), **ref}
    return {"type": "Action.Submit", "title": title, "data": data}


def alert_dialog(
    dialog: str, a: views.Alert, *, rev: str | None = None, people: Sequence[tuple[str, str]] = ()
) -> tuple[str, Card]:
    """The dialog a button opens on an alert: its title and its form, submitted with the alert's reference.
    `people` (user ID, name) are whom the alert may be assigned to."""
    ref = {"dialog_id": dialog, "alert_id": a.alert_id, "rev": rev or alert_revision(a)}
    intro = text(f"{a.account.name} {a.title} · {STATE_WORDS.get(a.state, a.state)}", weight="Bolder")
    if dialog == Action.ALERT_SNOOZE:
        inputs = [_choices("snooze", "Snooze for", [("1d", "1 day"), ("7d", "7 days")], "1d")]
        title, submit = "Snooze the alert", "Snooze"
    elif dialog == Action.ALERT_LOG_NOTE:
        note = {"type": "Input.Text", "id": "note", "label": "Note", "isMultiline": True, "isRequired": True,
                "errorMessage": "Write the note first", "maxLength": 2000}  # fmt: skip
        inputs, title, submit = [note], "Log a note", "Save note"
    elif dialog == Action.ALERT_SET_PULSE:
        levels = [(str(i), f"{i} · {label}") for i, label in enumerate(views.PULSE_LEVELS, start=1)]
        why = {"type": "Input.Text", "id": "pulse_note", "label": "Why (optional)", "maxLength": 500}
        inputs, title, submit = [_choices("pulse", "Your read of the account", levels, None), why], "Set pulse", "Save"
    elif dialog == Action.ALERT_ASSIGN:
        current = a.assigned_to if a.assigned_to in {user_id for user_id, _ in people} else None
        inputs = [_choices("assignee", "Assign to", list(people), current)]
        title, submit = "Assign the alert", "Assign"
    else:
        raise ValueError(f"no dialog called {dialog!r}")
    form = card([intro, *inputs], fallback=title, actions=[{"type": "Action.Submit", "title": submit, "data": ref}])
    return title, form


def alert_revision(a: views.Alert) -> str:
    """A short fingerprint of the alert's state as this card shows it: two clicks on the same card (a double click,
    Teams retrying the invoke) carry the same one, a click on the updated card a new one."""
    state = (
        a.state,
        a.acknowledged_by,
        a.acknowledged_at,
        a.snoozed_until,
        a.resolved_at,
        a.assigned_to,
        a.pulse.set_at if a.pulse else None,
        a.playbook_run,
    )
    return hashlib.sha256(repr(state).encode()).hexdigest()[:16]


def _choices(input_id: str, label: str, choices: list[tuple[str, str]], initial: str | None) -> Element:
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "isRequired": True,
        "errorMessage": f"Choose {label.lower()}",
        "choices": [{"title": title, "value": value} for value, title in choices],
    }
    if initial:
        element["value"] = initial
    return element


def alert_event(e: views.AlertEvent, names: Names) -> Card:
    what = e.kind.replace("_", " ")
    line = f"{_who(e.user, names)} · {what} · {e.account}" + (f" · {e.note}" if e.note else "")
    return card([subtle(f"{_when(e.at)} · {line}")], fallback=line)


def playbook_run(run: views.PlaybookChecklist, names: Names) -> Card:
    body: list[Element | None] = [
        heading(f"📋 {run.playbook} · {run.account.name}"),
        subtle(
            f"{run.done_steps} of {run.total_steps} steps done · {run.status} · started by "
            f"{_who(run.started_by, names)} {_when(run.started_at)}"
        ),
    ]
    for stage in run.stages:
        body.append(text(f"**{stage.name}** · {stage.timing} · due {fmt.day(stage.due)}", spacing="Medium"))
        body.append(bullets((("☑" if s.done else "☐") + f" {s.text}" for s in stage.steps), limit=20))
    return card(body, fallback=f"{run.playbook} on {run.account.name}: {run.done_steps} of {run.total_steps} done.")


_RENDERERS: dict[type, Callable[[Any, Names], Card]] = {
    views.HealthCard: health_card,
    views.Portfolio: portfolio,
    views.TrendReport: trend_report,
    views.ExpansionList: expansion_list,
    views.RecoveryPlan: recovery_plan,
    views.Digest: digest,
    views.Notice: notice,
    views.Alert: alert,
    views.AlertEvent: alert_event,
    views.PlaybookChecklist: playbook_run,
}


def people_in(view: object) -> set[str]:
    """The user IDs a view shows as people (who acknowledged, set the pulse, ticked a step), to look their names up."""
    ids: set[str] = set()
    pulse = getattr(view, "pulse", None)
    if pulse is not None:
        ids.add(pulse.author)
    if isinstance(view, views.HealthCard):
        ids.update(r.who for r in view.recent_actions)
    if isinstance(view, views.Alert):
        ids.update(u for u in (view.acknowledged_by, view.assigned_to, view.snoozed_by, view.resolved_by) if u)
    if isinstance(view, views.PlaybookChecklist):
        ids.add(view.started_by)
        ids.update(s.done_by for stage in view.stages for s in stage.steps if s.done_by)
    if isinstance(view, views.AlertEvent):
        ids.add(view.user)
    return ids


def render_card(view: object, *, names: Names | None = None, chart_url: str | None = None) -> Card:
    """Render any view model from messages.views as an Adaptive Card 1.5.

    Args:
        view: a view model (HealthCard, Portfolio, Alert, …).
        names: display names for the user IDs a view carries (who acknowledged, who set the pulse).
        chart_url: for a TrendReport, the chart image's URL (https, or a data: URL).
    """
    if isinstance(view, views.TrendReport):
        return trend_report(view, names or {}, chart_url=chart_url)
    renderer = _RENDERERS.get(type(view))
    if renderer is None:
        return briefed(view)  # the question engine's answers; raises TypeError for anything else
    return renderer(view, names or {})


TABLE_ROWS = 40  # rows of a list drawn in a card; the rest are counted, and `health export` gives them all
_SLACK_BOLD = re.compile(r"(?<![*\w])\*([^*\n]+)\*(?![*\w])")


def _markdown(line: str) -> str:
    """A Briefing line (Slack mrkdwn) as Adaptive Card markdown: *bold* → **bold**, Slack's escapes undone."""
    plain = line.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return _SLACK_BOLD.sub(r"**\1**", plain)


def _table(columns: list[str], rows: list[list[str]]) -> Element:
    def row(cells: list[str], *, header: bool = False) -> Element:
        items = [text(cell or " ", weight="Bolder") if header else text(cell or " ") for cell in cells]
        return {"type": "TableRow", "cells": [{"type": "TableCell", "items": [item]} for item in items]}

    return {
        "type": "Table",
        "columns": [{"width": 1} for _ in columns],
        "rows": [row(columns, header=True), *(row(cells) for cells in rows[:TABLE_ROWS])],
        "firstRowAsHeader": True,
        "showGridLines": False,
    }


def briefed(view: object) -> Card:
    """The question engine's answers (lists, comparisons, what changed, plans, the model, "did you mean"), drawn from
    the same Briefing as Block Kit and the terminal; a "did you mean" button asks the question again as the person
    would type it (imBack).

    Raises:
        TypeError: not a view the Briefing draws.
    """
    b = briefing(view)
    body: list[Element | None] = [heading(_markdown(b.title))]
    for title, lines in b.sections:
        if title:
            body.append(subheading(_markdown(title)))
        said = [_markdown(line) for line in lines]
        body.append(bullets(said) if len(said) > 1 else text(said[0]) if said else None)
    if b.columns:
        body.append(_table(b.columns, b.rows))
        if len(b.rows) > TABLE_ROWS:
            body.append(subtle(f"…and {len(b.rows) - TABLE_ROWS} more: `health export` gives every row"))
    if b.footnote:
        body.append(subtle(_markdown(b.footnote)))
    again = [
        {"type": "Action.Submit", "title": label[:40], "data": {"msteams": {"type": "imBack", "value": question}}}
        for label, control, question in b.buttons
        if control == Action.ASK_AGAIN
    ]
    return card(body, fallback=b.fallback, actions=again)


def attachment(card_: Card) -> dict[str, Any]:
    """The card as a Bot Framework attachment."""
    return {"contentType": CONTENT_TYPE, "content": card_}


def message(card_: Card) -> dict[str, Any]:
    """The card as a message activity: the card, with its fallback as the notification text."""
    return {"type": "message", "text": card_.get("fallbackText", ""), "attachments": [attachment(card_)]}
