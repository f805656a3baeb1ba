"""The runtime seen from real plugins: the oauth2 plugin's token table behind the gateway (https://developer.konghq.com/gateway/authentication/
4.1-4.3), its refusal in DB-less mode, and version-dependent plugin schemas (https://developer.konghq.com/plugins/openid-connect/#consumer-authorization)."""

from __future__ import annotations

import pytest

from kongformance.gateway import plugins as registry

from .conftest import MakeGateway, RunningGateway, Upstream


@pytest.fixture
def oauth2_available() -> None:
    if "oauth2" not in registry.registry():
        pytest.skip("the oauth2 plugin module is not available")


def test_oauth2_token_issued_through_the_gateway_authenticates_requests(
    make_gateway: MakeGateway, upstream: Upstream, oauth2_available: None
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: a client_credentials token from <route>/oauth2/token is accepted on that route."""
    gw = make_gateway(kong_version="3.9")
    gw.service_and_route(upstream.url, paths=["/api"], name="api")
    plugin = gw.admin.post(
        "/routes/api/plugins", json={"name": "oauth2", "config": {"enable_client_credentials": True}}
    )
    assert plugin.status_code == 201, plugin.text
    gw.admin.post("/consumers", json={"username": "bob"})
    cred = gw.admin.post("/consumers/bob/oauth2", json={"name": "app"}).json()
    form = {
        "grant_type": "client_credentials",
        "client_id": cred["client_id"],
        "client_secret": cred["client_secret"],
    }
    token = gw.proxy_tls.post("/api/oauth2/token", data=form)
    assert token.status_code == 200, token.text
    r = gw.proxy_tls.get("/api/x", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert r.status_code == 200
    assert upstream.header(0, "x-consumer-username") == "bob"
    assert gw.proxy_tls.get("/api/x", headers={"Authorization": "Bearer unknown"}).status_code == 401


def test_oauth2_token_endpoint_fails_in_db_less_mode(
    make_gateway: MakeGateway, upstream: Upstream, oauth2_available: None
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua: oauth2 is traditional-mode only; in DB-less the token insert fails (Kong/kong#6179: 500)."""
    gw = make_gateway(kong_version="3.9", db_less=True)
    config = {
        "_format_version": "3.0",
        "services": [
            {
                "name": "s",
                "url": upstream.url,
                "routes": [
                    {
                        "paths": ["/api"],
                        "plugins": [{"name": "oauth2", "config": {"enable_client_credentials": True}}],
                    }
                ],
            }
        ],
        "consumers": [
            {
                "username": "bob",
                "oauth2_credentials": [{"name": "app", "client_id": "cid", "client_secret": "sec"}],
            }
        ],
    }
    assert gw.admin.post("/config", json=config).status_code == 201
    form = {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "sec"}
    r = gw.proxy_tls.post("/api/oauth2/token", data=form)
    assert r.status_code == 500
    assert r.json()["message"] == "An unexpected error occurred"


def test_oidc_schema_follows_kong_version(make_gateway: MakeGateway) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#consumer-authorization: consumer_claim up to 3.13, consumer_claims from 3.14."""
    old = make_gateway(kong_version="3.9")
    ok = old.admin.post(
        "/plugins",
        json={"name": "openid-connect", "config": {"issuer": "https://i.example", "consumer_claim": ["sub"]}},
    )
    assert ok.status_code == 201, ok.text
    refused = old.admin.post(
        "/plugins",
        json={
            "name": "openid-connect",
            "config": {"issuer": "https://i.example", "consumer_claims": [["sub"]]},
        },
    )
    assert refused.json()["fields"] == {"config": {"consumer_claims": "unknown field"}}
    new = make_gateway(kong_version="3.15")
    r = new.admin.post(
        "/plugins",
        json={"name": "openid-connect", "config": {"issuer": "https://i.example", "consumer_claim": ["sub"]}},
    )
    assert r.json()["fields"] == {"config": {"consumer_claim": "unknown field"}}


def test_runtime_lookups_for_plugins(gateway: RunningGateway) -> None:
    """base.py GatewayRuntime: consumers by id or username, and by a chosen field."""
    alice = gateway.admin.post("/consumers", json={"username": "alice", "custom_id": "c-1"}).json()
    runtime = gateway.gateway.runtime
    by_username, by_id = runtime.find_consumer("alice"), runtime.find_consumer(alice["id"])
    by_custom_id = runtime.find_consumer_by("custom_id", "c-1")
    assert by_username is not None and by_username["id"] == alice["id"]
    assert by_id is not None and by_id["username"] == "alice"
    assert by_custom_id is not None and by_custom_id["id"] == alice["id"]
    assert runtime.find_consumer("nobody") is None
    assert runtime.kong_version == (3, 15)


def test_serve_gateway_command_line() -> None:
    """kongformance serve gateway accepts Kong's listener ports, --db-less, --kong-version and --defect."""
    import argparse

    from kongformance.gateway import server

    parser = argparse.ArgumentParser(prog="kongformance serve gateway")
    server.add_arguments(parser)
    args = parser.parse_args(
        ["--admin-port", "9001", "--db-less", "--kong-version", "3.9", "--defect", "strip_path_ignored"]
    )
    assert (args.admin_port, args.proxy_port, args.proxy_ssl_port) == (9001, 8000, 8443)
    assert args.db_less and args.kong_version == "3.9" and args.defect == ["strip_path_ignored"]
