"""The oauth2-introspection plugin (Enterprise, priority 1700): RFC 7662 introspection of opaque tokens.

Behaviour from https://developer.konghq.com/plugins/oauth2-introspection/: token extraction (3.2), the introspection call (3.3), the
responses (3.4), the upstream headers (3.5) and the node-wide result cache (3.6).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import httpx

from kongformance.defects import Defect
from kongformance.gateway.plugins import profile_option_defects as opt
from kongformance.gateway.plugins.base import Exit, Plugin, RequestContext
from kongformance.gateway.plugins.oauth2_cache import node_cache
from kongformance.gateway.plugins.oauth2_request import (
    ANONYMOUS,
    NonObjectJsonBody,
    drop_query_and_form_argument,
    kong_error,
    missing_anonymous,
    request_parameters,
    scheme_token,
    set_consumer_headers,
    set_or_clear,
)
from kongformance.gateway.plugins.profile_option_defects import switched_on

log = logging.getLogger(__name__)

DEFECTS: tuple[Defect, ...] = (
    Defect(
        "introspection_missing_active_is_active",
        "gateway",
        "oauth2-introspection accepts a 200 introspection response that has no `active` field",
        "https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url (active must be truthy); RFC 7662 2.2",
    ),
    Defect(
        "introspection_caches_inactive_forever",
        "gateway",
        "oauth2-introspection keeps an active:false answer cached forever, whatever config.ttl",
        "https://developer.konghq.com/plugins/oauth2-introspection/reference/ (config.ttl)",
    ),
    Defect(
        "introspection_ignore_ttl",
        "gateway",
        "oauth2-introspection caches every introspection result forever, ignoring config.ttl",
        "https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl",
    ),
    Defect(
        "introspection_forward_client_authorization",
        "gateway",
        "oauth2-introspection authenticates to the IdP with the client's own Authorization header "
        "instead of config.authorization_value",
        "https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url",
    ),
    Defect(
        "introspection_keep_credentials",
        "gateway",
        "oauth2-introspection passes the client's token upstream even with hide_credentials=true",
        "https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials (hide_credentials)",
    ),
)

CACHE_NAME = "oauth2_introspection"
INACTIVE_TTL = 5.0  # seconds an authoritative active:false is cached since 3.12.0.11 / 3.13.0.10
_INVALID = "The access token is invalid or has expired"
_CREDENTIAL_FIELDS = (
    ("X-Credential-Scope", "scope"),
    ("X-Credential-Client-ID", "client_id"),
    ("X-Credential-Identifier", "username"),
    ("X-Credential-Token-Type", "token_type"),
    ("X-Credential-Exp", "exp"),
    ("X-Credential-Iat", "iat"),
    ("X-Credential-Nbf", "nbf"),
    ("X-Credential-Sub", "sub"),
    ("X-Credential-Aud", "aud"),
    ("X-Credential-Iss", "iss"),
    ("X-Credential-Jti", "jti"),
)


@dataclass
class IntrospectionOutcome:
    """One introspection result as cached: the credential on success, else the error Kong answers."""

    credential: dict[str, Any] | None = None
    status: int = 401
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "active"  # active | inactive | idp_error

    def to_exit(self) -> Exit:
        return Exit(self.status, self.body, dict(self.headers))


def cache_key(token: str) -> str:
    """Kong's key: the token alone, shared by every plugin instance of the node (https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl)."""
    return f"oauth2_introspection:{token}"


def claim_header(claim: str) -> str:
    """``custom_claims_forward`` header name: ``foo_bar`` -> ``X-Credential-Foo-Bar``."""
    return "X-Credential-" + "-".join(
        part[:1].upper() + part[1:] for part in claim.replace("_", "-").split("-")
    )


def lua_truthy(value: Any, present: bool) -> bool:
    """Lua truthiness of a cjson-decoded field: only an absent field or JSON ``false`` is false."""
    return present and value is not False


