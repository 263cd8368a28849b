"""Answer a parsed Question with a view model, never a different question in silence.

A scope the store doesn't have is said (with the closest names as buttons); something the bot can't do is said
("I can't do that — here is what I can"); a former customer is said to have churned, and when.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine

from bot import insights
from bot.insights.portfolio import GROUP_LABELS
from bot.questions import plans
from bot.questions.parse import SHARE_MEASURES, Question
from bot.questions.rows import band_names, matching, over_a_quarter, renewal_span
from bot.questions.vocabulary import SCOPE_COLUMNS, SCOPE_LABELS, Vocabulary
from bot.scoring_runs import ACCOUNTS, SCORES
from messages import format as fmt
from messages import views
from scoring import HealthModel
from scoring.measures import CATALOGUE


@dataclass
class Asked:
    """What the answerer needs besides the question: the store, the model, the day, and who is asking."""

    engine: Engine
    model: HealthModel
    today: date
    vocab: Vocabulary
    asker_csm: Callable[[], str | None]  # the asker's CSM name, looked up only when the question says "my"


def answer_question(q: Question, asked: Asked) -> object:
    """The view model answering `q` (a Notice or Clarify when it can't be answered as asked)."""
    if q.wanted == "help":
        from bot.intents import help_notice

        return help_notice()
    if q.wanted == "unsupported":
        return _cannot(q)
    if q.wanted == "model":
        return plans.model_explainer(asked.engine, asked.model)
    if q.churned and not q.accounts:
        return _churned(asked, q)
    if q.wanted == "churned":
        return _former_customers(q, asked)
    if q.wanted == "export":
        return views.Notice(
            "Export the report",
            ["`/health export xlsx` (or `csv`) sends the portfolio report table as a file."],
            kind="info",
        )
    twins = next((m for m in q.misses if m.kind == "account"), None)
    if twins is not None:
        return views.Notice(
            f"More than one account is called “{twins.typed}”",
            ["Which one did you mean?"],
            [f"{twins.typed} ({account_id})" for account_id in twins.suggestions],
            kind="not_found",
            suggestion_values=list(twins.suggestions),
        )
    miss = next((m for m in q.misses if m.kind in ("csm", "scope")), None)
    if miss is not None and not (q.csm and miss.kind == "csm"):
        return _clarify(q, miss)
    if q.mine:
        owner = asked.asker_csm()
        if owner is None:
            return views.Notice(
                "Whose book?",
                [
                    "I can't tell which CSM you are: no account lists your Slack user or email as its CSM's.",
                    "Name the CSM instead, e.g. “Sarah Chen's red accounts”.",
                ],
                kind="not_found",
            )
        q = replace(q, csms=(owner, *(c for c in q.csms if c != owner))) if q.csms else replace(q, csm=owner)
    if q.stale_since is not None:
        q = _dated(q, asked.today)
    if q.wanted == "plan" and not q.accounts and q.limit == 1:
        # "A recovery plan for our worst account": that account, found as the list would find it.
        found = matching(
            asked.engine,
            asked.model,
            replace(q, wanted="list"),
            insights.scored_day(asked.engine, asked.today),
            csm=q.csm,
            shown=1,
        )
        if len(found.frame):
            q = replace(q, accounts=(str(found.frame["account_id"].iloc[0]),))
    if q.wanted in ("card", "why", "trend", "plan", "compare") and not q.accounts:
        if q.wanted == "trend":
            return insights.trend_report(asked.engine, asked.model, as_of=asked.today)
        return _no_account(q, asked)
    handler = _HANDLERS[q.wanted]
    return handler(q, asked)


def _dated(q: Question, today: date) -> Question:
    """ "Since October" as days: from the 1st of the last October that has begun."""
    assert q.stale_since is not None
    kind, month = q.stale_since
    first = date(today.year if month <= today.month else today.year - 1, month, 1)
    days = (today - first).days
    if kind == "qbr":
        return replace(q, no_qbr_days=days, stale_since=None)
    if kind == "login":
        return replace(q, no_login_days=days, stale_since=None)
    return replace(q, no_touch_days=days, stale_since=None)


# --- refusals and misses ---------------------------------------------------------------------------------------
_CAN = [
    "• an account's health: “How is Acme Corp doing?”, “why is MegaCorp red?”",
    "• a book: “Sarah's portfolio”, “how are our EMEA accounts doing?”",
    "• lists: “Kenji's red accounts”, “renewals in the next 30 days”, “no touch in 30 days”, “NPS under 5”",
    "• changes and trends: “what changed since last week?”, “Acme trend over 6 months”",
    "• plans: “success plan for Acme”, “QBR prep for TechFlow”, “renewal strategy for MegaCorp”",
    "• “Acme vs TechFlow”, “how is the health score calculated?”",
    "• commands: `/health Acme Corp`, `/health portfolio`, `/health help`",
]


def _cannot(q: Question) -> views.Notice:
    reason = q.unsupported_reason or "I couldn't tell what you're asking."
    said = q.text if len(q.text) <= 120 else q.text[:119] + "…"
    return views.Notice(
        "I can't do that — here is what I can",
        [f"“{said}”: {reason}", "", *_CAN],
        kind="refused",
    )


def _clarify(q: Question, miss: object) -> views.Clarify:
    from bot.questions.parse import Miss

    assert isinstance(miss, Miss)
    what = "CSM" if miss.kind == "csm" else "segment, region, industry, plan tier or lifecycle stage"
    options = [(name, _swap(q.text, miss.typed, name)) for name in miss.suggestions[:5]]
    lines = [
        f"Nobody's book is under “{miss.typed}”."
        if miss.kind == "csm"
        else f"Your data has no {what} called “{miss.typed}”."
    ]
    lines.append("Did you mean one of these?" if options else "Check the name as it is in the accounts file.")
    return views.Clarify(title=f"No {what.split(',')[0]} called “{miss.typed}”", lines=lines, options=options)


def _swap(text: str, typed: str, name: str) -> str:
    index = text.casefold().find(typed.casefold())
    if index < 0:
        return f"{text} ({name})"
    return text[:index] + name + text[index + len(typed) :]


def _no_account(q: Question, asked: Asked) -> object:
    from bot.questions.parse import GRAMMAR_WORDS, _Words

    words = _Words.of(q.text)
    guess = " ".join(r for r, w in zip(words.raw, words.words, strict=True) if w not in GRAMMAR_WORDS) or q.text
    match = insights.find_account(asked.engine, guess)
    if match.found and match.account_id is not None:
        return answer_question(replace(q, accounts=(match.account_id,)), asked)
    lines = ["Did you mean one of these?"] if match.suggestions else ["Check the spelling, or try the account ID."]
    return views.Notice(
        f"No account called “{guess}”",
        lines,
        list(match.suggestions),
        kind="not_found",
        suggestion_values=list(match.suggestion_ids),
    )


def _churned(asked: Asked, q: Question) -> views.Notice:
    account_id, on = q.churned[0]
    name = asked.vocab.names_by_id.get(account_id, account_id)
    with asked.engine.connect() as connection:
        last = connection.execute(
            select(SCORES.c.as_of, SCORES.c.score, SCORES.c.band)
            .where(SCORES.c.account_id == account_id, SCORES.c.as_of <= on)
            .order_by(SCORES.c.as_of.desc())
            .limit(1)
        ).first()
    lines = [f"{name} ({account_id}) churned on {fmt.day(on)} and is no longer scored."]
    if last is not None:
        lines.append(
            f"Its last score before leaving was {fmt.score(last.score)} ({last.band}) on {fmt.day(last.as_of)}."
        )
    return views.Notice(f"{name} churned on {fmt.day(on)}", lines, kind="info")


def _former_customers(q: Question, asked: Asked) -> views.Notice:
    """Who left, most recent first: former customers aren't scored, so they are named with the day they churned."""
    owner = asked.asker_csm() if q.mine else q.csm
    query = select(ACCOUNTS.c.name, ACCOUNTS.c.churned_on, ACCOUNTS.c.csm_owner).where(
        ACCOUNTS.c.churned_on.is_not(None)
    )
    if owner:
        query = query.where(ACCOUNTS.c.csm_owner == owner)
    since = None
    if q.window_days:
        since = asked.today - timedelta(days=q.window_days)
    elif "this year" in q.text.casefold():
        since = date(asked.today.year, 1, 1)
    if since is not None:
        query = query.where(ACCOUNTS.c.churned_on >= since)
    # Logo churn: of the accounts that were customers when the window opened (every account, without one).
    book = select(func.count()).select_from(ACCOUNTS).where(ACCOUNTS.c.account_id.is_not(None))
    if owner:
        book = book.where(ACCOUNTS.c.csm_owner == owner)
    if since is not None:
        book = book.where(or_(ACCOUNTS.c.churned_on.is_(None), ACCOUNTS.c.churned_on >= since))
    with asked.engine.connect() as connection:
        rows = connection.execute(query.order_by(ACCOUNTS.c.churned_on.desc()).limit(30)).all()
        total = connection.execute(select(func.count()).select_from(query.subquery())).scalar() or 0
        customers = connection.execute(book).scalar() or 0
    whose = f" of {owner}'s" if owner else ""
    when = f" since {fmt.day(since)}" if since else ""
    lines = [f"{fmt.count(total, 'former customer')}{whose}{when} (no longer scored):"]
    if customers:
        base = f"the {customers} customers on {fmt.day(since)}" if since else f"the {customers} accounts on record"
        lines.insert(0, f"Logo churn{when}: {total} of {base} ({total / customers:.1%}).")
    lines += [f"• {r.name} — churned {fmt.day(r.churned_on)} ({r.csm_owner})" for r in rows]
    if total > len(rows):
        lines.append(f"…and {total - len(rows)} more.")
    return views.Notice(f"Churned{whose} accounts{when}".replace(" of ", " · ", 1), lines, kind="info")


# --- one account -------------------------------------------------------------------------------------------------
def _card(q: Question, asked: Asked) -> object:
    return insights.health_card(asked.engine, asked.model, q.accounts[0], as_of=asked.today)


def _why(q: Question, asked: Asked) -> object:
    return insights.drop_cause(asked.engine, asked.model, q.accounts[0], as_of=asked.today)


def _plan(q: Question, asked: Asked) -> object:
    account_id = q.accounts[0]
    if q.plan == "recovery":
        return insights.recovery_plan(asked.engine, asked.model, account_id, as_of=asked.today)
    build = {
        "success": plans.success_plan,
        "qbr": plans.qbr_prep,
        "renewal": plans.renewal_strategy,
        "expansion": plans.expansion_plan,
    }[q.plan or "success"]
    return build(asked.engine, asked.model, account_id, as_of=asked.today)


def _compare(q: Question, asked: Asked) -> object:
    cards = [insights.health_card(asked.engine, asked.model, a, as_of=asked.today) for a in q.accounts[:3]]
    if re.search(
        r"\b(?:worse|worst|riskier|riskiest|weaker|weakest|more\s+at\s+risk|most\s+at\s+risk)\b", q.text, re.I
    ):
        # "which is worse?": the weakest first, the others by how far ahead they are.
        ranked = sorted(cards, key=lambda c: c.score)
        lead = f"{ranked[0].name} is worse off at {fmt.score(ranked[0].score)} ({ranked[0].band}); "
        gap = "ahead"
    else:
        ranked = sorted(cards, key=lambda c: c.score, reverse=True)
        lead = f"{ranked[0].name} leads at {fmt.score(ranked[0].score)} ({ranked[0].band}); "
        gap = "behind"
    verdict = [
        lead
        + "; ".join(
            f"{c.name} {fmt.score(c.score)} ({c.band}, {abs(fmt.shown(ranked[0].score) - fmt.shown(c.score))} {gap})"
            for c in ranked[1:]
        )
    ]
    left = (
        []
        if len(q.accounts) <= 3
        else [f"Compared the first 3 of the {len(q.accounts)} accounts named (3 fit side by side)."]
    )
    return views.Comparison(as_of=cards[0].as_of, cards=cards, verdict=verdict + left)


def _trend(q: Question, asked: Asked) -> object:
    return plans.account_trend(asked.engine, q.accounts[0], months=q.months or 6, as_of=asked.today)


# --- books and lists ----------------------------------------------------------------------------------------------
def _scope_title(q: Question) -> str:
    parts = [q.csm] if q.csm else list(q.csms)
    parts += [value for _, value in q.scope]
    return " · ".join(p for p in parts if p) or "All accounts"


def _portfolio(q: Question, asked: Asked) -> object:
    where = {SCOPE_COLUMNS[kind]: value for kind, value in q.scope if kind != "segment"}
    segment = next((value for kind, value in q.scope if kind == "segment"), None)
    group_by = q.group_by or (None if q.csm else ("csm" if not q.scope else None))
    view = insights.portfolio(
        asked.engine,
        asked.model,
        csm=q.csm,
        segment=segment,
        as_of=asked.today,
        where=where or None,
        group_by=group_by,
        csms=q.csms,
    )
    if q.rank is None or not isinstance(view, views.Portfolio) or not view.groups:
        return view
    return _ranked(view, *q.rank, model=asked.model, kind=group_by or "csm")


def _ranked(p: views.Portfolio, what: str, most: bool, *, model: HealthModel, kind: str) -> views.Portfolio:
    """The book with its groups ranked by `what` and the answer to "which … has the most …" as its first line."""
    noun, value, total, shown = _rank_measure(p, what, model)
    # A group without a value (no scored account) comes last, whichever way the ranking runs.
    groups = sorted(p.groups, key=lambda g: (pd.isna(value(g)), -value(g) if most else value(g), g.group))
    best = value(groups[0])
    leaders = [g.group for g in groups if value(g) == best]
    superlative = {"average": "highest" if most else "lowest"}.get(what, "most" if most else "fewest")
    if what in ("arr", "arr_at_risk"):
        superlative = "most" if most else "least"
    if (most and best == 0) or pd.isna(best):
        lead = f"No {'CSM' if kind == 'csm' else GROUP_LABELS.get(kind, kind)} has any {noun}."
    else:
        who = " and ".join([", ".join(leaders[:-1]), leaders[-1]] if len(leaders) > 1 else leaders)
        each = " each" if len(leaders) > 1 else ""
        of = f" (the whole book: {shown(total)})" if what == "average" else f" of {shown(total)}"
        lead = f"{who} {'have' if len(leaders) > 1 else 'has'} the {superlative} {noun}: {shown(best)}{each}{of}."
    return replace(p, groups=groups, lead=lead)


def _rank_measure(
    p: views.Portfolio, what: str, model: HealthModel
) -> tuple[str, Callable[[views.GroupRow], float], float, Callable[[float], str]]:
    """What a ranking is worded as, each group's value, the whole book's, and how a value is shown. At-risk accounts
    are those of the model's at-risk bands, as in an at-risk list; ARR at risk is that of every account not in the
    top band, as the portfolio's figures count it."""

    def counted(n: float) -> str:
        return f"{n:,.0f}"

    top_band = model.top_band.name
    if what.startswith("band:"):
        asked = what.removeprefix("band:")
        band = (
            top_band
            if asked == "@top"
            else next((b.name for b in model.bands if b.name.casefold() == asked.casefold()), asked)
        )
        in_band = sum(b.count for b in p.bands if b.band == band)
        return f"{band} accounts", lambda g: g.band_counts.get(band, 0), in_band, counted
    if what == "at_risk":
        risky = model.at_risk_bands
        return (
            f"at-risk accounts ({' or '.join(reversed(risky))})",
            lambda g: sum(g.band_counts.get(band, 0) for band in risky),
            sum(b.count for b in p.bands if b.band in risky),
            counted,
        )
    if what == "arr_at_risk":
        at_risk_arr = sum(g.arr_at_risk for g in p.groups)
        return f"ARR at risk (accounts not {top_band})", lambda g: g.arr_at_risk, at_risk_arr, fmt.money
    if what == "arr":
        return "ARR", lambda g: g.arr, p.total_arr, fmt.money
    if what == "average":
        return (
            "average score",
            lambda g: float("nan") if g.average_score is None else round(g.average_score, 1),
            p.average_score or 0.0,
            lambda v: f"{fmt.score(v)}/100",
        )
    return "accounts", lambda g: g.accounts, p.total_accounts, counted


def _read_as(q: Question, model: HealthModel, day: date) -> list[str]:
    read = [f"CSM: {q.csm}"] if q.csm else [f"CSMs: {' and '.join(q.csms)}"] if q.csms else []
    read += [f"{SCOPE_LABELS[kind].capitalize()}: {value}" for kind, value in q.scope]
    bands = band_names(q, model)
    if bands:
        read.append("Status: " + " or ".join(bands))
    if q.signals:
        read.append("Signal: " + " or ".join(s.replace("_", " ") for s in q.signals))
    span = renewal_span(q, day)
    if q.renew_window == "passed":
        read.append(f"Renewal date before {fmt.day(day)}")
    elif q.renew_window == "none":
        read.append("No renewal date on file")
    elif span:
        read.append(f"Renewal: {fmt.day(span[0])} – {fmt.day(span[1])}")
    for label, days in (("touch", q.no_touch_days), ("login", q.no_login_days), ("QBR", q.no_qbr_days)):
        if days is not None:
            read.append(f"No {label} in the last {days} days")
    for kind, value in q.exclude:
        read.append(f"Not {SCOPE_LABELS.get(kind, 'CSM')} {value}")
    if q.score_min is not None or q.score_max is not None:
        low, high = q.score_min if q.score_min is not None else 0, q.score_max if q.score_max is not None else 100
        read.append(f"Score {low:g}–{high:g}")
    if q.arr_min is not None:
        read.append(f"ARR ≥ {fmt.money(q.arr_min)}")
    if q.arr_max is not None:
        read.append(f"ARR ≤ {fmt.money(q.arr_max)}")
    if q.nps_max is not None:
        read.append(f"NPS ≤ {q.nps_max:g}")
    if q.overdue:
        read.append("Payment overdue")
    if q.plan_change is not None:
        read.append(f"Plan change: {q.plan_change}")
    if q.alerts is not None:
        read.append("An alert nobody has acknowledged" if q.alerts == "unacknowledged" else "An open alert")
    if q.no_touch_days == 30 and re.search(r"\b(?:stale|neglected|untouched|forgotten|ignored|quiet)\b", q.text, re.I):
        read.append("“Stale” read as no customer touch in 30 days")
    for measure, op, threshold in q.metrics:
        if measure == "exec_sponsor_engaged":  # a yes/no flag: said in words
            read.append("No engaged executive sponsor" if op in ("<", "<=") else "Executive sponsor engaged")
            continue
        shown_value = f"{threshold:.0%}" if measure in SHARE_MEASURES else f"{threshold:g}"
        read.append(f"{metric_label(measure)} {op.replace('>=', '≥').replace('<=', '≤')} {shown_value}")
    if q.dropped is not None:
        read.append(f"Down {q.dropped:g}+ points vs last {'quarter' if over_a_quarter(q) else 'month'}")
    if q.gained is not None:
        read.append(f"Up {q.gained:g}+ points vs last {'quarter' if over_a_quarter(q) else 'month'}")
    if q.crossed_below is not None:
        read.append(f"Fell below {q.crossed_below:g} since last month")
    if q.declining:
        read.append(f"Declining (down more than {model.stable_points:g} points vs last month)")
    if q.expansion:
        read.append("Expansion-ready")
    sort = {
        "arr": "biggest ARR first",
        "drop": "biggest drop first",
        "gain": "biggest gain first",
        "score_desc": "highest score first",
        "score": "lowest score first",
        "renewal": "soonest renewal first",
    }
    if q.sort in sort:
        read.append("Sorted: " + sort[q.sort])
    if q.sort_by is not None:
        measure, highest_first = q.sort_by
        read.append(f"Sorted: {CATALOGUE[measure].label}, {'highest' if highest_first else 'lowest'} first")
    return read


def full_table(q: Question, asked: Asked) -> pd.DataFrame:
    """Every row a list question selects, as the report table (the file that follows a list longer than Slack's
    table block): the same filter as the answer, so the file and the count agree."""
    if q.mine:
        q = replace(q, csm=asked.asker_csm())
    day = insights.scored_day(asked.engine, asked.today)
    ids = list(matching(asked.engine, asked.model, q, day, csm=q.csm, shown=None).frame["account_id"])
    report = insights.report_table(asked.engine, asked.model, as_of=day, account_ids=ids)
    return report.set_index("Account ID").loc[ids].reset_index()


# The report table's columns as a list shows them, each from the matching rows (same rules as bot.insights'
# report_table: the score rounded, the trend as the change between the rounded scores, the most recent touch).
_SHOWN_COLUMNS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "Account Name": lambda f: f["name"],
    "CSM Owner": lambda f: f["csm_owner"],
    "Health Score": lambda f: f["score"].round(0).astype(int),
    "Status": lambda f: f["band"],
    "Trend vs Last Month": lambda f: f["score"].round(0) - pd.to_numeric(f["last_month_score"]).round(0),
    "Trend vs Last Quarter": lambda f: f["score"].round(0) - pd.to_numeric(f["last_quarter_score"]).round(0),
    "ARR": lambda f: f["arr"],
    "Renewal Date": lambda f: f["renewal_date"],
    "Last Touch": lambda f: f["last_touch"],
    "Segment": lambda f: f["segment"],
    "Region": lambda f: f["region"],
    "Industry": lambda f: f["industry"],
    "Plan Tier": lambda f: f["plan_tier"],
    "Upsell Opportunity": lambda f: f["opportunity"],
    "Last Login": lambda f: f["last_login"],
    "Last QBR": lambda f: f["last_qbr"],
    "NPS": lambda f: f["nps"],
    "Days Overdue": lambda f: f["days_overdue"],
}


