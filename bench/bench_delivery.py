"""Benchmark: what the delivery ledger costs per message, and what a rerun costs.

Posts `--messages` digests (one per CSM, each to its own DM) through the ledger to the Slack stand-in on loopback —
claim, chat.postMessage with the delivery key in its metadata, mark sent — then runs the same delivery again (every
message already sent: the ledger answers without calling Slack), and once more after a fault that left a tenth of
them `unknown` (each looked for with conversations.history before it is posted). Prints the median of `--runs`
runs, per message, for SQLite (a file) and for PostgreSQL when TEST_POSTGRES_URL is set.

    python bench/bench_delivery.py [--messages 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlmodel import update  # noqa: E402

from bot.ledger import Ledger  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.slack.app import create_web_client  # noqa: E402
from bot.slack.delivery import Pacer, SlackOutbox  # noqa: E402
from bot.store import SentMessage, create_db_engine, init_db, write_session  # noqa: E402
from bot.store.db import normalise_url  # noqa: E402
from tests.slack_api import BOT_TOKEN, SlackApiStandIn  # noqa: E402

MESSAGE = {"text": "Early-warning digest", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "…"}}]}


def deliver_all(outbox: SlackOutbox, messages: int, run: int) -> float:
    started = time.perf_counter()
    for n in range(messages):
        outbox.post(key=f"digest:{run}:{n}", kind="digest", channel=f"U0CSM{n:05d}", message=MESSAGE)
    return (time.perf_counter() - started) / messages * 1000


def bench(url: str, label: str, messages: int, runs: int) -> None:
    first, again, looked = [], [], []
    for run in range(runs):
        with SlackApiStandIn() as api:
            engine = create_db_engine(url)
            init_db(engine)
            settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=api.base_url)
            outbox = SlackOutbox(Ledger.from_settings(engine, settings), create_web_client(settings), Pacer(gap=0))
            first.append(deliver_all(outbox, messages, run))
            again.append(deliver_all(outbox, messages, run))
            with write_session(engine) as session:  # a tenth of them lost their answer: unknown, never posted
                session.execute(
                    update(SentMessage).where(SentMessage.id % 10 == 0).values(status="unknown", ts=None)  # type: ignore[arg-type]
                )
            looked.append(deliver_all(outbox, messages, run))
            engine.dispose()
    print(
        f"{label}: {messages} messages, median of {runs} runs — "
        f"first delivery {statistics.median(first):.1f} ms/message, "
        f"rerun {statistics.median(again):.2f} ms/message, rerun with 10% unknown {statistics.median(looked):.1f} "
        "ms/message"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{Path(folder) / 'bench.db'}", "SQLite", args.messages, args.runs)
    postgres = os.environ.get("TEST_POSTGRES_URL")
    if postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalise_url(postgres))
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            sep = "&" if "?" in postgres else "?"
            bench(
                f"{normalise_url(postgres)}{sep}options=-csearch_path%3D{schema}",
                "PostgreSQL",
                args.messages,
                args.runs,
            )
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
