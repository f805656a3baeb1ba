"""Defects that misapply a plugin option the suite's profile sets (issue 12, mutation score beyond the
catalogue): each breaks one option of the rendered decK config, and a suite test must notice.

Declared here, switched at one place each in the plugin that reads the option."""

from __future__ import annotations

from kongformance.defects import Defect, DefectSwitches

_INTROSPECTION = "https://developer.konghq.com/plugins/oauth2-introspection/reference/"
_OIDC = "https://developer.konghq.com/plugins/openid-connect/reference/"

_JWT = "https://developer.konghq.com/plugins/jwt/reference/"
_UPSTREAM = "https://developer.konghq.com/plugins/upstream-oauth/reference/"
_OAUTH2 = "https://developer.konghq.com/plugins/oauth2/reference/"

# (name, summary, option) of the defects added for the options the first batch left out (issue 12 item 4)
_MORE: tuple[tuple[str, str, str], ...] = (
    (
        "option_oidc_auth_methods_bearer_added",
        "openid-connect configured with auth_methods [introspection] also verifies JWTs locally (bearer) and accepts them without introspecting",
        f"{_OIDC} (config.auth_methods)",
    ),
    (
        "option_upstream_oauth_grant_type_ignored",
        "upstream-oauth asks for the password grant instead of config.oauth.grant_type",
        f"{_UPSTREAM} (config.oauth.grant_type)",
    ),
    (
        "option_jwt_realm_ignored",
        "jwt sends its WWW-Authenticate challenge without config.realm",
        f"{_JWT} (config.realm)",
    ),
    (
        "option_jwt_claims_to_verify_exp_ignored",
        "jwt does not verify exp although config.claims_to_verify lists it",
        f"{_JWT} (config.claims_to_verify)",
    ),
    (
        "option_jwt_claims_to_verify_nbf_ignored",
        "jwt does not verify nbf although config.claims_to_verify lists it",
        f"{_JWT} (config.claims_to_verify)",
    ),
    (
        "option_jwt_anonymous_missing_proxied",
        "jwt with config.anonymous naming no consumer proxies the failed request unauthenticated",
        f"{_JWT} (config.anonymous)",
    ),
    (
        "option_oidc_leeway_doubled",
        "openid-connect allows twice config.leeway past exp",
        f"{_OIDC} (config.leeway)",
    ),
    (
        "option_oidc_upstream_headers_path_ignored",
        "openid-connect (3.14+) forwards no header for config.upstream_headers",
        f"{_OIDC} (config.upstream_headers)",
    ),
    (
        "option_introspection_consumer_by_ignored",
        "oauth2-introspection maps no consumer although config.consumer_by names a claim",
        f"{_INTROSPECTION} (config.consumer_by)",
    ),
    (
        "option_upstream_oauth_scopes_not_sent",
        "upstream-oauth sends no scope parameter for config.oauth.scopes",
        f"{_UPSTREAM} (config.oauth.scopes)",
    ),
    (
        "option_upstream_oauth_token_headers_not_sent",
        "upstream-oauth leaves config.oauth.token_headers out of the token request",
        f"{_UPSTREAM} (config.oauth.token_headers)",
    ),
    (
        "option_upstream_oauth_client_secret_ignored",
        "upstream-oauth sends an empty client_secret instead of config.oauth.client_secret",
        f"{_UPSTREAM} (config.oauth.client_secret)",
    ),
    (
        "option_upstream_oauth_post_sent_as_basic",
        "upstream-oauth authenticates with HTTP Basic although config.client.auth_method is client_secret_post",
        f"{_UPSTREAM} (config.client.auth_method)",
    ),
    (
        "option_upstream_oauth_header_name_ignored",
        "upstream-oauth puts the token in Authorization, not config.behavior.upstream_access_token_header_name",
        f"{_UPSTREAM} (config.behavior.upstream_access_token_header_name)",
    ),
    (
        "option_upstream_oauth_idp_error_status_ignored",
        "upstream-oauth answers 502 instead of config.behavior.idp_error_response_status_code",
        f"{_UPSTREAM} (config.behavior.idp_error_response_status_code)",
    ),
    (
        "option_upstream_oauth_idp_error_content_type_ignored",
        "upstream-oauth answers without config.behavior.idp_error_response_content_type",
        f"{_UPSTREAM} (config.behavior.idp_error_response_content_type)",
    ),
    (
        "option_upstream_oauth_idp_error_message_ignored",
        "upstream-oauth fills the default message, not config.behavior.idp_error_response_message",
        f"{_UPSTREAM} (config.behavior.idp_error_response_message)",
    ),
    (
        "option_upstream_oauth_idp_error_body_template_ignored",
        "upstream-oauth answers an empty body instead of config.behavior.idp_error_response_body_template",
        f"{_UPSTREAM} (config.behavior.idp_error_response_body_template)",
    ),
    (
        "option_oauth2_scopes_first_only",
        "oauth2 accepts only the first entry of config.scopes",
        f"{_OAUTH2} (config.scopes)",
    ),
    (
        "option_oauth2_enable_client_credentials_ignored",
        "oauth2 refuses the client_credentials grant although config.enable_client_credentials is true",
        f"{_OAUTH2} (config.enable_client_credentials)",
    ),
    (
        "option_oauth2_enable_password_grant_ignored",
        "oauth2 refuses the password grant although config.enable_password_grant is true",
        f"{_OAUTH2} (config.enable_password_grant)",
    ),
    (
        "option_oauth2_enable_authorization_code_ignored",
        "oauth2 /authorize refuses response_type=code although config.enable_authorization_code is true",
        f"{_OAUTH2} (config.enable_authorization_code)",
    ),
    (
        "option_oauth2_enable_implicit_grant_ignored",
        "oauth2 /authorize refuses response_type=token although config.enable_implicit_grant is true",
        f"{_OAUTH2} (config.enable_implicit_grant)",
    ),
    (
        "option_oauth2_provision_key_not_checked",
        "oauth2 accepts any provision_key, not only config.provision_key",
        f"{_OAUTH2} (config.provision_key)",
    ),
    (
        "option_oauth2_accept_http_if_already_terminated_ignored",
        "oauth2 refuses plain HTTP with X-Forwarded-Proto: https from a trusted proxy although config.accept_http_if_already_terminated is true",
        f"{_OAUTH2} (config.accept_http_if_already_terminated)",
    ),
    (
        "option_oauth2_hide_credentials_keeps_argument_token",
        "oauth2 with config.hide_credentials still forwards an access_token query or form argument upstream",
        f"{_OAUTH2} (config.hide_credentials)",
    ),
    (
        "option_oauth2_global_credentials_ignored",
        "oauth2 refuses global tokens although config.global_credentials is true",
        f"{_OAUTH2} (config.global_credentials)",
    ),
    (
        "option_oauth2_redirect_uris_not_checked",
        "oauth2 /authorize accepts any redirect_uri, not only the credential's redirect_uris",
        f"{_OAUTH2} (oauth2_credentials.redirect_uris)",
    ),
)

