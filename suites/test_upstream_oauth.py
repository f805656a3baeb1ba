"""upstream-oauth: the gateway as an OAuth client of Kong Identity, injecting a token into upstream requests.

Expected behaviour from https://developer.konghq.com/plugins/upstream-oauth/reference/-2.5 and the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1) F (66-69). What reached
the upstream is read from its log where the target has one, else from the echoed request (fixtures.http). What
Kong sends to the IdP and how often is read from the issuer emulator's request log (``/_emulator/requests``;
each profile variant sends a distinct ``X-KF-Variant`` token header, so its token requests can be told
apart). IdP failures are scripted with the issuer's fault injection. Tests that count token requests or
script the IdP hold the ``clock`` fixture: it runs them alone, and moving time past the cached token's
lifetime gives each one an empty token cache to start from.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fixtures import jose
from fixtures.http import Proxy, ProxyResult, Upstream
from fixtures.issuer_control import IssuerControl, fingerprint
from fixtures.timing import ClockControl

from kongformance.clients.issuer import IssuerClient
from kongformance.profile import TOKEN_LIFETIME, ProfileHandles

EAGERLY_EXPIRE = (
    5  # cache.eagerly_expire default (https://developer.konghq.com/plugins/upstream-oauth/reference/)
)
DEFAULT_TTL = (
    3600  # cache.default_ttl default (https://developer.konghq.com/plugins/upstream-oauth/reference/)
)
PAST_ANY_CACHED_TOKEN = TOKEN_LIFETIME + 1  # advancing this far empties every upstream-oauth token cache
DEFAULT_IDP_ERROR = {"code": "502", "message": "Failed to authenticate request to upstream"}
AUTH_VARIANTS = {"upstream-oauth-post": "client_secret_post", "upstream-oauth-basic": "client_secret_basic"}


@pytest.fixture
def fresh(clock: ClockControl) -> ClockControl:
    """Exclusive time control, with every cached upstream token expired (https://developer.konghq.com/plugins/upstream-oauth/#caching TTL rule)."""
    clock.advance(PAST_ANY_CACHED_TOKEN)
    return clock


def upstream_headers(result: ProxyResult, upstream: Upstream, name: str) -> list[str]:
    """Every value of header ``name`` that reached the upstream with this request (its log, else the echo)."""
    return upstream.header_values(result, name)


def injected_token(result: ProxyResult, upstream: Upstream, header: str = "Authorization") -> tuple[str, str]:
    """(token type, token) of the one ``header`` value upstream-oauth injected."""
    values = upstream_headers(result, upstream, header)
    assert len(values) == 1, f"expected one {header} upstream, got {values!r}"
    token_type, _, token = values[0].partition(" ")
    assert token, f"{header} is not '<type> <token>': {values[0]!r}"
    return token_type, token


def assert_issued_to_gateway(token: str, handles: ProfileHandles, issuer: IssuerClient) -> None:
    """The injected token is a live Kong Identity token of the gateway client with scope read."""
    claims = jose.payload_of(token)
    gw = handles.clients["gateway"]
    assert claims["iss"] == handles.auth_server.issuer
    assert claims["client_id"] == gw.id
    assert "read" in str(claims.get("scope", "")).split()
    answer = issuer.introspect(token, gw.id, gw.secret)
    assert answer.status == 200 and answer.body.get("active") is True, answer.text


def assert_idp_error(result: ProxyResult, upstream: Upstream) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code: default 502 with the templated JSON body (code is a string); upstream untouched."""
    assert result.status == 502, f"{result.status}: {result.response.text[:200]!r}"
    assert result.response.headers.get("content-type") == "application/json; charset=utf-8"
    assert json.loads(result.response.text) == DEFAULT_IDP_ERROR
    upstream.assert_not_reached(result)


# ------------------------------------------------------------------------------------------- injection (2.5)
@pytest.mark.requirement("KONG-UPO-2.5-injection", "KONG-UPO-2.3-token-request")
@pytest.mark.parametrize("variant", list(AUTH_VARIANTS))
def test_injects_a_token_of_the_gateway_client_into_the_upstream_authorization(
    proxy: Proxy, upstream: Upstream, issuer: IssuerClient, kf_profile: ProfileHandles, variant: str
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: Authorization: <token_type> <access_token>, a token from the configured IdP."""
    result = proxy.request(variant)
    assert result.status == 200, result.response.text[:200]
    token_type, token = injected_token(result, upstream)
    assert token_type.lower() == "bearer"
    assert_issued_to_gateway(token, kf_profile, issuer)


@pytest.mark.requirement("KONG-UPO-2.5-injection")
@pytest.mark.parametrize("variant", list(AUTH_VARIANTS))
def test_replaces_a_client_sent_authorization_header(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, issuer: IssuerClient, variant: str
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: set_header replaces the client's header; anchors 8 F.69 (not leaked upstream)."""
    result = proxy.request(variant, token="client-own-credential")
    assert result.status == 200
    values = upstream_headers(result, upstream, "Authorization")
    assert not any("client-own-credential" in v for v in values), values
    _, token = injected_token(result, upstream)
    assert_issued_to_gateway(token, kf_profile, issuer)


@pytest.mark.requirement("KONG-UPO-2.5-injection")
def test_injects_into_the_configured_header_and_leaves_authorization_alone(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, issuer: IssuerClient
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: upstream_access_token_header_name; the client's Authorization passes (inferred)."""
    result = proxy.request("upstream-oauth-header", token="client-own-credential")
    assert result.status == 200
    _, token = injected_token(result, upstream, "X-Upstream-Token")
    assert_issued_to_gateway(token, kf_profile, issuer)
    assert upstream_headers(result, upstream, "Authorization") == ["Bearer client-own-credential"]


@pytest.mark.requirement("KONG-UPO-2.5-injection")
def test_replaces_a_client_sent_header_of_the_configured_name(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, issuer: IssuerClient
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: kong.service.request.set_header replaces a client-sent header of the same name."""
    result = proxy.request("upstream-oauth-header", headers={"X-Upstream-Token": "Bearer forged"})
    assert result.status == 200
    values = upstream_headers(result, upstream, "X-Upstream-Token")
    assert "Bearer forged" not in values and len(values) == 1, values
    assert_issued_to_gateway(values[0].partition(" ")[2], kf_profile, issuer)


@pytest.mark.requirement("KONG-UPO-2.5-shared-cache")
def test_instances_with_different_oauth_records_do_not_share_a_token(
    proxy: Proxy, upstream: Upstream
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: the cache key hashes the whole oauth record (token_headers differ per variant)."""
    post = injected_token(proxy.request("upstream-oauth-post"), upstream)[1]
    basic = injected_token(proxy.request("upstream-oauth-basic"), upstream)[1]
    assert jose.payload_of(post)["jti"] != jose.payload_of(basic)["jti"]


# ------------------------------------------------------------------------------------------- the token request (2.3)
@pytest.mark.requirement("KONG-UPO-2.3-token-request")
@pytest.mark.parametrize(("variant", "auth_method"), list(AUTH_VARIANTS.items()))
def test_authenticates_to_the_token_endpoint_with_the_configured_method(
    proxy: Proxy,
    issuer_control: IssuerControl,
    kf_profile: ProfileHandles,
    fresh: ClockControl,
    variant: str,
    auth_method: str,
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods: client_secret_post puts id and secret in the body; client_secret_basic uses Basic."""
    mark = issuer_control.mark("token")
    assert proxy.request(variant).status == 200
    sent = issuer_control.token_calls(variant, since=mark)
    assert len(sent) == 1, sent
    gw = kf_profile.clients["gateway"]
    form, headers = sent[0]["form"], {k.lower(): v for k, v in sent[0]["headers"].items()}
    if auth_method == "client_secret_post":
        assert form.get("client_id") == gw.id
        assert fingerprint(gw.secret) in form.get("client_secret", "")
        assert "authorization" not in headers
    else:
        assert sent[0]["auth"] == {"scheme": "basic", "client_id": gw.id}
        assert "client_secret" not in form


@pytest.mark.requirement("KONG-UPO-2.3-token-request")
@pytest.mark.parametrize("variant", list(AUTH_VARIANTS))
def test_requests_client_credentials_with_the_configured_scopes_and_token_headers(
    proxy: Proxy, issuer_control: IssuerControl, fresh: ClockControl, variant: str
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods: form POST, grant_type, scope joined by spaces, no audience when empty, token_headers."""
    mark = issuer_control.mark("token")
    assert proxy.request(variant).status == 200
    (sent,) = issuer_control.token_calls(variant, since=mark)
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert sent["method"] == "POST"
    assert headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
    assert sent["form"].get("grant_type") == "client_credentials"
    assert sent["form"].get("scope") == "read"
    assert "audience" not in sent["form"]


@pytest.mark.requirement("RFC6749-10.3-no-token-leak", "KONG-UPO-2.3-token-request")
@pytest.mark.parametrize("variant", list(AUTH_VARIANTS))
def test_never_forwards_the_clients_credentials_to_the_token_endpoint(
    proxy: Proxy, issuer_control: IssuerControl, fresh: ClockControl, variant: str
) -> None:
    """RFC 6749 10.3; anchors 8 F.69: the client's Authorization, cookies and headers stay away from the IdP."""
    client_auth = "Bearer client-secret-" + uuid.uuid4().hex
    mark = issuer_control.mark("token")
    result = proxy.request(variant, headers={"Authorization": client_auth, "Cookie": "session=kf-cookie"})
    assert result.status == 200
    (sent,) = issuer_control.token_calls(variant, since=mark)
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert fingerprint(client_auth) not in headers.get("authorization", "")
    assert not headers.get("authorization", "").lower().startswith("bearer")
    assert "cookie" not in headers
    assert "x-kf-probe" not in headers, "a client header was copied into the token request"


# ------------------------------------------------------------------------------------------- caching (2.5)
@pytest.mark.requirement("KONG-UPO-2.5-cache")
@pytest.mark.parametrize("variant", [*AUTH_VARIANTS, "upstream-oauth-header"])
def test_reuses_the_cached_token_for_later_requests(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, clock: ClockControl, variant: str
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching; anchors 8 F.68: no token request per proxied request. The cached token is let
    expire first, so three requests make exactly one token request (the clock fixture keeps other tests away
    from the log meanwhile)."""
    header = "X-Upstream-Token" if variant == "upstream-oauth-header" else "Authorization"
    clock.advance(PAST_ANY_CACHED_TOKEN)
    mark = issuer_control.mark("token")
    seen = {injected_token(proxy.request(variant), upstream, header)[1] for _ in range(3)}
    assert len(issuer_control.token_calls(variant, since=mark)) == 1
    assert len(seen) == 1


@pytest.mark.requirement("KONG-UPO-2.5-cache")
def test_refetches_the_token_eagerly_before_it_expires(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, fresh: ClockControl
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: cache TTL = expires_in - eagerly_expire (5 s)."""
    variant = "upstream-oauth-post"
    mark = issuer_control.mark("token")
    first = injected_token(proxy.request(variant), upstream)[1]
    fresh.advance(TOKEN_LIFETIME - EAGERLY_EXPIRE - 8)
    assert injected_token(proxy.request(variant), upstream)[1] == first
    assert len(issuer_control.token_calls(variant, since=mark)) == 1
    fresh.advance(10)  # now past expires_in - eagerly_expire, still before expires_in
    second = injected_token(proxy.request(variant), upstream)[1]
    assert second != first
    assert len(issuer_control.token_calls(variant, since=mark)) == 2


@pytest.mark.requirement("KONG-UPO-2.5-purge")
@pytest.mark.needs("issuer_control", "upstream_log")  # counts upstream calls; the 401 carries no echo
def test_passes_an_upstream_401_through_and_purges_the_cached_token(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, fresh: ClockControl
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: the client gets the upstream's 401 (no retry); the next request fetches anew."""
    variant = "upstream-oauth-purge"
    mark = issuer_control.mark("token")
    first = proxy.request(variant)
    assert first.status == 401
    assert len(upstream.seen(first.probe)) == 1, "no retry: the upstream is called once"
    assert len(issuer_control.token_calls(variant, since=mark)) == 1
    second = proxy.request(variant)
    assert second.status == 401
    assert len(issuer_control.token_calls(variant, since=mark)) == 2
    one = upstream_headers(first, upstream, "Authorization")
    two = upstream_headers(second, upstream, "Authorization")
    assert one != two, "the purged token was used again"


# ------------------------------------------------------------------------------------------- IdP failures (2.4)
@pytest.mark.requirement("KONG-UPO-2.4-idp-error", "RS-no-upstream-on-reject")
def test_answers_a_refused_token_request_with_the_default_idp_error(proxy: Proxy, upstream: Upstream) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code; anchors 8 F.66: the IdP answers invalid_client (wrong secret) -> 502, fixed body."""
    assert_idp_error(proxy.request("upstream-oauth-idp-error"), upstream)


@pytest.mark.requirement("KONG-UPO-2.4-idp-error", "RS-no-upstream-on-reject")
def test_answers_an_idp_failure_with_the_configured_status_type_and_template(
    proxy: Proxy, upstream: Upstream
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code: {{status}} and {{message}} substituted into the configured template."""
    result = proxy.request("upstream-oauth-idp-custom")
    assert result.status == 503
    assert result.response.headers.get("content-type") == "application/problem+json"
    assert json.loads(result.response.text) == {"status": 503, "detail": "kf idp unavailable"}
    upstream.assert_not_reached(result)


IDP_FAILURES: dict[str, dict[str, Any]] = {
    "500-text": {"status": 500, "body": "internal error"},
    "503-json": {"status": 503, "body": {"error": "temporarily_unavailable"}},
    "400-invalid-scope": {"status": 400, "body": {"error": "invalid_scope"}},
    "401-invalid-client": {"status": 401, "body": {"error": "invalid_client"}},
    "200-no-access-token": {"status": 200, "body": {"token_type": "Bearer", "expires_in": 60}},
    "200-empty-access-token": {"status": 200, "body": {"access_token": "", "token_type": "Bearer"}},
    "200-not-json": {"status": 200, "body": "<html>login</html>"},
    "200-form-encoded": {"status": 200, "body": "access_token=abc&token_type=bearer"},
    "200-empty-body": {"status": 200, "body": ""},
    "503-html": {"status": 503, "body": "<html>down</html>", "headers": {"Content-Type": "text/html"}},
    "dropped-connection": {"drop_connection": True},
}
"""By name: token-shaped values stay out of recorded test parameters (the plugin refuses them)."""


@pytest.mark.requirement("KONG-UPO-2.4-idp-error", "RS-no-upstream-on-reject")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("failure", list(IDP_FAILURES))
def test_turns_any_idp_failure_into_the_configured_error_without_calling_upstream(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, fresh: ClockControl, failure: str
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods (success = status < 400, JSON, non-empty access_token), 2.4; anchors 8 F.66, F.67.

    The IdP's own status and body never reach the client.
    """
    mark = issuer_control.mark("token")
    with issuer_control.fault("token", **IDP_FAILURES[failure]):
        result = proxy.request("upstream-oauth-scripted")
    assert_idp_error(result, upstream)
    assert issuer_control.token_calls("upstream-oauth-scripted", since=mark), (
        "the token endpoint was never asked"
    )


@pytest.mark.requirement("KONG-UPO-2.4-idp-error", "KONG-UPO-2.5-cache")
@pytest.mark.needs("issuer_control")
def test_does_not_cache_a_failed_token_request(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, fresh: ClockControl
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code and https://developer.konghq.com/plugins/upstream-oauth/#caching: only a successful token answer is cached; the next request asks again."""
    with issuer_control.fault("token", status=500, body="down", times=1):
        assert_idp_error(proxy.request("upstream-oauth-scripted"), upstream)
    assert proxy.request("upstream-oauth-scripted").status == 200


@pytest.mark.requirement("KONG-UPO-2.5-token-type", "KONG-UPO-2.5-injection")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize(
    ("token_type", "expected"), [("bearer", "bearer"), ("Bearer", "Bearer"), (None, "Bearer")]
)
def test_uses_the_idps_token_type_verbatim(
    proxy: Proxy,
    upstream: Upstream,
    issuer_control: IssuerControl,
    fresh: ClockControl,
    token_type: str | None,
    expected: str,
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: '<token_type or "Bearer"> <access_token>'; lowercase bearer stays lowercase."""
    scripted = "kf-scripted-" + uuid.uuid4().hex
    body: dict[str, Any] = {"access_token": scripted, "expires_in": TOKEN_LIFETIME}
    if token_type is not None:
        body["token_type"] = token_type
    try:
        with issuer_control.fault("token", status=200, body=body, times=1):
            result = proxy.request("upstream-oauth-scripted")
        assert result.status == 200
        assert upstream_headers(result, upstream, "Authorization") == [f"{expected} {scripted}"]
    finally:
        fresh.advance(PAST_ANY_CACHED_TOKEN)  # drop the scripted token from the cache


@pytest.mark.requirement("KONG-UPO-2.5-cache")
@pytest.mark.needs("issuer_control", "virtual_clock")
def test_caches_a_token_without_expires_in_for_the_default_ttl(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, fresh: ClockControl
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: without expires_in the TTL is cache.default_ttl (3600 s)."""
    scripted = "kf-scripted-" + uuid.uuid4().hex
    variant = "upstream-oauth-scripted"
    with issuer_control.fault(
        "token", status=200, body={"access_token": scripted, "token_type": "Bearer"}, times=1
    ):
        assert injected_token(proxy.request(variant), upstream)[1] == scripted
    fresh.advance(DEFAULT_TTL - 100)
    assert injected_token(proxy.request(variant), upstream)[1] == scripted
    fresh.advance(101)
    assert injected_token(proxy.request(variant), upstream)[1] != scripted


@pytest.mark.requirement("KONG-UPO-2.5-cache")
@pytest.mark.needs("issuer_control")
def test_does_not_reuse_a_token_whose_lifetime_is_within_eagerly_expire(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, fresh: ClockControl
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: TTL = max(0.001, expires_in - eagerly_expire): expires_in 3 is effectively uncached."""
    variant = "upstream-oauth-scripted"
    body = {"access_token": "kf-short-lived", "token_type": "Bearer", "expires_in": 3}
    mark = issuer_control.mark("token")
    try:
        with issuer_control.fault("token", status=200, body=body):
            assert proxy.request(variant).status == 200
            fresh.advance(0.01)
            assert proxy.request(variant).status == 200
        assert len(issuer_control.token_calls(variant, since=mark)) == 2
    finally:
        fresh.advance(PAST_ANY_CACHED_TOKEN)
