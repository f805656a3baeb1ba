"""The openid-connect plugin's defects: realistic departures from Kong's behaviour for the mutation check.

Each name is checked at exactly one place in the oidc_* modules (``runtime.defects.on(name)``).
"""

from __future__ import annotations

from kongformance.defects import Defect


def _d(name: str, summary: str, departs_from: str) -> Defect:
    return Defect(name=name, component="gateway", summary=summary, departs_from=departs_from)


ACCEPT_EXPIRED_TOKEN = "oidc_accept_expired_token"
SKIP_ISSUER_CHECK = "oidc_skip_issuer_check"
SKIP_AUDIENCE_REQUIRED = "oidc_skip_audience_required"
SKIP_SCOPES_REQUIRED = "oidc_skip_scopes_required"
ACCEPT_ALG_NONE = "oidc_accept_alg_none"
ACCEPT_HS256_WITH_PUBLIC_KEY = "oidc_accept_hs256_with_public_key"
NEVER_REDISCOVER = "oidc_never_rediscover_jwks"
REDISCOVER_WITHOUT_THROTTLE = "oidc_rediscover_without_throttle"
ACCEPT_FUTURE_NBF = "oidc_accept_future_nbf"
ACCEPT_FUTURE_IAT = "oidc_accept_future_iat"
REJECT_AT_EXACT_EXPIRY = "oidc_reject_token_at_exact_expiry"
IGNORE_LEEWAY = "oidc_ignore_leeway"
INTROSPECTION_IGNORES_ACTIVE = "oidc_introspection_ignores_active"
CACHE_INTROSPECTION_FOREVER = "oidc_cache_introspection_forever"
KEEP_CLIENT_CLAIM_HEADER = "oidc_keep_client_header_when_claim_missing"
FORWARD_CLIENT_AUTHORIZATION = "oidc_forward_client_authorization_unchanged"
DROP_WWW_AUTHENTICATE = "oidc_drop_www_authenticate"
MISSING_SCOPE_GIVES_401 = "oidc_missing_scope_gives_401"
NO_ERROR_CODE_WITHOUT_TOKEN = "oidc_no_error_code_without_token"
DISCOVERY_FAILURE_GIVES_401 = "oidc_discovery_failure_gives_401"
KONG_OAUTH2_IGNORES_SERVICE = "oidc_kong_oauth2_ignores_service"
IGNORE_HIDE_CREDENTIALS = "oidc_ignore_hide_credentials"
LEEWAY_ONLY_ON_EXP = "oidc_leeway_only_on_exp"
HIDE_KEEPS_BODY_TOKEN = "oidc_hide_credentials_keeps_body_token"
UNKNOWN_KID_TRIES_OTHER_KEYS = "oidc_unknown_kid_tries_other_keys"
IGNORE_ACCESS_TOKEN_HEADERS = "oidc_ignores_access_token_headers"
_REFERENCE = "https://developer.konghq.com/plugins/openid-connect/reference/"

DEFECTS: tuple[Defect, ...] = (
    _d(
        ACCEPT_EXPIRED_TOKEN,
        "accepts a token whose exp has passed (no expiry check at all)",
        "https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow",
    ),
    _d(
        SKIP_ISSUER_CHECK,
        "does not compare iss with the discovered issuer",
        "https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow",
    ),
    _d(
        SKIP_AUDIENCE_REQUIRED,
        "ignores audience_required",
        "https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization",
    ),
    _d(
        SKIP_SCOPES_REQUIRED,
        "ignores scopes_required",
        "https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization",
    ),
    _d(
        ACCEPT_ALG_NONE,
        "accepts an unsigned token (alg none)",
        "https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow",
    ),
    _d(
        ACCEPT_HS256_WITH_PUBLIC_KEY,
        "accepts an HS256 token whose HMAC key is the issuer's RSA public key (algorithm confusion)",
        "https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow",
    ),
    _d(
        NEVER_REDISCOVER,
        "never refreshes JWKS on an unknown kid",
        "https://developer.konghq.com/plugins/openid-connect/#discovery-cache",
    ),
    _d(
        REDISCOVER_WITHOUT_THROTTLE,
        "rediscovers on every unknown kid, ignoring rediscovery_lifetime",
        "https://developer.konghq.com/plugins/openid-connect/#discovery-cache",
    ),
    _d(
        ACCEPT_FUTURE_NBF,
        "accepts a token whose nbf is in the future",
        "https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow",
    ),
    _d(
        ACCEPT_FUTURE_IAT,
        "accepts a token whose iat is in the future",
        "https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow",
    ),
    _d(
        REJECT_AT_EXACT_EXPIRY,
        "rejects a token at exp == now (Kong accepts it)",
        "https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow",
    ),
    _d(
        IGNORE_LEEWAY,
        "ignores the configured leeway",
        "https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow",
    ),
    _d(
        INTROSPECTION_IGNORES_ACTIVE,
        "treats an introspection answer active:false as success",
        "https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow",
    ),
    _d(
        CACHE_INTROSPECTION_FOREVER,
        "caches introspection results forever",
        "https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow",
    ),
    _d(
        KEEP_CLIENT_CLAIM_HEADER,
        "lets a client-sent claim header through when the claim is missing",
        "https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header",
    ),
    _d(
        FORWARD_CLIENT_AUTHORIZATION,
        "forwards the client's credential unchanged instead of setting Authorization: Bearer <token>",
        "https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header",
    ),
    _d(
        DROP_WWW_AUTHENTICATE,
        "sends 401/403 without WWW-Authenticate",
        "https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow",
    ),
    _d(
        MISSING_SCOPE_GIVES_401,
        "answers 401 instead of 403 when required scopes are missing",
        "https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization",
    ),
    _d(
        NO_ERROR_CODE_WITHOUT_TOKEN,
        'omits error="invalid_token" when no token was sent (RFC 6750 style, not Kong)',
        "https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow",
    ),
    _d(
        DISCOVERY_FAILURE_GIVES_401,
        "answers 401 instead of 500 when discovery fails",
        "https://developer.konghq.com/plugins/openid-connect/#discovery-cache",
    ),
    _d(
        KONG_OAUTH2_IGNORES_SERVICE,
        "accepts a kong_oauth2 token issued for another service",
        "https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow",
    ),
    _d(
        IGNORE_HIDE_CREDENTIALS,
        "leaves the client's credential in place despite hide_credentials",
        "https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header",
    ),
    _d(
        LEEWAY_ONLY_ON_EXP,
        "applies leeway to exp only: a token whose nbf or iat is within the leeway in the future is refused",
        f"{_REFERENCE} (config.leeway: auth_time, exp, iat and nbf)",
    ),
    _d(
        HIDE_KEEPS_BODY_TOKEN,
        "hide_credentials removes header and query tokens but leaves a token sent in the request body",
        f"{_REFERENCE} (config.hide_credentials)",
    ),
    _d(
        UNKNOWN_KID_TRIES_OTHER_KEYS,
        "a token whose kid is not in the JWKS (after rediscovery) is verified with another published key",
        "https://www.rfc-editor.org/rfc/rfc7515#section-4.1.4",
    ),
    _d(
        IGNORE_ACCESS_TOKEN_HEADERS,
        "reads the bearer token from Authorization only, not from the access-token / x-access-token headers",
        f"{_REFERENCE} (config.bearer_token_param_type: header)",
    ),
)
