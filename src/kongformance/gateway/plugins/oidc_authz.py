"""openid-connect's authorization checks after authentication (https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization).

Claims are looked up in the introspection result first, then in the decoded access token. Each element of a
``*_required`` list is an alternative (OR); the space-separated values inside one element must all be
present (AND); a claim value may be a space-delimited string or an array.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kongformance.defects import DefectSwitches
from kongformance.gateway.plugins import oidc_defects as dx
from kongformance.gateway.plugins.oidc_discovery import normalise_issuer
from kongformance.gateway.plugins.oidc_errors import AuthFailure, forbidden, unauthorized
from kongformance.gateway.plugins.profile_option_defects import OIDC_SCOPES_REQUIRED_ENTRY_AS_ANY, switched_on

_MISSING = object()


def lookup(claims: Mapping[str, Any], path: Sequence[str]) -> Any:
    """The value at ``path`` (nested object keys) or ``None``."""
    node: Any = claims
    for step in path:
        if not isinstance(node, Mapping) or step not in node:
            return None
        node = node[step]
    return node


def claim_from(sources: Sequence[Mapping[str, Any] | None], path: Sequence[str]) -> Any:
    """The first source (in order) that holds ``path``; ``None`` when none does."""
    for source in sources:
        if source is None:
            continue
        value = lookup(source, path)
        if value is not None:
            return value
    return None


def values_of(value: Any) -> set[str]:
    """A claim value as a set of strings: a space-delimited string or an array of scalars."""
    if value is None:
        return set()
    if isinstance(value, str):
        return set(value.split())
    if isinstance(value, list):
        return {v if isinstance(v, str) else _scalar(v) for v in value if not isinstance(v, (dict, list))}
    if isinstance(value, (dict,)):
        return set()
    return {_scalar(value)}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def meets(required: Sequence[str], value: Any) -> bool:
    """Whether one element of ``required`` has all its space-separated values in ``value``."""
    have = values_of(value)
    for element in required:
        wanted = element.split()
        if wanted and all(w in have for w in wanted):
            return True
    return False


def _check(
    config: Mapping[str, Any],
    sources: Sequence[Mapping[str, Any] | None],
    required_key: str,
    claim_key: str,
    default_claim: str,
    what: str,
) -> AuthFailure | None:
    required = config.get(required_key)
    if not required:
        return None
    path = config.get(claim_key) or [default_claim]
    value = claim_from(sources, path)
    if meets(required, value):
        return None
    found = " ".join(sorted(values_of(value)))
    return forbidden(f"required {what} are missing. Found: [ {found} ]")


def authorize(
    config: Mapping[str, Any], sources: Sequence[Mapping[str, Any] | None], defects: DefectSwitches
) -> None:
    """Raise the 401/403 :class:`AuthFailure` for the first unmet requirement."""
    allowed = config.get("issuers_allowed")
    if allowed:
        iss = claim_from(sources, ["iss"])
        accepted = {normalise_issuer(str(a)) for a in allowed}
        if not isinstance(iss, str) or normalise_issuer(iss) not in accepted:
            raise unauthorized("the token issuer is not allowed")
    forbidden_claims = config.get("claims_forbidden") or []
    for name in forbidden_claims:
        if claim_from(sources, [name]) is not None:
            raise forbidden(f"forbidden claim '{name}' found in the token")
    failure = _check(config, sources, "groups_required", "groups_claim", "groups", "groups")
    if failure is None:
        failure = _check(config, sources, "roles_required", "roles_claim", "roles", "roles")
    if failure is not None:
        raise failure
    if switched_on(defects, OIDC_SCOPES_REQUIRED_ENTRY_AS_ANY):
        entries = config.get("scopes_required") or []
        config = {**config, "scopes_required": [s for e in entries for s in str(e).split()]}
    if not defects.on(dx.SKIP_SCOPES_REQUIRED):
        failure = _check(config, sources, "scopes_required", "scopes_claim", "scope", "scopes")
        if failure is not None:
            if defects.on(dx.MISSING_SCOPE_GIVES_401):
                raise unauthorized(failure.reason)
            raise failure
    if not defects.on(dx.SKIP_AUDIENCE_REQUIRED):
        failure = _check(config, sources, "audience_required", "audience_claim", "aud", "audience")
        if failure is not None:
            raise failure
