"""The built-in sample book that `healthbot demo` shows, and a generator of realistic books of any size.

Both draw every metric from one latent health path per account (0–1, one value per monthly snapshot), so an
account's usage, tickets, NPS and engagement move together the way a real customer's do. The generator draws the
paths at random; the sample writes them by hand to tell seed 001's stories (Acme Corp sliding from ~78 to ~68,
MegaCorp red and renewing in 45 days, StartupXYZ recovering, …) and then pins the figures the seed quotes.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from bot.importer import ImportReport, import_frames
from bot.store import columns as schema

MONTHS = 13
FEATURES_TOTAL = 12  # "4 of 12 key features"
SAMPLE_SEED = 2026

SEGMENTS = ("Enterprise", "Mid-Market", "SMB")
REGIONS = ("North America", "EMEA", "APAC", "LATAM")
INDUSTRIES = (
    "Software",
    "Financial Services",
    "Healthcare",
    "Retail",
    "Manufacturing",
    "Education",
    "Media",
    "Logistics",
)
PLAN_TIERS = {
    "Enterprise": ("Enterprise", "Business"),
    "Mid-Market": ("Business", "Professional"),
    "SMB": ("Starter", "Professional"),
}
ARR_RANGE = {"Enterprise": (90_000, 250_000), "Mid-Market": (25_000, 90_000), "SMB": (5_000, 25_000)}
TOUCHES_90D = {"Enterprise": 10.0, "Mid-Market": 6.0, "SMB": 3.0}  # a healthy account's CSM cadence
TOUCH_GAP_DAYS = {"Enterprise": 7.0, "Mid-Market": 12.0, "SMB": 20.0}
QBR_EVERY_DAYS = 91


def snapshot_dates(today: date, months: int = MONTHS) -> list[date]:
    """Monthly snapshot dates ending on `today`, each on today's day of the month (clamped to the month's end)."""
    dates = []
    for back in range(months - 1, -1, -1):
        year, month = divmod(today.year * 12 + today.month - 1 - back, 12)
        day = min(today.day, calendar.monthrange(year, month + 1)[1])
        dates.append(date(year, month + 1, day))
    return dates


@dataclass
class _Book:
    """Accounts plus what their metrics are drawn from."""

    accounts: pd.DataFrame  # the CONTRACT account columns
    health: np.ndarray  # (accounts, MONTHS) latent health, 0–1
    first: np.ndarray  # first snapshot with data (onboarding accounts start late)
    last: np.ndarray  # last snapshot with data (former customers stop when they leave)
    seats: np.ndarray  # seats bought before any plan change
    plan_month: np.ndarray  # snapshot of an upgrade or downgrade, -1 for none
    plan_factor: np.ndarray  # seats and MRR multiply by this from plan_month on
    noise: np.ndarray  # how much each account's metrics wander around its path (1 = like real data, 0 = none)


def _normal_count(rng: np.random.Generator, mean: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Counts around `mean` with Poisson-like spread scaled by `noise` (0 = exactly the rounded mean)."""
    spread = noise * np.sqrt(np.maximum(mean, 0)) * rng.standard_normal(mean.shape)
    return np.maximum(0, np.round(mean + spread))