def _list_columns(q: Question) -> list[str]:
    trend = "Trend vs Last Quarter" if over_a_quarter(q) else "Trend vs Last Month"
    columns = ["Account Name", "CSM Owner", "Health Score", "Status", trend, "ARR", "Renewal Date"]
    if q.no_touch_days is not None or not q.has_filter:
        columns.append("Last Touch")
    columns += [label for kind, _ in q.scope if (label := _report_label(kind)) and label not in columns]
    if q.expansion:
        columns.append("Upsell Opportunity")
    for wanted, label in (
        (q.no_login_days, "Last Login"),
        (q.no_qbr_days, "Last QBR"),
        (q.nps_max, "NPS"),
    ):
        if wanted is not None:
            columns.append(label)
    if q.overdue:
        columns.append("Days Overdue")
    columns += [label for measure, _, _ in q.metrics if (label := metric_label(measure)) not in columns]
    if q.sort_by is not None and metric_label(q.sort_by[0]) not in columns:
        columns.append(metric_label(q.sort_by[0]))
    return columns


def metric_label(measure: str) -> str:
    """A threshold's column as the list heads it ("Tickets in 30 days")."""
    label = CATALOGUE[measure].label
    return label[0].upper() + label[1:]


def _metric_cells(measure: str) -> Callable[[pd.DataFrame], pd.Series]:
    if measure in SHARE_MEASURES:
        return lambda f: pd.to_numeric(f[measure]).map(lambda v: "" if pd.isna(v) else f"{v:.0%}")
    if measure == "exec_sponsor_engaged":
        return lambda f: pd.to_numeric(f[measure]).map(lambda v: "" if pd.isna(v) else ("Yes" if v else "No"))
    return lambda f: f[measure]


