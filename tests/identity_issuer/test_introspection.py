"""Introspection (RFC 7662; https://developer.konghq.com/how-to/configure-kong-identity-oauth-introspection/), revocation (RFC 7009) and userinfo."""

from __future__ import annotations

import httpx
from tests.identity_issuer.helpers import Issuer, decode_segments


def _mint(issuer: Issuer, **body: object) -> str:
    url = issuer.url.rsplit("/", 2)[0] + f"/_emulator/auth-servers/{issuer.server.id}/mint"
    response = issuer.http.post(url, json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def test_valid_token_is_active_with_rfc7662_fields_and_custom_claims(issuer: Issuer) -> None:
    """RFC 7662 2.2; https://developer.konghq.com/how-to/configure-kong-identity-oauth-introspection/: custom claims are in the response (custom_claims_forward)."""
    issuer.emulator.store.create_claim(
        issuer.server.id, name="tier", value="gold", include_in_token=True, include_in_all_scopes=True
    )
    token = issuer.access_token()
    claims = decode_segments(token)[1]
    body = issuer.introspect(token).json()
    assert body["active"] is True
    assert body["token_type"] == "Bearer"
    for name in ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti"):
        assert body[name] == claims[name]
    assert body["tier"] == "gold"


def test_expired_token_is_inactive_by_the_virtual_clock(issuer: Issuer) -> None:
    """RFC 7662 2.2; issue 2: expiry follows the virtual clock."""
    issuer.emulator.clock.freeze()
    token = issuer.access_token()
    issuer.emulator.clock.advance(issuer.client.access_token_duration - 1)
    assert issuer.introspect(token).json()["active"] is True
    issuer.emulator.clock.advance(1)
    assert issuer.introspect(token).json() == {"active": False}


def test_revoked_token_is_inactive(issuer: Issuer) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/listAuthServerClientTokens: revoked tokens fail introspection."""
    token = issuer.access_token()
    issuer.emulator.store.revoke_token(decode_segments(token)[1]["jti"])
    assert issuer.introspect(token).json() == {"active": False}


def test_token_of_another_auth_server_is_inactive(issuer: Issuer) -> None:
    """RFC 7662 2.2; issue 2: foreign tokens are active:false."""
    store = issuer.emulator.store
    other = store.create_server(name=f"foreign-{issuer.server.id}", audience=issuer.server.audience)
    client, secret = store.create_client(
        other.id, {"name": "f", "grant_types": ["client_credentials"], "response_types": ["token"]}
    )
    foreign = issuer.http.post(
        f"{issuer.emulator.issuer_url_for(other)}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client.id, "client_secret": secret},
    ).json()["access_token"]
    assert issuer.introspect(foreign).json() == {"active": False}


def test_unknown_and_malformed_tokens_are_inactive(issuer: Issuer) -> None:
    """RFC 7662 2.2: active:false for anything not a valid token of this server."""
    stray = _mint(issuer, key="unknown")
    tampered = issuer.access_token()[:-4] + "AAAA"
    for token in ("garbage", "a.b.c", stray, tampered, "x" * 20_000):
        assert issuer.introspect(token).json() == {"active": False}, token[:20]


def test_token_signed_by_this_server_but_with_another_iss_is_inactive(issuer: Issuer) -> None:
    """RFC 7662 2.2: the token must be one this issuer issued."""
    assert issuer.introspect(_mint(issuer, claims={"iss": "https://elsewhere"})).json() == {"active": False}


def test_minted_token_with_valid_signature_is_active(issuer: Issuer) -> None:
    """docs/identity-control-api.md: minted tokens signed with the current key introspect as active."""
    token = _mint(issuer, client_id=issuer.client.id, claims={"extra": [1, 2]})
    body = issuer.introspect(token).json()
    assert body["active"] is True
    assert body["extra"] == [1, 2]


def test_introspection_requires_basic_client_authentication(issuer: Issuer) -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/: introspection_endpoint_auth_methods_supported = client_secret_basic."""
    token = issuer.access_token()
    wrong = issuer.introspect(token, secret="wrong")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    post = issuer.http.post(
        f"{issuer.url}/introspect",
        data={"token": token, "client_id": issuer.client.id, "client_secret": issuer.secret},
    )
    assert post.status_code == 401


def test_introspection_without_token_parameter_is_invalid_request(issuer: Issuer) -> None:
    """RFC 7662 2.1: token is REQUIRED."""
    response = issuer.http.post(f"{issuer.url}/introspect", data={}, auth=(issuer.client.id, issuer.secret))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_revocation_revokes_and_answers_200(issuer: Issuer) -> None:
    """RFC 7009 2.1, 2.2: 200 and the token is revoked (introspection then says inactive)."""
    token = issuer.access_token()
    response = issuer.http.post(
        f"{issuer.url}/revoke", data={"token": token}, auth=(issuer.client.id, issuer.secret)
    )
    assert response.status_code == 200
    assert issuer.introspect(token).json() == {"active": False}
    record = issuer.emulator.store.get_token(decode_segments(token)[1]["jti"])
    assert record is not None and record.revoked


def test_revocation_of_unknown_token_answers_200(issuer: Issuer) -> None:
    """RFC 7009 2.2: invalid tokens do not cause an error response."""
    response = issuer.http.post(
        f"{issuer.url}/revoke", data={"token": "nonsense"}, auth=(issuer.client.id, issuer.secret)
    )
    assert response.status_code == 200


def test_revocation_needs_client_authentication(issuer: Issuer) -> None:
    """RFC 7009 2.1: the client authenticates; bad credentials give invalid_client."""
    token = issuer.access_token()
    response = issuer.http.post(
        f"{issuer.url}/revoke", data={"token": token}, auth=(issuer.client.id, "wrong")
    )
    assert response.status_code == 401
    assert issuer.introspect(token).json()["active"] is True


def test_revocation_by_another_client_is_refused(issuer: Issuer) -> None:
    """RFC 7009 2.1: the server verifies the token was issued to the requesting client."""
    token = issuer.access_token()
    other, secret = issuer.add_client()
    response = issuer.http.post(f"{issuer.url}/revoke", data={"token": token}, auth=(other.id, secret))
    assert response.status_code == 400
    assert issuer.introspect(token).json()["active"] is True


def test_userinfo_without_token_is_401_bearer_challenge(issuer: Issuer) -> None:
    """RFC 6750 3.1: no error attribute when the request had no token."""
    response = issuer.http.get(f"{issuer.url}/userinfo")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_userinfo_with_expired_token_is_invalid_token(issuer: Issuer) -> None:
    """RFC 6750 3.1 invalid_token; expiry by the virtual clock."""
    issuer.emulator.clock.freeze()
    token = issuer.access_token()
    issuer.emulator.clock.advance(10_000)
    response = issuer.http.get(f"{issuer.url}/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_userinfo_returns_sub(issuer: Issuer) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim: userinfo serves sub plus userinfo-only claims."""
    token = issuer.access_token()
    response = issuer.http.post(f"{issuer.url}/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"sub": issuer.client.id}


def test_discovery_lists_endpoints_and_metadata_scopes(issuer: Issuer) -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/: endpoints relative to the issuer; scopes_supported = openid + include_in_metadata."""
    store = issuer.emulator.store
    store.create_scope(issuer.server.id, name="listed", include_in_metadata=True)
    store.create_scope(issuer.server.id, name="hidden")
    doc = httpx.get(f"{issuer.url}/.well-known/openid-configuration").json()
    assert doc["issuer"] == issuer.url
    assert doc["token_endpoint"] == f"{issuer.url}/oauth/token"
    assert doc["introspection_endpoint"] == f"{issuer.url}/introspect"
    assert doc["jwks_uri"] == f"{issuer.url}/.well-known/jwks"
    assert doc["scopes_supported"] == ["openid", "listed"]
    assert doc["introspection_endpoint_auth_methods_supported"] == ["client_secret_basic"]
    assert "client_secret_basic" in doc["token_endpoint_auth_methods_supported"]
