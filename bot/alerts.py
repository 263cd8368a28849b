"""Red-account and early-warning alerts: detecting them from stored scores, opening one per condition, posting each
once to the people and channels that want it, escalating the ones nobody picked up in time.

An alert opens when, between the two most recent scoring days, an account turned to the model's lowest band,
crossed a band downward, dropped more than 15 points against a week earlier, or raised a High (or Critical)
signal. The first day an account is scored is its baseline: nothing "turned" yet.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import pandas as pd
from sqlalchemy import Text, cast, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.activity import AlertGone, alert_state
from bot.insights.pieces import signal_view
from bot.ledger import NOT_DELIVERED, Delivery, holder_id
from bot.playbook_runs import Playbook, active_run_summary, checklist, recommended_playbook
from bot.pulse import current_pulse
from bot.routing import Routing, csm_routes, watchers
from bot.settings import Settings
from bot.store import Account, HealthAlert, HealthScore, PlaybookRun, read_session, write_session
from bot.store.tables import SCORES, as_utc, utcnow
from bot.surfaces import Surface
from messages import views
from messages.format import count
from scoring import alert_rules
from scoring.alert_rules import (
    ALERTING_SEVERITIES,
    CONDITION_RESPONSE,
    CONDITION_SEVERITY,
    DROP_DAYS,
    ESCALATING_SEVERITIES,
)
from scoring.findings import Finding, stored_risks, wrong_at_first_scan

logger = logging.getLogger(__name__)

MAX_REASONS = 3


@dataclass(frozen=True)
class Detected:
    """A condition found on an account in the latest scores; becomes an alert unless one is already open."""

    account_id: str
    condition: str  # turned_red, band_drop, score_drop, signal:<key>
    severity: str
    title: str  # "turned Red (52 → 38)"
    respond_within: str | None
    reasons: list[dict[str, Any]]  # [{key, title, severity, facts, response_time}], most important first
    as_of: date
    band: str | None = None  # the account's band now: its playbook is the band's, as on the card


_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1),
          "week": timedelta(weeks=1), "month": timedelta(days=30)}  # fmt: skip


def response_delay(text: str | None) -> timedelta | None:
    """ "24 hours" → 24 h, "1 week" → 7 days, "Immediate" → 1 hour; None when there is no response time."""
    words = (text or "").strip().lower()
    if words.startswith("immediate"):
        return timedelta(hours=1)
    match = re.match(r"(\d+(?:\.\d+)?)\s*(minute|hour|day|week|month)", words)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None


# --- detection ----------------------------------------------------------------------------------------------------


def _scores_on(session: Session, day: date | None, *, with_signals: bool) -> pd.DataFrame:
    # Signals stay JSON text here: most accounts' signals are the same as the day before, and only the changed
    # ones are decoded (decoding 100,000 lists would cost more than the whole scan).
    table = SCORES
    fields: list[Any] = [table.c.account_id, table.c.score, table.c.band]
    if with_signals:
        fields.append(cast(table.c.signals, Text).label("signals"))
    if day is None:
        return pd.DataFrame(columns=[f.name for f in fields]).set_index("account_id")
    query = sa_select(*fields).where(table.c.as_of == day)
    return pd.read_sql(query, session.connection()).set_index("account_id")


def _last_day(session: Session, *, on_or_before: date) -> date | None:
    return session.exec(select(func.max(HealthScore.as_of)).where(HealthScore.as_of <= on_or_before)).one()


def detect(engine: Engine, *, bands: Sequence[str], as_of: date | None = None) -> list[Detected]:
    """Every alert condition in the latest scores (on or before `as_of`), against the previous scoring day.

    Args:
        bands: the model's band names, best first (e.g. Green, Yellow, Red); the last is "red".
        as_of: look at scores up to this day; the latest scores when None.
    """
    with read_session(engine) as session:
        latest = _last_day(session, on_or_before=as_of or date.max)
        if latest is None:
            return []
        previous = _last_day(session, on_or_before=latest - timedelta(days=1))
        week_ago = _last_day(session, on_or_before=latest - timedelta(days=DROP_DAYS))
        now = _scores_on(session, latest, with_signals=True)
        before = _scores_on(session, previous, with_signals=True)
        week = _scores_on(session, week_ago, with_signals=False)

    lowest = len(bands) - 1
    frame = alert_rules.score_conditions(now, before, week, bands=bands)
    seen_before = frame["seen_before"]
    worth_a_look = alert_rules.changed(frame)
    if previous is None:  # the store's first scan: what is wrong now is news (scoring.findings)
        worth_a_look |= wrong_at_first_scan(
            band_rank=frame["band_rank"], lowest_rank=lowest, signals_json=frame["signals"]
        )

    dates = {"since": f"{previous:%-d %b}" if previous else "", "week": f"{week_ago:%-d %b}" if week_ago else ""}
    found = []
    frame = frame[worth_a_look].assign(  # Python only for the few accounts whose scores or signals changed
        signals=lambda f: [json.loads(text or "[]") for text in f["signals"]],
        signals_before=lambda f: [json.loads(text) if isinstance(text, str) else [] for text in f["signals_before"]],
    )
    for row in frame.itertuples():
        detected = _account_alert(
            row, red=bands[lowest], dates=dates, as_of=latest, seen_before=bool(seen_before[row.Index])
        ) or (_first_scan_alert(row, red=bands[lowest], as_of=latest) if previous is None else None)
        if detected is not None:
            found.append(replace(detected, band=str(row.band)))
    return found


def _account_alert(row: Any, *, red: str, dates: dict[str, str], as_of: date, seen_before: bool) -> Detected | None:
    """One alert per account and scan: the strongest condition leads, the others become its first reasons, so a
    CSM gets "Acme turned Red" with "−25 points in 7 days" inside it rather than two messages."""
    had = {s.get("key") for s in (row.signals_before or [])} if seen_before else None
    risks = _risks(row.signals)
    new_severe = [s for s in risks if had is not None and s["key"] not in had and s["severity"] in ALERTING_SEVERITIES]
    moved = f"{row.score_before:.0f} → {row.score:.0f}"
    conditions = []
    respond_within: str | None
    if row.turned_red:
        headline = (
            f"Health fell from {row.score_before:.0f} ({row.band_before}) to {row.score:.0f} since {dates['since']}"
        )
        conditions.append(("turned_red", f"turned {red} ({moved})", headline))
    if row.score_drop:
        lost = f"{row.score_week - row.score:.0f} points"
        headline = f"Lost {lost}: {row.score_week:.0f} → {row.score:.0f} since {dates['week']}"
        conditions.append(("score_drop", f"lost {lost} in {DROP_DAYS} days", headline))
    if row.band_drop:
        headline = f"Moved from {row.band_before} to {row.band} since {dates['since']}"
        conditions.append(("band_drop", f"dropped to {row.band} ({moved})", headline))
    if conditions:
        condition, title, _ = conditions[0]
        severity, respond_within = CONDITION_SEVERITY[condition], CONDITION_RESPONSE[condition]
        leads = [{"key": c, "title": h, "severity": CONDITION_SEVERITY[c], "facts": []} for c, _, h in conditions]
    elif new_severe:
        signal = new_severe[0]
        condition, title = f"signal:{signal['key']}", f"raised “{signal['title']}”"
        severity, respond_within, leads = signal["severity"], signal.get("response_time"), []
    else:
        return None
    others = sorted(risks, key=lambda s: s not in new_severe)  # stable: new severe signals first, then by severity
    return Detected(
        account_id=str(row.Index),
        condition=condition,
        severity=severity,
        title=title,
        respond_within=respond_within,
        reasons=[*leads, *others][:MAX_REASONS],
        as_of=as_of,
    )


def _first_scan_alert(row: Any, *, red: str, as_of: date) -> Detected | None:
    """At the store's first scan: an account in the lowest band, else its most severe High/Critical signal."""
    risks = _risks(row.signals)
    severe = [s for s in risks if s["severity"] in ALERTING_SEVERITIES]
    if row.band == red:
        lead = {"key": "turned_red", "title": f"{red} at the first scan ({row.score:.0f})", "severity": "High"}
        condition, title = "turned_red", f"is {red} ({row.score:.0f}), found at the first scan"
        severity, leads = "High", [{**lead, "facts": []}]
        respond_within: str | None = CONDITION_RESPONSE["turned_red"]
    elif severe:
        condition, title = f"signal:{severe[0]['key']}", f"has “{severe[0]['title']}”, found at the first scan"
        severity, respond_within, leads = severe[0]["severity"], severe[0].get("response_time"), []
    else:
        return None
    return Detected(str(row.Index), condition, severity, title, respond_within, [*leads, *risks][:MAX_REASONS], as_of)


