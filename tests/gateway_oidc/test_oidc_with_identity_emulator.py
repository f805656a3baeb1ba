"""openid-connect against the Kong Identity emulator (https://developer.konghq.com/how-to/configure-kong-identity-oidc/ and https://developer.konghq.com/how-to/configure-kong-identity-oauth-introspection/; https://developer.konghq.com/plugins/openid-connect/#discovery-cache-1.5).

The emulator runs in-process behind ``httpx.ASGITransport`` and shares the gateway's clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from kongformance.gateway.plugins import openid_connect
from kongformance.gateway.plugins.oidc_verify import parse_jws

from .conftest import FakeIdp, FakeRuntime, Harness, make_request, run, schema_defaults

if TYPE_CHECKING:
    from kongformance.identity.app import IdentityEmulator

app_module = pytest.importorskip("kongformance.identity.app")

BASE = "http://identity.test"


def _setup() -> tuple[IdentityEmulator, FakeRuntime, str, str, str, dict[str, Any]]:
    idp = FakeIdp()
    runtime = FakeRuntime(idp)
    emulator = app_module.IdentityEmulator(runtime.clock)
    emulator.set_public_base_url(BASE)
    runtime.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app), verify=False)
    server = emulator.store.create_server(name="gw-tests", audience="https://api.example.test")
    client, secret = emulator.store.create_client(
        server.id, {"name": "gw-client", "grant_types": ["client_credentials"], "response_types": ["token"]}
    )
    issuer = emulator.issuer_url_for(server)
    full = schema_defaults("OpenidConnect.json")
    full.update({"issuer": issuer, "auth_methods": ["bearer"]})
    return emulator, runtime, issuer, client.id, secret, full


def _token(runtime: FakeRuntime, issuer: str, client_id: str, secret: str) -> tuple[str, int]:
    async def fetch() -> httpx.Response:
        return await runtime.http.post(
            f"{issuer}/oauth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )

    response = run(fetch())
    assert response.status_code == 200, response.text
    body = response.json()
    return body["access_token"], int(body["expires_in"])


def _harness(runtime: FakeRuntime, config: dict[str, Any]) -> Harness:
    plugin = openid_connect.OpenidConnectPlugin({"name": "openid-connect", "config": config}, runtime)
    return Harness(runtime.idp, runtime, plugin)


def test_accepts_a_kong_identity_access_token_and_forwards_it() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow and https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header with https://developer.konghq.com/how-to/configure-kong-identity-oidc/ tokens: verified via discovery + JWKS."""
    _, runtime, issuer, cid, secret, config = _setup()
    token, _ = _token(runtime, issuer, cid, secret)
    h = _harness(runtime, config)
    result, ctx = h.call(make_request(headers=[("Authorization", f"Bearer {token}")]))
    assert result is None
    assert ctx.request.headers.get("Authorization") == f"Bearer {token}"
    assert ctx.credential == {"id": cid}


def test_rejects_without_token_with_the_identity_host_as_realm() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: realm is the discovered issuer's host."""
    _, runtime, _, _, _, config = _setup()
    h = _harness(runtime, config)
    result, _ = h.call(make_request())
    assert result is not None and result.status == 401
    assert result.headers["WWW-Authenticate"] == 'Bearer realm="identity.test", error="invalid_token"'


def test_kong_identity_token_expires_on_the_shared_clock() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: exp from the issuer, checked on the shared virtual clock."""
    _, runtime, issuer, cid, secret, config = _setup()
    token, _ = _token(runtime, issuer, cid, secret)
    h = _harness(runtime, config)
    jws = parse_jws(token)
    assert jws is not None
    claims = jws.claims
    runtime.clock.advance(claims["exp"] - runtime.clock.now())
    assert h.call(make_request(headers=[("Authorization", f"Bearer {token}")]))[0] is None
    runtime.clock.advance(1)
    result, _ = h.call(make_request(headers=[("Authorization", f"Bearer {token}")]))
    assert result is not None and result.status == 401


def test_introspection_against_kong_identity() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow with https://developer.konghq.com/how-to/configure-kong-identity-oauth-introspection/: POST /introspect with HTTP Basic."""
    _, runtime, issuer, cid, secret, config = _setup()
    token, _ = _token(runtime, issuer, cid, secret)
    config.update({"auth_methods": ["introspection"], "client_id": [cid], "client_secret": [secret]})
    h = _harness(runtime, config)
    assert h.call(make_request(headers=[("Authorization", f"Bearer {token}")]))[0] is None
    result, _ = h.call(make_request(headers=[("Authorization", "Bearer unknown-token")]))
    assert result is not None and result.status == 401
