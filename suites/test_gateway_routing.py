"""Gateway core behaviour the auth flows rely on: routes (strip_path, protocols, the 3.14 https-only default),
plugin precedence and priority, and the 3.14 plugin defaults (https://developer.konghq.com/gateway/authentication/ and 7).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from fixtures.http import Proxy, Upstream
from fixtures.oracle import assert_refused
from fixtures.tokens import TokenFactory

from kongformance.clients.kong_admin import KongAdmin
from kongformance.profile import ProfileHandles
from kongformance.profile_gateway import entity_tags
from kongformance.profile_routes import ROUTE_VARIANTS
from kongformance.run_checks import lacks_reason
from kongformance.run_ledger import run_tag
from kongformance.targets import Stack

DEADLINE = 30.0


@contextlib.contextmanager
def temporary_route(
    admin: KongAdmin,
    stack: Stack,
    name: str,
    *,
    route: dict[str, Any],
    tags: list[str],
    plugins: Sequence[dict[str, Any]] = (),
) -> Iterator[dict[str, Any]]:
    """A service + route (+ route plugins) created for one test, live on the proxy, deleted afterwards; each
    carries the run's tags, so a run interrupted mid-test still removes them (docs/cleanup.md)."""
    svc = admin.call(
        "POST", "/services", json={"name": name, "url": stack.upstream_url + "/anything", "tags": tags}
    )
    created: list[tuple[str, str]] = [("/services", svc["id"])]
    try:
        rt = admin.call("POST", f"/services/{svc['id']}/routes", json={"name": name, "tags": tags, **route})
        created.append(("/routes", rt["id"]))
        for plugin in plugins:
            p = admin.call("POST", f"/routes/{rt['id']}/plugins", json={**plugin, "tags": tags})
            created.append(("/plugins", p["id"]))
        _wait_live(stack, route["paths"][0])
        yield rt
    finally:
        for collection, eid in reversed(created):
            admin.call("DELETE", f"{collection}/{eid}", expect=(204, 404))


def _wait_live(stack: Stack, path: str) -> None:
    """Poll the new route over HTTPS until the router knows it (real Kong applies config asynchronously)."""
    end = time.monotonic() + DEADLINE
    with httpx.Client(verify=False, timeout=5.0) as http:
        while http.get(stack.proxy_ssl_url + path).status_code == 404:
            assert time.monotonic() < end, f"route {path} did not become live"
            time.sleep(0.1)  # poll: only reached on real targets (the local gateway routes synchronously)


@pytest.mark.requirement("KONG-ROUTE-strip-path")
def test_strips_the_matched_prefix_before_proxying(proxy: Proxy, upstream: Upstream) -> None:
    """Kong Route entity strip_path (the profile sets it true): /kf/sentinel/a/b reaches /anything/a/b."""
    result = proxy.request("sentinel", path_suffix="/a/b")
    assert result.status == 200
    assert result.upstream_saw()["url"].split("?")[0].endswith("/anything/a/b")


@pytest.mark.requirement("KONG-ROUTE-protocols")
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_serves_a_route_declared_for_http_and_https_on_both_listeners(proxy: Proxy, scheme: str) -> None:
    """https://developer.konghq.com/gateway/authentication/: the profile declares protocols [http, https] on every route."""
    assert proxy.request("sentinel", scheme=scheme).status == 200


@pytest.mark.requirement("KONG-ROUTE-https-default")
@pytest.mark.needs("db")
def test_a_route_without_protocols_is_https_only_on_3_14_and_later(
    kong_admin: KongAdmin, kf_stack: Stack, kf_profile: ProfileHandles, unique_name: str
) -> None:
    """https://developer.konghq.com/gateway/breaking-changes/ (3.14 breaking change); Kong answers plain HTTP with 426 on an https-only route."""
    if kf_stack.version < (3, 14):
        pytest.skip(lacks_reason(["kong_version"], "routes default to http and https before 3.14"))
    path = f"/kf-tmp/{unique_name}"
    tags = entity_tags(kf_profile.run_id)
    with temporary_route(kong_admin, kf_stack, unique_name, route={"paths": [path]}, tags=tags) as route:
        assert sorted(route["protocols"]) == ["https"]
        with httpx.Client(verify=False, timeout=10.0) as http:
            assert http.get(kf_stack.proxy_ssl_url + path).status_code == 200
            plain = http.get(kf_stack.proxy_url + path)
        assert plain.status_code == 426
        assert plain.json() == {"message": "Please use HTTPS protocol"}


@pytest.mark.requirement("KONG-PLUGIN-priority", "RS-no-upstream-on-reject")
def test_authentication_runs_before_upstream_oauth_injects_a_token(proxy: Proxy, upstream: Upstream) -> None:
    """https://developer.konghq.com/gateway/authentication/: openid-connect (1050) runs before upstream-oauth (760), so the client is still refused."""
    assert_refused(proxy.request("oidc-bearer-upstream-oauth"), upstream, status=401, error=None)


