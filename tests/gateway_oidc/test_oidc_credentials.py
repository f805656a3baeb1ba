"""Where openid-connect looks for the bearer token, and the no-token redirect (https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from kongformance.gateway.plugins.base import ProxyRequest, RequestContext

from .conftest import ISSUER, Harness, make_request, oidc_harness


def _ok(h: Harness, request: ProxyRequest) -> tuple[bool, RequestContext]:
    result, ctx = h.call(request)
    return result is None, ctx


def test_reads_the_authorization_bearer_header_case_insensitively() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: Authorization scheme bearer is matched case-insensitively."""
    h = oidc_harness()
    ok, _ = _ok(h, make_request(headers=[("Authorization", "bEaReR " + h.idp.token())]))
    assert ok


@pytest.mark.parametrize("name", ["access-token", "x-access-token"])
def test_reads_access_token_and_x_access_token_headers(name: str) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: the headers access-token and x-access-token are tried after Authorization."""
    h = oidc_harness()
    ok, _ = _ok(h, make_request(headers=[(name, h.idp.token())]))
    assert ok


def test_ignores_a_non_bearer_authorization_header() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: only the bearer scheme is read from Authorization."""
    h = oidc_harness()
    result, _ = h.call(make_request(headers=[("Authorization", "Basic " + h.idp.token())]))
    assert result is not None and result.status == 401


def test_bearer_without_a_token_is_no_token() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: the regex needs a non-empty remainder after the scheme."""
    h = oidc_harness()
    result, _ = h.call(make_request(headers=[("Authorization", "Bearer ")]))
    assert result is not None and result.status == 401


def test_reads_the_access_token_query_parameter() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: query access_token."""
    h = oidc_harness()
    ok, _ = _ok(h, make_request(query=[("access_token", h.idp.token())]))
    assert ok


def test_reads_the_form_body_field() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: body form field access_token."""
    h = oidc_harness()
    body = f"access_token={h.idp.token()}&x=1".encode()
    request = make_request(
        method="POST", body=body, headers=[("Content-Type", "application/x-www-form-urlencoded")]
    )
    ok, _ = _ok(h, request)
    assert ok


def test_reads_the_json_body_field() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: body JSON field access_token."""
    h = oidc_harness()
    body = json.dumps({"access_token": h.idp.token(), "x": 1}).encode()
    ok, _ = _ok(h, make_request(method="POST", body=body, headers=[("Content-Type", "application/json")]))
    assert ok


def test_reads_the_named_cookie_only_when_cookie_is_enabled() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: cookie named by bearer_token_cookie_name, when 'cookie' is in bearer_token_param_type."""
    h = oidc_harness(bearer_token_cookie_name="at")
    request = make_request(headers=[("Cookie", f"a=b; at={h.idp.token()}")])
    result, _ = h.call(request)
    assert result is not None and result.status == 401
    h2 = oidc_harness(bearer_token_cookie_name="at", bearer_token_param_type=["cookie"])
    ok, _ = _ok(h2, make_request(headers=[("Cookie", f"a=b; at={h2.idp.token()}")]))
    assert ok


def test_searches_locations_in_the_configured_order() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: bearer_token_param_type is searched in array order; the first token found wins."""
    h = oidc_harness(bearer_token_param_type=["query", "header"])
    good = h.idp.token()
    request = make_request(query=[("access_token", "garbage")], headers=[("Authorization", f"Bearer {good}")])
    result, _ = h.call(request)
    assert result is not None and result.status == 401
    h2 = oidc_harness(bearer_token_param_type=["header", "query"])
    request2 = make_request(
        query=[("access_token", "garbage")], headers=[("Authorization", f"Bearer {good}")]
    )
    assert h2.call(request2)[0] is None


def test_a_location_left_out_of_bearer_token_param_type_is_not_read() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: only the configured locations are searched."""
    h = oidc_harness(bearer_token_param_type=["header"])
    result, _ = h.call(make_request(query=[("access_token", h.idp.token())]))
    assert result is not None and result.status == 401


def test_bearer_token_header_name_is_the_only_header_checked() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: 3.15 bearer_token_header_name; when set, only that header is checked."""
    h = oidc_harness(bearer_token_header_name="X-My-Token")
    token = h.idp.token()
    result, _ = h.call(make_request(headers=[("Authorization", f"Bearer {token}")]))
    assert result is not None and result.status == 401
    assert h.call(make_request(headers=[("X-My-Token", token)]))[0] is None
    assert h.call(make_request(headers=[("X-My-Token", f"Bearer {token}")]))[0] is None


def test_default_auth_methods_redirect_to_the_idp_without_a_token() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: with the default nine methods, no token ends in a 302 to the IdP."""
    h = oidc_harness(
        auth_methods=[
            "authorization_code",
            "bearer",
            "client_credentials",
            "introspection",
            "kong_oauth2",
            "password",
            "refresh_token",
            "session",
            "userinfo",
        ],
        client_id=["my-client"],
    )
    result, _ = h.send(None)
    assert result is not None and result.status == 302
    location = urlsplit(result.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == ISSUER + "/authorize"
    query = parse_qs(location.query)
    assert query["client_id"] == ["my-client"]
    assert query["response_type"] == ["code"]
    assert query["scope"] == ["openid"]
    assert query["state"][0] and query["nonce"][0]


def test_without_authorization_code_no_token_is_401() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants and https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: pinned auth_methods [bearer] gives 401 when no token is sent."""
    h = oidc_harness(auth_methods=["bearer"])
    result, _ = h.send(None)
    assert result is not None and result.status == 401


def test_options_preflight_skips_the_plugin_when_run_on_preflight_is_false() -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/: run_on_preflight (default true)."""
    h = oidc_harness(run_on_preflight=False)
    assert h.call(make_request(method="OPTIONS"))[0] is None
    h2 = oidc_harness()
    refusal, _ = h2.call(make_request(method="OPTIONS"))
    assert refusal is not None and refusal.status == 401
