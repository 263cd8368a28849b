"""Benchmark: the portfolio report for 100,000 accounts, exported to XLSX (issue 6: under 60 s) and CSV.

Builds a store once (bench/out/export-<N>.db, kept between runs): `bot.sample.generate_portfolio` → the importer →
`score_and_store` with 13 months of history. Then times, `--runs` times each, what `healthbot export` does:
`bot.export.export_report` (the report table read from the store, the summary, the file), and separately the
file-writing alone on the same table. Prints medians and the process's peak memory (RSS).

    python bench/bench_export.py [--accounts 100000] [--runs 3] [--group-by csm]
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import insights  # noqa: E402
from bot.export import export_report, summarise_report, write_report  # noqa: E402
from bot.importer import import_frames  # noqa: E402
from bot.sample import generate_portfolio  # noqa: E402
from bot.scoring_runs import score_and_store  # noqa: E402
from bot.store import create_db_engine, init_db  # noqa: E402
from scoring import HealthModel, load_model  # noqa: E402

TODAY = date(2026, 11, 24)
OUT = ROOT / "bench" / "out"


def scored_store(n_accounts: int, model: HealthModel) -> str:
    """A SQLite store holding `n_accounts` scored with history; built once and reused."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"export-{n_accounts}.db"
    url = f"sqlite:///{path}"
    if path.exists():
        print(f"store: reusing {path}")
        return url
    started = time.perf_counter()
    engine = create_db_engine(f"sqlite:///{path}.partial")
    init_db(engine)
    accounts, metrics = generate_portfolio(n_accounts, TODAY, seed=7)
    import_frames(engine, accounts=accounts, metrics=metrics, source="bench")
    score_and_store(engine, model, as_of=TODAY, history=True)
    engine.dispose()
    Path(f"{path}.partial").rename(path)
    print(f"store: {n_accounts:,} accounts imported and scored in {time.perf_counter() - started:.0f} s ({path})")
    return url


def timed(runs: int, job: Callable[[], Any]) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        result = job()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def spread(times: list[float]) -> str:
    return f"(runs: {', '.join(f'{t:.1f}' for t in times)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--group-by", default=None, choices=["csm", "segment", "industry", "plan_tier", "region"])
    args = parser.parse_args()

    model = load_model(None)
    engine = create_db_engine(scored_store(args.accounts, model))
    median, times, table = timed(
        args.runs, lambda: insights.report_table(engine, model, as_of=TODAY, group_by=args.group_by)
    )
    print(f"report table: {len(table):,} accounts read from the store, median {median:.1f} s {spread(times)}")

    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("xlsx", "csv"):
            target = Path(folder) / f"report.{fmt}"
            median, times, result = timed(
                args.runs,
                lambda fmt=fmt, target=target: export_report(
                    engine, model, target, format=fmt, as_of=TODAY, group_by=args.group_by
                ),
            )
            sheets = f", {len(result.sheets)} sheets" if result.sheets else ""
            size = target.stat().st_size / 1e6
            print(
                f"export {fmt} (store → file, as `healthbot export`): median {median:.1f} s {spread(times)}; "
                f"{result.rows:,} rows, {size:.1f} MB{sheets}"
            )
            summary = summarise_report(table, group_by=args.group_by, bands=[b.name for b in model.bands])
            median, times, _ = timed(
                args.runs,
                lambda fmt=fmt, target=target, summary=summary: write_report(
                    table, target, format=fmt, group_by=args.group_by, summary=summary, as_of=TODAY
                ),
            )
            print(f"  of which writing the {fmt} file: median {median:.1f} s {spread(times)}")
    engine.dispose()
    # ru_maxrss is in kilobytes on Linux; the figure includes building the store when it was built in this run.
    print(f"peak memory (RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
