"""Client secrets, issued-token bookkeeping and test-claim (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createClientSecret and https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/listAuthServerClientTokens and https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/testClaimForClient)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from kongformance.clock import Clock
from kongformance.identity.store import IdentityStore, TokenRecord

from .test_auth_servers import assert_problem


@pytest.fixture
def secrets_url(server: dict[str, Any], client_app: dict[str, Any]) -> str:
    return f"/v1/auth-servers/{server['id']}/clients/{client_app['id']}/secrets"


def test_a_new_client_has_one_enabled_secret_listed_without_its_value(
    api: TestClient, secrets_url: str
) -> None:
    """A.7: list items carry id, enabled, timestamps; the value only at creation."""
    page = api.get(secrets_url).json()
    assert page["meta"]["page"]["total"] == 1
    item = page["data"][0]
    assert item["enabled"] is True and "secret" not in item


def test_creating_a_secret_shows_it_once_and_it_authenticates(
    api: TestClient,
    secrets_url: str,
    server: dict[str, Any],
    client_app: dict[str, Any],
    store: IdentityStore,
) -> None:
    """A.7: POST returns 201 with secret; the rotation recipe works with both secrets."""
    r = api.post(secrets_url, json={})
    assert r.status_code == 201
    created = r.json()
    assert re.fullmatch(r"[a-z0-9]{24}", created["secret"])
    assert "secret" not in api.get(f"{secrets_url}/{created['id']}").json()
    assert store.authenticate_client(server["id"], client_app["id"], created["secret"]) is not None
    assert store.authenticate_client(server["id"], client_app["id"], client_app["client_secret"]) is not None
    own = api.post(secrets_url, json={"secret": "bring-your-own", "enabled": False}).json()
    assert own["secret"] == "bring-your-own" and own["enabled"] is False


def test_an_empty_body_creates_a_generated_secret(api: TestClient, secrets_url: str) -> None:
    """A.7 (S5 rotation how-to): POST without a body generates a secret (inferred)."""
    assert api.post(secrets_url).status_code == 201


def test_a_third_enabled_secret_is_forbidden(api: TestClient, secrets_url: str) -> None:
    """A.7: at most two secrets active at once; creating or enabling a third gives 403."""
    api.post(secrets_url, json={})
    assert_problem(api.post(secrets_url, json={}), 403)
    disabled = api.post(secrets_url, json={"enabled": False})
    assert disabled.status_code == 201
    assert_problem(api.patch(f"{secrets_url}/{disabled.json()['id']}", json={"enabled": True}), 403)


def test_a_disabled_secret_cannot_authenticate(
    api: TestClient,
    secrets_url: str,
    server: dict[str, Any],
    client_app: dict[str, Any],
    store: IdentityStore,
) -> None:
    """A.7: PATCH enabled=false; a disabled secret cannot authenticate."""
    original = api.get(secrets_url).json()["data"][0]
    body = api.patch(f"{secrets_url}/{original['id']}", json={"enabled": False}).json()
    assert body["enabled"] is False
    assert store.authenticate_client(server["id"], client_app["id"], client_app["client_secret"]) is None
    assert [s["id"] for s in api.get(f"{secrets_url}?filter[enabled]=false").json()["data"]] == [
        original["id"]
    ]
    assert api.get(f"{secrets_url}?filter[enabled]=true").json()["data"] == []
    assert_problem(api.patch(f"{secrets_url}/{original['id']}", json={"secret": "x"}), 400)


def test_deleting_a_secret_removes_it(
    api: TestClient,
    secrets_url: str,
    server: dict[str, Any],
    client_app: dict[str, Any],
    store: IdentityStore,
) -> None:
    """A.7: rotation ends by deleting the old secret."""
    original = api.get(secrets_url).json()["data"][0]
    assert api.delete(f"{secrets_url}/{original['id']}").status_code == 204
    assert_problem(api.get(f"{secrets_url}/{original['id']}"), 404)
    assert store.authenticate_client(server["id"], client_app["id"], client_app["client_secret"]) is None


def record(
    store: IdentityStore,
    server: dict[str, Any],
    client_app: dict[str, Any],
    clock: Clock,
    ttl: float = 300,
    scopes: tuple[str, ...] = ("read",),
) -> str:
    jti = str(uuid.uuid4())
    now = clock.now()
    store.record_token(TokenRecord(jti, server["id"], client_app["id"], list(scopes), now, now + ttl))
    return jti


def test_lists_and_gets_the_tokens_of_a_client(
    api: TestClient, server: dict[str, Any], client_app: dict[str, Any], store: IdentityStore, clock: Clock
) -> None:
    """A.8: token items have id, granted_scope_names, created_at, expires_at."""
    jti = record(store, server, client_app, clock)
    base = f"/v1/auth-servers/{server['id']}/clients/{client_app['id']}/tokens"
    page = api.get(base).json()
    assert page["meta"]["page"]["total"] == 1
    item = api.get(f"{base}/{jti}").json()
    assert item["id"] == jti and item["granted_scope_names"] == ["read"]
    assert item["expires_at"] > item["created_at"]
    assert api.get(f"{base}?filter[id][eq]={jti}").json()["data"] == [item]


def test_revoking_one_token_marks_it_revoked(
    api: TestClient, server: dict[str, Any], client_app: dict[str, Any], store: IdentityStore, clock: Clock
) -> None:
    """A.8: DELETE of one token revokes it; it is no longer listed."""
    jti = record(store, server, client_app, clock)
    keep = record(store, server, client_app, clock)
    base = f"/v1/auth-servers/{server['id']}/clients/{client_app['id']}/tokens"
    assert api.delete(f"{base}/{jti}").status_code == 204
    revoked, kept = store.get_token(jti), store.get_token(keep)
    assert revoked is not None and revoked.revoked is True
    assert kept is not None and kept.revoked is False
    assert_problem(api.get(f"{base}/{jti}"), 404)
    assert [t["id"] for t in api.get(base).json()["data"]] == [keep]


def test_revoking_all_tokens_marks_every_token_revoked(
    api: TestClient, server: dict[str, Any], client_app: dict[str, Any], store: IdentityStore, clock: Clock
) -> None:
    """A.8: DELETE /tokens revokes all tokens of the client."""
    jtis = [record(store, server, client_app, clock) for _ in range(3)]
    base = f"/v1/auth-servers/{server['id']}/clients/{client_app['id']}/tokens"
    assert api.delete(base).status_code == 204
    tokens = [store.get_token(j) for j in jtis]
    assert all(t is not None and t.revoked for t in tokens)
    assert api.get(base).json()["data"] == []


def test_expired_tokens_are_not_listed_and_are_evicted(
    api: TestClient, server: dict[str, Any], client_app: dict[str, Any], store: IdentityStore, clock: Clock
) -> None:
    """A.8: only live tokens are listed (inferred); expired records are evicted so memory stays flat."""
    jti = record(store, server, client_app, clock, ttl=60)
    base = f"/v1/auth-servers/{server['id']}/clients/{client_app['id']}/tokens"
    clock.advance(61)
    assert api.get(base).json()["data"] == []
    assert store.evict_expired(clock.now()) == 1
    assert store.get_token(jti) is None


def test_token_of_another_client_is_not_found(
    api: TestClient, server: dict[str, Any], client_app: dict[str, Any], store: IdentityStore, clock: Clock
) -> None:
    """A.2: tokens are addressed under their client."""
    other = api.post(
        f"/v1/auth-servers/{server['id']}/clients",
        json={"name": "other", "grant_types": ["client_credentials"], "response_types": ["token"]},
    ).json()
    jti = record(store, server, client_app, clock)
    assert_problem(api.get(f"/v1/auth-servers/{server['id']}/clients/{other['id']}/tokens/{jti}"), 404)
    assert_problem(api.delete(f"/v1/auth-servers/{server['id']}/clients/{other['id']}/tokens/{jti}"), 404)


def test_test_claim_renders_against_the_client_and_omits_failures(
    api: TestClient, server: dict[str, Any]
) -> None:
    """C.7: rendered with that client and server; JSON-typed; failing entries omitted."""
    client = api.post(
        f"/v1/auth-servers/{server['id']}/clients",
        json={
            "name": "svc",
            "grant_types": ["client_credentials"],
            "response_types": ["token"],
            "labels": {"tier": "gold"},
        },
    ).json()
    r = api.post(
        f"/v1/auth-servers/{server['id']}/clients/{client['id']}/test-claim",
        json={
            "who": "${ .Client.Name }-${ .AuthServer.Audience }",
            "tier": "${ .Client.Labels.tier }",
            "missing": "${ .Client.Labels.nope }",
            "num": "42",
            "id": "${ uuidv4 }",
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["who"] == "svc-https://orders.example"
    assert body["tier"] == "gold" and body["num"] == 42
    assert "missing" not in body
    assert uuid.UUID(body["id"]).version == 4


def test_test_claim_rejects_non_string_templates_and_unknown_clients(
    api: TestClient, server: dict[str, Any], client_app: dict[str, Any]
) -> None:
    """A.9: the body maps claim names to template strings."""
    url = f"/v1/auth-servers/{server['id']}/clients/{client_app['id']}/test-claim"
    assert_problem(api.post(url, json={"a": 1}), 400)
    assert_problem(api.post(url, json="text"), 400)
    assert_problem(
        api.post(f"/v1/auth-servers/{server['id']}/clients/nobody/test-claim", json={"a": "b"}), 404
    )
