"""Shared oracle of the cross-flow negative catalogue (the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1) section 8).

One :class:`Flow` per bearer flow: its route variant, where its valid tokens come from, and the exact refusal
Kong documents for its plugin (https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow openid-connect, 3.4 oauth2-introspection, 4.3 oauth2).
``expect_refusal`` checks status, body, the parsed WWW-Authenticate and that the upstream saw nothing;
``rfc_verdict`` / ``expect_refusal_or_recorded`` turn an RFC observation into one of four verdicts (conforms,
recorded deviation with Kong's behaviour asserted exactly, open, fails; docs/requirements.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlparse

import pytest
from fixtures.evidence import DeviationCheck
from fixtures.http import Proxy, ProxyResult, Upstream
from fixtures.kong_oauth2 import issue
from fixtures.oracle import (
    INVALID_DESCRIPTION,
    OAUTH2_INVALID,
    OAUTH2_MISSING,
    OIDC_FORBIDDEN,
    OIDC_UNAUTHORIZED,
    Challenge,
    assert_proxied,
    bearer,
    follows_challenge_grammar,
    json_body,
)
from fixtures.tokens import TokenFactory

from kongformance.deviations import Deviation
from kongformance.profile import ProfileHandles
from kongformance.profile_gateway import absent_variant_reason

Kind = Literal["missing", "invalid"]
TokenSource = Literal["kong-identity", "kong-oauth2"]


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


def flow_params(flows: tuple[Flow, ...], requirements: dict[str, tuple[str, ...]] | None = None) -> list[Any]:
    """One pytest param a flow; ``requirements`` adds the flow-specific requirement IDs to that flow's case only."""
    reqs = requirements or {}
    return [
        pytest.param(f, id=f.name, marks=[pytest.mark.requirement(*reqs[f.name])] if f.name in reqs else [])
        for f in flows
    ]


def int_flow_params(oidc: str, intro: str) -> list[Any]:
    """Both introspection flows, each crediting its own plugin's requirement (flows: enforced at collection)."""
    return flow_params(INT_FLOWS, {OIDC_INTROSPECTION.name: (oidc,), OAUTH2_INTROSPECTION.name: (intro,)})


def oidc_realm(handles: ProfileHandles) -> str:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: the host part of the issuer URL (no port, no scheme), else "kong"."""
    return urlparse(handles.auth_server.issuer).hostname or "kong"


def valid_token(flow: Flow, tokens: TokenFactory, proxy: Proxy, handles: ProfileHandles) -> str:
    """A fresh token the flow accepts (never cached by an earlier request)."""
    if flow.route not in handles.routes:
        pytest.skip(absent_variant_reason(flow.route))
    if flow.tokens == "kong-oauth2":
        return issue(proxy, handles, scope="read")
    return tokens.access_token("default", scope="read")


def expected_body(flow: Flow, kind: Kind) -> dict[str, str]:
    """The JSON body Kong documents for a 401 of this flow's plugin."""
    if flow.oidc:
        return OIDC_UNAUTHORIZED
    return OAUTH2_MISSING if kind == "missing" else OAUTH2_INVALID


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
    assert json_body(result) == OIDC_FORBIDDEN
    assert bearer(result).params == {"realm": oidc_realm(handles), "error": "insufficient_scope"}


@dataclass(frozen=True)
class Judge:
    """The oracle of a bearer-flow test: the proxy, the upstream's log, the profile and the deviation registry,
    with the verdict helpers of this module bound to them (fixture ``judge``)."""

    proxy: Proxy
    upstream: Upstream
    handles: ProfileHandles
    deviations: DeviationCheck

    def refusal(
        self, flow: Flow, result: ProxyResult, *, kinds: tuple[Kind, ...] = ("invalid",)
    ) -> Challenge:
        """:func:`expect_refusal`."""
        return expect_refusal(flow, result, self.upstream, self.handles, kinds=kinds)

    def forbidden(self, result: ProxyResult) -> None:
        """:func:`expect_forbidden`."""
        expect_forbidden(result, self.upstream, self.handles)

    def proxied(self, result: ProxyResult) -> None:
        """:func:`fixtures.oracle.assert_proxied`."""
        assert_proxied(result, self.upstream)

    def refusal_or_recorded(
        self,
        requirement: str,
        flow: Flow,
        result: ProxyResult,
        *,
        detail: str,
        kinds: tuple[Kind, ...] = ("invalid",),
    ) -> Deviation | None:
        """:func:`expect_refusal_or_recorded`."""
        return expect_refusal_or_recorded(
            self.deviations,
            requirement,
            flow,
            result,
            self.upstream,
            self.handles,
            detail=detail,
            kinds=kinds,
        )


def strict_syntax_ok(result: ProxyResult) -> bool:
    """Whether every WWW-Authenticate value parses under the strict RFC 6750 3 / RFC 9110 11.6.1 grammar."""
    return all(follows_challenge_grammar(v) for v in result.response.headers.get_list("www-authenticate"))


def rfc_verdict(
    deviations: DeviationCheck, requirement: str, flow: Flow, conforms: bool, detail: str
) -> Deviation | None:
    """Judge an RFC observation through the deviation registry (data/deviations.yaml).

    Conforms: None. A recorded departure: the deviation (reported). An ``open`` entry: the observation is
    recorded as open. A departure the registry does not record, or a recorded one that vanished: the test fails.
    """
    return deviations.check(requirement, conforms, detail, flow=flow.name)


def expect_refusal_or_recorded(
    deviations: DeviationCheck,
    requirement: str,
    flow: Flow,
    result: ProxyResult,
    upstream: Upstream,
    handles: ProfileHandles,
    *,
    detail: str,
    kinds: tuple[Kind, ...] = ("invalid",),
    refused: bool | None = None,
) -> Deviation | None:
    """The requirement says refuse; the one verdict of what the gateway did, each branch asserted exactly.

    Conforms (``refused``, default: a 401): the flow's documented refusal (:func:`expect_refusal`). A recorded
    deviation: Kong's recorded behaviour (``kong: proxied`` -> 200 from the upstream, which saw it once;
    ``kong: refused`` -> the documented refusal). ``kong: open``: whichever of those two exact outcomes
    happened, recorded as open. Anything else fails (an unrecorded departure, a 5xx, a 403...).
    """
    if refused is None:
        refused = result.status == 401
    dev = rfc_verdict(deviations, requirement, flow, refused, f"{detail}: {result.status}")
    behaviour = "refused" if dev is None else dev.kong
    if behaviour == "open":
        behaviour = "refused" if refused else "proxied"
    if behaviour == "proxied":
        assert_proxied(result, upstream)
        deviations.uncheck_all_but(requirement, f"{flow.name}: proxied ({detail}), no refusal to check")
    else:
        expect_refusal(flow, result, upstream, handles, kinds=kinds)
    return dev