def _list(q: Question, asked: Asked) -> object:
    day = insights.scored_day(asked.engine, asked.today)
    found = matching(asked.engine, asked.model, q, day, csm=q.csm)
    frame = found.frame
    columns = _list_columns(q)
    measures = [m for m, _, _ in q.metrics] + ([q.sort_by[0]] if q.sort_by else [])
    shown = {**_SHOWN_COLUMNS, **{metric_label(m): _metric_cells(m) for m in measures}}
    cells = {c: shown[c](frame).tolist() if len(frame) else [] for c in columns}
    rows = [[_cell(cells[c][i]) for c in columns] for i in range(len(frame))]
    noun = _noun(q, asked.model)
    subject = q.csm or " · ".join([*q.csms, *(v for _, v in q.scope)])
    total = found.total
    counted = _counted(total, noun)
    one = q.limit == 1 and total > 1 and len(frame) > 0  # "Diego's riskiest account": that one, named
    if one:
        which = {"score": "lowest-scoring", "arr": "biggest", "score_desc": "highest-scoring"}.get(q.sort or "", "top")
        counted = f"the {which} of {counted}"
    elif q.limit and total > q.limit:
        counted = f"{'lowest-scoring' if q.sort == 'score' else 'top'} {q.limit} of {counted}"
    if q.csm:
        headline = f"{q.csm} has {counted}"
    elif q.csms:
        headline = f"{' and '.join(q.csms)} have {counted} between them"
    elif subject:
        headline = f"{counted[0].upper() + counted[1:]} in {subject}"
    else:
        headline = f"{counted[0].upper() + counted[1:]} across the team"
    if one:
        headline += f": {frame['name'].iloc[0]} · {fmt.money(float(frame['arr'].head(1).sum()))} ARR"
    elif q.limit and total > q.limit:  # the ARR of those listed, not of every match
        headline += f" · {fmt.money(float(frame['arr'].head(q.limit).sum()))} ARR between them"
    elif total and found.total_arr:
        headline += f" · {fmt.money(found.total_arr)} ARR"
    listed = min(total, q.limit) if q.limit else total
    left_out: list[str] = list(q.notes)
    if q.limit and total > q.limit:
        left_out.append(f"Showing the {'lowest-scoring' if q.sort == 'score' else 'top'} {q.limit} of {total}.")
    if listed > len(frame):
        left_out.append(f"The first {len(frame)} are listed here; all {listed} are in the attached file.")
    if q.alerts is not None and not total:
        left_out.append(
            "Alerts are opened by the alert scan (`healthbot alerts`, which the scheduler runs every morning) when an "
            "account turns Red or a signal falls due; today's digest lists every signal due."
        )
    title = noun[0].upper() + noun[1:] + (f" · {subject}" if subject else "")
    return views.AccountTable(
        title=title,
        headline=headline,
        as_of=day,
        columns=columns,
        rows=rows,
        account_ids=list(frame["account_id"]),
        total=listed,
        read_as=_read_as(q, asked.model, day),
        left_out=left_out,
        question=q.text,
    )


