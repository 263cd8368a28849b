"""Time the commands as users run them — each a whole process started from the shell — beside a plain pandas
reference that this file contains, run in the same session, turn about, and print the times and the ratios.

    python bench/bench_commands.py [--accounts 20000 100000] [--runs 3] [--only start import-score]

What is timed (wall-clock from process start to exit; CPU seconds and peak RSS from the kernel's accounting):

- import-score: `healthbot import accounts.csv metrics.csv` into a fresh SQLite file, then `healthbot score
  --history` (every snapshot scored and stored), against the reference: one Python process that reads both CSVs
  with pandas, validates them (required columns, dates, numbers, known accounts), writes them to SQLite with
  `DataFrame.to_sql`, scores every snapshot with `scoring.score_snapshots` and writes the scores with `to_sql`.
  Target (issue 15): at most 1.2× the reference; under 1 GB peak at 100,000 accounts.
- daily (part of import-score): the next month's snapshot imported into that store, then `healthbot score
  --as-of <that day>` (the daily run, one new snapshot), each run the day's first (the store is put back as the
  import left it before each). Target: under 3 s at 100,000 accounts.
- start: `healthbot --help` (target under 0.3 s) and `healthbot ask "Acme Corp"` on the demo store (under 1 s).

The project's modules are compiled to bytecode first (`compileall`), as every run after a user's first has them:
this machine sets PYTHONDONTWRITEBYTECODE, which would otherwise have each command (and the reference) compile
our sources again on every start.

The machine is shared: quote medians, and read the ratio (taken pair by pair) before the absolute times.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TODAY = date(2026, 11, 24)
NEXT_SNAPSHOT = date(2026, 12, 24)
HEALTHBOT = [sys.executable, "-c", "from bot.cli import main; main()"]


@dataclass(frozen=True)
class Run:
    """One finished process (or a chain of them): wall and CPU seconds, the largest peak RSS in bytes."""

    wall: float
    cpu: float
    peak: int

    def __add__(self, other: Run) -> Run:
        return Run(self.wall + other.wall, self.cpu + other.cpu, max(self.peak, other.peak))


def run(command: list[str], *, cwd: Path = ROOT) -> Run:
    """Run `command` to its end as its own process; stop the bench, showing its output, if it fails."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            output.seek(0)
            raise SystemExit(f"{' '.join(command)} failed:\n{output.read().decode(errors='replace')}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024)  # Linux reports KiB


def fresh(database: Path) -> Path:
    database.parent.mkdir(parents=True, exist_ok=True)  # bench/out, on a fresh clone
    for leftover in database.parent.glob(database.name + "*"):
        leftover.unlink()
    return database


def median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs), max(r.peak for r in runs)
    )


def show(label: str, runs: list[Run]) -> Run:
    middle = median(runs)
    walls = ", ".join(f"{r.wall:.2f}" for r in runs)
    print(
        f"  {label:<44} median {middle.wall:6.2f} s wall, {middle.cpu:6.2f} s CPU, peak {middle.peak / 2**20:6,.0f} MB"
        f"  (runs: {walls})"
    )
    return middle


def book(n_accounts: int) -> tuple[Path, Path, Path]:
    """accounts.csv, metrics.csv and next-snapshot.csv for `n_accounts` (written once under bench/out)."""
    sys.path.insert(0, str(ROOT))
    from generate_portfolio import write_portfolio

    folder = HERE / "out" / f"portfolio-{n_accounts}"
    accounts, metrics = folder / "accounts.csv", folder / "metrics.csv"
    if not (accounts.exists() and metrics.exists()):
        print(f"generating {n_accounts:,} accounts into {folder} …")
        write_portfolio(n_accounts, folder)
    following = folder / "next-snapshot.csv"
    if not following.exists():
        from bot.sample import generate_portfolio

        _, later = generate_portfolio(n_accounts, NEXT_SNAPSHOT)
        later[later["as_of"] == later["as_of"].max()].to_csv(following, index=False, date_format="%Y-%m-%d")
    return accounts, metrics, following


