"""The declared profile: the decK document it renders and its handles (issue 4, Deliver 2)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from kongformance import profile, profile_gateway
from kongformance.profile import AuthServerHandle, ClientCreds, ProfileHandles

SCHEMA_FILES = {
    "openid-connect": "OpenidConnect.json",
    "oauth2-introspection": "Oauth2Introspection.json",
    "upstream-oauth": "UpstreamOauth.json",
    "oauth2": "Oauth2.json",
    "jwt": "Jwt.json",
}


def _handles() -> ProfileHandles:
    clients = {
        r: ClientCreds(f"id-{r}", f"secret-{r}", f"kf-{r}")
        for r in ("default", "all_scopes", "labelled", "gateway")
    }
    server = AuthServerHandle("srv", "http://127.0.0.1:9/abcdefghijklmnop/auth", profile.AUDIENCE, "kf")
    return ProfileHandles(
        "run1", server, {"read": "s1"}, {"kf_always": "c1"}, clients, ClientCreds("o-id", "o-secret", "o")
    )


def _schema(plugin: str) -> dict[str, Any]:
    ref = resources.files("kongformance").joinpath(
        f"reference/kong-plugin-schemas-3.15/{SCHEMA_FILES[plugin]}"
    )
    return dict(json.loads(ref.read_text("utf-8"))["properties"]["config"])


def _plugins(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for s in doc["services"] for r in s["routes"] for p in r["plugins"]]


def test_every_route_accepts_http_and_https_and_the_sentinel_comes_last() -> None:
    """https://developer.konghq.com/gateway/authentication/: 3.14+ routes default to https only, so the profile sets both."""
    doc = profile_gateway.gateway_config(_handles(), "http://127.0.0.1:8088")
    routes = [r for s in doc["services"] for r in s["routes"]]
    assert all(r["protocols"] == ["http", "https"] for r in routes)
    assert routes[-1]["name"] == "kf-sentinel-run1" and routes[-1]["plugins"] == []
    assert doc["_format_version"] == "3.0"


def test_every_plugin_config_is_valid_against_kongs_schema() -> None:
    """The profile must be accepted by real Kong: each config validates against Kong's 3.15 JSON schema."""
    for plugin in _plugins(profile_gateway.gateway_config(_handles(), "http://127.0.0.1:8088")):
        jsonschema.validate(plugin["config"], _schema(plugin["name"]))


def test_db_less_profile_leaves_out_what_needs_a_database() -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua: oauth2 (and OIDC kong_oauth2) need a database."""
    handles = _handles()
    doc = profile_gateway.gateway_config(handles, "http://u", with_db=False)
    assert "oauth2" not in {p["name"] for p in _plugins(doc)}
    assert all("oauth2_credentials" not in consumer for consumer in doc.get("consumers", []))
    assert "oauth2" not in handles.routes and "oidc-kong-oauth2" not in handles.routes


def test_guard_covers_every_authenticating_route_but_not_upstream_oauth_or_the_sentinel() -> None:
    handles = _handles()
    profile_gateway.gateway_config(handles, "http://u")
    protected = profile_gateway.protected_variants(handles)
    assert "oidc-bearer" in protected and "oauth2-introspection" in protected
    assert not [v for v in protected if v.startswith("upstream-oauth") or v == "sentinel"]


def test_upstream_oauth_variants_do_not_share_a_token_cache() -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: identical oauth records share the cache; each variant's record differs."""
    doc = profile_gateway.gateway_config(_handles(), "http://u")
    records = [
        json.dumps(p["config"]["oauth"], sort_keys=True)
        for p in _plugins(doc)
        if p["name"] == "upstream-oauth"
    ]
    assert len(records) == len(set(records)) >= 4


def test_handles_round_trip_through_json() -> None:
    handles = _handles()
    profile_gateway.gateway_config(handles, "http://u")
    again = ProfileHandles.from_json(handles.to_json())
    assert again == handles


@pytest.mark.parametrize("mode", ["always", "scopes", "no-scope", "never"])
def test_profile_declares_claims_in_all_four_inclusion_modes(mode: str) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim."""
    assert any(c.mode == mode for c in profile.CLAIMS)


def test_profile_declares_a_default_scope_a_disabled_scope_and_templated_claims() -> None:
    assert any(s.default for s in profile.SCOPES) and any(not s.enabled for s in profile.SCOPES)
    assert any("${" in c.value for c in profile.CLAIMS)
    assert any(c.allow_all_scopes for c in profile.CLIENTS) and any(c.labels for c in profile.CLIENTS)
