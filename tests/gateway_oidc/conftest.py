"""Fixtures for the openid-connect and jwt plugin tests: a fake gateway runtime and a small in-process IdP.

The IdP is a Starlette app (discovery, JWKS, introspection) reached through ``httpx.ASGITransport``, so no
socket is opened. Tokens are signed with pyjwt. The clock is frozen at ``NOW`` and moved by tests.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import httpx
import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import kongformance
from kongformance.clock import Clock
from kongformance.defects import DefectSwitches, catalogue_of
from kongformance.gateway.plugins import jwt as jwt_plugin
from kongformance.gateway.plugins import openid_connect
from kongformance.gateway.plugins.base import Exit, Headers, ProxyRequest, RequestContext

T = TypeVar("T")
NOW = 1_800_000_000.0
ISSUER = "http://idp.example.test:9443/auth"
CATALOGUE = catalogue_of(*openid_connect.DEFECTS, *jwt_plugin.DEFECTS)
SCHEMAS = Path(kongformance.__file__).parent / "reference" / "kong-plugin-schemas-3.15"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def schema_defaults(schema_file: str) -> dict[str, Any]:
    """Top-level config defaults of a Kong plugin schema (what gateway-core fills in before a plugin runs)."""
    schema = json.loads((SCHEMAS / schema_file).read_text())
    props = schema["properties"]["config"]["properties"]
    return {k: v.get("default") for k, v in props.items()}


@cache
def rsa_key(n: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: Any, kid: str | None, alg: str | None) -> dict[str, Any]:
    jwk: dict[str, Any]
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    else:
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    if kid is not None:
        jwk["kid"] = kid
    if alg is not None:
        jwk["alg"] = alg
    jwk["use"] = "sig"
    return jwk


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS with an arbitrary header and signature bytes (for alg none and forged tokens)."""
    return ".".join(
        [b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), b64url(signature)]
    )


@dataclass
class FakeIdp:
    """A scriptable issuer: discovery, JWKS (with rotation) and RFC 7662 introspection."""

    issuer: str = ISSUER
    kid: str = "key-1"
    keys: list[dict[str, Any]] = field(default_factory=list)
    introspection: dict[str, dict[str, Any]] = field(default_factory=dict)
    discovery_status: int = 200
    introspection_status: int = 200
    calls: dict[str, int] = field(default_factory=lambda: {"discovery": 0, "jwks": 0, "introspect": 0})
    introspect_requests: list[dict[str, Any]] = field(default_factory=list)
    extra_discovery: dict[str, Any] = field(default_factory=dict)
    signer: Any = None

    def __post_init__(self) -> None:
        if self.signer is None:
            self.signer = rsa_key(1)
        if not self.keys:
            self.keys = [public_jwk(self.signer, self.kid, "RS256")]

    def rotate(self) -> str:
        """Sign with a new key under a new kid; the JWKS then holds only the new key."""
        self.kid = "key-" + uuid.uuid4().hex[:8]
        self.signer = rsa_key(2)
        self.keys = [public_jwk(self.signer, self.kid, "RS256")]
        return self.kid

    def token(
        self,
        claims: dict[str, Any] | None = None,
        *,
        kid: str | None = "default",
        alg: str = "RS256",
        typ: str | None = "JWT",
        key: Any = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        """A token signed like Kong Identity's (https://developer.konghq.com/how-to/configure-kong-identity-oidc/) unless overridden."""
        body = {
            "iss": self.issuer,
            "sub": "client-1",
            "client_id": "client-1",
            "aud": ["api://default"],
            "iat": int(NOW) - 10,
            "nbf": int(NOW) - 10,
            "exp": int(NOW) + 300,
            "jti": str(uuid.uuid4()),
            "scope": "read write",
        }
        body.update(claims or {})
        body = {k: v for k, v in body.items() if v is not None}
        hdr: dict[str, Any] = dict(headers or {})
        if typ is not None:
            hdr["typ"] = typ
        if kid == "default":
            kid = self.kid
        if kid is not None:
            hdr["kid"] = kid
        signing_key = key if key is not None else self.signer
        return pyjwt.encode(body, signing_key, algorithm=alg, headers=hdr)

    def app(self) -> Starlette:
        async def discovery(request: Request) -> Response:
            self.calls["discovery"] += 1
            if self.discovery_status != 200:
                return JSONResponse({"error": "unavailable"}, status_code=self.discovery_status)
            doc = {
                "issuer": self.issuer,
                "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/oauth/token",
                "introspection_endpoint": self.issuer + "/introspect",
                "jwks_uri": self.issuer + "/.well-known/jwks",
            }
            doc.update(self.extra_discovery)
            return JSONResponse(doc)

        async def jwks(request: Request) -> Response:
            self.calls["jwks"] += 1
            return JSONResponse({"keys": self.keys})

        async def introspect(request: Request) -> Response:
            self.calls["introspect"] += 1
            form = dict(parse_qsl((await request.body()).decode()))
            self.introspect_requests.append(
                {
                    "form": form,
                    "authorization": request.headers.get("authorization"),
                    "accept": request.headers.get("accept"),
                }
            )
            if self.introspection_status != 200:
                return JSONResponse({"error": "server_error"}, status_code=self.introspection_status)
            return JSONResponse(self.introspection.get(form.get("token", ""), {"active": False}))

        return Starlette(
            routes=[
                Route("/auth/.well-known/openid-configuration", discovery),
                Route("/auth/.well-known/oauth-authorization-server", discovery),
                Route("/auth/.well-known/jwks", jwks),
                Route("/auth/extra-jwks", jwks),
                Route("/auth/introspect", introspect, methods=["POST"]),
            ]
        )


@dataclass
class FakeToken:
    """The fields of an oauth2 token as ``Oauth2Store.find`` returns them."""

    access_token: str
    expires_in: int
    created_at: int
    scope: str | None
    authenticated_userid: str | None
    credential_id: str
    client_id: str
    consumer_id: str | None
    service_id: str | None
    token_type: str = "bearer"


class FakeOauth2Store:
    def __init__(self) -> None:
        self.tokens: dict[str, FakeToken] = {}

    def find(self, access_token: str) -> FakeToken | None:
        return self.tokens.get(access_token)


class FakeRuntime:
    """A GatewayRuntime with a frozen clock, real defect switches and an httpx client wired to the IdP."""

    def __init__(self, idp: FakeIdp, *, kong_version: tuple[int, int] = (3, 15)) -> None:
        self.clock = Clock()
        self.clock.freeze(NOW)
        self.defects = DefectSwitches(CATALOGUE)
        self.kong_version = kong_version
        self.idp = idp
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=idp.app()), verify=False)
        self.consumers: list[dict[str, Any]] = [
            {"id": "c-alice", "username": "alice", "custom_id": "client-1"},
            {"id": "c-bob", "username": "Bob", "custom_id": None},
            {"id": "c-anon", "username": "anonymous", "custom_id": None},
        ]
        self.store = FakeOauth2Store()
        self.jwt_secrets: dict[str, dict[str, Any]] = {}

    def find_consumer(self, key: str) -> Mapping[str, Any] | None:
        return next((c for c in self.consumers if key in (c["id"], c["username"])), None)

    def find_consumer_by(self, field_name: str, value: str) -> Mapping[str, Any] | None:
        return next((c for c in self.consumers if c.get(field_name) == value), None)

    def list_consumers(self) -> list[Mapping[str, Any]]:
        return list(self.consumers)

    def oauth2_store(self) -> FakeOauth2Store:
        return self.store

    def find_credential(self, table: str, field_name: str, value: str) -> Mapping[str, Any] | None:
        rows = self.jwt_secrets.values() if table == "jwt_secrets" else []
        return next((r for r in rows if r.get(field_name) == value), None)


