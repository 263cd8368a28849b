"""The real Teams app serving HTTP on loopback, trusting the stand-in's token key, sending to the stand-in."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy.engine import Engine

from bot.settings import Settings
from bot.store import create_db_engine, init_db
from bot.teams.app import TeamsBot, create_teams_app
from tests.teams.teams_api import TeamsApiStandIn

CLIENT_ID = "6b1f3c1e-0c0e-4b7e-9a55-2f0a6d1c0b07"
TENANT_ID = "0d7c8e2a-5f4b-4c1d-8e9a-3b2c1d0e9f8a"
SECRET = "standin-client-secret-value"
BOT_ID = f"28:{CLIENT_ID}"
SARAH = {"id": "29:1sarah", "name": "Sarah Chen", "aadObjectId": "aad-sarah-0001", "email": "sarah.chen@example.com"}
MARCUS = {
    "id": "29:1marcus",
    "name": "Marcus Johnson",
    "aadObjectId": "aad-marcus-01",
    "email": "marcus.johnson@example.com",
}
SARAH_CHAT = "a:1sarah-personal-chat"
CHANNEL = "19:cs-team-channel@thread.tacv2"
SCHEMAS = Path(__file__).parent / "schemas"
CARD_SCHEMA = jsonschema.Draft6Validator(json.loads((SCHEMAS / "adaptive-card-1.5.json").read_text()))
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _no_teams_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read a developer's Teams credentials (nor the SDK's own CLIENT_ID / SERVICE_URL variables)."""
    for name in list(os.environ):
        if name.startswith("TEAMS_") or name in ("CLIENT_ID", "CLIENT_SECRET", "TENANT_ID", "SERVICE_URL", "CLOUD"):
            monkeypatch.delenv(name, raising=False)


def assert_valid_card(card: dict[str, Any]) -> None:
    """Valid against Microsoft's published Adaptive Card 1.5 schema, and version 1.5."""
    errors = [f"{list(e.absolute_path)}: {e.message[:300]}" for e in CARD_SCHEMA.iter_errors(card)]
    assert not errors, errors
    assert card["version"] == "1.5"


