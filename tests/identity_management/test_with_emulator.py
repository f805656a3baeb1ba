"""The management API as mounted by the whole emulator (app.py): issuer URLs, token bookkeeping end to end.

https://developer.konghq.com/api/konnect/kong-identity/v1/ (issuer, metadata_uri, jwks_uri), A.8 (tokens list/revoke), B.1 (issuer URL form).
"""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest
from starlette.testclient import TestClient

from kongformance.identity.app import IdentityEmulator

BASE = "http://testserver"


@pytest.fixture
def emulator() -> IdentityEmulator:
    emu = IdentityEmulator()
    emu.set_public_base_url(BASE)
    return emu


@pytest.fixture
def http(emulator: IdentityEmulator) -> Iterator[TestClient]:
    with TestClient(emulator.app, headers={"Authorization": "Bearer any-token"}) as client:
        yield client


def test_issuer_urls_in_management_responses_serve_discovery(http: TestClient) -> None:
    """A.3/B.1: issuer = {base}/{issuer_key}/auth; metadata_uri answers with that issuer."""
    server = http.post("/v1/auth-servers", json={"name": "a", "audience": "aud"}).json()
    assert server["issuer"].startswith(BASE + "/") and server["issuer"].endswith("/auth")
    discovery = http.get(server["metadata_uri"].removeprefix(BASE))
    assert discovery.status_code == 200
    assert discovery.json()["issuer"] == server["issuer"]
    assert http.get(server["jwks_uri"].removeprefix(BASE)).status_code == 200


def test_issued_tokens_are_listed_under_their_client_and_can_be_revoked(
    http: TestClient, emulator: IdentityEmulator
) -> None:
    """A.8: token id is the JWT jti; DELETE revokes (marks the record revoked)."""
    server = http.post("/v1/auth-servers", json={"name": "a", "audience": "aud"}).json()
    client = http.post(
        f"/v1/auth-servers/{server['id']}/clients",
        json={"name": "c", "grant_types": ["client_credentials"], "response_types": ["token"]},
    ).json()
    token_response = http.post(
        server["issuer"].removeprefix(BASE) + "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client["id"],
            "client_secret": client["client_secret"],
        },
    )
    assert token_response.status_code == 200
    jti = jwt.decode(token_response.json()["access_token"], options={"verify_signature": False})["jti"]
    tokens_url = f"/v1/auth-servers/{server['id']}/clients/{client['id']}/tokens"
    assert [t["id"] for t in http.get(tokens_url).json()["data"]] == [jti]
    assert http.delete(f"{tokens_url}/{jti}").status_code == 204
    revoked = emulator.store.get_token(jti)
    assert revoked is not None and revoked.revoked is True
    assert http.get(tokens_url).json()["data"] == []
