"""Plain view models: what a message says, with no Slack, terminal or Teams in it.

Builders (bot/insights.py) fill these from the store and scoring; renderers (messages/blockkit.py,
messages/terminal.py, later Adaptive Cards) draw them. Values are already in the user's words and units:
scores 0–100, shares 0–1, money in dollars, dates as dates. A `None` means "no data", never zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

# Severity order, most urgent first; renderers sort and colour by it. Defined once, by the model that assigns them,
# and re-exported here because renderers read views, not scoring.
from scoring.model import SEVERITIES as SEVERITIES


@dataclass(frozen=True)
class AccountRef:
    """One account in a list: enough to name it, place it and link to its card."""

    account_id: str
    name: str
    csm_owner: str
    score: float | None
    band: str | None
    arr: float | None = None
    renewal_date: date | None = None
    delta: float | None = None  # score − previous_score as shown (whole points), over `window`
    previous_score: float | None = None
    note: str | None = None  # a short reason: "renewal in 45 days", "usage −31%"
    window: str | None = None  # what `delta` is measured against: "last month", "last quarter", "the start"


@dataclass(frozen=True)
class Trend:
    """Where the score is heading."""

    vs_last_month: float | None  # points
    vs_last_quarter: float | None
    last_month_score: float | None
    last_quarter_score: float | None
    direction: str  # "improving", "declining", "stable", or "new" when there is no history
    velocity: float | None = None  # points per month over the last quarter


@dataclass(frozen=True)
class Dimension:
    """One dimension of the model (Product Usage, Support, …) with the facts behind its score."""

    key: str
    name: str
    score: float | None  # None: no data for this dimension, left out of the overall score
    band: str | None
    weight: float  # share of the overall score, 0–1, after renormalising over dimensions with data
    facts: list[str] = field(default_factory=list)  # "12 of 25 seats active (48%)"
    trend: str | None = None  # "down 18 points vs last quarter"


@dataclass(frozen=True)
class Signal:
    """An early-warning signal, an expansion signal, or an advisor's interpretation."""

    key: str  # stable id, e.g. "usage_drop"
    title: str  # "Usage decline"
    severity: str  # one of SEVERITIES
    kind: str  # "risk", "expansion" or "interpretation"
    response_time: str | None = None  # "24 hours", "Immediate", "1 week"
    facts: list[str] = field(default_factory=list)
    impact: str | None = None  # "Low perceived value, renewal risk"


@dataclass(frozen=True)
class Action:
    """A recommended action, most important first."""

    priority: int
    title: str  # "Address usage decline"
    steps: list[str] = field(default_factory=list)
    due: str | None = None  # "this week", "within 24 hours"


@dataclass(frozen=True)
class HealthGoal:
    """A 30-day goal and the metric targets that would reach it."""

    target_score: int
    days: int
    targets: list[str] = field(default_factory=list)  # "Increase seat utilisation to 60%"


@dataclass(frozen=True)
class RecentAction:
    """Something a person did on the account, from the store."""

    who: str
    what: str
    when: datetime
    note: str | None = None


@dataclass(frozen=True)
class HealthCard:
    """`/health Acme Corp`: the account health card."""

    account_id: str
    name: str
    csm_owner: str
    csm_slack_id: str | None
    segment: str | None
    arr: float | None
    renewal_date: date | None
    days_to_renewal: int | None
    as_of: date
    score: float
    band: str
    confidence: float  # share of the model's weight backed by data, 0–1
    trend: Trend
    dimensions: list[Dimension]
    risks: list[Signal]  # most severe first
    positives: list[str]
    expansion: list[Signal]
    interpretations: list[Signal]
    actions: list[Action]
    playbook: str | None  # the recommended playbook's name
    goal: HealthGoal | None
    recent_actions: list[RecentAction] = field(default_factory=list)
    lifecycle_stage: str | None = None
    tags: list[str] = field(default_factory=list)
    pulse: PulseReading | None = None  # the CSM's own read, shown beside the computed score
    model_note: str | None = None  # the score was made with another model than the one in force, and what to do


