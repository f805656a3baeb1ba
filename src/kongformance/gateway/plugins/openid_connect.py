"""The reference gateway's openid-connect plugin (Kong Enterprise), for the bearer, introspection and
kong_oauth2 auth methods (https://developer.konghq.com/plugins/openid-connect/).

Flow of ``access``: lazy discovery (500 when it fails) -> bearer token search -> JWT verification, then
kong_oauth2, then introspection -> second expiry check -> authorization (401/403) -> consumer mapping ->
upstream headers. A 401/403 falls back to ``anonymous`` when set. With the authorization_code method enabled
and no token, the client is redirected to the IdP. Other methods of the default list are not supported.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlencode

from kongformance.defects import Defect
from kongformance.gateway.plugins import oidc_defects as dx
from kongformance.gateway.plugins.base import Exit, GatewayRuntime, Plugin, ProxyRequest, RequestContext
from kongformance.gateway.plugins.oidc_authz import authorize, claim_from
from kongformance.gateway.plugins.oidc_consumers import KongOauth2Result, kong_oauth2_lookup, map_consumer
from kongformance.gateway.plugins.oidc_credentials import BearerCredential, find_bearer, hide_credential
from kongformance.gateway.plugins.oidc_discovery import DiscoveryCache, IssuerMetadata
from kongformance.gateway.plugins.oidc_errors import (
    AuthFailure,
    UnexpectedError,
    failure_response,
    realm_of,
    unauthorized,
    unexpected_response,
)
from kongformance.gateway.plugins.oidc_headers import (
    access_token_header,
    set_claim_headers,
    set_consumer_headers,
    set_groups_header,
    set_introspection_header,
)
from kongformance.gateway.plugins.oidc_introspect import Introspector
from kongformance.gateway.plugins.oidc_verify import (
    CompactJws,
    JwtVerifier,
    effective_leeway,
    exp_passed,
    parse_jws,
)
from kongformance.gateway.plugins.profile_option_defects import switched_on

DEFECTS: tuple[Defect, ...] = dx.DEFECTS
TOKEN_METHODS = frozenset({"bearer", "introspection", "kong_oauth2"})


@dataclass
class Authenticated:
    """What a successful auth method produced."""

    method: str  # "bearer", "introspection" or "kong_oauth2"
    credential: BearerCredential
    claims: dict[str, Any] | None  # the verified access token's claims
    introspection: dict[str, Any] | None  # the introspection result (or kong_oauth2's view of its token)
    kong_oauth2: KongOauth2Result | None = None

    @property
    def sources(self) -> list[Mapping[str, Any] | None]:
        """Where claims are looked up: introspection result first, then the access token."""
        return [self.introspection, self.claims]


class OpenidConnectPlugin(Plugin):
    """Kong's openid-connect plugin as the reference gateway runs it."""

    name: ClassVar[str] = "openid-connect"
    PRIORITY: ClassVar[int] = 1050

    def __init__(self, entity: Mapping[str, Any], runtime: GatewayRuntime) -> None:
        super().__init__(entity, runtime)
        self.discovery = DiscoveryCache(runtime, self.config)
        self.verifier = JwtVerifier(runtime, self.config, self.discovery)
        self.introspector = Introspector(runtime, self.config)

    def clear_caches(self) -> None:
        """Drop the discovery, JWKS and introspection caches (``DELETE /_emulator/caches``)."""
        self.discovery.clear()
        self.introspector.clear()

    async def access(self, ctx: RequestContext) -> Exit | None:
        config = self.config
        request = ctx.request
        if not config.get("run_on_preflight", True) and request.method.upper() == "OPTIONS":
            return None
        anonymous = config.get("anonymous")
        if anonymous and ctx.credential is not None:
            return None
        try:
            meta = await self.discovery.get()
        except UnexpectedError as exc:
            if self.runtime.defects.on(dx.DISCOVERY_FAILURE_GIVES_401):
                failure = unauthorized(str(exc))
                return failure_response(failure, config, realm_of(config.get("issuer")), self.runtime.defects)
            return unexpected_response(config, str(exc))
        try:
            outcome = await self._authenticate(ctx, meta)
            if isinstance(outcome, Exit):
                return outcome
            authorize(config, outcome.sources, self.runtime.defects)
            consumer = self._consumer_of(outcome)
        except AuthFailure as failure:
            if anonymous:
                return self._as_anonymous(ctx, str(anonymous))
            return failure_response(failure, config, realm_of(meta.issuer), self.runtime.defects)
        except UnexpectedError as exc:
            return unexpected_response(config, str(exc))
        self._forward(ctx, outcome, consumer)
        return None

    async def _authenticate(self, ctx: RequestContext, meta: IssuerMetadata) -> Authenticated | Exit:
        methods = set(self.config.get("auth_methods") or [])
        if "introspection" in methods and switched_on(
            self.runtime.defects, "option_oidc_auth_methods_bearer_added"
        ):
            methods.add("bearer")
        token_headers = not self.runtime.defects.on(dx.IGNORE_ACCESS_TOKEN_HEADERS)
        credential = (
            find_bearer(ctx.request, self.config, token_headers=token_headers)
            if methods & TOKEN_METHODS
            else None
        )
        if credential is None:
            if "authorization_code" in methods:
                return self._authorization_redirect(ctx.request, meta)
            raise unauthorized("no credentials found", token_sent=False)
        token = credential.token
        failure: AuthFailure | None = None
        jws = parse_jws(token)
        if "bearer" in methods:
            if jws is None:
                failure = unauthorized("invalid bearer token")
            else:
                try:
                    return await self._bearer(credential, jws, meta)
                except AuthFailure as exc:
                    failure = exc
            if not methods & {"kong_oauth2", "introspection"}:
                raise failure
        if "kong_oauth2" in methods:
            found = kong_oauth2_lookup(self.runtime, ctx, token)
            if isinstance(found, KongOauth2Result):
                return Authenticated("kong_oauth2", credential, None, found.claims, found)
            failure = failure or found
        if "introspection" in methods:
            result = await self.introspector.introspect(token, meta)
            self._check_expiry(result)
            return Authenticated("introspection", credential, None, result)
        raise failure or unauthorized("invalid bearer token")

    async def _bearer(
        self, credential: BearerCredential, jws: CompactJws, meta: IssuerMetadata
    ) -> Authenticated:
        claims = await self.verifier.verify(jws, meta)
        introspection = None
        if self.config.get("introspect_jwt_tokens"):
            introspection = await self.introspector.introspect(jws.raw, meta)
        self._check_expiry(claims)
        return Authenticated("bearer", credential, claims, introspection)

    def _check_expiry(self, claims: Mapping[str, Any]) -> None:
        """Kong's second expiry check: 401 ``The access token expired`` (no refresh token here)."""
        now = self.runtime.clock.now()
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            exp = now + float(self.config.get("cache_ttl") or 3600)
        leeway = effective_leeway(self.config, self.runtime.defects)
        if exp_passed(float(exp), now, leeway, self.runtime.defects):
            raise unauthorized("the access token expired", description="The access token expired")

    def _consumer_of(self, outcome: Authenticated) -> Mapping[str, Any] | None:
        if outcome.kong_oauth2 is not None:
            return outcome.kong_oauth2.consumer
        return map_consumer(self.runtime, self.config, outcome.sources)

    def _authorization_redirect(self, request: ProxyRequest, meta: IssuerMetadata) -> Exit:
        """No token and authorization_code enabled: 302 to the IdP's authorization endpoint."""
        config = self.config
        endpoint = config.get("authorization_endpoint") or meta.endpoint("authorization_endpoint")
        if not endpoint:
            raise UnexpectedError("authorization endpoint was not specified")
        redirect_uris = config.get("redirect_uri") or []
        default_port = 443 if request.scheme == "https" else 80
        port = "" if request.port == default_port else f":{request.port}"
        redirect_uri = (
            redirect_uris[0] if redirect_uris else f"{request.scheme}://{request.host}{port}{request.path}"
        )
        params: list[tuple[str, str]] = []
        client_ids = config.get("client_id") or []
        if client_ids:
            params.append(("client_id", str(client_ids[0])))
        params += [
            ("redirect_uri", redirect_uri),
            ("response_type", " ".join(config.get("response_type") or ["code"])),
            ("scope", " ".join(config.get("scopes") or ["openid"])),
            ("state", secrets.token_urlsafe(18)),
            ("nonce", secrets.token_urlsafe(18)),
        ]
        audience = config.get("audience") or []
        if audience:
            params.append(("audience", " ".join(audience)))
        separator = "&" if "?" in str(endpoint) else "?"
        return Exit(302, None, {"Location": f"{endpoint}{separator}{urlencode(params)}"})

    def _as_anonymous(self, ctx: RequestContext, anonymous: str) -> Exit | None:
        consumer = self.runtime.find_consumer(anonymous)
        if consumer is None:
            return unexpected_response(self.config, f"anonymous consumer {anonymous} was not found")
        set_consumer_headers(ctx.request.headers, consumer, anonymous=True)
        ctx.authenticate(consumer, None)
        return None

    def _forward(
        self, ctx: RequestContext, outcome: Authenticated, consumer: Mapping[str, Any] | None
    ) -> None:
        """Apply a successful authentication to the request context and the upstream request."""
        config = self.config
        request = ctx.request
        defects = self.runtime.defects
        forward_unchanged = defects.on(dx.FORWARD_CLIENT_AUTHORIZATION)
        if (
            config.get("hide_credentials")
            and not forward_unchanged
            and not defects.on(dx.IGNORE_HIDE_CREDENTIALS)
        ):
            hide_credential(request, outcome.credential, in_body=not defects.on(dx.HIDE_KEEPS_BODY_TOKEN))
        header = access_token_header(config.get("upstream_access_token_header"), outcome.credential.token)
        if header is not None and not forward_unchanged:
            request.headers.set(*header)
        sources = outcome.sources
        if consumer is not None:
            set_consumer_headers(request.headers, consumer, anonymous=False)
            credential = (
                outcome.kong_oauth2.credential if outcome.kong_oauth2 else self._virtual_credential(sources)
            )
            ctx.authenticate(consumer, credential or {"consumer": {"id": consumer.get("id")}})
        else:
            ctx.authenticate(None, self._virtual_credential(sources))
        groups_claim = config.get("authenticated_groups_claim")
        if groups_claim:
            groups = groups_of(claim_from(sources, groups_claim))
            ctx.authenticated_groups = groups or None
            set_groups_header(request.headers, groups)
        set_claim_headers(request.headers, config, sources, self.runtime.kong_version, defects)
        set_introspection_header(
            request.headers, config, outcome.introspection if outcome.method != "kong_oauth2" else None
        )

    def _virtual_credential(self, sources: list[Mapping[str, Any] | None]) -> dict[str, Any] | None:
        """``credential_claim`` as Kong's virtual credential ``{id = <claim>}``."""
        value = claim_from(sources, self.config.get("credential_claim") or ["sub"])
        if value is None or isinstance(value, (dict, list)):
            return None
        return {"id": str(value)}


def groups_of(value: Any) -> list[str]:
    """A groups claim as a list: an array's items, or a single string as one group."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if not isinstance(v, (dict, list))]
    return []
