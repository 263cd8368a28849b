"""HTTP mode: the signature check at the door, /healthz, and `healthbot serve` running the real server."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.slack.server import RedactSecrets, build_wsgi_app
from bot.store import create_db_engine
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import SIGNING_SECRET, SignedClient, app_mention, event_envelope, slash_command
from tests.slack_api import APP_TOKEN, BOT_TOKEN, SlackApiStandIn, SocketModeLink

ROOT = Path(__file__).resolve().parents[3]

# --- the door -----------------------------------------------------------------------------------------------------


def assert_refused_and_nothing_happened(bot: RunningBot, status: int) -> None:
    assert status == 401
    bot.api.assert_quiet()
    assert bot.processed_events() == 0


def test_a_properly_signed_request_gets_in(bot: RunningBot) -> None:
    reply = bot.client.event(event_envelope(app_mention("how is Acme Corp doing?")))
    assert reply.status == 200
    bot.api.wait_for("chat.postMessage")
    assert bot.processed_events() >= 1


def test_the_request_url_check_slack_makes_during_setup_is_answered(bot: RunningBot) -> None:
    challenge = {"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmd", "type": "url_verification"}
    reply = bot.client.event(challenge)
    assert reply.status == 200
    assert challenge["challenge"] in reply.body.decode()
    unsigned = bot.client.post(json.dumps(challenge).encode(), "application/json", unsigned=True)
    assert unsigned.status == 401


def test_a_request_without_a_signature_is_refused(bot: RunningBot) -> None:
    body = json.dumps(event_envelope(app_mention("how is Acme Corp doing?"))).encode()
    reply = bot.client.post(body, "application/json", unsigned=True)
    assert_refused_and_nothing_happened(bot, reply.status)


def test_a_signature_made_with_another_secret_is_refused(bot: RunningBot) -> None:
    reply = bot.client.event(event_envelope(app_mention("risks?")), secret="not-the-signing-secret")
    assert_refused_and_nothing_happened(bot, reply.status)


def test_a_tampered_body_is_refused(bot: RunningBot) -> None:
    original = json.dumps(event_envelope(app_mention("how is Acme Corp doing?"))).encode()
    tampered = original.replace(b"Acme Corp", b"MegaCorp!")
    reply = bot.client.post(tampered, "application/json", signed_body=original)
    assert_refused_and_nothing_happened(bot, reply.status)


def test_a_tampered_slash_command_is_refused(bot: RunningBot) -> None:
    form = slash_command("Acme Corp", response_url=bot.api.response_url())
    reply = bot.client.command(form, signed_body=b"text=something+else")
    assert_refused_and_nothing_happened(bot, reply.status)
    assert bot.api.sent("response_url") == []


@pytest.mark.parametrize("seconds", [-301, -3600, 301, 3600], ids=["5m1s-old", "1h-old", "5m1s-ahead", "1h-ahead"])
def test_a_signature_more_than_five_minutes_off_is_refused(bot: RunningBot, seconds: int) -> None:
    reply = bot.client.event(event_envelope(app_mention("risks?")), timestamp=str(int(time.time()) + seconds))
    assert_refused_and_nothing_happened(bot, reply.status)


def test_a_signature_a_little_off_is_accepted(bot: RunningBot) -> None:
    reply = bot.client.event(event_envelope(app_mention("risks?")), timestamp=str(int(time.time()) - 240))
    assert reply.status == 200
    bot.api.wait_for("chat.postMessage")


@pytest.mark.parametrize("timestamp", ["yesterday", "", "12.5", "1e9", "-1", " 1700000000", "1_700_000_000"])
def test_a_garbage_timestamp_is_a_client_error_not_a_crash(bot: RunningBot, timestamp: str) -> None:
    reply = bot.client.event(event_envelope(app_mention("risks?")), timestamp=timestamp)
    assert 400 <= reply.status < 500
    bot.api.assert_quiet(for_seconds=0.1)
    assert bot.processed_events() == 0


def test_an_oversized_body_is_refused(bot: RunningBot) -> None:
    reply = bot.client.post(b"x" * (2 * 1024 * 1024), "application/x-www-form-urlencoded")
    assert reply.status == 413
    bot.api.assert_quiet(for_seconds=0.1)


def test_refusals_are_logged_without_secrets_or_bodies(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bot.client.event(event_envelope(app_mention("what caused Acme Corp health to drop?")), secret="wrong")
    bot.client.command(slash_command("Acme Corp", response_url=bot.api.response_url()), timestamp="1")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "refused a request to /slack/events" in logged
    for secret in (SIGNING_SECRET, BOT_TOKEN, "Acme Corp", "v0="):
        assert secret not in logged


def test_no_secret_reaches_the_logs_while_answering(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bot.api.fail("chat.postMessage", status=500, times=5)  # a failure of ours is logged with its traceback
    bot.client.event(event_envelope(app_mention("how is Acme Corp doing?")))
    bot.client.command(slash_command("portfolio", response_url=bot.api.response_url()))
    bot.api.wait_for("response_url")
    deadline = time.monotonic() + 5
    while not any(record.levelno >= logging.ERROR for record in caplog.records) and time.monotonic() < deadline:
        time.sleep(0.02)
    logged = "\n".join(caplog.text.splitlines() + [record.getMessage() for record in caplog.records])
    assert "could not post an answer" in logged
    assert BOT_TOKEN not in logged
    assert SIGNING_SECRET not in logged


def test_the_log_filter_redacts_tokens_whoever_logs_them() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s and secret %s", (BOT_TOKEN, "s3cr3t"), None)
    RedactSecrets(["s3cr3t"]).filter(record)
    assert record.getMessage() == "token [redacted] and secret [redacted]"


# --- /healthz -----------------------------------------------------------------------------------------------------


def test_healthz_is_ok_when_the_app_and_store_answer(bot: RunningBot) -> None:
    reply = bot.client.get("/healthz")
    assert reply.status == 200
    assert reply.json()["status"] == "ok"


def test_healthz_is_503_when_the_store_does_not_answer(bot: RunningBot, slack_api: SlackApiStandIn) -> None:
    from werkzeug.test import Client

    from bot.slack.app import create_app

    unreachable = create_db_engine("postgresql://nobody@127.0.0.1:9/healthbot")  # nothing listens on port 9
    flask_app = build_wsgi_app(create_app(bot.settings, engine=bot.engine), engine=unreachable, signing_secret="s")
    response = Client(flask_app).get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"
    assert "nobody" not in response.get_data(as_text=True)


def test_events_are_only_taken_by_post(bot: RunningBot) -> None:
    assert bot.client.get("/slack/events").status == 405


# --- healthbot serve ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def procfile_web_line() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise AssertionError("the Procfile has no web: line")


def launch(command: list[str], *, api: SlackApiStandIn, cwd: Path, **env: str) -> subprocess.Popen[bytes]:
    """Start the bot as its own process, configured through the environment like a deployment."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HEALTHBOT_", "DATABASE_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": api.base_url,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **env,
    }
    return subprocess.Popen(command, env=environment, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> str:
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=20)[0].decode()
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output and APP_TOKEN not in output
    return output


