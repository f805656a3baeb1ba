"""Negative catalogue E (introspection) for openid-connect introspection and oauth2-introspection.

the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1)-E.65. The issuer's introspection answers are scripted through its fault
injection (``/_emulator/faults``); such tests hold the ``clock`` fixture, which runs them alone in the run, because a
fault applies to every caller of the endpoint. Time moves on the virtual clock, never by sleeping.
"""

from __future__ import annotations

from typing import Any

import pytest
from fixtures.evidence import DeviationCheck
from fixtures.http import Proxy, Upstream
from fixtures.issuer_control import IssuerControl, redacted
from fixtures.oracle import assert_proxied, bearer, json_body
from fixtures.timing import ClockControl
from fixtures.tokens import TokenFactory

from kongformance.clients.issuer import IssuerClient
from kongformance.profile import TOKEN_LIFETIME, ProfileHandles
from negative_flows import (
    INT_FLOWS,
    OAUTH2_INTROSPECTION,
    OIDC_INTROSPECTION,
    Flow,
    expect_forbidden,
    expect_refusal,
    flow_params,
    oidc_realm,
    rfc_verdict,
)

FLOWS = flow_params(INT_FLOWS)


def _active_answer(kf_profile: ProfileHandles, now: float, **changes: Any) -> dict[str, Any]:
    """An RFC 7662 2.2 answer for the default client, edited by ``changes`` (None removes a member)."""
    client = kf_profile.clients["default"].id
    answer: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer",
        "scope": "read",
        "client_id": client,
        "sub": client,
        "iss": kf_profile.auth_server.issuer,
        "aud": [kf_profile.auth_server.audience],
        "iat": int(now),
        "exp": int(now) + TOKEN_LIFETIME,
    }
    for k, v in changes.items():
        if v is None:
            answer.pop(k, None)
        else:
            answer[k] = v
    return answer


# ------------------------------------------------------------------------------------------- E.59
@pytest.mark.requirement(
    "RS-INT-fail-closed", "KONG-INTRO-3.4-inactive", "KONG-OIDC-1.5-introspection-inactive"
)
@pytest.mark.parametrize("flow", FLOWS)
def test_refuses_a_token_the_issuer_reports_inactive(
    flow: Flow,
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    issuer: IssuerClient,
    kf_profile: ProfileHandles,
) -> None:
    """anchors 8 E.59; RFC 7662 2.2; RFC 7009 2 (revoked before first use); https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow and https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works."""
    creds = kf_profile.clients["default"]
    token = tokens.access_token("default", scope="read")
    assert issuer.revoke(token, creds.id, creds.secret).status == 200
    expect_refusal(flow, proxy.request(flow.route, token=token), upstream, kf_profile)


# ------------------------------------------------------------------------------------------- E.60
@pytest.mark.requirement("RS-INT-validity-window", "KONG-OIDC-1.5-introspection-expired")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("flow", FLOWS)
def test_an_active_answer_past_its_exp_is_refused_or_a_recorded_deviation(
    flow: Flow,
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    issuer_control: IssuerControl,
    kf_profile: ProfileHandles,
    clock: ClockControl,
    deviations: DeviationCheck,
) -> None:
    """anchors 8 E.60; RFC 7662 2.2, 4. https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: openid-connect 401 "The access token expired";
    3.4: oauth2-introspection reads only active (a departure)."""
    now = clock.now()
    with issuer_control.fault(
        "introspect",
        status=200,
        body=_active_answer(kf_profile, now, iat=int(now) - 120, exp=int(now) - 60),
    ):
        result = proxy.request(flow.route, token=tokens.access_token("default", scope="read"))
    rfc_verdict(deviations, "RS-INT-validity-window", flow, result.status == 401, f"{result.status}")
    if flow is OIDC_INTROSPECTION:
        assert result.status == 401, f"{result.status}: {result.response.text[:200]!r}"
        upstream.assert_not_reached(result)
        assert json_body(result) == {"message": "Unauthorized"}
        assert bearer(result).params == {
            "realm": oidc_realm(kf_profile),
            "error": "invalid_token",
            "error_description": "The access token expired",
        }
    else:
        assert_proxied(result, upstream)


