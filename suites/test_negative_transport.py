"""Negative catalogue A (transport and header syntax), across every bearer flow.

the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1)-A.12, parametrized over openid-connect bearer, openid-connect
introspection, openid-connect kong_oauth2, oauth2-introspection and OSS oauth2. Each refusal is checked against
the exact answer Kong documents for the plugin (https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow and https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua): status, body, the parsed
WWW-Authenticate, and that the upstream saw nothing. Kong's departures from RFC 6750 go through the deviation
registry.
"""

from __future__ import annotations

import socket
import uuid
from urllib.parse import urlparse

import pytest
from fixtures import jose
from fixtures.http import Proxy
from fixtures.tokens import TokenFactory

from kongformance.profile import ProfileHandles
from negative_flows import (
    ALL_FLOWS,
    OAUTH2,
    OAUTH2_INTROSPECTION,
    OIDC_BEARER,
    OIDC_INTROSPECTION,
    Flow,
    Judge,
    Kind,
    flow_params,
    rfc_verdict,
    strict_syntax_ok,
    valid_token,
)

ALL = flow_params(ALL_FLOWS)
HEADER_ONLY = Flow("oidc-bearer", "oidc-bearer-header-only", "openid-connect", "kong-identity")


def _token(flow: Flow, tokens: TokenFactory, proxy: Proxy, kf_profile: ProfileHandles) -> str:
    return valid_token(flow, tokens, proxy, kf_profile)


def _unreadable_header_kind(flow: Flow) -> Kind:
    """What a plugin makes of an Authorization header it cannot split into ``bearer <token>``.

    https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants (openid-connect finds no token), 3.2 (oauth2-introspection needs exactly two parts:
    no token), 4.3 (OSS oauth2 uses the whole raw header value as the token: an invalid token).
    """
    return "invalid" if flow is OAUTH2 else "missing"


# ------------------------------------------------------------------------------------------- A.1
@pytest.mark.requirement(
    "RFC6750-3-no-credentials", "RFC6750-3.1-no-error-without-token", "RS-no-upstream-on-reject"
)
@pytest.mark.parametrize("flow", ALL)
def test_refuses_a_request_without_credentials_with_the_plugins_bearer_challenge(
    flow: Flow, judge: Judge
) -> None:
    """anchors 8 A.1; RFC 6750 3, 3.1; https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow and https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua (openid-connect adds error: deviation)."""
    result = judge.proxy.request(flow.route)
    ch = judge.refusal(flow, result, kinds=("missing",))
    rfc_verdict(
        judge.deviations, "RFC6750-3.1-no-error-without-token", flow, ch.error is None, f"params {ch.params}"
    )


