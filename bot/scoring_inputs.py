"""What CSMs record in chat, as scoring inputs: customer touches logged from an alert or a card count as touches,
and the CSM's pulse is a measure. Kept apart from the modules that record them, so that scoring a day loads
neither the permission checks nor the message views."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.store import Pulse, Touchpoint, read_session

DAY = "datetime64[ns]"  # one resolution for every date merged by time (merge_asof refuses mixed ones)
CUSTOMER_TOUCHES = ("call", "meeting", "email", "qbr")  # kinds of touchpoint that count; "note" is internal


def with_logged_touches(engine: Engine, metrics: pd.DataFrame, *, as_of: date | None) -> pd.DataFrame:
    """The metrics with the customer touches logged in Slack added, for scoring.

    Each snapshot's `last_touch` becomes the later of the imported one and the last logged touch on or before it,
    and `csm_touches_90d` adds the logged touches in the 90 days before it. An account's latest snapshot counts
    touches up to `as_of`, the day being scored: a call logged this morning counts in this morning's score, even
    when the metrics were last imported weeks ago.
    """
    query = select(col(Touchpoint.account_id), col(Touchpoint.happened_on)).where(
        col(Touchpoint.kind).in_(CUSTOMER_TOUCHES)
    )
    if as_of is not None:
        query = query.where(Touchpoint.happened_on <= as_of)
    with read_session(engine) as session:
        touches = pd.DataFrame(session.exec(query).all(), columns=["account_id", "day"])
    if touches.empty or metrics.empty:
        return metrics
    touches["day"] = pd.to_datetime(touches["day"]).astype(DAY)
    touches = touches.sort_values(["day", "account_id"]).reset_index(drop=True)
    touches["seen"] = touches.groupby("account_id").cumcount() + 1  # touches so far, per account
    touches["touched"] = touches["day"]
    rows = pd.DataFrame({"account_id": metrics["account_id"].astype(str), "day": effective_days(metrics, as_of)})

    def touches_by(days: pd.Series) -> pd.DataFrame:
        probe = rows.assign(day=days).reset_index().sort_values("day")
        found = pd.merge_asof(probe, touches, on="day", by="account_id", direction="backward", suffixes=("", "_t"))
        return found.set_index("index").sort_index()

    upto_now = touches_by(rows["day"])
    upto_then = touches_by(rows["day"] - pd.Timedelta(days=90))
    logged = (upto_now["seen"].fillna(0) - upto_then["seen"].fillna(0)).astype(int).to_numpy()
    last = pd.Series(upto_now["touched"].to_numpy(), index=metrics.index)
    imported = pd.to_datetime(metrics["last_touch"])
    latest = pd.concat([imported, last], axis=1).max(axis=1)
    out = metrics.copy()
    out["last_touch"] = latest  # datetime64: the scorer reads any date form
    had = pd.to_numeric(metrics["csm_touches_90d"])
    out["csm_touches_90d"] = np.where(logged > 0, had.fillna(0) + logged, had)
    return out


def with_pulse(engine: Engine, metrics: pd.DataFrame, *, as_of: date | None) -> pd.DataFrame:
    """The metrics with `csm_pulse` (1–6) added: the newest CSM pulse in force at each snapshot (an account's
    latest snapshot: at `as_of`, the day being scored). No reading in force is no data, never a middle value."""
    with read_session(engine) as session:
        rows = session.exec(
            select(col(Pulse.account_id), col(Pulse.set_at), col(Pulse.expires_on), col(Pulse.level))
        ).all()
    pulses = pd.DataFrame(rows, columns=["account_id", "day", "expires_on", "csm_pulse"])
    if pulses.empty or metrics.empty:
        return metrics
    pulses["day"] = pd.to_datetime(pulses["day"], utc=True).dt.tz_localize(None).dt.normalize().astype(DAY)
    pulses["expires_on"] = pd.to_datetime(pulses["expires_on"]).astype(DAY)
    pulses = pulses.sort_values("day", kind="stable")
    probe = pd.DataFrame({"account_id": metrics["account_id"].astype(str), "day": effective_days(metrics, as_of)})
    probe = probe.reset_index().sort_values("day")
    found = pd.merge_asof(probe, pulses, on="day", by="account_id", direction="backward")
    found = found.set_index("index").sort_index()
    in_force = found["expires_on"] >= found["day"]
    return metrics.assign(csm_pulse=found["csm_pulse"].where(in_force).to_numpy(dtype="float64"))


def effective_days(metrics: pd.DataFrame, as_of: date | None) -> pd.Series:
    """Each snapshot's date, except an account's latest snapshot, which stands for `as_of` (the day scored)."""
    days = pd.to_datetime(metrics["as_of"]).astype(DAY)
    if as_of is None:
        return days
    latest = days.groupby(metrics["account_id"]).transform("max") == days
    return days.where(~latest, pd.Timestamp(as_of)).astype(DAY)