@dataclass(frozen=True)
class BandSummary:
    """One band of a portfolio: how many accounts, how much ARR, which ones to look at."""

    band: str
    count: int
    share: float  # of accounts, 0–1
    arr: float
    focus: str  # "Expansion opportunities, advocacy cultivation"
    top: list[AccountRef] = field(default_factory=list)


@dataclass(frozen=True)
class RiskDriver:
    """A reason accounts are at risk, counted across a portfolio."""

    title: str
    accounts: int
    arr: float


@dataclass(frozen=True)
class Capacity:
    """Red accounts against the healthy span of control for one CSM (or per CSM for a team)."""

    red_accounts: int
    healthy_span: int
    status: str  # "Healthy", "Stretched", "Overloaded"
    note: str  # "6 red accounts exceeds the healthy span of 3"


@dataclass(frozen=True)
class Portfolio:
    """`/health portfolio`: a CSM's book, a segment, or the whole customer base."""

    title: str  # "Sarah Chen", "Enterprise segment", "All accounts"
    as_of: date
    total_accounts: int
    total_arr: float
    average_score: float | None
    bands: list[BandSummary]
    improving: list[AccountRef]
    declining: list[AccountRef]
    stable_count: int
    renewals: list[AccountRef]  # renewing in the next 90 days, riskiest first
    renewal_arr_at_risk: float  # ARR of the renewing accounts that are not in the top band
    capacity: Capacity | None
    risk_drivers: list[RiskDriver]
    expansion_ready: list[AccountRef]
    recommendations: list[str] = field(default_factory=list)
    groups: list[GroupRow] = field(default_factory=list)  # per-CSM or per-segment rows for team views
    # How many accounts each list covers (the lists above show the first few; None: the list is all of them). With
    # stable_count and new_count the mover counts add up to total_accounts.
    improving_count: int | None = None
    declining_count: int | None = None
    new_count: int = 0  # no earlier score to compare with
    stable_points: float = 3  # "stable" means a move of at most this many points
    window: str = "last quarter"  # what the mover lists' changes are measured against (else per row)
    renewal_count: int | None = None
    expansion_count: int | None = None
    model_note: str | None = None  # some scores were made with another model than the one in force
    # The answer to "which CSM has the most red accounts" (the groups then ranked by it), said first.
    lead: str | None = None

    @property
    def improving_total(self) -> int:
        return len(self.improving) if self.improving_count is None else self.improving_count

    @property
    def declining_total(self) -> int:
        return len(self.declining) if self.declining_count is None else self.declining_count

    @property
    def renewal_total(self) -> int:
        return len(self.renewals) if self.renewal_count is None else self.renewal_count

    @property
    def expansion_total(self) -> int:
        return len(self.expansion_ready) if self.expansion_count is None else self.expansion_count


@dataclass(frozen=True)
class GroupRow:
    """One row of a grouped summary (per CSM, segment, region, …)."""

    group: str
    accounts: int
    arr: float
    average_score: float | None
    band_counts: dict[str, int]
    arr_at_risk: float = 0.0  # ARR of the group's accounts not in the top band


@dataclass(frozen=True)
class TrendFinding:
    """One pattern in a trend report, e.g. usage decline across Enterprise."""

    title: str  # "Enterprise usage decline"
    concern: str  # "High", "Medium", "Opportunity", "Positive"
    pattern: str  # "18 of 45 Enterprise accounts show usage down more than 15%"
    affected_accounts: int
    total_accounts: int
    arr_affected: float
    indicators: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    accounts: list[AccountRef] = field(default_factory=list)


@dataclass(frozen=True)
class TrendReport:
    """`/health trends`: which trends should worry us most, ranked by ARR at risk, and what is going well."""

    title: str  # "Q4 2026 customer health trends"
    as_of: date
    concerns: list[TrendFinding]
    positives: list[TrendFinding]
    model_insights: list[str] = field(default_factory=list)  # from the backtest, when churn data exists
    summary_actions: list[str] = field(default_factory=list)
    playbook_results: list[str] = field(default_factory=list)  # intervention tracking