# ------------------------------------------------------------------------------------------- E.61
@pytest.mark.requirement(
    "RFC6750-3.1-insufficient-scope", "KONG-OIDC-1.6-scopes-required", "KONG-OIDC-1.7-403-body"
)
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("scope", ["write", "READ", "", None], ids=["other", "case", "empty", "missing"])
def test_refuses_with_403_an_active_answer_without_the_required_scope(
    scope: str | None,
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    issuer_control: IssuerControl,
    kf_profile: ProfileHandles,
    clock: ClockControl,
) -> None:
    """anchors 8 E.61; RFC 7662 4 (the RS checks scope); https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization (introspection result first)."""
    answer = _active_answer(kf_profile, clock.now(), scope=scope)
    if scope is None:
        answer.pop("scope", None)
    with issuer_control.fault("introspect", status=200, body=answer):
        result = proxy.request(
            "oidc-introspection-scopes", token=tokens.access_token("default", scope="read")
        )
    expect_forbidden(result, upstream, kf_profile)


# ------------------------------------------------------------------------------------------- E.62
ACTIVE_ANSWERS = {
    "false-with-claims": {"active": False, "scope": "read"},
    "missing": {"scope": "read"},
    "null": {"active": None, "scope": "read"},
    "string-false": {"active": "false", "scope": "read"},
    "array-body": [{"active": True}],
}
LUA_TRUTHY = {"null", "string-false"}
"""Answers oauth2-introspection admits: it tests Lua truthiness of the cjson value (cjson.null and "false" are
truthy; docs/fidelity/gateway-oauth-plugins.md, inferred from SRC-INTRO-H)."""


@pytest.mark.requirement("RS-INT-fail-closed", "KONG-INTRO-3.3-active-required", "RS-no-5xx")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("answer", list(ACTIVE_ANSWERS))
@pytest.mark.parametrize("flow", FLOWS)
def test_refuses_when_the_answer_lacks_a_boolean_true_active(
    flow: Flow,
    answer: str,
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    issuer_control: IssuerControl,
    kf_profile: ProfileHandles,
    clock: ClockControl,
    deviations: DeviationCheck,
) -> None:
    """anchors 8 E.62; RFC 7662 2.2 (active is a REQUIRED boolean); https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow and https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url (truthy active)."""
    with issuer_control.fault("introspect", status=200, body=ACTIVE_ANSWERS[answer]):
        result = proxy.request(flow.route, token=tokens.access_token("default", scope="read"))
    if flow is OAUTH2_INTROSPECTION and answer in LUA_TRUTHY:  # a departure Kong's code implies
        rfc_verdict(
            deviations, "RS-INT-fail-closed", flow, result.status == 401, f"{answer}: {result.status}"
        )
        assert_proxied(result, upstream)
    else:
        expect_refusal(flow, result, upstream, kf_profile)


# ------------------------------------------------------------------------------------------- E.63
@pytest.mark.requirement(
    "RS-INT-fail-closed", "KONG-INTRO-3.4-idp-failure", "KONG-OIDC-1.5-introspection-idp-failure"
)
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize(
    "failure",
    [
        pytest.param({"status": 401, "body": {"error": "invalid_client"}}, id="401-invalid-client"),
        pytest.param({"status": 500, "body": {"error": "server_error"}}, id="500"),
        pytest.param(
            {"status": 503, "body": "<html>down</html>", "headers": {"Content-Type": "text/html"}},
            id="503-html",
        ),
        pytest.param({"status": 200, "body": "active=true"}, id="200-not-json"),
        pytest.param({"status": 302, "headers": {"Location": "http://127.0.0.1:9/"}}, id="302"),
        pytest.param({"drop_connection": True}, id="connection-dropped"),
    ],
)
@pytest.mark.parametrize("flow", FLOWS)
def test_never_admits_a_request_when_the_introspection_endpoint_fails(
    flow: Flow,
    failure: dict[str, Any],
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    issuer_control: IssuerControl,
    clock: ClockControl,
) -> None:
    """anchors 8 E.63; RFC 7662 2.3, 4. https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works: oauth2-introspection answers 401 with the IdP's body."""
    with issuer_control.fault("introspect", **failure):
        result = proxy.request(flow.route, token=tokens.access_token("default", scope="read"))
    assert result.status >= 400, f"an introspection failure was admitted: {result.status}"
    upstream.assert_not_reached(result)
    if (
        flow is OAUTH2_INTROSPECTION
    ):  # https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works: 401; a non-JSON 200 is a Lua error in the handler
        expected = 500 if failure.get("status") == 200 else 401
        assert result.status == expected, f"kong-plugins.md 3.4: {expected}, got {result.status}"


