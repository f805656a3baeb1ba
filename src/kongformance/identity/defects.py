"""The issuer emulator's defect catalogue: realistic ways an authorization server gets OAuth wrong.

Each defect is off unless switched on (``--defect NAME``, ``KONGFORMANCE_DEFECTS``, or
``PUT /_emulator/defects``) and is checked at exactly one place in the issuer code (named below).
The mutation check runs the suites once per defect; some test must fail for each.
"""

from __future__ import annotations

from kongformance.defects import Defect, catalogue_of, from_environment
from kongformance.identity.option_defects import DEFECTS as OPTION_DEFECTS

COMPONENT = "issuer"


def _d(name: str, summary: str, departs_from: str) -> Defect:
    return Defect(name=name, component=COMPONENT, summary=summary, departs_from=departs_from)


ISSUER_DEFECTS = catalogue_of(
    # introspection (issuer.py)
    _d(
        "introspect_expired_active",
        "introspection answers active:true for a token whose exp has passed",
        "RFC 7662 2.2; https://developer.konghq.com/how-to/configure-kong-identity-oauth-introspection/",
    ),
    _d(
        "introspect_revoked_active",
        "introspection answers active:true for a revoked token",
        "RFC 7662 2.2; RFC 7009 2; https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/listAuthServerClientTokens",
    ),
    _d(
        "introspect_foreign_active",
        "introspection answers active:true for a token issued by another auth server",
        "RFC 7662 2.2; https://developer.konghq.com/how-to/configure-kong-identity-oauth-introspection/",
    ),
    _d(
        "introspect_omits_custom_claims",
        "introspection responses carry only the registered claims, not the token's custom claims",
        "https://developer.konghq.com/how-to/configure-kong-identity-oauth-introspection/ (custom_claims_forward)",
    ),
    # client authentication (client_auth.py)
    _d(
        "accept_wrong_secret",
        "the token endpoint accepts any secret for a known client id",
        "RFC 6749 2.3.1 and 5.2 invalid_client",
    ),
    _d(
        "accept_disabled_secret",
        "a disabled client secret still authenticates",
        "https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createClientSecret",
    ),
    _d(
        "invalid_client_400",
        "invalid_client is answered with 400 and no WWW-Authenticate, even when Basic auth was used",
        "RFC 6749 5.2 (401 + WWW-Authenticate for invalid_client)",
    ),
    # tokens.py
    _d(
        "aud_as_string",
        "the token's aud is a plain string instead of the observed one-element array",
        "https://developer.konghq.com/how-to/configure-kong-identity-oidc/",
    ),
    _d(
        "exp_ignores_duration",
        "exp is always iat + 3600, ignoring the client's access_token_duration",
        "https://developer.konghq.com/how-to/configure-kong-identity-oidc/; A.6 access_token_duration",
    ),
    _d(
        "grant_disallowed_scope",
        "a requested scope that the client may not use is granted anyway",
        "https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient",
    ),
    _d(
        "drop_default_scopes",
        "default scopes are not granted unless requested",
        "https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerScope default; B.5",
    ),
    _d(
        "scope_claims_always",
        "claims bound to specific scopes are included whatever scopes were granted",
        "https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim; B.6",
    ),
    _d(
        "failed_template_renders_empty",
        'a claim whose template fails (e.g. a missing label) is issued as "" instead of being dropped',
        "https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates",
    ),
    _d(
        "template_case_mapping_full_unicode",
        "Sprig upper/lower in token claims use full Unicode case mapping (ß -> SS, ligatures split) instead of "
        "Go's strings.ToUpper/ToLower",
        "https://pkg.go.dev/strings#ToUpper; https://masterminds.github.io/sprig/strings.html",
    ),
    # revocation (issuer.py)
    _d(
        "revoke_other_clients_token",
        "the revocation endpoint revokes a token issued to another client",
        "https://www.rfc-editor.org/rfc/rfc7009#section-2.1",
    ),
    # JWKS (issuer.py)
    _d(
        "jwks_wrong_kid",
        "the JWKS advertises the current key under a kid that differs from the tokens' kid",
        "RFC 7517 4.5; https://developer.konghq.com/how-to/configure-kong-identity-oidc/",
    ),
    _d(
        "jwks_drops_previous_key",
        "after a key rotation the JWKS publishes only the new key, so tokens still valid fail verification",
        "https://developer.konghq.com/how-to/configure-kong-identity-oidc/ (JWKS); RFC 7517 5",
    ),
    # revocation (issuer.py)
    _d(
        "revoke_noop",
        "the revocation endpoint answers 200 but does not revoke the token",
        "RFC 7009 2.2",
    ),
    *OPTION_DEFECTS,
)


def enabled_from_environment() -> list[str]:
    """Issuer defects named in ``KONGFORMANCE_DEFECTS`` (for whoever builds an emulator: CLI, stack, targets)."""
    return from_environment(COMPONENT, ISSUER_DEFECTS)