@dataclass(frozen=True)
class ExpansionCandidate:
    """An account ready for an expansion conversation, and why."""

    account: AccountRef
    reasons: list[str]
    opportunity: str  # "Seat expansion", "Tier upgrade", "Upsell conversation"


@dataclass(frozen=True)
class ExpansionList:
    """`/health expansion`: accounts ready to grow."""

    as_of: date
    candidates: list[ExpansionCandidate]
    total_arr: float


@dataclass(frozen=True)
class PlaybookStage:
    """One stage of a playbook: "Immediate triage" · "Hours 0–24" and its steps."""

    name: str
    timing: str
    steps: list[str]


@dataclass(frozen=True)
class RecoveryPlan:
    """ "Generate recovery plan for Acme Corp": diagnosis, the playbook's stages, and the goal."""

    card: HealthCard
    playbook: str
    diagnosis: list[str]  # what caused the drop, in order of weight
    stages: list[PlaybookStage]
    goal: HealthGoal | None


@dataclass(frozen=True)
class Digest:
    """The morning early-warning digest for one CSM or the team."""

    recipient: str  # "Sarah Chen" or "Team"
    day: date
    new_reds: list[AccountRef]
    biggest_drops: list[AccountRef]
    due_today: list[tuple[AccountRef, Signal]]
    renewals_at_risk: list[AccountRef]
    expansion_ready: list[AccountRef]
    by_group: list[GroupRow] = field(default_factory=list)  # team digest: per CSM
    arr_at_risk: float = 0.0
    risk_drivers: list[RiskDriver] = field(default_factory=list)
    unreachable_csms: list[str] = field(default_factory=list)
    undelivered: list[str] = field(default_factory=list)  # team digest: what the bot could not deliver yesterday
    since: date | None = None  # the scored day "new" is measured from; None on the first scored day
    model_note: str | None = None  # some scores were made with another model than the one in force
    window: str = "last month"  # what every change in the digest's lists is measured against
    renewal_count: int | None = None  # renewals at risk in all (the list shows the first few); None: the list's length

    @property
    def renewal_total(self) -> int:
        return len(self.renewals_at_risk) if self.renewal_count is None else self.renewal_count

    @property
    def new_since(self) -> str:
        """'since yesterday', 'since 27 Nov 2026', or 'on the first scored day' — what "new" means here."""
        if self.since is None:
            return "on the first scored day"
        if (self.day - self.since).days == 1:
            return "since yesterday"
        return f"since {self.since.strftime('%-d %b %Y')}"


@dataclass(frozen=True)
class Notice:
    """A short answer: help, "no such account" with the closest names, a refusal, an apology."""

    title: str
    lines: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)  # account names offered as buttons
    kind: str = "info"  # "info", "not_found", "error", "help", "refused"
    suggestion_values: list[str] = field(default_factory=list)  # what each button asks for (IDs); else the names


# --- alerts, playbook runs and the CSM pulse (issue 5) ------------------------------------------------------------

# The CSM pulse scale, 1–6: an even number of steps, so there is no non-committal middle.
PULSE_LEVELS = ("Critical", "Poor", "Concerned", "Steady", "Good", "Thriving")


@dataclass(frozen=True)
class PulseReading:
    """A CSM's own read of an account, shown beside the computed score (never in place of it)."""

    level: int  # 1 … 6, see PULSE_LEVELS
    label: str  # "Concerned"
    author: str  # Slack user ID, or a name from the command line
    set_at: datetime
    expires_on: date
    note: str | None = None


