"""openid-connect's discovery and JWKS cache, with throttled rediscovery (kong-plugins.md 1.3).

Discovery is loaded lazily on the first proxied request, kept for ``cache_ttl`` seconds, and reloaded
(together with the JWKS) when a token names an unknown ``kid``, at most once per ``rediscovery_lifetime``
(5 s after a failed attempt). A failed reload keeps the data already cached.
"""

from __future__ import annotations

import logging
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
class _State:
    metadata: IssuerMetadata | None = None
    last_attempt: float | None = None
    last_failed: bool = False
    fetches: int = field(default=0)


class DiscoveryFailed(Exception):
    """The discovery document or a JWKS could not be loaded."""


class DiscoveryCache:
    """Discovery and JWKS of one plugin's issuer, loaded through ``runtime.http`` on ``runtime.clock``."""

    def __init__(self, runtime: GatewayRuntime, config: Mapping[str, Any]) -> None:
        self.runtime = runtime
        self.config = config
        self._state = _State()

    @property
    def fetches(self) -> int:
        """How many (re)discoveries were attempted (for tests and diagnostics)."""
        return self._state.fetches

    def clear(self) -> None:
        self._state = _State()

    async def get(self) -> IssuerMetadata:
        """The cached metadata, loading it when absent or older than ``cache_ttl``.

        Raises :class:`UnexpectedError` when nothing is cached and discovery fails.
        """
        now = self.runtime.clock.now()
        meta = self._state.metadata
        ttl = float(self.config.get("cache_ttl") or 3600)
        if meta is not None and now - meta.loaded_at <= ttl:
            return meta
        state = self._state
        recently_failed = state.last_failed and state.last_attempt is not None
        if (
            meta is not None
            and recently_failed
            and now - (state.last_attempt or 0) < FAILURE_REDISCOVERY_LIFETIME
        ):
            return meta
        try:
            return await self._load(now)
        except DiscoveryFailed as exc:
            if meta is not None:
                log.warning("openid-connect: rediscovery failed, keeping cached metadata: %s", exc)
                return meta
            raise UnexpectedError(f"loading discovery information failed: {exc}") from exc

    async def rediscover(self) -> IssuerMetadata | None:
        """Reload discovery and JWKS for an unknown key, unless throttled. ``None`` when nothing was reloaded."""
        now = self.runtime.clock.now()
        state = self._state
        if state.last_attempt is not None:
            lifetime = (
                FAILURE_REDISCOVERY_LIFETIME
                if state.last_failed
                else float(self.config.get("rediscovery_lifetime") or 0)
            )
            throttled = now - state.last_attempt < lifetime
            if throttled and not self.runtime.defects.on(dx.REDISCOVER_WITHOUT_THROTTLE):
                return None
        try:
            return await self._load(now)
        except DiscoveryFailed as exc:
            log.warning("openid-connect: rediscovery failed, keeping cached metadata: %s", exc)
            return None

    async def _load(self, now: float) -> IssuerMetadata:
        state = self._state
        state.last_attempt = now
        state.fetches += 1
        try:
            meta = await self._fetch(now)
        except DiscoveryFailed:
            state.last_failed = True
            raise
        state.last_failed = False
        state.metadata = meta
        return meta

    async def _fetch(self, now: float) -> IssuerMetadata:
        issuer = str(self.config.get("issuer") or "")
        document: dict[str, Any] = {}
        if not self.config.get("using_pseudo_issuer"):
            document = await self._get_json(discovery_url(issuer), self._discovery_headers())
        jwks_uris: list[str] = []
        override = self.config.get("jwks_endpoint")
        discovered = document.get("jwks_uri")
        if isinstance(override, str) and override:
            jwks_uris.append(override)
        elif isinstance(discovered, str) and discovered:
            jwks_uris.append(discovered)
        jwks_uris.extend(self.config.get("extra_jwks_uris") or [])
        keys: list[dict[str, Any]] = []
        for uri in jwks_uris:
            jwks = await self._get_json(uri, {})
            found = jwks.get("keys")
            if not isinstance(found, list):
                raise DiscoveryFailed(f"{uri}: no keys in the JWKS")
            keys.extend(k for k in found if isinstance(k, dict))
        discovered_issuer = document.get("issuer")
        return IssuerMetadata(
            document=document,
            keys=keys,
            loaded_at=now,
            issuer=discovered_issuer if isinstance(discovered_issuer, str) and discovered_issuer else issuer,
        )

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
