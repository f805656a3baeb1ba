"""Issuance at Kong Identity: the token endpoint, the token's format and discovery (https://developer.konghq.com/api/konnect/kong-identity/v1/, B.2-B.4;
RFC 6749 2.3.1, 4.4, 5; RFC 9068). Scopes and claims are in test_issuer_scopes_claims.py, secrets rotation, token
records, introspection and revocation in test_issuer_secrets_revocation.py.
"""

from __future__ import annotations

import re

import jwt
import pytest
from fixtures import jose
from fixtures.tokens import TokenFactory
from jwt.types import Options

from kongformance.clients.issuer import IssuerClient
from kongformance.profile import TOKEN_LIFETIME, ProfileHandles

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NO_TIME_CHECKS: Options = {"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False}


# ------------------------------------------------------------------------------------------- token endpoint
@pytest.mark.requirement(
    "RFC6749-4.4.2-client-credentials", "RFC6749-2.3.1-client-secret-post", "RFC6749-5.1-token-response"
)
def test_issues_a_bearer_token_to_a_client_authenticated_in_the_body(tokens: TokenFactory) -> None:
    """RFC 6749 4.4.2 / 5.1; https://developer.konghq.com/identity/auth-servers/#kong-identity-client-credential-authentication-flow."""
    resp = tokens.response("default", auth="post")
    assert resp.status == 200, resp.text
    assert resp.body["token_type"].lower() == "bearer"
    assert isinstance(resp.body["expires_in"], int)
    assert resp.access_token.count(".") == 2


@pytest.mark.requirement("RFC6749-2.3.1-client-secret-basic", "RFC6749-4.4.2-client-credentials")
def test_issues_a_token_to_a_client_authenticated_with_http_basic(tokens: TokenFactory) -> None:
    """RFC 6749 2.3.1: client_secret_basic, advertised in discovery (https://developer.konghq.com/how-to/configure-kong-identity-oidc/)."""
    resp = tokens.response("default", auth="basic")
    assert resp.status == 200, resp.text
    assert resp.access_token


@pytest.mark.requirement("RFC6749-5.1-no-store")
def test_token_response_forbids_caching(tokens: TokenFactory) -> None:
    """RFC 6749 5.1: Cache-Control no-store on responses with tokens."""
    resp = tokens.response("default")
    assert "no-store" in resp.headers.get("cache-control", "").lower()


@pytest.mark.requirement("KI-B.3-expires-in")
def test_expires_in_reflects_the_clients_token_duration(tokens: TokenFactory) -> None:
    """https://developer.konghq.com/identity/auth-servers/#kong-identity-client-credential-authentication-flow: expires_in observed as duration or duration minus one."""
    assert tokens.response("default").body["expires_in"] in (TOKEN_LIFETIME - 1, TOKEN_LIFETIME)


@pytest.mark.requirement("KI-B.3-scope-omitted-when-none")
def test_token_response_has_no_scope_member_when_nothing_was_granted(tokens: TokenFactory) -> None:
    """https://developer.konghq.com/identity/auth-servers/#kong-identity-client-credential-authentication-flow (S10: no scope key when none requested)."""
    assert "scope" not in tokens.response("default").body


@pytest.mark.requirement("RFC6749-5.2-invalid-client")
@pytest.mark.parametrize("how", ["wrong-secret", "unknown-client", "no-secret", "wrong-secret-basic"])
def test_refuses_a_client_that_fails_authentication(
    issuer: IssuerClient, kf_profile: ProfileHandles, how: str
) -> None:
    """RFC 6749 5.2: invalid_client (401 when the client used HTTP Basic)."""
    creds = kf_profile.clients["default"]
    if how == "wrong-secret":
        resp = issuer.token(creds.id, creds.secret + "x")
    elif how == "unknown-client":
        resp = issuer.token("kf-no-such-client", creds.secret)
    elif how == "no-secret":
        resp = issuer.token(creds.id, None)
    else:
        resp = issuer.token(creds.id, "not-the-secret", auth="basic")
    # RFC 6749 5.2: invalid_client is 401 when the client authenticated with the Authorization header; otherwise
    # the server MAY answer 401, else 400 (recorded reason for the pair)
    assert resp.status in ((401,) if how.endswith("basic") else (400, 401)), resp.text
    assert resp.error == "invalid_client"
    assert "access_token" not in (resp.body or {})


@pytest.mark.requirement("RFC6749-5.2-unsupported-grant-type")
@pytest.mark.parametrize("grant", ["password", "authorization_code", "urn:example:unknown"])
def test_refuses_an_unsupported_grant_type(
    issuer: IssuerClient, kf_profile: ProfileHandles, grant: str
) -> None:
    """RFC 6749 5.2: unsupported_grant_type (client grants are client_credentials only, https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient)."""
    creds = kf_profile.clients["default"]
    resp = issuer.token(creds.id, creds.secret, grant_type=grant)
    assert resp.status == 400, resp.text
    assert resp.error in ("unsupported_grant_type", "unauthorized_client")


@pytest.mark.requirement("RFC6749-5.2-invalid-request")
def test_refuses_a_token_request_without_grant_type(issuer: IssuerClient, kf_profile: ProfileHandles) -> None:
    """RFC 6749 5.2: invalid_request when a required parameter is missing."""
    creds = kf_profile.clients["default"]
    resp = issuer.token(creds.id, creds.secret, grant_type=None)
    assert resp.status == 400, resp.text
    assert resp.error == "invalid_request"


# ------------------------------------------------------------------------------------------- token format
@pytest.mark.requirement("KI-B.4-jws-header")
def test_token_header_names_the_signing_algorithm_and_a_uuid_kid(tokens: TokenFactory) -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/: alg = signing_algorithm (RS256 default), typ JWT, UUID kid."""
    header = jwt.get_unverified_header(tokens.access_token())
    assert header["alg"] == "RS256"
    assert header["typ"] == "JWT"
    assert UUID_RE.match(header["kid"]), header


@pytest.mark.requirement("KI-B.4-registered-claims")
def test_token_carries_the_registered_claims_of_kong_identity(
    tokens: TokenFactory, kf_profile: ProfileHandles
) -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/: iss, sub = client_id, aud array, iat = nbf, exp = iat + duration, UUID jti."""
    claims = jose.claims_of(tokens.access_token())
    client = kf_profile.clients["default"].id
    assert claims["iss"] == kf_profile.auth_server.issuer
    assert claims["sub"] == client and claims["client_id"] == client
    assert claims["aud"] == [kf_profile.auth_server.audience]
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] - claims["iat"] == TOKEN_LIFETIME
    assert UUID_RE.match(claims["jti"])


