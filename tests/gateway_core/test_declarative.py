"""DB-less ``POST /config`` and ``GET /config`` of the reference gateway (https://developer.konghq.com/gateway/db-less-mode/)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kongformance.gateway.runtime import DbLessWriteError

from .conftest import MakeGateway, RunningGateway, Upstream


@pytest.fixture
def dbless(make_gateway: MakeGateway) -> RunningGateway:
    return make_gateway(db_less=True, kong_version="3.15")


def _config(upstream_url: str, path: str = "/dl") -> dict[str, Any]:
    return {
        "_format_version": "3.0",
        "services": [
            {
                "name": "svc",
                "url": upstream_url + "/base",
                "routes": [
                    {
                        "name": "rt",
                        "paths": [path],
                        "protocols": ["http", "https"],
                        "plugins": [{"name": "jwt"}],
                    }
                ],
                "plugins": [{"name": "openid-connect", "config": {"issuer": "https://idp.example/"}}],
            }
        ],
        "consumers": [{"username": "alice", "oauth2_credentials": [{"name": "app", "client_id": "cid"}]}],
        "plugins": [
            {
                "name": "oauth2-introspection",
                "config": {"introspection_url": "https://idp.example/i", "authorization_value": "Basic x"},
            }
        ],
    }


def test_post_config_loads_nested_entities_and_proxies_at_once(
    dbless: RunningGateway, upstream: Upstream
) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: POST /config loads the whole config (201 with the entities); the proxy uses it at once."""
    r = dbless.admin.post("/config", json=_config(upstream.url))
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["services"]) == 1 and len(body["routes"]) == 1 and len(body["plugins"]) == 3
    route = next(iter(body["routes"].values()))
    service = next(iter(body["services"].values()))
    assert route["service"] == {"id": service["id"]}
    assert dbless.admin.get("/routes/rt").json()["paths"] == ["/dl"]
    cred = dbless.admin.get("/consumers/alice/oauth2").json()["data"][0]
    assert cred["client_id"] == "cid" and cred["client_secret"]
    oidc = next(p for p in body["plugins"].values() if p["name"] == "openid-connect")
    assert oidc["service"] == {"id": service["id"]} and oidc["config"]["hide_credentials"] is True
    runtime = dbless.gateway.runtime
    assert runtime.snapshot.router.match("http", "GET", "x", "/dl/a", {}) is not None


def test_post_config_replaces_the_whole_config(dbless: RunningGateway, upstream: Upstream) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: a second POST /config replaces everything loaded before."""
    dbless.admin.post("/config", json=_config(upstream.url, "/first"))
    second = {
        "_format_version": "3.0",
        "services": [
            {"name": "other", "url": upstream.url, "routes": [{"paths": ["/second"], "protocols": ["http"]}]}
        ],
    }
    assert dbless.admin.post("/config", json=second).status_code == 201
    assert dbless.admin.get("/services/svc").status_code == 404
    assert dbless.admin.get("/plugins").json()["data"] == []
    assert dbless.proxy.get("/first").status_code == 404
    assert dbless.proxy.get("/second").status_code == 200


def test_post_config_accepts_yaml_with_top_level_references(
    dbless: RunningGateway, upstream: Upstream
) -> None:
    """decK format: YAML bodies; top-level routes and plugins reference services and routes by name."""
    text = f"""
_format_version: "3.0"
services:
- name: s1
  url: {upstream.url}
routes:
- name: r1
  service: s1
  paths: [/yaml]
  protocols: [http]
plugins:
- name: jwt
  route: r1
"""
    r = dbless.admin.post("/config", content=text.encode(), headers={"Content-Type": "text/yaml"})
    assert r.status_code == 201, r.text
    plugin = next(iter(r.json()["plugins"].values()))
    assert plugin["route"] == {"id": dbless.admin.get("/routes/r1").json()["id"]}
    assert dbless.proxy.get("/yaml").status_code == 401  # the route's jwt plugin runs: no token
    assert upstream.seen == []


def test_empty_config_is_refused(dbless: RunningGateway) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: an empty body gets ``expected a declarative configuration``."""
    r = dbless.admin.post("/config", content=b"")
    assert (r.status_code, r.json()) == (400, {"message": "expected a declarative configuration"})


