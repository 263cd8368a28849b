"""Benchmark: score 100,000 accounts × 13 monthly snapshots with the default health model.

Times `scoring.score_snapshots` on a book from `bot.sample.generate_portfolio` (every snapshot: dimensions, score,
band, confidence, trend, all signals) and, once, the findings with facts for each account's latest snapshot as the
JSON `healthbot score` stores, and the findings and dimensions of every earlier snapshot (what `--history` stores).
The whole commands, store included, are timed by bench/bench_commands.py.

Prints the median of `--runs` runs, accounts per second, and peak memory two ways: the process's peak RSS (input
frames included, from `resource.getrusage`) and the scoring call's own peak allocation
(`tracemalloc`, in a separate untimed run).

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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.sample import generate_portfolio  # noqa: E402
from bot.scoring_runs import dimensions_json  # noqa: E402
from scoring import load_model, score_snapshots  # noqa: E402
from scoring.findings import findings_json  # noqa: E402

TODAY = date(2026, 11, 24)
KEY = '"key":'  # one per finding in the stored JSON


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", default="default", help="a built-in model name or a model file")
    args = parser.parse_args()

    model = load_model(args.model)
    started = time.perf_counter()
    accounts, metrics = generate_portfolio(args.accounts, TODAY, seed=7)
    took = time.perf_counter() - started
    print(f"input: {len(accounts):,} accounts, {len(metrics):,} snapshots generated in {took:.1f} s")
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
    findings = findings_json(scored, latest)
    facts_seconds = time.perf_counter() - started
    earlier = np.flatnonzero(~np.isin(np.arange(scored.table.n), latest))
    started = time.perf_counter()
    findings_json(scored, earlier, with_facts=False)
    dimensions_json(scored.dimensions, np.arange(scored.table.n))
    history_seconds = time.perf_counter() - started
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
        f"findings with facts for today's {len(latest):,} accounts, as the store keeps them (JSON): "
        f"{facts_seconds:.2f} s ({sum(text.count(KEY) for text in findings):,} findings)"
    )
    print(f"findings of every earlier snapshot and every snapshot's dimensions as JSON: {history_seconds:.2f} s")
    print(
        f"peak memory: {rss_peak / 2**30:.2f} GiB process RSS (input included), "
        f"{traced_peak / 2**30:.2f} GiB allocated by scoring (tracemalloc)"
    )
    print(f"today's bands: {bands}")
    verdict = "meets" if median < 3 and rss_peak < 2 * 2**30 else "MISSES"
    print(f"target under 3 s and 2 GB: {verdict}")


if __name__ == "__main__":
    main()