@dataclass(frozen=True)
class Alert:
    """A red-account / early-warning alert and its state, re-rendered in full after every click."""

    alert_id: int
    account: AccountRef
    title: str  # "Acme Corp turned Red"
    condition: str  # turned_red, band_drop, score_drop, signal:<key>
    severity: str  # one of SEVERITIES
    state: str  # open, acknowledged, snoozed, resolved
    opened_on: date
    reasons: list[Signal]  # the top 1–3, with their facts
    playbook: str | None = None  # the recommended playbook's name
    respond_within: str | None = None  # "24 hours"
    respond_by: datetime | None = None
    acknowledged_by: str | None = None  # Slack user IDs from here on
    acknowledged_at: datetime | None = None
    assigned_to: str | None = None
    snoozed_by: str | None = None
    snoozed_until: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    escalated: bool = False  # posted to the team channel because nobody acknowledged it in time
    pulse: PulseReading | None = None
    playbook_run: str | None = None  # "Red Account Recovery · 5 of 16 steps done"


@dataclass(frozen=True)
class ChecklistStep:
    """One step of a playbook run, ticked or not."""

    key: str  # "2.3": stage 2, step 3
    text: str
    done: bool
    done_by: str | None = None
    done_at: datetime | None = None


@dataclass(frozen=True)
class ChecklistStage:
    """One stage of a playbook run, with the day its steps are due."""

    index: int
    name: str
    timing: str  # "Hours 0–24"
    due: date
    steps: list[ChecklistStep]


@dataclass(frozen=True)
class PlaybookChecklist:
    """A playbook started on an account, as a checklist message the CSM ticks."""

    run_id: int
    playbook: str  # its name
    situation: str
    account: AccountRef  # score = now, previous_score = at the start, delta = the change since
    started_by: str
    started_at: datetime
    status: str  # active, finished, stopped
    stages: list[ChecklistStage]
    done_steps: int
    total_steps: int


@dataclass(frozen=True)
class AlertEvent:
    """One thing someone did to an alert, posted as a reply in its thread: the audit trail lives where people look."""

    kind: str  # acknowledge, unacknowledge, resolve, unresolve, snooze, unsnooze, assign, start_playbook, note, pulse
    user: str  # Slack user ID
    at: datetime
    account: str  # the account's name, for the notification text
    note: str | None = None  # "for 7 days", "to <@U…>", the playbook's name, the note itself


@dataclass(frozen=True)
class FormField:
    """One input of a modal form; its value comes back under `block_id` on submit."""

    block_id: str
    label: str
    kind: str  # "select", "radio", "text", "date"
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    initial: str | None = None  # a choice's value, a date "2026-11-24", or text
    optional: bool = False
    multiline: bool = False
    hint: str | None = None
    placeholder: str | None = None


@dataclass(frozen=True)
class Form:
    """A modal asking for a few things about an account (Log touch, Start playbook, Set pulse, Snooze)."""

    callback_id: str
    title: str  # at most 24 characters (Slack's limit)
    submit: str
    intro: str  # one line of context: which account, its score
    fields: list[FormField]
    metadata: str = ""  # carried back on submit (JSON: account, alert, where it was opened from)
    subject: str = ""  # whom the form is about (an account's name), shown first and in bold


@dataclass(frozen=True)
class AlertScope:
    """App Home: which alerts a person gets by DM — whose accounts, and which severities."""

    scope: str  # mine, segment, all
    scopes: list[tuple[str, str]]  # (value, label)
    severities: list[str]  # chosen, from SEVERITIES


# --- answers to questions (issue 13): lists, comparisons, changes, trends, plans, the model ------------------------


@dataclass(frozen=True)
class AccountTable:
    """A list answer: rows of the portfolio report table (the rows `healthbot export` gives), filtered as asked.

    `total` counts every matching row; `rows` holds the first ones shown (at most 100). The headline's count is
    `total`, so the number said and the rows listed come from one filter.
    """

    title: str  # "Red accounts · Sarah Chen"
    headline: str  # "Sarah Chen has 6 Red accounts"
    as_of: date
    columns: list[str]
    rows: list[list[str]]  # display values, one list per account, in `columns` order
    account_ids: list[str]  # the rows' accounts, same order
    total: int
    read_as: list[str] = field(default_factory=list)  # how the question was read: "CSM: Sarah Chen", "Status: Red"
    left_out: list[str] = field(default_factory=list)  # what the answer does not cover, said plainly
    question: str = ""  # asked again for the full file


