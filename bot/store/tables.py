"""SQLModel tables. One row per thing a CS team talks about: accounts, their monthly metrics, daily scores,
alerts, what people did about them, and what the bot has posted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, Table, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware (SQLModel refuses naive datetimes)."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime; SQLite hands back naive values, which the store always wrote in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _moment() -> Any:
    # A point in time, stored with its zone where the database can (PostgreSQL), read back through as_utc().
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class Account(SQLModel, table=True):
    """A customer account, as imported from the accounts file."""

    account_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(index=True)
    csm_owner: str = Field(index=True)  # the CSM's display name, e.g. "Sarah Chen"
    csm_slack_id: str | None = None  # U…; DMs and App Home use it
    csm_email: str | None = None  # fallback for users.lookupByEmail
    # The columns a question narrows a list by are indexed ("red accounts in EMEA", "renewals in the next 30
    # days"), so such a list reads its own accounts, not all 100,000; stores made before get them at startup.
    segment: str | None = Field(default=None, index=True)
    region: str | None = Field(default=None, index=True)
    industry: str | None = Field(default=None, index=True)
    plan_tier: str | None = Field(default=None, index=True)
    arr: float | None = None
    renewal_date: date | None = Field(default=None, index=True)
    lifecycle_stage: str | None = Field(default=None, index=True)
    tags: str | None = None  # semicolon-separated, e.g. "champion_left;case_study"
    churned_on: date | None = None  # the day the customer left; empty while still a customer


class MetricSnapshot(SQLModel, table=True):
    """One account's metrics on one date; a missing metric is NULL ("no data"), never zero."""

    __tablename__ = "metric_snapshot"
    # The primary key leads with the account; the snapshot days of the book ("which days were imported", the days
    # a daily run's look-backs read) are found through this index a probe a day, not by a pass over every row. With
    # the account after the day, a daily run reading one day of half the accounts (each process its own half) reads
    # those rows alone, not the whole day's.
    __table_args__ = (Index("ix_metric_snapshot_day_account", "as_of", "account_id"),)

    account_id: str = Field(primary_key=True, foreign_key="account.account_id", max_length=64)
    as_of: date = Field(primary_key=True)
    active_users: int | None = None
    seats_purchased: int | None = None
    logins_30d: int | None = None
    features_used: int | None = None
    features_total: int | None = None
    last_login: date | None = None
    tickets_30d: int | None = None
    high_priority_open: int | None = None
    escalations_90d: int | None = None
    csat: float | None = None
    nps: float | None = None
    mrr: float | None = None
    days_overdue: int | None = None
    plan_change: str | None = None
    csm_touches_90d: int | None = None
    last_touch: date | None = None
    exec_sponsor_engaged: bool | None = None
    last_qbr: date | None = None
    training_completion: float | None = None


class MetricDayCopy(SQLModel, table=True):
    """One column of one snapshot day's metric rows, as one array (`bot.store.day_copies`): SQLite reads a day of
    100,000 rows a value at a time, a second's work that a daily run and `score --history` would otherwise pay on
    every start. The importer keeps these copies; a day's copy is read only while the day holds as many rows as it
    does, and a trigger drops it when any of the day's rows is changed or deleted. SQLite only."""

    __tablename__ = "metric_day_copy"

    as_of: date = Field(primary_key=True)
    column: str = Field(primary_key=True, max_length=64)  # a metric_snapshot column, account_id first
    rows: int
    dtype: str = Field(max_length=16)  # numpy's name for the values' type: <f4, <f8, |S11, |b1
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ScoreDayCopy(SQLModel, table=True):
    """One day's stored scores by one model again, as two arrays (`bot.store.day_copies`): a daily run reads the
    scores of the days before it from here rather than a row at a time. Written by the scoring run that stored the
    day (which replaced the day's every score); read only while the day holds as many scores as it does, and dropped
    by a trigger when one is changed or deleted past the scoring run. SQLite only."""

    __tablename__ = "score_day_copy"

    as_of: date = Field(primary_key=True)
    model_hash: str = Field(primary_key=True, max_length=64)
    rows: int
    ids_dtype: str = Field(max_length=16)  # the account IDs as UTF-8 of one width (|S11), sorted as SQLite sorts
    ids: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    scores: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # float64, in the IDs' order


