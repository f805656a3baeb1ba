"""The issuer endpoints of every auth server, under ``{public_base_url}/{issuer_key}/auth`` (kong-identity.md B).

Discovery (B.2), JWKS (B.4), the client_credentials token endpoint (B.3, RFC 6749 4.4 and 5),
introspection (B.7, RFC 7662), revocation (RFC 7009) and userinfo (A.5). Every call passes the
:class:`~kongformance.identity.interception.Interceptor` (request log, faults) first.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
from kongformance.identity.keys import KeyRegistry
from kongformance.identity.oauth_errors import NO_STORE, OAuthError, bearer_challenge, invalid_request
from kongformance.identity.store import AuthServer, IdentityStore
from kongformance.identity.verification import EXPIRED, FOREIGN, REVOKED, check_access_token

CLIENT_CREDENTIALS = "client_credentials"
EVICTION_INTERVAL_SECONDS = 10.0
INTROSPECTION_FIELDS = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti")


def discovery_document(server: AuthServer, issuer: str, scope_names: list[str]) -> dict[str, Any]:
    """The OpenID configuration as observed in 2026 (kong-identity.md B.2)."""
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
    ) -> None:
        self.store = store
        self.directory = directory
        self.clock = clock
        self.keys = keys
        self.defects = defects
        self.issuer_url_for = issuer_url_for
        self._last_eviction = clock.now()
        self._signers = ThreadPoolExecutor(
            max_workers=os.cpu_count() or 2, thread_name_prefix="kongformance-sign"
        )

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
        names = [s.name for s in self.directory.scopes(server.id) if s.include_in_metadata and s.enabled]
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
        try:
            unsigned = self._prepare(request, server, body)
        except OAuthError as err:
            return err.response()
        key = self.keys.ring(server.id).current
        # RSA signing releases the GIL: sign on a worker thread so both cores serve tokens
        loop = asyncio.get_running_loop()
        jwt = await loop.run_in_executor(
            self._signers, tokens.sign_access_token, unsigned, key, server.signing_algorithm
        )
        self.store.record_token(unsigned.record)
        self._evict_expired(unsigned.record.created_at)
        payload: dict[str, Any] = {
            "access_token": jwt,
            "token_type": "Bearer",
            "expires_in": unsigned.expires_in,
        }
        if unsigned.record.granted_scope_names:
            payload["scope"] = unsigned.claims["scope"]
        return JSONResponse(payload, headers=NO_STORE)

    def _prepare(self, request: Request, server: AuthServer, body: bytes) -> tokens.UnsignedToken:
        form = parse_form(request.headers.get("content-type"), body)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise invalid_request("The grant_type parameter is missing.")
        creds = credentials_of(form, request.headers.get("authorization"), self.defects)
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
        now = self.clock.now()
        selected = tokens.token_claims(self.directory.claims(server.id), grant, self.defects)
        custom = {}
        if selected:
            context = self.store.template_context(server, client)
            custom = tokens.render(selected, context, now, self.defects)
        issuer_url = self.issuer_url_for(server)
        return tokens.prepare_access_token(server, client, issuer_url, grant, custom, now, self.defects)

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
                if check.record.client_id != client.id:
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