@dataclass(frozen=True)
class Comparison:
    """Two or three accounts side by side."""

    as_of: date
    cards: list[HealthCard]
    verdict: list[str] = field(default_factory=list)  # "Acme Corp scores 22 points below TechFlow"


@dataclass(frozen=True)
class BandMove:
    """An account that changed band over a window."""

    account: AccountRef
    was: str
    now: str


@dataclass(frozen=True)
class Changes:
    """What changed over a window, for a book or one account."""

    title: str  # "What changed since 17 Nov · Sarah Chen"
    as_of: date
    since: date  # the scored day compared with
    accounts: int
    band_moves: list[BandMove]
    biggest_drops: list[AccountRef]  # delta = the change over the window
    biggest_gains: list[AccountRef]
    new_signals: list[tuple[AccountRef, Signal]]
    touches: list[str]  # "Acme Corp · call on 20 Nov by <@U…>"
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TrendPoint:
    """One scored day of an account's history."""

    day: date
    score: float
    band: str


@dataclass(frozen=True)
class AccountTrend:
    """One account's score over N months, with the chart sent alongside."""

    account_id: str
    name: str
    months: int
    points: list[TrendPoint]
    summary: str  # "69 on 24 Nov, down 9 from 78 on 24 May"
    dimension_moves: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlanAction:
    """One row of a success plan's action table."""

    action: str
    owner: str
    due: date
    status: str


@dataclass(frozen=True)
class Opportunity:
    """An expansion opportunity, sized."""

    kind: str  # "Seat expansion", "Unused seats", "Unadopted features", "Whitespace"
    detail: str
    potential: float | None  # ARR in dollars; None when it can't be sized from the data


@dataclass(frozen=True)
class SuccessPlan:
    """A customer success plan in the 004 seed's format, filled with the account's own figures."""

    card: HealthCard
    stakeholders: list[str]
    current_state: list[str]  # "Usage: …", "Support: …", "Engagement: …"
    goals: list[str]
    actions: list[PlanAction]
    risks: list[str]
    opportunities: list[Opportunity]


@dataclass(frozen=True)
class AgendaSection:
    """One block of a meeting agenda: "Review (20 min)" and its points."""

    title: str
    minutes: int
    points: list[str]


@dataclass(frozen=True)
class QbrPrep:
    """QBR prep: the 004 seed's 60-minute agenda, each point filled with the account's figures."""

    card: HealthCard
    agenda: list[AgendaSection]
    ask_before: list[str]  # what the CSM should find out before the meeting (the data doesn't say)


@dataclass(frozen=True)
class RenewalStrategy:
    """How to approach one account's renewal."""

    card: HealthCard
    position: str  # "At risk: Red, 45 days out"
    steps: list[PlanAction]
    risks: list[str]
    leverage: list[str]


@dataclass(frozen=True)
class ExpansionPlan:
    """One account's expansion opportunities (002: unused seats, unadopted features, whitespace), each sized."""

    card: HealthCard
    opportunities: list[Opportunity]
    ready: bool  # healthy enough to have the conversation now
    caveats: list[str]


@dataclass(frozen=True)
class ModelDimension:
    """One dimension of the health model and what feeds it."""

    name: str
    weight: float  # share, 0–1
    measures: list[str]


@dataclass(frozen=True)
class ModelBand:
    """One status band: its floor and what it means."""

    name: str
    floor: float
    ceiling: float | None
    meaning: str
    action: str


@dataclass(frozen=True)
class ModelExplainer:
    """The health model explained: dimensions, weights, bands, what the lowest band means, when scores change."""

    name: str
    dimensions: list[ModelDimension]
    bands: list[ModelBand]
    lowest_band: str
    recomputed: str
    backtest: list[str]  # how well the score has predicted churn, when former customers are on file
    alerts: str = ""  # when an alert opens, and what happens to it


@dataclass(frozen=True)
class Clarify:
    """A scope the question named that the store doesn't have: says so, and offers what it may have meant."""

    title: str  # "No CSM called “Bob”"
    lines: list[str]
    options: list[tuple[str, str]]  # (button label, the question asked again with it)
