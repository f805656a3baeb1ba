"""Negative catalogue E (introspection) for openid-connect introspection and oauth2-introspection.

the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1)-E.65. The issuer's introspection answers are scripted through its fault
injection (``/_emulator/faults``); such tests hold the ``clock`` fixture, which runs them alone in the run, because a
fault applies to every caller of the endpoint. Time moves on the virtual clock, never by sleeping.
"""

from __future__ import annotations

from typing import Any

import pytest
from fixtures.issuer_control import IssuerControl, redacted
from fixtures.oracle import KONG_UNEXPECTED_ERROR, OIDC_UNAUTHORIZED, bearer, json_body
from fixtures.timing import ClockControl
from fixtures.tokens import TokenFactory

from kongformance.clients.issuer import IssuerClient
from kongformance.profile import TOKEN_LIFETIME, ProfileHandles
from negative_flows import (
    INT_FLOWS,
    OAUTH2_INTROSPECTION,
    OIDC_INTROSPECTION,
    Flow,
    Judge,
    flow_params,
    int_flow_params,
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
@pytest.mark.requirement("RS-INT-fail-closed")
@pytest.mark.parametrize(
    "flow", int_flow_params("KONG-OIDC-1.5-introspection-inactive", "KONG-INTRO-3.4-inactive")
)
def test_refuses_a_token_the_issuer_reports_inactive(
    flow: Flow, tokens: TokenFactory, issuer: IssuerClient, judge: Judge
) -> None:
    """anchors 8 E.59; RFC 7662 2.2; RFC 7009 2 (revoked before first use); https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow and https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works."""
    creds = judge.handles.clients["default"]
    token = tokens.access_token("default", scope="read")
    assert issuer.revoke(token, creds.id, creds.secret).status == 200
    judge.refusal(flow, judge.proxy.request(flow.route, token=token))


# ------------------------------------------------------------------------------------------- E.60
@pytest.mark.requirement("RS-INT-validity-window")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize(
    "flow", flow_params(INT_FLOWS, {"oidc-introspection": ("KONG-OIDC-1.5-introspection-expired",)})
)
def test_an_active_answer_past_its_exp_is_refused_or_a_recorded_deviation(
    flow: Flow, tokens: TokenFactory, issuer_control: IssuerControl, clock: ClockControl, judge: Judge
) -> None:
    """anchors 8 E.60; RFC 7662 2.2, 4. https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: openid-connect 401 "The access token expired";
    3.4: oauth2-introspection reads only active (a departure)."""
    now = clock.now()
    with issuer_control.fault(
        "introspect",
        status=200,
        body=_active_answer(judge.handles, now, iat=int(now) - 120, exp=int(now) - 60),
    ):
        result = judge.proxy.request(flow.route, token=tokens.access_token("default", scope="read"))
    rfc_verdict(judge.deviations, "RS-INT-validity-window", flow, result.status == 401, f"{result.status}")
    if flow is OIDC_INTROSPECTION:
        assert result.status == 401, f"{result.status}: {result.response.text[:200]!r}"
        judge.upstream.assert_not_reached(result)
        assert json_body(result) == OIDC_UNAUTHORIZED
        assert bearer(result).params == {
            "realm": oidc_realm(judge.handles),
            "error": "invalid_token",
            "error_description": "The access token expired",
        }
    else:
        judge.proxied(result)


# ------------------------------------------------------------------------------------------- E.61
@pytest.mark.requirement(
    "RFC6750-3.1-insufficient-scope", "KONG-OIDC-1.6-scopes-required", "KONG-OIDC-1.7-403-body"
)
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("scope", ["write", "READ", "", None], ids=["other", "case", "empty", "missing"])
def test_refuses_with_403_an_active_answer_without_the_required_scope(
    scope: str | None, tokens: TokenFactory, issuer_control: IssuerControl, clock: ClockControl, judge: Judge
) -> None:
    """anchors 8 E.61; RFC 7662 4 (the RS checks scope); https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization (introspection result first)."""
    answer = _active_answer(judge.handles, clock.now(), scope=scope)
    if scope is None:
        answer.pop("scope", None)
    with issuer_control.fault("introspect", status=200, body=answer):
        result = judge.proxy.request(
            "oidc-introspection-scopes", token=tokens.access_token("default", scope="read")
        )
    judge.forbidden(result)


# ------------------------------------------------------------------------------------------- E.62
ACTIVE_ANSWERS = {
    "false-with-claims": {"active": False, "scope": "read"},
    "missing": {"scope": "read"},
    "empty": {},
    "missing-with-client": {"scope": "read", "client_id": "x"},
    "null": {"active": None, "scope": "read"},
    "string-false": {"active": "false", "scope": "read"},
    "array-body": [{"active": True}],
}
LUA_TRUTHY = {"null", "string-false"}
"""Answers oauth2-introspection admits: it tests Lua truthiness of the cjson value (cjson.null and "false" are
truthy; docs/fidelity/gateway-oauth-plugins.md, inferred from SRC-INTRO-H)."""


@pytest.mark.requirement("RS-INT-fail-closed", "RFC7662-2.2-inactive", "RS-no-5xx")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("answer", list(ACTIVE_ANSWERS))
@pytest.mark.parametrize(
    "flow", int_flow_params("KONG-OIDC-1.5-introspection-inactive", "KONG-INTRO-3.3-active-required")
)
def test_refuses_when_the_answer_lacks_a_boolean_true_active(
    flow: Flow,
    answer: str,
    tokens: TokenFactory,
    issuer_control: IssuerControl,
    clock: ClockControl,
    judge: Judge,
) -> None:
    """anchors 8 E.62; RFC 7662 2.2 (active is a REQUIRED boolean); https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow and https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url (truthy active)."""
    with issuer_control.fault("introspect", status=200, body=ACTIVE_ANSWERS[answer]):
        result = judge.proxy.request(flow.route, token=tokens.access_token("default", scope="read"))
    if flow is OAUTH2_INTROSPECTION and answer in LUA_TRUTHY:  # a departure Kong's code implies
        judge.refusal_or_recorded("RS-INT-fail-closed", flow, result, detail=answer)
    else:
        judge.refusal(flow, result)


# ------------------------------------------------------------------------------------------- E.63
IDP_FAILURES: dict[str, dict[str, Any]] = {
    "401-invalid-client": {"status": 401, "body": {"error": "invalid_client"}},
    "500-text": {"status": 500, "body": "kf idp failure"},
    "503-html": {"status": 503, "body": "<html>down</html>", "headers": {"Content-Type": "text/html"}},
    "200-not-json": {"status": 200, "body": "active=true"},
    "302": {"status": 302, "headers": {"Location": "http://127.0.0.1:9/"}},
    "connection-dropped": {"drop_connection": True},
}


@pytest.mark.requirement("RS-INT-fail-closed", "RS-no-upstream-on-reject")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("failure", list(IDP_FAILURES))
@pytest.mark.parametrize(
    "flow",
    [
        pytest.param(
            OIDC_INTROSPECTION,
            id=OIDC_INTROSPECTION.name,
            marks=pytest.mark.requirement("KONG-OIDC-1.5-introspection-idp-failure"),
        ),
        pytest.param(
            OAUTH2_INTROSPECTION,
            id=OAUTH2_INTROSPECTION.name,
            marks=pytest.mark.requirement("KONG-INTRO-3.4-idp-failure"),
        ),
    ],
)
def test_never_admits_a_request_when_the_introspection_endpoint_fails(
    flow: Flow,
    failure: str,
    tokens: TokenFactory,
    issuer_control: IssuerControl,
    clock: ClockControl,
    judge: Judge,
) -> None:
    """anchors 8 E.63; RFC 7662 2.3, 4. openid-connect: its 401 for any introspection error; oauth2-introspection:
    401 with the IdP's body as it came, no challenge (a 200 that is not JSON is a Lua error in the handler: 500
    with Kong's generic body, docs/fidelity/negative-suites.md)."""
    rule = IDP_FAILURES[failure]
    with issuer_control.fault("introspect", **rule):
        result = judge.proxy.request(flow.route, token=tokens.access_token("default", scope="read"))
    if flow is OIDC_INTROSPECTION:
        judge.refusal(flow, result)
        return
    judge.upstream.assert_not_reached(result)
    if failure == "200-not-json":
        assert (result.status, json_body(result)) == (500, KONG_UNEXPECTED_ERROR), result.response.text[:200]
        return
    assert result.status == 401, f"{result.status}: {result.response.text[:200]!r}"
    assert "www-authenticate" not in result.response.headers
    body = rule.get("body")
    if isinstance(body, str):
        assert result.response.text == body
    elif isinstance(body, dict):
        assert json_body(result) == body


# ------------------------------------------------------------------------------------------- E.64
INTRO_CACHE = pytest.mark.requirement("KONG-INTRO-3.6-ttl-cache")
OIDC_CACHE = pytest.mark.requirement("KONG-OIDC-1.5-introspection-cache")


@pytest.mark.requirement("RS-INT-revocation-bounded")
@pytest.mark.needs("virtual_clock")
@pytest.mark.parametrize(
    ("route", "flow", "cached_for"),
    [
        pytest.param(
            "oauth2-introspection",
            OAUTH2_INTROSPECTION,
            30,
            id="oauth2-introspection-ttl30",
            marks=INTRO_CACHE,
        ),
        pytest.param(
            "oauth2-introspection-ttl1",
            OAUTH2_INTROSPECTION,
            1,
            id="oauth2-introspection-ttl1",
            marks=INTRO_CACHE,
        ),
        pytest.param(
            "oidc-introspection",
            OIDC_INTROSPECTION,
            TOKEN_LIFETIME,
            id="oidc-introspection-cached",
            marks=OIDC_CACHE,
        ),
        pytest.param(
            "oidc-introspection-nocache",
            OIDC_INTROSPECTION,
            0,
            id="oidc-introspection-nocache",
            marks=OIDC_CACHE,
        ),
    ],
)
def test_a_revoked_token_stops_working_when_the_cache_entry_expires(
    route: str,
    flow: Flow,
    cached_for: int,
    tokens: TokenFactory,
    issuer: IssuerClient,
    clock: ClockControl,
    judge: Judge,
) -> None:
    """anchors 8 E.64; RFC 7662 4; RFC 7009 2; https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow (cache until exp), 3.6 (ttl)."""
    creds = judge.handles.clients["default"]
    token = tokens.access_token("default", scope="read")
    judge.proxied(judge.proxy.request(route, token=token))
    assert issuer.revoke(token, creds.id, creds.secret).status == 200
    if cached_for:
        judge.proxied(judge.proxy.request(route, token=token))  # served from the cache (Kong documents it)
    clock.advance(cached_for + 1)
    result = judge.proxy.request(route, token=token)
    flow_on_route = Flow(flow.name, route, flow.plugin, flow.tokens)
    judge.refusal(flow_on_route, result)


@pytest.mark.requirement("RS-INT-revocation-bounded", "KONG-INTRO-3.6-ttl-cache")
@pytest.mark.needs("virtual_clock")
def test_a_cached_introspection_result_outliving_the_tokens_exp_is_a_recorded_deviation(
    tokens: TokenFactory, clock: ClockControl, judge: Judge
) -> None:
    """anchors 8 E.64 ("never survives its exp"); https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: the entry lives config.ttl (30 s) whatever exp says."""
    token = tokens.access_token("default", scope="read")
    clock.advance(TOKEN_LIFETIME - 15)
    judge.proxied(judge.proxy.request("oauth2-introspection", token=token))  # cached for 30 s from here
    clock.advance(20)  # 5 s past exp, inside the ttl
    result = judge.proxy.request("oauth2-introspection", token=token)
    judge.refusal_or_recorded(
        "RS-INT-revocation-bounded", OAUTH2_INTROSPECTION, result, detail="5 s past exp, inside the ttl"
    )


# ------------------------------------------------------------------------------------------- E.65
@pytest.mark.requirement("RFC7662-2.1-client-auth")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize(
    "flow", int_flow_params("KONG-OIDC-1.5-introspection-request", "KONG-INTRO-3.3-request")
)
def test_authenticates_to_the_introspection_endpoint_and_posts_the_token_as_a_form(
    flow: Flow, tokens: TokenFactory, issuer_control: IssuerControl, judge: Judge
) -> None:
    """anchors 8 E.65; RFC 7662 2.1; https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow (token_type_hint=access_token, Basic), 3.3 (no hint,
    Authorization = authorization_value); form POST with Accept JSON; the client's own Bearer never reaches the IdP."""
    token = tokens.access_token("default", scope="read")
    judge.proxied(judge.proxy.request(flow.route, token=token))
    calls = [c for c in issuer_control.requests("introspect") if c["form"].get("token") == redacted(token)]
    assert calls, "the gateway did not introspect the token"
    call = calls[-1]
    assert call["method"] == "POST"
    headers = {k.lower(): v for k, v in call["headers"].items()}
    assert headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
    assert headers.get("accept") == "application/json"
    assert call["auth"] == {"scheme": "basic", "client_id": judge.handles.clients["gateway"].id}
    if flow is OIDC_INTROSPECTION:
        assert call["form"].get("token_type_hint") == "access_token"
    else:
        assert "token_type_hint" not in call["form"]
