"""openid-connect with auth_methods [bearer]: JWT access tokens from Kong Identity verified by the gateway.

Expected answers from kong-plugins.md 1.2-1.9 (Kong's behaviour) and the RFCs they implement; negative
cases follow anchors-and-negative-catalogue.md section 8 (A: transport, B: structure, C: algorithms and
keys, D: registered claims). Every refusal checks status, body, the parsed WWW-Authenticate and that the
upstream saw nothing.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlparse

import pytest
from fixtures import jose
from fixtures.evidence import DeviationCheck
from fixtures.http import Proxy, ProxyResult, Upstream
from fixtures.oracle import assert_refused, parse_www_authenticate
from fixtures.timing import ClockControl
from fixtures.tokens import Minter, TokenFactory

from kongformance.profile import ProfileHandles

FLOW = "oidc-bearer"
ROUTE = "oidc-bearer"


@pytest.fixture(scope="module")
def realm(kf_profile: ProfileHandles) -> str:
    """kong-plugins.md 1.7: the host part of the issuer URL (no port, no scheme)."""
    return urlparse(kf_profile.auth_server.issuer).hostname or "kong"


@pytest.fixture
def token(tokens: TokenFactory) -> str:
    return tokens.access_token("default", scope="read")


def assert_401(result: ProxyResult, upstream: Upstream, realm: str) -> None:
    """kong-plugins.md 1.7: 401 {"message":"Unauthorized"}, Bearer realm, error="invalid_token"."""
    ch = assert_refused(result, upstream, status=401, error="invalid_token")
    assert result.json() == {"message": "Unauthorized"}
    assert ch is not None and ch.params.get("realm") == realm


def assert_403(result: ProxyResult, upstream: Upstream, realm: str) -> None:
    """kong-plugins.md 1.7: 403 {"message":"Forbidden"}, error="insufficient_scope"."""
    ch = assert_refused(result, upstream, status=403, error="insufficient_scope")
    assert result.json() == {"message": "Forbidden"}
    assert ch is not None and ch.params.get("realm") == realm


def assert_proxied(result: ProxyResult, upstream: Upstream) -> None:
    assert result.status == 200, f"{result.status}: {result.response.text[:200]!r}"
    if upstream.available:
        assert len(upstream.seen(result.probe)) == 1


# ------------------------------------------------------------------------------------------- positive
@pytest.mark.requirement("RFC6750-3.1-invalid-token", "KONG-OIDC-1.9-upstream-token")
def test_accepts_a_valid_token_and_forwards_it_upstream(proxy: Proxy, upstream: Upstream, token: str) -> None:
    """kong-plugins.md 1.9: the upstream gets Authorization: Bearer <access token>."""
    result = proxy.request(ROUTE, token=token)
    assert_proxied(result, upstream)
    assert result.upstream_header("authorization") == f"Bearer {token}"


@pytest.mark.requirement("RFC9110-11.1-scheme-case", "KONG-OIDC-1.9-upstream-token")
@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_matches_the_bearer_scheme_case_insensitively(
    proxy: Proxy, upstream: Upstream, token: str, scheme: str
) -> None:
    """RFC 9110 11.1; anchors 8 A.9 (positive control); kong-plugins.md 1.9: rewritten as "Bearer <token>"."""
    result = proxy.request(ROUTE, token=token, auth_scheme=scheme)
    assert_proxied(result, upstream)
    assert result.upstream_header("authorization") == f"Bearer {token}"


@pytest.mark.requirement("KONG-OIDC-1.2-bearer-sources")
@pytest.mark.parametrize("where", ["query", "form"])
def test_finds_the_token_in_the_query_or_form_body(
    proxy: Proxy, upstream: Upstream, token: str, where: str
) -> None:
    """kong-plugins.md 1.2: bearer_token_param_type defaults to body, header, query."""
    if where == "query":
        result = proxy.request(ROUTE, params={"access_token": token})
    else:
        result = proxy.request(ROUTE, "POST", data={"access_token": token})
    assert_proxied(result, upstream)


@pytest.mark.requirement("KONG-OIDC-1.9-hide-credentials", "KONG-OIDC-1.9-upstream-token")
def test_moves_a_query_token_into_the_authorization_header_and_hides_it(
    proxy: Proxy, upstream: Upstream, token: str, kf_stack: Any
) -> None:
    """kong-plugins.md 1.9: the upstream gets Authorization: Bearer; hide_credentials (3.14+) drops the query arg."""
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
    """kong-plugins.md 1.2: bearer_token_param_type [header]; anchors 8 A.7."""
    assert_401(proxy.request("oidc-bearer-header-only", params={"access_token": token}), upstream, realm)


# ------------------------------------------------------------------------------------------- A: transport and header syntax
@pytest.mark.requirement(
    "RFC6750-3-no-credentials", "RFC6750-3.1-no-error-without-token", "KONG-OIDC-1.7-401-body"
)
def test_refuses_a_request_without_credentials_with_a_bearer_challenge(
    proxy: Proxy, upstream: Upstream, realm: str, deviations: DeviationCheck
) -> None:
    """RFC 6750 3 / 3.1; kong-plugins.md 1.7 (error="invalid_token" even without a token: a recorded deviation)."""
    result = proxy.request(ROUTE)
    ch = assert_refused(result, upstream, status=401, error=None)
    assert result.json() == {"message": "Unauthorized"}
    assert ch is not None and ch.params.get("realm") == realm
    deviations.check(
        "RFC6750-3.1-no-error-without-token", ch.error is None, f"challenge params {ch.params}", flow=FLOW
    )


@pytest.mark.requirement("RFC6750-3-challenge-syntax")
@pytest.mark.parametrize("case", ["none", "garbage", "expired-format"])
def test_challenge_follows_the_rfc6750_grammar(proxy: Proxy, case: str, deviations: DeviationCheck) -> None:
    """RFC 6750 3 / RFC 9110 11.6.1: comma-separated auth-params (strict parse)."""
    result = proxy.request(ROUTE, token=None if case == "none" else "x.y.z" if case == "garbage" else "abc")
    value = result.response.headers.get("www-authenticate", "")
    try:
        parse_www_authenticate(value, strict=True)
        conforms = True
    except ValueError:
        conforms = False
    deviations.check("RFC6750-3-challenge-syntax", conforms, f"WWW-Authenticate: {value!r}", flow=FLOW)


@pytest.mark.requirement("RFC6750-2.1-scheme", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("scheme", ["Basic", "Digest", "Token", "MAC", "DPoP"])
def test_refuses_a_valid_token_sent_with_another_scheme(
    proxy: Proxy, upstream: Upstream, token: str, realm: str, scheme: str
) -> None:
    """RFC 6750 2.1; anchors 8 A.2 (DPoP is read only when proof_of_possession_dpop is on, kong-plugins.md 1.2)."""
    assert_401(proxy.request(ROUTE, token=token, auth_scheme=scheme), upstream, realm)


@pytest.mark.requirement("RFC6750-2.1-empty-credential", "RS-no-5xx")
@pytest.mark.parametrize("value", ["Bearer", "Bearer\t\t", "Bearer  ,"])
def test_refuses_an_empty_bearer_credential(proxy: Proxy, upstream: Upstream, value: str) -> None:
    """RFC 6750 2.1 (1*SP b64token); anchors 8 A.3: 400 invalid_request or 401.

    Trailing whitespace is not part of a field value (RFC 9110 5.5), so "Bearer " arrives as "Bearer".
    """
    result = proxy.request(ROUTE, headers={"Authorization": value.rstrip()})
    assert_refused(result, upstream, status=(400, 401), error=None)


@pytest.mark.requirement("RFC6750-2.1-b64token", "RS-no-5xx", "RFC6750-3.1-invalid-token")
@pytest.mark.parametrize(
    "credential",
    ["abc def", "a,b", '"quoted"', "tok;en", "t\xc3\xb6k", "a\\b", "{}", "%00", "\x7f"],
)
def test_refuses_a_credential_outside_b64token(proxy: Proxy, upstream: Upstream, credential: str) -> None:
    """RFC 6750 2.1; anchors 8 A.4: 400/401, never 5xx (non-ASCII bytes sent raw)."""
    value = ("Bearer " + credential).encode("latin-1")
    result = proxy.request(ROUTE, headers=[("Authorization", value)])  # type: ignore[list-item]
    assert_refused(result, upstream, status=(400, 401), error=None)


@pytest.mark.requirement("RFC6750-2-one-method")
@pytest.mark.parametrize("second", ["query", "form"])
def test_a_token_presented_twice_is_refused_or_a_recorded_deviation(
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    token: str,
    second: str,
    deviations: DeviationCheck,
) -> None:
    """RFC 6750 2; anchors 8 A.6. Kong: first token found wins (kong-plugins.md 1.2, recorded deviation)."""
    other = tokens.access_token("default")
    if second == "query":
        result = proxy.request(ROUTE, token=token, params={"access_token": other})
    else:
        result = proxy.request(ROUTE, "POST", token=token, data={"access_token": other})
    assert result.status < 500
    deviations.check(
        "RFC6750-2-one-method", result.status in (400, 401), f"status {result.status}", flow=FLOW
    )


@pytest.mark.requirement("RFC6750-3.1-error-description", "RFC6750-3.1-invalid-token")
def test_error_answer_never_echoes_the_token(proxy: Proxy, upstream: Upstream, token: str) -> None:
    """RFC 6750 3 (US-ASCII error_description); RFC 6749 7.2; anchors 8 A.10."""
    bad = jose.flip_signature_bit(token)
    result = proxy.request(ROUTE, token=bad)
    ch = assert_refused(result, upstream)
    assert ch is not None
    assert bad not in result.response.text and bad not in result.response.headers.get("www-authenticate", "")
    assert all(ord(c) < 128 for c in ch.params.get("error_description", ""))


@pytest.mark.requirement("RFC6585-5-oversized-header", "RS-no-5xx")
@pytest.mark.parametrize("size", [8 * 1024, 40 * 1024])
def test_refuses_an_oversized_token_without_crashing(proxy: Proxy, upstream: Upstream, size: int) -> None:
    """RFC 6585 5; anchors 8 A.12: 400/401/431 (or nginx's own 494 under Kong), no upstream call."""
    result = proxy.request(ROUTE, token="a" * size)
    assert_refused(result, upstream, status=(400, 401, 413, 431, 494), error=None, challenge=False)


# ------------------------------------------------------------------------------------------- B: JWS structure
ARRAY_HEADER = jose.b64url(b"[1,2]")
STRING_HEADER = jose.b64url(b'"RS256"')
TRUNCATED_HEADER = jose.b64url(b'{"alg":"RS2')
BAD_UTF8_HEADER = jose.b64url(bytes([0xFF, 0xFE, 0x7B]))
ARRAY_PAYLOAD = jose.b64url(b"[]")


def _structure_variants(token: str) -> dict[str, str]:
    h, p, s = jose.segments(token)
    return {
        "one-part": h,
        "two-parts": f"{h}.{p}",
        "four-parts": f"{h}.{p}.{s}.{s}",
        "five-part-jwe": f"{h}.{p}.{s}.{s}.{s}",
        "padded-payload": f"{h}.{p}==.{s}",
        "plus-slash": f"{h}.{p.replace('-', '+').replace('_', '/')}+/.{s}",
        "header-array": f"{ARRAY_HEADER}.{p}.{s}",
        "header-string": f"{STRING_HEADER}.{p}.{s}",
        "header-truncated": f"{TRUNCATED_HEADER}.{p}.{s}",
        "header-bad-utf8": f"{BAD_UTF8_HEADER}.{p}.{s}",
        "payload-array": f"{h}.{ARRAY_PAYLOAD}.{s}",
        "empty-signature": f"{h}.{p}.",
        "flipped-signature": jose.flip_signature_bit(token),
        "edited-payload": jose.with_payload(token, scope="read write admin"),
        "edited-header": jose.with_header(token, typ="at+jwt"),
        "empty-segments": "..",
    }


STRUCTURE_CASES = list(
    _structure_variants(f"{jose.encode_json({'alg': 'RS256'})}.{jose.encode_json({})}.c2ln")
)


@pytest.mark.requirement(
    "RFC7519-7.2-structure",
    "RFC7515-2-base64url",
    "RFC7515-5.2-signature",
    "RFC6750-3.1-invalid-token",
    "RS-no-5xx",
)
@pytest.mark.parametrize("case", STRUCTURE_CASES)
def test_refuses_a_structurally_broken_or_tampered_jws(
    proxy: Proxy, upstream: Upstream, token: str, realm: str, case: str
) -> None:
    """RFC 7519 7.2; RFC 7515 2, 5.2; anchors 8 B.13-B.16, B.22, B.23."""
    assert_401(proxy.request(ROUTE, token=_structure_variants(token)[case]), upstream, realm)


# ------------------------------------------------------------------------------------------- C: algorithms and keys
@pytest.mark.requirement("RFC8725-3.2-alg-none", "RFC6750-3.1-invalid-token")
@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", ["", "c2ln"])
def test_refuses_an_unsecured_token(
    proxy: Proxy, upstream: Upstream, token: str, realm: str, alg: str, signature: str
) -> None:
    """RFC 8725 3.2; RFC 9068 4; anchors 8 C.25 (claims of a real token, alg none)."""
    forged = jose.unsigned(jose.payload_of(token), alg=alg) + signature
    assert_401(proxy.request(ROUTE, token=forged), upstream, realm)


@pytest.mark.requirement("RFC8725-3.1-alg-confusion", "RFC6750-3.1-invalid-token")
@pytest.mark.needs("issuer_control")
def test_refuses_hs256_signed_with_the_issuers_public_key(
    proxy: Proxy, upstream: Upstream, mint: Minter, realm: str
) -> None:
    """RFC 8725 3.1; kong-plugins.md 1.4 (HS* refused unless enable_hs_signatures); anchors 8 C.26."""
    forged = mint.token(mint.claims(), header={"alg": "HS256"}, key="current")
    assert jose.header_of(forged)["alg"] == "HS256"
    assert_401(proxy.request(ROUTE, token=forged), upstream, realm)


@pytest.mark.requirement("RFC7515-4.1.4-unknown-kid", "RFC6750-3.1-invalid-token")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize(
    "kid", ["same", "../../dev/null", "' UNION SELECT 1 --", "|sleep 10", "k" * 4096, "\u0000", None]
)
def test_refuses_a_token_signed_by_a_key_the_issuer_does_not_publish(
    proxy: Proxy, upstream: Upstream, mint: Minter, realm: str, kid: str | None
) -> None:
    """RFC 7515 4.1.4; RFC 8725 3.10; anchors 8 C.34, C.35 (kid injection, unknown key)."""
    header: dict[str, Any] = {} if kid == "same" else {"kid": kid}
    assert_401(
        proxy.request(ROUTE, token=mint.token(mint.claims(), header=header, key="unknown")), upstream, realm
    )


@pytest.mark.requirement("RFC8725-3.10-embedded-key", "RFC6750-3.1-invalid-token")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("member", ["jku", "x5u"])
def test_ignores_key_urls_embedded_in_the_token(
    proxy: Proxy, upstream: Upstream, mint: Minter, realm: str, member: str
) -> None:
    """RFC 7515 4.1.2/4.1.5; RFC 8725 3.10; anchors 8 C.32: attacker-keyed token with a key URL is refused."""
    header = {member: "http://127.0.0.1:9/attacker-jwks"}
    assert_401(
        proxy.request(ROUTE, token=mint.token(mint.claims(), header=header, key="unknown")), upstream, realm
    )


# ------------------------------------------------------------------------------------------- D: registered claims
@pytest.mark.requirement("RFC7519-4.1.4-exp", "RFC6750-3.1-invalid-token")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("ago", [1, 61, 86400])
def test_refuses_an_expired_token(
    proxy: Proxy, upstream: Upstream, mint: Minter, realm: str, ago: int
) -> None:
    """RFC 7519 4.1.4; kong-plugins.md 1.4 (leeway 0); anchors 8 D.41."""
    now = mint.now()
    claims = mint.claims(iat=now - ago - 60, nbf=now - ago - 60, exp=now - ago)
    assert_401(proxy.request(ROUTE, token=mint.token(claims)), upstream, realm)


@pytest.mark.requirement("RFC7519-4.1.5-nbf", "RFC6750-3.1-invalid-token")
@pytest.mark.needs("issuer_control")
def test_refuses_a_token_not_yet_valid(proxy: Proxy, upstream: Upstream, mint: Minter, realm: str) -> None:
    """RFC 7519 4.1.5; anchors 8 D.45."""
    now = mint.now()
    assert_401(
        proxy.request(ROUTE, token=mint.token(mint.claims(nbf=now + 120, exp=now + 180))), upstream, realm
    )


@pytest.mark.requirement("RFC7519-4.1.6-iat-future", "RFC6750-3.1-invalid-token")
@pytest.mark.needs("issuer_control")
def test_refuses_a_token_issued_in_the_future(
    proxy: Proxy, upstream: Upstream, mint: Minter, realm: str
) -> None:
    """RFC 7519 4.1.6; kong-plugins.md 1.4 (future iat rejected); anchors 8 D.46."""
    now = mint.now()
    claims = mint.claims(iat=now + 3600, nbf=None, exp=now + 7200)
    assert_401(proxy.request(ROUTE, token=mint.token(claims)), upstream, realm)


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
    assert_401(proxy.request(ROUTE, token=mint.token(mint.claims(iss=bad))), upstream, realm)


@pytest.mark.requirement("RFC9068-2.2-required-claims")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("claim", ["exp", "iss"])
def test_a_token_lacking_exp_or_iss_is_refused_or_a_recorded_deviation(
    proxy: Proxy, upstream: Upstream, mint: Minter, claim: str, deviations: DeviationCheck
) -> None:
    """RFC 9068 2.2 (exp, iss REQUIRED); kong-plugins.md 1.4: Kong checks them only when present (deviation)."""
    result = proxy.request(ROUTE, token=mint.token(mint.claims(**{claim: None})))
    assert result.status < 500
    deviations.check(
        "RFC9068-2.2-required-claims", result.status == 401, f"no {claim}: {result.status}", flow=FLOW
    )


@pytest.mark.requirement("RFC9068-4-aud")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("aud", ["https://api.kongformance.tes", ["https://other.example"], [], "x"])
def test_a_foreign_audience_is_refused_or_a_recorded_deviation(
    proxy: Proxy, upstream: Upstream, mint: Minter, aud: Any, deviations: DeviationCheck
) -> None:
    """RFC 9068 4; anchors 8 D.51/D.52. kong-plugins.md 1.4: aud is not checked without audience_required."""
    result = proxy.request(ROUTE, token=mint.token(mint.claims(aud=aud)))
    assert result.status < 500
    deviations.check("RFC9068-4-aud", result.status in (401, 403), f"aud {aud!r}: {result.status}", flow=FLOW)


@pytest.mark.requirement("RFC7519-4.1.4-exp-boundary", "RFC7519-4.1.4-exp")
@pytest.mark.needs("virtual_clock")
def test_accepts_a_token_until_its_exp_and_refuses_it_after(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory, clock: ClockControl, realm: str
) -> None:
    """RFC 7519 4.1.4; kong-plugins.md 1.4 (fails when now - leeway > exp; leeway 0)."""
    token = tokens.access_token("default")
    clock.advance(55)
    assert_proxied(proxy.request(ROUTE, token=token), upstream)
    clock.advance(10)
    assert_401(proxy.request(ROUTE, token=token), upstream, realm)


@pytest.mark.requirement("KONG-OIDC-1.4-leeway", "RFC7519-4.1.4-exp")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize(
    ("route", "expired_for", "allowed"),
    [("oidc-bearer-leeway", 10, True), ("oidc-bearer-leeway", 45, False), ("oidc-bearer", 10, False)],
)
def test_tolerates_expiry_within_the_configured_leeway_only(
    proxy: Proxy, upstream: Upstream, mint: Minter, realm: str, route: str, expired_for: int, allowed: bool
) -> None:
    """kong-plugins.md 1.4: exp fails when now - leeway > exp (leeway 30 on the leeway route, 0 otherwise)."""
    now = mint.now()
    token = mint.token(mint.claims(iat=now - 120, nbf=now - 120, exp=now - expired_for))
    result = proxy.request(route, token=token)
    if allowed:
        assert_proxied(result, upstream)
    else:
        assert_401(result, upstream, realm)


@pytest.mark.requirement("RFC7519-4.1.4-exp-boundary")
@pytest.mark.needs("issuer_control", "virtual_clock")
def test_accepts_a_token_at_the_exact_second_of_its_exp(
    proxy: Proxy, upstream: Upstream, mint: Minter, clock: ClockControl, realm: str
) -> None:
    """kong-plugins.md 1.4: at exp == now the token is still accepted (fails only when now - leeway > exp)."""
    exp = int(clock.now()) + 30
    token = mint.token(mint.claims(iat=exp - 60, nbf=exp - 60, exp=exp))
    clock.freeze(float(exp))
    assert_proxied(proxy.request(ROUTE, token=token), upstream)
    clock.advance(1)
    assert_401(proxy.request(ROUTE, token=token), upstream, realm)


@pytest.mark.requirement("KONG-OIDC-1.3-discovery-failure", "RS-no-upstream-on-reject")
def test_answers_500_when_discovery_cannot_be_loaded(proxy: Proxy, upstream: Upstream, token: str) -> None:
    """kong-plugins.md 1.3: 500 {"message":"An unexpected error occurred"} (display_errors off), nothing proxied."""
    result = proxy.request("oidc-bearer-discovery-down", token=token)
    assert result.status == 500
    assert result.json() == {"message": "An unexpected error occurred"}
    assert not upstream.seen(result.probe)


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
    """kong-plugins.md 1.6 (alternatives OR, space-separated AND); RFC 6750 3.1 insufficient_scope."""
    result = proxy.request(route, token=tokens.access_token("default", scope=scope))
    if allowed:
        assert_proxied(result, upstream)
    else:
        assert_403(result, upstream, realm)


@pytest.mark.requirement("RFC6749-3.3-scope-exact", "KONG-OIDC-1.6-scopes-required")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize(
    "claims", [{"scope": "READ"}, {"scope": "reader"}, {"scope": None, "scp": "read"}, {"scope": "rea"}]
)
def test_matches_scopes_exactly_and_case_sensitively(
    proxy: Proxy, upstream: Upstream, mint: Minter, realm: str, claims: dict[str, Any]
) -> None:
    """RFC 6749 3.3; RFC 9068 2.2.3; anchors 8 D.57."""
    assert_403(proxy.request("oidc-bearer-scopes", token=mint.token(mint.claims(**claims))), upstream, realm)


@pytest.mark.requirement("RFC6749-3.3-scope-exact", "KONG-OIDC-1.6-scopes-required")
@pytest.mark.needs("issuer_control")
def test_accepts_scopes_given_as_an_array_claim(proxy: Proxy, upstream: Upstream, mint: Minter) -> None:
    """kong-plugins.md 1.6: a claim value may be a space-delimited string or an array."""
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
    """kong-plugins.md 1.6: audience_required unmet gives 403."""
    result = proxy.request(route, token=token)
    if allowed:
        assert_proxied(result, upstream)
    else:
        assert_403(result, upstream, realm)


# ------------------------------------------------------------------------------------------- upstream headers (1.9)
@pytest.mark.requirement("KONG-OIDC-1.9-upstream-headers")
def test_forwards_claims_as_upstream_headers(proxy: Proxy, upstream: Upstream, tokens: TokenFactory) -> None:
    """kong-plugins.md 1.9: strings as-is, numbers as strings, tables base64-encoded JSON."""
    result = proxy.request("oidc-bearer-headers", token=tokens.access_token("labelled"))
    assert_proxied(result, upstream)
    assert result.upstream_header("x-kf-always") == "always-value"
    assert result.upstream_header("x-kf-number") == "42"
    encoded = result.upstream_header("x-kf-json")
    assert encoded is not None
    assert json.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4))) == {"a": [1, 2], "b": True}
    assert result.upstream_header("x-kf-tier") == "gold"