# ------------------------------------------------------------------------------------------- A.2
@pytest.mark.requirement("RFC6750-2.1-scheme", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("scheme", ["Basic", "Digest", "Token"])
@pytest.mark.parametrize("flow", ALL)
def test_a_valid_token_under_another_scheme_is_refused_or_a_recorded_deviation(
    flow: Flow, scheme: str, tokens: TokenFactory, judge: Judge
) -> None:
    """anchors 8 A.2; RFC 6750 2.1. https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: oauth2-introspection and oauth2 accept "token"."""
    result = judge.proxy.request(
        flow.route, token=_token(flow, tokens, judge.proxy, judge.handles), auth_scheme=scheme
    )
    kinds = (_unreadable_header_kind(flow),)
    if scheme == "Token" and flow in (OAUTH2_INTROSPECTION, OAUTH2):  # recorded: Kong accepts "token"
        judge.refusal_or_recorded("RFC6750-2.1-scheme", flow, result, detail=scheme, kinds=kinds)
    else:
        judge.refusal(flow, result, kinds=kinds)


# ------------------------------------------------------------------------------------------- A.3
@pytest.mark.requirement("RFC6750-2.1-empty-credential", "RS-no-5xx", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("value", ["Bearer", "Bearer\t", "bearer  "])
@pytest.mark.parametrize("flow", ALL)
def test_refuses_a_bearer_scheme_without_a_credential(flow: Flow, value: str, judge: Judge) -> None:
    """anchors 8 A.3; RFC 6750 2.1 (``"Bearer" 1*SP b64token``); RFC 9110 5.5 strips trailing whitespace."""
    result = judge.proxy.request(flow.route, headers={"Authorization": value.rstrip()})
    judge.refusal(flow, result, kinds=(_unreadable_header_kind(flow),))


# ------------------------------------------------------------------------------------------- A.4
B64TOKEN_VIOLATIONS = {
    "inner-space": b"abc def",
    "comma": b"abc,def",
    "quotes": b'"abc"',
    "semicolon": b"abc;def",
    "non-ascii": "t\u00f6k".encode("latin-1"),
    "backslash": b"a\\b",
    "braces": b"{}",
    "nul-escape": b"%00",
    "del": b"\x7f",
}


@pytest.mark.requirement("RFC6750-2.1-b64token", "RS-no-5xx", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("case", list(B64TOKEN_VIOLATIONS))
@pytest.mark.parametrize("flow", ALL)
def test_refuses_a_credential_outside_b64token_never_with_a_5xx(flow: Flow, case: str, judge: Judge) -> None:
    """anchors 8 A.4; RFC 6750 2.1: 401 with the plugin's own refusal (https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow and https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua)."""
    value = b"Bearer " + B64TOKEN_VIOLATIONS[case]
    result = judge.proxy.request(flow.route, headers=[("Authorization", value)])  # type: ignore[list-item]
    if result.status == 400:  # the HTTP layer refused an invalid field value before any plugin ran
        judge.upstream.assert_not_reached(result)
        return
    # https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials: oauth2-introspection needs exactly two whitespace-separated parts, else no token
    kind: Kind = "missing" if flow is OAUTH2_INTROSPECTION and case == "inner-space" else "invalid"
    judge.refusal(flow, result, kinds=(kind,))


def _raw_exchange(proxy: Proxy, path: str, header_lines: list[bytes]) -> tuple[int, bytes]:
    """Send one HTTP/1.1 request byte for byte (no client library normalises it); return the status and head."""
    url = urlparse(proxy.stack.proxy_url)
    request = b"\r\n".join(
        [
            f"GET {path} HTTP/1.1".encode(),
            f"Host: {url.hostname}".encode(),
            *header_lines,
            b"Connection: close",
        ]
    )
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=10) as sock:
        sock.sendall(request + b"\r\n\r\n")
        received = b""
        while b"\r\n" not in received:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    status_line = received.split(b"\r\n", 1)[0].split()
    return int(status_line[1]), received


@pytest.mark.requirement("RFC6750-2.1-b64token", "RS-no-5xx", "RS-no-upstream-on-reject")
@pytest.mark.parametrize(
    "injection", [b"\r\n X-Injected: 1", b"\r\n\tcontinued"], ids=["fold-space", "fold-tab"]
)
@pytest.mark.parametrize("flow", ALL)
def test_a_folded_or_crlf_injected_credential_never_reaches_the_upstream(
    flow: Flow, injection: bytes, tokens: TokenFactory, judge: Judge
) -> None:
    """anchors 8 A.4 (CR/LF); RFC 9112 5.2 (obs-fold: reject with 400 or replace by SP); RFC 6750 2.1."""
    token = _token(flow, tokens, judge.proxy, judge.handles)
    probe = uuid.uuid4().hex
    lines = [f"X-KF-Probe: {probe}".encode(), b"Authorization: Bearer " + token.encode() + injection]
    status, _ = _raw_exchange(judge.proxy, judge.handles.routes[flow.route].path, lines)
    # RFC 9112 5.2 lets the HTTP layer reject obs-fold (400) or unfold it, after which the plugin refuses the
    # token (401): either refusal is conformant (recorded reason), a 2xx or 5xx fails
    assert status in (400, 401), f"a folded credential was answered {status}"
    judge.upstream.assert_not_reached(probe)


# ------------------------------------------------------------------------------------------- A.5
def _first_source(flow: Flow) -> str:
    """The token source a plugin reads first (https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: header before query; 3.2: query first; 4.3)."""
    return "query" if flow is OAUTH2_INTROSPECTION else "header"


@pytest.mark.requirement("RFC6750-2-one-method", "RS-no-5xx")
@pytest.mark.parametrize("flow", ALL)
def test_two_authorization_headers_are_refused_or_a_recorded_deviation(
    flow: Flow, tokens: TokenFactory, judge: Judge
) -> None:
    """anchors 8 A.5; RFC 6750 2; RFC 9110 5.3 (a singleton field). Kong reads the first value (inferred)."""
    token = _token(flow, tokens, judge.proxy, judge.handles)
    headers = [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    result = judge.proxy.request(flow.route, headers=headers)
    judge.refusal_or_recorded("RFC6750-2-one-method", flow, result, detail="two headers")


@pytest.mark.requirement("RFC6750-2.1-b64token", "RS-no-5xx", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("flow", ALL)
def test_refuses_two_tokens_in_one_authorization_header(
    flow: Flow, tokens: TokenFactory, judge: Judge
) -> None:
    """anchors 8 A.5; RFC 6750 2.1 (one b64token); https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants and https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials (two parts only), 4.3 (raw value)."""
    token = _token(flow, tokens, judge.proxy, judge.handles)
    result = judge.proxy.request(flow.route, headers={"Authorization": f"Bearer {token} {token}"})
    kind: Kind = "missing" if flow is OAUTH2_INTROSPECTION else "invalid"
    judge.refusal(flow, result, kinds=(kind,))


# ------------------------------------------------------------------------------------------- A.6
@pytest.mark.requirement("RFC6750-2-one-method", "RS-no-5xx")
@pytest.mark.parametrize("valid_in", ["header", "query"])
@pytest.mark.parametrize("flow", ALL)
def test_a_token_in_the_header_and_another_in_the_query_is_refused_or_a_recorded_deviation(
    flow: Flow, valid_in: str, tokens: TokenFactory, judge: Judge
) -> None:
    """anchors 8 A.6; RFC 6750 2. Kong reads one source first (https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants and https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua) and ignores the other."""
    token = _token(flow, tokens, judge.proxy, judge.handles)
    other = "kf-not-a-token"
    header, query = (token, other) if valid_in == "header" else (other, token)
    result = judge.proxy.request(flow.route, token=header, params={"access_token": query})
    if valid_in == _first_source(flow):  # Kong documents that the first source wins: a departure
        judge.refusal_or_recorded("RFC6750-2-one-method", flow, result, detail="header and query")
    else:
        judge.refusal(flow, result)


# ------------------------------------------------------------------------------------------- A.7
@pytest.mark.requirement("KONG-OIDC-1.2-bearer-sources", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("where", ["query", "form"])
def test_refuses_a_token_outside_the_header_where_only_the_header_is_searched(
    where: str, tokens: TokenFactory, judge: Judge
) -> None:
    """anchors 8 A.7; RFC 6750 2.3; https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants (bearer_token_param_type [header])."""
    token = tokens.access_token("default")
    if where == "query":
        result = judge.proxy.request(HEADER_ONLY.route, params={"access_token": token})
    else:
        result = judge.proxy.request(HEADER_ONLY.route, "POST", data={"access_token": token})
    judge.refusal(HEADER_ONLY, result, kinds=("missing",))


# ------------------------------------------------------------------------------------------- A.8
@pytest.mark.requirement("RFC6750-2.2-form-encoded", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("flow", ALL)
def test_refuses_a_body_token_that_is_not_form_encoded(
    flow: Flow, tokens: TokenFactory, judge: Judge
) -> None:
    """anchors 8 A.8; RFC 6750 2.2: only application/x-www-form-urlencoded bodies carry a token."""
    token = _token(flow, tokens, judge.proxy, judge.handles)
    result = judge.proxy.request(
        flow.route, "POST", data=f"access_token={token}", headers={"Content-Type": "text/plain"}
    )
    judge.refusal(flow, result, kinds=("missing",))


# ------------------------------------------------------------------------------------------- A.9
@pytest.mark.requirement("RFC9110-11.1-scheme-case")
@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
@pytest.mark.parametrize("flow", ALL)
def test_accepts_the_bearer_scheme_in_any_case(
    flow: Flow, scheme: str, tokens: TokenFactory, judge: Judge
) -> None:
    """anchors 8 A.9 (positive control); RFC 9110 11.1: the scheme is case-insensitive."""
    token = _token(flow, tokens, judge.proxy, judge.handles)
    judge.proxied(judge.proxy.request(flow.route, token=token, auth_scheme=scheme))


@pytest.mark.requirement("RFC9110-11.1-scheme-case")
@pytest.mark.parametrize("flow", flow_params((OIDC_BEARER, OIDC_INTROSPECTION)))
def test_accepts_several_spaces_between_scheme_and_token(
    flow: Flow, tokens: TokenFactory, judge: Judge
) -> None:
    """anchors 8 A.9; RFC 6750 2.1 (``1*SP``); https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants (rest after the first whitespace)."""
    token = _token(flow, tokens, judge.proxy, judge.handles)
    judge.proxied(judge.proxy.request(flow.route, headers={"Authorization": f"Bearer   {token}"}))


# ------------------------------------------------------------------------------------------- A.10
@pytest.mark.requirement(
    "RFC6750-3.1-error-description", "RFC6750-3.1-invalid-token", "RFC6750-3-challenge-syntax"
)
@pytest.mark.parametrize("flow", ALL)
def test_an_invalid_token_error_is_well_formed_and_never_echoes_the_token(
    flow: Flow, tokens: TokenFactory, judge: Judge
) -> None:
    """anchors 8 A.10; RFC 6750 3, 3.1 (US-ASCII error_description); RFC 6749 7.2."""
    token = _token(flow, tokens, judge.proxy, judge.handles)
    bad = jose.flip_signature_bit(token) if token.count(".") == 2 else token[::-1]
    result = judge.proxy.request(flow.route, token=bad)
    ch = judge.refusal(flow, result)
    assert ch.error == "invalid_token"
    assert all(0x20 <= ord(c) < 0x7F for c in ch.params.get("error_description", ""))
    assert bad not in result.response.text
    assert all(bad not in v for v in result.response.headers.values())
    rfc_verdict(
        judge.deviations,
        "RFC6750-3-challenge-syntax",
        flow,
        strict_syntax_ok(result),
        f"WWW-Authenticate: {result.response.headers.get('www-authenticate')!r}",
    )


# ------------------------------------------------------------------------------------------- A.11
@pytest.mark.requirement(
    "RFC6750-3.1-insufficient-scope", "KONG-OIDC-1.7-403-body", "RS-no-upstream-on-reject"
)
@pytest.mark.parametrize("route", ["oidc-bearer-scopes", "oidc-introspection-scopes"])
def test_refuses_a_valid_token_without_the_required_scope_with_403(
    route: str, tokens: TokenFactory, judge: Judge
) -> None:
    """anchors 8 A.11; RFC 6750 3.1 insufficient_scope; https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization and https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow (positive twin: scope read)."""
    judge.forbidden(judge.proxy.request(route, token=tokens.access_token("default", scope="write")))
    judge.proxied(judge.proxy.request(route, token=tokens.access_token("default", scope="read")))


# ------------------------------------------------------------------------------------------- A.12
@pytest.mark.requirement("RFC6585-5-oversized-header", "RS-no-5xx", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("size", [33 * 1024, 64 * 1024])
@pytest.mark.parametrize("flow", ALL)
def test_refuses_an_oversized_token_without_a_server_error(flow: Flow, size: int, judge: Judge) -> None:
    """anchors 8 A.12; RFC 6585 5; RFC 9110 5.4: 400/401/431 (nginx's 494 under Kong), no upstream call."""
    result = judge.proxy.request(flow.route, token="a" * size)
    # which layer refuses first depends on the header buffers in front of the plugin (nginx answers 400 or its
    # own 494, another server 413/431, the plugin 401): any of these refusals, never a 2xx/5xx (recorded reason)
    assert result.status in (400, 401, 413, 431, 494), f"{result.status}: {result.response.text[:200]!r}"
    judge.upstream.assert_not_reached(result)
