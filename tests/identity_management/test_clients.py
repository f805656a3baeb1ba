"""Clients of an auth server (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient)."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from kongformance.clock import Clock
from kongformance.identity.store import IdentityStore, TokenRecord

from .test_auth_servers import assert_problem, rules

CC = {"grant_types": ["client_credentials"], "response_types": ["token"]}


def test_post_generates_an_id_and_a_secret_shown_once(
    api: TestClient, server: dict[str, Any], store: IdentityStore
) -> None:
    """A.6: id = 16 lowercase alphanumerics, secret = 24, client_secret only in the create response."""
    r = api.post(f"/v1/auth-servers/{server['id']}/clients", json={"name": "svc", **CC})
    assert r.status_code == 201
    body = r.json()
    assert re.fullmatch(r"[a-z0-9]{16}", body["id"])
    assert re.fullmatch(r"[a-z0-9]{24}", body["client_secret"])
    fetched = api.get(f"/v1/auth-servers/{server['id']}/clients/{body['id']}").json()
    assert "client_secret" not in fetched
    assert store.authenticate_client(server["id"], body["id"], body["client_secret"]) is not None
    assert store.authenticate_client(server["id"], body["id"], body["client_secret"] + "x") is None


def test_client_defaults_match_the_document(api: TestClient, server: dict[str, Any]) -> None:
    """A.6: durations 300, allow_all_scopes false, auth method client_secret_post, empty lists, login_uri null."""
    body = api.post(f"/v1/auth-servers/{server['id']}/clients", json={"name": "svc", **CC}).json()
    assert body["access_token_duration"] == 300 and body["id_token_duration"] == 300
    assert body["allow_all_scopes"] is False and body["allow_scopes"] == []
    assert body["token_endpoint_auth_method"] == "client_secret_post"
    assert body["redirect_uris"] == [] and body["login_uri"] is None and body["labels"] == {}


def test_rejects_bad_client_bodies(api: TestClient, server: dict[str, Any]) -> None:
    """A.6: required fields, enums, duration bounds, https redirect URIs, known scope ids."""
    base = f"/v1/auth-servers/{server['id']}/clients"
    assert ("grant_types", "required") in rules(assert_problem(api.post(base, json={"name": "x"}), 400))
    assert_problem(api.post(base, json={"name": "x", **CC, "grant_types": ["authorization_code"]}), 400)
    body = assert_problem(api.post(base, json={"name": "x", **CC, "access_token_duration": 59}), 400)
    assert body["invalid_parameters"][0]["rule"] == "min" and body["invalid_parameters"][0]["minimum"] == 60
    assert_problem(api.post(base, json={"name": "x", **CC, "id_token_duration": 2592001}), 400)
    assert_problem(
        api.post(base, json={"name": "x", **CC, "redirect_uris": ["http://insecure.example/cb"]}), 400
    )
    assert_problem(
        api.post(base, json={"name": "x", **CC, "redirect_uris": ["https://a.example/cb#frag"]}), 400
    )
    assert_problem(api.post(base, json={"name": "x", **CC, "login_uri": "http://a.example/login"}), 400)
    missing = {"allow_scopes": ["4b3c1f0e-0000-4000-8000-000000000000"]}
    assert rules(assert_problem(api.post(base, json={"name": "x", **CC, **missing}), 400)) == {
        ("allow_scopes", "missing_reference")
    }
    assert (
        api.post(base, json={"name": "x", **CC, "redirect_uris": ["https://a.example/cb"]}).status_code == 201
    )


def test_rejects_a_duplicate_client_name_with_409(api: TestClient, server: dict[str, Any]) -> None:
    """A.6: client names are unique within an auth server."""
    base = f"/v1/auth-servers/{server['id']}/clients"
    api.post(base, json={"name": "svc", **CC})
    assert_problem(api.post(base, json={"name": "svc", **CC}), 409)


def test_put_creates_with_the_given_id_and_secret_then_replaces(
    api: TestClient, server: dict[str, Any], store: IdentityStore
) -> None:
    """A.6: PUT creates the client with that exact id+secret (201) or replaces it (200)."""
    url = f"/v1/auth-servers/{server['id']}/clients/my-client_01"
    r = api.put(
        url, json={"name": "mine", "client_secret": "s3cret-value", **CC, "access_token_duration": 600}
    )
    assert r.status_code == 201
    assert r.json()["id"] == "my-client_01" and "client_secret" not in r.json()
    assert store.authenticate_client(server["id"], "my-client_01", "s3cret-value") is not None
    r = api.put(url, json={"name": "mine-2", "client_secret": "other-secret", **CC})
    assert r.status_code == 200
    body = r.json()
    assert (
        body["name"] == "mine-2" and body["access_token_duration"] == 300
    )  # replaced, so back to the default
    assert store.authenticate_client(server["id"], "my-client_01", "s3cret-value") is None
    assert store.authenticate_client(server["id"], "my-client_01", "other-secret") is not None


def test_put_requires_a_secret_and_a_valid_client_id(api: TestClient, server: dict[str, Any]) -> None:
    """A.6: PUT body requires client_secret; clientId is 1-36 of [-_\\w]."""
    base = f"/v1/auth-servers/{server['id']}/clients"
    assert ("client_secret", "required") in rules(
        assert_problem(api.put(f"{base}/abc", json={"name": "x", **CC}), 400)
    )
    assert_problem(api.put(f"{base}/bad.id", json={"name": "x", "client_secret": "s", **CC}), 400)
    assert_problem(api.put(f"{base}/{'a' * 37}", json={"name": "x", "client_secret": "s", **CC}), 400)


def test_patch_updates_fields_labels_and_secret(
    api: TestClient, server: dict[str, Any], client_app: dict[str, Any], store: IdentityStore
) -> None:
    """A.6: PATCH fields are optional; client_secret may be set; labels use LabelsUpdate."""
    url = f"/v1/auth-servers/{server['id']}/clients/{client_app['id']}"
    body = api.patch(url, json={"labels": {"tier": "gold"}, "allow_all_scopes": True}).json()
    assert body["labels"] == {"tier": "gold"} and body["allow_all_scopes"] is True and body["name"] == "svc"
    api.patch(url, json={"client_secret": "rotated-secret"})
    assert store.authenticate_client(server["id"], client_app["id"], "rotated-secret") is not None
    assert store.authenticate_client(server["id"], client_app["id"], client_app["client_secret"]) is None
    assert_problem(api.patch(url, json={"client_secret": ""}), 400)


def test_deleting_a_client_deletes_its_tokens(
    api: TestClient, server: dict[str, Any], client_app: dict[str, Any], store: IdentityStore, clock: Clock
) -> None:
    """A.6: delete also deletes all tokens of the client."""
    now = clock.now()
    store.record_token(
        TokenRecord("6f1f9a62-8a8f-4a43-9d55-0b7a9c7a1d10", server["id"], client_app["id"], [], now, now + 60)
    )
    assert api.delete(f"/v1/auth-servers/{server['id']}/clients/{client_app['id']}").status_code == 204
    assert store.get_token("6f1f9a62-8a8f-4a43-9d55-0b7a9c7a1d10") is None
    assert_problem(api.get(f"/v1/auth-servers/{server['id']}/clients/{client_app['id']}"), 404)


def test_lists_clients_filtered_by_labels(api: TestClient, server: dict[str, Any]) -> None:
    """A.10: clients filter by name, id and labels."""
    base = f"/v1/auth-servers/{server['id']}/clients"
    api.post(base, json={"name": "a", **CC, "labels": {"tier": "gold"}})
    api.post(base, json={"name": "b", **CC, "labels": {"tier": "free"}})
    data = api.get(f"{base}?filter[labels][eq]=tier:gold").json()["data"]
    assert [c["name"] for c in data] == ["a"]
    assert all("client_secret" not in c for c in api.get(base).json()["data"])
