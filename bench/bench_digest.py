"""Benchmark: the morning digests for 100,000 accounts and 200 CSMs, built but not posted; and one alert scan.

Builds a SQLite store with 100,000 current accounts spread over 200 CSMs (each with a Slack ID) and three scored
days (today, yesterday, a week ago) whose bands and signals move the way a real book does, then times
`bot.digests.build_digests` — every CSM's digest plus the team digest, exactly what the scheduler's digest job
builds before posting — and `bot.alerts.detect` over the same scores. Prints the median of `--runs` runs and the
process's peak RSS (`resource.getrusage`).

Target (issue 5): digest build under 10 s on a 2-core machine.

    python bench/bench_digest.py [--accounts 100000] [--csms 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot.alerts import detect  # noqa: E402
from bot.digests import build_digests  # noqa: E402
from bot.routing import Routing, csm_routes  # noqa: E402
from bot.store import Account, HealthScore, create_db_engine, init_db  # noqa: E402
from scoring import load_model  # noqa: E402

TODAY = date(2026, 11, 24)
SIGNALS = [
    {"key": "usage_drop", "kind": "risk", "title": "Usage decline", "severity": "High", "response_time": "24 hours",
     "facts": ["48% seat utilisation (down from 68%)"]},
    {"key": "low_nps", "kind": "risk", "title": "Low NPS", "severity": "Medium", "response_time": "1 week",
     "facts": ["NPS 5"]},
    {"key": "seat_expansion", "kind": "expansion", "title": "Nearing seat limit", "severity": "Low",
     "opportunity": "Seat expansion", "facts": ["92% of seats active"]},
]  # fmt: skip


def build_store(url: str, n_accounts: int, n_csms: int) -> None:
    """Accounts, three scored days, in bulk through Core (the ORM would dominate the set-up time)."""
    rng = np.random.default_rng(5)
    engine = create_db_engine(url)
    init_db(engine)
    ids = [f"ACCT-{i:06d}" for i in range(n_accounts)]
    csm = rng.integers(0, n_csms, n_accounts)
    accounts = [
        {
            "account_id": account_id,
            "name": f"Customer {i:06d}",
            "csm_owner": f"CSM {c:03d}",
            "csm_slack_id": f"U{c:09d}",
            "segment": ("Enterprise", "Mid-Market", "SMB")[i % 3],
            "arr": float(rng.integers(5_000, 250_000)),
            "renewal_date": TODAY + timedelta(days=int(rng.integers(0, 365))),
        }
        for i, (account_id, c) in enumerate(zip(ids, csm, strict=True))
    ]
    score_today = rng.normal(70, 15, n_accounts).clip(5, 99)
    drift = {1: rng.normal(2, 6, n_accounts), 7: rng.normal(4, 10, n_accounts)}
    signal_sets = [json.dumps(s) for s in ([], [SIGNALS[0]], [SIGNALS[1]], [SIGNALS[0], SIGNALS[1]], [SIGNALS[2]])]
    rows = []
    for days_ago, scores in ((0, score_today), (1, score_today + drift[1]), (7, score_today + drift[7])):
        picks = rng.choice(len(signal_sets), n_accounts, p=[0.6, 0.1, 0.1, 0.05, 0.15])
        for account_id, score, pick in zip(ids, scores.clip(0, 100), picks, strict=True):
            band = "Green" if score >= 80 else "Yellow" if score >= 60 else "Red"
            rows.append(
                {
                    "account_id": account_id,
                    "as_of": TODAY - timedelta(days=days_ago),
                    "score": round(float(score), 1),
                    "band": band,
                    "confidence": 1.0,
                    "dimensions": {},
                    "signals": json.loads(signal_sets[pick]),
                    "last_month_score": round(float(score) + 3, 1),
                    "last_quarter_score": round(float(score) + 6, 1),
                }
            )
    with engine.begin() as connection:
        connection.execute(insert(Account.__table__), accounts)  # type: ignore[attr-defined]
        for start in range(0, len(rows), 50_000):
            connection.execute(insert(HealthScore.__table__), rows[start : start + 50_000])  # type: ignore[attr-defined]
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--csms", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        started = time.perf_counter()
        build_store(url, args.accounts, args.csms)
        took = time.perf_counter() - started
        print(f"store: {args.accounts:,} accounts, {args.csms} CSMs, 3 scored days (built in {took:.1f} s)")

        engine = create_db_engine(url)
        model = load_model(None)
        routes = csm_routes(engine, None, Routing())
        digest_times, detect_times = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            built = build_digests(engine, model, day=TODAY, routes=routes, team_channel="C0CSTEAM01")
            digest_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            found = detect(engine, bands=[b.name for b in model.bands], as_of=TODAY)
            detect_times.append(time.perf_counter() - started)
        team = built[-1].digest
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"digest build: median {statistics.median(digest_times):.2f} s over {args.runs} runs "
            f"(min {min(digest_times):.2f}, max {max(digest_times):.2f}) for {len(built) - 1} CSM digests + the "
            f"team's; team digest: {len(team.new_reds)} new reds, {len(team.due_today)} signals due"
        )
        print(f"alert detection: median {statistics.median(detect_times):.2f} s, {len(found):,} conditions found")
        print(f"peak RSS: {peak_mb:,.0f} MB")
        engine.dispose()


if __name__ == "__main__":
    main()
