"""openid-connect's discovery and JWKS cache, with throttled rediscovery (https://developer.konghq.com/plugins/openid-connect/#discovery-cache).

Discovery is loaded lazily on the first proxied request, kept for ``cache_ttl`` seconds, and reloaded
(together with the JWKS) when a token names an unknown ``kid``, at most once per ``rediscovery_lifetime``
(5 s after a failed attempt). A failed reload keeps the data already cached. As in Kong, the data, the
throttle and the fetch lock belong to the issuer on one gateway node, shared by every plugin instance naming it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from kongformance.gateway.plugins import oidc_defects as dx
from kongformance.gateway.plugins.base import GatewayRuntime
from kongformance.gateway.plugins.oidc_errors import UnexpectedError

log = logging.getLogger(__name__)

WELL_KNOWN_SUFFIXES = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")
FAILURE_REDISCOVERY_LIFETIME = 5.0


def discovery_url(issuer: str) -> str:
    """The discovery document's URL: ``issuer`` itself if it is a well-known URL, else issuer + suffix."""
    if issuer.endswith(WELL_KNOWN_SUFFIXES):
        return issuer
    if issuer.endswith("/"):
        return issuer + ".well-known/openid-configuration"
    return issuer + "/.well-known/openid-configuration"


def normalise_issuer(value: str) -> str:
    """An issuer as Kong compares it: well-known suffix and trailing slash removed."""
    for suffix in WELL_KNOWN_SUFFIXES:
        if value.endswith(suffix):
            value = value[: -len(suffix)]
            break
    return value.rstrip("/")


@dataclass
class IssuerMetadata:
    """One successful discovery: the document and the keys of every trusted JWKS."""

    document: dict[str, Any]
    keys: list[dict[str, Any]]
    loaded_at: float
    issuer: str  # the discovered issuer (falls back to the configured one)

    def endpoint(self, name: str) -> str | None:
        value = self.document.get(name)
        return value if isinstance(value, str) and value else None


@dataclass
class _IssuerState:
    """What one gateway node knows about one issuer, shared by every plugin instance naming it."""

    document: dict[str, Any] | None = None
    jwks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # keys per JWKS URL
    loaded_at: float | None = None
    last_attempt: float | None = None
    last_failed: bool = False
    fetches: int = 0
    locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = field(
        default_factory=weakref.WeakKeyDictionary
    )

    def lock(self) -> asyncio.Lock:
        """The per-issuer semaphore of the running event loop (one fetch at a time per issuer)."""
        loop = asyncio.get_running_loop()
        found = self.locks.get(loop)
        if found is None:
            found = self.locks[loop] = asyncio.Lock()
        return found


_BY_RUNTIME: weakref.WeakKeyDictionary[Any, dict[str, _IssuerState]] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def _issuer_state(runtime: GatewayRuntime, key: str) -> _IssuerState:
    with _REGISTRY_LOCK:
        states = _BY_RUNTIME.setdefault(runtime, {})
        state = states.get(key)
        if state is None:
            state = states[key] = _IssuerState()
        return state


def drop_discovery(runtime: GatewayRuntime, key: str | None = None) -> None:
    """Forget the node's discovery data: of the issuer under ``key`` (a discovery URL), or of every issuer."""
    with _REGISTRY_LOCK:
        states = _BY_RUNTIME.get(runtime)
        if states is None:
            return
        if key is None:
            states.clear()
        else:
            states.pop(key, None)


class DiscoveryFailed(Exception):
    """The discovery document or a JWKS could not be loaded."""