@pytest.mark.requirement("KONG-PLUGIN-priority", "KONG-UPO-2.5-injection")
def test_upstream_oauth_replaces_the_authenticated_clients_token(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory
) -> None:
    """https://developer.konghq.com/gateway/authentication/ and https://developer.konghq.com/plugins/upstream-oauth/#caching: after openid-connect accepted the client, upstream-oauth sets Authorization."""
    client_token = tokens.access_token("default")
    result = proxy.request("oidc-bearer-upstream-oauth", token=client_token)
    assert result.status == 200, result.response.text[:200]
    sent = result.upstream_header("authorization") or ""
    assert sent.lower().startswith("bearer ") and sent.split(" ", 1)[1] != client_token


@pytest.mark.requirement("KONG-PLUGIN-precedence")
@pytest.mark.needs("db", "owns_gateway")  # a global plugin reaches every route: other runs' too
def test_a_route_plugin_takes_precedence_over_the_same_global_plugin(
    kong_admin: KongAdmin, kf_stack: Stack, kf_profile: ProfileHandles, unique_name: str, exclusive: None
) -> None:
    """Kong plugin precedence: the most specific entity wins (a global upstream-oauth that cannot get a token
    must not replace the route's working one)."""
    gw = kf_profile.clients["gateway"]
    oauth = {
        "token_endpoint": kf_profile.auth_server.issuer + "/oauth/token",
        "client_id": gw.id,
        "scopes": ["read"],
    }
    good = {
        "name": "upstream-oauth",
        "config": {
            "oauth": {**oauth, "client_secret": gw.secret, "token_headers": {"X-KF-Variant": unique_name}}
        },
    }
    bad = {
        "name": "upstream-oauth",
        "config": {
            "oauth": {
                **oauth,
                "client_secret": "wrong",
                "token_headers": {"X-KF-Variant": unique_name + "-global"},
            }
        },
        "tags": entity_tags(kf_profile.run_id),
    }
    path = f"/kf-tmp/{unique_name}"
    with temporary_route(
        kong_admin,
        kf_stack,
        unique_name,
        route={"paths": [path], "protocols": ["http", "https"]},
        tags=entity_tags(kf_profile.run_id),
        plugins=[good],
    ):
        global_plugin = kong_admin.call("POST", "/plugins", json=bad)
        try:
            with httpx.Client(verify=False, timeout=10.0) as http:
                assert http.get(kf_stack.proxy_url + path).status_code == 200
        finally:
            kong_admin.call("DELETE", f"/plugins/{global_plugin['id']}", expect=(204, 404))


@pytest.mark.requirement("KONG-DEFAULTS-3.14")
@pytest.mark.parametrize(
    ("plugin", "field"),
    [
        ("oauth2-introspection", "hide_credentials"),
        ("openid-connect", "hide_credentials"),
        ("openid-connect", "ssl_verify"),
    ],
)
def test_new_plugin_entities_get_the_3_14_defaults(
    kong_admin: KongAdmin, kf_stack: Stack, kf_profile: ProfileHandles, plugin: str, field: str
) -> None:
    """https://developer.konghq.com/gateway/authentication/: hide_credentials and ssl_verify default to true on
    3.14+ (false before), on every plugin of the profile that leaves the field to its default."""
    mine = run_tag(kf_profile.run_id)
    route_names = {r["id"]: r["name"] for r in kong_admin.list_all("/routes", tags=mine)}
    explicit = set_explicitly(kf_profile, plugin, field)
    entities = [
        p
        for p in kong_admin.list_all("/plugins", tags=mine)
        if p["name"] == plugin and route_names.get((p.get("route") or {}).get("id")) not in explicit
    ]
    assert entities, f"the profile has no {plugin} plugin that leaves {field} to its default"
    expected = kf_stack.version >= (3, 14)
    assert [p["config"][field] for p in entities] == [expected] * len(entities)


def set_explicitly(handles: ProfileHandles, plugin: str, field: str) -> set[str]:
    """Names of the profile's routes whose ``plugin`` config sets ``field`` itself (not Kong's default)."""
    names = set()
    for variant, route in handles.routes.items():
        for build in ROUTE_VARIANTS[variant].plugins:
            config = build(handles)
            if config["name"] == plugin and field in config.get("config", {}):
                names.add(route.name)
    return names


@pytest.mark.requirement("KONG-DEFAULTS-3.14", "KONG-INTRO-3.5-headers")
def test_oauth2_introspection_hides_the_clients_credential_by_default(
    proxy: Proxy, kf_stack: Stack, tokens: TokenFactory
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers + 0: with hide_credentials (3.14+ default) the Authorization header is removed."""
    result = proxy.request("oauth2-introspection", token=tokens.access_token("default"))
    assert result.status == 200, result.response.text[:200]
    assert (result.upstream_header("authorization") is None) is (kf_stack.version >= (3, 14))