def _draw_metrics(book: _Book, dates: list[date], rng: np.random.Generator) -> pd.DataFrame:
    """Every metric of the CONTRACT schema for every account and snapshot, drawn from the health paths.

    Financial health lags (most accounts pay on time whatever their usage), so the other dimensions carry the
    story: each metric sits on the default model's scale at `grade` (seat utilisation 20% + 60% × grade, NPS
    10 × grade, 2 + 10 × (1 − grade) tickets, …), which puts an account's overall score near 100 × its health.
    """
    h = book.health
    n, months = h.shape
    grade = np.clip((h - 0.41) / 0.6, 0, 1)
    lack = 1 - grade
    noise = book.noise[:, None]
    segment = book.accounts["segment"].to_numpy()

    def jitter(scale: float) -> np.ndarray:
        return scale * noise * rng.standard_normal((n, months))

    def per_account(scale: float) -> np.ndarray:
        return scale * noise * rng.standard_normal((n, 1))

    month = np.arange(months)
    changed = (book.plan_month[:, None] >= 0) & (month[None, :] >= book.plan_month[:, None])
    factor = np.where(changed, book.plan_factor[:, None], 1.0)
    seats = np.maximum(1, np.round(book.seats[:, None] * factor))
    utilisation = np.clip(0.2 + 0.65 * grade + jitter(0.02), 0.02, 1.0)
    active = np.minimum(seats, np.round(seats * utilisation))
    per_user_week = np.maximum(0.1, 4.6 * grade * np.exp(jitter(0.1) + per_account(0.08)))
    logins = np.round(active * per_user_week * 30 / 7)
    features = np.clip(np.round(FEATURES_TOTAL * (0.06 + 0.6 * grade) + per_account(0.5) + jitter(0.2)), 1, 12)
    since_login = np.floor(rng.exponential(0.5 + 10 * lack**3) * np.maximum(noise, 0.3))

    size = np.clip(0.4 + 0.25 * np.log10(np.maximum(seats, 1)), 0.5, 1.3)  # bigger accounts file more tickets
    tickets = _normal_count(rng, size * (1.5 + 10 * lack**1.5), noise)
    high_priority = _normal_count(rng, 3 * lack**2, noise)
    escalations = _normal_count(rng, 4 * lack**2, noise)
    csat = np.clip(np.round(2 + 2.6 * grade + jitter(0.15), 1), 1, 5)
    nps = np.clip(np.round(0.3 + 9.7 * grade + jitter(0.6)), 0, 10)

    base_mrr = book.accounts["arr"].to_numpy(dtype=float) / 12 / np.where(book.plan_month >= 0, book.plan_factor, 1)
    mrr = np.round(base_mrr[:, None] * factor, 2)
    late = rng.random((n, months)) < (0.01 + 0.3 * lack**3) * np.minimum(noise, 1)
    overdue = np.where(late, rng.choice([7, 14, 21, 30], size=(n, months)), 0)
    plan_change = np.full((n, months), None, dtype=object)
    event = month[None, :] == book.plan_month[:, None]
    plan_change[event] = np.where(book.plan_factor[:, None] > 1, "upgrade", "downgrade").repeat(months, 1)[event]

    cadence = np.array([TOUCHES_90D[s] for s in segment])[:, None]
    gap = np.array([TOUCH_GAP_DAYS[s] for s in segment])[:, None]
    touches = _normal_count(rng, cadence * (0.2 + 0.8 * grade), noise)
    since_touch = np.minimum(180, np.floor(gap + 50 * lack * rng.exponential(1.0, (n, months)) ** noise))
    sponsor = rng.random((n, 1)) < 0.05 + 0.9 * grade  # one draw per account: a sponsor stays engaged
    elapsed = np.array([(day - dates[0]).days for day in dates])[None, :]
    since_qbr = (rng.integers(0, QBR_EVERY_DAYS, (n, 1)) + elapsed) % QBR_EVERY_DAYS
    skipped = rng.random((n, 1)) < lack  # struggling accounts stop holding QBRs
    since_qbr = since_qbr + np.where(skipped, QBR_EVERY_DAYS, 0)
    no_qbr = (segment == "SMB")[:, None] & (rng.random((n, 1)) < 0.5)  # many SMB accounts never have one
    training = np.clip(np.round(0.05 + 0.8 * grade + per_account(0.04) + jitter(0.02), 2), 0, 1)

    keep = (month[None, :] >= book.first[:, None]) & (month[None, :] <= book.last[:, None])
    as_of = np.array(dates, dtype="datetime64[D]")[None, :].repeat(n, 0)

    def days_before(days: np.ndarray) -> pd.Series:
        return pd.Series((as_of - days.astype("timedelta64[D]"))[keep]).astype("datetime64[s]")

    def counts(values: np.ndarray) -> pd.Series:
        return pd.Series(values[keep], dtype="float64").astype("Int64")

    ids = book.accounts["account_id"].to_numpy(dtype=object)[:, None].repeat(months, 1)
    qbr = days_before(np.where(no_qbr, 0, since_qbr))
    qbr[no_qbr.repeat(months, 1)[keep]] = pd.NaT
    metrics = pd.DataFrame(
        {
            "account_id": ids[keep],
            "as_of": pd.Series(as_of[keep]).astype("datetime64[s]"),
            "active_users": counts(active),
            "seats_purchased": counts(seats),
            "logins_30d": counts(logins),
            "features_used": counts(features),
            "features_total": counts(np.full((n, months), FEATURES_TOTAL)),
            "last_login": days_before(since_login),
            "tickets_30d": counts(tickets),
            "high_priority_open": counts(high_priority),
            "escalations_90d": counts(escalations),
            "csat": csat[keep],
            "nps": nps[keep],
            "mrr": mrr[keep],
            "days_overdue": counts(overdue),
            "plan_change": plan_change[keep],
            "csm_touches_90d": counts(touches),
            "last_touch": days_before(since_touch),
            "exec_sponsor_engaged": pd.array(sponsor[keep], dtype="boolean"),
            "last_qbr": qbr,
            "training_completion": training[keep],
        }
    )
    return metrics[list(schema.METRIC_COLUMNS)]


# --- the generator ---------------------------------------------------------------------------------------------

_PREFIXES = (
    "North", "Blue", "Bright", "Silver", "Red", "Green", "Clear", "Swift", "Iron", "Summit", "River", "Cedar",
    "Harbor", "Golden", "Stone", "Pioneer", "Atlas", "Nova", "Polar", "Sun",
)  # fmt: skip
_CORES = (
    "wind", "line", "path", "field", "gate", "bridge", "point", "crest", "peak", "wave", "leaf", "spark",
    "brook", "forge", "stack", "view", "mark", "rock", "light", "star",
)  # fmt: skip
_SUFFIXES = (
    "Analytics", "Systems", "Logistics", "Health", "Labs", "Software", "Foods", "Capital", "Media", "Retail",
    "Manufacturing", "Learning", "Energy", "Security", "Travel",
)  # fmt: skip
_FIRST_NAMES = (
    "Sarah", "Marcus", "Priya", "Diego", "Emma", "Kenji", "Aisha", "Tom", "Lena", "Omar", "Grace", "Rafael",
    "Nina", "Jonas", "Chloe", "Samuel", "Mei", "Luca", "Zara", "Ethan", "Ingrid", "Kwame", "Sofia", "Ravi",
    "Hannah", "Mateo", "Yuki", "Oliver", "Amara", "Felix",
)  # fmt: skip
_LAST_NAMES = (
    "Chen", "Johnson", "Patel", "Ramirez", "Schmidt", "Watanabe", "Okafor", "Nguyen", "Larsen", "Haddad",
    "Kim", "Costa", "Novak", "Berg", "Dubois", "Mensah", "Rossi", "Khan", "Walsh", "Silva", "Moreau", "Tanaka",
    "Fischer", "Osei", "Garcia", "Lindqvist", "Brennan", "Ito", "Mwangi", "Petrov",
)  # fmt: skip