def _counted(n: int, noun: str) -> str:
    """6 Red accounts, 1 Red account, 1 renewal."""
    if n == 1:
        noun = noun.replace("accounts", "account", 1).replace("renewals", "renewal", 1)
    return f"{n} {noun}"


def _report_label(kind: str) -> str:
    return {"segment": "Segment", "region": "Region", "industry": "Industry", "plan_tier": "Plan Tier"}.get(kind, "")


def _noun(q: Question, model: HealthModel) -> str:
    bands = band_names(q, model)
    if q.bands == ("@risk",):
        return "at-risk renewals" if q.renew_days is not None or q.renew_window else "at-risk accounts"
    if bands:
        return " or ".join(bands) + " accounts"
    if q.renew_days is not None or q.renew_window:
        return "renewals"
    if q.expansion:
        return "expansion-ready accounts"
    if q.alerts is not None:
        return (
            "accounts with an unacknowledged alert" if q.alerts == "unacknowledged" else "accounts with an open alert"
        )
    since = "last quarter" if over_a_quarter(q) else "last month"
    if q.sort == "gain" or q.gained is not None:
        return f"accounts up since {since}"
    if q.sort == "drop" or q.dropped is not None:
        return f"accounts down since {since}"
    return "accounts"


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return ""
    if isinstance(value, date):
        return fmt.day(value)
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"
    return str(value)


def _changes(q: Question, asked: Asked) -> object:
    return plans.changes(
        asked.engine,
        asked.model,
        days=q.window_days or 7,
        as_of=asked.today,
        account_id=q.accounts[0] if q.accounts else None,
        csm=q.csm,
        where={SCOPE_COLUMNS[kind]: value for kind, value in q.scope},
        title=_scope_title(q) if not q.accounts else asked.vocab.names_by_id.get(q.accounts[0], q.accounts[0]),
    )


def _digest(q: Question, asked: Asked) -> object:
    """The early-warning digest as it was (or will be) sent: a CSM's ("my digest", "Sarah's digest") or the team's."""
    day = insights.scored_day(asked.engine, asked.today)
    return insights.digest(asked.engine, asked.model, day=day, csm=q.csm)


_HANDLERS: dict[str, Callable[[Question, Asked], object]] = {
    "digest": _digest,
    "card": _card,
    "why": _why,
    "plan": _plan,
    "compare": _compare,
    "trend": _trend,
    "portfolio": _portfolio,
    "list": _list,
    "changes": _changes,
}


def since(day: date, days: int) -> date:
    return day - timedelta(days=days)
