"""Shared oracle of the cross-flow negative catalogue (the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1) section 8).

One :class:`Flow` per bearer flow: its route variant, where its valid tokens come from, and the exact refusal
Kong documents for its plugin (https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow openid-connect, 3.4 oauth2-introspection, 4.3 oauth2).
``expect_refusal`` checks status, body, the parsed WWW-Authenticate and that the upstream saw nothing;
``rfc_verdict`` turns an RFC observation into a deviation verdict (data/deviations.yaml).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlparse

import pytest
from fixtures.evidence import DeviationCheck
from fixtures.http import Proxy, ProxyResult, Upstream
from fixtures.oracle import Challenge, bearer, follows_challenge_grammar, json_body
from fixtures.tokens import TokenFactory

from kongformance.profile import ProfileHandles
from kongformance.profile_gateway import absent_variant_reason
from kongformance.run_checks import lacks_reason

Kind = Literal["missing", "invalid"]
TokenSource = Literal["kong-identity", "kong-oauth2"]

INVALID_DESCRIPTION = "The access token is invalid or has expired"
MISSING_DESCRIPTION = "The access token is missing"


@dataclass(frozen=True)
class Flow:
    """A bearer flow of the profile: deviation-registry name, route variant, plugin and token source."""

    name: str
    route: str
    plugin: str
    tokens: TokenSource

    @property
    def oidc(self) -> bool:
        return self.plugin == "openid-connect"


OIDC_BEARER = Flow("oidc-bearer", "oidc-bearer", "openid-connect", "kong-identity")
OIDC_INTROSPECTION = Flow(
    "oidc-introspection", "oidc-introspection-nocache", "openid-connect", "kong-identity"
)
OIDC_KONG_OAUTH2 = Flow("oidc-kong-oauth2", "oidc-kong-oauth2", "openid-connect", "kong-oauth2")
OAUTH2_INTROSPECTION = Flow(
    "oauth2-introspection", "oauth2-introspection", "oauth2-introspection", "kong-identity"
)
OAUTH2 = Flow("oauth2", "oauth2", "oauth2", "kong-oauth2")

ALL_FLOWS = (OIDC_BEARER, OIDC_INTROSPECTION, OIDC_KONG_OAUTH2, OAUTH2_INTROSPECTION, OAUTH2)
"""[ALL]: every bearer flow."""
IDENTITY_FLOWS = (OIDC_BEARER, OIDC_INTROSPECTION, OAUTH2_INTROSPECTION)
"""Flows that accept Kong Identity JWTs (verified locally or by the issuer's introspection endpoint)."""
INT_FLOWS = (OIDC_INTROSPECTION, OAUTH2_INTROSPECTION)
"""[INT]: introspection flows."""


def flow_params(flows: tuple[Flow, ...]) -> list[Any]:
    return [pytest.param(f, id=f.name) for f in flows]


def oidc_realm(handles: ProfileHandles) -> str:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: the host part of the issuer URL (no port, no scheme), else "kong"."""
    return urlparse(handles.auth_server.issuer).hostname or "kong"


def oauth2_token(proxy: Proxy, handles: ProfileHandles, scope: str = "read") -> str:
    """A token of the OSS oauth2 plugin: client_credentials at <route>/oauth2/token over HTTPS (https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua)."""
    if "oauth2" not in handles.routes or handles.oauth2 is None:
        pytest.skip(
            lacks_reason(["db"], "the oauth2 route needs a database (not part of this run's profile)")
        )
    creds = handles.oauth2
    url = proxy.url("oauth2", scheme="https", path_suffix="/oauth2/token")
    form = {"grant_type": "client_credentials", "client_id": creds.id, "client_secret": creds.secret}
    resp = proxy.http.post(url, data={**form, "scope": scope})
    assert resp.status_code == 200, f"oauth2 token endpoint: {resp.status_code} {resp.text[:200]!r}"
    return str(resp.json()["access_token"])


def valid_token(flow: Flow, tokens: TokenFactory, proxy: Proxy, handles: ProfileHandles) -> str:
    """A fresh token the flow accepts (never cached by an earlier request)."""
    if flow.route not in handles.routes:
        pytest.skip(absent_variant_reason(flow.route))
    if flow.tokens == "kong-oauth2":
        return oauth2_token(proxy, handles)
    return tokens.access_token("default", scope="read")


def expected_body(flow: Flow, kind: Kind) -> dict[str, str]:
    """The JSON body Kong documents for a 401 of this flow's plugin."""
    if flow.oidc:
        return {
            "message": "Unauthorized"
        }  # https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow
    if (
        kind == "missing"
    ):  # https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua
        return {"error": "invalid_request", "error_description": MISSING_DESCRIPTION}
    return {"error": "invalid_token", "error_description": INVALID_DESCRIPTION}


def expected_challenge(flow: Flow, kind: Kind, handles: ProfileHandles) -> dict[str, str]:
    """The auth-params of the Bearer challenge Kong documents for a 401 of this flow's plugin."""
    if flow.oidc:  # https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: error="invalid_token" even without a token
        return {"realm": oidc_realm(handles), "error": "invalid_token"}
    params: dict[str, str] = {"realm": "service"} if flow.plugin == "oauth2-introspection" else {}
    if (
        kind == "invalid"
    ):  # https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua
        params.update(error="invalid_token", error_description=INVALID_DESCRIPTION)
    return params


def assert_not_forwarded(result: ProxyResult, upstream: Upstream) -> None:
    """RS-no-upstream-on-reject: nothing carrying this request's probe reached the upstream."""
    upstream.assert_not_reached(result)


def expect_refusal(
    flow: Flow,
    result: ProxyResult,
    upstream: Upstream,
    handles: ProfileHandles,
    *,
    kinds: tuple[Kind, ...] = ("invalid",),
) -> Challenge:
    """401 with the plugin's documented body and Bearer challenge for one of ``kinds``; the upstream saw nothing."""
    assert result.status < 500, f"server error {result.status}: {result.response.text[:200]!r}"
    assert result.status == 401, (
        f"{flow.name}: expected 401, got {result.status}: {result.response.text[:200]!r}"
    )
    assert_not_forwarded(result, upstream)
    ch = bearer(result)
    body = json_body(result)
    matched = [k for k in kinds if body == expected_body(flow, k)]
    assert matched, f"{flow.name}: body {body!r} is none of {[expected_body(flow, k) for k in kinds]!r}"
    assert ch.params == expected_challenge(flow, matched[0], handles), (
        f"{flow.name}: challenge {ch.params!r} != {expected_challenge(flow, matched[0], handles)!r}"
    )
    assert ch.token68 is None
    return ch


def expect_forbidden(result: ProxyResult, upstream: Upstream, handles: ProfileHandles) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: openid-connect 403 {"message":"Forbidden"}, error="insufficient_scope"."""
    assert result.status == 403, f"expected 403, got {result.status}: {result.response.text[:200]!r}"
    assert_not_forwarded(result, upstream)
    assert json_body(result) == {"message": "Forbidden"}
    assert bearer(result).params == {"realm": oidc_realm(handles), "error": "insufficient_scope"}


def strict_syntax_ok(result: ProxyResult) -> bool:
    """Whether every WWW-Authenticate value parses under the strict RFC 6750 3 / RFC 9110 11.6.1 grammar."""
    return all(follows_challenge_grammar(v) for v in result.response.headers.get_list("www-authenticate"))


def rfc_verdict(
    deviations: DeviationCheck, requirement: str, flow: Flow, conforms: bool, detail: str
) -> None:
    """Judge an RFC observation through the deviation registry.

    A departure the registry records is reported as a deviation; a recorded one that vanished fails. A departure
    that Kong documents but the registry does not yet record (the test has already asserted Kong's exact
    behaviour) is reported as a warning naming the entry to add, so the lead can record it.
    """
    known = deviations.registry.find(requirement, flow.name, deviations.stack.version)
    if conforms or known is not None:
        deviations.check(requirement, conforms, detail, flow=flow.name)
        return
    deviations.request.node.user_properties.append(("unrecorded-deviation", f"{requirement}:{flow.name}"))
    warnings.warn(f"unrecorded Kong deviation from {requirement} ({flow.name}): {detail}", stacklevel=2)
