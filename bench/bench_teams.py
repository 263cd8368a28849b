"""Benchmark: questions to the Teams app against a large store.

The real Teams app (the SDK's FastAPI server, token check included) answers Bot Framework activities posted over
loopback HTTP, signed as the connector signs them; a stand-in for the connector at the activity's serviceUrl
receives the answering cards. Per question:

- response: from posting the activity to its HTTP response (Teams waits at most 15 s for it);
- answer: from posting the activity to the card arriving at the serviceUrl.

    python bench/bench_teams.py [--accounts 100000] [--requests 100] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_slack import CSMS, build_store, percentile  # noqa: E402

from bot.settings import Settings  # noqa: E402
from bot.store import create_db_engine  # noqa: E402
from bot.teams.app import create_teams_app  # noqa: E402
from tests.teams.conftest import CLIENT_ID, SECRET, TENANT_ID, RunningTeams, free_port, personal_message  # noqa: E402
from tests.teams.teams_api import TeamsApiStandIn  # noqa: E402


def run(questions: list[str], *, label: str, teams: RunningTeams) -> None:
    response_ms, answer_ms = [], []
    for text in questions:
        before = len(teams.api.calls("create"))
        started = time.monotonic()
        status, _ = teams.post(personal_message(text, teams.api.service_url))
        responded = time.monotonic()
        assert status == 200, status
        [*_, answered] = teams.api.wait_for("create", count=before + 1, timeout=300)
        response_ms.append((responded - started) * 1000)
        answer_ms.append((answered.at - started) * 1000)
    print(
        f"{label:<24} n={len(questions):>4}  response p50 {statistics.median(response_ms):6.1f} ms  "
        f"p99 {percentile(response_ms, 0.99):6.1f} ms   answer p50 {statistics.median(answer_ms):6.1f} ms  "
        f"p99 {percentile(answer_ms, 0.99):6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    logging.getLogger("microsoft_teams").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory() as folder, TeamsApiStandIn() as api:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        started = time.monotonic()
        names = build_store(url, args.accounts)
        print(f"store: {args.accounts:,} accounts built in {time.monotonic() - started:.1f} s ({url.split(':')[0]})")
        api.add_member("29:1sarah", name="CSM 001", email="csm001@example.com", aad="aad-csm-001")
        settings = Settings(
            database_url=url,
            teams_client_id=CLIENT_ID,
            teams_client_secret=SECRET,
            teams_tenant_id=TENANT_ID,
            teams_openid_metadata_url=api.openid_metadata_url,
        )
        engine = create_db_engine(url)
        outbound = api.sign(audience="https://api.botframework.com")
        port = free_port()
        bot = create_teams_app(settings, engine=engine, port=port, host="127.0.0.1", token=lambda *_: outbound)
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_until_complete, args=(bot.serve(),), daemon=True).start()
        time.sleep(1.0)
        teams = RunningTeams(bot, api, engine, settings, f"http://127.0.0.1:{port}", outbound)
        try:
            rng = random.Random(7)
            run(["help"] * 10, label="warm-up (help)", teams=teams)
            run([f"health {rng.choice(names)}" for _ in range(args.requests)], label="health <account>", teams=teams)
            run(["portfolio me"] * args.requests, label=f"portfolio me (1 of {CSMS})", teams=teams)
            run(["risks"] * 5, label="risks (whole book)", teams=teams)
        finally:
            asyncio.run_coroutine_threadsafe(bot.stop(), loop).result(timeout=10)


if __name__ == "__main__":
    main()
