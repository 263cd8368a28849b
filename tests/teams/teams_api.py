"""A local stand-in for the Bot Framework connector (the activity's serviceUrl) and the Bot Framework token issuer's
OpenID metadata and keys: a real HTTP server on an ephemeral port that records every call and can answer 429 with
Retry-After, or a 5xx, on demand. Tests sign inbound tokens with `sign()` using the key it publishes.

    with TeamsApiStandIn() as api:
        api.add_member("29:sarah", name="Sarah Chen", email="sarah.chen@example.com", aad="aad-sarah")
        api.fail("create", status=429, retry_after=1)
        ...
        [post] = api.wait_for("create")
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://api.botframework.com"
KEY_ID = "standin-key-1"


@dataclass(frozen=True)
class ConnectorCall:
    """One request the stand-in received."""

    operation: str  # create, update, member, openid, keys
    conversation_id: str
    body: dict[str, Any]
    status: int
    activity_id: str | None = None
    authorization: str | None = None
    at: float = field(default_factory=time.monotonic)


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class TeamsApiStandIn:
    """The connector and the token issuer's metadata on loopback."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.members: dict[str, dict[str, Any]] = {}
        self._calls: list[ConnectorCall] = []
        self._failures: dict[str, list[tuple[int, int | None]]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle

    def __enter__(self) -> TeamsApiStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                stand_in._handle(self, "GET")

            def do_POST(self) -> None:
                stand_in._handle(self, "POST")

            def do_PUT(self) -> None:
                stand_in._handle(self, "PUT")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def service_url(self) -> str:
        """What activities carry as `serviceUrl`."""
        return f"{self.base_url}/teams/"

    @property
    def openid_metadata_url(self) -> str:
        """For TEAMS_OPENID_METADATA_URL; the SDK reads keys from its sibling /keys."""
        return f"{self.base_url}/v1/.well-known/openidconfiguration"

    # --- what tests set up

    def add_member(self, user_id: str, *, name: str, email: str, aad: str) -> None:
        self.members[user_id] = {
            "id": user_id,
            "name": name,
            "email": email,
            "aadObjectId": aad,
            "userPrincipalName": email,
        }

    def fail(self, operation: str, *, status: int, retry_after: int | None = None, times: int = 1) -> None:
        """Answer the next `times` calls of `operation` (create, update) with `status`."""
        with self._lock:
            self._failures.setdefault(operation, []).extend([(status, retry_after)] * times)

    def sign(self, *, audience: str, service_url: str | None = None, expires_in: int = 600, **claims: Any) -> str:
        """A Bot Framework token as the connector signs it, with this stand-in's key."""
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": audience,
            "iat": now - 5,
            "nbf": now - 5,
            "exp": now + expires_in,
            "serviceurl": service_url or self.service_url,
            **claims,
        }
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": KEY_ID})

    # --- what tests read

    def calls(self, operation: str | None = None) -> list[ConnectorCall]:
        with self._lock:
            return [c for c in self._calls if operation is None or c.operation == operation]

    def wait_for(self, operation: str, count: int = 1, timeout: float = 10.0) -> list[ConnectorCall]:
        """The successful calls of `operation` once there are at least `count` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [c for c in self.calls(operation) if c.status < 300]
            if len(done) >= count:
                return done
            time.sleep(0.02)
        statuses = [c.status for c in self.calls(operation)]
        raise AssertionError(f"expected {count} successful {operation} call(s) within {timeout} s; got {statuses}")

    def cards(self, operation: str = "create") -> list[dict[str, Any]]:
        """Every Adaptive Card sent (or updated) successfully, in order."""
        return [
            a["content"]
            for c in self.calls(operation)
            if c.status < 300
            for a in c.body.get("attachments", [])
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    # --- the server

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        path = request.path.split("?")[0]
        length = int(request.headers.get("Content-Length") or 0)
        body = json.loads(request.rfile.read(length) or b"{}") if length else {}
        auth = request.headers.get("Authorization")
        if method == "GET" and path.endswith("/openidconfiguration"):
            return self._answer(
                request,
                200,
                {
                    "issuer": ISSUER,
                    "jwks_uri": f"{self.base_url}/v1/.well-known/keys",
                    "id_token_signing_alg_values_supported": ["RS256"],
                },
            )
        if method == "GET" and path.endswith("/keys"):
            numbers = self.key.public_key().public_numbers()
            jwk = {
                "kty": "RSA",
                "use": "sig",
                "kid": KEY_ID,
                "alg": "RS256",
                "n": _b64(numbers.n),
                "e": _b64(numbers.e),
            }
            return self._answer(request, 200, {"keys": [jwk]})
        found = re.match(r"^/teams/v3/conversations/([^/]+)/(activities|members)(?:/([^/]+))?$", path)
        if not found:
            return self._answer(request, 404, {"error": {"code": "NotFound", "message": path}})
        conversation, what, item = found.group(1), found.group(2), found.group(3)
        from urllib.parse import unquote

        conversation = unquote(conversation)
        if what == "members":
            member = self.members.get(unquote(item or ""))
            status = 200 if member else 404
            self._record(ConnectorCall("member", conversation, {}, status, authorization=auth))
            return self._answer(request, status, member or {"error": {"code": "MemberNotFound"}})
        operation = "update" if method == "PUT" else "create"
        with self._lock:
            queue = self._failures.get(operation) or []
            failure = queue.pop(0) if queue else None
        if failure is not None:
            status, retry_after = failure
            self._record(ConnectorCall(operation, conversation, body, status, item, auth))
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return self._answer(
                request, status, {"error": {"code": "Throttled" if status == 429 else "ServiceError"}}, headers
            )
        activity_id = item or f"activity-{next(self._ids)}"
        self._record(
            ConnectorCall(operation, conversation, body, 200 if operation == "update" else 201, activity_id, auth)
        )
        return self._answer(request, 200 if operation == "update" else 201, {"id": activity_id})

    def _record(self, call: ConnectorCall) -> None:
        with self._lock:
            self._calls.append(call)

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(raw)
