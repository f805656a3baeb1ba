"""openid-connect with auth_methods [bearer]: presenting the token, authorization and upstream headers.

Expected answers from https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants (where the token is found), 1.6 (scopes and audience), 1.7 (error
matrix), 1.9 (upstream headers) and the RFCs they implement; negative cases follow
the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1) section 8 A (transport and header syntax). Verifying the token itself (B:
structure, C: algorithms and keys, D: registered claims, key rotation) is in
test_openid_connect_bearer_verification.py. Every refusal checks status, body, the parsed WWW-Authenticate and
that the upstream saw nothing.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fixtures.evidence import DeviationCheck
from fixtures.http import Proxy, Upstream
from fixtures.oracle import (
    assert_oidc_401,
    assert_oidc_403,
    assert_proxied,
)
from fixtures.tokens import Minter, TokenFactory

from kongformance.profile import ProfileHandles
from kongformance.run_checks import lacks_reason
from negative_flows import OIDC_BEARER, expect_refusal_or_recorded

FLOW = "oidc-bearer"
ROUTE = "oidc-bearer"


# ------------------------------------------------------------------------------------------- positive
@pytest.mark.requirement("KONG-OIDC-1.9-upstream-token")
def test_accepts_a_valid_token_and_forwards_it_upstream(proxy: Proxy, upstream: Upstream, token: str) -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: the upstream gets Authorization: Bearer <access token>."""
    result = proxy.request(ROUTE, token=token)
    assert_proxied(result, upstream)
    assert result.upstream_header("authorization") == f"Bearer {token}"


@pytest.mark.requirement("RFC9110-11.1-scheme-case", "KONG-OIDC-1.9-upstream-token")
@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_matches_the_bearer_scheme_case_insensitively(
    proxy: Proxy, upstream: Upstream, token: str, scheme: str
) -> None:
    """RFC 9110 11.1; anchors 8 A.9 (positive control); https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: rewritten as "Bearer <token>"."""
    result = proxy.request(ROUTE, token=token, auth_scheme=scheme)
    assert_proxied(result, upstream)
    assert result.upstream_header("authorization") == f"Bearer {token}"


