"""openid-connect with auth_methods [bearer]: how the gateway verifies a Kong Identity JWT access token.

Expected answers from https://developer.konghq.com/plugins/openid-connect/#discovery-cache (discovery, JWKS and rediscovery), 1.4 (signature and claims), 1.7
(error matrix) and the RFCs they implement; negative cases follow the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1) section 8
(B: structure, C: algorithms and keys, D: registered claims). Presenting the token, scopes and upstream headers
are in test_openid_connect_bearer.py. Every refusal checks status, body, the parsed WWW-Authenticate and that
the upstream saw nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from fixtures.evidence import DeviationCheck
from fixtures.forge import Forger
from fixtures.http import Proxy, Upstream
from fixtures.issuer_control import IssuerControl
from fixtures.oracle import (
    KONG_UNEXPECTED_ERROR,
    assert_oidc_401,
    assert_proxied,
    assert_refused,
)
from fixtures.timing import ClockControl
from fixtures.tokens import Minter, TokenFactory

from kongformance.profile import ProfileHandles
from negative_flows import OIDC_BEARER, expect_refusal_or_recorded

FLOW = "oidc-bearer"
ROUTE = "oidc-bearer"

# ------------------------------------------------------------------------------------------- B: JWS structure


@pytest.mark.requirement("RFC7515-4.1.4-unknown-kid", "RFC6750-3.1-invalid-token")
@pytest.mark.parametrize(
    "kid", ["same", "../../dev/null", "' UNION SELECT 1 --", "|sleep 10", "k" * 4096, "\u0000", None]
)
def test_refuses_a_token_signed_by_a_key_the_issuer_does_not_publish(
    proxy: Proxy, upstream: Upstream, forge: Forger, realm: str, kid: str | None
) -> None:
    """RFC 7515 4.1.4; RFC 8725 3.10; anchors 8 C.34, C.35 (kid injection, unknown key; "same": the issuer's kid
    on the attacker's key)."""
    header: dict[str, Any] = {} if kid == "same" else {"kid": kid}
    assert_oidc_401(proxy.request(ROUTE, token=forge.attacker_signed(header)), upstream, realm)


@pytest.mark.requirement("RFC8725-3.10-embedded-key", "RFC6750-3.1-invalid-token")
@pytest.mark.parametrize("member", ["jku", "x5u"])
def test_ignores_key_urls_embedded_in_the_token(
    proxy: Proxy, upstream: Upstream, forge: Forger, realm: str, member: str
) -> None:
    """RFC 7515 4.1.2/4.1.5; RFC 8725 3.10; anchors 8 C.32: attacker-keyed token with a key URL is refused."""
    header = {member: "http://127.0.0.1:9/attacker-jwks"}
    assert_oidc_401(proxy.request(ROUTE, token=forge.attacker_signed(header)), upstream, realm)


# ------------------------------------------------------------------------------------------- D: registered claims
@pytest.mark.requirement("RFC7519-4.1.4-exp", "RFC6750-3.1-invalid-token")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("ago", [1, 61, 86400])
def test_refuses_an_expired_token(
    proxy: Proxy, upstream: Upstream, mint: Minter, realm: str, ago: int
) -> None:
    """RFC 7519 4.1.4; https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow (leeway 0); anchors 8 D.41."""
    now = mint.now()
    claims = mint.claims(iat=now - ago - 60, nbf=now - ago - 60, exp=now - ago)
    assert_oidc_401(proxy.request(ROUTE, token=mint.token(claims)), upstream, realm)


@pytest.mark.requirement("RFC7519-4.1.6-iat-future", "RFC6750-3.1-invalid-token")
@pytest.mark.needs("issuer_control")
def test_refuses_a_token_issued_in_the_future(
    proxy: Proxy, upstream: Upstream, mint: Minter, realm: str
) -> None:
    """RFC 7519 4.1.6; https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow (future iat rejected); anchors 8 D.46."""
    now = mint.now()
    claims = mint.claims(iat=now + 3600, nbf=None, exp=now + 7200)
    assert_oidc_401(proxy.request(ROUTE, token=mint.token(claims)), upstream, realm)


@pytest.mark.requirement("RFC7519-2-numericdate", "RS-no-5xx")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("value", ["9999999999", True, -1, [1], {"t": 1}])
def test_refuses_a_non_numeric_or_negative_exp(
    proxy: Proxy, upstream: Upstream, mint: Minter, value: Any
) -> None:
    """RFC 7519 2 (NumericDate), 4.1.4; anchors 8 D.44: refused, never a 5xx."""
    result = proxy.request(ROUTE, token=mint.token(mint.claims(exp=value)))
    assert_refused(result, upstream, status=401)


@pytest.mark.requirement("RFC9068-4-iss", "RFC6750-3.1-invalid-token")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("mutation", ["https", "upper", "port", "path", "other-tenant"])
def test_refuses_a_token_whose_iss_is_not_exactly_the_issuer(
    proxy: Proxy, upstream: Upstream, mint: Minter, kf_profile: ProfileHandles, realm: str, mutation: str
) -> None:
    """RFC 9068 4; RFC 8725 3.8; anchors 8 D.48, D.50 (signature by the right key, wrong iss)."""
    iss = kf_profile.auth_server.issuer
    u = urlparse(iss)
    bad = {
        "https": iss.replace("http://", "https://", 1)
        if iss.startswith("http://")
        else iss.replace("https://", "http://", 1),
        "upper": iss.replace(u.path, u.path.upper(), 1),
        "port": iss.replace(u.netloc, f"{u.hostname}:{(u.port or 80) + 1}", 1),
        "path": iss + "/x",
        "other-tenant": iss.replace(u.path, "/aaaaaaaaaaaaaaaa/auth", 1),
    }[mutation]
    assert bad != iss
    assert_oidc_401(proxy.request(ROUTE, token=mint.token(mint.claims(iss=bad))), upstream, realm)


@pytest.mark.requirement("RFC9068-4-aud")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("aud", ["https://api.kongformance.tes", ["https://other.example"], [], "x"])
def test_a_foreign_audience_is_refused_or_a_recorded_deviation(
    proxy: Proxy,
    upstream: Upstream,
    mint: Minter,
    aud: Any,
    kf_profile: ProfileHandles,
    deviations: DeviationCheck,
) -> None:
    """RFC 9068 4; anchors 8 D.51/D.52. Kong does not check aud without audience_required (recorded deviation
    oidc-aud-not-verified): proxied exactly. Missing exp or iss: test_negative_claims (every flow)."""
    result = proxy.request(ROUTE, token=mint.token(mint.claims(aud=aud)))
    expect_refusal_or_recorded(
        deviations, "RFC9068-4-aud", OIDC_BEARER, result, upstream, kf_profile, detail=f"aud {aud!r}"
    )


@pytest.mark.requirement("RFC7519-4.1.4-exp-boundary", "RFC7519-4.1.4-exp")
@pytest.mark.needs("virtual_clock")
def test_accepts_a_token_until_its_exp_and_refuses_it_after(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory, clock: ClockControl, realm: str
) -> None:
    """RFC 7519 4.1.4; https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow (fails when now - leeway > exp; leeway 0)."""
    token = tokens.access_token("default")
    clock.advance(55)
    assert_proxied(proxy.request(ROUTE, token=token), upstream)
    clock.advance(10)
    assert_oidc_401(proxy.request(ROUTE, token=token), upstream, realm)


@pytest.mark.requirement("KONG-OIDC-1.4-leeway", "RFC7519-4.1.4-exp")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize(
    ("route", "expired_for", "allowed"),
    [("oidc-bearer-leeway", 10, True), ("oidc-bearer-leeway", 45, False), ("oidc-bearer", 10, False)],
)
def test_tolerates_expiry_within_the_configured_leeway_only(
    proxy: Proxy, upstream: Upstream, mint: Minter, realm: str, route: str, expired_for: int, allowed: bool
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: exp fails when now - leeway > exp (leeway 30 on the leeway route, 0 otherwise)."""
    now = mint.now()
    token = mint.token(mint.claims(iat=now - 120, nbf=now - 120, exp=now - expired_for))
    result = proxy.request(route, token=token)
    if allowed:
        assert_proxied(result, upstream)
    else:
        assert_oidc_401(result, upstream, realm)


@pytest.mark.requirement("RFC7519-4.1.4-exp-boundary")
@pytest.mark.needs("issuer_control", "virtual_clock")
def test_accepts_a_token_at_the_exact_second_of_its_exp(
    proxy: Proxy, upstream: Upstream, mint: Minter, clock: ClockControl, realm: str
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: at exp == now the token is still accepted (fails only when now - leeway > exp)."""
    exp = int(clock.now()) + 30
    token = mint.token(mint.claims(iat=exp - 60, nbf=exp - 60, exp=exp))
    clock.freeze(float(exp))
    assert_proxied(proxy.request(ROUTE, token=token), upstream)
    clock.advance(1)
    assert_oidc_401(proxy.request(ROUTE, token=token), upstream, realm)


@pytest.mark.requirement("KONG-OIDC-1.3-discovery-failure", "RS-no-upstream-on-reject")
def test_answers_500_when_discovery_cannot_be_loaded(proxy: Proxy, upstream: Upstream, token: str) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: 500 {"message":"An unexpected error occurred"} (display_errors off), nothing proxied."""
    result = proxy.request("oidc-bearer-discovery-down", token=token)
    assert result.status == 500
    assert result.json() == KONG_UNEXPECTED_ERROR
    upstream.assert_not_reached(result)


# ------------------------------------------------------------------------------------------- keys and discovery (1.3)
@pytest.mark.requirement("OIDC-10.1.1-key-rotation", "KONG-OIDC-1.3-rediscovery-throttle")
@pytest.mark.needs("issuer_control", "virtual_clock")
def test_accepts_tokens_signed_by_a_rotated_key_after_rediscovery(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory, issuer_control: IssuerControl, clock: ClockControl
) -> None:
    """OIDC Core 10.1.1; https://developer.konghq.com/plugins/openid-connect/#discovery-cache: unknown kid triggers rediscovery (at most every rediscovery_lifetime);
    the previous key stays published, so tokens it signed keep working."""
    old = tokens.access_token()
    assert_proxied(proxy.request(ROUTE, token=old), upstream)  # keys cached
    issuer_control.rotate_keys(keep_previous=True)
    clock.advance(31)  # past rediscovery_lifetime (30 s)
    assert_proxied(proxy.request(ROUTE, token=tokens.access_token()), upstream)
    assert_proxied(proxy.request(ROUTE, token=old), upstream)


@pytest.mark.requirement("KONG-OIDC-1.3-rediscovery-throttle", "RFC7515-4.1.4-unknown-kid")
@pytest.mark.needs("issuer_control", "virtual_clock")
def test_throttles_jwks_refetches_for_unknown_kids(
    proxy: Proxy,
    upstream: Upstream,
    mint: Minter,
    issuer_control: IssuerControl,
    clock: ClockControl,
    realm: str,
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache; anchors 8 C.35: many unknown kids cause at most one JWKS fetch per rediscovery_lifetime."""
    clock.advance(31)
    before = issuer_control.count("jwks")
    for n in range(5):
        assert_oidc_401(
            proxy.request(
                ROUTE, token=mint.token(mint.claims(), header={"kid": f"kf-unknown-{n}"}, key="unknown")
            ),
            upstream,
            realm,
        )
    assert issuer_control.count("jwks") - before <= 1
