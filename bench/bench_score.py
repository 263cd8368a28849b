"""Benchmark: score 100,000 accounts × 13 monthly snapshots with the default health model.

Times `scoring.score_snapshots` (every snapshot: dimensions, score, band, confidence, trend, all signals) and, once,
the findings with facts for each account's latest snapshot (what `healthbot score` stores). Prints the median of
`--runs` runs, accounts per second, and peak memory two ways: the process's peak RSS (input frames included, from
`resource.getrusage`) and the scoring call's own peak allocation (`tracemalloc`, in a separate untimed run).

Target (issue 3): under 3 s and under 2 GB peak on a 2-core machine.

    python bench/bench_score.py [--accounts 100000] [--runs 3] [--model default]
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scoring import findings_by_row, load_model, score_snapshots  # noqa: E402

TODAY = date(2026, 11, 24)


def portfolio(n_accounts: int) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The foundation's generator when it is installed, else a plain synthetic book in the same schema."""
    try:
        from bot.sample import generate_portfolio  # type: ignore[attr-defined]
    except ImportError:
        return (*_synthetic(n_accounts), "synthetic book (bot.sample not available)")
    return (*generate_portfolio(n_accounts, TODAY, seed=7), "bot.sample.generate_portfolio")


def _synthetic(n: int, snapshots: int = 13) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    ids = np.array([f"ACCT-{i:06d}" for i in range(n)], dtype=object)
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "name": ids,
            "csm_owner": rng.choice(["Sarah Chen", "Mike Lee", "Ana Ruiz", "Tom Park"], n),
            "segment": rng.choice(["Enterprise", "Mid-Market", "SMB"], n),
            "arr": rng.integers(5_000, 250_000, n).astype(float),
            "renewal_date": pd.Timestamp(TODAY) + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "lifecycle_stage": rng.choice(["onboarding", "adoption", "growth", "renewal"], n, p=[0.05, 0.35, 0.4, 0.2]),
            "tags": rng.choice(["", "champion_left", "case_study", "upgrade_requested", ""], n),
        }
    )
    rows = n * snapshots
    as_of = pd.date_range(end=pd.Timestamp(TODAY), periods=snapshots, freq="30D").to_numpy()
    seats = np.repeat(rng.integers(5, 300, n), snapshots)
    active = (seats * rng.uniform(0.1, 1.0, rows)).astype(int)
    metrics = pd.DataFrame(
        {
            "account_id": np.repeat(ids, snapshots),
            "as_of": np.tile(as_of, n),
            "active_users": active,
            "seats_purchased": seats,
            "logins_30d": active * rng.integers(1, 20, rows),
            "features_used": rng.integers(0, 13, rows),
            "features_total": 12,
            "tickets_30d": rng.poisson(3, rows),
            "high_priority_open": rng.poisson(0.3, rows),
            "escalations_90d": rng.poisson(0.3, rows),
            "csat": rng.uniform(1, 5, rows).round(1),
            "nps": np.where(rng.random(rows) < 0.3, np.nan, rng.integers(0, 11, rows)),
            "mrr": np.repeat(rng.integers(500, 20_000, n), snapshots).astype(float),
            "days_overdue": np.where(rng.random(rows) < 0.05, 15, 0),
            "plan_change": np.where(rng.random(rows) < 0.02, "downgrade", None),
            "csm_touches_90d": rng.integers(0, 12, rows),
            "exec_sponsor_engaged": rng.random(rows) < 0.7,
            "training_completion": rng.uniform(0, 1, rows),
        }
    )
    for column, spread in (("last_login", 30), ("last_touch", 90), ("last_qbr", 200)):
        metrics[column] = metrics["as_of"] - pd.to_timedelta(rng.integers(0, spread, rows), unit="D")
    return accounts, metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", default="default", help="a built-in model name or a model file")
    args = parser.parse_args()

    model = load_model(args.model)
    started = time.perf_counter()
    accounts, metrics, source = portfolio(args.accounts)
    took = time.perf_counter() - started
    print(f"input: {len(accounts):,} accounts, {len(metrics):,} snapshots from {source} ({took:.1f} s)")
    print(f"model: {model.name}")

    times = []
    for run in range(args.runs):
        gc.collect()
        started = time.perf_counter()
        scored = score_snapshots(accounts, metrics, model)
        times.append(time.perf_counter() - started)
        print(f"  run {run + 1}: {times[-1]:.2f} s")
        if run < args.runs - 1:
            del scored
    median = statistics.median(times)
    latest = scored.latest_rows()
    started = time.perf_counter()
    findings = findings_by_row(scored, latest)
    facts_seconds = time.perf_counter() - started
    bands = scored.frame["band"].iloc[latest].value_counts().to_dict()
    del scored

    gc.collect()
    tracemalloc.start()
    score_snapshots(accounts, metrics, model)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB

    print(
        f"score_snapshots, median of {args.runs}: {median:.2f} s  ({len(accounts) / median:,.0f} accounts/s, "
        f"{len(metrics) / median:,.0f} snapshots/s)"
    )
    print(
        f"findings with facts for today's {len(latest):,} accounts: {facts_seconds:.2f} s "
        f"({sum(len(f) for f in findings):,} findings)"
    )
    print(
        f"peak memory: {rss_peak / 2**30:.2f} GiB process RSS (input included), "
        f"{traced_peak / 2**30:.2f} GiB allocated by scoring (tracemalloc)"
    )
    print(f"today's bands: {bands}")
    verdict = "meets" if median < 3 and rss_peak < 2 * 2**30 else "MISSES"
    print(f"target under 3 s and 2 GB: {verdict}")


if __name__ == "__main__":
    main()
