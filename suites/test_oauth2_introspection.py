"""oauth2-introspection: tokens checked by RFC 7662 introspection at Kong Identity, headers forwarded upstream.

Expected behaviour from https://developer.konghq.com/plugins/oauth2-introspection/reference/-3.6 and the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1) E (59-65). The
introspection requests Kong sends are read from the issuer emulator's request log (each test's token is fresh,
so its fingerprint finds exactly its own introspection calls); IdP answers are scripted with the issuer's
fault injection under the ``clock`` fixture, which runs the test alone.
"""

from __future__ import annotations

import pytest
from fixtures import jose
from fixtures.evidence import DeviationCheck
from fixtures.http import Proxy, ProxyResult, Upstream
from fixtures.issuer_control import IssuerControl
from fixtures.oracle import OAUTH2_INVALID, OAUTH2_MISSING, assert_proxied, assert_refused
from fixtures.timing import ClockControl
from fixtures.tokens import TokenFactory

from kongformance.clients.issuer import IssuerClient
from kongformance.profile import ProfileHandles
from kongformance.targets import Stack

FLOW = "oauth2-introspection"
ROUTE = "oauth2-introspection"
MISSING, INVALID = OAUTH2_MISSING, OAUTH2_INVALID
CREDENTIAL_HEADERS = {
    "scope": "X-Credential-Scope",
    "client_id": "X-Credential-Client-ID",
    "token_type": "X-Credential-Token-Type",
    "exp": "X-Credential-Exp",
    "iat": "X-Credential-Iat",
    "nbf": "X-Credential-Nbf",
    "sub": "X-Credential-Sub",
    "iss": "X-Credential-Iss",
    "jti": "X-Credential-Jti",
}


def assert_invalid(result: ProxyResult, upstream: Upstream) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works: 401 invalid_token JSON and a Bearer realm="service" error="invalid_token" challenge."""
    ch = assert_refused(result, upstream, status=401, error="invalid_token")
    assert result.json() == INVALID
    assert ch is not None and ch.params.get("realm") == "service"


def assert_missing(result: ProxyResult, upstream: Upstream) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works: 401 invalid_request "The access token is missing", challenge without error."""
    ch = assert_refused(result, upstream, status=401, error=None)
    assert result.json() == MISSING
    assert ch is not None and ch.params == {"realm": "service"}


