"""The Teams app: Microsoft's Teams SDK (`microsoft-teams-apps`) serving POST /api/messages, with GET /healthz and
the short-lived file links beside it on the same FastAPI server.

The SDK validates every request's Bot Framework token (RS256, issuer https://api.botframework.com, audience the
bot's client ID, keys from the Bot Framework OpenID metadata). TEAMS_OPENID_METADATA_URL points that at another
issuer's metadata (a sovereign cloud, or a test issuer); its keys are read from the sibling /keys URL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides
from microsoft_teams.api.auth.credentials import TokenProvider
from microsoft_teams.apps import App
from microsoft_teams.apps.http.fastapi_adapter import FastAPIAdapter
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.playbook_runs import Playbook, load_playbooks
from bot.routing import Routing, load_routing
from bot.settings import Settings, SettingsError
from bot.teams.files import FileShelf
from bot.teams.outbox import TeamsOutbox
from bot.teams.people import TeamsPeople

logger = logging.getLogger(__name__)

DEFAULT_PORT = 3978
LOOPBACK = "127.0.0.1"


@dataclass
class TeamsDeps:
    """What the Teams listeners share: the store, the settings, files to hand over, and the outbox."""

    engine: Engine
    settings: Settings
    playbooks: Mapping[str, Playbook]
    routing: Routing
    outbox: TeamsOutbox
    shelf: FileShelf = field(default_factory=FileShelf)
    people: TeamsPeople = field(default_factory=TeamsPeople)

    def public_link(self, path: str) -> str | None:
        """An https link to a path this server serves, when TEAMS_PUBLIC_URL is set."""
        base = self.settings.teams_public_url
        return f"{base}{path}" if base else None


@dataclass
class TeamsBot:
    """The SDK app, its FastAPI server and the listeners' deps, built once per process."""

    sdk: App
    web: FastAPI
    deps: TeamsDeps
    host: str
    port: int

    async def serve(self) -> None:
        """Serve until stopped (`stop()` or Ctrl-C)."""
        await self.sdk.start(self.port)

    async def stop(self) -> None:
        await self.sdk.stop()


def create_teams_app(
    settings: Settings,
    *,
    engine: Engine,
    port: int = DEFAULT_PORT,
    dev: bool = False,
    token: TokenProvider | None = None,
    host: str | None = None,
) -> TeamsBot:
    """Build the Teams app.

    Args:
        dev: accept requests without a Bot Framework token, listening on loopback only (no credentials needed).
        token: a token provider for the bot's outgoing calls instead of the client secret (managed identities,
            tests); the inbound check is the same either way.
        host: the interface to listen on; loopback with `dev`, every interface otherwise.

    Raises:
        SettingsError: Teams credentials are incomplete and `dev` is not set.
    """
    if not dev and not settings.teams_enabled:
        missing = [
            name
            for name, value in (
                ("TEAMS_CLIENT_ID", settings.teams_client_id),
                ("TEAMS_CLIENT_SECRET", settings.teams_client_secret),
                ("TEAMS_TENANT_ID", settings.teams_tenant_id),
            )
            if not value
        ]
        raise SettingsError(
            f"{', '.join(missing)} not set, so Teams requests could not be authenticated. Set them from your Azure "
            "Bot's Configuration page (see .env.example), or run `healthbot serve-teams --dev` to try it on this "
            "machine without authentication."
        )
    # A deployment listens on every interface (it is reached through its public URL); --dev only on loopback.
    host = LOOPBACK if dev else (host or "0.0.0.0")
    web = FastAPI(title="Healthbot for Teams", docs_url=None, redoc_url=None, openapi_url=None)
    adapter = FastAPIAdapter(
        app=web,
        server_factory=lambda app: uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
        ),
    )
    sdk = sdk_app(settings, dev=dev, token=token, adapter=adapter)
    deps = TeamsDeps(
        engine=engine,
        settings=settings,
        playbooks=load_playbooks(settings.healthbot_playbooks),
        routing=load_routing(settings.healthbot_routing),
        outbox=TeamsOutbox(sdk.api),
    )
    _serve_health_and_files(web, deps)
    from handlers.teams import register

    register(sdk, deps)
    return TeamsBot(sdk=sdk, web=web, deps=deps, host=host, port=port)


def sdk_app(
    settings: Settings, *, dev: bool = False, token: TokenProvider | None = None, adapter: FastAPIAdapter | None = None
) -> App:
    """The Teams SDK app with the bot's credentials (none with `dev`) and the token issuer in force."""
    cloud = with_overrides(PUBLIC, openid_metadata_url=settings.teams_openid_metadata_url)
    credentials: dict[str, Any] = {}
    if not dev:
        credentials = {"client_id": settings.teams_client_id, "tenant_id": settings.teams_tenant_id}
        if token is not None:
            credentials["token"] = token
        else:
            credentials["client_secret"] = settings.teams_client_secret
    return App(
        **credentials,
        cloud=cloud,
        http_server_adapter=adapter,
        dangerously_allow_unauthenticated_requests=dev,
        state=False,
    )


def _serve_health_and_files(web: FastAPI, deps: TeamsDeps) -> None:
    @web.get("/healthz")
    def healthz() -> Response:
        try:
            with deps.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            logger.exception("health check: the database does not answer")
            return JSONResponse({"ok": False, "error": "database unavailable"}, status_code=503)
        return JSONResponse({"ok": True})

    @web.get("/files/{token}/{name}")
    def shelved_file(token: str, name: str) -> Response:
        found = deps.shelf.get(token)
        if found is None:
            return JSONResponse({"error": "This link has expired. Ask Healthbot again for a new one."}, status_code=404)
        return Response(
            found.content,
            media_type=found.media_type,
            headers={"Content-Disposition": f'attachment; filename="{found.name}"', "Cache-Control": "no-store"},
        )
