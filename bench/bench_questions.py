"""Benchmark: plain-words questions answered over a store of 100,000 accounts (issue 13).

Times, per question, what happens after Slack's ack: reading the question against the store's vocabulary, building
the answer's view model from the store, and rendering it as Block Kit — everything between the ack and the post.
The vocabulary is read once a minute per store; its first read is timed separately.

Target (issue 13): p99 under 300 ms.

    python bench/bench_questions.py [--accounts 100000] [--rounds 3] [--db URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.bench_slack import CSMS, build_store, csm_slack_id, percentile  # noqa: E402
from bot.answers import AnswerContext, answer  # noqa: E402
from bot.intents import parse_question  # noqa: E402
from bot.questions import vocabulary  # noqa: E402
from bot.scoring_runs import ACCOUNTS  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.store import create_db_engine  # noqa: E402
from messages.blockkit import render_message  # noqa: E402

TEMPLATES = (
    "how is {account} doing?",
    "why is {account} red?",
    "{account} vs {other}",
    "success plan for {account}",
    "QBR prep for {account}",
    "renewal strategy for {account}",
    "expansion opportunities for {account}",
    "{account} trend over the last 6 months",
    "what changed for {account} since last month",
    "how many red accounts does {csm} have?",
    "{first}'s renewals in the next 60 days",
    "{csm} portfolio",
    "my red accounts",
    "which of my accounts haven't been touched in 30 days",
    "red accounts in Enterprise",
    "top 5 accounts by ARR in EMEA",
    "detractors in SMB",
    "accounts that dropped 10+ points",
    "renewals in the next 30 days",
    "how is the health score calculated?",
    "delete all accounts",
    "red accounts for Bob",
)


def questions(names: list[str], rounds: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(template, question, asker): every template `rounds` times, with accounts and CSMs drawn at random."""
    out = []
    for _ in range(rounds):
        for template in TEMPLATES:
            n = rng.randrange(CSMS)
            text = template.format(account=rng.choice(names), other=rng.choice(names), csm=f"CSM {n:03d}", first="CSM")
            out.append((template, text, csm_slack_id(n)))
    rng.shuffle(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db", default=None, help="an already built store (else one is generated)")
    args = parser.parse_args()
    url = args.db
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="healthbot-bench-questions-"))
        url = f"sqlite:///{folder / 'healthbot.db'}"
        started = time.perf_counter()
        build_store(url, args.accounts)
        print(f"built a store of {args.accounts:,} accounts in {time.perf_counter() - started:.0f} s: {url}")
    engine = create_db_engine(url)
    with engine.connect() as connection:
        names = [r[0] for r in connection.execute(select(ACCOUNTS.c.name).where(ACCOUNTS.c.churned_on.is_(None)))]
        total = connection.execute(select(func.count()).select_from(ACCOUNTS)).scalar()
    settings = load_settings(database_url=url)
    started = time.perf_counter()
    vocabulary(engine, fresh=True)
    print(f"{total:,} accounts; vocabulary read in {(time.perf_counter() - started) * 1000:.0f} ms (once a minute)")
    today = date.today()
    # The first ask of a kind pays one-off costs a running app pays once: the backtest behind "how is the score
    # calculated" (once per scored day), SQLite's page cache. Timed and shown apart.
    for template in TEMPLATES:
        text = template.format(account=names[0], other=names[1], csm="CSM 000", first="CSM")
        started = time.perf_counter()
        render_message(answer(parse_question(text), ctx=AnswerContext(engine=engine, settings=settings, today=today)))
        print(f"  first ask: {template:<55} {(time.perf_counter() - started) * 1000:7.1f} ms")
    by_template: dict[str, list[float]] = {}
    timings: list[float] = []
    asked = questions(names, args.rounds, random.Random(13))
    for template, text, asker in asked:
        vocabulary(engine)  # the cache as a running app has it
        started = time.perf_counter()
        view = answer(
            parse_question(text), ctx=AnswerContext(engine=engine, settings=settings, user_id=asker, today=today)
        )
        render_message(view)
        ms = (time.perf_counter() - started) * 1000
        timings.append(ms)
        by_template.setdefault(template, []).append(ms)
    for template, values in sorted(by_template.items(), key=lambda kv: -max(kv[1])):
        print(f"  {template:<55} p50 {statistics.median(values):6.1f} ms  max {max(values):6.1f} ms")
    print(
        f"questions n={len(timings)}  p50 {statistics.median(timings):.1f} ms  p99 {percentile(timings, 0.99):.1f} ms"
        f"  max {max(timings):.1f} ms"
    )


if __name__ == "__main__":
    main()
