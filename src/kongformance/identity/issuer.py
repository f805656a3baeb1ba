"""The issuer endpoints of every auth server, under ``{public_base_url}/{issuer_key}/auth`` (https://developer.konghq.com/identity/auth-servers/).

Discovery (B.2), JWKS (B.4), the client_credentials token endpoint (B.3, RFC 6749 4.4 and 5),
introspection (B.7, RFC 7662), revocation (RFC 7009) and userinfo (A.5). Every call passes the
:class:`~kongformance.identity.interception.Interceptor` (request log, faults) first.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kongformance.clock import Clock
from kongformance.defects import DefectSwitches
from kongformance.identity import tokens
from kongformance.identity.client_auth import authenticate, credentials_of, parse_form
from kongformance.identity.directory import IssuerDirectory
from kongformance.identity.interception import Interceptor
from kongformance.identity.keys import JwtSigners, KeyRegistry, SigningKey
from kongformance.identity.oauth_errors import NO_STORE, OAuthError, bearer_challenge, invalid_request
from kongformance.identity.store import AuthServer, Claim, Client, IdentityStore
from kongformance.identity.verification import EXPIRED, FOREIGN, REVOKED, check_access_token

CLIENT_CREDENTIALS = "client_credentials"
EVICTION_INTERVAL_SECONDS = 10.0
GRANT_CACHE_SIZE = 256
"""Distinct token requests whose client authentication and scope resolution are remembered."""
INTROSPECTION_FIELDS = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti")


def discovery_document(server: AuthServer, issuer: str, scope_names: list[str]) -> dict[str, Any]:
    """The OpenID configuration as observed in 2026 (https://developer.konghq.com/how-to/configure-kong-identity-oidc/)."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "introspection_endpoint": f"{issuer}/introspect",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "revocation_endpoint": f"{issuer}/revoke",
        "end_session_endpoint": f"{issuer}/end_session",
        "device_authorization_endpoint": f"{issuer}/device_authorization",
        "jwks_uri": f"{issuer}/.well-known/jwks",
        "scopes_supported": ["openid", *[n for n in scope_names if n != "openid"]],
        "response_types_supported": ["code", "id_token", "id_token token"],
        "grant_types_supported": [
            "authorization_code",
            "implicit",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "refresh_token",
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [server.signing_algorithm],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
        "introspection_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "ui_locales_supported": ["en"],
        "request_uri_parameter_supported": False,
    }


@dataclass
class _Grant:
    """What a token request resolved to: the client, its scope grant, the claims that go into its tokens, and
    the shape of those tokens for the issuer URL it was last built for."""

    client: Client
    grant: tokens.ScopeGrant
    selected: list[Claim]
    shape: tokens.TokenShape | None = None


class IssuerEndpoints:
    """Handlers of the issuer endpoints, sharing the store, clock, keys and defect switches."""

    def __init__(
        self,
        store: IdentityStore,
        directory: IssuerDirectory,
        clock: Clock,
        keys: KeyRegistry,
        defects: DefectSwitches,
        issuer_url_for: Callable[[AuthServer], str],
        *,
        signing_threads: int | None = None,
    ) -> None:
        self.store = store
        self.directory = directory
        self.clock = clock
        self.keys = keys
        self.defects = defects
        self.issuer_url_for = issuer_url_for
        self._last_eviction = clock.now()
        self._grants: dict[tuple[int, str, str | None, str | None, bytes], _Grant] = {}
        threads = (os.cpu_count() or 2) if signing_threads is None else signing_threads
        self._signers = JwtSigners(threads) if threads > 0 else None

    def routes(self, interceptor: Interceptor) -> list[Route]:
        """Routes relative to ``/{issuer_key}/auth``."""
        wrap = interceptor.endpoint
        return [
            Route("/.well-known/openid-configuration", wrap("discovery", self.discovery), methods=["GET"]),
            Route("/.well-known/jwks", wrap("jwks", self.jwks), methods=["GET"]),
            Route("/oauth/token", wrap("token", self.token), methods=["POST"]),
            Route("/introspect", wrap("introspect", self.introspect), methods=["POST"]),
            Route("/revoke", wrap("revoke", self.revoke), methods=["POST"]),
            Route("/userinfo", wrap("userinfo", self.userinfo), methods=["GET", "POST"]),
        ]

    # -- discovery and keys --

    async def discovery(self, request: Request, server: AuthServer, body: bytes) -> Response:
        every = self.defects.on("option_identity_include_in_metadata_ignored")
        names = [
            s.name for s in self.directory.scopes(server.id) if (s.include_in_metadata or every) and s.enabled
        ]
        return JSONResponse(discovery_document(server, self.issuer_url_for(server), names))

    async def jwks(self, request: Request, server: AuthServer, body: bytes) -> Response:
        ring = self.keys.ring(server.id)
        current_kid = ring.current.kid
        if self.defects.on("jwks_wrong_kid"):
            current_kid = str(uuid.uuid5(uuid.NAMESPACE_OID, current_kid))
        keys = [ring.current.public_jwk(server.signing_algorithm, current_kid)]
        if ring.previous is not None and not self.defects.on("jwks_drops_previous_key"):
            keys.append(ring.previous.public_jwk(server.signing_algorithm))
        return JSONResponse({"keys": keys})

    # -- token endpoint --

    async def token(self, request: Request, server: AuthServer, body: bytes) -> Response:
        """The token endpoint behind Starlette's router (the app normally answers it via :meth:`issue`)."""
        headers = request.headers
        try:
            payload = await self.issue(
                server, body, headers.get("content-type"), headers.get("authorization")
            )
        except OAuthError as err:
            return err.response()
        return Response(payload, headers=NO_STORE, media_type="application/json")

    async def issue(
        self, server: AuthServer, body: bytes, content_type: str | None, authorization: str | None
    ) -> bytes:
        """The JSON answer of a token request (RFC 6749 5.1); raises OAuthError for 5.2 errors."""
        unsigned = self._prepare(content_type, authorization, server, body)
        key = self.keys.ring(server.id).current
        jwt = await self._sign(unsigned, key, server.signing_algorithm)
        record = unsigned.record
        self.store.record_token(record)
        self._evict_expired(record.created_at)
        scope = ""
        if record.granted_scope_names:  # the scope claim, JSON-escaped like the rest of the answer
            scope = ',"scope":' + unsigned.scope_json
        # the JWT is base64url and dots: no escaping needed
        answer = f'{{"access_token":"{jwt}","token_type":"Bearer","expires_in":{unsigned.expires_in}{scope}}}'
        return answer.encode("utf-8")

    async def _sign(self, unsigned: tokens.UnsignedToken, key: SigningKey, alg: str) -> str:
        """The signed JWT. RSA signing releases the GIL, so signing threads let every core serve tokens while
        the loop parses the next requests; without threads the loop signs (less CPU per token, one core)."""
        if self._signers is None:
            return tokens.sign_access_token(unsigned, key, alg)
        return await self._signers.sign(key, unsigned.payload_segment, alg)

    def _prepare(
        self, content_type: str | None, authorization: str | None, server: AuthServer, body: bytes
    ) -> tokens.UnsignedToken:
        resolved = self._grant(content_type, authorization, server, body)
        now = self.clock.now()
        custom = {}
        if resolved.selected:
            context = self.store.template_context(server, resolved.client)
            custom = tokens.render(resolved.selected, context, now, self.defects)
        issuer_url = self.issuer_url_for(server)
        shape = resolved.shape
        if shape is None or shape.issuer_url != issuer_url:
            shape = resolved.shape = tokens.token_shape(
                server, resolved.client, issuer_url, resolved.grant, self.defects
            )
        return tokens.prepare_access_token(shape, custom, now)

    def _grant(
        self, content_type: str | None, authorization: str | None, server: AuthServer, body: bytes
    ) -> _Grant:
        """Client, scope grant and token claims of a request. Remembered for identical requests while the
        store has no new writes and no defect is on (nothing here depends on the time)."""
        cacheable = not self.defects.enabled()
        key = (self.directory.store.generation, server.id, content_type, authorization, body)
        if cacheable:
            hit = self._grants.get(key)
            if hit is not None:
                return hit
        form = parse_form(content_type, body)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise invalid_request("The grant_type parameter is missing.")
        creds = credentials_of(form, authorization, self.defects)
        client = authenticate(self.directory, server.id, creds, self.defects)
        if grant_type != CLIENT_CREDENTIALS:
            raise OAuthError("unsupported_grant_type", f"The grant type {grant_type} is not supported.")
        if CLIENT_CREDENTIALS not in client.grant_types:
            raise OAuthError("unauthorized_client", "The client may not use the client_credentials grant.")
        requested = tokens.parse_scope_parameter(form.get("scope"))
        try:
            grant = tokens.resolve_scopes(self.directory.scopes(server.id), client, requested, self.defects)
        except tokens.InvalidScope as err:
            raise OAuthError("invalid_scope", str(err)) from None
        selected = tokens.token_claims(self.directory.claims(server.id), grant, self.defects)
        answer = _Grant(client, grant, selected)
        if cacheable:
            if len(self._grants) >= GRANT_CACHE_SIZE:
                self._grants.clear()
            self._grants[key] = answer
        return answer

    def _evict_expired(self, now: float) -> None:
        if now - self._last_eviction >= EVICTION_INTERVAL_SECONDS:
            self._last_eviction = now
            self.store.evict_expired(now)

    # -- introspection (RFC 7662) --

    async def introspect(self, request: Request, server: AuthServer, body: bytes) -> Response:
        try:
            form = parse_form(request.headers.get("content-type"), body)
            creds = credentials_of(form, request.headers.get("authorization"), self.defects, allow_post=False)
            authenticate(self.directory, server.id, creds, self.defects)
            token = form.get("token")
            if not token:
                raise invalid_request("The token parameter is missing.")
        except OAuthError as err:
            return err.response()
        check = check_access_token(
            token, server.id, self.issuer_url_for(server), self.keys, self.store, self.clock.now()
        )
        if check.claims is None or not (check.valid or self._reports_active(check.reason)):
            return JSONResponse({"active": False}, headers=NO_STORE)
        answer: dict[str, Any] = {"active": True, "token_type": "Bearer"}
        for name in INTROSPECTION_FIELDS:
            if name in check.claims:
                answer[name] = check.claims[name]
        if not self.defects.on("introspect_omits_custom_claims"):
            for name, value in check.claims.items():
                answer.setdefault(name, value)
        return JSONResponse(answer, headers=NO_STORE)

    def _reports_active(self, reason: str | None) -> bool:
        """Whether a defect makes introspection call an invalid token active."""
        if reason == EXPIRED:
            return self.defects.on("introspect_expired_active")
        if reason == REVOKED:
            return self.defects.on("introspect_revoked_active")
        if reason == FOREIGN:
            return self.defects.on("introspect_foreign_active")
        return False

    # -- revocation (RFC 7009) --

    async def revoke(self, request: Request, server: AuthServer, body: bytes) -> Response:
        try:
            form = parse_form(request.headers.get("content-type"), body)
            creds = credentials_of(form, request.headers.get("authorization"), self.defects)
            client = authenticate(self.directory, server.id, creds, self.defects)
            token = form.get("token")
            if not token:
                raise invalid_request("The token parameter is missing.")
            check = check_access_token(
                token, server.id, self.issuer_url_for(server), self.keys, self.store, self.clock.now()
            )
            if check.record is not None and check.reason in (None, EXPIRED, REVOKED):
                if check.record.client_id != client.id and not self.defects.on("revoke_other_clients_token"):
                    raise OAuthError("unauthorized_client", "The token was not issued to this client.")
                if not self.defects.on("revoke_noop"):
                    self.store.revoke_token(check.record.id)
        except OAuthError as err:
            return err.response()
        return Response(b"", status_code=200, headers=NO_STORE)

    # -- userinfo --

    async def userinfo(self, request: Request, server: AuthServer, body: bytes) -> Response:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _bearer_error(None, "No bearer access token was sent.")
        check = check_access_token(
            token.strip(), server.id, self.issuer_url_for(server), self.keys, self.store, self.clock.now()
        )
        client_id = (check.claims or {}).get("sub")
        client = self.directory.client(server.id, client_id) if isinstance(client_id, str) else None
        if not check.valid or client is None:
            return _bearer_error("invalid_token", "The access token is invalid, expired or revoked.")
        now = self.clock.now()
        claims = tokens.userinfo_claims(self.directory.claims(server.id))
        rendered = tokens.render(claims, self.store.template_context(server, client), now, self.defects)
        answer = {name: value for name, value in rendered.items() if name != "sub"}
        return JSONResponse({"sub": client.id, **answer}, headers=NO_STORE)


def _bearer_error(error: str | None, description: str) -> Response:
    body = {"error": error or "invalid_request", "error_description": description}
    headers = {**NO_STORE, "WWW-Authenticate": bearer_challenge(error, description if error else None)}
    return JSONResponse(body, status_code=401, headers=headers)
