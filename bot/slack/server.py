"""Running the Slack app: HTTP mode (Flask + Bolt's adapter behind gunicorn) and Socket Mode.

HTTP mode answers `POST /slack/events` (commands, events and interactivity — one Request URL) and `GET /healthz`.
Every request to /slack/events is checked at the door, on the raw body, before Bolt or the store sees it: a missing,
malformed, wrong or stale signature (more than five minutes either way) gets 401 and nothing runs; a signed body that
is not in any shape Slack sends (a payload that is not a JSON object, an empty one, a list) gets 400 and nothing runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

from flask import Flask, Response, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings, SettingsError, load_settings
from bot.slack.app import create_app
from bot.store import create_db_engine, init_db

logger = logging.getLogger(__name__)

SIGNATURE_MAX_AGE_SECONDS = 300
MAX_REQUEST_BYTES = 1024 * 1024  # Slack's payloads are a few KB; anything this large is not from Slack
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_TOKEN_SHAPES = re.compile(r"\b(?:xox[abposr]|xapp)-[A-Za-z0-9-]+")


# --- the door -----------------------------------------------------------------------------------------------------


class SlackSignature:
    """Slack's request signing (v0): HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing secret."""

    def __init__(self, signing_secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self._secret = signing_secret.encode()
        self._clock = clock

    def problem(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """Why the request must be refused, in words for the log (never the values); None when it is Slack's."""
        timestamp = headers.get("X-Slack-Request-Timestamp")
        signature = headers.get("X-Slack-Signature")
        if not timestamp or not signature:
            return "no Slack signature"
        if not _TIMESTAMP.fullmatch(timestamp):
            return "a malformed signature timestamp"
        if abs(self._clock() - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
            return "a signature more than 5 minutes old or ahead (replayed, or the server clock is off)"
        expected = "v0=" + hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return "a wrong signature (not from Slack, or SLACK_SIGNING_SECRET is not this app's)"
        return None


def malformed(body: bytes, content_type: str) -> str | None:
    """Why a (signed) body is not something Slack sends, in words for the log; None when its shape is Slack's.

    Slack sends Events API envelopes as a JSON object, slash commands as form fields with `command`, and
    interactions as a form field `payload` holding a JSON object with a `type`; anything else would crash a
    listener half-way, so it is refused before one runs.
    """
    if not body:
        return "an empty body"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "a body that is not UTF-8"
    if content_type.split(";")[0].strip().lower() == "application/json":
        return _not_an_object(text, "the JSON body")
    fields = parse_qs(text, keep_blank_values=True)
    if "payload" in fields:
        if len(fields["payload"]) != 1:
            return "more than one payload"
        return _not_an_object(fields["payload"][0], "the payload")
    if len(fields.get("command", [])) == 1 and fields["command"][0].startswith("/"):
        return None
    if "ssl_check" in fields:  # Slack checking the certificate of a slash command's URL
        return None
    return "neither a slash command nor an interaction payload"


def _not_an_object(text: str, what: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return f"{what} is not JSON"
    if not isinstance(data, dict):
        return f"{what} is a JSON {type(data).__name__}, not an object"
    if not isinstance(data.get("type"), str) or not data["type"]:
        return f"{what} has no type"
    for name in ("user", "view", "team", "channel", "container", "message", "event"):
        if name in data and not isinstance(data[name], dict | None):
            return f"{what}'s {name} is not an object"
    actions = data.get("actions")
    if actions is not None and not (isinstance(actions, list) and all(isinstance(a, dict) for a in actions)):
        return f"{what}'s actions are not a list of objects"
    if data["type"] in ("block_actions", "view_submission") and not isinstance((data.get("user") or {}).get("id"), str):
        return f"{what} names no user"
    state = (data.get("view") or {}).get("state")
    if state is not None and not _form_state(state):
        return f"{what}'s form values are not the shape Slack sends"
    return None


def _form_state(state: object) -> bool:
    # {"values": {block_id: {action_id: {...element...}}}}
    if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
        return False
    blocks = state.get("values", {}).values()
    return all(isinstance(inputs, dict) and all(isinstance(e, dict) for e in inputs.values()) for inputs in blocks)


# --- the WSGI app -------------------------------------------------------------------------------------------------


def build_wsgi_app(bolt_app: App, *, engine: Engine, signing_secret: str) -> Flask:
    """The Flask app around a ready Bolt app: /slack/events behind the signature check, and /healthz."""
    flask_app = Flask("healthbot")
    flask_app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    slack_handler = SlackRequestHandler(bolt_app)
    door = SlackSignature(signing_secret)
    flask_app.extensions["healthbot.bolt"] = bolt_app
    flask_app.extensions["healthbot.engine"] = engine

    @flask_app.post("/slack/events")
    def slack_events() -> Response:
        body = request.get_data(cache=True)
        problem = door.problem(body, request.headers)  # type: ignore[arg-type]
        if problem is not None:
            logger.warning("refused a request to /slack/events from %s: %s", request.remote_addr, problem)
            return Response("invalid request signature", status=401, mimetype="text/plain")
        shape = malformed(body, request.content_type or "")
        if shape is not None:
            logger.warning("refused a signed request to /slack/events from %s: %s", request.remote_addr, shape)
            return Response(f"malformed request: {shape}", status=400, mimetype="text/plain")
        return slack_handler.handle(request)

    @flask_app.get("/healthz")
    def healthz() -> tuple[dict[str, Any], int]:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as err:
            logger.warning("health check: the store does not answer (%s)", type(err).__name__)
            return {"status": "unavailable", "store": "not answering"}, 503
        return {"status": "ok", "app": bolt_app.name, "store": "ok"}, 200

    return flask_app


def create_wsgi_app(settings: Settings | None = None) -> Flask:
    """The WSGI app for HTTP mode, as gunicorn loads it (`bot.slack.server:create_wsgi_app()` in the Procfile).

    Raises:
        SettingsError: SLACK_SIGNING_SECRET or SLACK_BOT_TOKEN is missing, or a setting is wrong.
    """
    settings = settings or load_settings()
    configure_logging(settings)
    signing_secret = require_signing_secret(settings)
    engine = create_db_engine(settings.database_url)
    prepare_store(engine)
    return build_wsgi_app(create_app(settings, engine=engine), engine=engine, signing_secret=signing_secret)


def require_signing_secret(settings: Settings) -> str:
    """The signing secret, or a SettingsError that says where to find it."""
    if settings.slack_signing_secret is None:
        raise SettingsError(
            "SLACK_SIGNING_SECRET is not set: HTTP mode checks every request from Slack with it. Copy the Signing "
            "Secret from your Slack app's Basic Information page, or set SLACK_APP_TOKEN to use Socket Mode instead"
        )
    return settings.slack_signing_secret


def prepare_store(engine: Engine) -> None:
    """Create missing tables. Two web workers starting together may race on it; the loser finds them made."""
    try:
        init_db(engine)
    except SQLAlchemyError:
        time.sleep(0.5)
        init_db(engine)


# --- running ------------------------------------------------------------------------------------------------------


def run_socket_mode(settings: Settings) -> None:
    """Connect to Slack over Socket Mode and answer until SIGTERM or Ctrl-C; no public URL needed. On the way out
    it stops taking work and lets answers in progress finish."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    assert settings.slack_app_token is not None
    engine = create_db_engine(settings.database_url)
    prepare_store(engine)
    app = create_app(settings, engine=engine)
    handler = SocketModeHandler(app, settings.slack_app_token)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    logger.info("Healthbot is connecting to Slack over Socket Mode")
    handler.connect()
    logger.info("Healthbot is connected over Socket Mode")
    stopping.wait()
    logger.info("Healthbot is stopping: finishing the answers in progress")
    handler.close()
    app.listener_runner.listener_executor.shutdown(wait=True)
    engine.dispose()


def run_http(settings: Settings, *, port: int) -> None:
    """Serve HTTP mode on `port` with gunicorn (WEB_CONCURRENCY workers, default 2, eight threads each)."""
    from gunicorn.app.base import BaseApplication

    require_signing_secret(settings)
    prepare_store(create_db_engine(settings.database_url))

    class HealthbotGunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": f"0.0.0.0:{port}",
                "workers": int(os.environ.get("WEB_CONCURRENCY", "2")),
                "worker_class": "gthread",
                "threads": 8,
                "timeout": 30,
                "accesslog": "-",
            }
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Flask:
            return create_wsgi_app(settings)

    logger.info("Healthbot is serving HTTP on port %d (POST /slack/events, GET /healthz)", port)
    HealthbotGunicorn().run()


# --- logs ---------------------------------------------------------------------------------------------------------


class RedactSecrets(logging.Filter):
    """Blank out tokens and secrets in every log line — whoever logged them, ourselves or a library."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _TOKEN_SHAPES.sub("[redacted]", message)
        for secret in self._secrets:
            cleaned = cleaned.replace(secret, "[redacted]")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(settings: Settings) -> None:
    """Log at INFO to stderr (unless the host configured logging already), with secrets redacted."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact = RedactSecrets([settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token])
    for handler in root.handlers:
        if not any(isinstance(existing, RedactSecrets) for existing in handler.filters):
            handler.addFilter(redact)