HEALTHBOT = [sys.executable, "-c", "from bot.cli import main; main()"]


@pytest.mark.parametrize("how", ["healthbot serve", "Procfile"])
def test_http_mode_behind_gunicorn_answers_slack(
    slack_api: SlackApiStandIn, sqlite_url: str, tmp_path: Path, how: str
) -> None:
    port = free_port()
    if how == "Procfile":
        command = ["sh", "-c", f"exec {procfile_web_line()}"]
    else:
        command = [*HEALTHBOT, "serve", "--port", str(port)]
    process = launch(
        command,
        api=slack_api,
        cwd=tmp_path,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        DATABASE_URL=sqlite_url,
        WEB_CONCURRENCY="1",
        PORT=str(port),
    )
    try:
        client = SignedClient(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60  # a busy machine starts gunicorn slowly; a real failure exits sooner
        while True:
            try:
                if client.get("/healthz").status == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.1)
        reply = client.command(slash_command("help", response_url=slack_api.response_url()))
        assert reply.status == 200
        [answer] = slack_api.wait_for("response_url")
        assert "Here's what I can do" in answer.params["text"]
    finally:
        output = stop(process)
    assert process.returncode == 0, output


def test_socket_mode_answers_slack_with_no_public_url(
    slack_api: SlackApiStandIn, sqlite_url: str, tmp_path: Path
) -> None:
    slack_api.socket_mode = link = SocketModeLink()
    process = launch(
        [*HEALTHBOT, "serve"], api=slack_api, cwd=tmp_path, SLACK_APP_TOKEN=APP_TOKEN, DATABASE_URL=sqlite_url
    )
    try:
        link.send("slash_commands", slash_command("help", response_url=slack_api.response_url()), envelope_id="e1")
        link.wait_for_ack("e1", timeout=20)
        [answer] = slack_api.wait_for("response_url")
        assert "Here's what I can do" in answer.params["text"]

        mention = app_mention("how is Acme doing?")
        link.send("events_api", event_envelope(mention), envelope_id="e2")
        link.wait_for_ack("e2")
        [reply] = slack_api.wait_for("chat.postMessage")
        assert reply.params["thread_ts"] == mention["ts"]
    finally:
        output = stop(process)
    assert process.returncode == 0, output
    assert "finishing the answers in progress" in output


def test_serve_in_http_mode_needs_the_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert "SLACK_SIGNING_SECRET is not set" in result.output
    assert "Socket Mode" in result.output


def test_serve_without_a_bot_token_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN is not set" in result.output


def test_serve_uses_socket_mode_when_an_app_token_is_set(
    monkeypatch: pytest.MonkeyPatch, slack_api: SlackApiStandIn, sqlite_url: str
) -> None:
    # The stand-in has no WebSocket server: it refuses this app token, which shows Socket Mode was chosen (and how
    # a refused token is reported).
    slack_api.app_token = "xapp-1-a-different-token"
    for name, value in {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": slack_api.base_url,
        "DATABASE_URL": sqlite_url,
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["serve"])
    assert [call.method for call in slack_api.calls] == ["auth.test", "apps.connections.open"]
    assert result.exit_code == 2
    assert "Slack refused the app-level token (invalid_auth)" in result.output
    assert APP_TOKEN not in result.output