@pytest.mark.requirement("KONG-OIDC-1.2-bearer-sources")
@pytest.mark.parametrize("where", ["query", "form"])
def test_finds_the_token_in_the_query_or_form_body(
    proxy: Proxy, upstream: Upstream, token: str, where: str
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: bearer_token_param_type defaults to body, header, query."""
    if where == "query":
        result = proxy.request(ROUTE, params={"access_token": token})
    else:
        result = proxy.request(ROUTE, "POST", data={"access_token": token})
    assert_proxied(result, upstream)


@pytest.mark.requirement("KONG-OIDC-1.9-hide-credentials", "KONG-OIDC-1.9-upstream-token")
def test_moves_a_query_token_into_the_authorization_header_and_hides_it(
    proxy: Proxy, upstream: Upstream, token: str, kf_stack: Any
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: the upstream gets Authorization: Bearer; hide_credentials (3.14+) drops the query arg."""
    result = proxy.request(ROUTE, params={"access_token": token, "keep": "1"})
    assert_proxied(result, upstream)
    seen = result.upstream_saw()
    assert result.upstream_header("authorization") == f"Bearer {token}"
    assert seen["args"].get("keep") == "1"
    assert ("access_token" in seen["args"]) is (kf_stack.version < (3, 14))


@pytest.mark.requirement("KONG-OIDC-1.2-bearer-sources", "RS-no-upstream-on-reject")
def test_ignores_a_query_token_when_only_the_header_is_searched(
    proxy: Proxy, upstream: Upstream, token: str, realm: str
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: bearer_token_param_type [header]; anchors 8 A.7."""
    assert_oidc_401(proxy.request("oidc-bearer-header-only", params={"access_token": token}), upstream, realm)


@pytest.mark.requirement("RFC6750-3-challenge-syntax")
@pytest.mark.parametrize("case", ["none", "garbage", "expired-format"])
def test_challenge_follows_the_rfc6750_grammar(proxy: Proxy, case: str, deviations: DeviationCheck) -> None:
    """RFC 6750 3 / RFC 9110 11.6.1: comma-separated auth-params (strict parse)."""
    result = proxy.request(ROUTE, token=None if case == "none" else "x.y.z" if case == "garbage" else "abc")
    deviations.check_challenge_syntax(result, flow=FLOW)


@pytest.mark.requirement("RFC6750-2.1-scheme", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("scheme", ["Basic", "Digest", "Token", "MAC", "DPoP"])
def test_refuses_a_valid_token_sent_with_another_scheme(
    proxy: Proxy, upstream: Upstream, token: str, realm: str, scheme: str
) -> None:
    """RFC 6750 2.1; anchors 8 A.2 (DPoP is read only when proof_of_possession_dpop is on, https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants)."""
    assert_oidc_401(proxy.request(ROUTE, token=token, auth_scheme=scheme), upstream, realm)


@pytest.mark.requirement("RFC6750-2-one-method")
def test_a_token_in_the_header_and_another_in_a_form_body_is_refused_or_a_recorded_deviation(
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    token: str,
    kf_profile: ProfileHandles,
    deviations: DeviationCheck,
) -> None:
    """RFC 6750 2; anchors 8 A.6 (header + query: test_negative_transport). Kong: the first token found wins
    (bearer_token_param_type order; recorded deviation oidc-first-token-wins): proxied exactly."""
    other = tokens.access_token("default")
    result = proxy.request(ROUTE, "POST", token=token, data={"access_token": other})
    expect_refusal_or_recorded(
        deviations,
        "RFC6750-2-one-method",
        OIDC_BEARER,
        result,
        upstream,
        kf_profile,
        detail="header and form",
    )


# ------------------------------------------------------------------------------------------- authorization (1.6)
@pytest.mark.requirement(
    "KONG-OIDC-1.6-scopes-required", "RFC6750-3.1-insufficient-scope", "KONG-OIDC-1.7-403-body"
)
@pytest.mark.parametrize(
    ("route", "scope", "allowed"),
    [
        ("oidc-bearer-scopes", "read", True),
        ("oidc-bearer-scopes", "write", False),
        ("oidc-bearer-scopes", None, False),
        ("oidc-bearer-scopes-and", "read write", True),
        ("oidc-bearer-scopes-and", "read", False),
        ("oidc-bearer-scopes-and", "write", False),
        ("oidc-bearer-scopes-or", "write", True),
        ("oidc-bearer-scopes-or", "read", False),
    ],
)
def test_enforces_required_scopes_with_403(
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    realm: str,
    route: str,
    scope: str | None,
    allowed: bool,
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization (alternatives OR, space-separated AND); RFC 6750 3.1 insufficient_scope."""
    result = proxy.request(route, token=tokens.access_token("default", scope=scope))
    if allowed:
        assert_proxied(result, upstream)
    else:
        assert_oidc_403(result, upstream, realm)


@pytest.mark.requirement("RFC6749-3.3-scope-exact", "KONG-OIDC-1.6-scopes-required")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize(
    "claims", [{"scope": "READ"}, {"scope": "reader"}, {"scope": None, "scp": "read"}, {"scope": "rea"}]
)
def test_matches_scopes_exactly_and_case_sensitively(
    proxy: Proxy, upstream: Upstream, mint: Minter, realm: str, claims: dict[str, Any]
) -> None:
    """RFC 6749 3.3; RFC 9068 2.2.3; anchors 8 D.57."""
    assert_oidc_403(
        proxy.request("oidc-bearer-scopes", token=mint.token(mint.claims(**claims))), upstream, realm
    )


@pytest.mark.requirement("RFC6749-3.3-scope-exact", "KONG-OIDC-1.6-scopes-required")
@pytest.mark.needs("issuer_control")
def test_accepts_scopes_given_as_an_array_claim(proxy: Proxy, upstream: Upstream, mint: Minter) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization: a claim value may be a space-delimited string or an array."""
    assert_proxied(
        proxy.request("oidc-bearer-scopes", token=mint.token(mint.claims(scope=["write", "read"]))), upstream
    )


@pytest.mark.requirement("KONG-OIDC-1.6-audience-required", "RFC9068-4-aud")
@pytest.mark.parametrize(
    ("route", "allowed"), [("oidc-bearer-audience", True), ("oidc-bearer-audience-other", False)]
)
def test_enforces_the_required_audience_with_403(
    proxy: Proxy, upstream: Upstream, token: str, realm: str, route: str, allowed: bool
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization: audience_required unmet gives 403."""
    result = proxy.request(route, token=token)
    if allowed:
        assert_proxied(result, upstream)
    else:
        assert_oidc_403(result, upstream, realm)


# ------------------------------------------------------------------------------------------- upstream headers (1.9)
@pytest.mark.requirement("KONG-OIDC-1.9-upstream-headers")
def test_forwards_claims_as_upstream_headers(proxy: Proxy, upstream: Upstream, tokens: TokenFactory) -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: strings as-is, numbers as strings, tables base64-encoded JSON."""
    result = proxy.request("oidc-bearer-headers", token=tokens.access_token("labelled"))
    assert_proxied(result, upstream)
    assert result.upstream_header("x-kf-always") == "always-value"
    assert result.upstream_header("x-kf-number") == "42"
    encoded = result.upstream_header("x-kf-json")
    assert encoded is not None
    assert json.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4))) == {"a": [1, 2], "b": True}
    assert result.upstream_header("x-kf-tier") == "gold"


@pytest.mark.requirement("KONG-OIDC-1.9-upstream-headers")
def test_clears_a_client_sent_header_when_its_claim_is_missing(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory, kf_stack: Any
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: cleared since 3.14 (and 3.10.0.10/3.11.0.9/3.12.0.5/3.13.0.3), passed through before
    3.10; https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates (a missing label drops the claim)."""
    if (3, 10) <= kf_stack.version < (3, 14):
        pytest.skip(
            lacks_reason(
                ["kong_version"],
                "depends on the patch release of 3.10-3.13 (https://developer.konghq.com/plugins/openid-connect/)",
            )
        )
    result = proxy.request(
        "oidc-bearer-headers", token=tokens.access_token("default"), headers={"X-KF-Tier": "forged"}
    )
    assert_proxied(result, upstream)
    expected = None if kf_stack.version >= (3, 14) else "forged"
    assert result.upstream_header("x-kf-tier") == expected
