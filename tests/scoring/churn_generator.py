"""A book whose churn we know the cause of: for testing the backtest and the learned model.

Churn here depends on measures the default model barely weighs or gets backwards:

- the number of features an account uses (more = safer; the default only weighs feature adoption 1 in 6 of usage),
- its MRR (bigger customers stay; the default scores only MRR's change),
- seat utilisation, the *other way round* from the default: accounts using more of their seats leave more often
  (the default weighs utilisation double as "higher = healthier"),
- and a share nobody can see: each account carries a hidden frailty.

Logins, last login, tickets, NPS and CSM touches are noise, unrelated to churn. Every month each customer leaves with
the probability `monthly_hazard` gives for that month's snapshot (plus its frailty); after it leaves it has no more
snapshots. `hazard` (the observable part, per snapshot) is the best ranking anyone can hope for from the metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

TODAY = date(2026, 11, 24)
FEATURES_TOTAL = 12
SEGMENTS = np.array(["SMB", "Mid-Market", "Enterprise"], dtype=object)
BASE_LOGIT = -4.0
FEATURE_EFFECT = -0.9  # per standard deviation of features used
MRR_EFFECT = -0.5  # per standard deviation of log MRR
UTILISATION_EFFECT = 0.6  # per standard deviation of seat utilisation: the flipped measure
FRAILTY_SD = 0.6  # hidden, per account


@dataclass(frozen=True)
class ChurnBook:
    """A generated book: the two frames `healthbot import` reads, and the truth behind them."""

    accounts: pd.DataFrame
    metrics: pd.DataFrame
    hazard: pd.Series  # per metrics row (same index): the observable part of the monthly churn log-odds


def monthly_dates(months: int, today: date = TODAY) -> list[pd.Timestamp]:
    """Snapshot dates a month apart, ending on `today`."""
    end = pd.Timestamp(today)
    return [end - pd.DateOffset(months=months - 1 - i) for i in range(months)]


def churn_book(
    n_accounts: int = 3000, *, months: int = 13, seed: int = 14, today: date = TODAY, signal: bool = True
) -> ChurnBook:
    """Generate the book (see the module docstring); deterministic for a given size and seed. With `signal` False,
    churn follows the hidden frailty alone: nothing observable predicts it."""
    rng = np.random.default_rng(seed)
    n = n_accounts
    dates = monthly_dates(months, today)
    segment = SEGMENTS[rng.choice(3, n, p=[0.5, 0.35, 0.15])]
    seats = np.round(np.exp(rng.normal(np.select([segment == "SMB", segment == "Mid-Market"], [2.3, 3.5], 4.6), 0.4)))
    seats = np.maximum(seats, 3)
    price = rng.uniform(20, 60, n)
    feature_level = rng.uniform(1, 11, n)
    utilisation_level = rng.beta(4, 3, n)
    frailty = rng.normal(0, FRAILTY_SD, n)
    login_rate = rng.uniform(0.5, 5, n)

    shape = (n, months)
    features = np.clip(np.round(feature_level[:, None] + rng.normal(0, 1.0, shape)), 0, FEATURES_TOTAL)
    utilisation = np.clip(utilisation_level[:, None] + rng.normal(0, 0.06, shape), 0.02, 1.0)
    active = np.maximum(np.round(utilisation * seats[:, None]), 1)
    mrr = np.round(seats[:, None] * price[:, None] * np.exp(rng.normal(0, 0.05, shape)), 2)
    log_mrr = np.log(mrr)
    hazard = BASE_LOGIT + float(signal) * (
        FEATURE_EFFECT * (features - 6) / 3
        + MRR_EFFECT * (log_mrr - 7.5) / 1.0
        + UTILISATION_EFFECT * (utilisation - 0.57) / 0.18
    )
    probability = 1 / (1 + np.exp(-(hazard + frailty[:, None])))
    leaves = rng.random(shape) < probability
    leaves[:, -1] = False  # leaving after the last snapshot is not in the data yet
    left_after = np.where(leaves.any(axis=1), leaves.argmax(axis=1), months)  # the month of the last snapshot
    churned = left_after < months
    days_later = rng.integers(1, 29, n)

    month = np.arange(months)[None, :]
    present = month <= left_after[:, None]
    account_ids = np.array([f"C{i:05d}" for i in range(n)], dtype=object)
    rows = np.nonzero(present)
    day_of = np.array(dates, dtype="datetime64[ns]")
    as_of = day_of[rows[1]]
    metrics = pd.DataFrame(
        {
            "account_id": account_ids[rows[0]],
            "as_of": as_of,
            "active_users": active[rows].astype(int),
            "seats_purchased": seats[rows[0]].astype(int),
            "logins_30d": rng.poisson(login_rate[rows[0]] * active[rows] * 30 / 7),
            "features_used": features[rows].astype(int),
            "features_total": FEATURES_TOTAL,
            "last_login": as_of - rng.integers(0, 20, len(as_of)).astype("timedelta64[D]"),
            "tickets_30d": rng.poisson(3, len(as_of)),
            "nps": rng.integers(0, 11, len(as_of)),
            "mrr": mrr[rows],
            "csm_touches_90d": rng.poisson(5, len(as_of)),
            "last_touch": as_of - rng.integers(0, 60, len(as_of)).astype("timedelta64[D]"),
        }
    )
    last_day = day_of[np.minimum(left_after, months - 1)]
    churned_on = np.where(churned, last_day + days_later.astype("timedelta64[D]"), np.datetime64("NaT"))
    renewal = np.datetime64(pd.Timestamp(today), "D") + rng.integers(1, 366, n).astype("timedelta64[D]")
    accounts = pd.DataFrame(
        {
            "account_id": account_ids,
            "name": [f"Customer {i}" for i in range(n)],
            "csm_owner": np.array(["Ana Ruiz", "Ben Okafor", "Chloe Martin"], dtype=object)[np.arange(n) % 3],
            "segment": segment,
            "arr": np.round(mrr[:, 0] * 12, 2),
            "renewal_date": renewal,
            "churned_on": pd.to_datetime(churned_on),
        }
    )
    return ChurnBook(accounts, metrics, pd.Series(hazard[rows], index=metrics.index))
