"""The profile's route table: one route variant per flow and behaviour (:data:`ROUTE_VARIANTS`), each with the
plugins it configures (builders over the applied issuer objects) and what it needs (a database, a Kong
version). :mod:`kongformance.profile_gateway` renders the table as a decK document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kongformance.clients.issuer import basic_auth
from kongformance.profile import AUDIENCE, OTHER_AUDIENCE, ClientCreds, ProfileHandles
from kongformance.profile_credentials import missing_anonymous, oauth2_provision_key

UNREACHABLE_ISSUER = "http://127.0.0.1:9/kf-unreachable/auth"  # port 9 (discard): connection refused

# upstream header name -> claim, for the openid-connect header variants (https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header)
UPSTREAM_CLAIM_HEADERS: dict[str, str] = {
    "X-KF-Always": "kf_always",
    "X-KF-Number": "kf_number",
    "X-KF-Json": "kf_json",
    "X-KF-Tier": "kf_tpl_tier",
}


PluginBuilder = Callable[[ProfileHandles], dict[str, Any]]


def _oidc(**config: Any) -> PluginBuilder:
    def build(h: ProfileHandles) -> dict[str, Any]:
        base: dict[str, Any] = {"issuer": h.auth_server.issuer, "auth_methods": ["bearer"]}
        base.update(config)
        return {"name": "openid-connect", "config": base}

    return build


def _oidc_unreachable(h: ProfileHandles) -> dict[str, Any]:
    return {"name": "openid-connect", "config": {"issuer": UNREACHABLE_ISSUER, "auth_methods": ["bearer"]}}


def _jwt(h: ProfileHandles) -> dict[str, Any]:
    return {"name": "jwt", "config": {"claims_to_verify": ["exp", "nbf"], "realm": "kongformance"}}


def _jwt_variant(**config: Any) -> PluginBuilder:
    def build(h: ProfileHandles) -> dict[str, Any]:
        plugin = _jwt(h)
        plugin["config"].update(config)
        return plugin

    return build


def _oidc_headers(h: ProfileHandles) -> dict[str, Any]:
    plugin = _oidc()(h)
    plugin["config"]["upstream_headers_claims"] = list(UPSTREAM_CLAIM_HEADERS.values())
    plugin["config"]["upstream_headers_names"] = list(UPSTREAM_CLAIM_HEADERS)
    return plugin


def _oidc_introspection(cache: bool) -> PluginBuilder:
    def build(h: ProfileHandles) -> dict[str, Any]:
        gw = h.clients["gateway"]
        config = {
            "issuer": h.auth_server.issuer,
            "auth_methods": ["introspection"],
            "client_id": [gw.id],
            "client_secret": [gw.secret],
            "cache_introspection": cache,
        }
        return {"name": "openid-connect", "config": config}

    return build


def _authorization_value(gw: ClientCreds) -> str:
    if gw.id.startswith("${{"):  # placeholder handles of `kongformance config`
        return '${{ env "DECK_GATEWAY_BASIC_AUTH" }}'
    return basic_auth(gw.id, gw.secret)


def _introspection_plugin(ttl: int) -> PluginBuilder:
    def build(h: ProfileHandles) -> dict[str, Any]:
        gw = h.clients["gateway"]
        config = {
            "introspection_url": h.auth_server.issuer + "/introspect",
            "authorization_value": _authorization_value(gw),
            "consumer_by": "client_id",
            "custom_claims_forward": ["kf_always"],
            "ttl": ttl,
        }
        return {"name": "oauth2-introspection", "config": config}

    return build


def _upstream_oauth(
    variant: str, auth_method: str, *, wrong_secret: bool = False, header: str | None = None
) -> PluginBuilder:
    def build(h: ProfileHandles) -> dict[str, Any]:
        gw = h.clients["gateway"]
        config: dict[str, Any] = {
            "oauth": {
                "token_endpoint": h.auth_server.issuer + "/oauth/token",
                "grant_type": "client_credentials",
                "client_id": gw.id,
                "client_secret": "not-the-secret" if wrong_secret else gw.secret,
                "scopes": ["read"],
                # a distinct oauth record per variant: Kong shares the token cache between identical records
                "token_headers": {"X-KF-Variant": variant},
            },
            "client": {"auth_method": auth_method},
        }
        if header:
            config["behavior"] = {"upstream_access_token_header_name": header}
        return {"name": "upstream-oauth", "config": config}

    return build


def _oauth2(h: ProfileHandles) -> dict[str, Any]:
    config = {"enable_client_credentials": True, "global_credentials": True, "scopes": ["read", "write"]}
    return {"name": "oauth2", "config": config}


def _oauth2_grants(variant: str, scopes: list[str], **config: Any) -> PluginBuilder:
    """A global oauth2 plugin for the three-legged and refresh grants (Kong's 25-oauth2 access spec)."""

    def build(h: ProfileHandles) -> dict[str, Any]:
        base: dict[str, Any] = {
            "enable_password_grant": True,
            "global_credentials": True,
            "scopes": scopes,
            "provision_key": oauth2_provision_key(h, variant),
        }
        base.update(config)
        return {"name": "oauth2", "config": base}

    return build


@dataclass(frozen=True)
class RouteVariant:
    """One route of the profile: its plugins, upstream path, and whether it needs a database."""

    plugins: tuple[PluginBuilder, ...]
    upstream_path: str = "/anything"
    needs_db: bool = False
    protected: bool = True  # refuses unauthenticated requests (checked by the guard)
    min_version: tuple[int, int] = (0, 0)  # Kong version that introduced a config field it uses


ROUTE_VARIANTS: dict[str, RouteVariant] = {
    "oidc-bearer": RouteVariant((_oidc(),)),
    "oidc-bearer-header-only": RouteVariant((_oidc(bearer_token_param_type=["header"]),)),
    "oidc-bearer-scopes": RouteVariant((_oidc(scopes_required=["read"]),)),
    "oidc-bearer-scopes-and": RouteVariant((_oidc(scopes_required=["read write"]),)),
    "oidc-bearer-scopes-or": RouteVariant((_oidc(scopes_required=["admin", "write"]),)),
    "oidc-bearer-audience": RouteVariant((_oidc(audience_required=[AUDIENCE]),)),
    "oidc-bearer-audience-other": RouteVariant((_oidc(audience_required=[OTHER_AUDIENCE]),)),
    "oidc-bearer-headers": RouteVariant((_oidc_headers,)),
    "oidc-bearer-leeway": RouteVariant((_oidc(leeway=30),)),
    # hide_credentials on every version (pre-3.14 defaults leave it false), for body tokens (issue 12)
    "oidc-bearer-hide": RouteVariant((_oidc(hide_credentials=True),)),
    # discovery cannot load: 500 (https://developer.konghq.com/plugins/openid-connect/#discovery-cache); not guarded, it never answers 4xx
    "oidc-bearer-discovery-down": RouteVariant((_oidc_unreachable,), protected=False),
    "jwt": RouteVariant((_jwt,)),
    # secret_is_base64 never applies to RS256 public keys (16-jwt access spec @3.9.0, Kong #13710)
    "jwt-base64": RouteVariant((_jwt_variant(secret_is_base64=True),)),
    # anonymous names no consumer: 500 (3.10+ names it); answers no 401, so not guarded
    "jwt-anonymous-missing": RouteVariant(
        (lambda h: _jwt_variant(anonymous=missing_anonymous(h))(h),), protected=False
    ),
    "oidc-introspection": RouteVariant((_oidc_introspection(cache=True),)),
    "oidc-introspection-nocache": RouteVariant((_oidc_introspection(cache=False),)),
    "oidc-kong-oauth2": RouteVariant((_oidc(auth_methods=["kong_oauth2"]),), needs_db=True),
    "oauth2": RouteVariant((_oauth2,), needs_db=True),
    "oauth2-introspection": RouteVariant((_introspection_plugin(ttl=30),)),
    "oauth2-introspection-ttl1": RouteVariant((_introspection_plugin(ttl=1),)),
    # openid-connect (1050) must run before upstream-oauth (760): https://developer.konghq.com/gateway/authentication/
    "oidc-bearer-upstream-oauth": RouteVariant((_oidc(), _upstream_oauth("chain", "client_secret_post"))),
    "upstream-oauth-post": RouteVariant((_upstream_oauth("post", "client_secret_post"),), protected=False),
    "upstream-oauth-basic": RouteVariant((_upstream_oauth("basic", "client_secret_basic"),), protected=False),
    "upstream-oauth-header": RouteVariant(
        (_upstream_oauth("header", "client_secret_post", header="X-Upstream-Token"),), protected=False
    ),
    "upstream-oauth-purge": RouteVariant(
        (_upstream_oauth("purge", "client_secret_post"),), upstream_path="/status/401", protected=False
    ),
    "upstream-oauth-idp-error": RouteVariant(
        (_upstream_oauth("idp-error", "client_secret_post", wrong_secret=True),), protected=False
    ),
    # openid-connect introspection with scopes_required (flow-suites: 403 after an active introspection)
    "oidc-introspection-scopes": RouteVariant(
        (
            lambda h: {
                "name": "openid-connect",
                "config": {**_oidc_introspection(cache=False)(h)["config"], "scopes_required": ["read"]},
            },
        )
    ),
    # two Services with oauth2 bound to them (global_credentials false): tokens must not cross (https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua)
    "oauth2-service": RouteVariant(
        (lambda h: {"name": "oauth2", "config": {"enable_client_credentials": True, "scopes": ["read"]}},),
        needs_db=True,
    ),
    "oauth2-service-other": RouteVariant(
        (lambda h: {"name": "oauth2", "config": {"enable_client_credentials": True, "scopes": ["read"]}},),
        needs_db=True,
    ),
    # the oauth2 grants of Kong's 25-oauth2 access spec: authorization code + PKCE, implicit, password,
    # refresh at a plugin with fewer scopes ("Scope mismatch"), reuse_refresh_token (issue 12)
    "oauth2-grants": RouteVariant(
        (
            _oauth2_grants(
                "oauth2-grants", ["read", "write"], enable_authorization_code=True, enable_implicit_grant=True
            ),
        ),
        needs_db=True,
    ),
    "oauth2-grants-narrow": RouteVariant((_oauth2_grants("oauth2-grants-narrow", ["read"]),), needs_db=True),
    "oauth2-grants-reuse": RouteVariant(
        (_oauth2_grants("oauth2-grants-reuse", ["read", "write"], reuse_refresh_token=True),), needs_db=True
    ),
    # a global oauth2 plugin behind a TLS-terminating proxy that hides the token from the upstream (issue 12)
    "oauth2-terminated": RouteVariant(
        (
            lambda h: {
                "name": "oauth2",
                "config": {
                    "enable_client_credentials": True,
                    "global_credentials": True,
                    "scopes": ["read", "write"],
                    "accept_http_if_already_terminated": True,
                    "hide_credentials": True,
                },
            },
        ),
        needs_db=True,
    ),
    # upstream-oauth whose token answers a test scripts through issuer faults (flow-suites; https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods-2.5)
    "upstream-oauth-scripted": RouteVariant(
        (_upstream_oauth("scripted", "client_secret_post"),), protected=False
    ),
    # upstream-oauth with a configured IdP error answer (flow-suites; https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code)
    "upstream-oauth-idp-custom": RouteVariant(
        (
            lambda h: {
                "name": "upstream-oauth",
                "config": {
                    **_upstream_oauth("idp-custom", "client_secret_post", wrong_secret=True)(h)["config"],
                    "behavior": {
                        "idp_error_response_status_code": 503,
                        "idp_error_response_content_type": "application/problem+json",
                        "idp_error_response_message": "kf idp unavailable",
                        "idp_error_response_body_template": '{"status": {{status}}, "detail": "{{message}}"}',
                    },
                },
            },
        ),
        protected=False,
    ),
    # upstream-oauth for the negative catalogue's scripted IdP answers (negative-suites; anchors 8 F.66-F.69)
    "upstream-oauth-negative": RouteVariant(
        (_upstream_oauth("negative", "client_secret_post"),), protected=False
    ),
    # claim templating property suite (negative-suites): one claim name forwarded by openid-connect (https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header)
    "oidc-bearer-claim-headers": RouteVariant(
        (
            _oidc(
                upstream_headers_claims=["kf_prop"],
                upstream_headers_names=["X-KF-Prop"],
                upstream_headers=[{"header": "X-KF-Prop-Inner", "path": ["kf_prop_obj", "inner"]}],
            ),
        ),
        min_version=(
            3,
            14,
        ),  # upstream_headers is a 3.14 field (https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header)
    ),
    # claim templating property suite (negative-suites): custom_claims_forward of one claim (https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers)
    "oauth2-introspection-claims": RouteVariant(
        (
            lambda h: {
                "name": "oauth2-introspection",
                "config": {
                    **_introspection_plugin(ttl=30)(h)["config"],
                    "custom_claims_forward": ["kf_prop"],
                },
            },
        )
    ),
    # last: once the sentinel answers, everything declared before it has taken effect
    "sentinel": RouteVariant((), protected=False),
}
