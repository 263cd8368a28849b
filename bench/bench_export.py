"""Benchmark: export the report for 100,000 accounts to XLSX (issue 6: under 60 s) and CSV.

    python bench/bench_export.py [--accounts 100000] [--runs 3] [--group-by segment]

Prints the median seconds per format and the peak memory of the process. The report table is synthetic but shaped
like `bot.insights.report_table`'s (the CONTRACT columns plus Industry / Upsell Opportunity), so this measures the
export alone, not scoring.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from bot.export import summarise_report, write_report

RISKS = np.array(
    [
        "",
        "Usage decline: seat utilisation down 31%",
        "Support spike (8 tickets in 30 days)",
        "NPS drop",
        "No login in 14+ days",
        "Invoice overdue",
        "Champion left; Usage decline",
        "Renewal risk; Support spike",
    ]
)


def synthetic_report_table(n_accounts: int, *, today: date, seed: int = 7) -> pd.DataFrame:
    """A report table for `n_accounts` with believable spreads of scores, bands, ARR and notes."""
    rng = np.random.default_rng(seed)
    score = np.clip(rng.normal(72, 14, n_accounts), 0, 100).round(1)
    status = np.select([score >= 80, score >= 60], ["Green", "Yellow"], "Red")
    csms = np.array([f"CSM {i:03d}" for i in range(n_accounts // 150 + 1)])
    renewal = pd.Timestamp(today) + pd.to_timedelta(rng.integers(1, 365, n_accounts), unit="D")
    touch = pd.Series(pd.Timestamp(today) - pd.to_timedelta(rng.integers(0, 120, n_accounts), unit="D"))
    touch[rng.random(n_accounts) < 0.05] = pd.NaT
    risks = np.where(status == "Green", "", RISKS[rng.integers(0, len(RISKS), n_accounts)])
    return pd.DataFrame(
        {
            "Account ID": [f"ACCT-{i:06d}" for i in range(n_accounts)],
            "Account Name": [f"Customer {i} Inc" for i in range(n_accounts)],
            "CSM Owner": csms[rng.integers(0, len(csms), n_accounts)],
            "Health Score": score,
            "Status": status,
            "Last Touch": touch.dt.date,
            "Risk Notes": risks,
            "Action Needed": np.where(status == "Red", "Executive escalation", "Keep cadence"),
            "Trend vs Last Month": rng.normal(0, 5, n_accounts).round(1),
            "Segment": rng.choice(["Enterprise", "Mid-Market", "SMB"], n_accounts, p=[0.2, 0.3, 0.5]),
            "ARR": rng.lognormal(10.5, 0.9, n_accounts).round(0),
            "Renewal Date": renewal.date,
            "Confidence": rng.uniform(0.6, 1.0, n_accounts).round(2),
            "Industry": rng.choice(["Software", "Healthcare", "Retail", "Finance", "Manufacturing"], n_accounts),
            "Upsell Opportunity": np.where((score > 85) & (rng.random(n_accounts) < 0.3), "Seat expansion", ""),
        }
    )


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--group-by", default=None, choices=["csm", "segment", "industry"])
    args = parser.parse_args()

    started = time.perf_counter()
    table = synthetic_report_table(args.accounts, today=date.today() - timedelta(days=0))
    print(f"table: {len(table):,} accounts built in {time.perf_counter() - started:.1f} s")

    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("csv", "xlsx"):
            timings = []
            for _ in range(args.runs):
                started = time.perf_counter()
                summary = summarise_report(table, group_by=args.group_by)
                result = write_report(
                    table, Path(folder) / f"report.{fmt}", format=fmt, group_by=args.group_by, summary=summary
                )
                timings.append(time.perf_counter() - started)
            size = result.path.stat().st_size / 1e6
            sheets = f", {len(result.sheets)} sheets" if result.sheets else ""
            print(
                f"{fmt}: median {statistics.median(timings):.1f} s over {args.runs} runs "
                f"(min {min(timings):.1f}, max {max(timings):.1f}); {size:.1f} MB{sheets}"
            )
    print(f"peak memory (RSS): {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
