"""The three OAuth plugins end to end through the reference gateway's Admin API and proxy (https://developer.konghq.com/plugins/upstream-oauth/ and https://developer.konghq.com/plugins/oauth2-introspection/ and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua).

The scripted IdP doubles as the upstream (paths under ``/up``), so a test sees both what Kong sent to the IdP
and what reached the upstream.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.gateway_oauth_plugins.oauth_fakes import Idp

from kongformance.gateway.app import ReferenceGateway
from kongformance.serving import RunningServer, start_in_thread


@dataclass
class Gateway:
    gateway: ReferenceGateway
    servers: list[RunningServer]
    admin: httpx.Client
    proxy: httpx.Client
    proxy_tls: httpx.Client

    def route(self, upstream_url: str, plugin: dict[str, Any]) -> str:
        """A service + route (http and https) with ``plugin`` on the service; returns the route path."""
        path = "/r-" + uuid.uuid4().hex[:8]
        svc = self.admin.post("/services", json={"url": upstream_url})
        assert svc.status_code == 201, svc.text
        route = self.admin.post(
            f"/services/{svc.json()['id']}/routes", json={"paths": [path], "protocols": ["http", "https"]}
        )
        assert route.status_code == 201, route.text
        created = self.admin.post(f"/services/{svc.json()['id']}/plugins", json=plugin)
        assert created.status_code == 201, created.text
        return path


@pytest.fixture
def gw() -> Iterator[Gateway]:
    gateway = ReferenceGateway(trusted_ips=["127.0.0.1"])
    cert, key = gateway.tls_files()
    servers = [
        start_in_thread(gateway.admin_app),
        start_in_thread(gateway.proxy_app),
        start_in_thread(gateway.proxy_app, certfile=cert, keyfile=key),
    ]
    clients = [
        httpx.Client(base_url=servers[0].url, timeout=10),
        httpx.Client(base_url=servers[1].url, timeout=10),
        httpx.Client(base_url=servers[2].url, timeout=10, verify=False),
    ]
    yield Gateway(gateway, servers, *clients)
    for client in clients:
        client.close()
    for server in servers:
        server.stop()
    gateway.close()


def upstream_calls(idp: Idp) -> list[Any]:
    return [r for r in idp.requests if r.path.startswith("/up")]


def test_oauth2_client_credentials_token_is_accepted_on_the_same_service(gw: Gateway, idp: Idp) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: token at <route>/oauth2/token over HTTPS, then X-Consumer-*/X-Authenticated-* upstream."""
    idp.always("/up", body={"ok": True})
    path = gw.route(
        idp.url + "/up",
        {"name": "oauth2", "config": {"enable_client_credentials": True, "scopes": ["email"]}},
    )
    consumer = gw.admin.post("/consumers", json={"username": "app-owner"}).json()
    cred = gw.admin.post(
        f"/consumers/{consumer['id']}/oauth2", json={"name": "app", "redirect_uris": ["https://a/cb"]}
    )
    assert cred.status_code == 201, cred.text
    form = {
        "grant_type": "client_credentials",
        "client_id": cred.json()["client_id"],
        "client_secret": cred.json()["client_secret"],
        "scope": "email",
    }
    assert gw.proxy.post(f"{path}/oauth2/token", data=form).status_code == 400  # plain HTTP
    issued = gw.proxy_tls.post(f"{path}/oauth2/token", data=form)
    assert issued.status_code == 200, issued.text
    assert issued.headers["cache-control"] == "no-store" and issued.headers["pragma"] == "no-cache"
    token = issued.json()["access_token"]
    ok = gw.proxy.get(path, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200, ok.text
    seen = upstream_calls(idp)[-1].headers
    assert seen["x-consumer-username"] == "app-owner"
    assert seen["x-authenticated-scope"] == "email"
    assert seen["x-credential-identifier"] == cred.json()["client_id"]
    assert "authorization" not in seen  # hide_credentials defaults to true in 3.15
    refused = gw.proxy.get(path, headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert refused.json() == {
        "error": "invalid_token",
        "error_description": "The access token is invalid or has expired",
    }


def test_oauth2_token_endpoint_ignores_x_forwarded_proto_when_termination_is_not_accepted(
    gw: Gateway, idp: Idp
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: without accept_http_if_already_terminated, plain HTTP is refused whatever the headers."""
    path = gw.route(idp.url + "/up", {"name": "oauth2", "config": {"enable_client_credentials": True}})
    consumer = gw.admin.post("/consumers", json={"username": "fwd"}).json()
    cred = gw.admin.post(f"/consumers/{consumer['id']}/oauth2", json={"name": "app"}).json()
    form = {
        "grant_type": "client_credentials",
        "client_id": cred["client_id"],
        "client_secret": cred["client_secret"],
    }
    forwarded = gw.proxy.post(f"{path}/oauth2/token", data=form, headers={"X-Forwarded-Proto": "https"})
    assert forwarded.status_code == 400
    assert forwarded.json() == {"error": "access_denied", "error_description": "You must use HTTPS"}


def test_introspection_gates_the_upstream(gw: Gateway, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url-3.5: active -> proxied with X-Credential-*; inactive -> 401 and the upstream is not called."""
    idp.always("/up", body={"ok": True})
    basic = "Basic " + base64.b64encode(b"kong:secret").decode()
    config = {
        "introspection_url": idp.url + "/introspect",
        "authorization_value": basic,
        "custom_claims_forward": ["tier"],
    }
    path = gw.route(idp.url + "/up", {"name": "oauth2-introspection", "config": config})
    idp.answer("/introspect", body={"active": True, "client_id": "c1", "scope": "read", "tier": "gold"})
    idp.answer("/introspect", body={"active": False})
    ok = gw.proxy.get(path, headers={"Authorization": "Bearer good"})
    assert ok.status_code == 200, ok.text
    seen = upstream_calls(idp)[-1].headers
    assert seen["x-credential-client-id"] == "c1" and seen["x-credential-tier"] == "gold"
    assert idp.calls("/introspect")[0].headers["authorization"] == basic
    before = len(upstream_calls(idp))
    bad = gw.proxy.get(path, headers={"Authorization": "Bearer bad"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"].startswith('Bearer realm="service" error="invalid_token"')
    assert len(upstream_calls(idp)) == before


def test_upstream_oauth_injects_caches_and_purges(gw: Gateway, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: one IdP call for two requests; a 401 from the upstream purges; the client gets the 401."""
    idp.always("/token", body={"access_token": "up-1", "token_type": "Bearer", "expires_in": 3600})
    oauth = {"token_endpoint": idp.url + "/token", "client_id": "k", "client_secret": "s"}
    path = gw.route(idp.url + "/up", {"name": "upstream-oauth", "config": {"oauth": oauth}})
    idp.answer("/up", body={"n": 1})
    idp.answer("/up", status=401, body={"error": "expired"})
    idp.answer("/up", body={"n": 3})
    assert gw.proxy.get(path).status_code == 200
    assert upstream_calls(idp)[-1].headers["authorization"] == "Bearer up-1"
    assert gw.proxy.get(path).status_code == 401
    assert len(idp.calls("/token")) == 1
    assert gw.proxy.get(path).status_code == 200
    assert len(idp.calls("/token")) == 2


def test_upstream_oauth_idp_failure_answers_502_before_proxying(gw: Gateway, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code: default 502 body with code as a string; the upstream is not called."""
    idp.always("/token", status=400, body={"error": "invalid_client"})
    oauth = {"token_endpoint": idp.url + "/token", "client_id": "k", "client_secret": "s"}
    path = gw.route(idp.url + "/up", {"name": "upstream-oauth", "config": {"oauth": oauth}})
    response = gw.proxy.get(path)
    assert response.status_code == 502
    assert response.json() == {"code": "502", "message": "Failed to authenticate request to upstream"}
    assert upstream_calls(idp) == []


def test_the_gateway_refuses_an_oauth2_plugin_without_a_flow(gw: Gateway, idp: Idp) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua: entity check "at least one of these fields must be true"."""
    svc = gw.admin.post("/services", json={"url": idp.url + "/up"}).json()
    response = gw.admin.post(f"/services/{svc['id']}/plugins", json={"name": "oauth2", "config": {}})
    assert response.status_code == 400
    assert "at least one of these fields must be true" in response.text
