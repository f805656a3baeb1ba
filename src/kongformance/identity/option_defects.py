"""Issuer defects that misapply a setting the suite's profile gives its auth server, scopes, claims or
clients (issue 12, mutation score beyond the catalogue): each breaks one setting, and a suite test must notice.

Declared here, switched at one place each in the issuer code that reads the setting."""

from __future__ import annotations

from kongformance.defects import Defect

_API = "https://developer.konghq.com/api/konnect/kong-identity/v1/"

_DEFECTS: tuple[tuple[str, str, str], ...] = (
    (
        "option_identity_audience_replaced_by_issuer",
        "tokens carry the issuer URL as aud, not the auth server's audience",
        "auth server audience",
    ),
    (
        "option_identity_access_token_duration_doubled",
        "tokens live twice the client's access_token_duration",
        "client access_token_duration",
    ),
    (
        "option_identity_allow_all_scopes_ignored",
        "a client with allow_all_scopes may use only the scopes of its allow_scopes list",
        "client allow_all_scopes",
    ),
    (
        "option_identity_disabled_scope_granted",
        "a disabled scope in a client's allow_scopes is granted",
        "scope enabled",
    ),
    (
        "option_identity_never_claim_in_token",
        "a claim with include_in_token false goes into access tokens",
        "claim include_in_token",
    ),
    (
        "option_identity_no_scope_claim_always",
        "a claim for requests without scope (include_in_token, no scopes, not all) also goes into scoped tokens",
        "claim include_in_all_scopes / include_in_scopes",
    ),
    ("option_identity_disabled_claim_in_token", "a disabled claim goes into access tokens", "claim enabled"),
    (
        "option_identity_include_in_metadata_ignored",
        "discovery lists every enabled scope in scopes_supported, not only include_in_metadata ones",
        "scope include_in_metadata",
    ),
    (
        "option_identity_claim_template_unrendered",
        "a claim value with a ${ } template goes into the token unrendered",
        "claim value templates",
    ),
    (
        "option_identity_client_labels_ignored",
        "claim templates see no client labels (.Client.Labels is empty)",
        "client labels",
    ),
)

DEFECTS: tuple[Defect, ...] = tuple(
    Defect(name, "issuer", summary, f"{_API} ({setting})") for name, summary, setting in _DEFECTS
)
