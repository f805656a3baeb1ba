"""openid-connect against the Kong Identity emulator (kong-identity.md B.2, B.4, B.7; kong-plugins.md 1.3-1.5).

The emulator runs in-process behind ``httpx.ASGITransport`` and shares the gateway's clock.
"""

from __future__ import annotations

import httpx
import pytest

from kongformance.gateway.plugins import openid_connect
from kongformance.gateway.plugins.oidc_verify import parse_jws

from .conftest import FakeIdp, FakeRuntime, Harness, make_request, run, schema_defaults

app_module = pytest.importorskip("kongformance.identity.app")

BASE = "http://identity.test"


def _setup():
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


def _harness(runtime: FakeRuntime, config: dict) -> Harness:
    plugin = openid_connect.OpenidConnectPlugin({"name": "openid-connect", "config": config}, runtime)
    return Harness(runtime.idp, runtime, plugin)


def test_accepts_a_kong_identity_access_token_and_forwards_it():
    """kong-plugins.md 1.4, 1.9 with kong-identity.md B.4 tokens: verified via discovery + JWKS."""
    _, runtime, issuer, cid, secret, config = _setup()
    token, _ = _token(runtime, issuer, cid, secret)
    h = _harness(runtime, config)
    result, ctx = h.call(make_request(headers=[("Authorization", f"Bearer {token}")]))
    assert result is None
    assert ctx.request.headers.get("Authorization") == f"Bearer {token}"
    assert ctx.credential == {"id": cid}


def test_rejects_without_token_with_the_identity_host_as_realm():
    """kong-plugins.md 1.7: realm is the discovered issuer's host."""
    _, runtime, _, _, _, config = _setup()
    h = _harness(runtime, config)
    result, _ = h.call(make_request())
    assert result is not None and result.status == 401
    assert result.headers["WWW-Authenticate"] == 'Bearer realm="identity.test", error="invalid_token"'


def test_kong_identity_token_expires_on_the_shared_clock():
    """kong-plugins.md 1.4: exp from the issuer, checked on the shared virtual clock."""
    _, runtime, issuer, cid, secret, config = _setup()
    token, _ = _token(runtime, issuer, cid, secret)
    h = _harness(runtime, config)
    claims = parse_jws(token).claims
    runtime.clock.advance(claims["exp"] - runtime.clock.now())
    assert h.call(make_request(headers=[("Authorization", f"Bearer {token}")]))[0] is None
    runtime.clock.advance(1)
    result, _ = h.call(make_request(headers=[("Authorization", f"Bearer {token}")]))
    assert result is not None and result.status == 401


def test_introspection_against_kong_identity():
    """kong-plugins.md 1.5 with kong-identity.md B.7: POST /introspect with HTTP Basic."""
    _, runtime, issuer, cid, secret, config = _setup()
    token, _ = _token(runtime, issuer, cid, secret)
    config.update({"auth_methods": ["introspection"], "client_id": [cid], "client_secret": [secret]})
    h = _harness(runtime, config)
    assert h.call(make_request(headers=[("Authorization", f"Bearer {token}")]))[0] is None
    result, _ = h.call(make_request(headers=[("Authorization", "Bearer unknown-token")]))
    assert result is not None and result.status == 401
