"""SQLModel tables. One row per thing a CS team talks about: accounts, their monthly metrics, daily scores,
alerts, what people did about them, and what the bot has posted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware (SQLModel refuses naive datetimes)."""
    return datetime.now(UTC)


class Account(SQLModel, table=True):
    """A customer account, as imported from the accounts file."""

    account_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(index=True)
    csm_owner: str = Field(index=True)  # the CSM's display name, e.g. "Sarah Chen"
    csm_slack_id: str | None = None  # U…; DMs and App Home use it
    csm_email: str | None = None  # fallback for users.lookupByEmail
    segment: str | None = Field(default=None, index=True)
    region: str | None = None
    industry: str | None = None
    plan_tier: str | None = None
    arr: float | None = None
    renewal_date: date | None = None
    lifecycle_stage: str | None = None
    tags: str | None = None  # semicolon-separated, e.g. "champion_left;case_study"
    churned_on: date | None = None  # the day the customer left; empty while still a customer


class MetricSnapshot(SQLModel, table=True):
    """One account's metrics on one date; a missing metric is NULL ("no data"), never zero."""

    __tablename__ = "metric_snapshot"

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


class HealthScore(SQLModel, table=True):
    """The score an account had on a day; rescoring the same day replaces the row, so history is one row a day."""

    __tablename__ = "health_score"

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
    status: str = "pending"  # pending, sent
    ts: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class ProcessedEvent(SQLModel, table=True):
    """A Slack event envelope already handled; Slack's retries of it are answered once."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(default_factory=utcnow)
