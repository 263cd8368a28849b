"""Time `healthbot import` of a generated book into a fresh SQLite file and print the figures.

    python bench/bench_import.py [--accounts 100000] [--runs 3]

Generates bench/out/portfolio-N/{accounts,metrics}.csv first if they are missing (bench/generate_portfolio.py).
Each run is the real command in its own process, so its peak memory (RSS) and CPU time are its own. On a shared
machine the wall-clock time swings with the neighbours' load; the CPU time (user + system) barely does, so both are
printed. Targets: at least 100,000 metric rows per second, under 2 GB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from generate_portfolio import HERE, write_portfolio

COMMAND = [sys.executable, "-c", "from bot.cli import main; main()", "import"]


def run_import(files: list[Path], database: Path, *, fresh: bool = True) -> tuple[float, float, int]:
    """Run `healthbot import` once; return (wall-clock seconds, CPU seconds, peak RSS in bytes)."""
    if fresh:
        for leftover in database.parent.glob(database.name + "*"):
            leftover.unlink()
    started = time.perf_counter()
    command = [*COMMAND, *map(str, files), "--db", f"sqlite:///{database}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    output = (process.stdout.read() if process.stdout else "") + (process.stderr.read() if process.stderr else "")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"healthbot import failed:\n{output}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024  # Linux reports kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    folder = HERE / "out" / f"portfolio-{args.accounts}"
    files = [folder / "accounts.csv", folder / "metrics.csv"]
    if not all(path.exists() for path in files):
        print(f"generating {args.accounts:,} accounts into {folder} …")
        write_portfolio(args.accounts, folder)
    with files[1].open("rb") as handle:
        metric_rows = sum(1 for _ in handle) - 1
    database = HERE / "out" / "bench-import.db"

    print(f"importing {args.accounts:,} accounts and {metric_rows:,} metric rows into a fresh SQLite file")
    timings, cpu_times, peaks = [], [], []
    for run in range(1, args.runs + 1):
        seconds, cpu, peak = run_import(files, database)
        timings.append(seconds)
        cpu_times.append(cpu)
        peaks.append(peak)
        rate, mb = metric_rows / seconds, peak / 2**20
        print(f"  run {run}: {seconds:6.2f} s ({cpu:5.2f} s CPU)  {rate:10,.0f} metric rows/s  peak {mb:,.0f} MB")
    again, again_cpu, _ = run_import(files, database, fresh=False)

    median, median_cpu = statistics.median(timings), statistics.median(cpu_times)
    print(f"median: {median:.2f} s for the whole command, {metric_rows / median:,.0f} metric rows/s (target ≥ 100,000)")
    print(f"median CPU time: {median_cpu:.2f} s, {metric_rows / median_cpu:,.0f} metric rows per CPU second")
    print(f"peak memory: {max(peaks) / 2**20:,.0f} MB (target < 2,048 MB)")
    print(f"re-import of the same files (nothing changes): {again:.2f} s ({again_cpu:.2f} s CPU)")


if __name__ == "__main__":
    main()
