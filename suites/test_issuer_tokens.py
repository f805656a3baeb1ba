"""Issuance at Kong Identity: token endpoint, token format, scopes, the four claim modes, templated claims,
secrets rotation, introspection and revocation (kong-identity.md A, B, C; RFC 6749, 7662, 7009).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from fixtures.timing import ClockControl
from fixtures.tokens import TokenFactory
from hypothesis import given
from hypothesis import strategies as st

from kongformance.clients.identity_api import IdentityApi
from kongformance.clients.issuer import IssuerClient
from kongformance.profile import TOKEN_LIFETIME, ProfileHandles

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NO_TIME_CHECKS = {"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False}


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def granted(token: str) -> set[str]:
    return set(claims_of(token)["scope"].split())


# ------------------------------------------------------------------------------------------- token endpoint
@pytest.mark.requirement(
    "RFC6749-4.4.2-client-credentials", "RFC6749-2.3.1-client-secret-post", "RFC6749-5.1-token-response"
)
def test_issues_a_bearer_token_to_a_client_authenticated_in_the_body(tokens: TokenFactory) -> None:
    """RFC 6749 4.4.2 / 5.1; kong-identity.md B.3."""
    resp = tokens.response("default", auth="post")
    assert resp.status == 200, resp.text
    assert resp.body["token_type"].lower() == "bearer"
    assert isinstance(resp.body["expires_in"], int)
    assert resp.access_token.count(".") == 2


@pytest.mark.requirement("RFC6749-2.3.1-client-secret-basic", "RFC6749-4.4.2-client-credentials")
def test_issues_a_token_to_a_client_authenticated_with_http_basic(tokens: TokenFactory) -> None:
    """RFC 6749 2.3.1: client_secret_basic, advertised in discovery (kong-identity.md B.2)."""
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
    """kong-identity.md B.3: expires_in observed as duration or duration minus one."""
    assert tokens.response("default").body["expires_in"] in (TOKEN_LIFETIME - 1, TOKEN_LIFETIME)


@pytest.mark.requirement("KI-B.3-scope-omitted-when-none")
def test_token_response_has_no_scope_member_when_nothing_was_granted(tokens: TokenFactory) -> None:
    """kong-identity.md B.3 (S10: no scope key when none requested)."""
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
    assert resp.status in ((401,) if how.endswith("basic") else (400, 401)), resp.text
    assert resp.error == "invalid_client"
    assert "access_token" not in (resp.body or {})


@pytest.mark.requirement("RFC6749-5.2-unsupported-grant-type")
@pytest.mark.parametrize("grant", ["password", "authorization_code", "urn:example:unknown"])
def test_refuses_an_unsupported_grant_type(
    issuer: IssuerClient, kf_profile: ProfileHandles, grant: str
) -> None:
    """RFC 6749 5.2: unsupported_grant_type (client grants are client_credentials only, kong-identity.md A.6)."""
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
    """kong-identity.md B.4: alg = signing_algorithm (RS256 default), typ JWT, UUID kid."""
    header = jwt.get_unverified_header(tokens.access_token())
    assert header["alg"] == "RS256"
    assert header["typ"] == "JWT"
    assert UUID_RE.match(header["kid"]), header


@pytest.mark.requirement("KI-B.4-registered-claims")
def test_token_carries_the_registered_claims_of_kong_identity(
    tokens: TokenFactory, kf_profile: ProfileHandles
) -> None:
    """kong-identity.md B.4: iss, sub = client_id, aud array, iat = nbf, exp = iat + duration, UUID jti."""
    claims = claims_of(tokens.access_token())
    client = kf_profile.clients["default"].id
    assert claims["iss"] == kf_profile.auth_server.issuer
    assert claims["sub"] == client and claims["client_id"] == client
    assert claims["aud"] == [kf_profile.auth_server.audience]
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] - claims["iat"] == TOKEN_LIFETIME
    assert UUID_RE.match(claims["jti"])


@pytest.mark.requirement("KI-B.4-scope-claim")
def test_scope_claim_is_empty_when_nothing_was_granted(tokens: TokenFactory) -> None:
    """kong-identity.md B.4: scope "" when nothing granted."""
    assert claims_of(tokens.access_token())["scope"] == ""


@pytest.mark.requirement("KI-B.4-jwks-verifies")
def test_token_signature_verifies_with_the_published_jwks(
    tokens: TokenFactory, issuer: IssuerClient, kf_profile: ProfileHandles
) -> None:
    """kong-identity.md B.4; RFC 7517 4.5: the kid selects the verifying key."""
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
    """kong-identity.md B.2."""
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
    """kong-identity.md B.2, A.4: openid plus include_in_metadata scopes."""
    supported = set(issuer.discovery(fresh=True)["scopes_supported"])
    assert {"openid", "read", "profile"} <= supported
    assert not supported & {"write", "admin", "disabled"}


# ------------------------------------------------------------------------------------------- scopes
@pytest.mark.requirement("KI-B.5-requested-allowed", "RFC6749-3.3-scope-string")
def test_grants_requested_scopes_the_client_may_use_as_a_space_delimited_list(tokens: TokenFactory) -> None:
    """RFC 6749 3.3; kong-identity.md B.5."""
    resp = tokens.response("default", scope="read write")
    assert set(resp.body["scope"].split()) == {"read", "write"}
    assert set(claims_of(resp.access_token)["scope"].split(" ")) == {"read", "write"}


@pytest.mark.requirement("KI-B.5-disabled-scope", "RFC6749-5.2-invalid-scope")
def test_never_grants_a_disabled_scope(tokens: TokenFactory) -> None:
    """kong-identity.md A.4: disabled scopes cannot be requested and never appear in tokens."""
    resp = tokens.response("default", scope="read disabled")
    if resp.ok:
        assert "disabled" not in granted(resp.access_token)
    else:
        assert resp.status == 400 and resp.error == "invalid_scope"


@pytest.mark.requirement("KI-B.5-disallowed-scope", "RFC6749-5.2-invalid-scope")
@pytest.mark.parametrize("scope", ["admin", "read admin", "kf-unknown-scope"])
def test_never_grants_a_scope_outside_the_clients_allowed_set(tokens: TokenFactory, scope: str) -> None:
    """kong-identity.md B.5; RFC 6749 5.2 invalid_scope (error or silent drop: open question 1)."""
    resp = tokens.response("default", scope=scope)
    if resp.ok:
        assert not granted(resp.access_token) & {"admin", "kf-unknown-scope"}
    else:
        assert resp.status == 400 and resp.error == "invalid_scope"


@pytest.mark.requirement("KI-B.5-default-scope")
def test_grants_a_default_scope_without_it_being_requested(tokens: TokenFactory) -> None:
    """kong-identity.md A.4/B.5: default scopes the client may use are always granted."""
    assert "profile" in granted(tokens.access_token("all_scopes"))
    assert "profile" in granted(tokens.access_token("all_scopes", scope="read"))


@pytest.mark.requirement("KI-B.5-default-scope", "KI-B.5-disallowed-scope")
def test_does_not_grant_a_default_scope_the_client_may_not_use(tokens: TokenFactory) -> None:
    """kong-identity.md A.4: default scopes are granted only if the client may use them."""
    assert "profile" not in granted(tokens.access_token("default", scope="read"))


@pytest.mark.requirement("KI-B.5-allow-all-scopes")
def test_a_client_allowed_all_scopes_may_get_any_enabled_scope(tokens: TokenFactory) -> None:
    """kong-identity.md A.6: allow_all_scopes."""
    assert {"admin", "write"} <= granted(tokens.access_token("all_scopes", scope="admin write"))


# ------------------------------------------------------------------------------------------- claim modes
@pytest.mark.requirement("KI-B.6-claim-always")
@pytest.mark.parametrize("scope", [None, "read", "write"])
def test_includes_an_always_claim_in_every_token(tokens: TokenFactory, scope: str | None) -> None:
    """kong-identity.md A.5 mode "always"."""
    assert claims_of(tokens.access_token(scope=scope))["kf_always"] == "always-value"


@pytest.mark.requirement("KI-B.6-claim-for-scope")
@pytest.mark.parametrize(
    ("scope", "present"), [("read", True), ("read write", True), ("write", False), (None, False)]
)
def test_includes_a_scope_bound_claim_only_when_its_scope_is_granted(
    tokens: TokenFactory, scope: str | None, present: bool
) -> None:
    """kong-identity.md A.5 mode "only for specific scopes"."""
    assert ("kf_read" in claims_of(tokens.access_token(scope=scope))) is present


@pytest.mark.requirement("KI-B.6-claim-no-scope")
@pytest.mark.parametrize(("scope", "present"), [(None, True), ("read", False), ("write", False)])
def test_includes_a_no_scope_claim_only_when_no_scope_was_requested(
    tokens: TokenFactory, scope: str | None, present: bool
) -> None:
    """kong-identity.md A.5 mode "only when the client requests no scope"."""
    assert ("kf_noscope" in claims_of(tokens.access_token(scope=scope))) is present


@pytest.mark.requirement("KI-B.6-claim-never")
@pytest.mark.parametrize("scope", [None, "read"])
def test_never_puts_a_userinfo_only_claim_in_the_token(tokens: TokenFactory, scope: str | None) -> None:
    """kong-identity.md A.5 mode "never in token"."""
    assert "kf_never" not in claims_of(tokens.access_token(scope=scope))


@pytest.mark.requirement("KI-A.5-disabled-claim")
def test_never_includes_a_disabled_claim(tokens: TokenFactory) -> None:
    """kong-identity.md A.5: disabled claims appear in no token."""
    assert "kf_disabled" not in claims_of(tokens.access_token("all_scopes", scope="read write admin"))


# ------------------------------------------------------------------------------------------- templating
@pytest.mark.requirement("KI-C.2-static-claim", "KI-C.5-json-typing")
def test_types_static_claim_values_as_json(tokens: TokenFactory) -> None:
    """kong-identity.md C.5: "42" -> 42, a JSON object stays an object."""
    claims = claims_of(tokens.access_token())
    assert claims["kf_number"] == 42
    assert claims["kf_json"] == {"a": [1, 2], "b": True}


@pytest.mark.requirement("KI-C.3-template-context", "KI-C.8-functions")
def test_renders_templates_against_the_client_and_auth_server(
    tokens: TokenFactory, kf_profile: ProfileHandles
) -> None:
    """kong-identity.md C.3/C.8: .Client.Name, upper, concatenation of two actions."""
    claims = claims_of(tokens.access_token("default"))
    client = kf_profile.clients["default"]
    assert claims["kf_tpl_name"] == client.name
    assert claims["kf_tpl_upper"] == client.name.upper()
    assert claims["kf_tpl_concat"] == f"{kf_profile.auth_server.audience}-{client.id}"


@pytest.mark.requirement("KI-C.6-missing-label", "KI-C.3-template-context")
def test_drops_a_claim_whose_template_reads_a_missing_label(tokens: TokenFactory) -> None:
    """kong-identity.md C.6: the claim is absent, the token still issued; a labelled client gets the value."""
    assert "kf_tpl_tier" not in claims_of(tokens.access_token("default"))
    assert claims_of(tokens.access_token("labelled"))["kf_tpl_tier"] == "gold"


@pytest.mark.requirement("KI-C.8-functions")
def test_uuidv4_claim_is_a_fresh_version_4_uuid_per_token(tokens: TokenFactory) -> None:
    """kong-identity.md C.8/C.9: ${ uuidv4 } is a new v4 UUID per token."""
    a, b = (claims_of(tokens.access_token())["kf_tpl_uuid"] for _ in range(2))
    assert a != b
    assert uuid.UUID(a).version == 4 and uuid.UUID(b).version == 4


@pytest.mark.requirement("KI-C.5-json-typing")
def test_to_json_output_becomes_an_array_claim(tokens: TokenFactory) -> None:
    """kong-identity.md C.5: `... | toJson` producing an array gives an array claim."""
    assert claims_of(tokens.access_token())["kf_tpl_list"] == ["a", "b"]


@pytest.mark.requirement("KI-A.9-test-claim", "KI-C.6-missing-label")
def test_test_claim_renders_templates_and_omits_failing_ones(
    identity_api: IdentityApi, kf_profile: ProfileHandles
) -> None:
    """kong-identity.md A.9/C.7: typed results; a missing label is omitted, not an error."""
    client = kf_profile.clients["default"]
    out = identity_api.test_claim(
        kf_profile.auth_server.id,
        client.id,
        {
            "name": "${ .Client.Name }",
            "n": "7",
            "missing": "${ .Client.Labels.nope }",
            "arr": "${ list 1 2 | toJson }",
        },
    )
    assert out == {"name": client.name, "n": 7, "arr": [1, 2]}


SAFE_TEXT = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters="-_.:/ "),
    min_size=1,
    max_size=40,
)


def _typed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


@pytest.mark.requirement("KI-C.2-static-claim", "KI-C.5-json-typing", "KI-A.9-test-claim")
@given(
    value=SAFE_TEXT.filter(
        lambda t: (
            t == t.strip()
            and t.lower() not in ("null", "nan", "infinity", "-infinity")
            and not (t.isdigit() and len(t) > 15)
        )
    )
)
def test_static_claim_values_round_trip_through_test_claim(
    identity_api: IdentityApi, kf_profile: ProfileHandles, value: str
) -> None:
    """kong-identity.md C.9: text without actions renders verbatim, then JSON-typed (C.5)."""
    out = identity_api.test_claim(kf_profile.auth_server.id, kf_profile.clients["default"].id, {"v": value})
    assert out == {"v": _typed(value)}


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


@pytest.mark.requirement("KI-C.8-functions", "KI-A.9-test-claim")
@given(x=WORD, y=WORD)
def test_concatenated_actions_render_as_the_concatenation_of_their_parts(
    identity_api: IdentityApi, kf_profile: ProfileHandles, x: str, y: str
) -> None:
    """kong-identity.md C.9: ${ X }-${ Y } == render(X) + "-" + render(Y)."""
    out = identity_api.test_claim(
        kf_profile.auth_server.id, kf_profile.clients["default"].id, {"v": f'${{ "{x}" }}-${{ upper "{y}" }}'}
    )
    assert out == {"v": f"{x}-{y.upper()}"}


@pytest.mark.requirement("KI-C.8-functions", "KI-A.9-test-claim")
@given(n=st.integers(min_value=1, max_value=64))
def test_rand_alpha_num_renders_n_alphanumerics(
    identity_api: IdentityApi, kf_profile: ProfileHandles, n: int
) -> None:
    """kong-identity.md C.8/C.9: randAlphaNum n has length n (typed as JSON when it happens to be a number)."""
    out = identity_api.test_claim(
        kf_profile.auth_server.id, kf_profile.clients["default"].id, {"v": f"${{ randAlphaNum {n} }}"}
    )
    value = out["v"]
    if isinstance(value, str):
        assert re.fullmatch(r"[A-Za-z0-9]+", value) and len(value) == n, value
    else:  # all digits (or digits with an e) happens, and JSON typing then makes it a number (C.5)
        assert isinstance(value, (int, float)) and not isinstance(value, bool)


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
    """kong-identity.md A.7 (rotation recipe S5): create second, both work, disable/delete old, third refused."""
    sid, cid, old = kf_profile.auth_server.id, rotation_client["id"], rotation_client["client_secret"]
    created = identity_api.create_secret(sid, cid)
    assert created.status_code == 201, created.text
    new = created.json()["secret"]
    assert issuer.token(cid, old).ok and issuer.token(cid, new).ok
    third = identity_api.create_secret(sid, cid)
    assert third.status_code in (400, 403, 409), "a third active secret was accepted"
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
    """kong-identity.md A.8: token id is the jti; granted_scope_names recorded."""
    claims = claims_of(tokens.access_token("labelled", scope="read"))
    records = identity_api.list_tokens(kf_profile.auth_server.id, kf_profile.clients["labelled"].id)
    mine = [r for r in records if r["id"] == claims["jti"]]
    assert len(mine) == 1
    assert mine[0]["granted_scope_names"] == ["read"]


@pytest.mark.requirement("RFC7662-2.2-active")
def test_introspection_reports_a_valid_token_active_with_its_claims(
    issuer: IssuerClient, tokens: TokenFactory, kf_profile: ProfileHandles
) -> None:
    """RFC 7662 2.2; kong-identity.md B.7 (client_id and custom claims in the answer)."""
    gw = kf_profile.clients["gateway"]
    resp = issuer.introspect(tokens.access_token(scope="read"), gw.id, gw.secret)
    assert resp.status == 200
    assert resp.body["active"] is True
    assert resp.body["client_id"] == kf_profile.clients["default"].id
    assert resp.body["scope"] == "read"


@pytest.mark.requirement("RFC7662-2.2-inactive")
@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", ""])
def test_introspection_reports_an_unknown_token_inactive(
    issuer: IssuerClient, kf_profile: ProfileHandles, token: str
) -> None:
    """RFC 7662 2.2: active=false and nothing else for tokens it does not know."""
    gw = kf_profile.clients["gateway"]
    resp = issuer.introspect(token, gw.id, gw.secret)
    if token == "":
        assert resp.status in (200, 400)
        if resp.status == 400:
            return
    assert resp.status == 200 and resp.body == {"active": False}


@pytest.mark.requirement("RFC7662-2.2-inactive")
@pytest.mark.needs("issuer_control")
def test_introspection_reports_a_token_signed_by_an_unknown_key_inactive(
    issuer: IssuerClient, kf_profile: ProfileHandles, mint: Any
) -> None:
    """RFC 7662 2.2: a foreign token (not issued by this server) is inactive."""
    gw = kf_profile.clients["gateway"]
    resp = issuer.introspect(mint.token(mint.claims(), key="unknown"), gw.id, gw.secret)
    assert resp.status == 200 and resp.body["active"] is False


@pytest.mark.requirement("RFC7662-2.2-inactive", "RFC7519-4.1.4-exp")
def test_introspection_reports_an_expired_token_inactive(
    issuer: IssuerClient, tokens: TokenFactory, kf_profile: ProfileHandles, clock: ClockControl
) -> None:
    """RFC 7662 2.2: active implies not expired (virtual clock locally; polling on real targets)."""
    gw = kf_profile.clients["gateway"]
    token = tokens.access_token()
    assert issuer.introspect(token, gw.id, gw.secret).body["active"] is True
    clock.advance(TOKEN_LIFETIME + 1)
    assert issuer.introspect(token, gw.id, gw.secret).body["active"] is False


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
    """kong-identity.md A.8: DELETE of a token = revoke; introspection then says inactive (B.7)."""
    gw = kf_profile.clients["gateway"]
    token = tokens.access_token("labelled")
    identity_api.revoke_token(
        kf_profile.auth_server.id, kf_profile.clients["labelled"].id, claims_of(token)["jti"]
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
