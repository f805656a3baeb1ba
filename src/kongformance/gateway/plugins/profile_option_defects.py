"""Defects that misapply a plugin option the suite's profile sets (issue 12, mutation score beyond the
catalogue): each breaks one option of the rendered decK config, and a suite test must notice.

Declared here, switched at one place each in the plugin that reads the option."""

from __future__ import annotations

from kongformance.defects import Defect, DefectSwitches

_INTROSPECTION = "https://developer.konghq.com/plugins/oauth2-introspection/reference/"
_OIDC = "https://developer.konghq.com/plugins/openid-connect/reference/"

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
)


def switched_on(defects: DefectSwitches, name: str) -> bool:
    """Whether option defect ``name`` is on; switches built from one plugin's own catalogue (the plugins'
    unit tests) do not know these defects, and have them off."""
    return name in defects.catalogue and defects.on(name)