class DiscoveryCache:
    """One plugin's view of its issuer's discovery and JWKS, loaded through ``runtime.http`` on ``runtime.clock``.

    The data itself is kept per gateway node (runtime) and per discovery URL, as Kong keeps it per issuer: plugin
    instances naming the same issuer share one discovery, one rediscovery throttle and one semaphore. The reading
    instance's settings (``cache_ttl``, ``rediscovery_lifetime``, discovery headers, ``jwks_endpoint``,
    ``extra_jwks_uris``) decide freshness, throttling and which key sets it trusts.
    """

    def __init__(self, runtime: GatewayRuntime, config: Mapping[str, Any]) -> None:
        self.runtime = runtime
        self.config = config
        issuer = str(config.get("issuer") or "")
        self.key = "pseudo:" + issuer if config.get("using_pseudo_issuer") else discovery_url(issuer)

    @property
    def _state(self) -> _IssuerState:
        return _issuer_state(self.runtime, self.key)

    @property
    def fetches(self) -> int:
        """How many (re)discoveries of this issuer the node attempted (for tests and diagnostics)."""
        return self._state.fetches

    def clear(self) -> None:
        """Forget this issuer's discovery data on this node (for every plugin instance naming it)."""
        drop_discovery(self.runtime, self.key)

    async def get(self) -> IssuerMetadata:
        """The cached metadata, loading it when absent, older than ``cache_ttl`` or lacking a trusted JWKS.

        Raises :class:`UnexpectedError` when nothing usable is cached and discovery fails.
        """
        state = self._state
        meta = self._fresh(state)
        if meta is not None:
            return meta
        async with state.lock():
            now = self.runtime.clock.now()
            meta = self._fresh(state)
            if meta is not None:
                return meta
            meta = self._view(state)
            if (
                meta is not None
                and state.last_failed
                and state.last_attempt is not None
                and now - state.last_attempt < FAILURE_REDISCOVERY_LIFETIME
            ):
                return meta
            try:
                return await self._load(state, now)
            except DiscoveryFailed as exc:
                if meta is not None:
                    log.warning("openid-connect: rediscovery failed, keeping cached metadata: %s", exc)
                    return meta
                raise UnexpectedError(f"loading discovery information failed: {exc}") from exc

    async def rediscover(self) -> IssuerMetadata | None:
        """Reload discovery and JWKS for an unknown key, unless throttled.

        When throttled, the node's current data is returned (another route may have reloaded it meanwhile);
        ``None`` when nothing is cached or the reload failed.
        """
        state = self._state
        async with state.lock():
            now = self.runtime.clock.now()
            if state.last_attempt is not None:
                lifetime = (
                    FAILURE_REDISCOVERY_LIFETIME
                    if state.last_failed
                    else float(self.config.get("rediscovery_lifetime") or 0)
                )
                throttled = now - state.last_attempt < lifetime
                if throttled and not self.runtime.defects.on(dx.REDISCOVER_WITHOUT_THROTTLE):
                    return self._view(state)
            try:
                return await self._load(state, now)
            except DiscoveryFailed as exc:
                log.warning("openid-connect: rediscovery failed, keeping cached metadata: %s", exc)
                return None

    def _jwks_uris(self, document: Mapping[str, Any]) -> list[str]:
        """The key sets this instance trusts: ``jwks_endpoint`` or the discovered ``jwks_uri``, plus extras."""
        uris: list[str] = []
        override = self.config.get("jwks_endpoint")
        discovered = document.get("jwks_uri")
        if isinstance(override, str) and override:
            uris.append(override)
        elif isinstance(discovered, str) and discovered:
            uris.append(discovered)
        uris.extend(u for u in self.config.get("extra_jwks_uris") or [] if isinstance(u, str))
        return uris

    def _view(self, state: _IssuerState) -> IssuerMetadata | None:
        """The shared data as this instance sees it; ``None`` if absent or a trusted JWKS is not loaded."""
        if state.document is None or state.loaded_at is None:
            return None
        uris = self._jwks_uris(state.document)
        if any(uri not in state.jwks for uri in uris):
            return None
        issuer = str(self.config.get("issuer") or "")
        discovered_issuer = state.document.get("issuer")
        return IssuerMetadata(
            document=state.document,
            keys=[key for uri in dict.fromkeys(uris) for key in state.jwks[uri]],
            loaded_at=state.loaded_at,
            issuer=discovered_issuer if isinstance(discovered_issuer, str) and discovered_issuer else issuer,
        )

    def _fresh(self, state: _IssuerState) -> IssuerMetadata | None:
        meta = self._view(state)
        ttl = float(self.config.get("cache_ttl") or 3600)
        if meta is not None and self.runtime.clock.now() - meta.loaded_at <= ttl:
            return meta
        return None

    async def _load(self, state: _IssuerState, now: float) -> IssuerMetadata:
        state.last_attempt = now
        state.fetches += 1
        try:
            document, jwks = await self._fetch()
        except DiscoveryFailed:
            state.last_failed = True
            raise
        state.last_failed = False
        state.document = document
        state.jwks.update(jwks)
        state.loaded_at = now
        meta = self._view(state)
        assert meta is not None  # every JWKS this instance trusts was just loaded
        return meta

    async def _fetch(self) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        """The discovery document and the keys of every JWKS this instance trusts."""
        document: dict[str, Any] = {}
        if not self.config.get("using_pseudo_issuer"):
            document = await self._get_json(self.key, self._discovery_headers())
        jwks: dict[str, list[dict[str, Any]]] = {}
        for uri in self._jwks_uris(document):
            body = await self._get_json(uri, {})
            found = body.get("keys")
            if not isinstance(found, list):
                raise DiscoveryFailed(f"{uri}: no keys in the JWKS")
            jwks[uri] = [k for k in found if isinstance(k, dict)]
        return document, jwks

    def _discovery_headers(self) -> dict[str, str]:
        names = self.config.get("discovery_headers_names") or []
        values = self.config.get("discovery_headers_values") or []
        return dict(zip(names, values, strict=False))

    async def _get_json(self, url: str, headers: dict[str, str]) -> dict[str, Any]:
        timeout = float(self.config.get("timeout") or 10000) / 1000.0
        try:
            response = await self.runtime.http.get(url, headers=headers, timeout=timeout)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            raise DiscoveryFailed(f"{url}: {type(exc).__name__}") from exc
        if not 200 <= response.status_code < 300:
            raise DiscoveryFailed(f"{url}: status {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise DiscoveryFailed(f"{url}: not JSON") from exc
        if not isinstance(body, dict):
            raise DiscoveryFailed(f"{url}: not a JSON object")
        return body
