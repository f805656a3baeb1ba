"""Admin API CRUD, defaults and errors of the reference gateway (https://developer.konghq.com/gateway/authentication/ and 7; Kong's Admin API
entity shapes in control-planes-config-v2.yaml; error bodies of kong/db/errors.lua)."""

from __future__ import annotations

from typing import Any

import pytest

from kongformance.gateway import plugins as registry
from kongformance.gateway.plugins.base import Plugin

from .conftest import MakeGateway, RunningGateway


def test_root_reports_version_plugins_and_database_mode(make_gateway: MakeGateway) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: GET / lists the plugins of the node and the database mode."""
    db = make_gateway(kong_version="3.15")
    body = db.admin.get("/").json()
    assert body["version"].startswith("3.15")
    assert body["plugins"]["available_on_server"]["openid-connect"]["priority"] == 1050
    assert body["configuration"]["database"] == "postgres"
    db.admin.post("/plugins", json={"name": "jwt"})
    assert db.admin.get("/").json()["plugins"]["enabled_in_cluster"] == ["jwt"]
    off = make_gateway(kong_version="3.9", db_less=True)
    body = off.admin.get("/").json()
    assert body["configuration"]["database"] == "off"
    assert body["version"].startswith("3.9")


def test_service_url_shorthand_sets_protocol_host_port_and_path(gateway: RunningGateway) -> None:
    """Kong Service entity: ``url`` expands to protocol, host, port, path; other defaults as Kong's."""
    r = gateway.admin.post("/services", json={"name": "svc", "url": "https://example.com/base"})
    assert r.status_code == 201
    svc = r.json()
    assert (svc["protocol"], svc["host"], svc["port"], svc["path"]) == ("https", "example.com", 443, "/base")
    assert (svc["retries"], svc["connect_timeout"], svc["read_timeout"], svc["write_timeout"]) == (
        5,
        60000,
        60000,
        60000,
    )
    assert svc["enabled"] is True and "url" not in svc


@pytest.mark.parametrize(
    ("version", "expected"),
    [("3.9", ["http", "https"]), ("3.13", ["http", "https"]), ("3.14", ["https"]), ("3.15", ["https"])],
)
def test_route_protocols_default_depends_on_kong_version(
    make_gateway: MakeGateway, version: str, expected: list[str]
) -> None:
    """https://developer.konghq.com/gateway/authentication/: a new Route defaults to protocols [https] from 3.14, [http, https] before."""
    gw = make_gateway(kong_version=version)
    svc = gw.admin.post("/services", json={"url": "http://example.com"}).json()
    route = gw.admin.post(f"/services/{svc['id']}/routes", json={"paths": ["/x"]}).json()
    assert route["protocols"] == expected
    assert route["strip_path"] is True and route["preserve_host"] is False
    assert route["https_redirect_status_code"] == 426 and route["path_handling"] == "v0"
    assert route["service"] == {"id": svc["id"]}


@pytest.mark.parametrize(
    ("version", "expected"), [("3.9", False), ("3.13", False), ("3.14", True), ("3.15", True)]
)
def test_plugin_hide_credentials_default_depends_on_kong_version(
    make_gateway: MakeGateway, version: str, expected: bool
) -> None:
    """https://developer.konghq.com/gateway/authentication/: hide_credentials defaults to true from 3.14 (false up to 3.13)."""
    gw = make_gateway(kong_version=version)
    r = gw.admin.post(
        "/plugins", json={"name": "openid-connect", "config": {"issuer": "https://idp.example/"}}
    )
    assert r.status_code == 201, r.text
    config = r.json()["config"]
    assert config["hide_credentials"] is expected
    assert config["ssl_verify"] is expected
    assert config["auth_methods"][0] == "authorization_code"  # schema default filled in
    assert config["client_id"] is None  # unset fields are present as null, as Kong stores them


def test_schema_violation_names_every_bad_field(gateway: RunningGateway) -> None:
    """Kong's schema violation (code 2): message and ``fields`` name each field (kong/db/errors.lua)."""
    r = gateway.admin.post(
        "/plugins", json={"name": "openid-connect", "config": {"leeway": "soon", "nope": 1}}
    )
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == 2 and body["name"] == "schema violation"
    assert body["fields"]["config"] == {
        "issuer": "required field missing",
        "leeway": "expected a number",
        "nope": "unknown field",
    }
    assert body["message"].startswith("3 schema violations (")
    assert "config.issuer: required field missing" in body["message"]