def _csms(count: int) -> pd.DataFrame:
    """`count` CSMs with unique names, fake Slack user IDs (U0SARAH001) and @example.com emails."""
    firsts = [_FIRST_NAMES[i % len(_FIRST_NAMES)] for i in range(count)]
    lasts = [_LAST_NAMES[(i + i // len(_FIRST_NAMES)) % len(_LAST_NAMES)] for i in range(count)]
    rounds = [i // (len(_FIRST_NAMES) * len(_LAST_NAMES)) for i in range(count)]
    names = [
        f"{first} {last}" + (f" {again + 1}" if again else "")
        for first, last, again in zip(firsts, lasts, rounds, strict=True)
    ]
    seen: dict[str, int] = {}
    slack_ids = []
    for first in firsts:
        seen[first] = seen.get(first, 0) + 1
        slack_ids.append(f"U0{first[:5].upper():X<5}{seen[first]:03d}")
    emails = [name.lower().replace(" ", ".") + "@example.com" for name in names]
    return pd.DataFrame({"csm_owner": names, "csm_slack_id": slack_ids, "csm_email": emails})


def _company_names(count: int, rng: np.random.Generator) -> list[str]:
    combos = len(_PREFIXES) * len(_CORES) * len(_SUFFIXES)
    order = rng.permutation(combos)[:count] if count <= combos else np.arange(count)
    names = []
    for i in order:
        prefix, core = _PREFIXES[i % len(_PREFIXES)], _CORES[(i // len(_PREFIXES)) % len(_CORES)]
        suffix = _SUFFIXES[(i // (len(_PREFIXES) * len(_CORES))) % len(_SUFFIXES)]
        repeat = i // combos
        names.append(f"{prefix}{core} {suffix}" + (f" {repeat + 1}" if repeat else ""))
    return names


def generate_portfolio(n_accounts: int, today: date, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A realistic book of `n_accounts` accounts with 13 monthly snapshots ending on `today`, in the CONTRACT schema.

    About 40% end Green, 40% Yellow and 20% Red; some improve or decline; ~6% are former customers whose metrics
    slide before they leave (`churned_on`), a few leave while looking fine; ~3% are still onboarding. Deterministic
    for a given (n_accounts, today, seed).

    Returns:
        (accounts, metrics) DataFrames; dates are datetime64, counts nullable Int64, no data is NA.
    """
    rng = np.random.default_rng(seed)
    dates = snapshot_dates(today)
    book = _random_book(n_accounts, dates, rng)
    return book.accounts[list(schema.ACCOUNT_COLUMNS)], _draw_metrics(book, dates, rng)


def _random_book(n: int, dates: list[date], rng: np.random.Generator) -> _Book:
    today = dates[-1]
    months = len(dates)

    segment = rng.choice(SEGMENTS, n, p=[0.15, 0.35, 0.5])
    low = np.array([ARR_RANGE[s][0] for s in segment], dtype=float)
    high = np.array([ARR_RANGE[s][1] for s in segment], dtype=float)
    arr = np.round(np.exp(rng.uniform(np.log(low), np.log(high))) / 500) * 500
    seats = np.maximum(3, np.round(arr / rng.uniform(600, 1800, n)))

    band = rng.choice(3, n, p=[0.4, 0.4, 0.2])
    end = np.select([band == 0, band == 1], [rng.uniform(0.8, 0.96, n), rng.uniform(0.6, 0.78, n)])
    end = np.where(band == 2, rng.uniform(0.42, 0.57, n), end)
    mover = rng.random(n) < 0.25
    slope = np.where(mover, rng.choice([-1, 1], n) * rng.uniform(0.01, 0.03, n), rng.normal(0, 0.004, n))
    walk = np.cumsum(rng.normal(0, 0.01, (n, months)), axis=1)
    month = np.arange(months)[None, :]
    health = end[:, None] - slope[:, None] * (months - 1 - month) + walk - walk[:, -1:]

    churned = rng.random(n) < 0.06
    last = np.where(churned, rng.integers(3, months - 1, n), months - 1)
    surprise = rng.random(n) < 0.2  # some leave while looking fine: prediction must not be trivially perfect
    at_exit = np.where(surprise, rng.uniform(0.55, 0.72, n), rng.uniform(0.2, 0.5, n))
    before = rng.uniform(0.55, 0.85, n)
    slide = rng.integers(3, 7, n)
    towards_exit = np.clip((last[:, None] - month) / slide[:, None], 0, 1)
    exit_path = at_exit[:, None] + (before - at_exit)[:, None] * towards_exit
    health = np.clip(np.where(churned[:, None], exit_path, health), 0.05, 0.97)

    onboarding = ~churned & (rng.random(n) < 0.03)
    first = np.where(onboarding, rng.integers(months - 3, months, n), 0)

    churned_on = np.array([dates[i] for i in last], dtype="datetime64[D]") + rng.integers(3, 21, n)
    renewal = np.datetime64(today, "D") + rng.integers(1, 366, n)
    renewal = np.where(churned, churned_on, renewal)
    days_to_renewal = (renewal - np.datetime64(today, "D")).astype(int)
    stage = np.select(
        [onboarding, churned | (days_to_renewal <= 90), end >= 0.85, end < 0.55],
        ["onboarding", "renewal", "advocacy", "adoption"],
        "growth",
    )
    stage = np.where((stage == "advocacy") & (rng.random(n) < 0.6), "growth", stage)
    tags = np.full(n, None, dtype=object)
    tags[(stage == "advocacy") & (rng.random(n) < 0.5)] = "reference"
    tags[(segment == "Enterprise") & (rng.random(n) < 0.25)] = "strategic"
    tags[(end < 0.6) & (rng.random(n) < 0.05)] = "champion_left"

    plan_month = np.full(n, -1)
    upgrade = ~churned & (end > 0.8) & (rng.random(n) < 0.08)
    downgrade = ~upgrade & (end < 0.6) & (rng.random(n) < 0.08)
    plan_month[upgrade | downgrade] = rng.integers(1, months, n)[upgrade | downgrade]
    plan_factor = np.where(upgrade, 1.2, np.where(downgrade, 0.8, 1.0))

    csms = _csms(max(6, round(n / 45)))
    owner = csms.iloc[rng.integers(0, len(csms), n)].reset_index(drop=True)
    tiers = np.array([PLAN_TIERS[s][0] for s in segment], dtype=object)
    tiers = np.where(rng.random(n) < 0.4, [PLAN_TIERS[s][1] for s in segment], tiers)
    accounts = pd.DataFrame(
        {
            "account_id": [f"ACCT-{100_000 + i}" for i in range(n)],
            "name": _company_names(n, rng),
            "csm_owner": owner["csm_owner"],
            "csm_slack_id": owner["csm_slack_id"],
            "csm_email": owner["csm_email"],
            "segment": segment.astype(object),
            "region": rng.choice(REGIONS, n, p=[0.45, 0.3, 0.15, 0.1]).astype(object),
            "industry": rng.choice(INDUSTRIES, n).astype(object),
            "plan_tier": tiers,
            "arr": arr,
            "renewal_date": pd.Series(renewal).astype("datetime64[s]"),
            "lifecycle_stage": stage.astype(object),
            "tags": tags,
            "churned_on": pd.Series(np.where(churned, churned_on, np.datetime64("NaT"))).astype("datetime64[s]"),
        }
    )
    return _Book(accounts, health, first, last, seats, plan_month, plan_factor, np.ones(n))


# --- the sample book -------------------------------------------------------------------------------------------

PRICE_PER_SEAT = {"Enterprise": 1_000, "Mid-Market": 1_800, "SMB": 600}  # a year; Acme: $45K / $1,800 = 25 seats
SAMPLE_NOISE = 0.5

Path = tuple[tuple[int, float], ...]  # (snapshot, score it should land near); straight lines in between


@dataclass(frozen=True)
class _Story:
    account_id: str
    name: str
    csm: int  # index into the sample's six CSMs; Sarah Chen is 0
    segment: str
    region: str
    industry: str
    plan_tier: str
    arr: float
    stage: str
    path: Path  # (snapshot, score) points; a later first snapshot means a new customer
    renews_in: int = 0  # days from today
    tags: str | None = None
    # A former customer: the path's last point is their last snapshot; they left a week or two later, at renewal.
    left: bool = False
    exact: bool = False  # metrics follow the path without wander, so the story's turns show month by month


SARAH, MARCUS, PRIYA, DIEGO, EMMA, KENJI = range(6)
NA, EMEA, APAC, LATAM = REGIONS
SOFTWARE, FINANCE, HEALTH, RETAIL, MANUFACTURING, EDUCATION, MEDIA, LOGISTICS = INDUSTRIES
ENT, MM, SMB = SEGMENTS

# fmt: off
_STORIES = (
    # Sarah Chen: 12 green, 14 yellow, 6 red, as in seed 001.
    _Story("ACCT-4102", "TechFlow", SARAH, MM, NA, SOFTWARE, "Business", 85_000,
           renews_in=210, stage="growth", path=((0, 86), (12, 90)), tags="reference"),
    _Story("ACCT-4118", "DataMax", SARAH, MM, NA, FINANCE, "Business", 72_000,
           renews_in=300, stage="advocacy", path=((0, 84), (12, 88)), tags="case_study"),
    _Story("ACCT-4135", "CloudNet", SARAH, MM, EMEA, SOFTWARE, "Business", 68_000,
           renews_in=150, stage="growth", path=((0, 83), (12, 86))),
    _Story("ACCT-4150", "Brightline Analytics", SARAH, MM, NA, SOFTWARE, "Business", 54_000,
           renews_in=240, stage="growth", path=((0, 80), (12, 85))),
    _Story("ACCT-4163", "Nimbus Health", SARAH, MM, NA, HEALTH, "Professional", 48_000,
           renews_in=330, stage="growth", path=((0, 82), (12, 84))),
    _Story("ACCT-4177", "Vertex Retail", SARAH, MM, LATAM, RETAIL, "Professional", 36_000,
           renews_in=190, stage="growth", path=((0, 80), (12, 83))),
    _Story("ACCT-4189", "Pixel Forge", SARAH, SMB, NA, MEDIA, "Professional", 18_000,
           renews_in=260, stage="growth", path=((0, 86), (12, 91))),
    _Story("ACCT-4196", "Lumen Labs", SARAH, SMB, EMEA, SOFTWARE, "Starter", 14_400,
           renews_in=120, stage="growth", path=((0, 84), (12, 90))),
    _Story("ACCT-4204", "Harborview Logistics", SARAH, MM, NA, LOGISTICS, "Professional", 30_000,
           renews_in=280, stage="growth", path=((0, 82), (12, 83))),
    _Story("ACCT-4211", "Quantum Leap Education", SARAH, SMB, NA, EDUCATION, "Professional", 22_000,
           renews_in=350, stage="advocacy", path=((0, 88), (12, 88)), tags="reference"),
    _Story("ACCT-4219", "Sunrise Media", SARAH, SMB, APAC, MEDIA, "Starter", 12_000,
           renews_in=200, stage="growth", path=((0, 85), (12, 92))),
    _Story("ACCT-4226", "Greenfield Foods", SARAH, MM, NA, RETAIL, "Professional", 27_000,
           renews_in=80, stage="renewal", path=((0, 83), (12, 85))),
    _Story("ACCT-4521", "Acme Corp", SARAH, MM, NA, MANUFACTURING, "Business", 45_000,
           renews_in=127, stage="growth", path=((0, 80), (9, 79), (12, 68)), exact=True),
    _Story("ACCT-4233", "GlobalTech", SARAH, MM, EMEA, SOFTWARE, "Professional", 38_000,
           renews_in=160, stage="growth", path=((0, 74), (12, 70))),
    _Story("ACCT-4240", "StartupXYZ", SARAH, SMB, NA, SOFTWARE, "Starter", 15_000,
           renews_in=230, stage="adoption", path=((0, 55), (9, 58), (12, 73)), exact=True),
    _Story("ACCT-4247", "InnovateCo", SARAH, MM, NA, SOFTWARE, "Professional", 32_000,
           renews_in=310, stage="growth", path=((0, 63), (9, 65), (12, 76)), exact=True),
    _Story("ACCT-4254", "EnterpriseABC", SARAH, ENT, NA, FINANCE, "Enterprise", 95_000,
           renews_in=250, stage="growth", path=((0, 72), (9, 71), (12, 64)), tags="strategic", exact=True),
    _Story("ACCT-4261", "DataFlow", SARAH, MM, NA, SOFTWARE, "Business", 42_000,
           renews_in=60, stage="renewal", path=((0, 72), (12, 66))),
    _Story("ACCT-4268", "BuildCo", SARAH, MM, NA, MANUFACTURING, "Professional", 36_000,
           renews_in=75, stage="renewal", path=((0, 71), (12, 67))),
    _Story("ACCT-4275", "Meridian Bank", SARAH, MM, NA, FINANCE, "Business", 38_000,
           renews_in=200, stage="growth", path=((0, 74), (12, 73))),
    _Story("ACCT-4282", "Northstar Logistics", SARAH, MM, NA, LOGISTICS, "Professional", 40_000,
           renews_in=140, stage="growth", path=((0, 80), (12, 72))),
    _Story("ACCT-4289", "Clearwater Software", SARAH, MM, EMEA, SOFTWARE, "Professional", 30_000,
           renews_in=290, stage="growth", path=((0, 66), (12, 71))),
    _Story("ACCT-4296", "Redwood Clinics", SARAH, MM, NA, HEALTH, "Professional", 44_000,
           renews_in=340, stage="growth", path=((0, 75), (12, 69))),
    _Story("ACCT-4303", "Summit Learning", SARAH, MM, NA, EDUCATION, "Professional", 25_000,
           renews_in=110, stage="growth", path=((0, 70), (12, 73))),
    _Story("ACCT-4310", "Atlas Manufacturing", SARAH, MM, LATAM, MANUFACTURING, "Business", 30_000,
           renews_in=180, stage="adoption", path=((0, 68), (12, 65))),
    _Story("ACCT-4317", "Orbit Retail", SARAH, SMB, NA, RETAIL, "Starter", 20_000,
           renews_in=220, stage="growth", path=((0, 77), (12, 74))),
    _Story("ACCT-4324", "MegaCorp", SARAH, MM, NA, MANUFACTURING, "Business", 82_000,
           renews_in=45, stage="renewal", path=((0, 72), (6, 63), (12, 47))),
    _Story("ACCT-4331", "OldTech", SARAH, MM, NA, MANUFACTURING, "Professional", 28_000,
           renews_in=70, stage="renewal", path=((0, 62), (12, 49))),
    _Story("ACCT-4338", "Bluepeak Media", SARAH, SMB, NA, MEDIA, "Starter", 22_000,
           renews_in=170, stage="adoption", path=((0, 66), (12, 52))),
    _Story("ACCT-4345", "Ironclad Security", SARAH, MM, NA, SOFTWARE, "Professional", 30_000,
           renews_in=130, stage="growth", path=((0, 58), (12, 54))),
    _Story("ACCT-4352", "Foxglove Retail", SARAH, SMB, EMEA, RETAIL, "Starter", 15_000,
           renews_in=270, stage="adoption", path=((0, 60), (12, 50))),
    _Story("ACCT-4359", "Cobalt Systems", SARAH, SMB, NA, SOFTWARE, "Starter", 18_000,
           renews_in=320, stage="adoption", path=((0, 57), (12, 55))),
    # The rest of the team: 12 green, 10 yellow, 6 red.
    _Story("ACCT-4366", "Orion Financial", MARCUS, ENT, NA, FINANCE, "Enterprise", 240_000,
           renews_in=280, stage="advocacy", path=((0, 86), (12, 89)), tags="strategic;reference"),
    _Story("ACCT-4373", "Titan Industries", MARCUS, ENT, NA, MANUFACTURING, "Enterprise", 180_000,
           renews_in=150, stage="growth", path=((0, 73), (12, 70)), tags="strategic"),
    _Story("ACCT-4380", "Helix Pharma", MARCUS, ENT, EMEA, HEALTH, "Enterprise", 210_000,
           renews_in=340, stage="growth", path=((0, 82), (12, 85))),
    _Story("ACCT-4387", "Keystone Insurance", MARCUS, ENT, NA, FINANCE, "Enterprise", 150_000,
           renews_in=200, stage="growth", path=((0, 85), (9, 85), (10, 82), (11, 79), (12, 76)), exact=True),
    _Story("ACCT-4394", "Granite Capital", MARCUS, ENT, NA, FINANCE, "Business", 120_000,
           renews_in=100, stage="growth", path=((0, 64), (12, 50))),
    _Story("ACCT-4401", "Aurora Energy", MARCUS, ENT, LATAM, MANUFACTURING, "Enterprise", 165_000,
           renews_in=230, stage="growth", path=((0, 83), (12, 85))),
    _Story("ACCT-4408", "Cascade Health", PRIYA, MM, NA, HEALTH, "Business", 60_000,
           renews_in=260, stage="growth", path=((0, 78), (4, 52), (8, 70), (12, 83))),
    _Story("ACCT-4415", "Evergreen Schools", PRIYA, MM, NA, EDUCATION, "Professional", 34_000,
           renews_in=95, stage="growth", path=((0, 71), (12, 68))),
    _Story("ACCT-4422", "Sterling Partners", PRIYA, MM, NA, FINANCE, "Business", 55_000,
           renews_in=150, stage="growth", path=((0, 68), (12, 53))),
    _Story("ACCT-4429", "Maple Analytics", PRIYA, MM, NA, SOFTWARE, "Professional", 28_000,
           renews_in=310, stage="growth", path=((0, 81), (12, 84))),
    _Story("ACCT-4436", "Nova Robotics", PRIYA, MM, NA, MANUFACTURING, "Business", 70_000,
           renews_in=180, stage="growth", path=((0, 80), (10, 79), (12, 68)), tags="champion_left"),
    _Story("ACCT-4443", "Willow Care", PRIYA, MM, NA, HEALTH, "Professional", 26_000,
           renews_in=360, stage="advocacy", path=((0, 84), (12, 86))),
    _Story("ACCT-4450", "Tiny Tasks", DIEGO, SMB, LATAM, SOFTWARE, "Starter", 6_000,
           renews_in=140, stage="growth", path=((0, 85), (12, 90))),
    _Story("ACCT-4457", "Bean & Brew", DIEGO, SMB, NA, RETAIL, "Starter", 5_000,
           renews_in=25, stage="renewal", path=((0, 82), (12, 85))),
    _Story("ACCT-4464", "Swiftcart", DIEGO, SMB, NA, RETAIL, "Professional", 9_000,
           renews_in=210, stage="growth", path=((0, 75), (12, 70))),
    _Story("ACCT-4471", "Paperkite", DIEGO, SMB, NA, EDUCATION, "Starter", 7_200,
           renews_in=100, stage="adoption", path=((0, 63), (12, 49))),
    _Story("ACCT-4478", "Loop Fitness", DIEGO, SMB, LATAM, MEDIA, "Starter", 10_800,
           renews_in=300, stage="growth", path=((0, 84), (12, 91))),
    _Story("ACCT-4485", "Nordwind GmbH", EMMA, MM, EMEA, LOGISTICS, "Business", 88_000,
           renews_in=190, stage="growth", path=((0, 83), (12, 87))),
    _Story("ACCT-4492", "Lyon Logistique", EMMA, MM, EMEA, LOGISTICS, "Professional", 47_000,
           renews_in=55, stage="renewal", path=((0, 72), (12, 70))),
    _Story("ACCT-4499", "Baltic Freight", EMMA, MM, EMEA, LOGISTICS, "Professional", 33_000,
           renews_in=120, stage="adoption", path=((0, 60), (12, 47))),
    _Story("ACCT-4506", "Alpine Medical", EMMA, MM, EMEA, HEALTH, "Business", 61_000,
           renews_in=250, stage="growth", path=((0, 70), (12, 74))),
    _Story("ACCT-4513", "Fjord Energy", EMMA, ENT, EMEA, MANUFACTURING, "Enterprise", 110_000,
           renews_in=330, stage="growth", path=((0, 85), (12, 86))),
    _Story("ACCT-4528", "Thames Digital", EMMA, SMB, EMEA, MEDIA, "Starter", 24_000,
           renews_in=160, stage="adoption", path=((0, 64), (12, 51))),
    _Story("ACCT-4535", "Sakura Retail", KENJI, MM, APAC, RETAIL, "Business", 52_000,
           renews_in=240, stage="growth", path=((0, 84), (12, 86))),
    _Story("ACCT-4542", "Pacific Rim Foods", KENJI, MM, APAC, RETAIL, "Professional", 29_000,
           renews_in=85, stage="renewal", path=((0, 73), (12, 69))),
    _Story("ACCT-4549", "Kiwi Cloud", KENJI, SMB, APAC, SOFTWARE, "Professional", 19_200,
           renews_in=330, stage="onboarding", path=((10, 60), (12, 67))),
    _Story("ACCT-4556", "Lotus Learning", KENJI, SMB, APAC, EDUCATION, "Starter", 23_000,
           renews_in=140, stage="adoption", path=((0, 61), (12, 52))),
    _Story("ACCT-4563", "Harbour Bank", KENJI, ENT, APAC, FINANCE, "Enterprise", 130_000,
           renews_in=350, stage="onboarding", path=((11, 64), (12, 68))),
    # Former customers: their metrics slide before they leave and stop when they do. Driftwood Hotels and Ember
    # Games left while looking fine, so the score cannot predict every departure.
    _Story("ACCT-3901", "Pinecrest Dental", SARAH, SMB, NA, HEALTH, "Starter", 9_000,
           left=True, stage="renewal", path=((0, 70), (6, 62), (10, 40))),
    _Story("ACCT-3908", "Vantage Realty", SARAH, MM, NA, FINANCE, "Professional", 31_000,
           left=True, stage="renewal", path=((0, 68), (3, 60), (7, 42))),
    _Story("ACCT-3915", "Copperline Telecom", SARAH, MM, NA, SOFTWARE, "Business", 58_000,
           left=True, stage="renewal", path=((0, 58), (4, 41))),
    _Story("ACCT-3922", "Driftwood Hotels", SARAH, SMB, LATAM, RETAIL, "Starter", 12_000,
           left=True, stage="renewal", path=((0, 74), (8, 70), (11, 66))),
    _Story("ACCT-3929", "Sparrow Insurance", SARAH, MM, NA, FINANCE, "Business", 44_000,
           left=True, stage="renewal", path=((0, 72), (5, 66), (9, 45))),
    _Story("ACCT-4006", "Hollow Oak Farms", SARAH, SMB, NA, RETAIL, "Starter", 7_500,
           left=True, stage="renewal", path=((0, 64), (6, 45))),
    _Story("ACCT-3936", "Quarry Tools", MARCUS, ENT, NA, MANUFACTURING, "Enterprise", 135_000,
           left=True, stage="renewal", path=((0, 66), (6, 44))),
    _Story("ACCT-3992", "Beacon Legal", MARCUS, ENT, NA, FINANCE, "Enterprise", 98_000,
           left=True, stage="renewal", path=((0, 76), (7, 68), (11, 49))),
    _Story("ACCT-3943", "Juniper Travel", PRIYA, MM, NA, MEDIA, "Professional", 38_000,
           left=True, stage="renewal", path=((0, 75), (4, 68), (8, 48))),
    _Story("ACCT-3978", "Cedar Clinics", PRIYA, MM, NA, HEALTH, "Business", 52_000,
           left=True, stage="renewal", path=((0, 73), (4, 60), (7, 43))),
    _Story("ACCT-4020", "Zephyr Air", PRIYA, MM, NA, LOGISTICS, "Business", 47_000,
           left=True, stage="renewal", path=((0, 60), (4, 43))),
    _Story("ACCT-3957", "Tandem Bikes", DIEGO, SMB, NA, RETAIL, "Starter", 6_600,
           left=True, stage="renewal", path=((0, 80), (7, 74), (10, 55))),
    _Story("ACCT-3985", "Polar Apparel", DIEGO, SMB, NA, RETAIL, "Starter", 8_400,
           left=True, stage="renewal", path=((0, 50), (2, 41))),
    _Story("ACCT-3950", "Marble Arch Media", EMMA, SMB, EMEA, MEDIA, "Starter", 14_400,
           left=True, stage="renewal", path=((0, 55), (3, 42))),
    _Story("ACCT-3964", "Silverline Freight", EMMA, MM, EMEA, LOGISTICS, "Professional", 41_000,
           left=True, stage="renewal", path=((0, 62), (5, 40))),
    _Story("ACCT-4013", "Starling Payments", EMMA, MM, EMEA, FINANCE, "Business", 66_000,
           left=True, stage="renewal", path=((0, 78), (6, 72), (10, 52)), tags="champion_left"),
    _Story("ACCT-3971", "Ember Games", KENJI, SMB, APAC, MEDIA, "Professional", 16_200,
           left=True, stage="renewal", path=((0, 71), (6, 66), (9, 68)), tags="acquisition"),
    _Story("ACCT-3999", "Rivet Robotics", KENJI, MM, APAC, MANUFACTURING, "Professional", 35_000,
           left=True, stage="renewal", path=((0, 69), (8, 46))),
)
# fmt: on

# Seed 001's Acme Corp card, month by month: usage sliding 68% → 48% of 25 seats, tickets 3 → 8, NPS 8 → 6.
_ACME: dict[str, list[float]] = {
    "active_users": [17, 17, 17, 18, 17, 17, 17, 17, 17, 17, 15, 13, 12],
    "logins_per_user_week": [2.6, 2.5, 2.6, 2.5, 2.4, 2.5, 2.4, 2.5, 2.4, 2.4, 2.3, 2.2, 2.1],
    "tickets_30d": [3, 2, 3, 4, 3, 3, 2, 3, 3, 3, 5, 6, 8],
    "high_priority_open": [0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0],
    "escalations_90d": [0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1],
    "csat": [4.0, 4.1, 3.9, 3.8, 3.9, 4.0, 3.9, 3.9, 3.8, 3.8, 3.6, 3.4, 3.2],
    "nps": [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7, 7, 6],
    "csm_touches_90d": [4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 5, 6, 6],
    "days_since_touch": [12, 15, 10, 20, 14, 9, 16, 12, 18, 12, 8, 6, 9],
    "training_completion": [0.45, 0.47, 0.48, 0.5, 0.5, 0.52, 0.53, 0.55, 0.55, 0.55, 0.57, 0.58, 0.6],
}
_EXPANSION_READY = ("ACCT-4189", "ACCT-4196", "ACCT-4219", "ACCT-4450", "ACCT-4478")  # usage ≥ 90%, NPS ≥ 9
_NO_LOGIN_DAYS = {"ACCT-4338": 21, "ACCT-4471": 16, "ACCT-4528": 30}
_OVERDUE = {"ACCT-4422": [0, 15, 45]}  # Sterling Partners: the last three invoices' days overdue
_DOWNGRADE = "ACCT-4394"  # Granite Capital cut seats by a fifth this month


def _path(points: Path, months: int) -> np.ndarray:
    """Health along straight lines through the path's points, flat before the first and after the last."""
    at, score = zip(*points, strict=True)
    return np.interp(np.arange(months), at, np.array(score) / 100)


def _story_book(dates: list[date]) -> _Book:
    today, months = dates[-1], len(dates)
    stories = _STORIES
    csms = _csms(6)
    owner = csms.iloc[[story.csm for story in stories]].reset_index(drop=True)
    last = np.array([story.path[-1][0] if story.left else months - 1 for story in stories])
    churned_on = [
        dates[int(i)] + timedelta(days=8 + (k * 5) % 13) if story.left else None
        for k, (i, story) in enumerate(zip(last, stories, strict=True))
    ]
    renewal = [
        gone_on if gone_on is not None else today + timedelta(days=story.renews_in)
        for story, gone_on in zip(stories, churned_on, strict=True)
    ]
    accounts = pd.DataFrame(
        {
            "account_id": [story.account_id for story in stories],
            "name": [story.name for story in stories],
            "csm_owner": owner["csm_owner"],
            "csm_slack_id": owner["csm_slack_id"],
            "csm_email": owner["csm_email"],
            "segment": [story.segment for story in stories],
            "region": [story.region for story in stories],
            "industry": [story.industry for story in stories],
            "plan_tier": [story.plan_tier for story in stories],
            "arr": [float(story.arr) for story in stories],
            "renewal_date": pd.to_datetime(pd.Series(renewal)),
            "lifecycle_stage": [story.stage for story in stories],
            "tags": [story.tags for story in stories],
            "churned_on": pd.to_datetime(pd.Series(churned_on)),
        }
    )
    plan_month = np.where(accounts["account_id"] == _DOWNGRADE, months - 1, -1)
    return _Book(
        accounts=accounts,
        health=np.array([_path(story.path, months) for story in stories]),
        first=np.array([story.path[0][0] for story in stories]),
        last=last,
        seats=np.array([round(story.arr / PRICE_PER_SEAT[story.segment]) for story in stories], dtype=float),
        plan_month=plan_month,
        plan_factor=np.where(plan_month >= 0, 0.8, 1.0),
        noise=np.array([0.0 if story.exact else SAMPLE_NOISE for story in stories]),
    )


def _pin_stories(metrics: pd.DataFrame, dates: list[date]) -> None:
    """Set the figures the seeds quote, so the demo shows exactly them."""
    account = metrics["account_id"]
    as_of = metrics["as_of"]
    today = pd.Timestamp(dates[-1])

    acme = (account == "ACCT-4521").to_numpy()
    for column, series in _ACME.items():
        if column in metrics.columns:
            metrics.loc[acme, column] = series
    weekly = np.array(_ACME["logins_per_user_week"])
    metrics.loc[acme, "logins_30d"] = np.round(np.array(_ACME["active_users"]) * weekly * 30 / 7)
    metrics.loc[acme, "last_touch"] = as_of[acme] - pd.to_timedelta(_ACME["days_since_touch"], unit="D")
    metrics.loc[acme, "last_login"] = as_of[acme] - pd.Timedelta(days=1)
    metrics.loc[acme, ["seats_purchased", "features_used", "features_total"]] = [25, 4, FEATURES_TOTAL]
    metrics.loc[acme, ["mrr", "days_overdue", "exec_sponsor_engaged"]] = [45_000 / 12, 0, True]
    metrics.loc[acme, "plan_change"] = None
    # Quarterly QBRs, the last one 45 days ago.
    qbr_days = [today - pd.Timedelta(days=45 + QBR_EVERY_DAYS * k) for k in range(6)]
    metrics.loc[acme, "last_qbr"] = [max(d for d in qbr_days if d <= day) for day in as_of[acme]]

    for account_id in _EXPANSION_READY:
        recent = (account == account_id).to_numpy() & (as_of >= pd.Timestamp(dates[-3])).to_numpy()
        seats = metrics.loc[recent, "seats_purchased"]
        metrics.loc[recent, "active_users"] = seats - np.maximum(1, seats // 12)
        metrics.loc[recent, "nps"] = [9, 9, 10]
    for account_id, days in _NO_LOGIN_DAYS.items():
        latest = (account == account_id).to_numpy() & (as_of == today).to_numpy()
        metrics.loc[latest, "last_login"] = today - pd.Timedelta(days=days)
    for account_id, overdue in _OVERDUE.items():
        recent = (account == account_id).to_numpy() & (as_of >= pd.Timestamp(dates[-len(overdue)])).to_numpy()
        metrics.loc[recent, "days_overdue"] = overdue


def sample_portfolio(today: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demo book as of `today`: 60 current accounts across 6 CSMs (Sarah Chen has 32) and 18 former ones.

    Deterministic for a given `today`; 13 monthly snapshots end on it. It tells seed 001's stories: Acme Corp
    (ACCT-4521, $45K) sliding from ~78 to ~68 as seat use falls 68% → 48%, MegaCorp red and renewing in 45 days,
    StartupXYZ and InnovateCo recovering, EnterpriseABC and Keystone Insurance eroding, expansion-ready SMB
    accounts, accounts with no login for 14+ days, a 45-day overdue invoice, a champion who left, a downgrade.

    Returns:
        (accounts, metrics) in the CONTRACT schema, like `generate_portfolio`.
    """
    dates = snapshot_dates(today)
    book = _story_book(dates)
    metrics = _draw_metrics(book, dates, np.random.default_rng(SAMPLE_SEED))
    _pin_stories(metrics, dates)
    return book.accounts[list(schema.ACCOUNT_COLUMNS)], metrics


def sample_account_ids(today: date) -> list[str]:
    """The IDs of every account in the sample portfolio (current and former customers)."""
    return [str(a) for a in _story_book(snapshot_dates(today)).accounts["account_id"]]


def load_sample(engine: Engine, today: date) -> ImportReport:
    """Import the sample book into the store (through the importer, so it meets the same checks as a file)."""
    accounts, metrics = sample_portfolio(today)
    return import_frames(engine, accounts=accounts, metrics=metrics, source="sample portfolio")