def make_request(
    *,
    method: str = "GET",
    path: str = "/api",
    headers: list[tuple[str, str]] | None = None,
    query: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    scheme: str = "https",
) -> ProxyRequest:
    return ProxyRequest(
        method=method,
        scheme=scheme,
        host="gw.example.test",
        port=8443 if scheme == "https" else 8000,
        path=path,
        query=list(query or []),
        headers=Headers(list(headers or [])),
        body=body,
        client_ip="127.0.0.1",
    )


def bearer(token: str) -> list[tuple[str, str]]:
    return [("Authorization", f"Bearer {token}")]


@dataclass
class Harness:
    """One openid-connect (or jwt) plugin instance over a fake runtime and IdP."""

    idp: FakeIdp
    runtime: FakeRuntime
    plugin: Any

    def call(self, request: ProxyRequest, *, service_id: str = "svc-1") -> tuple[Exit | None, RequestContext]:
        ctx = RequestContext(request=request, route={"id": "route-1"}, service={"id": service_id})
        result = run(self.plugin.access(ctx))
        return result, ctx

    def send(self, token: str | None = None, **kwargs: Any) -> tuple[Exit | None, RequestContext]:
        headers = list(kwargs.pop("headers", []))
        if token is not None:
            headers += bearer(token)
        return self.call(make_request(headers=headers, **kwargs))

    def refusal(self, token: str | None = None, **kwargs: Any) -> Exit:
        """The plugin's own answer to a request it must not proxy (``send``'s first item, asserted present)."""
        result, _ = self.send(token, **kwargs)
        assert result is not None, "proxied where the plugin should have answered"
        return result


def oidc_harness(
    idp: FakeIdp | None = None,
    *,
    kong_version: tuple[int, int] = (3, 15),
    defects: tuple[str, ...] = (),
    **config: Any,
) -> Harness:
    idp = idp or FakeIdp()
    runtime = FakeRuntime(idp, kong_version=kong_version)
    for name in defects:
        runtime.defects.enable(name)
    full = schema_defaults("OpenidConnect.json")
    full.update({"issuer": ISSUER, "auth_methods": ["bearer"]})
    full.update(config)
    plugin = openid_connect.OpenidConnectPlugin({"name": "openid-connect", "config": full}, runtime)
    return Harness(idp, runtime, plugin)


def jwt_harness(
    *, kong_version: tuple[int, int] = (3, 15), defects: tuple[str, ...] = (), **config: Any
) -> Harness:
    idp = FakeIdp()
    runtime = FakeRuntime(idp, kong_version=kong_version)
    for name in defects:
        runtime.defects.enable(name)
    full = schema_defaults("Jwt.json")
    full.update(config)
    plugin = jwt_plugin.JwtPlugin({"name": "jwt", "config": full}, runtime)
    return Harness(idp, runtime, plugin)


@pytest.fixture
def idp() -> FakeIdp:
    return FakeIdp()
