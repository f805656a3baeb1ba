"""openid-connect end to end on the local stack: Kong Identity emulator, reference gateway configured
through its Admin API, echo upstream (https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants and https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow and https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header; loopback only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

stack_module = pytest.importorskip("kongformance.stack")


@pytest.fixture(scope="module")
def e2e() -> Iterator[dict[str, Any]]:
    with stack_module.start_local_stack() as stack:
        emulator = stack.identity
        server = emulator.store.create_server(name="oidc-e2e", audience="https://api.example.test")
        client, secret = emulator.store.create_client(
            server.id,
            {"name": "oidc-e2e", "grant_types": ["client_credentials"], "response_types": ["token"]},
        )
        issuer = emulator.issuer_url_for(server)
        with httpx.Client(timeout=10) as http:
            admin = stack.admin_url
            r = http.post(f"{admin}/services", json={"name": "echo", "url": f"{stack.upstream_url}/anything"})
            assert r.status_code == 201, r.text
            r = http.post(
                f"{admin}/services/echo/routes",
                json={"name": "oidc", "paths": ["/oidc"], "protocols": ["http", "https"]},
            )
            assert r.status_code == 201, r.text
            r = http.post(
                f"{admin}/routes/oidc/plugins",
                json={
                    "name": "openid-connect",
                    "config": {
                        "issuer": issuer,
                        "auth_methods": ["bearer"],
                        "scopes_required": ["openid"],
                    },
                },
            )
            assert r.status_code == 201, r.text
            r = http.post(
                f"{admin}/services/echo/routes",
                json={"name": "oidc-open", "paths": ["/open"], "protocols": ["http", "https"]},
            )
            assert r.status_code == 201, r.text
            r = http.post(
                f"{admin}/routes/oidc-open/plugins",
                json={
                    "name": "openid-connect",
                    "config": {
                        "issuer": issuer,
                        "auth_methods": ["bearer"],
                        "upstream_headers_claims": ["client_id"],
                        "upstream_headers_names": ["X-Client"],
                    },
                },
            )
            assert r.status_code == 201, r.text
            token = http.post(
                f"{issuer}/oauth/token",
                data={"grant_type": "client_credentials", "client_id": client.id, "client_secret": secret},
            )
            assert token.status_code == 200, token.text
            yield {
                "stack": stack,
                "http": http,
                "token": token.json()["access_token"],
                "client_id": client.id,
            }


def test_no_token_is_rejected_with_kongs_challenge(e2e: dict[str, Any]) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: 401 {"message":"Unauthorized"} with Bearer realm + error="invalid_token"."""
    r = e2e["http"].get(f"{e2e['stack'].proxy_url}/oidc")
    assert r.status_code == 401
    assert r.json() == {"message": "Unauthorized"}
    assert r.headers["www-authenticate"] == 'Bearer realm="127.0.0.1", error="invalid_token"'


def test_missing_scope_is_403(e2e: dict[str, Any]) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization and https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: a token without the required scope is 403 (no scope granted by default)."""
    r = e2e["http"].get(f"{e2e['stack'].proxy_url}/oidc", headers={"Authorization": f"Bearer {e2e['token']}"})
    assert r.status_code == 403
    assert r.headers["www-authenticate"] == 'Bearer realm="127.0.0.1", error="insufficient_scope"'


def test_valid_token_reaches_the_upstream_with_bearer_and_claim_headers(e2e: dict[str, Any]) -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: Authorization: Bearer <token> and upstream_headers_claims reach the upstream."""
    token = e2e["token"]
    r = e2e["http"].get(f"{e2e['stack'].proxy_url}/open", headers={"Authorization": f"bearer {token}"})
    assert r.status_code == 200, r.text
    seen = {k.lower(): v for k, v in r.json()["headers"].items()}
    assert seen["authorization"] == f"Bearer {token}"
    assert seen["x-client"] == e2e["client_id"]