def test_single_schema_violation_message(gateway: RunningGateway) -> None:
    """kong/db/errors.lua: one error reads ``schema violation (<field>: <error>)``."""
    r = gateway.admin.post("/plugins", json={"name": "openid-connect", "config": {}})
    assert r.json()["message"] == "schema violation (config.issuer: required field missing)"
    r = gateway.admin.post("/services", json={"name": "no-host"})
    assert r.status_code == 400
    assert r.json()["fields"] == {"host": "required field missing"}


def test_unknown_plugin_name_is_rejected_as_kong_does(gateway: RunningGateway) -> None:
    """Kong refuses a plugin that is not enabled on the node, naming the ``name`` field."""
    r = gateway.admin.post("/plugins", json={"name": "no-such-plugin"})
    assert r.status_code == 400
    assert r.json()["fields"] == {
        "name": "plugin 'no-such-plugin' not enabled; add it to the 'plugins' configuration property"
    }


class _CheckedPlugin(Plugin):
    name = "test-checked"
    PRIORITY = 10

    @classmethod
    def entity_checks(cls, config: dict[str, Any]) -> dict[str, Any]:
        if not (config.get("a") or config.get("b")):
            return {"@entity": ["at least one of these fields must be true: a, b"]}
        return {}


def test_entity_checks_of_the_plugin_class_run_after_defaults(gateway: RunningGateway) -> None:
    """Layout contract: a plugin's ``entity_checks`` gets the defaulted config; its errors come back under config."""
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "boolean", "default": False},
            "b": {"type": "boolean", "default": False},
        },
        "additionalProperties": False,
    }
    registry.register(_CheckedPlugin, schema)
    try:
        r = gateway.admin.post("/plugins", json={"name": "test-checked", "config": {}})
        assert r.status_code == 400
        assert r.json()["fields"] == {
            "config": {"@entity": ["at least one of these fields must be true: a, b"]}
        }
        ok = gateway.admin.post("/plugins", json={"name": "test-checked", "config": {"b": True}})
        assert ok.status_code == 201 and ok.json()["config"] == {"a": False, "b": True}
    finally:
        registry.unregister("test-checked")


def test_unknown_entity_is_404_not_found(gateway: RunningGateway) -> None:
    """Kong answers a missing entity with 404 ``{"message":"Not found"}``."""
    for path in (
        "/services/missing",
        "/routes/missing",
        "/plugins/8f2a1c9e-0000-4000-8000-000000000000",
        "/consumers/x",
    ):
        r = gateway.admin.get(path)
        assert (r.status_code, r.json()) == (404, {"message": "Not found"})
    assert gateway.admin.patch("/services/missing", json={"retries": 1}).status_code == 404
    assert gateway.admin.get("/services/missing/routes").status_code == 404
    assert gateway.admin.get("/no/such/endpoint").json() == {"message": "Not found"}


def test_duplicate_name_is_409_unique_violation(gateway: RunningGateway) -> None:
    """Kong's unique constraint violation (code 5) is a 409 naming the field."""
    assert gateway.admin.post("/services", json={"name": "dup", "url": "http://a.example"}).status_code == 201
    r = gateway.admin.post("/services", json={"name": "dup", "url": "http://b.example"})
    assert r.status_code == 409
    assert r.json()["code"] == 5 and r.json()["fields"] == {"name": "dup"}
    gateway.admin.post("/plugins", json={"name": "jwt"})
    again = gateway.admin.post("/plugins", json={"name": "jwt"})
    assert again.status_code == 409 and again.json()["name"] == "unique constraint violation"