@pytest.mark.requirement("KI-B.4-scope-claim")
def test_scope_claim_is_empty_when_nothing_was_granted(tokens: TokenFactory) -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/: scope "" when nothing granted."""
    assert jose.claims_of(tokens.access_token())["scope"] == ""


@pytest.mark.requirement("KI-B.4-jwks-verifies")
def test_token_signature_verifies_with_the_published_jwks(
    tokens: TokenFactory, issuer: IssuerClient, kf_profile: ProfileHandles
) -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/; RFC 7517 4.5: the kid selects the verifying key."""
    token = tokens.access_token()
    kid = jwt.get_unverified_header(token)["kid"]
    keys = [k for k in issuer.jwks()["keys"] if k.get("kid") == kid]
    assert len(keys) == 1, "the token's kid is not published exactly once"
    key = jwt.PyJWK(keys[0]).key
    jwt.decode(token, key, algorithms=["RS256"], options=NO_TIME_CHECKS)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
            key,
            algorithms=["RS256"],
            options=NO_TIME_CHECKS,
        )


@pytest.mark.requirement("KI-B.2-discovery")
def test_discovery_names_the_endpoints_under_the_issuer(
    issuer: IssuerClient, kf_profile: ProfileHandles
) -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/."""
    doc = issuer.discovery(fresh=True)
    iss = kf_profile.auth_server.issuer
    assert doc["issuer"] == iss
    for name, suffix in [
        ("token_endpoint", "/oauth/token"),
        ("introspection_endpoint", "/introspect"),
        ("revocation_endpoint", "/revoke"),
        ("jwks_uri", "/.well-known/jwks"),
    ]:
        assert doc[name] == iss + suffix, name


@pytest.mark.requirement("KI-B.2-scopes-supported")
def test_discovery_lists_only_scopes_marked_for_metadata(issuer: IssuerClient) -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/ and https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerScope: openid plus include_in_metadata scopes."""
    supported = set(issuer.discovery(fresh=True)["scopes_supported"])
    assert {"openid", "read", "profile"} <= supported
    assert not supported & {"write", "admin", "disabled"}
