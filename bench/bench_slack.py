"""Benchmark: `/health <account>` and `/health portfolio` against a store of 100,000 accounts.

The real app (Flask + Bolt, as gunicorn serves it) answers signed slash commands over loopback HTTP; a stand-in for
Slack's Web API receives the answers on their response_url. Server-side times, per request:

- ack: from the request entering the WSGI app to its HTTP response being ready (Slack's 3-second limit);
- answer: from the request entering the WSGI app to the answer arriving at the response_url.

Targets (issue 4): p99 under 100 ms to ack and under 500 ms to answer.

    python bench/bench_slack.py [--accounts 100000] [--requests 200] [--db URL]
"""

from __future__ import annotations

import argparse
import logging
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from bot.importer import import_frames  # noqa: E402
from bot.sample import generate_portfolio  # noqa: E402
from bot.scoring_runs import score_and_store  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.slack.server import create_wsgi_app  # noqa: E402
from bot.store import create_db_engine, init_db  # noqa: E402
from scoring import load_model  # noqa: E402
from tests.handlers.slack.requests import SIGNING_SECRET, SignedClient, slash_command  # noqa: E402
from tests.slack_api import BOT_TOKEN, SlackApiStandIn  # noqa: E402

CSMS = 200


def csm_slack_id(n: int) -> str:
    return f"U0CSM{n:05d}"


def build_store(url: str, accounts: int) -> list[str]:
    """The generated portfolio (13 monthly snapshots an account) spread over 200 CSMs, imported and scored as a
    team would: `healthbot import`, then `healthbot score`. Returns the current accounts' names."""
    engine = create_db_engine(url)
    init_db(engine)
    today = date.today()
    book, metrics = generate_portfolio(accounts, today)
    owner = np.arange(len(book)) % CSMS
    book["csm_owner"] = [f"CSM {n:03d}" for n in owner]
    book["csm_slack_id"] = [csm_slack_id(n) for n in owner]
    book["csm_email"] = [f"csm{n:03d}@example.com" for n in owner]
    import_frames(engine, accounts=book, metrics=metrics)
    score_and_store(engine, load_model(None), as_of=today)
    engine.dispose()
    return book.loc[book["churned_on"].isna(), "name"].tolist()


class Timed:
    """WSGI middleware that notes when each request entered the app and when its response was ready."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.started: dict[str, float] = {}
        self.acked: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request_id = environ.get("HTTP_X_BENCH_ID", "")
        started = time.monotonic()
        result = self.app(environ, start_response)
        with self._lock:
            self.started[request_id] = started
            self.acked[request_id] = time.monotonic()
        return result


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(
    command_texts: list[str],
    *,
    label: str,
    client: SignedClient,
    api: SlackApiStandIn,
    timed: Timed,
    asker: Callable[[int], str] = lambda n: csm_slack_id(n % CSMS),
) -> None:
    ack_ms, answer_ms = [], []
    slug = "".join(char for char in label if char.isalnum())
    for n, text in enumerate(command_texts):
        request_id = f"{slug}-{n}"
        form = slash_command(text, response_url=api.response_url(request_id), user_id=asker(n))
        reply = client.command(form, headers={"X-Bench-Id": request_id})
        assert reply.status == 200, reply
        answered = wait_for_response(api, f"/response/{request_id}")
        ack_ms.append((timed.acked[request_id] - timed.started[request_id]) * 1000)
        answer_ms.append((answered - timed.started[request_id]) * 1000)
    print(
        f"{label:<22} n={len(command_texts):>4}  ack p50 {statistics.median(ack_ms):6.1f} ms  "
        f"p99 {percentile(ack_ms, 0.99):6.1f} ms   answer p50 {statistics.median(answer_ms):6.1f} ms  "
        f"p99 {percentile(answer_ms, 0.99):6.1f} ms"
    )


def wait_for_response(api: SlackApiStandIn, path: str, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in api.sent("response_url"):
            if call.path == path:
                return call.at
        time.sleep(0.001)
    raise TimeoutError(f"no answer at {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, SlackApiStandIn() as api:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        started = time.monotonic()
        names = build_store(url, args.accounts)
        print(f"store: {args.accounts:,} accounts built in {time.monotonic() - started:.1f} s ({url.split(':')[0]})")

        settings = Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=api.base_url,
            database_url=url,
        )
        timed = Timed(create_wsgi_app(settings))
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request would drown the figures
        server = make_server("127.0.0.1", 0, timed, threaded=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        client = SignedClient(f"http://127.0.0.1:{server.port}")
        try:
            rng = random.Random(7)
            accounts = [rng.choice(names) for _ in range(args.requests)]
            run(["help"] * 20, label="warm-up (help)", client=client, api=api, timed=timed)
            run(accounts, label="/health <account>", client=client, api=api, timed=timed)
            run(["portfolio"] * args.requests, label="/health portfolio", client=client, api=api, timed=timed)
            # Someone with no accounts: the Slack ID misses, so their email is looked up and matched too.
            for n in range(args.requests):
                api.add_user(f"U0VP{n:06d}", name=f"Vice President {n}", email=f"vp{n}@example.com")
            run(
                ["portfolio"] * args.requests,
                label="portfolio, no book",
                client=client,
                api=api,
                timed=timed,
                asker=lambda n: f"U0VP{n:06d}",
            )
        finally:
            server.shutdown()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS): {peak_mb:.0f} MB")
    print("targets: p99 ack < 100 ms, p99 answer < 500 ms")


if __name__ == "__main__":
    main()