class Oauth2IntrospectionPlugin(Plugin):
    """Validates a token by asking the configured introspection endpoint (https://developer.konghq.com/plugins/oauth2-introspection/)."""

    name: ClassVar[str] = "oauth2-introspection"
    PRIORITY: ClassVar[int] = 1700

    async def access(self, ctx: RequestContext) -> Exit | None:
        conf = self.config
        request = ctx.request
        anonymous = conf.get("anonymous") or ""
        if not conf.get("run_on_preflight", True) and request.method == "OPTIONS":
            return None
        if ctx.credential is not None and anonymous:
            return None  # logical OR: an earlier auth plugin already authenticated (https://developer.konghq.com/gateway/authentication/)

        try:
            failure = await self._authenticate(ctx)
        except NonObjectJsonBody:
            return kong_error(ctx, self.runtime.kong_version, 400, "Bad request")
        if failure is None:
            return None
        if not anonymous:
            return failure
        consumer = self.runtime.find_consumer(anonymous)
        if consumer is None:
            return missing_anonymous(anonymous)
        set_consumer_headers(request.headers, consumer)
        request.headers.set(ANONYMOUS, "true")
        ctx.consumer = consumer
        return None

    def _extract_token(self, ctx: RequestContext) -> str | None:
        """access_token from query+body, else ``Authorization: bearer|token <t>`` (https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials)."""
        request = ctx.request
        value = request_parameters(request, with_body=True, strict_json=True).get("access_token")
        if isinstance(value, list):
            value = value[0] if value else None
        token: str | None = None if value is None or value is False else str(value)
        from_header = False
        if token is None:
            authorization = request.headers.get("authorization")
            if authorization is not None:
                token = scheme_token(authorization)
                from_header = token is not None
        if self.config.get("hide_credentials") and not self.runtime.defects.on(
            "introspection_keep_credentials"
        ):
            if from_header:
                request.headers.remove("authorization")
            else:
                drop_query_and_form_argument(request, "access_token", form_only=False)
        return token

    async def _authenticate(self, ctx: RequestContext) -> Exit | None:
        client_authorization = ctx.request.headers.get("authorization") or ""
        token = self._extract_token(ctx)
        if not token:
            return Exit(
                401,
                {"error": "invalid_request", "error_description": "The access token is missing"},
                {"WWW-Authenticate": 'Bearer realm="service"'},
            )
        outcome = await self._cached_outcome(ctx, token, client_authorization)
        if outcome.credential is None:
            return outcome.to_exit()
        self._apply_credential(ctx, token, outcome.credential)
        return None

    async def _cached_outcome(
        self, ctx: RequestContext, token: str, client_authorization: str
    ) -> IntrospectionOutcome:
        cache = node_cache(self.runtime, CACHE_NAME)
        key = cache_key(token)
        cached = cache.get(key)
        if isinstance(cached, IntrospectionOutcome):
            return cached
        outcome = await self._introspect(ctx, token, client_authorization)
        ttl = self._ttl_for(outcome)
        if ttl is not None:
            cache.set(key, outcome, ttl)
        return outcome

    def _ttl_for(self, outcome: IntrospectionOutcome) -> float | None:
        """How long ``outcome`` is cached (None: not cached); see docs/fidelity/gateway-oauth-plugins.md."""
        ttl = float(self.config.get("ttl") or 0)
        if self.runtime.defects.on("introspection_ignore_ttl"):
            return 0.0  # 0 = never expires
        if self.runtime.kong_version < (3, 12):
            return ttl  # the 2024 code caches every result, errors included
        if outcome.kind == "active":
            return ttl / 2 if switched_on(self.runtime.defects, opt.INTROSPECTION_TTL_HALVED) else ttl
        if outcome.kind == "inactive":
            if self.runtime.defects.on("introspection_caches_inactive_forever"):
                return 0.0
            return INACTIVE_TTL if ttl <= 0 else min(ttl, INACTIVE_TTL)
        return None

    def _introspection_headers(self, ctx: RequestContext, client_authorization: str) -> dict[str, str]:
        conf = self.config
        authorization = conf.get("authorization_value") or ""
        if switched_on(self.runtime.defects, opt.INTROSPECTION_AUTHORIZATION_VALUE_IGNORED):
            authorization = ""
        if self.runtime.defects.on("introspection_forward_client_authorization"):
            authorization = client_authorization
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Authorization": authorization,
        }
        for name, value in (conf.get("custom_introspection_headers") or {}).items():
            header = name.replace("_", "-")
            for existing in [k for k in headers if k.lower() == header.lower()]:
                del headers[existing]
            headers[header] = value
        if conf.get("introspect_request"):
            headers["X-Request-Http-Method"] = ctx.request.method
            headers["X-Request-Path"] = ctx.request.path
        return headers

    async def _introspect(
        self, ctx: RequestContext, token: str, client_authorization: str
    ) -> IntrospectionOutcome:
        """POST to the host, port and path of introspection_url (https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url)."""
        conf = self.config
        parts = urlsplit(conf["introspection_url"])
        url = f"{parts.scheme}://{parts.netloc}{parts.path or '/'}"
        form = {"token": token}
        if conf.get("token_type_hint") is not None:
            form["token_type_hint"] = conf["token_type_hint"]
        timeout = float(conf.get("timeout") or 10000) / 1000.0
        try:
            response = await self.runtime.http.post(
                url,
                content=urlencode(form),
                headers=self._introspection_headers(ctx, client_authorization),
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            log.info("introspection request to %s failed: %s", url, type(exc).__name__)
            return IntrospectionOutcome(body=str(exc) or type(exc).__name__, kind="idp_error")
        if response.status_code != 200:
            return IntrospectionOutcome(body=response.text, kind="idp_error")
        try:
            decoded = json.loads(response.content)
        except ValueError:
            # cjson.decode yields nil and the handler then indexes it: a Lua error, Kong's generic 500
            error = kong_error(ctx, self.runtime.kong_version, 500, "An unexpected error occurred")
            return IntrospectionOutcome(status=500, body=error.body, kind="idp_error")
        if not self._is_active(decoded):
            return IntrospectionOutcome(
                body={"error": "invalid_token", "error_description": _INVALID},
                headers={
                    "WWW-Authenticate": f'Bearer realm="service" error="invalid_token" error_description="{_INVALID}"'
                },
                kind="inactive",
            )
        return IntrospectionOutcome(credential=dict(decoded), kind="active")

    def _is_active(self, decoded: Any) -> bool:
        if not isinstance(decoded, Mapping):
            return False
        if "active" not in decoded and self.runtime.defects.on("introspection_missing_active_is_active"):
            return True
        return lua_truthy(decoded.get("active"), "active" in decoded)

    def _apply_credential(self, ctx: RequestContext, token: str, claims: Mapping[str, Any]) -> None:
        """Consumer mapping and upstream headers on success (https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers)."""
        headers = ctx.request.headers
        consumer_by = self.config.get("consumer_by") or "username"
        consumer: Mapping[str, Any] | None = None
        value = claims.get(consumer_by)
        if switched_on(self.runtime.defects, "option_introspection_consumer_by_ignored"):
            value = None
        if value is not None and value is not False:
            field_name = "username" if consumer_by == "username" else "custom_id"
            consumer = self.runtime.find_consumer_by(field_name, str(value))
        if consumer is not None:
            set_consumer_headers(headers, consumer)
        credential = {**claims, "id": token}
        if consumer is not None:
            credential["consumer_id"] = consumer.get("id")
        ctx.authenticate(consumer, credential)
        for header, claim in _CREDENTIAL_FIELDS:
            set_or_clear(headers, header, claims.get(claim))
        forward = self.config.get("custom_claims_forward") or []
        if switched_on(self.runtime.defects, opt.INTROSPECTION_CUSTOM_CLAIMS_FORWARD_IGNORED):
            forward = []
        for claim in forward:
            set_or_clear(headers, claim_header(claim), claims.get(claim))
        headers.remove(ANONYMOUS)