INTROSPECTION_CUSTOM_CLAIMS_FORWARD_IGNORED = "option_introspection_custom_claims_forward_ignored"
INTROSPECTION_AUTHORIZATION_VALUE_IGNORED = "option_introspection_authorization_value_ignored"
INTROSPECTION_TTL_HALVED = "option_introspection_ttl_halved"
OIDC_UPSTREAM_HEADERS_NAMES_SHIFTED = "option_oidc_upstream_headers_names_shifted"
OIDC_CACHE_INTROSPECTION_DISABLED_IGNORED = "option_oidc_cache_introspection_false_ignored"
OIDC_INTROSPECTION_CLIENT_SECRET_IGNORED = "option_oidc_introspection_client_secret_ignored"
OIDC_SCOPES_REQUIRED_ENTRY_AS_ANY = "option_oidc_scopes_required_entry_as_any"

DEFECTS: tuple[Defect, ...] = (
    Defect(
        INTROSPECTION_CUSTOM_CLAIMS_FORWARD_IGNORED,
        "gateway",
        "oauth2-introspection forwards no X-Credential-* header for the claims in config.custom_claims_forward",
        f"{_INTROSPECTION} (config.custom_claims_forward)",
    ),
    Defect(
        INTROSPECTION_AUTHORIZATION_VALUE_IGNORED,
        "gateway",
        "oauth2-introspection calls the introspection endpoint without config.authorization_value",
        f"{_INTROSPECTION} (config.authorization_value)",
    ),
    Defect(
        OIDC_INTROSPECTION_CLIENT_SECRET_IGNORED,
        "gateway",
        "openid-connect authenticates to the introspection endpoint with client_id only, not config.client_secret",
        f"{_OIDC} (config.client_id, config.client_secret)",
    ),
    Defect(
        INTROSPECTION_TTL_HALVED,
        "gateway",
        "oauth2-introspection keeps an active answer for half of config.ttl",
        f"{_INTROSPECTION} (config.ttl)",
    ),
    Defect(
        OIDC_UPSTREAM_HEADERS_NAMES_SHIFTED,
        "gateway",
        "openid-connect pairs upstream_headers_claims with the next entry of upstream_headers_names",
        f"{_OIDC} (config.upstream_headers_claims, config.upstream_headers_names)",
    ),
    Defect(
        OIDC_CACHE_INTROSPECTION_DISABLED_IGNORED,
        "gateway",
        "openid-connect caches introspection answers although config.cache_introspection is false",
        f"{_OIDC} (config.cache_introspection)",
    ),
    Defect(
        OIDC_SCOPES_REQUIRED_ENTRY_AS_ANY,
        "gateway",
        "openid-connect reads a space-separated scopes_required entry ('read write') as any one of its scopes",
        f"{_OIDC} (config.scopes_required: space-separated values of one entry are all required)",
    ),
    *(Defect(name, "gateway", summary, source) for name, summary, source in _MORE),
)


def switched_on(defects: DefectSwitches, name: str) -> bool:
    """Whether option defect ``name`` is on; switches built from one plugin's own catalogue (the plugins'
    unit tests) do not know these defects, and have them off."""
    return name in defects.catalogue and defects.on(name)
