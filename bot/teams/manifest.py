"""The Teams app package (`healthbot teams-manifest`): manifest.json in the current schema version and the two
icons Teams asks for (colour 192×192, outline 32×32 white on transparent), drawn here so nothing binary lives in
the repository."""

from __future__ import annotations

import io
import itertools
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

MANIFEST_VERSION = "1.29"
SCHEMA_URL = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
ACCENT = "#2EB67D"
COMMANDS = (
    ("health", "An account's health card, e.g. health Acme Corp"),
    ("portfolio", "A CSM's portfolio, e.g. portfolio Sarah Chen (or me)"),
    ("risks", "The accounts most at risk right now"),
    ("help", "What Healthbot can answer"),
)


def manifest(
    *,
    app_id: str,
    bot_id: str,
    name: str = "Healthbot",
    version: str = "1.0.0",
    website: str,
    domain: str | None = None,
) -> dict[str, Any]:
    """The manifest.json of the app package."""
    commands = [{"title": title, "description": about} for title, about in COMMANDS]
    built: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": "Healthbot contributors",
            "websiteUrl": website,
            "privacyUrl": f"{website}#privacy",
            "termsOfUseUrl": f"{website}#license",
        },
        "name": {"short": name[:30], "full": f"{name}: customer health for CS teams"[:100]},
        "description": {
            "short": "Customer health scores, early warnings and playbooks in Teams."[:80],
            "full": (
                "Ask for an account's health card, a CSM's portfolio, the accounts at risk, trends and recovery "
                "plans; get the morning early-warning digest and red-account alerts whose buttons record who "
                "acknowledged, snoozed or resolved them."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "bots": [
            {
                "botId": bot_id,
                "scopes": ["personal", "team"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": commands},
                    {"scopes": ["team"], "commands": commands},
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [domain] if domain else [],
    }
    return built


def package(**options: Any) -> bytes:
    """The app package: a zip of manifest.json, color.png and outline.png at its root, as Teams uploads want."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest(**options), indent=2))
        archive.writestr("color.png", colour_icon())
        archive.writestr("outline.png", outline_icon())
    return buffer.getvalue()


def colour_icon(size: int = 192) -> bytes:
    """A white heart-rate line on the accent green, full bleed (Teams rounds the corners itself)."""
    green = (0x2E, 0xB6, 0x7D, 255)
    white = (255, 255, 255, 255)
    return _png(size, lambda x, y: white if _on_pulse(x / size, y / size, 0.035) else green)


def outline_icon(size: int = 32) -> bytes:
    """The same line in white on transparent, as Teams requires of the outline icon."""
    clear = (255, 255, 255, 0)
    white = (255, 255, 255, 255)
    return _png(size, lambda x, y: white if _on_pulse(x / size, y / size, 0.06) else clear)


# A heart-rate trace through the icon: flat, a spike up, a dip, flat — in fractions of the side.
_TRACE = ((0.12, 0.55), (0.38, 0.55), (0.47, 0.25), (0.56, 0.78), (0.63, 0.55), (0.88, 0.55))


def _on_pulse(x: float, y: float, width: float) -> bool:
    for (x1, y1), (x2, y2) in itertools.pairwise(_TRACE):
        dx, dy = x2 - x1, y2 - y1
        t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)))
        if (x - x1 - t * dx) ** 2 + (y - y1 - t * dy) ** 2 <= width * width:
            return True
    return False


def _png(size: int, pixel: Callable[[int, int], tuple[int, int, int, int]]) -> bytes:
    """An RGBA PNG, written by hand: zlib and struct are all the format needs."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(size)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
