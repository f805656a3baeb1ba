"""Auth server operations of the /v1 management API (https://developer.konghq.com/api/konnect/kong-identity/v1/)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from starlette.testclient import TestClient

from kongformance.clock import Clock
from kongformance.identity.store import IdentityStore

from .conftest import PUBLIC_BASE


class Answer(Protocol):
    """What the checks read of a response (starlette's TestClient answers with httpx2's Response)."""

    @property
    def status_code(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    def json(self) -> Any: ...


def assert_problem(response: Answer, status: int) -> dict[str, Any]:
    """Every failure is application/problem+json with status/title/type/instance/detail (A.10)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["type"] == f"https://httpstatuses.com/{status}"
    assert re.fullmatch(r"kong:trace:\d+", body["instance"])
    return body


def rules(body: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(p["field"], p.get("rule")) for p in body["invalid_parameters"]}


def test_creates_an_auth_server_with_documented_defaults_and_issuer_urls(
    api: TestClient, store: IdentityStore
) -> None:
    """A.3: signing_algorithm defaults to RS256, description and labels are present, issuer URIs derived."""
    r = api.post("/v1/auth-servers", json={"name": "a", "audience": "aud-a"})
    assert r.status_code == 201
    body = r.json()
    assert body["signing_algorithm"] == "RS256"
    assert body["description"] == "" and body["labels"] == {}
    created = store.get_server(body["id"])
    assert created is not None
    key = created.issuer_key
    assert re.fullmatch(r"[a-z0-9]{16}", key)
    assert body["issuer"] == f"{PUBLIC_BASE}/{key}/auth"
    assert body["metadata_uri"] == body["issuer"] + "/.well-known/openid-configuration"
    assert body["jwks_uri"] == body["issuer"] + "/.well-known/jwks"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", body["created_at"])
    assert "trusted_origins" not in body


def test_each_auth_server_gets_its_own_issuer_key(api: TestClient, store: IdentityStore) -> None:
    """A.3 / B.1: each auth server has a unique, randomly generated issuer URL."""
    a = api.post("/v1/auth-servers", json={"name": "a", "audience": "x"}).json()
    b = api.post("/v1/auth-servers", json={"name": "b", "audience": "x"}).json()
    assert a["issuer"] != b["issuer"]
    stored = store.get_server(b["id"])
    assert stored is not None
    found = store.server_by_issuer_key(stored.issuer_key)
    assert found is not None and found.id == b["id"]


def test_rejects_a_missing_required_field_with_rule_required(api: TestClient) -> None:
    """A.3: name and audience are required on create."""
    body = assert_problem(api.post("/v1/auth-servers", json={"name": "a"}), 400)
    assert ("audience", "required") in rules(body)


def test_rejects_unknown_fields_wrong_types_and_bad_enums(api: TestClient) -> None:
    """A.10: unknown_property, is_string, enum with choices."""
    r = api.post(
        "/v1/auth-servers", json={"name": 5, "audience": "x", "signing_algorithm": "HS256", "colour": "red"}
    )
    body = assert_problem(r, 400)
    assert {("colour", "unknown_property"), ("name", "is_string"), ("signing_algorithm", "enum")} <= rules(
        body
    )
    enum = next(p for p in body["invalid_parameters"] if p["rule"] == "enum")
    assert "RS256" in enum["choices"] and "HS256" not in enum["choices"]


def test_rejects_an_empty_name_with_min_length(api: TestClient) -> None:
    """A.3: name has minLength 1."""
    body = assert_problem(api.post("/v1/auth-servers", json={"name": "", "audience": "x"}), 400)
    entry = next(p for p in body["invalid_parameters"] if p["field"] == "name")
    assert entry["rule"] == "min_length" and entry["minimum"] == 1


def test_rejects_labels_that_break_the_label_rules(api: TestClient) -> None:
    """A.10: reserved key prefixes, value regex, at most 50 labels -> rule is_label."""
    for labels in ({"kong-x": "a"}, {"_x": "a"}, {"env": "has space"}, {"env": "-lead"}, {"k": ""}):
        body = assert_problem(
            api.post("/v1/auth-servers", json={"name": "a", "audience": "x", "labels": labels}), 400
        )
        assert all(p["rule"] == "is_label" for p in body["invalid_parameters"]), labels
    many = {f"k{i}": "v" for i in range(51)}
    body = assert_problem(
        api.post("/v1/auth-servers", json={"name": "a", "audience": "x", "labels": many}), 400
    )
    assert rules(body) == {("labels", "is_label")}
    ok = api.post("/v1/auth-servers", json={"name": "a", "audience": "x", "labels": {"env": "prod.eu-1"}})
    assert ok.status_code == 201


def test_rejects_a_duplicate_auth_server_name_with_409(api: TestClient) -> None:
    """A.3: names are unique per org and region."""
    api.post("/v1/auth-servers", json={"name": "same", "audience": "x"})
    assert_problem(api.post("/v1/auth-servers", json={"name": "same", "audience": "y"}), 409)