def card_text(card: dict[str, Any]) -> str:
    """Every string in a card, for asserting what a reader sees."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "title", "value", "label", "fallbackText") and isinstance(value, str):
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(found)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningTeams:
    """The Teams app on loopback, the connector stand-in, and the store."""

    bot: TeamsBot
    api: TeamsApiStandIn
    engine: Engine
    settings: Settings
    url: str
    outbound_token: str  # what the bot authenticates its own calls with

    def post(self, activity: dict[str, Any], *, token: str | None = "valid") -> tuple[int, Any]:
        """POST an activity to /api/messages as Teams does; `token="valid"` signs a fresh Bot Framework token."""
        headers = {"Content-Type": "application/json"}
        if token == "valid":
            token = self.api.sign(audience=CLIENT_ID, service_url=activity.get("serviceUrl"))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(f"{self.url}/api/messages", json.dumps(activity).encode(), headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, json.loads(raw) if raw else None

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()


def activity(
    kind: str, *, conversation: str, conversation_type: str, user: dict[str, Any], service_url: str, **extra: Any
) -> dict[str, Any]:
    """An activity shaped as Teams posts it."""
    return {
        "type": kind,
        "id": f"act-in-{next(_ids)}",
        "timestamp": "2026-11-24T09:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user["id"], "name": user["name"], "aadObjectId": user["aadObjectId"]},
        "conversation": {"id": conversation, "conversationType": conversation_type, "tenantId": TENANT_ID},
        "recipient": {"id": BOT_ID, "name": "Healthbot"},
        "channelData": {"tenant": {"id": TENANT_ID}},
        **extra,
    }


def personal_message(text: str, service_url: str, *, user: dict[str, Any] = SARAH) -> dict[str, Any]:
    return activity(
        "message",
        conversation=SARAH_CHAT if user is SARAH else f"a:1{user['id']}",
        conversation_type="personal",
        user=user,
        service_url=service_url,
        text=text,
        textFormat="plain",
    )


def channel_mention(text: str, service_url: str, *, user: dict[str, Any] = SARAH) -> dict[str, Any]:
    return activity(
        "message",
        conversation=f"{CHANNEL};messageid=1732440000000",
        conversation_type="channel",
        user=user,
        service_url=service_url,
        text=f"<at>Healthbot</at> {text}",
        entities=[{"type": "mention", "text": "<at>Healthbot</at>", "mentioned": {"id": BOT_ID, "name": "Healthbot"}}],
        channelData={"tenant": {"id": TENANT_ID}, "channel": {"id": CHANNEL}, "team": {"id": "19:team@thread.tacv2"}},
    )


def installed(service_url: str, *, user: dict[str, Any] = SARAH) -> dict[str, Any]:
    return activity(
        "conversationUpdate",
        conversation=SARAH_CHAT,
        conversation_type="personal",
        user=user,
        service_url=service_url,
        membersAdded=[{"id": BOT_ID}],
    )


def card_click(
    verb: str,
    data: dict[str, Any],
    service_url: str,
    *,
    user: dict[str, Any] = SARAH,
    conversation: str = SARAH_CHAT,
    reply_to: str = "activity-1",
) -> dict[str, Any]:
    return activity(
        "invoke",
        conversation=conversation,
        conversation_type="personal" if conversation.startswith("a:") else "channel",
        user=user,
        service_url=service_url,
        name="adaptiveCard/action",
        replyToId=reply_to,
        value={"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"},
    )


def dialog_invoke(name: str, data: dict[str, Any], service_url: str, *, user: dict[str, Any] = SARAH) -> dict[str, Any]:
    """`task/fetch` (a button opening a dialog) or `task/submit` (its form sent), as Teams posts them."""
    return activity(
        "invoke",
        conversation=SARAH_CHAT,
        conversation_type="personal",
        user=user,
        service_url=service_url,
        name=name,
        value={"type": name, "data": data, "context": {"theme": "default"}},
    )


@pytest.fixture
def teams_api() -> Iterator[TeamsApiStandIn]:
    """The connector stand-in; when the test ends, every card the bot sent or updated through it is checked against
    the Adaptive Card 1.5 schema."""
    with TeamsApiStandIn() as api:
        for person in (SARAH, MARCUS):
            api.add_member(person["id"], name=person["name"], email=person["email"], aad=person["aadObjectId"])
        yield api
        for card in api.cards("create") + api.cards("update"):
            assert_valid_card(card)


@pytest.fixture
def teams_db(demo_db: str, tmp_path: Path) -> str:
    """A private copy of the scored demo store, which these tests write to."""
    source = Path(demo_db.removeprefix("sqlite:///"))
    target = tmp_path / "teams.db"
    shutil.copy(source, target)
    return f"sqlite:///{target}"


@pytest.fixture
def start_teams(teams_api: TeamsApiStandIn, teams_db: str) -> Iterator[Callable[..., RunningTeams]]:
    """Start the Teams app with settings overrides; stopped after the test."""
    running: list[tuple[TeamsBot, asyncio.AbstractEventLoop, threading.Thread]] = []

    def start(**overrides: Any) -> RunningTeams:
        values: dict[str, Any] = dict(
            database_url=teams_db,
            teams_client_id=CLIENT_ID,
            teams_client_secret=SECRET,
            teams_tenant_id=TENANT_ID,
            teams_openid_metadata_url=teams_api.openid_metadata_url,
            healthbot_timezone="UTC",
        )
        dev = bool(overrides.pop("dev", False))
        values.update(overrides)
        settings = Settings(**values)
        engine = create_db_engine(settings.database_url)
        init_db(engine)
        port = free_port()
        outbound = teams_api.sign(audience="https://api.botframework.com", appid=CLIENT_ID)
        bot = create_teams_app(
            settings, dev=dev, engine=engine, port=port, host="127.0.0.1", token=lambda scope, tenant=None: outbound
        )
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_until_complete, args=(bot.serve(),), daemon=True)
        thread.start()
        running.append((bot, loop, thread))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise AssertionError("the Teams app did not start")
        return RunningTeams(bot, teams_api, engine, settings, url, outbound)

    yield start
    for bot, loop, thread in running:
        asyncio.run_coroutine_threadsafe(bot.stop(), loop).result(timeout=10)
        thread.join(timeout=10)
        bot.deps.engine.dispose()


@pytest.fixture
def teams(start_teams: Callable[..., RunningTeams]) -> RunningTeams:
    return start_teams()
