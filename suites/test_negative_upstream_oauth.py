"""Negative catalogue F (the gateway as an OAuth client: upstream-oauth).

the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1)-F.69. The token endpoint's answers are scripted through the issuer's fault
injection; tests hold the ``clock`` fixture (alone in the run) and move the virtual clock past the cached token's
lifetime (expires_in - eagerly_expire, https://developer.konghq.com/plugins/upstream-oauth/#caching) so the next request fetches a new one.
"""

from __future__ import annotations

from typing import Any

import pytest
from fixtures.http import Proxy, ProxyResult, Upstream
from fixtures.issuer_control import IssuerControl
from fixtures.timing import ClockControl

from kongformance.profile import TOKEN_LIFETIME
from negative_flows import assert_not_forwarded

ROUTE = "upstream-oauth-negative"
IDP_ERROR_BODY = {"code": "502", "message": "Failed to authenticate request to upstream"}


def expect_idp_error(result: ProxyResult, upstream: Upstream) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code: 502, the default template body (code a string), JSON content type; no upstream call."""
    assert result.status == 502, f"expected 502, got {result.status}: {result.response.text[:200]!r}"
    assert result.response.headers.get("content-type", "").startswith("application/json")
    assert result.json() == IDP_ERROR_BODY
    assert_not_forwarded(result, upstream)


def _expire_cached_token(clock: ClockControl) -> None:
    clock.advance(TOKEN_LIFETIME + 1)


# ------------------------------------------------------------------------------------------- F.66
@pytest.mark.requirement("KONG-UPO-2.4-idp-error", "RS-no-upstream-on-reject")
def test_answers_502_and_skips_the_upstream_when_the_idp_refuses_the_gateways_credentials(
    proxy: Proxy, upstream: Upstream
) -> None:
    """anchors 8 F.66; RFC 6749 5.2 (invalid_client); https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code (idp_error_response_status_code 502)."""
    expect_idp_error(proxy.request("upstream-oauth-idp-error"), upstream)


@pytest.mark.requirement("KONG-UPO-2.4-idp-error", "RS-no-upstream-on-reject")
@pytest.mark.needs("issuer_control", "virtual_clock")
@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"status": 400, "body": {"error": "invalid_scope"}}, id="invalid-scope"),
        pytest.param({"status": 401, "body": {"error": "invalid_client"}}, id="invalid-client"),
        pytest.param({"status": 500, "body": {"error": "server_error"}}, id="500"),
        pytest.param(
            {"status": 503, "body": "<html>down</html>", "headers": {"Content-Type": "text/html"}},
            id="503-html",
        ),
        pytest.param({"drop_connection": True}, id="connection-dropped"),
    ],
)
def test_answers_502_when_the_token_endpoint_fails(
    answer: dict[str, Any],
    proxy: Proxy,
    upstream: Upstream,
    issuer_control: IssuerControl,
    clock: ClockControl,
) -> None:
    """anchors 8 F.66; RFC 6749 5.2; https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods (status >= 400 or no connection is an IdP failure), 2.4."""
    _expire_cached_token(clock)
    with issuer_control.fault("token", **answer) as fault:
        result = proxy.request(ROUTE)
        assert issuer_control.hits(fault) >= 1, "the gateway did not ask the token endpoint"
    expect_idp_error(result, upstream)


# ------------------------------------------------------------------------------------------- F.67
UNUSABLE_TOKEN_RESPONSES: dict[str, Any] = {
    "no-access-token": {"token_type": "bearer", "expires_in": 60},
    "empty-access-token": {"access_token": "", "token_type": "bearer"},
    "form-encoded": "access_token=abc&token_type=bearer",
    "empty-body": "",
}
"""By name: token-shaped values stay out of recorded test parameters (the plugin refuses them)."""


@pytest.mark.requirement("KONG-UPO-2.4-idp-error", "RS-no-upstream-on-reject")
@pytest.mark.needs("issuer_control", "virtual_clock")
@pytest.mark.parametrize("kind", list(UNUSABLE_TOKEN_RESPONSES))
def test_answers_502_when_the_token_response_has_no_usable_access_token(
    kind: str,
    proxy: Proxy,
    upstream: Upstream,
    issuer_control: IssuerControl,
    clock: ClockControl,
) -> None:
    """anchors 8 F.67; RFC 6749 5.1 (access_token REQUIRED, JSON); https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods (a non-empty access_token)."""
    _expire_cached_token(clock)
    with issuer_control.fault("token", status=200, body=UNUSABLE_TOKEN_RESPONSES[kind]):
        result = proxy.request(ROUTE)
    expect_idp_error(result, upstream)


# ------------------------------------------------------------------------------------------- F.68
@pytest.mark.requirement("KONG-UPO-2.5-purge", "KONG-UPO-2.5-cache")
@pytest.mark.needs("issuer_control", "virtual_clock", "upstream_log")
def test_an_upstream_401_purges_the_token_and_the_next_request_fetches_exactly_one(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, clock: ClockControl
) -> None:
    """anchors 8 F.68; RFC 6750 3.1; https://developer.konghq.com/plugins/upstream-oauth/#caching (purge in header_filter, no retry, next request fetches)."""
    first = proxy.request("upstream-oauth-purge")
    assert first.status == 401, "the client gets the upstream's own answer"
    assert len(upstream.seen(first.probe)) == 1, "no retry towards the upstream"
    before = len(issuer_control.token_calls("purge"))
    second = proxy.request("upstream-oauth-purge")
    assert second.status == 401
    assert len(issuer_control.token_calls("purge")) == before + 1, (
        "the purged token was not re-fetched exactly once"
    )


@pytest.mark.requirement("KONG-UPO-2.5-cache")
@pytest.mark.needs("issuer_control", "virtual_clock")
def test_reuses_the_cached_token_instead_of_fetching_per_request(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, clock: ClockControl
) -> None:
    """anchors 8 F.68 ("no fetch per request otherwise"); https://developer.konghq.com/plugins/upstream-oauth/#caching."""
    _expire_cached_token(clock)
    before = len(issuer_control.token_calls("negative"))
    for _ in range(3):
        assert proxy.request(ROUTE).status == 200
    assert len(issuer_control.token_calls("negative")) == before + 1


# ------------------------------------------------------------------------------------------- F.69
@pytest.mark.requirement("RFC6749-10.3-no-token-leak", "KONG-UPO-2.5-injection")
@pytest.mark.needs("issuer_control", "virtual_clock")
def test_the_clients_authorization_header_reaches_neither_the_token_endpoint_nor_the_upstream(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, clock: ClockControl
) -> None:
    """anchors 8 F.69; RFC 6749 10.3; RFC 6750 5.3; https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods (client_secret_post), 2.5 (header replaced)."""
    _expire_cached_token(clock)
    client_token = "kf-client-own-credential-0123456789"
    before = len(issuer_control.token_calls("negative"))
    result = proxy.request(ROUTE, token=client_token)
    calls = issuer_control.token_calls("negative")[before:]
    assert result.status == 200, result.response.text[:200]
    assert len(calls) == 1
    assert "authorization" not in calls[0]["headers"], "an Authorization header reached the token endpoint"
    assert calls[0]["auth"]["scheme"] == "client_secret_post"
    sent = result.upstream_header("authorization") or ""
    assert client_token not in sent, "the client's own credential reached the upstream"
    assert sent.lower().startswith("bearer ") and len(sent) > len("bearer ")