def import_and_score(n_accounts: int, runs: int) -> None:
    accounts, metrics, following = book(n_accounts)
    database = HERE / "out" / f"bench-commands-{n_accounts}.db"
    url = f"sqlite:///{database}"
    print(f"\nimport + score --history, {n_accounts:,} accounts × 13 snapshots ({database.name}):")
    ours: list[Run] = []
    plain: list[Run] = []
    for _ in range(runs):
        fresh(database)
        plain.append(run([sys.executable, __file__, "--reference", str(accounts.parent), str(database)]))
        fresh(database)
        imported = run([*HEALTHBOT, "import", str(accounts), str(metrics), "--db", url])
        scored = run([*HEALTHBOT, "score", "--history", "--as-of", TODAY.isoformat(), "--db", url])
        ours.append(imported + scored)
    reference = show("plain pandas reference (one process)", plain)
    healthbot = show("healthbot import + healthbot score --history", ours)
    ratios = sorted(o.wall / p.wall for o, p in zip(ours, plain, strict=True))
    verdict = "meets" if statistics.median(ratios) <= 1.2 else "MISSES"
    print(
        f"  ratio healthbot / reference: median {statistics.median(ratios):.2f}× (pairs: "
        f"{', '.join(f'{r:.2f}' for r in ratios)}); target ≤ 1.2×: {verdict}"
    )
    cpu_ratios = sorted(o.cpu / p.cpu for o, p in zip(ours, plain, strict=True))
    print(
        f"  ratio of CPU seconds (steadier than wall time on a shared machine): median "
        f"{statistics.median(cpu_ratios):.2f}× (pairs: {', '.join(f'{r:.2f}' for r in cpu_ratios)})"
    )
    print(f"  peak memory: healthbot {healthbot.peak / 2**20:,.0f} MB, reference {reference.peak / 2**20:,.0f} MB")

    print(f"\ndaily run, {n_accounts:,} accounts, one new snapshot ({NEXT_SNAPSHOT}):")
    new_day = run([*HEALTHBOT, "import", str(following), "--db", url])
    print(f"  healthbot import of that snapshot: {new_day.wall:.2f} s (once)")
    # Each run is the day's first: the store as the import left it is put back before it (and written to disk, so
    # that no run shares the disk with the copy's write-back).
    if Path(f"{database}-wal").exists():  # the import's last connection checkpoints it away as it closes
        raise SystemExit(f"{database}-wal is left: the store cannot be copied as one file")
    imported = database.with_name("imported-" + database.name)
    shutil.copyfile(database, imported)
    daily = []
    for _ in range(runs):
        shutil.copyfile(imported, fresh(database))
        os.sync()
        daily.append(run([*HEALTHBOT, "score", "--as-of", NEXT_SNAPSHOT.isoformat(), "--db", url]))
    imported.unlink()
    middle = show(f"healthbot score --as-of {NEXT_SNAPSHOT}", daily)
    print(f"  target under 3 s: {'meets' if middle.wall < 3 else 'MISSES'}")


def start_up(runs: int) -> None:
    print("\nstarting the command line:")
    database = fresh(HERE / "out" / "bench-commands-demo.db")
    url = f"sqlite:///{database}"
    run([*HEALTHBOT, "demo", "--db", url])
    helps = [run([*HEALTHBOT, "--help"]) for _ in range(runs)]
    asks = [run([*HEALTHBOT, "ask", "Acme Corp", "--db", url]) for _ in range(runs)]
    bare = [run([sys.executable, "-c", "pass"]) for _ in range(runs)]
    show("python -c pass (the interpreter alone)", bare)
    help_time = show("healthbot --help", helps).wall
    ask_time = show('healthbot ask "Acme Corp" (demo store)', asks).wall
    print(f"  targets: --help under 0.3 s: {'meets' if help_time < 0.3 else 'MISSES'}; ask under 1 s: "
          f"{'meets' if ask_time < 1 else 'MISSES'}")  # fmt: skip


def compile_project() -> None:
    """Bytecode for our packages, as Python writes it on a user's first run (see the module docstring)."""
    packages = [str(ROOT / name) for name in ("bot", "scoring", "messages", "handlers")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True, stdout=subprocess.DEVNULL)


def reference(folder: Path, database: Path) -> None:
    """The plain pandas pipeline: what `import` + `score --history` do, written the obvious vectorised way."""
    import sqlite3

    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(ROOT))
    from scoring import load_model, score_snapshots

    accounts = pd.read_csv(folder / "accounts.csv")
    metrics = pd.read_csv(folder / "metrics.csv")
    for frame, required in ((accounts, ["account_id", "name", "csm_owner"]), (metrics, ["account_id", "as_of"])):
        missing = [column for column in required if column not in frame.columns]
        if missing or frame[required].isna().any().any():
            raise SystemExit(f"bad file: {missing or 'empty required cells'}")
    for frame, dates in ((accounts, ["renewal_date", "churned_on"]), (metrics, ["as_of", "last_login",
                         "last_touch", "last_qbr"])):  # fmt: skip
        for column in dates:
            parsed = pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce")
            if (parsed.isna() & frame[column].notna()).any():
                raise SystemExit(f"bad dates in {column}")
            frame[column] = parsed
    numbers = [c for c in metrics.columns if c not in ("account_id", "as_of", "plan_change") and
               metrics[c].dtype.kind != "M"]  # fmt: skip
    for column in numbers:
        metrics[column] = pd.to_numeric(metrics[column], errors="raise")
    if not metrics["account_id"].isin(accounts["account_id"]).all():
        raise SystemExit("metrics for unknown accounts")
    with sqlite3.connect(database) as connection:
        accounts.to_sql("account", connection, index=False)
        metrics.to_sql("metric_snapshot", connection, index=False)
        model = load_model(None)
        scored = score_snapshots(accounts, metrics, model)
        keep = ~np.isnan(scored.frame["score"].to_numpy())
        rules = scored.rules.to_numpy()[keep]
        fired = np.full(int(keep.sum()), "", dtype=object)
        for j, key in enumerate(scored.rules.columns):
            fired = np.where(rules[:, j], fired + key + ";", fired)
        scores = pd.concat([scored.frame[keep], scored.dimensions[keep]], axis=1).assign(signals=fired)
        scores.to_sql("health_score", connection, index=False)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--reference":
        reference(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=["start", "import-score"], default=["start", "import-score"])
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; medians of {args.runs} runs")
    compile_project()
    if "start" in args.only:
        start_up(args.runs)
    if "import-score" in args.only:
        for n_accounts in args.accounts:
            import_and_score(n_accounts, args.runs)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