def test_list_pages_with_size_offset_and_next(gateway: RunningGateway) -> None:
    """Kong pagination: ``size`` bounds a page, ``offset``/``next`` lead to the following one."""
    for i in range(5):
        gateway.admin.post("/consumers", json={"username": f"user-{i}"})
    first = gateway.admin.get("/consumers", params={"size": 2}).json()
    assert [c["username"] for c in first["data"]] == ["user-0", "user-1"]
    assert first["next"] and first["offset"]
    second = gateway.admin.get("/consumers", params={"size": 2, "offset": first["offset"]}).json()
    assert [c["username"] for c in second["data"]] == ["user-2", "user-3"]
    last = gateway.admin.get(second["next"]).json()
    assert [c["username"] for c in last["data"]] == ["user-4"] and last["next"] is None
    bad = gateway.admin.get("/consumers", params={"size": "lots"})
    assert bad.status_code == 400 and bad.json()["name"] == "invalid size"


def test_patch_put_and_delete_follow_kong(gateway: RunningGateway) -> None:
    """PATCH merges, PUT upserts by name, DELETE answers 204 and cascades to the route's plugins."""
    svc = gateway.admin.put("/services/by-put", json={"url": "http://up.example"})
    assert svc.status_code == 200 and svc.json()["name"] == "by-put"
    patched = gateway.admin.patch("/services/by-put", json={"retries": 1}).json()
    assert patched["retries"] == 1 and patched["host"] == "up.example" and patched["id"] == svc.json()["id"]
    route = gateway.admin.post("/services/by-put/routes", json={"name": "rt", "paths": ["/a"]}).json()
    plugin = gateway.admin.post("/routes/rt/plugins", json={"name": "jwt"}).json()
    assert plugin["route"] == {"id": route["id"]}
    assert gateway.admin.get(f"/routes/{route['id']}/plugins").json()["data"][0]["id"] == plugin["id"]
    busy = gateway.admin.delete("/services/by-put")
    assert busy.status_code == 400 and busy.json()["name"] == "foreign key violation"
    assert gateway.admin.delete("/routes/rt").status_code == 204
    assert gateway.admin.get(f"/plugins/{plugin['id']}").status_code == 404
    assert gateway.admin.delete("/services/by-put").status_code == 204
    assert gateway.admin.delete("/services/by-put").status_code == 204  # Kong: deleting nothing is still 204


def test_plugin_config_patch_merges_fields(gateway: RunningGateway) -> None:
    """Kong's PATCH on a plugin merges ``config`` field by field and revalidates."""
    p = gateway.admin.post(
        "/plugins", json={"name": "openid-connect", "config": {"issuer": "https://i.example"}}
    ).json()
    r = gateway.admin.patch(f"/plugins/{p['id']}", json={"config": {"leeway": 5}})
    assert r.status_code == 200
    assert r.json()["config"]["leeway"] == 5 and r.json()["config"]["issuer"] == "https://i.example"
    bad = gateway.admin.patch(f"/plugins/{p['id']}", json={"config": {"leeway": "x"}})
    assert bad.status_code == 400 and bad.json()["fields"] == {"config": {"leeway": "expected a number"}}


