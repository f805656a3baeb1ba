"""Kong Identity after issuance: client secret rotation, token records, introspection and revocation
(https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createClientSecret and https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/listAuthServerClientTokens; RFC 7662, RFC 7009).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fixtures import jose
from fixtures.evidence import DeviationCheck
from fixtures.forge import Forger
from fixtures.timing import Expiring, ExpiryEnv, Prepared, expiry_check
from fixtures.tokens import TokenFactory

from kongformance.clients.identity_api import IdentityApi
from kongformance.clients.issuer import IssuerClient
from kongformance.profile import ProfileHandles


# ------------------------------------------------------------------------------------------- secrets rotation
@pytest.fixture
def rotation_client(
    identity_api: IdentityApi, kf_profile: ProfileHandles, unique_name: str
) -> Iterator[dict[str, Any]]:
    created = identity_api.create_client(
        kf_profile.auth_server.id, unique_name, allow_scopes=[kf_profile.scopes["read"]]
    )
    yield created
    identity_api.delete_client(kf_profile.auth_server.id, created["id"])


@pytest.mark.requirement("KI-A.7-secret-rotation", "KI-A.7-two-active-secrets")
def test_rotates_client_secrets_with_at_most_two_active(
    identity_api: IdentityApi,
    issuer: IssuerClient,
    kf_profile: ProfileHandles,
    rotation_client: dict[str, Any],
    unique_name: str,
) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createClientSecret (rotation recipe S5): create second, both work, disable/delete old, third refused."""
    sid, cid, old = kf_profile.auth_server.id, rotation_client["id"], rotation_client["client_secret"]
    created = identity_api.create_secret(sid, cid)
    assert created.status_code == 201, created.text
    new = created.json()["secret"]
    assert issuer.token(cid, old).ok and issuer.token(cid, new).ok
    third = identity_api.create_secret(sid, cid)
    # Kong Identity's API reference (https://developer.konghq.com/api/konnect/kong-identity/v1/, POST
    # .../clients/{clientId}/secrets) documents 400 and 403 for a refused create and says no more: either meets
    # KI-A.7 (a third active secret is refused), anything else (201, 409, 5xx) fails.
    assert third.status_code in (400, 403), f"a third active secret: {third.status_code} {third.text[:200]!r}"
    old_id = next(s["id"] for s in identity_api.list_secrets(sid, cid) if s["id"] != created.json()["id"])
    identity_api.set_secret_enabled(sid, cid, old_id, False)
    assert issuer.token(cid, old).error == "invalid_client"
    assert issuer.token(cid, new).ok
    identity_api.delete_secret(sid, cid, old_id)
    assert issuer.token(cid, old).error == "invalid_client"


# ------------------------------------------------------------------------------------------- records, introspection, revocation
@pytest.mark.requirement("KI-A.8-token-records")
def test_lists_each_issued_token_under_its_client_by_jti(
    identity_api: IdentityApi, tokens: TokenFactory, kf_profile: ProfileHandles
) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/listAuthServerClientTokens: token id is the jti; granted_scope_names recorded."""
    claims = jose.claims_of(tokens.access_token("labelled", scope="read"))
    records = identity_api.list_tokens(kf_profile.auth_server.id, kf_profile.clients["labelled"].id)
    mine = [r for r in records if r["id"] == claims["jti"]]
    assert len(mine) == 1
    assert mine[0]["granted_scope_names"] == ["read"]


@pytest.mark.requirement("RFC7662-2.2-active")
def test_introspection_reports_a_valid_token_active_with_its_claims(
    issuer: IssuerClient, tokens: TokenFactory, kf_profile: ProfileHandles
) -> None:
    """RFC 7662 2.2; https://developer.konghq.com/how-to/configure-kong-identity-oauth-introspection/ (client_id and custom claims in the answer)."""
    gw = kf_profile.clients["gateway"]
    resp = issuer.introspect(tokens.access_token(scope="read"), gw.id, gw.secret)
    assert resp.status == 200
    assert resp.body["active"] is True
    assert resp.body["client_id"] == kf_profile.clients["default"].id
    assert resp.body["scope"] == "read"


@pytest.mark.requirement("RFC7662-2.2-inactive")
@pytest.mark.parametrize("token", ["not-a-token", "a.b.c"])
def test_introspection_reports_an_unknown_token_inactive(
    issuer: IssuerClient, kf_profile: ProfileHandles, token: str
) -> None:
    """RFC 7662 2.2: active=false and nothing else for tokens it does not know."""
    gw = kf_profile.clients["gateway"]
    resp = issuer.introspect(token, gw.id, gw.secret)
    assert resp.status == 200 and resp.body == {"active": False}, (resp.status, resp.body)


