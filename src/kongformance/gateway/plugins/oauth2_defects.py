"""Defects of the OSS oauth2 plugin's grants and token binding (issue 12): each one is a behaviour Kong's
own specs (spec/03-plugins/25-oauth2 at 3.9.0) pin down and a suite test kills."""

from __future__ import annotations

from kongformance.defects import Defect

_ACCESS_SPEC = "https://github.com/Kong/kong/blob/3.9.0/spec/03-plugins/25-oauth2/03-access_spec.lua"
_SCHEMA_SPEC = "https://github.com/Kong/kong/blob/3.9.0/spec/03-plugins/25-oauth2/01-schema_spec.lua"

GLOBAL_ACCEPTS_BOUND_TOKEN = "oauth2_global_plugin_accepts_service_bound_token"
GLOBAL_REFUSAL_WITHOUT_CHALLENGE = "oauth2_global_token_refused_without_challenge"
PROVISION_KEY_NOT_GENERATED = "oauth2_provision_key_not_generated"
REFRESH_IGNORES_SCOPE_MISMATCH = "oauth2_refresh_ignores_scope_mismatch"
REUSE_REFRESH_TOKEN_IGNORED = "oauth2_reuse_refresh_token_ignored"
PKCE_VERIFIER_NOT_CHECKED = "oauth2_pkce_verifier_not_checked"
AUTHORIZATION_CODE_REUSABLE = "oauth2_authorization_code_reusable"
SECRET_CASE_INSENSITIVE = "oauth2_client_secret_case_insensitive"
FORWARDED_PROTO_FROM_ANY_CLIENT = "oauth2_forwarded_proto_trusted_from_any_client"
HIDE_CREDENTIALS_IGNORED = "oauth2_hide_credentials_ignored"

GRANT_DEFECTS: tuple[Defect, ...] = (
    Defect(
        GLOBAL_ACCEPTS_BOUND_TOKEN,
        "gateway",
        "an oauth2 plugin with global_credentials accepts a token bound to another Service's plugin",
        f"{_ACCESS_SPEC}#L3455 (not sharing global credentials 2)",
    ),
    Defect(
        GLOBAL_REFUSAL_WITHOUT_CHALLENGE,
        "gateway",
        "a global token refused by a plugin without global_credentials gets no WWW-Authenticate challenge",
        f"{_ACCESS_SPEC}#L4413 (regression 4232)",
    ),
    Defect(
        PROVISION_KEY_NOT_GENERATED,
        "gateway",
        "the provision_key generated for an oauth2 plugin created without one is not enforced (null)",
        f"{_SCHEMA_SPEC}#L35 (autogenerates provision_key)",
    ),
    Defect(
        REFRESH_IGNORES_SCOPE_MISMATCH,
        "gateway",
        "the refresh grant issues tokens whose scope the refreshing plugin's config.scopes does not include",
        f"{_ACCESS_SPEC}#L3071 (Scope mismatch)",
    ),
    Defect(
        REUSE_REFRESH_TOKEN_IGNORED,
        "gateway",
        "reuse_refresh_token has no effect: refreshing rotates the refresh token",
        f"{_ACCESS_SPEC}#L3779 (does not rewrite persistent refresh tokens)",
    ),
    Defect(
        PKCE_VERIFIER_NOT_CHECKED,
        "gateway",
        "an authorization code issued with a code_challenge is exchanged without checking the code_verifier",
        "https://www.rfc-editor.org/rfc/rfc7636#section-4.6",
    ),
    Defect(
        AUTHORIZATION_CODE_REUSABLE,
        "gateway",
        "an authorization code can be exchanged more than once",
        "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2",
    ),
    Defect(
        SECRET_CASE_INSENSITIVE,
        "gateway",
        "the token endpoint compares client secrets ignoring case",
        "https://github.com/Kong/kong/blob/3.9.0/kong/plugins/oauth2/access.lua#L586 (client_secret == ...)",
    ),
    Defect(
        FORWARDED_PROTO_FROM_ANY_CLIENT,
        "gateway",
        "accept_http_if_already_terminated trusts X-Forwarded-Proto: https from a client outside trusted_ips",
        "https://github.com/Kong/kong/blob/3.9.0/kong/tools/http.lua#L209-L234 (check_https)",
    ),
    Defect(
        HIDE_CREDENTIALS_IGNORED,
        "gateway",
        "hide_credentials leaves the client's access token (header or access_token argument) to the upstream",
        f"{_ACCESS_SPEC}#L3830 (Hide Credentials)",
    ),
)