class HealthScore(SQLModel, table=True):
    """The score an account had on a day; rescoring the same day replaces the row, so history is one row a day."""

    __tablename__ = "health_score"
    # "Which day was scored last" and "every score of that day" are asked per digest and per alert scan; without
    # this index each is a full scan of the history (a second per question at 100,000 accounts). It holds each
    # row's score and model too, so that a daily run reads the earlier days' scores from the index alone: the
    # rows, with their JSON, are twenty times as wide (joined row by row, 2.5 s at 100,000 accounts, 1.4 s so).
    __table_args__ = (Index("ix_health_score_day_scores", "as_of", "account_id", "model_hash", "score"),)

    account_id: str = Field(primary_key=True, foreign_key="account.account_id", max_length=64)
    as_of: date = Field(primary_key=True)
    score: float
    band: str
    confidence: float  # share of the model's weight backed by data, 0–1
    dimensions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    signals: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    computed_at: datetime = Field(default_factory=utcnow)
    # The trend as scored from the metrics history (snapshot a month / a quarter earlier); None without history.
    last_month_score: float | None = None
    last_quarter_score: float | None = None
    # The model the score was made with: its name and content hash (HealthModel.fingerprint). None: stored before
    # scores remembered their model.
    model_name: str | None = Field(default=None, max_length=300)
    model_hash: str | None = Field(default=None, max_length=64)