@pytest.mark.requirement("KONG-OIDC-1.9-upstream-headers", "KI-C.6-missing-label")
def test_clears_a_client_sent_header_when_its_claim_is_missing(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory, kf_stack: Any
) -> None:
    """kong-plugins.md 1.9: cleared since 3.14 (and 3.10.0.10/3.11.0.9/3.12.0.5/3.13.0.3), passed through before
    3.10; kong-identity.md C.6 (a missing label drops the claim)."""
    if (3, 10) <= kf_stack.version < (3, 14):
        pytest.skip("depends on the patch release of 3.10-3.13 (kong-plugins.md 1.9)")
    result = proxy.request(
        "oidc-bearer-headers", token=tokens.access_token("default"), headers={"X-KF-Tier": "forged"}
    )
    assert_proxied(result, upstream)
    expected = None if kf_stack.version >= (3, 14) else "forged"
    assert result.upstream_header("x-kf-tier") == expected


# ------------------------------------------------------------------------------------------- keys and discovery (1.3)
@pytest.mark.requirement("OIDC-10.1.1-key-rotation", "KONG-OIDC-1.3-rediscovery-throttle")
@pytest.mark.needs("issuer_control", "virtual_clock")
def test_accepts_tokens_signed_by_a_rotated_key_after_rediscovery(
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    kf_stack: Any,
    kf_profile: ProfileHandles,
    clock: ClockControl,
) -> None:
    """OIDC Core 10.1.1; kong-plugins.md 1.3: unknown kid triggers rediscovery (at most every rediscovery_lifetime);
    the previous key stays published, so tokens it signed keep working."""
    old = tokens.access_token()
    assert_proxied(proxy.request(ROUTE, token=old), upstream)  # keys cached
    resp = clock.http.post(
        f"{kf_stack.identity_url}/_emulator/auth-servers/{kf_profile.auth_server.id}/rotate-keys",
        json={"keep_previous": True},
    )
    assert resp.status_code == 200, resp.text
    clock.advance(31)  # past rediscovery_lifetime (30 s)
    assert_proxied(proxy.request(ROUTE, token=tokens.access_token()), upstream)
    assert_proxied(proxy.request(ROUTE, token=old), upstream)


