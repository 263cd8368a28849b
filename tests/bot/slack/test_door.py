"""Our own checks at the door, on their own: the signature and timestamp check (`SlackSignature`) with a clock we
set, the shape check (`malformed`), and the door in front of a Bolt app whose own signature check is switched off —
so these tests fail if our checks go, even though Bolt would refuse the same requests behind them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from slack_bolt.middleware import RequestVerification
from sqlalchemy.engine import Engine
from werkzeug.serving import make_server

from bot.settings import Settings
from bot.slack.app import create_app, create_web_client
from bot.slack.server import SIGNATURE_MAX_AGE_SECONDS, SlackSignature, build_wsgi_app, malformed
from tests.handlers.slack.requests import SIGNING_SECRET, SignedClient, app_mention, event_envelope, signature
from tests.slack_api import BOT_TOKEN, SlackApiStandIn

NOW = 1_764_600_000
BODY = b'{"type":"event_callback"}'


def headers(timestamp: str = str(NOW), body: bytes = BODY, secret: str = SIGNING_SECRET) -> dict[str, str]:
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(body, timestamp=timestamp, secret=secret),
    }


@pytest.fixture
def door() -> SlackSignature:
    return SlackSignature(SIGNING_SECRET, clock=lambda: NOW)


def test_slacks_own_signature_passes(door: SlackSignature) -> None:
    assert door.problem(BODY, headers()) is None


@pytest.mark.parametrize("offset", [SIGNATURE_MAX_AGE_SECONDS, -SIGNATURE_MAX_AGE_SECONDS, 5])
def test_a_signature_up_to_five_minutes_off_passes(door: SlackSignature, offset: int) -> None:
    assert door.problem(BODY, headers(str(NOW + offset))) is None


@pytest.mark.parametrize("offset", [SIGNATURE_MAX_AGE_SECONDS + 1, -(SIGNATURE_MAX_AGE_SECONDS + 1), 86_400])
def test_a_signature_more_than_five_minutes_off_is_refused(door: SlackSignature, offset: int) -> None:
    problem = door.problem(BODY, headers(str(NOW + offset)))
    assert problem is not None and "5 minutes" in problem


def test_a_missing_signature_or_timestamp_is_refused(door: SlackSignature) -> None:
    full = headers()
    for missing in ("X-Slack-Request-Timestamp", "X-Slack-Signature"):
        partial = {name: value for name, value in full.items() if name != missing}
        assert door.problem(BODY, partial) == "no Slack signature"
    assert door.problem(BODY, {}) == "no Slack signature"


@pytest.mark.parametrize("timestamp", ["abc", "1.5", "-1", " 1764600000", "9" * 13])
def test_a_malformed_timestamp_is_refused(door: SlackSignature, timestamp: str) -> None:
    assert door.problem(BODY, headers(timestamp)) == "a malformed signature timestamp"


def test_a_wrong_secret_or_a_changed_body_is_refused(door: SlackSignature) -> None:
    assert "wrong signature" in (door.problem(BODY, headers(secret="another-apps-secret")) or "")
    assert "wrong signature" in (door.problem(BODY + b" ", headers()) or "")
    signed_then = headers(str(NOW - 1))
    moved = {**signed_then, "X-Slack-Request-Timestamp": str(NOW)}  # the same signature under another timestamp
    assert "wrong signature" in (door.problem(BODY, moved) or "")


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (b"", "application/x-www-form-urlencoded", "an empty body"),
        (b"payload=notjson", "application/x-www-form-urlencoded", "the payload is not JSON"),
        (b"payload=", "application/x-www-form-urlencoded", "the payload is not JSON"),
        (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded", "the payload is a JSON list, not an object"),
        (b'payload={"actions":[]}', "application/x-www-form-urlencoded", "the payload has no type"),
        (b'payload={"type":"block_actions","user":"U1"}', "application/x-www-form-urlencoded", "user is not"),
        (b'payload={"type":"block_actions","actions":[1]}', "application/x-www-form-urlencoded", "actions are not"),
        (b"notjson", "application/json", "the JSON body is not JSON"),
        (b"[]", "application/json", "the JSON body is a JSON list, not an object"),
        (b"text=risks", "application/x-www-form-urlencoded", "neither a slash command nor an interaction"),
        (b"\xff\xfe", "application/json", "not UTF-8"),
        (b'payload={"type":"view_submission","view":{}}', "application/x-www-form-urlencoded", "names no user"),
        (
            b'payload={"type":"view_submission","user":{"id":"U1"},"view":{"state":{"values":[1]}}}',
            "application/x-www-form-urlencoded",
            "form values are not the shape",
        ),
    ],
)
def test_bodies_slack_never_sends_are_named(body: bytes, content_type: str, problem: str) -> None:
    assert problem in (malformed(body, content_type) or "")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (urlencode({"command": "/health", "text": "risks"}).encode(), "application/x-www-form-urlencoded"),
        (
            urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": []})}).encode(),
            "application/x-www-form-urlencoded",
        ),
        (b"ssl_check=1&token=x", "application/x-www-form-urlencoded"),
        (json.dumps({"type": "url_verification", "challenge": "c"}).encode(), "application/json; charset=utf-8"),
    ],
)
def test_what_slack_sends_is_let_through(body: bytes, content_type: str) -> None:
    assert malformed(body, content_type) is None


# --- the door alone, over HTTP, with Bolt's own check switched off ---------------------------------------------------


@pytest.fixture
def unlocked_bot(slack_api: SlackApiStandIn, store: Engine) -> Iterator[SignedClient]:
    """Bolt without its own signature check (no signing secret in its settings), behind our door."""
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=slack_api.base_url)
    bolt = create_app(settings, engine=store, client=create_web_client(settings))
    assert not any(isinstance(m, RequestVerification) for m in bolt._middleware_list)  # the door is the only lock
    app = build_wsgi_app(bolt, engine=store, signing_secret=SIGNING_SECRET)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    slack_api.clear()
    yield SignedClient(f"http://127.0.0.1:{server.port}")
    server.shutdown()
    thread.join(timeout=5)
    bolt.listener_runner.listener_executor.shutdown(wait=True)


def test_the_door_alone_refuses_what_is_not_signed_by_slack(
    unlocked_bot: SignedClient, slack_api: SlackApiStandIn
) -> None:
    body = json.dumps(event_envelope(app_mention("how is Acme Corp doing?"))).encode()
    assert unlocked_bot.post(body, "application/json", unsigned=True).status == 401
    assert unlocked_bot.post(body, "application/json", secret="another-apps-secret").status == 401
    assert unlocked_bot.post(body, "application/json", timestamp=str(NOW - 10 * 365 * 86_400)).status == 401
    assert unlocked_bot.post(body, "application/json", signed_body=body + b" ").status == 401
    slack_api.assert_quiet()
    assert unlocked_bot.post(body, "application/json").status == 200  # and lets Slack's own request in
    slack_api.wait_for("chat.postMessage")


def test_the_door_alone_refuses_signed_bodies_of_the_wrong_shape(
    unlocked_bot: SignedClient, slack_api: SlackApiStandIn
) -> None:
    for body in (b"payload=notjson", b"payload=", b"payload=%5B1%5D"):
        reply = unlocked_bot.post(body, "application/x-www-form-urlencoded")
        assert reply.status == 400 and b"malformed request" in reply.body
    slack_api.assert_quiet()