# ------------------------------------------------------------------------------------------- E.64
@pytest.mark.requirement(
    "RS-INT-revocation-bounded", "KONG-INTRO-3.6-ttl-cache", "KONG-OIDC-1.5-introspection-cache"
)
@pytest.mark.needs("virtual_clock")
@pytest.mark.parametrize(
    ("route", "flow", "cached_for"),
    [
        pytest.param("oauth2-introspection", OAUTH2_INTROSPECTION, 30, id="oauth2-introspection-ttl30"),
        pytest.param("oauth2-introspection-ttl1", OAUTH2_INTROSPECTION, 1, id="oauth2-introspection-ttl1"),
        pytest.param(
            "oidc-introspection", OIDC_INTROSPECTION, TOKEN_LIFETIME, id="oidc-introspection-cached"
        ),
        pytest.param("oidc-introspection-nocache", OIDC_INTROSPECTION, 0, id="oidc-introspection-nocache"),
    ],
)
def test_a_revoked_token_stops_working_when_the_cache_entry_expires(
    route: str,
    flow: Flow,
    cached_for: int,
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    issuer: IssuerClient,
    kf_profile: ProfileHandles,
    clock: ClockControl,
) -> None:
    """anchors 8 E.64; RFC 7662 4; RFC 7009 2; https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow (cache until exp), 3.6 (ttl)."""
    creds = kf_profile.clients["default"]
    token = tokens.access_token("default", scope="read")
    assert_proxied(proxy.request(route, token=token), upstream)
    assert issuer.revoke(token, creds.id, creds.secret).status == 200
    if cached_for:
        assert_proxied(
            proxy.request(route, token=token), upstream
        )  # served from the cache (Kong documents it)
    clock.advance(cached_for + 1)
    result = proxy.request(route, token=token)
    flow_on_route = Flow(flow.name, route, flow.plugin, flow.tokens)
    expect_refusal(flow_on_route, result, upstream, kf_profile)


@pytest.mark.requirement("RS-INT-revocation-bounded", "KONG-INTRO-3.6-ttl-cache")
@pytest.mark.needs("virtual_clock")
def test_a_cached_introspection_result_outliving_the_tokens_exp_is_a_recorded_deviation(
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    kf_profile: ProfileHandles,
    clock: ClockControl,
    deviations: DeviationCheck,
) -> None:
    """anchors 8 E.64 ("never survives its exp"); https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: the entry lives config.ttl (30 s) whatever exp says."""
    token = tokens.access_token("default", scope="read")
    clock.advance(TOKEN_LIFETIME - 15)
    assert_proxied(proxy.request("oauth2-introspection", token=token), upstream)  # cached for 30 s from here
    clock.advance(20)  # 5 s past exp, inside the ttl
    result = proxy.request("oauth2-introspection", token=token)
    rfc_verdict(
        deviations,
        "RS-INT-revocation-bounded",
        OAUTH2_INTROSPECTION,
        result.status == 401,
        f"{result.status}",
    )
    assert_proxied(
        result, upstream
    )  # https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: served from the cache


# ------------------------------------------------------------------------------------------- E.65
@pytest.mark.requirement(
    "KONG-OIDC-1.5-introspection-request", "KONG-INTRO-3.3-request", "RFC7662-2.1-client-auth"
)
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("flow", FLOWS)
def test_authenticates_to_the_introspection_endpoint_and_posts_the_token_as_a_form(
    flow: Flow,
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    issuer_control: IssuerControl,
    kf_profile: ProfileHandles,
) -> None:
    """anchors 8 E.65; RFC 7662 2.1; https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow (token_type_hint=access_token, Basic), 3.3 (no hint)."""
    token = tokens.access_token("default", scope="read")
    assert_proxied(proxy.request(flow.route, token=token), upstream)
    calls = [c for c in issuer_control.requests("introspect") if c["form"].get("token") == redacted(token)]
    assert calls, "the gateway did not introspect the token"
    call = calls[-1]
    assert call["method"] == "POST"
    assert "application/x-www-form-urlencoded" in call["headers"].get("content-type", "")
    assert call["auth"] == {"scheme": "basic", "client_id": kf_profile.clients["gateway"].id}
    if flow is OIDC_INTROSPECTION:
        assert call["form"].get("token_type_hint") == "access_token"
    else:
        assert "token_type_hint" not in call["form"]
