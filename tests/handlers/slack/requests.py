"""What Slack sends, built the way Slack builds it, and a client that signs and posts it over real HTTP.

Payload builders return plain dicts; `SignedClient` signs the exact bytes it sends (`v0:<timestamp>:<body>`,
HMAC-SHA256 with the signing secret) unless told to sign wrongly.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tests.slack_api import BOT_USER_ID, TEAM_ID

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
API_APP_ID = "A0HEALTHBOT"
SARAH = "U0SARAH001"  # Sarah Chen, the CSM of the seeds' worked examples
MIKE = "U0MIKE0001"
CHANNEL = "C0CSTEAM01"
DM_CHANNEL = "D0SARAH001"

_sequence = itertools.count(1)


def _next_ts() -> str:
    n = next(_sequence)
    return f"{1_700_100_000 + n}.{n:06d}"


# --- payloads ---------------------------------------------------------------------------------------------------------


def slash_command(
    text: str, *, response_url: str, user_id: str = SARAH, channel_id: str = CHANNEL, command: str = "/health"
) -> dict[str, str]:
    """The form fields of a slash command invocation."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "standin",
        "channel_id": channel_id,
        "channel_name": "cs-team",
        "user_id": user_id,
        "user_name": "sarah.chen",
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{next(_sequence)}.1234.abcdef",
    }


def event_envelope(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """An Events API envelope (`event_callback`) around `event`."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_sequence):010d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        "is_ext_shared_channel": False,
    }


def app_mention(
    text: str, *, user: str = SARAH, channel: str = CHANNEL, ts: str | None = None, thread_ts: str | None = None
) -> dict[str, Any]:
    """Someone mentions the bot in a channel; `text` starts with the mention, as Slack sends it."""
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts or _next_ts(),
        "channel": channel,
        "event_ts": ts or _next_ts(),
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def direct_message(
    text: str,
    *,
    user: str = SARAH,
    channel: str = DM_CHANNEL,
    ts: str | None = None,
    subtype: str | None = None,
    bot_id: str | None = None,
) -> dict[str, Any]:
    """A message in the bot's DM (`message.im`); `subtype` for edits and the like, `bot_id` for other bots."""
    event: dict[str, Any] = {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts or _next_ts(),
        "channel": channel,
    }
    if subtype:
        event["subtype"] = subtype
    if bot_id:
        event["bot_id"] = bot_id
    return event


def app_home_opened(user: str = SARAH, *, tab: str = "home") -> dict[str, Any]:
    """Someone opens the app's Home (or Messages) tab."""
    return {"type": "app_home_opened", "user": user, "channel": DM_CHANNEL, "tab": tab, "event_ts": _next_ts()}


def block_action(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user: str = SARAH,
    channel: str = CHANNEL,
    ephemeral: bool = True,
    message_ts: str | None = None,
    thread_ts: str | None = None,
) -> dict[str, Any]:
    """A button click in a message (`block_actions`)."""
    ts = message_ts or _next_ts()
    message: dict[str, Any] = {"type": "message", "ts": ts, "text": "…", "blocks": []}
    if thread_ts:
        message["thread_ts"] = thread_ts
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": "sarah.chen", "team_id": TEAM_ID},
        "api_app_id": API_APP_ID,
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": ephemeral},
        "trigger_id": f"{next(_sequence)}.1234.abcdef",
        "team": {"id": TEAM_ID, "domain": "standin"},
        "channel": {"id": channel, "name": "cs-team"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "text": {"type": "plain_text", "text": "…"},
                "action_ts": _next_ts(),
            }
        ],
    }
    if not ephemeral:
        payload["message"] = message
    return payload


# --- signing and posting ----------------------------------------------------------------------------------------------


def signature(body: bytes, *, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    """Slack's v0 request signature."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Reply:
    """What the bot answered over HTTP."""

    status: int
    body: bytes
    content_type: str

    def json(self) -> Any:
        return json.loads(self.body)


class SignedClient:
    """Posts to the bot's /slack/events the way Slack does, over real HTTP."""

    def __init__(self, base_url: str, *, secret: str = SIGNING_SECRET) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret

    def command(self, form: dict[str, str], **options: Any) -> Reply:
        """Post a slash command (form-encoded)."""
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded", **options)

    def event(self, envelope: dict[str, Any], *, retry_num: int | None = None, **signing: Any) -> Reply:
        """Post an Events API envelope (JSON); `retry_num` marks it as Slack's retry."""
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else {}
        return self.post(json.dumps(envelope).encode(), "application/json", headers=headers, **signing)

    def action(self, payload: dict[str, Any], **signing: Any) -> Reply:
        """Post an interaction (form field `payload` holding JSON)."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded", **signing)

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        timestamp: str | None = None,
        signed_body: bytes | None = None,
        secret: str | None = None,
        unsigned: bool = False,
        path: str = "/slack/events",
    ) -> Reply:
        """Post `body`, signed over `signed_body` (default: the body itself) at `timestamp` (default: now)."""
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if not unsigned:
            stamp = timestamp if timestamp is not None else str(int(time.time()))
            all_headers["X-Slack-Request-Timestamp"] = stamp
            all_headers["X-Slack-Signature"] = signature(
                signed_body if signed_body is not None else body, timestamp=stamp, secret=secret or self.secret
            )
        request = urllib.request.Request(self.base_url + path, data=body, headers=all_headers, method="POST")
        return _send(request)

    def get(self, path: str) -> Reply:
        return _send(urllib.request.Request(self.base_url + path, method="GET"))


def _send(request: urllib.request.Request) -> Reply:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, response.read(), response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.read(), err.headers.get("Content-Type", ""))
