"""Negative catalogue D (registered claims, token type, scopes) for the flows that take Kong Identity JWTs.

the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1)-D.57. Tokens are minted by the issuer emulator with its real key and edited
claims, so only the claim under test is wrong. openid-connect bearer checks them itself (https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow and https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization);
the introspection flows get the issuer's verdict (https://developer.konghq.com/how-to/configure-kong-identity-oauth-introspection/, https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow and https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from fixtures.tokens import Minter

from kongformance.profile import AUDIENCE
from negative_flows import (
    IDENTITY_FLOWS,
    INT_FLOWS,
    OIDC_BEARER,
    Flow,
    Judge,
    flow_params,
)

FLOWS = flow_params(IDENTITY_FLOWS)
SCOPE_ROUTES = {"oidc-bearer": "oidc-bearer-scopes", "oidc-introspection": "oidc-introspection-scopes"}

pytestmark = pytest.mark.needs("issuer_control")


def _without(mint: Minter, claim: str) -> str:
    """A validly signed token whose claim set lacks ``claim``."""
    removed: dict[str, Any] = {claim: None}
    return mint.token(mint.claims(**removed))


# ------------------------------------------------------------------------------------------- D.41 / D.42
@pytest.mark.requirement("RFC7519-4.1.4-exp", "RFC6750-3.1-invalid-token", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("ago", [1, 61, 86_400])
@pytest.mark.parametrize("flow", FLOWS)
def test_refuses_a_token_whose_exp_has_passed(flow: Flow, ago: int, mint: Minter, judge: Judge) -> None:
    """anchors 8 D.41, D.42 (now - 1 refused); RFC 7519 4.1.4; https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow (leeway 0)."""
    now = mint.now()
    token = mint.token(mint.claims(iat=now - ago - 60, nbf=now - ago - 60, exp=now - ago))
    judge.refusal(flow, judge.proxy.request(flow.route, token=token))


@pytest.mark.requirement("RFC7519-4.1.4-exp-boundary", "RFC7519-4.1.4-exp")
@pytest.mark.parametrize("flow", FLOWS)
def test_accepts_a_token_that_expires_shortly(flow: Flow, mint: Minter, judge: Judge) -> None:
    """anchors 8 D.42 (positive twin, exp in the near future); RFC 7519 4.1.4."""
    now = mint.now()
    judge.proxied(judge.proxy.request(flow.route, token=mint.token(mint.claims(exp=now + 20))))


# ------------------------------------------------------------------------------------------- D.43 / D.49
@pytest.mark.requirement("RFC9068-2.2-required-claims")
@pytest.mark.parametrize("claim", ["exp", "iss"])
@pytest.mark.parametrize("flow", FLOWS)
def test_a_token_without_exp_or_iss_is_refused_or_a_recorded_deviation(
    flow: Flow, claim: str, mint: Minter, judge: Judge
) -> None:
    """anchors 8 D.43, D.49; RFC 9068 2.2. https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: openid-connect checks them only when present."""
    result = judge.proxy.request(flow.route, token=_without(mint, claim))
    judge.refusal_or_recorded("RFC9068-2.2-required-claims", flow, result, detail=f"no {claim}")


# ------------------------------------------------------------------------------------------- D.44
@pytest.mark.requirement("RFC7519-2-numericdate", "RS-no-5xx", "RS-no-upstream-on-reject")
@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"exp": "9999999999"}, id="exp-string"),
        pytest.param({"exp": True}, id="exp-true"),
        pytest.param({"exp": [9999999999]}, id="exp-array"),
        pytest.param({"exp": {"t": 9999999999}}, id="exp-object"),
        pytest.param({"nbf": "0"}, id="nbf-string"),
        pytest.param({"nbf": False}, id="nbf-false"),
    ],
)
@pytest.mark.parametrize("flow", FLOWS)
def test_refuses_time_claims_that_are_not_numericdate_values(
    flow: Flow, claims: dict[str, Any], mint: Minter, judge: Judge
) -> None:
    """anchors 8 D.44; RFC 7519 2 (NumericDate), 4.1.4-4.1.6: refused, never a 5xx."""
    result = judge.proxy.request(flow.route, token=mint.token(mint.claims(**claims)))
    judge.refusal(flow, result)


# ------------------------------------------------------------------------------------------- D.45 / D.46
@pytest.mark.requirement("RFC7519-4.1.5-nbf", "RFC6750-3.1-invalid-token", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("ahead", [5, 120, 86_400])
@pytest.mark.parametrize("flow", FLOWS)
def test_refuses_a_token_that_is_not_yet_valid(flow: Flow, ahead: int, mint: Minter, judge: Judge) -> None:
    """anchors 8 D.45; RFC 7519 4.1.5; https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow (fails when now + leeway < nbf)."""
    now = mint.now()
    token = mint.token(mint.claims(nbf=now + ahead, exp=now + ahead + 60))
    judge.refusal(flow, judge.proxy.request(flow.route, token=token))


@pytest.mark.requirement("RFC7519-4.1.6-iat-future", "RFC6750-3.1-invalid-token", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("ahead", [60, 86_400, "now"])
def test_refuses_a_token_issued_in_the_future(ahead: int | str, mint: Minter, judge: Judge) -> None:
    """anchors 8 D.46, D.44 (a string iat); RFC 7519 4.1.6; https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow (openid-connect: future iat rejected).

    Only openid-connect reads iat; the issuer's introspection does not (https://developer.konghq.com/how-to/configure-kong-identity-oauth-introspection/).
    """
    now = mint.now()
    if isinstance(ahead, str):
        token = mint.token(mint.claims(iat=ahead))
    else:
        token = mint.token(mint.claims(iat=now + ahead, nbf=None, exp=now + ahead + 60))
    judge.refusal(OIDC_BEARER, judge.proxy.request(OIDC_BEARER.route, token=token))


# ------------------------------------------------------------------------------------------- D.48 / D.50
def _near_miss(issuer: str, mutation: str) -> str:
    u = urlparse(issuer)
    return {
        "scheme": issuer.replace(f"{u.scheme}://", "https://" if u.scheme == "http" else "http://", 1),
        "case": issuer.replace(u.path, u.path.upper(), 1),
        "port": issuer.replace(u.netloc, f"{u.hostname}:{(u.port or 443) + 1}", 1),
        "homoglyph": issuer.replace("/auth", "/\u0430uth", 1),  # Cyrillic a
        "suffix": issuer + "x",
        "prefix-only": issuer.rsplit("/", 1)[0],
        "other-tenant": issuer.replace(u.path, "/" + "a" * 16 + "/auth", 1),
    }[mutation]


@pytest.mark.requirement("RFC9068-4-iss", "RFC6750-3.1-invalid-token", "RS-no-upstream-on-reject")
@pytest.mark.parametrize(
    "mutation", ["scheme", "case", "port", "homoglyph", "suffix", "prefix-only", "other-tenant"]
)
@pytest.mark.parametrize("flow", FLOWS)
def test_refuses_a_correctly_signed_token_whose_iss_is_a_near_miss(
    flow: Flow, mutation: str, mint: Minter, judge: Judge
) -> None:
    """anchors 8 D.48, D.50; RFC 9068 4; RFC 8725 3.8; OIDC Core 3.1.3.7 rule 2 (exact match)."""
    iss = _near_miss(judge.handles.auth_server.issuer, mutation)
    assert iss != judge.handles.auth_server.issuer
    judge.refusal(flow, judge.proxy.request(flow.route, token=mint.token(mint.claims(iss=iss))))


# ------------------------------------------------------------------------------------------- D.51 / D.52
@pytest.mark.requirement("KONG-OIDC-1.6-audience-required", "RFC9068-4-aud", "KONG-OIDC-1.7-403-body")
@pytest.mark.parametrize(
    "aud",
    [
        pytest.param(AUDIENCE[:-1], id="prefix"),
        pytest.param(AUDIENCE + "x", id="superstring"),
        pytest.param(AUDIENCE.upper(), id="case"),
        pytest.param([AUDIENCE + "/"], id="trailing-slash"),
        pytest.param([], id="empty-array"),
        pytest.param(42, id="number"),
        pytest.param({"aud": AUDIENCE}, id="object"),
        pytest.param(None, id="missing"),
    ],
)
def test_refuses_with_403_a_token_whose_aud_misses_the_required_audience(
    aud: Any, mint: Minter, judge: Judge
) -> None:
    """anchors 8 D.51, D.52; RFC 7519 4.1.3; https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization (audience_required unmet gives 403)."""
    result = judge.proxy.request("oidc-bearer-audience", token=mint.token(mint.claims(aud=aud)))
    judge.forbidden(result)


@pytest.mark.requirement("KONG-OIDC-1.6-audience-required", "RFC9068-4-aud")
@pytest.mark.parametrize(
    "aud",
    [AUDIENCE, [AUDIENCE], ["https://other.example", AUDIENCE]],
    ids=["string", "array", "array-of-two"],
)
def test_accepts_a_token_whose_aud_contains_the_required_audience(
    aud: Any, mint: Minter, judge: Judge
) -> None:
    """anchors 8 D.52 (positive twin); RFC 7519 4.1.3 (aud a string or an array)."""
    judge.proxied(judge.proxy.request("oidc-bearer-audience", token=mint.token(mint.claims(aud=aud))))


# ------------------------------------------------------------------------------------------- D.54 / D.55
@pytest.mark.requirement("RFC9068-2.1-typ", "RFC6750-3.1-invalid-token", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("typ", ["logout+jwt", "secevent+jwt", "id_token+jwt", "JOSE", "application/jose"])
def test_refuses_a_token_whose_typ_is_not_an_access_token_type(typ: str, mint: Minter, judge: Judge) -> None:
    """anchors 8 D.54, D.55 (logout/ID token replayed); RFC 9068 2.1, 4; RFC 8725 3.11; https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow."""
    token = mint.token(mint.claims(), header={"typ": typ})
    judge.refusal(OIDC_BEARER, judge.proxy.request(OIDC_BEARER.route, token=token))


@pytest.mark.requirement("RFC9068-2.1-typ")
@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+jwt", "AT+JWT", None])
def test_accepts_the_access_token_types_kong_documents(typ: str | None, mint: Minter, judge: Judge) -> None:
    """anchors 8 D.54 (positive twin); https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: typ absent, JWT or at+jwt (case-insensitive)."""
    token = mint.token(mint.claims(), header={"typ": typ})
    judge.proxied(judge.proxy.request(OIDC_BEARER.route, token=token))


# ------------------------------------------------------------------------------------------- D.57
@pytest.mark.requirement(
    "RFC6749-3.3-scope-exact", "KONG-OIDC-1.6-scopes-required", "RFC6750-3.1-insufficient-scope"
)
@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"scope": "READ"}, id="upper-case"),
        pytest.param({"scope": "reader"}, id="longer"),
        pytest.param({"scope": "rea"}, id="prefix"),
        pytest.param({"scope": "read-only write"}, id="hyphenated"),
        pytest.param({"scope": None, "scp": "read"}, id="scp-claim"),
        pytest.param({"scope": "write,read"}, id="comma-separated"),
    ],
)
@pytest.mark.parametrize("flow", flow_params((OIDC_BEARER, INT_FLOWS[0])))
def test_grants_scopes_only_on_an_exact_case_sensitive_match(
    flow: Flow, claims: dict[str, Any], mint: Minter, judge: Judge
) -> None:
    """anchors 8 D.57; RFC 6749 3.3; RFC 9068 2.2.3; https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization (403 when scopes_required is unmet)."""
    result = judge.proxy.request(SCOPE_ROUTES[flow.name], token=mint.token(mint.claims(**claims)))
    judge.forbidden(result)


@pytest.mark.requirement("RFC6749-3.3-scope-exact", "KONG-OIDC-1.6-scopes-required")
@pytest.mark.parametrize(
    "scope", ["read", "write read", ["write", "read"]], ids=["string", "space-separated", "array"]
)
@pytest.mark.parametrize("flow", flow_params((OIDC_BEARER, INT_FLOWS[0])))
def test_grants_the_exact_scope_as_a_string_or_an_array(
    flow: Flow, scope: Any, mint: Minter, judge: Judge
) -> None:
    """anchors 8 D.57 (positive twin); https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization: a space-delimited string or an array."""
    result = judge.proxy.request(SCOPE_ROUTES[flow.name], token=mint.token(mint.claims(scope=scope)))
    judge.proxied(result)


# ------------------------------------------------------------------------------------------- D.53
@pytest.mark.requirement("RFC9068-2.2-sub-client-id-jti", "RS-no-5xx")
@pytest.mark.parametrize("claim", ["sub", "client_id", "jti"])
@pytest.mark.parametrize("flow", FLOWS)
def test_a_token_without_sub_client_id_or_jti_is_refused_or_a_departure(
    flow: Flow, claim: str, mint: Minter, judge: Judge
) -> None:
    """anchors 8 D.53; RFC 9068 2.2. https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: openid-connect checks only iss, exp, nbf and iat."""
    result = judge.proxy.request(flow.route, token=_without(mint, claim))
    judge.refusal_or_recorded("RFC9068-2.2-sub-client-id-jti", flow, result, detail=f"no {claim}")
