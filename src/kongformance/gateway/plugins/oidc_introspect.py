"""openid-connect's token introspection (RFC 7662) and its result cache (https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow)."""

from __future__ import annotations

import base64
import hashlib
import logging
import math
from collections.abc import Mapping
from typing import Any

import httpx

from kongformance.gateway.plugins import oidc_defects as dx
from kongformance.gateway.plugins.base import GatewayRuntime
from kongformance.gateway.plugins.oidc_discovery import IssuerMetadata
from kongformance.gateway.plugins.oidc_errors import unauthorized
from kongformance.gateway.plugins.profile_option_defects import (
    OIDC_CACHE_INTROSPECTION_DISABLED_IGNORED,
    OIDC_INTROSPECTION_CLIENT_SECRET_IGNORED,
    switched_on,
)

log = logging.getLogger(__name__)


def _first(values: Any) -> str | None:
    if isinstance(values, list) and values and isinstance(values[0], str):
        return values[0]
    return None


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


class Introspector:
    """Posts tokens to the introspection endpoint and caches the answers per endpoint and token."""

    def __init__(self, runtime: GatewayRuntime, config: Mapping[str, Any]) -> None:
        self.runtime = runtime
        self.config = config
        self._cache: dict[str, tuple[dict[str, Any], float]] = {}
        self.calls = 0  # requests actually sent to the IdP

    def clear(self) -> None:
        self._cache.clear()

    def endpoint(self, meta: IssuerMetadata) -> str | None:
        configured = self.config.get("introspection_endpoint")
        if isinstance(configured, str) and configured:
            return configured
        return meta.endpoint("introspection_endpoint")

    async def introspect(self, token: str, meta: IssuerMetadata) -> dict[str, Any]:
        """The introspection result for ``token``; raises a 401 failure when it is unusable or inactive."""
        endpoint = self.endpoint(meta)
        if not endpoint:
            raise unauthorized("introspection endpoint was not specified")
        key = hashlib.sha256(f"{endpoint}\n{token}".encode()).hexdigest()
        now = self.runtime.clock.now()
        result: dict[str, Any] | None = None
        cached = self._cache.get(key)
        if cached is not None and now < cached[1]:
            result = cached[0]
        if result is None:
            result = await self._request(endpoint, token)
            caching = self.config.get("cache_introspection", True)
            if switched_on(self.runtime.defects, OIDC_CACHE_INTROSPECTION_DISABLED_IGNORED):
                caching = True
            if caching:
                expires_at = self._expiry(result, now)
                if expires_at > now:
                    self._cache[key] = (result, expires_at)
        check_active = self.config.get("introspection_check_active", True)
        inactive = check_active and result.get("active") is not True
        if inactive and not self.runtime.defects.on(dx.INTROSPECTION_IGNORES_ACTIVE):
            raise unauthorized("invalid token (inactive token)")
        return result

    def _expiry(self, result: Mapping[str, Any], now: float) -> float:
        """When a cached answer expires: the token's remaining lifetime clamped, else ``cache_ttl``."""
        if self.runtime.defects.on(dx.CACHE_INTROSPECTION_FOREVER):
            return math.inf
        ttl: float
        exp = _number(result.get("exp"))
        expires_in = _number(result.get("expires_in"))
        if expires_in is not None:
            ttl = expires_in
        elif exp is not None:
            ttl = exp - now
        else:
            ttl = float(self.config.get("cache_ttl") or 3600)
        low = _number(self.config.get("cache_ttl_min"))
        high = _number(self.config.get("cache_ttl_max"))
        if low is not None and ttl < low:
            ttl = low
        if high is not None and ttl > high:
            ttl = high
        return now + ttl

    def _auth_method(self) -> str:
        method = self.config.get("introspection_endpoint_auth_method")
        if isinstance(method, str) and method:
            return method
        configured = _first(self.config.get("client_auth"))
        if configured:
            return configured
        return "client_secret_basic" if _first(self.config.get("client_secret")) else "none"

    async def _request(self, endpoint: str, token: str) -> dict[str, Any]:
        form: dict[str, str] = {
            str(self.config.get("introspection_token_param_name") or "token"): token,
        }
        hint = self.config.get("introspection_hint")
        if hint:
            form["token_type_hint"] = str(hint)
        names = self.config.get("introspection_post_args_names") or []
        values = self.config.get("introspection_post_args_values") or []
        form.update(zip(names, values, strict=False))
        headers = {"Accept": str(self.config.get("introspection_accept") or "application/json")}
        h_names = self.config.get("introspection_headers_names") or []
        h_values = self.config.get("introspection_headers_values") or []
        headers.update(zip(h_names, h_values, strict=False))
        client_id = _first(self.config.get("client_id"))
        client_secret = _first(self.config.get("client_secret"))
        if switched_on(self.runtime.defects, OIDC_INTROSPECTION_CLIENT_SECRET_IGNORED):
            client_secret = None
        method = self._auth_method()
        if method == "client_secret_basic" and client_id is not None:
            raw = f"{client_id}:{client_secret or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        elif method == "client_secret_post" and client_id is not None:
            form["client_id"] = client_id
            form["client_secret"] = client_secret or ""
        elif client_id is not None:
            form["client_id"] = client_id
        timeout = float(self.config.get("timeout") or 10000) / 1000.0
        self.calls += 1
        try:
            response = await self.runtime.http.post(endpoint, data=form, headers=headers, timeout=timeout)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            log.warning("openid-connect: introspection request failed: %s", type(exc).__name__)
            raise unauthorized("introspection failed (request error)") from exc
        if response.status_code != 200:
            raise unauthorized(f"introspection failed (status {response.status_code})")
        try:
            body = response.json()
        except ValueError as exc:
            raise unauthorized("introspection failed (invalid JSON)") from exc
        if not isinstance(body, dict):
            raise unauthorized("introspection failed (not a JSON object)")
        return body
