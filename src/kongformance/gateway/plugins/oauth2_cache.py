"""Node-level caches of the OAuth plugins (Kong's ``kong.cache`` / shared dict), one set per gateway runtime.

Kong keys some plugin caches by content, not by plugin instance: oauth2-introspection results live under
``oauth2_introspection:<token>`` and upstream-oauth tokens under ``upstream-oauth:<sha256>``, so two plugin
entities share entries. These caches therefore hang off the runtime (one gateway node), not off a plugin
object. Expiry follows the runtime's :class:`~kongformance.clock.Clock`.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from kongformance.clock import Clock
    from kongformance.gateway.plugins.base import GatewayRuntime


@dataclass
class _Entry:
    value: Any
    expires_at: float | None  # None: never expires


class TtlCache:
    """A key/value cache whose entries expire on a virtual clock (``ttl`` <= 0 or None: never)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        """The live value under ``key``, or None (expired entries are dropped on read)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires_at is not None and self.clock.now() >= entry.expires_at:
                del self._entries[key]
                return None
            return entry.value

    def set(self, key: str, value: Any, ttl: float | None) -> None:
        expires_at = None if ttl is None or ttl <= 0 else self.clock.now() + ttl
        with self._lock:
            self._entries[key] = _Entry(value, expires_at)

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


_BY_RUNTIME: weakref.WeakKeyDictionary[Any, dict[str, TtlCache]] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def node_cache(runtime: GatewayRuntime, name: str) -> TtlCache:
    """The cache called ``name`` of the gateway node ``runtime`` (created on first use)."""
    with _REGISTRY_LOCK:
        caches = _BY_RUNTIME.setdefault(runtime, {})
        cache = caches.get(name)
        if cache is None:
            cache = caches[name] = TtlCache(runtime.clock)
        return cache


def drop_caches(runtime: GatewayRuntime) -> None:
    """Empty every OAuth-plugin cache of ``runtime`` (the ``DELETE /_emulator/caches`` control)."""
    with _REGISTRY_LOCK:
        caches = list(_BY_RUNTIME.get(runtime, {}).values())
    for cache in caches:
        cache.clear()
