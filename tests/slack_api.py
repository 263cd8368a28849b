"""A local stand-in for Slack's Web API: a real HTTP server on an ephemeral port that answers like Slack.

It records every call (method, params, whether Slack would have accepted it); serves `response_url` posts at
`/response/<name>` and file uploads at `/upload/<file_id>` (recorded as methods "response_url" and "upload"); can be
told to misbehave the way Slack does under load or in an outage — a 429 with any Retry-After, a 5xx, `ok: false`, an
answer slower than the client's timeout (the call carried out all the same), a connection dropped before or after
the call was carried out, a call held until the test lets it go (to kill the caller mid-call), or everything down
for a while; keeps the messages posted per conversation (chat.update applied, metadata kept) so that
conversations.history and .replies answer like Slack; and, with a `SocketModeLink`, plays Slack's end of Socket
Mode. Point
`WebClient(base_url=api.base_url)` (or `SLACK_API_URL`) at it.

    with SlackApiStandIn() as api:
        api.add_user("U0SARAH001", name="Sarah Chen", email="sarah@example.com")
        api.fail("chat.postMessage", status=429, retry_after=1)
        ...
        [post] = api.wait_for("chat.postMessage")
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

BOT_TOKEN = "xoxb-1111-2222-standin0bottoken"
APP_TOKEN = "xapp-1-A0STANDIN-3333-standin0apptoken"
TEAM_ID = "T0TEAM0001"
BOT_USER_ID = "U0BOT00001"
BOT_ID = "B0BOT00001"
# Form fields that Slack's clients send as JSON strings; decoded so tests read them as data.
_JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")


@dataclass(frozen=True)
class ApiCall:
    """One request the stand-in received."""

    method: str  # "chat.postMessage"; "response_url" for posts to a response URL; "upload" for file bytes
    params: dict[str, Any]
    status: int  # the HTTP status it was answered with
    ok: bool  # whether Slack would have done it (200 and `"ok": true`)
    path: str = ""
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Failure:
    status: int  # the HTTP status answered; 0 hangs up; 200 with `error` answers ok:false
    retry_after: float | None = None
    error: str | None = None
    carried_out: bool = False  # Slack did it before the answer went wrong (slow answer, dropped afterwards, held)
    delay: float = 0.0  # seconds before answering
    hold: Hold | None = None
    when: Callable[[dict[str, Any]], bool] | None = None  # only calls whose params match; others pass it by


class Hold:
    """A call the stand-in keeps waiting: `reached` is set when it arrives; `release()` lets it answer."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.released = threading.Event()

    def release(self) -> None:
        self.released.set()

    def wait_reached(self, timeout: float = 30.0) -> None:
        assert self.reached.wait(timeout), "the held call never arrived"


def dm_channel(user_id: str) -> str:
    """The DM conversation ID the stand-in gives a user (conversations.open, and where posts to a user ID land)."""
    return "D" + user_id.replace(",", "")[-9:].upper().rjust(9, "0")


def delivery_key(params: dict[str, Any]) -> str:
    """The delivery key a chat.postMessage carries in its metadata ("" when none)."""
    metadata = params.get("metadata")
    return str(((metadata if isinstance(metadata, dict) else {}).get("event_payload") or {}).get("key") or "")


def key_starts(prefix: str) -> Callable[[dict[str, Any]], bool]:
    """A `when` for posts whose delivery key starts with `prefix` ("escalation:", "digest:")."""
    return lambda params: delivery_key(params).startswith(prefix)


def conversation_of(channel: str) -> str:
    return dm_channel(channel) if channel[:1] in ("U", "W") else channel