def test_invalid_config_names_the_fields_where_they_are(dbless: RunningGateway, upstream: Upstream) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: invalid input is 400 in Kong's declarative error shape, mirroring the nesting."""
    doc = _config(upstream.url)
    doc["services"][0]["routes"][0]["paths"] = ["no-slash"]
    doc["services"][0]["plugins"][0]["config"] = {}
    doc["services"].append({"name": "broken"})
    r = dbless.admin.post("/config", json=doc)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == 14 and body["name"] == "invalid declarative configuration"
    services = body["fields"]["services"]
    assert services[0]["routes"][0]["paths"] == ["should start with: / (fixed path) or ~/ (regex path)"]
    assert services[0]["plugins"][0]["config"] == {"issuer": "required field missing"}
    assert services[1] == {"host": "required field missing"}
    assert body["message"].startswith("declarative config is invalid: ")
    assert dbless.admin.get("/services").json()["data"] == []  # nothing was loaded
    flat = dbless.admin.post("/config", json=doc, params={"flatten_errors": 1}).json()
    assert any(
        e["entity_type"] == "service" and e["entity_name"] == "broken" for e in flat["flattened_errors"]
    )


def test_format_version_is_required(dbless: RunningGateway) -> None:
    """decK format: ``_format_version`` is required; unknown top-level keys are refused."""
    r = dbless.admin.post("/config", json={"services": [], "bogus": 1})
    assert r.status_code == 400
    assert r.json()["fields"] == {"_format_version": "required field missing", "bogus": "unknown field"}


def test_get_config_returns_the_loaded_yaml(dbless: RunningGateway, upstream: Upstream) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: GET /config returns ``{"config": "<yaml>"}``."""
    dbless.admin.post("/config", json=_config(upstream.url))
    doc = yaml.safe_load(dbless.admin.get("/config").json()["config"])
    assert doc["_format_version"] == "3.0"
    assert [s["name"] for s in doc["services"]] == ["svc"]


def test_config_endpoint_needs_db_less_mode(gateway: RunningGateway) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: /config answers 400 when a database is configured."""
    assert gateway.admin.post("/config", json={"_format_version": "3.0"}).status_code == 400
    assert gateway.admin.get("/config").status_code == 400


def test_status_reports_a_configuration_hash(dbless: RunningGateway, upstream: Upstream) -> None:
    """Kong's /status in DB-less mode carries configuration_hash (zeros before any config)."""
    assert dbless.admin.get("/status").json()["configuration_hash"] == "0" * 32
    dbless.admin.post("/config", json=_config(upstream.url))
    assert dbless.admin.get("/status").json()["configuration_hash"] != "0" * 32


def test_oauth2_tokens_cannot_be_written_without_a_database(dbless: RunningGateway) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua: the oauth2 plugin cannot issue tokens in DB-less mode (Kong/kong#6179: 500)."""
    store = dbless.gateway.runtime.oauth2_store()
    with pytest.raises(DbLessWriteError):
        store.issue(
            {"id": "c", "client_id": "x"}, service_id=None, scope="", authenticated_userid=None, expires_in=60
        )
    assert store.find("anything") is None


def test_reload_keeps_plugin_objects_of_unchanged_plugins(dbless: RunningGateway, upstream: Upstream) -> None:
    """Layout contract: a reload that leaves a plugin entity unchanged keeps its object (and caches)."""
    dbless.admin.post("/config", json=_config(upstream.url))
    runtime = dbless.gateway.runtime
    before = dict(runtime.snapshot.plugins)
    dbless.admin.post("/config", json=_config(upstream.url))
    assert runtime.snapshot.plugins.keys() == before.keys()
    assert all(runtime.snapshot.plugins[k] is v for k, v in before.items())


def test_check_hash_answers_304_for_the_loaded_config(dbless: RunningGateway, upstream: Upstream) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: ``?check_hash=1`` returns 304 when the config is unchanged."""
    doc = _config(upstream.url)
    assert dbless.admin.post("/config", json=doc, params={"check_hash": 1}).status_code == 201
    loaded_hash = dbless.admin.get("/status").json()["configuration_hash"]
    assert dbless.admin.post("/config", json=doc, params={"check_hash": 1}).status_code == 304
    doc["services"][0]["routes"][0]["paths"] = ["/changed"]
    assert dbless.admin.post("/config", json=doc, params={"check_hash": 1}).status_code == 201
    assert dbless.admin.get("/status").json()["configuration_hash"] != loaded_hash


def test_yaml_only_values_give_a_400_not_a_crash(dbless: RunningGateway) -> None:
    """YAML can carry values JSON cannot (dates): they are refused with field errors, never a 500."""
    text = b'_format_version: "3.0"\nservices:\n- name: s\n  host: example.com\n  tags: [2024-01-01]\n'
    r = dbless.admin.post(
        "/config", content=text, params={"flatten_errors": 1}, headers={"Content-Type": "text/yaml"}
    )
    assert r.status_code == 400
    assert r.json()["fields"]["services"][0]["tags"] == ["expected a string"]