def _risks(signals: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The risk signals of a stored score, most severe first, as alert reasons: the store's own record shape
    (scoring.Finding.to_record), so a reason reads back as the Finding it was."""
    return [{"facts": [], **found.to_record()} for found in stored_risks(signals)]


def _new_alert(d: Detected, *, now: datetime, playbooks: Mapping[str, Playbook]) -> HealthAlert:
    # The playbook follows the condition first ("turned_red" → Red Account Recovery, "signal" → Churn Risk Response).
    # The account's band chooses, as on its card (scoring.advice.choose_playbook); the condition only when no
    # playbook is recommended for the band (a model's own band names).
    playbook = recommended_playbook(playbooks, reasons=[d.band] if d.band else []) or recommended_playbook(
        playbooks, reasons=[d.condition.split(":")[0], *[r["key"] for r in d.reasons]]
    )
    delay = response_delay(d.respond_within)
    return HealthAlert(
        account_id=d.account_id,
        condition=d.condition,
        severity=d.severity,
        opened_on=d.as_of,
        reasons=d.reasons,
        title=d.title,
        playbook=playbook.key if playbook else None,
        respond_by=now + delay if delay else None,
        created_at=now,
    )


# --- opening alerts -------------------------------------------------------------------------------------------------


def open_alerts(
    engine: Engine, found: Sequence[Detected], *, now: datetime, playbooks: Mapping[str, Playbook]
) -> list[int]:
    """Open an alert for each condition that has no unresolved alert yet; returns the new alerts' ids.

    Two scans at once (two schedulers by mistake) open each alert once: the store's unique key on account,
    condition and day refuses the second.
    """
    if not found:
        return []
    accounts = sorted({d.account_id for d in found})
    with read_session(engine) as session:
        existing = session.exec(
            select(
                col(HealthAlert.account_id),
                col(HealthAlert.condition),
                col(HealthAlert.opened_on),
                col(HealthAlert.resolved_at),
            ).where(col(HealthAlert.account_id).in_(accounts))
        ).all()
    unresolved = {(a, c) for a, c, _, resolved in existing if resolved is None}
    same_day = {(a, c, d) for a, c, d, _ in existing}
    opened = []
    for d in found:
        if (d.account_id, d.condition) in unresolved or (d.account_id, d.condition, d.as_of) in same_day:
            continue
        alert = _new_alert(d, now=now, playbooks=playbooks)
        try:
            with write_session(engine) as session:
                session.add(alert)
                session.flush()
        except IntegrityError:
            continue  # another scan opened it a moment ago
        assert alert.id is not None
        opened.append(alert.id)
    return opened


# --- the view ---------------------------------------------------------------------------------------------------------


def alert_view(
    engine: Engine, alert_id: int, *, now: datetime, playbooks: Mapping[str, Playbook], tz: tzinfo = UTC
) -> views.Alert:
    """The alert as it stands in the store, for any message that shows it; times in `tz` (the team's).

    Raises:
        AlertGone: no such alert.
    """
    with read_session(engine) as session:
        alert = session.get(HealthAlert, alert_id)
        if alert is None:
            raise AlertGone(alert_id)
        return _view(session, alert, now=now, playbooks=playbooks, tz=tz)


def _view(
    session: Session, alert: HealthAlert, *, now: datetime, playbooks: Mapping[str, Playbook], tz: tzinfo
) -> views.Alert:
    account = session.get(Account, alert.account_id)
    assert account is not None  # the foreign key guarantees it
    latest = session.exec(
        select(HealthScore)
        .where(HealthScore.account_id == alert.account_id)
        .order_by(col(HealthScore.as_of).desc())
        .limit(1)
    ).first()
    playbook = playbooks.get(alert.playbook or "")

    def local(moment: datetime | None) -> datetime | None:
        aware = as_utc(moment)
        return aware.astimezone(tz) if aware else None

    pulse = current_pulse(session, alert.account_id, on=now.date())
    return views.Alert(
        alert_id=alert.id or 0,
        account=views.AccountRef(
            account_id=account.account_id,
            name=account.name,
            csm_owner=account.csm_owner,
            score=latest.score if latest else None,
            band=latest.band if latest else None,
            arr=account.arr,
            renewal_date=account.renewal_date,
        ),
        title=alert.title or alert.condition.replace("_", " "),
        condition=alert.condition,
        severity=alert.severity,
        state=alert_state(alert, now),
        opened_on=alert.opened_on,
        reasons=[signal_view(Finding.from_record(r)) for r in alert.reasons],
        playbook=playbook.name if playbook else None,
        respond_within=_respond_within(alert),
        respond_by=local(alert.respond_by),
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=local(alert.acknowledged_at),
        assigned_to=alert.assigned_to,
        snoozed_by=alert.snoozed_by,
        snoozed_until=local(alert.snoozed_until),
        resolved_by=alert.resolved_by,
        resolved_at=local(alert.resolved_at),
        escalated=alert.escalated_at is not None,
        pulse=replace(pulse, set_at=pulse.set_at.astimezone(tz)) if pulse else None,
        playbook_run=active_run_summary(session, alert.account_id, playbooks),
    )


def _respond_within(alert: HealthAlert) -> str | None:
    own = next((r.get("response_time") for r in alert.reasons if r.get("key") == alert.condition.split(":")[-1]), None)
    return own or CONDITION_RESPONSE.get(alert.condition)


def overdue(engine: Engine, *, now: datetime) -> list[int]:
    """High and Critical alerts nobody acknowledged within their response time, not snoozed, not yet escalated."""
    with read_session(engine) as session:
        candidates = session.exec(
            select(HealthAlert).where(
                col(HealthAlert.severity).in_(ESCALATING_SEVERITIES),
                col(HealthAlert.acknowledged_at).is_(None),
                col(HealthAlert.resolved_at).is_(None),
                col(HealthAlert.escalated_at).is_(None),
                col(HealthAlert.respond_by).is_not(None),
            )
        ).all()
    return [
        a.id
        for a in candidates
        if a.id is not None and as_utc(a.respond_by) <= now and alert_state(a, now) == "open"  # type: ignore[operator]
    ]


# --- posting, escalating, re-rendering ----------------------------------------------------------------------------


@dataclass
class AlertRun:
    """What one `healthbot alerts` run (or scheduled scan) did."""

    opened: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)

    @property
    def not_delivered(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.outcome in NOT_DELIVERED]

    def summary(self) -> str:
        sent = sum(d.outcome == "sent" for d in self.deliveries)
        text = (
            f"{count(len(self.opened), 'new alert')}, {count(sent, 'message')} posted, {len(self.escalated)} escalated"
        )
        missing = self.not_delivered
        if not missing:
            return text
        review = sum(d.outcome == "review" for d in missing)
        text += f", {len(missing)} not delivered (the next scan retries them"
        return text + (f"; {review} need a look in Slack first: see `sent_message`)" if review else ")")


@dataclass
class AlertDesk:
    """What posting and updating alerts needs, made once per process (CLI run, scheduler, Slack app).

    Without a surface (no SLACK_BOT_TOKEN) alerts are still detected and stored; nothing is posted.
    """

    engine: Engine
    settings: Settings
    playbooks: Mapping[str, Playbook]
    routing: Routing = field(default_factory=Routing)
    surface: Surface | None = None

    def view(self, alert_id: int, *, now: datetime) -> views.Alert:
        """The alert as it stands, times in the team's timezone."""
        return alert_view(self.engine, alert_id, now=now, playbooks=self.playbooks, tz=self.settings.timezone)

    def scan(self, *, bands: Sequence[str], now: datetime) -> AlertRun:
        """Open alerts for what changed in the latest scores, post what is not posted yet (new alerts, and copies
        and escalations an earlier run could not deliver), escalate the overdue."""
        found = detect(self.engine, bands=bands, as_of=now.astimezone(self.settings.timezone).date())
        run = AlertRun(opened=open_alerts(self.engine, found, now=now, playbooks=self.playbooks))
        if self.surface is None:
            return run
        run.deliveries = self.post(self._unposted(now), now=now)
        run.escalated = self.escalate(overdue(self.engine, now=now), now=now, deliveries=run.deliveries)
        return run

    def preview(self, *, bands: Sequence[str], now: datetime) -> list[views.Alert]:
        """The alerts a scan would open now, as they would look; nothing is stored or posted (`--dry-run`)."""
        found = detect(self.engine, bands=bands, as_of=now.astimezone(self.settings.timezone).date())
        previews = []
        with read_session(self.engine) as session:
            for d in found:
                draft = _new_alert(d, now=now, playbooks=self.playbooks)
                previews.append(_view(session, draft, now=now, playbooks=self.playbooks, tz=self.settings.timezone))
        return previews

    def destinations(self, alert_id: int) -> list[str]:
        """Where an alert goes, each place once: its CSM's DM (or their routing-file channel) unless they turned
        its severity off, people whose alert scope covers it, the segment's channel, and HEALTHBOT_ALERT_CHANNEL."""
        with read_session(self.engine) as session:
            alert = session.get(HealthAlert, alert_id)
            account = session.get(Account, alert.account_id) if alert else None
        assert alert is not None and account is not None
        people = self.surface.people if self.surface is not None else None
        route = csm_routes(self.engine, people, self.routing, csms=[account.csm_owner]).get(account.csm_owner)
        csm_id = route.slack_id if route else None
        wanting = watchers(self.engine, account=account, severity=alert.severity, csm_slack_id=csm_id)
        places = [
            route.destination if route and csm_id in wanting else None,
            *[p for p in wanting if p != csm_id],
            self.routing.segment_channel(account.segment),
            self.settings.alert_channel,
        ]
        return list(dict.fromkeys(place for place in places if place))

    def post(self, alert_ids: Sequence[int], *, now: datetime) -> list[Delivery]:
        """Post each alert once to each of its destinations; a run after a failure posts only what failed."""
        assert self.surface is not None
        deliveries = []
        for alert_id in alert_ids:
            view = self.view(alert_id, now=now)
            if view.state in ("snoozed", "resolved"):
                continue  # quiet until the snooze ends; a resolved alert has nothing to ask of anyone
            for place in self.destinations(alert_id):
                deliveries.append(
                    self.surface.post(
                        view, key=f"alert:{alert_id}:{place}", kind="alert", destination=place, alert_id=alert_id
                    )
                )
        return deliveries

    def escalate(
        self, alert_ids: Sequence[int], *, now: datetime, deliveries: list[Delivery] | None = None
    ) -> list[int]:
        """Post each overdue alert once to the team channel (HEALTHBOT_DIGEST_CHANNEL, else the alert channel).

        The alert is recorded as escalated only once the post was delivered, so an escalation that failed, or was
        cut short by a crash, is still overdue at the next scan and tried again (looked for first when its outcome
        is unknown). Every copy is then re-rendered to say so.
        """
        team = self.settings.healthbot_digest_channel or self.settings.alert_channel
        if team is None or self.surface is None:
            return []
        escalated = []
        for alert_id in alert_ids:
            view = replace(self.view(alert_id, now=now), escalated=True)
            delivery = self.surface.post(
                view, key=f"escalation:{alert_id}", kind="escalation", destination=team, alert_id=alert_id
            )
            if deliveries is not None:
                deliveries.append(delivery)
            if not delivery.delivered:
                continue
            with write_session(self.engine) as session:
                alert = session.get(HealthAlert, alert_id)
                if alert is None:
                    continue
                if alert.escalated_at is None:
                    alert.escalated_at = now
                    session.add(alert)
            escalated.append(alert_id)
            self.refresh(alert_id, now=now)
        return escalated

    def refresh(self, alert_id: int, *, now: datetime) -> int:
        """Re-render every posted copy of the alert from the state committed last; returns how many were updated.

        Clicks on one alert can come at the same moment in several processes. Each asks for a render; one process
        at a time renders, and renders again while more was asked in the meantime, so the last update every copy
        receives shows the last state stored. A process that finds another rendering leaves its request to it.
        """
        if self.surface is None:
            return 0
        return rerender(self.engine, alert_id, lease_seconds=self.settings.healthbot_claim_seconds, render=lambda: (
            self._update_copies(alert_id, now=now)
        ))  # fmt: skip

    def _update_copies(self, alert_id: int, *, now: datetime) -> int:
        assert self.surface is not None
        view = self.view(alert_id, now=now)
        updated = 0
        for sent in self.surface.copies(alert_id):
            assert sent.ts is not None
            updated += self.surface.update(sent.channel, sent.ts, view)
        return updated

    def reply(self, alert_id: int, event: views.AlertEvent, *, key: str) -> list[Delivery]:
        """Post what someone did as a reply in the thread of every copy of the alert, once per `key` and copy."""
        if self.surface is None:
            return []
        return [
            self.surface.post(
                event,
                key=f"reply:{key}:{sent.channel}",
                kind="reply",
                destination=sent.channel,
                alert_id=alert_id,
                thread=sent.ts,
            )
            for sent in self.surface.copies(alert_id)
        ]

    def post_checklist(self, run_id: int, *, channel: str, thread_ts: str | None, now: datetime) -> Delivery:
        """Post a playbook run's checklist once (in the alert's thread, or as a DM) and remember where it is."""
        assert self.surface is not None
        view = checklist(self.engine, run_id, playbooks=self.playbooks, as_of=now.date())
        delivery = self.surface.post(
            view, key=f"checklist:{run_id}", kind="checklist", destination=channel, thread=thread_ts
        )
        if delivery.outcome == "sent":
            with write_session(self.engine) as session:
                run = session.get(PlaybookRun, run_id)
                if run is not None:
                    run.channel, run.ts = delivery.channel, delivery.ts
                    session.add(run)
        return delivery

    def refresh_checklist(self, run_id: int, *, now: datetime, clicked: tuple[str, str] | None = None) -> None:
        """Re-render a run's checklist where it was posted and where it was clicked."""
        if self.surface is None:
            return
        with read_session(self.engine) as session:
            run = session.get(PlaybookRun, run_id)
        places = {clicked} if clicked else set()
        if run is not None and run.channel and run.ts:
            places.add((run.channel, run.ts))
        view = checklist(self.engine, run_id, playbooks=self.playbooks, as_of=now.date())
        for channel, ts in places:
            self.surface.update(channel, ts, view)

    def _unposted(self, now: datetime) -> list[int]:
        # Alerts still open from the last week: the ledger skips every copy already delivered, so only new alerts
        # and copies not delivered during an outage go out.
        since = now.date() - timedelta(days=7)
        with read_session(self.engine) as session:
            ids = session.exec(
                select(HealthAlert.id)
                .where(col(HealthAlert.resolved_at).is_(None), HealthAlert.opened_on >= since)
                .order_by(col(HealthAlert.id))
            ).all()
        return [alert_id for alert_id in ids if alert_id is not None]


# --- one render at a time per alert ---------------------------------------------------------------------------------


def rerender(engine: Engine, alert_id: int, *, lease_seconds: float, render: Callable[[], int]) -> int:
    """Ask for the alert's copies to be re-rendered, and render them unless another process is doing so.

    The holder renders from the state it reads after taking the render, then lets go only if nobody asked again in
    the meantime; otherwise it renders once more. A holder that died is replaced once its lease is over.
    """
    me = f"{holder_id()}:{uuid.uuid4().hex[:8]}"  # this call: threads of one process render one at a time too
    with write_session(engine) as session:
        asked = session.execute(  # in SQL, not read-then-write: two processes asking at once both count
            update(HealthAlert)
            .where(col(HealthAlert.id) == alert_id)
            .values(render_wanted=col(HealthAlert.render_wanted) + 1)
        )
        if not asked.rowcount:  # type: ignore[attr-defined]
            raise AlertGone(alert_id)
    updated = 0
    while True:
        wanted = _take_render(engine, alert_id, me=me, lease=timedelta(seconds=lease_seconds))
        if wanted is None:
            return updated  # someone else is rendering and will see that we asked
        try:
            updated = render()
        except BaseException:
            _let_go(engine, alert_id, me=me, wanted=None)
            raise
        if _let_go(engine, alert_id, me=me, wanted=wanted):
            return updated


def _take_render(engine: Engine, alert_id: int, *, me: str, lease: timedelta) -> int | None:
    now = utcnow()
    with write_session(engine) as session:
        alert = session.exec(select(HealthAlert).where(HealthAlert.id == alert_id).with_for_update()).first()
        if alert is None:
            return None
        claimed = as_utc(alert.render_claimed_at)
        if alert.render_holder not in (None, me) and claimed is not None and claimed + lease > now:
            return None
        alert.render_holder, alert.render_claimed_at = me, now
        session.add(alert)
        return alert.render_wanted


def _let_go(engine: Engine, alert_id: int, *, me: str, wanted: int | None) -> bool:
    """Release the render unless more was asked since `wanted` (None: release whatever was asked)."""
    with write_session(engine) as session:
        alert = session.exec(select(HealthAlert).where(HealthAlert.id == alert_id).with_for_update()).first()
        if alert is None or alert.render_holder != me:
            return True
        if wanted is not None and alert.render_wanted != wanted:
            return False
        alert.render_holder, alert.render_claimed_at = None, None
        session.add(alert)
        return True