class SlackApiStandIn:
    """Slack's Web API on loopback. Use as a context manager, or `start()` / `stop()`."""

    def __init__(self, *, bot_token: str = BOT_TOKEN, app_token: str = APP_TOKEN) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self._calls: list[ApiCall] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.messages: dict[str, list[dict[str, Any]]] = {}  # conversation ID → messages posted there, oldest first
        self._down_until = 0.0
        self._down_status = 503
        self._jitter: dict[str, float] = {}
        self._last_ts = 0.0
        self.socket_mode: SocketModeLink | None = None  # set one to let apps.connections.open succeed
        self.channels_without_bot: set[str] = set()  # files shared there are refused with not_in_channel

    # --- lifecycle ----------------------------------------------------------------------------------------------------

    def start(self) -> SlackApiStandIn:
        stand_in = self

        class Handler(_Handler):
            api = stand_in

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-api-stand-in", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            for queue in self._failures.values():
                for failure in queue:
                    if failure.hold is not None:
                        failure.hold.release()
        if self.socket_mode is not None:
            self.socket_mode.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SlackApiStandIn:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def root(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """What `SLACK_API_URL` should be set to."""
        return f"{self.root}/api/"

    def response_url(self, name: str = "1") -> str:
        """A `response_url` whose posts are recorded as method "response_url" with `path` `/response/<name>`."""
        return f"{self.root}/response/{name}"

    # --- the workspace ------------------------------------------------------------------------------------------------

    def add_user(self, user_id: str, *, name: str, email: str | None = None, is_bot: bool = False) -> None:
        """A person in the workspace, for users.info and users.lookupByEmail."""
        profile: dict[str, Any] = {"real_name": name, "display_name": name.split()[0]}
        if email:
            profile["email"] = email
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name.lower().replace(" ", "."),
            "real_name": name,
            "is_bot": is_bot,
            "profile": profile,
        }

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        times: int = 1,
        retry_after: float | None = 1,
        error: str | None = None,
        carried_out: bool = False,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Refuse the next `times` calls to `method` (only those whose params satisfy `when`, if given) with
        `status` (and Retry-After for a 429); status 0 hangs up without answering, the way a dropped connection looks
        to the client; status 200 with `error` answers `{"ok": false, "error": error}`. With `carried_out` Slack
        does the call first and only the answer goes wrong (a 500 after posting, a connection dropped on the way
        back)."""
        failure = _Failure(status, retry_after if status == 429 else None, error, carried_out, when=when)
        self._queue(method, [replace(failure) for _ in range(times)])

    def slow(
        self, method: str, *, seconds: float, times: int = 1, when: Callable[[dict[str, Any]], bool] | None = None
    ) -> None:
        """Carry out the next `times` calls to `method` at once but answer only after `seconds` (past the client's
        timeout, the client sees no answer although the message was posted)."""
        self._queue(method, [_Failure(200, carried_out=True, delay=seconds, when=when) for _ in range(times)])

    def hold(
        self, method: str, *, carried_out: bool = True, when: Callable[[dict[str, Any]], bool] | None = None
    ) -> Hold:
        """Keep the next call to `method` (matching `when`) waiting — carried out first unless told otherwise —
        until released or the stand-in stops: the moment to kill the process that made it."""
        hold = Hold()
        self._queue(method, [_Failure(200, carried_out=carried_out, hold=hold, when=when)])
        return hold

    def jitter(self, method: str, *, max_seconds: float) -> None:
        """Let every call to `method` wait a random while before Slack carries it out, so that concurrent calls
        land in any order (as they do on the real network)."""
        self._jitter[method] = max_seconds

    def down(self, *, for_seconds: float, status: int = 503) -> None:
        """Answer every Web API call with `status` (0: hang up) for the next `for_seconds`: Slack is down."""
        with self._lock:
            self._down_until = time.monotonic() + for_seconds
            self._down_status = status

    def up(self) -> None:
        """Slack is back."""
        with self._lock:
            self._down_until = 0.0

    def _queue(self, method: str, failures: list[_Failure]) -> None:
        with self._lock:
            self._failures.setdefault(method, []).extend(failures)

    # --- what happened --------------------------------------------------------------------------------------------

    @property
    def calls(self) -> list[ApiCall]:
        """Every request so far, in arrival order, refused ones included."""
        with self._lock:
            return list(self._calls)

    def attempts(self, method: str) -> list[ApiCall]:
        """Every request to `method`, refused ones included."""
        return [call for call in self.calls if call.method == method]

    def sent(self, method: str) -> list[ApiCall]:
        """The requests to `method` that Slack would have carried out."""
        return [call for call in self.attempts(method) if call.ok]

    def wait_for(self, method: str, count: int = 1, *, timeout: float = 30.0) -> list[ApiCall]:
        """Wait until `count` requests to `method` have been carried out (listeners run on worker threads)."""
        deadline = time.monotonic() + timeout
        while True:
            done = self.sent(method)
            if len(done) >= count:
                return done
            if time.monotonic() > deadline:
                seen = ", ".join(sorted({call.method for call in self.calls})) or "nothing"
                raise AssertionError(f"expected {count} {method} call(s), got {len(done)}; saw: {seen}")
            time.sleep(0.01)

    def wait_for_exactly(self, method: str, count: int = 1, *, settle: float = 0.3) -> list[ApiCall]:
        """Wait for `count` calls to `method`, then a while longer to show that no more follow."""
        self.wait_for(method, count)
        time.sleep(settle)
        done = self.sent(method)
        assert len(done) == count, f"expected exactly {count} {method} call(s), got {len(done)}"
        return done

    def assert_quiet(self, *, for_seconds: float = 0.3) -> None:
        """Nothing reaches Slack for a while (the way to show that nothing ran)."""
        time.sleep(for_seconds)
        assert self.calls == [], f"expected no calls to Slack, got {[call.method for call in self.calls]}"

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def posted(self) -> list[tuple[str, str | None]]:
        """Every message Slack holds, as (conversation, delivery key from its metadata), in posting order."""
        with self._lock:
            found = [
                (message["at"], conversation, ((message.get("metadata") or {}).get("event_payload") or {}).get("key"))
                for conversation, messages in self.messages.items()
                for message in messages
            ]
        return [(conversation, key) for _, conversation, key in sorted(found)]

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """The message as it stands now (after every chat.update)."""
        with self._lock:
            for message in self.messages.get(conversation_of(channel), []):
                if message["ts"] == ts:
                    return dict(message)
        raise AssertionError(f"no message {ts} in {channel}")

    # --- answering ----------------------------------------------------------------------------------------------------

    def _record(self, call: ApiCall) -> None:
        with self._lock:
            self._calls.append(call)

    def _take_failure(self, method: str, params: dict[str, Any]) -> _Failure | None:
        with self._lock:
            if time.monotonic() < self._down_until:
                return _Failure(self._down_status)
            queue = self._failures.get(method) or []
            for n, failure in enumerate(queue):
                if failure.when is None or failure.when(params):
                    return queue.pop(n)
        return None

    def _next_ts(self) -> str:
        # Like Slack's: the time the message was posted, unique within the workspace (conversations.history's
        # `oldest` compares against it).
        with self._lock:
            self._last_ts = max(time.time(), self._last_ts + 0.000001)
            return f"{self._last_ts:.6f}"

    def answer(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """Slack's answer to one Web API call."""
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != expected:
            return {"ok": False, "error": "not_authed" if not token else "invalid_auth"}
        if method == "apps.connections.open":
            if self.socket_mode is None:
                return {"ok": False, "error": "socket_mode_not_enabled"}
            return {"ok": True, "url": self.socket_mode.url}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://standin.slack.com/",
                "team": "Stand-in",
                "user": "healthbot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = self._next_ts()
            message = {"type": "message", "text": params.get("text"), "ts": ts, "bot_id": BOT_ID}
            stored = {
                **message,
                "blocks": params.get("blocks"),
                "attachments": params.get("attachments"),
                "metadata": params.get("metadata"),
                "thread_ts": params.get("thread_ts"),
                "at": time.monotonic(),
            }
            with self._lock:
                self.messages.setdefault(conversation_of(str(params.get("channel"))), []).append(stored)
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": message}
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, params)
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.update":
            with self._lock:
                for stored in self.messages.get(conversation_of(str(params.get("channel"))), []):
                    if stored["ts"] == params.get("ts"):
                        stored.update({k: params.get(k) for k in ("text", "blocks", "attachments")})
                        break
                else:
                    return {"ok": False, "error": "message_not_found"}
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}
        if method in ("views.publish", "views.open", "views.update", "views.push"):
            view = params.get("view") or {}
            return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **(view if isinstance(view, dict) else {})}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": dm_channel(str(params.get("users", "")))}}
        if method == "users.info":
            user = self.users.get(str(params.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "users.lookupByEmail":
            email = str(params.get("email", "")).lower()
            for user in self.users.values():
                if str(user["profile"].get("email", "")).lower() == email:
                    return {"ok": True, "user": user}
            return {"ok": False, "error": "users_not_found"}
        if method == "usergroups.users.list":
            group = self.usergroups.get(str(params.get("usergroup")))
            return {"ok": True, "users": group} if group is not None else {"ok": False, "error": "no_such_subteam"}
        if method in (
            "assistant.threads.setStatus",
            "assistant.threads.setSuggestedPrompts",
            "assistant.threads.setTitle",
        ):
            if not params.get("channel_id") or not params.get("thread_ts"):
                return {"ok": False, "error": "invalid_arguments"}
            return {"ok": True}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return {"ok": True, "upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            if params.get("channel_id") in self.channels_without_bot:
                return {"ok": False, "error": "not_in_channel"}
            files = params.get("files") or []
            return {"ok": True, "files": [{"id": item.get("id"), "title": item.get("title")} for item in files]}
        return {"ok": False, "error": "unknown_method"}

    def _history(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel"))
        if channel[:1] in ("U", "W"):
            return {"ok": False, "error": "channel_not_found"}  # Slack wants the DM's conversation ID
        oldest = float(params.get("oldest") or 0)
        with self._lock:
            stored = [dict(m) for m in self.messages.get(channel, []) if float(m["ts"]) > oldest]
        if method == "conversations.history":
            stored = [m for m in stored if not m.get("thread_ts")]
        else:
            parent = str(params.get("ts"))
            stored = [m for m in stored if m["ts"] == parent or m.get("thread_ts") == parent]
        with_metadata = str(params.get("include_all_metadata")).lower() in ("1", "true")
        for message in stored:
            message.pop("at", None)
            if not with_metadata or not message.get("metadata"):
                message.pop("metadata", None)
        limit = int(params.get("limit") or 100)
        start = int(params.get("cursor") or 0)
        ordered = list(reversed(stored)) if method == "conversations.history" else stored
        page = ordered[start : start + limit]
        more = start + limit < len(ordered)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


def _decode(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
    params: dict[str, Any] = {key: values[-1] for key, values in parse_qs(query).items()}
    if not raw:
        return params
    if "json" in content_type:
        body = json.loads(raw)
        if isinstance(body, dict):
            params.update(body)
        return params
    if "x-www-form-urlencoded" in content_type:
        params.update({key: values[-1] for key, values in parse_qs(raw.decode()).items()})
        for name in _JSON_FIELDS:
            if isinstance(params.get(name), str):
                with contextlib.suppress(json.JSONDecodeError):
                    params[name] = json.loads(params[name])
        return params
    params["bytes"] = len(raw)
    return params


class _Handler(BaseHTTPRequestHandler):
    api: SlackApiStandIn

    def log_message(self, format: str, *args: Any) -> None:
        return  # keep test output clean

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""

        if url.path.startswith("/upload/"):
            # The file's bytes, as they are: slack_sdk posts them with urllib's default form content type, so they
            # must not be decoded as a form (a PNG is not UTF-8).
            self.api._record(ApiCall("upload", {"bytes": len(raw), "content": raw}, 200, True, path=url.path))
            self._send(200, f"OK - {len(raw)}".encode(), "text/plain")
            return
        params = _decode(raw, self.headers.get("Content-Type", ""), url.query)
        if url.path.startswith("/response/"):
            self.api._record(ApiCall("response_url", params, 200, True, path=url.path))
            self._send(200, b"ok", "text/plain")
            return
        if not url.path.startswith("/api/"):
            self._send(404, b"not found", "text/plain")
            return

        method = url.path.removeprefix("/api/")
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or params.get("token")
        lag = self.api._jitter.get(method)
        if lag:
            time.sleep(random.uniform(0, lag))
        failure = self.api._take_failure(method, params)
        if failure is None:
            answer = self.api.answer(method, params, token)
            self.api._record(ApiCall(method, params, 200, bool(answer.get("ok")), path=url.path))
            self._send(200, json.dumps(answer).encode(), "application/json; charset=utf-8")
            return
        if failure.carried_out:
            answer = self.api.answer(method, params, token)
            self.api._record(ApiCall(method, params, failure.status, bool(answer.get("ok")), path=url.path))
        else:
            answer = {"ok": False, "error": failure.error or "internal_error"}
            self.api._record(ApiCall(method, params, failure.status, False, path=url.path))
        if failure.hold is not None:
            failure.hold.reached.set()
            failure.hold.released.wait()
        if failure.delay:
            time.sleep(failure.delay)
        if failure.status == 0:
            self.close_connection = True
            return
        if failure.status == 429:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            self._send(429, json.dumps({"ok": False, "error": "ratelimited"}).encode(), "application/json", headers)
        elif failure.status == 200 and failure.error:
            self._send(200, json.dumps({"ok": False, "error": failure.error}).encode(), "application/json")
        elif failure.status == 200:
            self._send(200, json.dumps(answer).encode(), "application/json; charset=utf-8")
        else:
            self._send(
                failure.status, json.dumps({"ok": False, "error": "internal_error"}).encode(), "application/json"
            )

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True  # the client gave up waiting (a slow answer past its timeout)


class SocketModeLink:
    """Slack's Socket Mode end of the line: a WebSocket server on loopback that says hello to the app, sends it
    envelopes (a slash command, an event, a click) and records the app's acknowledgements."""

    _GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._connection: socket.socket | None = None
        self._connected = threading.Event()
        self._send_lock = threading.Lock()
        self.acks: list[dict[str, Any]] = []
        self._acks_lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="socket-mode-stand-in", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        port = self._listener.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=stand-in"

    def send(self, envelope_type: str, payload: dict[str, Any], *, envelope_id: str) -> None:
        """Deliver an envelope to the connected app, the way Slack pushes work over Socket Mode."""
        assert self._connected.wait(30), "the app never connected over Socket Mode"
        message = {"envelope_id": envelope_id, "type": envelope_type, "payload": payload}
        if envelope_type != "events_api":
            message["accepts_response_payload"] = True
        self._send_frame(0x1, json.dumps(message).encode())

    def wait_for_ack(self, envelope_id: str, *, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._acks_lock:
                for ack in self.acks:
                    if ack.get("envelope_id") == envelope_id:
                        return ack
            time.sleep(0.01)
        raise AssertionError(f"the app did not acknowledge envelope {envelope_id}")

    def stop(self) -> None:
        self._listener.close()
        if self._connection is not None:
            self._connection.close()

    def _serve(self) -> None:
        try:
            connection, _ = self._listener.accept()
        except OSError:
            return
        self._connection = connection
        request = b""
        while b"\r\n\r\n" not in request:
            request += connection.recv(1024)
        key = next(
            line.split(b":", 1)[1].strip()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1(key + self._GUID).digest())
        connection.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        self._send_frame(0x1, json.dumps({"type": "hello", "num_connections": 1}).encode())
        self._connected.set()
        with contextlib.suppress(OSError, ConnectionError):
            while True:
                opcode, data = self._read_frame(connection)
                if opcode == 0x8:  # close
                    return
                if opcode == 0x9:  # ping
                    self._send_frame(0xA, data)
                elif opcode == 0x1:
                    with self._acks_lock:
                        self.acks.append(json.loads(data))

    def _send_frame(self, opcode: int, data: bytes) -> None:
        length = len(data)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
        assert self._connection is not None
        with self._send_lock:
            self._connection.sendall(header + data)

    @staticmethod
    def _read_frame(connection: socket.socket) -> tuple[int, bytes]:
        def exactly(count: int) -> bytes:
            data = b""
            while len(data) < count:
                chunk = connection.recv(count - len(data))
                if not chunk:
                    raise ConnectionError("the app hung up")
                data += chunk
            return data

        first, second = exactly(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", exactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", exactly(8))[0]
        mask = exactly(4) if second & 0x80 else b"\0\0\0\0"
        payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(exactly(length)))
        return first & 0x0F, payload
