"""Scopes and claims of an auth server (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerScope and https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from kongformance.identity.store import IdentityStore

from .test_auth_servers import assert_problem, rules


def test_creates_a_scope_with_documented_defaults(api: TestClient, server: dict[str, Any]) -> None:
    """A.4: default=false, include_in_metadata=false, enabled=true; description always present."""
    r = api.post(f"/v1/auth-servers/{server['id']}/scopes", json={"name": "read"})
    assert r.status_code == 201
    body = r.json()
    assert (body["default"], body["include_in_metadata"], body["enabled"], body["description"]) == (
        False,
        False,
        True,
        "",
    )
    assert api.get(f"/v1/auth-servers/{server['id']}/scopes/{body['id']}").json() == body


def test_rejects_a_duplicate_scope_name_within_a_server_only(api: TestClient, server: dict[str, Any]) -> None:
    """A.4: scope names are unique within an auth server (409)."""
    base = f"/v1/auth-servers/{server['id']}/scopes"
    api.post(base, json={"name": "read"})
    assert_problem(api.post(base, json={"name": "read"}), 409)
    other = api.post("/v1/auth-servers", json={"name": "other", "audience": "x"}).json()
    assert api.post(f"/v1/auth-servers/{other['id']}/scopes", json={"name": "read"}).status_code == 201
    write = api.post(base, json={"name": "write"}).json()
    assert_problem(api.patch(f"{base}/{write['id']}", json={"name": "read"}), 409)


def test_patches_scope_flags(api: TestClient, server: dict[str, Any]) -> None:
    """A.4: PATCH sets only the given fields."""
    base = f"/v1/auth-servers/{server['id']}/scopes"
    scope = api.post(base, json={"name": "read", "description": "Read"}).json()
    body = api.patch(f"{base}/{scope['id']}", json={"enabled": False, "default": True}).json()
    assert (body["enabled"], body["default"], body["description"]) == (False, True, "Read")
    assert_problem(api.patch(f"{base}/{scope['id']}", json={"enabled": "no"}), 400)


def test_scope_of_another_server_is_not_found(api: TestClient, server: dict[str, Any]) -> None:
    """A.2: sub-resources are addressed under their own auth server."""
    scope = api.post(f"/v1/auth-servers/{server['id']}/scopes", json={"name": "read"}).json()
    other = api.post("/v1/auth-servers", json={"name": "other", "audience": "x"}).json()
    assert_problem(api.get(f"/v1/auth-servers/{other['id']}/scopes/{scope['id']}"), 404)


def test_deleting_a_scope_removes_it_from_clients_and_claims(api: TestClient, server: dict[str, Any]) -> None:
    """A.4: deleting a scope removes it from every client's allow_scopes (and claims' include_in_scopes)."""
    sid = server["id"]
    read = api.post(f"/v1/auth-servers/{sid}/scopes", json={"name": "read"}).json()
    write = api.post(f"/v1/auth-servers/{sid}/scopes", json={"name": "write"}).json()
    client = api.post(
        f"/v1/auth-servers/{sid}/clients",
        json={
            "name": "svc",
            "grant_types": ["client_credentials"],
            "response_types": ["token"],
            "allow_scopes": [read["id"], write["id"]],
        },
    ).json()
    claim = api.post(
        f"/v1/auth-servers/{sid}/claims",
        json={"name": "tier", "value": "gold", "include_in_scopes": [read["id"], write["id"]]},
    ).json()
    assert api.delete(f"/v1/auth-servers/{sid}/scopes/{read['id']}").status_code == 204
    assert api.get(f"/v1/auth-servers/{sid}/clients/{client['id']}").json()["allow_scopes"] == [write["id"]]
    assert api.get(f"/v1/auth-servers/{sid}/claims/{claim['id']}").json()["include_in_scopes"] == [
        write["id"]
    ]
    assert_problem(api.get(f"/v1/auth-servers/{sid}/scopes/{read['id']}"), 404)


def test_creates_a_claim_with_documented_defaults(api: TestClient, server: dict[str, Any]) -> None:
    """A.5: include_in_token defaults to false, include_in_all_scopes false, enabled true."""
    r = api.post(
        f"/v1/auth-servers/{server['id']}/claims", json={"name": "Tier", "value": "${ .Client.Name }"}
    )
    assert r.status_code == 201
    body = r.json()
    assert (
        body["include_in_token"],
        body["include_in_all_scopes"],
        body["include_in_scopes"],
        body["enabled"],
    ) == (
        False,
        False,
        [],
        True,
    )
    assert body["name"] == "Tier" and body["value"] == "${ .Client.Name }"


def test_claim_value_and_name_must_be_non_empty(api: TestClient, server: dict[str, Any]) -> None:
    """A.5: name and value have minLength 1 and are required."""
    base = f"/v1/auth-servers/{server['id']}/claims"
    body = assert_problem(api.post(base, json={"name": "x", "value": ""}), 400)
    assert ("value", "min_length") in rules(body)
    assert ("value", "required") in rules(assert_problem(api.post(base, json={"name": "x"}), 400))


def test_claim_scopes_must_exist_on_the_server(api: TestClient, server: dict[str, Any]) -> None:
    """A.5: include_in_scopes holds scope ids of this auth server (missing_reference, inferred)."""
    base = f"/v1/auth-servers/{server['id']}/claims"
    body = assert_problem(
        api.post(
            base,
            json={"name": "x", "value": "v", "include_in_scopes": ["4b3c1f0e-0000-4000-8000-000000000000"]},
        ),
        400,
    )
    assert rules(body) == {("include_in_scopes", "missing_reference")}
    assert_problem(api.post(base, json={"name": "x", "value": "v", "include_in_scopes": ["nope"]}), 400)


def test_claim_names_are_unique_per_server_with_a_400(api: TestClient, server: dict[str, Any]) -> None:
    """A.5: no 409 is declared for claims; duplicates are refused with 400 (inferred, see fidelity ledger)."""
    base = f"/v1/auth-servers/{server['id']}/claims"
    api.post(base, json={"name": "tier", "value": "a"})
    assert_problem(api.post(base, json={"name": "tier", "value": "b"}), 400)
    assert api.post(base, json={"name": "Tier", "value": "b"}).status_code == 201  # case-sensitive names


def test_patches_and_deletes_a_claim(api: TestClient, server: dict[str, Any], store: IdentityStore) -> None:
    """A.5: PATCH and DELETE of a claim."""
    base = f"/v1/auth-servers/{server['id']}/claims"
    claim = api.post(base, json={"name": "tier", "value": "a"}).json()
    body = api.patch(f"{base}/{claim['id']}", json={"value": "b", "include_in_token": True}).json()
    assert (body["value"], body["include_in_token"], body["name"]) == ("b", True, "tier")
    assert api.delete(f"{base}/{claim['id']}").status_code == 204
    assert store.claims_of(server["id"]) == []
    assert_problem(api.patch(f"{base}/{claim['id']}", json={"value": "c"}), 404)