@pytest.mark.requirement("KONG-OIDC-1.3-rediscovery-throttle", "RFC7515-4.1.4-unknown-kid")
@pytest.mark.needs("issuer_control", "virtual_clock")
def test_throttles_jwks_refetches_for_unknown_kids(
    proxy: Proxy,
    upstream: Upstream,
    mint: Minter,
    kf_stack: Any,
    kf_profile: ProfileHandles,
    clock: ClockControl,
    realm: str,
) -> None:
    """kong-plugins.md 1.3; anchors 8 C.35: many unknown kids cause at most one JWKS fetch per rediscovery_lifetime."""
    clock.advance(31)
    log = f"{kf_stack.identity_url}/_emulator/requests"
    params = {"endpoint": "jwks", "auth_server_id": kf_profile.auth_server.id}

    def fetches() -> int:
        r = clock.http.get(log, params=params)
        r.raise_for_status()
        doc = r.json()
        return int(doc.get("count", len(doc.get("requests", doc.get("data", [])))))

    before = fetches()
    for n in range(5):
        assert_401(
            proxy.request(
                ROUTE, token=mint.token(mint.claims(), header={"kid": f"kf-unknown-{n}"}, key="unknown")
            ),
            upstream,
            realm,
        )
    assert fetches() - before <= 1
