"""A small thread-safe cache whose entries go stale after a while (Slack lookups: group members, emails)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    """Values remembered for `ttl_seconds` after they were stored; a stale value is still there to fall back on."""

    def __init__(self, ttl_seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def lookup(self, key: K) -> tuple[V, bool] | None:
        """The value for `key` and whether it is still fresh; None when there has never been one."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        return entry[1], entry[0] > self._clock()

    def store(self, key: K, value: V, *, ttl_seconds: float | None = None) -> None:
        """Remember `value` for `ttl_seconds` (default: the cache's)."""
        expires = self._clock() + (self.ttl_seconds if ttl_seconds is None else ttl_seconds)
        with self._lock:
            self._entries[key] = (expires, value)
