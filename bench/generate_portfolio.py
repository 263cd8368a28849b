"""Write a generated book as accounts.csv + metrics.csv, the files `healthbot import` reads.

python bench/generate_portfolio.py [--accounts 100000] [--out bench/out/portfolio-100000] [--today 2026-11-24]
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from bot.sample import generate_portfolio

HERE = Path(__file__).parent
DEFAULT_TODAY = date(2026, 11, 24)


def write_portfolio(n_accounts: int, folder: Path, today: date = DEFAULT_TODAY) -> tuple[Path, Path]:
    """Generate `n_accounts` accounts × 13 snapshots and write them as CSV into `folder`; return the two paths."""
    accounts, metrics = generate_portfolio(n_accounts, today)
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "accounts.csv", folder / "metrics.csv"
    for frame, path in zip((accounts, metrics), paths, strict=True):
        frame.to_csv(path, index=False, date_format="%Y-%m-%d")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--today", type=date.fromisoformat, default=DEFAULT_TODAY)
    args = parser.parse_args()
    folder = args.out or HERE / "out" / f"portfolio-{args.accounts}"
    started = time.perf_counter()
    accounts, metrics = write_portfolio(args.accounts, folder, args.today)
    seconds = time.perf_counter() - started
    print(f"wrote {accounts} and {metrics} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
