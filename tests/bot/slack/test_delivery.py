"""Posting exactly once against the Slack Web API stand-in: twice, concurrently, after a restart, through a 429
storm, and after an outage that the next run repairs; posts to one channel paced."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.ledger import Ledger
from bot.settings import Settings
from bot.slack.app import create_web_client
from bot.slack.delivery import Pacer, post_once, unsent
from bot.store import SentMessage, create_db_engine, read_session, write_session
from bot.store.tables import utcnow
from tests.slack_api import BOT_TOKEN, SlackApiStandIn

SARAH, MIKE, TEAM_CHANNEL = "U0SARAH001", "U0MIKE0001", "C0CSTEAM01"
EVERYONE = sorted([SARAH, MIKE, TEAM_CHANNEL])
MESSAGE = {
    "text": "Early-warning digest for Sarah Chen",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Nothing needs you this morning."}}],
}


@pytest.fixture
def api() -> Iterator[SlackApiStandIn]:
    with SlackApiStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def client(api: SlackApiStandIn) -> WebClient:
    return create_web_client(Settings(slack_bot_token=BOT_TOKEN, slack_api_url=api.base_url))


def post(engine: Engine, client: WebClient, channel: str = SARAH, day: str = "2026-11-24") -> str:
    return post_once(
        engine, client, key=f"digest:{day}:{channel}", kind="digest", channel=channel, message=MESSAGE
    ).outcome


def test_posting_twice_posts_once(engine: Engine, client: WebClient, api: SlackApiStandIn) -> None:
    assert post(engine, client) == "sent"
    assert post(engine, client) == "already_sent"
    assert post(engine, client, day="2026-11-25") == "sent"  # a new day is a new digest
    assert [call.params["channel"] for call in api.sent("chat.postMessage")] == [SARAH, SARAH]
    with read_session(engine) as session:
        row = session.exec(select(SentMessage).where(SentMessage.dedupe_key == "digest:2026-11-24:U0SARAH001")).one()
    assert row.status == "sent" and row.ts is not None and row.sent_at is not None


def test_after_a_restart_nothing_new_is_posted(db_url: str, engine: Engine, api: SlackApiStandIn) -> None:
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=api.base_url)
    assert post(engine, create_web_client(settings)) == "sent"
    engine.dispose()
    restarted = create_db_engine(db_url)  # a new process: new engine, new client, the same store
    assert post(restarted, create_web_client(settings)) == "already_sent"
    restarted.dispose()
    assert len(api.sent("chat.postMessage")) == 1


def test_two_posters_at_once_post_once(db_url: str, engine: Engine, api: SlackApiStandIn) -> None:
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=api.base_url)
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def scheduler() -> None:  # each "scheduler" with its own engine, as two processes would have
        own = create_db_engine(db_url)
        start.wait()
        for channel in (SARAH, MIKE, TEAM_CHANNEL):
            outcomes.append(post(own, create_web_client(settings), channel=channel))
        own.dispose()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(call.params["channel"] for call in api.sent("chat.postMessage")) == EVERYONE
    assert outcomes.count("sent") == 3 and len(outcomes) == 12


def test_a_429_storm_still_delivers_every_message_exactly_once(
    engine: Engine, client: WebClient, api: SlackApiStandIn
) -> None:
    api.fail("chat.postMessage", status=429, times=6, retry_after=0)
    outcomes = [post(engine, client, channel=c) for c in (SARAH, MIKE, TEAM_CHANNEL)]
    assert outcomes == ["sent", "sent", "sent"]
    assert len(api.attempts("chat.postMessage")) == 9
    assert sorted(call.params["channel"] for call in api.sent("chat.postMessage")) == EVERYONE


def test_an_outage_leaves_the_message_unsent_and_the_next_run_sends_it(
    engine: Engine, client: WebClient, api: SlackApiStandIn
) -> None:
    api.fail("chat.postMessage", status=503, times=1)
    assert post(engine, client) == "unknown"  # a 5xx may come after Slack posted: looked for before posting again
    [failed] = unsent(engine)
    assert failed.status == "unknown" and "503" in (failed.error or "")

    assert post(engine, client) == "sent"  # the next run
    assert post(engine, client) == "already_sent"
    assert len(api.sent("chat.postMessage")) == 1 and unsent(engine) == []


def test_connection_refused_leaves_it_for_the_next_run(engine: Engine, client: WebClient, api: SlackApiStandIn) -> None:
    nobody_listening = WebClient(token=BOT_TOKEN, base_url="http://127.0.0.1:9/api/", timeout=2)
    assert post(engine, nobody_listening) == "failed"
    assert "could not reach Slack" in (unsent(engine)[0].error or "")
    assert post(engine, client) == "sent"


def test_a_message_another_process_is_posting_is_left_alone_until_its_claim_lapses(
    engine: Engine, client: WebClient, api: SlackApiStandIn
) -> None:
    with write_session(engine) as session:
        session.add(SentMessage(dedupe_key="digest:2026-11-24:U0SARAH001", kind="digest", channel=SARAH,
                                claimed_at=utcnow()))  # fmt: skip
    assert post(engine, client) == "in_progress"
    with write_session(engine) as session:
        row = session.exec(select(SentMessage)).one()
        row.claimed_at = utcnow() - timedelta(seconds=Ledger(engine).claim_seconds + 1)  # it died mid-post
        session.add(row)
    assert post(engine, client) == "sent"
    assert len(api.sent("chat.postMessage")) == 1


def test_posts_to_one_channel_are_paced(engine: Engine, client: WebClient, api: SlackApiStandIn) -> None:
    pacer = Pacer(gap=0.25)
    for n in range(3):
        post_once(engine, client, key=f"alert:{n}", kind="alert", channel=TEAM_CHANNEL, message=MESSAGE, pacer=pacer)
        post_once(engine, client, key=f"alert:{n}:dm", kind="alert", channel=SARAH, message=MESSAGE, pacer=pacer)
    team = [call.at for call in api.sent("chat.postMessage") if call.params["channel"] == TEAM_CHANNEL]
    assert len(team) == 3
    assert all(later - earlier >= 0.24 for earlier, later in itertools.pairwise(team))
    everything = [call.at for call in api.sent("chat.postMessage")]
    assert everything[-1] - everything[0] < 1.5  # other channels are not held up by it
