"""Files the bot hands over in Teams (export reports, trend charts): kept in memory for a short while and served at
an unguessable link under TEAMS_PUBLIC_URL. A bot cannot attach a file to a channel message, and a file-consent
card works in personal chats only, so a short-lived download link is the one way that works in both."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

LINK_LIFETIME_SECONDS = 15 * 60
MAX_FILES = 200  # the oldest go first: memory stays bounded however many exports are asked for


@dataclass(frozen=True)
class ShelvedFile:
    name: str
    content: bytes
    media_type: str
    expires: float


@dataclass
class FileShelf:
    """Short-lived files by token."""

    lifetime: float = LINK_LIFETIME_SECONDS
    clock: Callable[[], float] = time.monotonic
    _files: dict[str, ShelvedFile] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, name: str, content: bytes, media_type: str) -> str:
        """Keep a file; returns its path under the public URL ("/files/<token>/<name>")."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._drop_expired()
            while len(self._files) >= MAX_FILES:
                self._files.pop(next(iter(self._files)))
            self._files[token] = ShelvedFile(name, content, media_type, self.clock() + self.lifetime)
        return f"/files/{token}/{quote(name)}"

    def get(self, token: str) -> ShelvedFile | None:
        """The file, or None when the link is unknown or has expired."""
        with self._lock:
            self._drop_expired()
            return self._files.get(token)

    def _drop_expired(self) -> None:
        now = self.clock()
        for token in [t for t, f in self._files.items() if f.expires <= now]:
            del self._files[token]