@pytest.mark.requirement("RFC7662-2.2-inactive")
def test_introspection_of_an_empty_token_is_recorded_as_open(
    issuer: IssuerClient, kf_profile: ProfileHandles, deviations: DeviationCheck
) -> None:
    """RFC 7662 2.1 (token REQUIRED) and 2.2: an empty token is either a request error (400 invalid_request,
    RFC 6749 5.2) or an unknown token (200 active=false); no Kong source says which Kong Identity answers, so the
    answer must be one of those two exactly and is recorded as open (not credited)."""
    gw = kf_profile.clients["gateway"]
    resp = issuer.introspect("", gw.id, gw.secret)
    if resp.status == 400:
        assert resp.error == "invalid_request", resp.body
    else:
        assert resp.status == 200 and resp.body == {"active": False}, (resp.status, resp.body)
    deviations.record_open("RFC7662-2.2-inactive", f"issuer: an empty token is answered {resp.status}")


@pytest.mark.requirement("RFC7662-2.2-inactive")
def test_introspection_reports_a_token_signed_by_an_unknown_key_inactive(
    issuer: IssuerClient, kf_profile: ProfileHandles, forge: Forger
) -> None:
    """RFC 7662 2.2: a foreign token (not issued by this server) is inactive."""
    gw = kf_profile.clients["gateway"]
    resp = issuer.introspect(forge.attacker_signed(), gw.id, gw.secret)
    assert resp.status == 200 and resp.body["active"] is False


def prepare_active(env: ExpiryEnv) -> Prepared:
    """A token the issuer reports active now; due one second past its exp."""
    gw = env.profile.clients["gateway"]
    token = env.tokens.access_token()
    assert env.fixture("issuer").introspect(token, gw.id, gw.secret).body["active"] is True
    return Prepared(token, float(jose.payload_of(token)["exp"]) + 1)


@pytest.mark.requirement("RFC7662-2.2-inactive", "RFC7519-4.1.4-exp")
@expiry_check(prepare_active)
def test_introspection_reports_an_expired_token_inactive(
    issuer: IssuerClient, kf_profile: ProfileHandles, expiring: Expiring
) -> None:
    """RFC 7662 2.2: active implies not expired (virtual clock locally; the run's one shared wait elsewhere)."""
    gw = kf_profile.clients["gateway"]
    expiring.wait()
    assert issuer.introspect(expiring.state, gw.id, gw.secret).body["active"] is False


@pytest.mark.requirement("RFC7662-2.1-client-auth")
@pytest.mark.parametrize("auth", ["none", "wrong"])
def test_introspection_requires_client_authentication(
    issuer: IssuerClient, tokens: TokenFactory, kf_profile: ProfileHandles, auth: str
) -> None:
    """RFC 7662 2.1: the endpoint requires authentication; no claims leak to an unauthenticated caller."""
    token = tokens.access_token()
    url = issuer.endpoint("introspection_endpoint", "/introspect")
    headers = {} if auth == "none" else {"Authorization": "Basic " + "a2Y6bm9wZQ=="}
    resp = issuer.http.post(url, data={"token": token}, headers=headers)
    assert resp.status_code == 401
    assert "client_id" not in resp.text


@pytest.mark.requirement("KI-A.8-revocation", "RFC7662-2.2-inactive")
def test_deleting_a_token_record_revokes_it(
    identity_api: IdentityApi, issuer: IssuerClient, tokens: TokenFactory, kf_profile: ProfileHandles
) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/listAuthServerClientTokens: DELETE of a token = revoke; introspection then says inactive (B.7)."""
    gw = kf_profile.clients["gateway"]
    token = tokens.access_token("labelled")
    identity_api.revoke_token(
        kf_profile.auth_server.id, kf_profile.clients["labelled"].id, jose.claims_of(token)["jti"]
    )
    assert issuer.introspect(token, gw.id, gw.secret).body["active"] is False


@pytest.mark.requirement("RFC7009-2.2-revocation")
def test_revocation_endpoint_revokes_a_token(
    issuer: IssuerClient, tokens: TokenFactory, kf_profile: ProfileHandles
) -> None:
    """RFC 7009 2.1/2.2: 200, then the token is no longer active."""
    creds, gw = kf_profile.clients["default"], kf_profile.clients["gateway"]
    token = tokens.access_token()
    assert issuer.revoke(token, creds.id, creds.secret).status == 200
    assert issuer.introspect(token, gw.id, gw.secret).body["active"] is False


@pytest.mark.requirement("RFC7009-2.2-revocation")
def test_revocation_answers_200_for_an_unknown_token(
    issuer: IssuerClient, kf_profile: ProfileHandles
) -> None:
    """RFC 7009 2.2: invalid tokens do not cause an error response."""
    creds = kf_profile.clients["default"]
    assert issuer.revoke("kf-unknown-token", creds.id, creds.secret).status == 200
