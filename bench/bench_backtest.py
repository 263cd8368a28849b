"""Benchmark: the backtest of 100,000 accounts × 13 monthly snapshots with the default health model.

Times `scoring.backtest.backtest` end to end, as `healthbot backtest` runs it after reading the store: scoring every
snapshot with the model in force, the per-measure report (about 80 measures, each with a bootstrap interval), the
time-and-account split, the baselines, the learned model (fitted, written, then scored over the whole book to judge
it) and the band calibration. The book comes from `bot.sample.generate_portfolio` (about 6% of accounts leave).
Prints each run, the median of `--runs`, and the process's peak RSS (input frames included; `resource.getrusage`).

Target (issue 14): under 60 s and 2 GB on the 2-core development machine.

    python bench/bench_backtest.py [--accounts 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.sample import generate_portfolio  # noqa: E402
from scoring import load_model  # noqa: E402
from scoring.backtest import backtest  # noqa: E402

TODAY = date(2026, 11, 24)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    model = load_model(None)
    started = time.perf_counter()
    accounts, metrics = generate_portfolio(args.accounts, TODAY, seed=7)
    print(
        f"input: {len(accounts):,} accounts ({accounts['churned_on'].notna().sum():,} former customers), "
        f"{len(metrics):,} snapshots, generated in {time.perf_counter() - started:.1f} s"
    )
    print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    times = []
    for run in range(args.runs):
        gc.collect()
        started = time.perf_counter()
        result = backtest(accounts, metrics, model, horizon_days=90)
        times.append(time.perf_counter() - started)
        print(f"  run {run + 1}: {times[-1]:.1f} s")
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    median = statistics.median(times)
    v = result.validation
    print(
        f"backtest, median of {args.runs}: {median:.1f} s for {result.observations:,} labelled observations "
        f"({len(metrics) / median:,.0f} snapshots/s); {len(result.measures)} measures reported"
    )
    print(
        f"split: learned on {v.train_observations:,} observations of {v.train_accounts:,} accounts, tested on "
        f"{v.test_observations:,} of {v.test_accounts:,} (cut {v.cut_date})"
    )
    print("out-of-time ROC AUC: " + ", ".join(f"{b.key} {b.auc}" for b in result.baselines))
    print(f"peak memory: {rss_peak / 2**30:.2f} GiB process RSS (input included)")
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    verdict = "meets" if median < 60 and rss_peak < 2 * 2**30 else "MISSES"
    print(f"target under 60 s and 2 GB: {verdict}")


if __name__ == "__main__":
    main()