class HealthAlert(SQLModel, table=True):
    """An early-warning condition raised on an account; one open alert per account and condition."""

    __tablename__ = "health_alert"
    __table_args__ = (UniqueConstraint("account_id", "condition", "opened_on", name="uq_alert_condition_day"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="account.account_id", index=True, max_length=64)
    condition: str  # e.g. "turned_red", "usage_drop"
    severity: str  # High / Medium / Low
    status: str = "open"  # open, acknowledged, snoozed, resolved
    opened_on: date
    reasons: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    assigned_to: str | None = None
    snoozed_until: datetime | None = None
    channel: str | None = None
    ts: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    title: str | None = None  # "Acme Corp turned Red (52 → 38)"
    playbook: str | None = None  # the recommended playbook's key in the playbooks file
    respond_by: datetime | None = _moment()  # the signal's response time, counted from when the alert opened
    acknowledged_by: str | None = None  # Slack user ID
    acknowledged_at: datetime | None = _moment()
    snoozed_by: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = _moment()
    escalated_at: datetime | None = _moment()  # set once Slack took the escalation post, never before
    # Re-rendering every copy: each state change asks for a render (render_wanted + 1); one process at a time holds
    # the render (render_holder, renewed at render_claimed_at) and renders again until nothing new was asked.
    render_wanted: int = 0
    render_holder: str | None = None
    render_claimed_at: datetime | None = _moment()


class AlertAction(SQLModel, table=True):
    """Something a person did about an alert or account: who, what, when, and their note."""

    __tablename__ = "alert_action"
    __table_args__ = (Index("ix_alert_action_account", "account_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int | None = Field(default=None, foreign_key="health_alert.id")
    account_id: str = Field(foreign_key="account.account_id", max_length=64)
    user_id: str
    kind: str  # acknowledge, snooze, assign, start_playbook, note, touch, …
    note: str | None = None
    dedupe_key: str | None = Field(default=None, unique=True)  # a double click or Slack retry records once
    created_at: datetime = Field(default_factory=utcnow)


class SentMessage(SQLModel, table=True):
    """A message the bot has posted or is about to post, keyed so the same digest is never posted twice."""

    __tablename__ = "sent_message"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)  # e.g. "digest:2026-11-24:U024BE7LH"
    kind: str
    channel: str
    # pending (a live process is posting it), sent, failed (the surface refused or could not be reached: nothing was
    # posted, the next run retries), unknown (no answer: it may have been posted; the next run looks before posting),
    # review (it may have been posted and nobody can tell: an operator decides). See bot/ledger.py.
    status: str = "pending"
    ts: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    claimed_at: datetime | None = _moment()  # when a process took it to post; another process leaves it alone
    attempts: int = 0
    error: str | None = None  # why the last attempt failed, for the operator
    alert_id: int | None = Field(default=None, foreign_key="health_alert.id", index=True)  # re-rendered on clicks
    thread_ts: str | None = None  # set for replies in an alert's thread
    surface: str = "slack"  # where `channel` is: slack, teams
    holder: str | None = None  # the process that claimed it ("host:pid:random"), renewing heartbeat_at while alive
    heartbeat_at: datetime | None = _moment()


class ProcessedEvent(SQLModel, table=True):
    """A Slack event envelope already handled; Slack's retries of it are answered once."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(default_factory=utcnow)


class PlaybookRun(SQLModel, table=True):
    """A playbook started on an account: its checklist message, and where the score stood when it began."""

    __tablename__ = "playbook_run"
    __table_args__ = (
        # One active run of a playbook per account; finished and stopped runs are kept for intervention tracking.
        Index(
            "uq_playbook_run_active",
            "account_id",
            "playbook",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="account.account_id", index=True, max_length=64)
    playbook: str  # key in the playbooks file, e.g. "red_account_recovery"
    alert_id: int | None = Field(default=None, foreign_key="health_alert.id")
    started_by: str  # Slack user ID, or a name from the command line
    started_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    start_score: float | None = None
    start_band: str | None = None
    status: str = "active"  # active, finished, stopped
    finished_at: datetime | None = _moment()
    channel: str | None = None  # the checklist message
    ts: str | None = None


class PlaybookStepTick(SQLModel, table=True):
    """A checklist step someone ticked; unticking removes the row (the action log keeps the history)."""

    __tablename__ = "playbook_step_tick"

    run_id: int = Field(primary_key=True, foreign_key="playbook_run.id")
    step: str = Field(primary_key=True, max_length=16)  # "2.3": stage 2, step 3
    ticked_by: str
    ticked_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class Pulse(SQLModel, table=True):
    """A CSM's own read of an account on the six-step scale, beside (never instead of) the computed score."""

    __tablename__ = "pulse"
    __table_args__ = (Index("ix_pulse_account", "account_id", "set_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="account.account_id", max_length=64)
    level: int  # 1 (critical) … 6 (thriving)
    note: str | None = None
    author_id: str  # Slack user ID, or a name from the command line
    set_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_on: date  # after this day the reading no longer counts


class Touchpoint(SQLModel, table=True):
    """A call, meeting or note logged from Slack; feeds `last_touch` and `csm_touches_90d` at the next scoring."""

    __tablename__ = "touchpoint"
    __table_args__ = (Index("ix_touchpoint_account", "account_id", "happened_on"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="account.account_id", max_length=64)
    user_id: str
    kind: str  # call, meeting, email, qbr, note
    note: str | None = None
    happened_on: date
    dedupe_key: str | None = Field(default=None, unique=True)  # one modal submission, one touchpoint
    created_at: datetime = Field(default_factory=utcnow)


class SlackUserCache(SQLModel, table=True):
    """Who an email address is in Slack (users.lookupByEmail), so digests don't look everyone up every morning."""

    __tablename__ = "slack_user_cache"

    email: str = Field(primary_key=True, max_length=254)  # lower-cased
    user_id: str | None = None  # None: Slack has no user with this email (asked again after a day)
    checked_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class AlertPreference(SQLModel, table=True):
    """Which alerts a person wants by DM, chosen in App Home: whose accounts, and which severities."""

    __tablename__ = "alert_preference"

    user_id: str = Field(primary_key=True, max_length=32)
    scope: str = "mine"  # mine (accounts I own), segment (my accounts' segments), all
    severities: str = "Critical,High,Medium,Low"  # comma-separated
    updated_at: datetime = Field(default_factory=utcnow)


class TeamsConversation(SQLModel, table=True):
    """A Teams conversation the bot may write to on its own (a conversation reference): a CSM's personal chat, kept
    when they install the app or first message it, or a channel it was added to or mentioned in."""

    __tablename__ = "teams_conversation"

    conversation_id: str = Field(primary_key=True, max_length=512)  # "a:1…" personal, "19:…@thread.tacv2" channel
    service_url: str  # where Teams wants this conversation's messages sent (per region)
    kind: str = "personal"  # personal, channel, groupChat
    tenant_id: str | None = None
    user_id: str | None = Field(default=None, index=True)  # personal: the Teams user ID ("29:…")
    aad_object_id: str | None = Field(default=None, index=True)  # personal: the person's Entra object ID
    user_name: str | None = None
    email: str | None = Field(default=None, index=True)  # lower-cased; matched against accounts' csm_email
    csm_owner: str | None = Field(default=None, index=True)  # the CSM this person is, when their email matches
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class AnswerFeedback(SQLModel, table=True):
    """A thumbs up or down on one of the bot's answers: who, which answer, to what question (issue 13)."""

    __tablename__ = "answer_feedback"
    __table_args__ = (UniqueConstraint("user_id", "channel", "message_ts", name="uq_feedback_answer_user"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=32)
    channel: str = Field(max_length=32)
    message_ts: str = Field(max_length=32)  # the answer's message
    helpful: bool
    question: str  # what was asked, as typed
    answer_kind: str  # the view that answered: AccountTable, HealthCard, Notice, …
    created_at: datetime = Field(default_factory=utcnow)


# The tables as SQLAlchemy Core sees them, for the queries that read or write in bulk (SQL expressions, pandas,
# executemany); declared here once so that every query names a table the same way.
ACCOUNTS: Table = Account.__table__  # type: ignore[attr-defined]
METRICS: Table = MetricSnapshot.__table__  # type: ignore[attr-defined]
SCORES: Table = HealthScore.__table__  # type: ignore[attr-defined]
DAY_COPIES: Table = MetricDayCopy.__table__  # type: ignore[attr-defined]
SCORE_COPIES: Table = ScoreDayCopy.__table__  # type: ignore[attr-defined]
ALERTS: Table = HealthAlert.__table__  # type: ignore[attr-defined]
ACTIONS: Table = AlertAction.__table__  # type: ignore[attr-defined]
TOUCHES: Table = Touchpoint.__table__  # type: ignore[attr-defined]
FEEDBACK: Table = AnswerFeedback.__table__  # type: ignore[attr-defined]