def test_malformed_json_is_a_400_problem(api: TestClient) -> None:
    """A.10: bad input gives a well-formed 400, never a 500."""
    body = assert_problem(
        api.post("/v1/auth-servers", content=b"{nope", headers={"content-type": "application/json"}), 400
    )
    assert body["invalid_parameters"][0]["field"] == "body"
    assert_problem(api.post("/v1/auth-servers", json=["not", "an", "object"]), 400)


def test_requests_without_an_accepted_bearer_token_get_401(api: TestClient) -> None:
    """A.1: Authorization: Bearer <token> is required."""
    assert_problem(api.get("/v1/auth-servers", headers={"Authorization": ""}), 401)
    assert_problem(api.get("/v1/auth-servers", headers={"Authorization": "Basic dTpw"}), 401)
    assert_problem(api.get("/v1/auth-servers", headers={"Authorization": "Bearer wrong"}), 401)


def test_get_returns_404_for_an_unknown_id_and_400_for_a_non_uuid(
    api: TestClient, server: dict[str, Any]
) -> None:
    """A.2: path ids are UUIDs (is_uuid); unknown ones are 404."""
    assert api.get(f"/v1/auth-servers/{server['id']}").json() == server
    assert_problem(api.get("/v1/auth-servers/4b3c1f0e-0000-4000-8000-000000000000"), 404)
    body = assert_problem(api.get("/v1/auth-servers/not-a-uuid"), 400)
    assert rules(body) == {("authServerId", "is_uuid")}


def test_patch_changes_only_given_fields_and_merges_labels(api: TestClient, clock: Clock) -> None:
    """A.3: PATCH fields are optional; LabelsUpdate null removes a key (inferred)."""
    created = api.post(
        "/v1/auth-servers", json={"name": "a", "audience": "x", "labels": {"a": "1", "b": "2"}}
    ).json()
    clock.advance(5)
    r = api.patch(
        f"/v1/auth-servers/{created['id']}", json={"audience": "y", "labels": {"a": None, "c": "3"}}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["audience"] == "y" and body["name"] == "a"
    assert body["labels"] == {"b": "2", "c": "3"}
    assert body["updated_at"] > created["updated_at"] and body["created_at"] == created["created_at"]
    assert api.patch(f"/v1/auth-servers/{created['id']}", json={"labels": None}).json()["labels"] == {}


def test_patch_to_a_taken_name_is_409_and_bad_algorithm_is_400(api: TestClient) -> None:
    """A.3: unique names; PATCH uses the same enum without default."""
    api.post("/v1/auth-servers", json={"name": "taken", "audience": "x"})
    other = api.post("/v1/auth-servers", json={"name": "other", "audience": "x"}).json()
    assert_problem(api.patch(f"/v1/auth-servers/{other['id']}", json={"name": "taken"}), 409)
    assert_problem(api.patch(f"/v1/auth-servers/{other['id']}", json={"signing_algorithm": "none"}), 400)
    assert (
        api.patch(f"/v1/auth-servers/{other['id']}", json={"signing_algorithm": "PS384"}).json()[
            "signing_algorithm"
        ]
        == "PS384"
    )


def test_delete_without_force_refuses_a_server_that_has_children(
    api: TestClient, server: dict[str, Any], store: IdentityStore
) -> None:
    """A.3: without force the delete succeeds only for an empty server (failure status 400, inferred)."""
    api.post(f"/v1/auth-servers/{server['id']}/scopes", json={"name": "read"})
    assert_problem(api.delete(f"/v1/auth-servers/{server['id']}"), 400)
    assert_problem(api.delete(f"/v1/auth-servers/{server['id']}?force=false"), 400)
    assert_problem(api.delete(f"/v1/auth-servers/{server['id']}?force=yes"), 400)
    assert api.delete(f"/v1/auth-servers/{server['id']}?force=true").status_code == 204
    assert store.get_server(server["id"]) is None
    assert store.scopes_of(server["id"]) == []
    assert_problem(api.get(f"/v1/auth-servers/{server['id']}"), 404)


def test_delete_of_an_empty_server_needs_no_force(api: TestClient, server: dict[str, Any]) -> None:
    """A.3: an auth server with no clients, scopes or claims can be deleted with force=false."""
    assert api.delete(f"/v1/auth-servers/{server['id']}").status_code == 204
    assert_problem(api.delete(f"/v1/auth-servers/{server['id']}"), 404)


def test_trusted_origins_must_be_unique_uris(api: TestClient) -> None:
    """A.3: trusted_origins is an array of uri, uniqueItems."""
    assert_problem(
        api.post(
            "/v1/auth-servers",
            json={"name": "a", "audience": "x", "trusted_origins": ["https://a", "https://a"]},
        ),
        400,
    )
    assert_problem(
        api.post("/v1/auth-servers", json={"name": "a", "audience": "x", "trusted_origins": ["no uri"]}), 400
    )
    r = api.post(
        "/v1/auth-servers", json={"name": "a", "audience": "x", "trusted_origins": ["https://app.example"]}
    )
    assert r.json()["trusted_origins"] == ["https://app.example"]


def test_unknown_paths_and_methods_answer_with_problems(api: TestClient) -> None:
    """A.10: errors are problem+json, including routing errors."""
    assert_problem(api.get("/v1/nothing-here"), 404)
    assert_problem(api.put("/v1/auth-servers"), 405)