def test_oauth2_credentials_generate_client_id_and_secret(gateway: RunningGateway) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua: ``client_id`` and ``client_secret`` are generated when omitted."""
    gateway.admin.post("/consumers", json={"username": "alice"})
    r = gateway.admin.post("/consumers/alice/oauth2", json={"name": "app"})
    assert r.status_code == 201
    cred = r.json()
    assert len(cred["client_id"]) >= 16 and len(cred["client_secret"]) >= 16
    assert cred["client_type"] == "confidential" and cred["hash_secret"] is False
    consumer = gateway.admin.get("/consumers/alice").json()
    assert cred["consumer"] == {"id": consumer["id"]}
    assert gateway.admin.get(f"/consumers/alice/oauth2/{cred['client_id']}").json()["id"] == cred["id"]
    missing_name = gateway.admin.post("/consumers/alice/oauth2", json={})
    assert missing_name.json()["fields"] == {"name": "required field missing"}
    runtime = gateway.gateway.runtime
    found = runtime.find_credential("oauth2_credentials", "client_id", cred["client_id"])
    assert found is not None and found["id"] == cred["id"]


def test_consumer_needs_username_or_custom_id(gateway: RunningGateway) -> None:
    """Kong Consumer entity check: at least one of custom_id, username."""
    r = gateway.admin.post("/consumers", json={})
    assert r.status_code == 400
    assert r.json()["fields"] == {
        "@entity": ["at least one of these fields must be non-empty: 'custom_id', 'username'"]
    }


def test_form_encoded_bodies_are_coerced_like_kong(gateway: RunningGateway) -> None:
    """Kong's Admin API accepts form fields (``paths[]``, ``config.x``) and converts them to the schema's types."""
    svc = gateway.admin.post(
        "/services", data={"name": "form", "url": "http://form.example", "retries": "2"}
    ).json()
    assert svc["retries"] == 2
    route = gateway.admin.post("/services/form/routes", data={"paths[]": "/f", "strip_path": "false"}).json()
    assert route["paths"] == ["/f"] and route["strip_path"] is False
    plugin = gateway.admin.post(
        "/plugins",
        data={"name": "openid-connect", "config.issuer": "https://i.example", "config.leeway": "3"},
    )
    assert plugin.status_code == 201, plugin.text
    assert plugin.json()["config"]["leeway"] == 3


def test_broken_json_body_is_a_400(gateway: RunningGateway) -> None:
    """Bad input to the Admin API gets a well-formed 400, never a 500."""
    r = gateway.admin.post("/services", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json() == {"message": "Cannot parse JSON body"}
    r = gateway.admin.post("/services", json=["a", "list"])
    assert r.status_code == 400 and r.json()["code"] == 2


def test_route_checks_paths_and_match_criteria(gateway: RunningGateway) -> None:
    """Kong Route entity checks: paths start with / or ~/, and an http route needs a match criterion."""
    svc = gateway.admin.post("/services", json={"url": "http://x.example"}).json()
    bad = gateway.admin.post(f"/services/{svc['id']}/routes", json={"paths": ["nope"], "protocols": ["http"]})
    assert bad.status_code == 400
    assert bad.json()["fields"]["paths"] == ["should start with: / (fixed path) or ~/ (regex path)"]
    bare = gateway.admin.post(f"/services/{svc['id']}/routes", json={"protocols": ["http"]})
    assert bare.json()["fields"] == {
        "@entity": ["must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'"]
    }


def test_crud_writes_answer_405_in_db_less_mode(make_gateway: MakeGateway) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: in DB-less mode CRUD writes return 405; GETs work."""
    gw = make_gateway(db_less=True)
    refused = gw.admin.post("/services", json={"url": "http://x.example"})
    assert refused.status_code == 405
    assert refused.json() == {
        "code": 12,
        "name": "operation unsupported",
        "message": "cannot create 'services' entities when not using a database",
    }
    assert gw.admin.patch("/services/x", json={}).status_code == 405
    assert gw.admin.put("/consumers/x", json={}).status_code == 405
    assert gw.admin.delete("/plugins/x").status_code == 405
    assert gw.admin.get("/services").json() == {"data": [], "next": None}


def test_list_filters_by_tags(gateway: RunningGateway) -> None:
    """Kong's ``tags`` list filter: ``a,b`` needs all tags, ``a/b`` any of them."""
    gateway.admin.post("/consumers", json={"username": "one", "tags": ["kf", "x"]})
    gateway.admin.post("/consumers", json={"username": "two", "tags": ["kf"]})
    gateway.admin.post("/consumers", json={"username": "three"})

    def names(query: str) -> list[str]:
        return [c["username"] for c in gateway.admin.get("/consumers", params={"tags": query}).json()["data"]]

    assert names("kf") == ["one", "two"]
    assert names("kf,x") == ["one"]
    assert names("x/kf") == ["one", "two"]
    assert gateway.admin.get("/consumers", params={"tags": "a,b/c"}).status_code == 400


def test_ids_must_be_uuids(gateway: RunningGateway) -> None:
    """Kong entity ids are UUIDs: a client-chosen id must be one."""
    r = gateway.admin.post("/consumers", json={"id": "not-a-uuid", "username": "u"})
    assert r.status_code == 400 and r.json()["fields"] == {"id": "expected a valid UUID"}
    chosen = "6a4e2b4c-8f7e-4c1d-9b2a-3c4d5e6f7a8b"
    ok = gateway.admin.post("/consumers", json={"id": chosen, "username": "u"})
    assert ok.status_code == 201 and ok.json()["id"] == chosen
    clash = gateway.admin.post("/consumers", json={"id": chosen, "username": "v"})
    assert clash.status_code == 400 and clash.json()["name"] == "primary key violation"
