"""Access token format and the token response (https://developer.konghq.com/identity/auth-servers/#kong-identity-client-credential-authentication-flow and https://developer.konghq.com/how-to/configure-kong-identity-oidc/)."""

from __future__ import annotations

import uuid

import jwt
import pytest
from tests.identity_issuer.helpers import Issuer, decode_segments


def _jwks_key(issuer: Issuer, kid: str) -> jwt.PyJWK:
    keys = issuer.http.get(f"{issuer.url}/.well-known/jwks").json()["keys"]
    return jwt.PyJWK({k: v for k, v in next(k for k in keys if k["kid"] == kid).items()})


def test_token_header_has_alg_typ_and_uuid_kid(issuer: Issuer) -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/: header alg = signing_algorithm, typ JWT, kid a UUID."""
    header, _ = decode_segments(issuer.access_token())
    assert header["alg"] == "RS256"
    assert header["typ"] == "JWT"
    assert str(uuid.UUID(header["kid"])) == header["kid"]


def test_token_carries_the_observed_registered_claims(issuer: Issuer) -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/: iss, sub = client id, client_id, aud array, iat, nbf = iat, exp, jti, scope."""
    _, claims = decode_segments(issuer.access_token())
    assert set(claims) == {"iss", "sub", "client_id", "aud", "iat", "nbf", "exp", "jti", "scope"}
    assert claims["iss"] == issuer.url
    assert claims["sub"] == claims["client_id"] == issuer.client.id
    assert claims["aud"] == [issuer.server.audience]
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] - claims["iat"] == issuer.client.access_token_duration
    assert claims["scope"] == ""
    uuid.UUID(claims["jti"])


def test_exp_follows_the_client_access_token_duration(issuer: Issuer) -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/: exp - iat equals access_token_duration (observed 300/3600/60)."""
    client, secret = issuer.add_client(access_token_duration=3600)
    response = issuer.token(client.id, secret)
    _, claims = decode_segments(response.json()["access_token"])
    assert claims["exp"] - claims["iat"] == 3600
    assert response.json()["expires_in"] == 3599


def test_iat_follows_the_virtual_clock(issuer: Issuer) -> None:
    """Issue 2: issuance follows the virtual clock."""
    issuer.emulator.clock.freeze(1_800_000_000.7)
    _, claims = decode_segments(issuer.access_token())
    assert claims["iat"] == 1_800_000_000
    issuer.emulator.clock.advance(100)
    _, later = decode_segments(issuer.access_token())
    assert later["iat"] == 1_800_000_100


def test_token_response_has_bearer_type_expires_in_minus_one_and_no_store(issuer: Issuer) -> None:
    """https://developer.konghq.com/identity/auth-servers/#kong-identity-client-credential-authentication-flow: expires_in = duration - 1; no scope key when none granted; RFC 6749 5.1 no-store."""
    response = issuer.token()
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 299
    assert response.headers["cache-control"] == "no-store"


def test_jti_differs_between_tokens(issuer: Issuer) -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/: jti is a fresh UUID per token."""
    first = decode_segments(issuer.access_token())[1]["jti"]
    second = decode_segments(issuer.access_token())[1]["jti"]
    assert first != second


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"])
def test_token_is_signed_with_the_server_algorithm_and_verifies_against_jwks(
    issuer: Issuer, alg: str
) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/ signing_algorithm enum; B.4 JWKS at {issuer}/.well-known/jwks."""
    issuer.emulator.store.update_server(issuer.server.id, {"signing_algorithm": alg})
    token = issuer.access_token()
    header, _ = decode_segments(token)
    assert header["alg"] == alg
    key = _jwks_key(issuer, header["kid"])
    claims = jwt.decode(token, key.key, algorithms=[alg], audience=issuer.server.audience, issuer=issuer.url)
    assert claims["client_id"] == issuer.client.id


def test_token_signed_by_one_server_does_not_verify_with_another_servers_jwks(issuer: Issuer) -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/: each auth server has its own keys."""
    other = issuer.emulator.store.create_server(name=f"other-{uuid.uuid4()}", audience="x")
    other_keys = issuer.http.get(f"{issuer.emulator.issuer_url_for(other)}/.well-known/jwks").json()["keys"]
    token = issuer.access_token()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, jwt.PyJWK(other_keys[0]).key, algorithms=["RS256"], options={"verify_aud": False})


def test_unknown_issuer_key_answers_404(issuer: Issuer) -> None:
    """https://developer.konghq.com/identity/auth-servers/: only existing auth servers have issuer endpoints."""
    base = issuer.url.rsplit("/", 2)[0]
    response = issuer.http.get(f"{base}/0000000000000000/auth/.well-known/openid-configuration")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