# ------------------------------------------------------------------------------------------- success and headers (3.5)
@pytest.mark.requirement("RFC7662-2.2-active", "KONG-INTRO-3.5-headers")
def test_accepts_an_active_token_and_proxies_the_request(
    proxy: Proxy, upstream: Upstream, token: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url and https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers; anchors 8 E (positive twin of 59)."""
    assert_proxied(proxy.request(ROUTE, token=token), upstream)


@pytest.mark.requirement("KONG-INTRO-3.5-headers")
@pytest.mark.parametrize("field", list(CREDENTIAL_HEADERS))
def test_forwards_introspection_fields_as_x_credential_headers(
    proxy: Proxy, upstream: Upstream, issuer: IssuerClient, kf_profile: ProfileHandles, token: str, field: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: each field of the introspection answer becomes its X-Credential-* header."""
    gw = kf_profile.clients["gateway"]
    answer = issuer.introspect(token, gw.id, gw.secret).body
    assert field in answer, f"the issuer's introspection answer has no {field}"
    result = proxy.request(ROUTE, token=token)
    assert_proxied(result, upstream)
    assert result.upstream_header(CREDENTIAL_HEADERS[field]) == str(answer[field])


@pytest.mark.requirement("KONG-INTRO-3.5-headers")
def test_omits_x_credential_identifier_when_the_answer_has_no_username(
    proxy: Proxy, upstream: Upstream, token: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: X-Credential-Identifier comes from username; a client-sent one is not kept."""
    result = proxy.request(ROUTE, token=token, headers={"X-Credential-Identifier": "forged"})
    assert_proxied(result, upstream)
    assert result.upstream_header("X-Credential-Identifier") is None


@pytest.mark.requirement("KONG-INTRO-3.5-headers")
def test_forwards_a_custom_claim_listed_in_custom_claims_forward(
    proxy: Proxy, upstream: Upstream, token: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: custom_claims_forward [kf_always] -> X-Credential-Kf-Always (underscores to dashes)."""
    result = proxy.request(ROUTE, token=token)
    assert_proxied(result, upstream)
    assert result.upstream_header("X-Credential-Kf-Always") == "always-value"


@pytest.mark.requirement("KONG-INTRO-3.5-headers")
def test_authenticates_without_consumer_headers_when_no_consumer_matches(
    proxy: Proxy, upstream: Upstream, token: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: consumer_by client_id matches custom_id; no match still authenticates."""
    result = proxy.request(ROUTE, token=token, headers={"X-Anonymous-Consumer": "true"})
    assert_proxied(result, upstream)
    assert result.upstream_header("X-Consumer-ID") is None
    assert result.upstream_header("X-Anonymous-Consumer") is None


@pytest.mark.requirement("KONG-INTRO-consumer-by")
def test_maps_the_tokens_client_id_to_the_consumer_with_that_custom_id(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory, kf_profile: ProfileHandles
) -> None:
    """Kong docs (oauth2-introspection config.consumer_by): with client_id, the introspection answer's
    client_id is matched to a Consumer's custom_id, and Kong sets the X-Consumer-* headers upstream."""
    result = proxy.request(ROUTE, token=tokens.access_token("all_scopes", scope="read"))
    assert_proxied(result, upstream)
    assert result.upstream_header("X-Consumer-Custom-ID") == kf_profile.clients["all_scopes"].id
    assert result.upstream_header("X-Consumer-Username") == f"kf-introspection-user-{kf_profile.run_id}"


@pytest.mark.requirement("KONG-INTRO-3.2-hide-credentials")
def test_hides_the_authorization_header_from_the_upstream(
    proxy: Proxy, upstream: Upstream, kf_stack: Stack, token: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/ (hide_credentials true from 3.14), 3.2 (the header is cleared)."""
    result = proxy.request(ROUTE, token=token)
    assert_proxied(result, upstream)
    expected = None if kf_stack.version >= (3, 14) else f"Bearer {token}"
    assert result.upstream_header("Authorization") == expected


@pytest.mark.requirement("KONG-INTRO-3.2-hide-credentials", "KONG-INTRO-3.2-token-sources")
def test_removes_a_query_token_from_the_upstream_request(
    proxy: Proxy, upstream: Upstream, kf_stack: Stack, token: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials: access_token is removed from the query when hide_credentials is on."""
    result = proxy.request(ROUTE, params={"access_token": token, "keep": "1"})
    assert_proxied(result, upstream)
    args = result.upstream_saw()["args"]
    assert args.get("keep") == "1"
    assert ("access_token" in args) == (kf_stack.version < (3, 14))


# ------------------------------------------------------------------------------------------- token sources (3.2)
@pytest.mark.requirement("KONG-INTRO-3.2-token-sources", "RFC9110-11.1-scheme-case")
@pytest.mark.parametrize("where", ["query", "form", "BEARER", "bearer"])
def test_finds_the_token_in_the_query_the_form_or_any_bearer_casing(
    proxy: Proxy, upstream: Upstream, token: str, where: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials: access_token from query/body, else Authorization bearer (case-insensitive)."""
    if where == "query":
        result = proxy.request(ROUTE, params={"access_token": token})
    elif where == "form":
        result = proxy.request(ROUTE, "POST", data={"access_token": token})
    else:
        result = proxy.request(ROUTE, token=token, auth_scheme=where)
    assert_proxied(result, upstream)


@pytest.mark.requirement("KONG-INTRO-3.2-token-sources", "RS-no-5xx")
def test_answers_a_non_object_json_body_with_a_bare_400(proxy: Proxy, upstream: Upstream, token: str) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials: a JSON body that decodes to a non-object ends the request with 400."""
    result = proxy.request(
        ROUTE, "POST", token=token, data="[1, 2]", headers={"Content-Type": "application/json"}
    )
    assert result.status == 400
    upstream.assert_not_reached(result)


# ------------------------------------------------------------------------------------------- refusals (3.4)
@pytest.mark.requirement(
    "KONG-INTRO-3.4-missing", "RFC6750-3-no-credentials", "RFC6750-3.1-no-error-without-token"
)
def test_refuses_a_request_without_token_as_invalid_request(proxy: Proxy, upstream: Upstream) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works; RFC 6750 3 / 3.1; anchors 8 A.1."""
    assert_missing(proxy.request(ROUTE), upstream)


@pytest.mark.requirement("KONG-INTRO-3.4-missing", "RFC6750-2.1-scheme", "RFC6750-2.1-empty-credential")
@pytest.mark.parametrize(
    "shape", ["basic-credentials", "digest", "bearer-without-token", "bearer-with-two-values"]
)
def test_treats_an_authorization_header_of_another_shape_as_no_token(
    proxy: Proxy, upstream: Upstream, shape: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials: the header must split into exactly 2 parts with scheme bearer/token; anchors 8 A.2/A.3.
    Parametrized by name, so no credential-shaped value reaches test ids or reports."""
    authorization = {
        "basic-credentials": "Basic a2Y6a2Y=",
        "digest": "Digest abc",
        "bearer-without-token": "Bearer",
        "bearer-with-two-values": "Bearer a b",
    }[shape]
    assert_missing(proxy.request(ROUTE, headers={"Authorization": authorization}), upstream)


@pytest.mark.requirement("KONG-INTRO-3.4-inactive", "RFC6750-3.1-invalid-token", "RFC7662-2.2-inactive")
@pytest.mark.parametrize("kind", ["opaque", "flipped-signature", "alg-none"])
def test_refuses_a_token_the_issuer_reports_inactive(
    proxy: Proxy, upstream: Upstream, token: str, kind: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works (the plugin verifies nothing locally; active:false -> 401); anchors 8 E.59."""
    bad = {
        "opaque": "kf-not-a-token-0123456789",
        "flipped-signature": jose.flip_signature_bit(token),
        "alg-none": jose.unsigned(jose.payload_of(token)),
    }[kind]
    assert_invalid(proxy.request(ROUTE, token=bad), upstream)


@pytest.mark.requirement("RFC6750-3-challenge-syntax", "KONG-INTRO-3.4-inactive")
def test_invalid_token_challenge_follows_the_rfc6750_grammar_or_a_recorded_deviation(
    proxy: Proxy, deviations: DeviationCheck
) -> None:
    """RFC 6750 3; https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works: Kong separates auth-params with spaces (recorded deviation)."""
    result = proxy.request(ROUTE, token="kf-not-a-token")
    deviations.check_challenge_syntax(result, flow=FLOW)


@pytest.mark.requirement("KONG-INTRO-3.6-ttl-cache")
@pytest.mark.needs("issuer_control")
def test_caches_the_introspection_result_within_the_ttl(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, token: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: results are cached for config.ttl (30 s) under oauth2_introspection:<token>."""
    for _ in range(3):
        assert_proxied(proxy.request(ROUTE, token=token), upstream)
    assert len(issuer_control.carrying("introspect", token)) == 1


@pytest.mark.requirement("KONG-INTRO-3.6-ttl-cache")
@pytest.mark.needs("issuer_control")
def test_introspects_again_once_the_ttl_has_passed(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, token: str, clock: ClockControl
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: with ttl 1 the cached result is gone after a second."""
    route = "oauth2-introspection-ttl1"
    assert_proxied(proxy.request(route, token=token), upstream)
    clock.advance(2)
    assert_proxied(proxy.request(route, token=token), upstream)
    assert len(issuer_control.carrying("introspect", token)) == 2


@pytest.mark.requirement("KONG-INTRO-3.5-headers", "KONG-INTRO-3.3-active-required")
@pytest.mark.needs("issuer_control")
def test_accepts_a_bare_active_answer_and_sets_no_absent_headers(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, clock: ClockControl, token: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: a header is omitted when its field is absent from the answer."""
    with issuer_control.fault("introspect", status=200, body={"active": True}, times=1):
        result = proxy.request("oauth2-introspection-ttl1", token=token)
    assert_proxied(result, upstream)
    for header in CREDENTIAL_HEADERS.values():
        assert result.upstream_header(header) is None, header
