"""openid-connect's consumer mapping and its ``kong_oauth2`` auth method (https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow and https://developer.konghq.com/plugins/openid-connect/#consumer-authorization)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kongformance.gateway.plugins import oidc_defects as dx
from kongformance.gateway.plugins.base import GatewayRuntime, RequestContext
from kongformance.gateway.plugins.oidc_authz import claim_from
from kongformance.gateway.plugins.oidc_errors import AuthFailure, forbidden, unauthorized

log = logging.getLogger(__name__)


def consumer_claim_paths(config: Mapping[str, Any]) -> list[list[str]]:
    """Claim paths to map a consumer from: ``consumer_claims`` (3.14+) or ``consumer_claim`` (up to 3.13)."""
    many = config.get("consumer_claims")
    if many:
        return [[str(p) for p in path] for path in many if path]
    one = config.get("consumer_claim")
    if one:
        return [[str(p) for p in one]]
    return []


def _created_at(consumer: Mapping[str, Any]) -> float:
    value = consumer.get("created_at")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def username_ignoring_case(runtime: GatewayRuntime, username: str) -> Mapping[str, Any] | None:
    """Kong's ``consumers:select_by_username_ignore_case``: every consumer whose username equals ``username``
    ignoring case, the oldest ``created_at`` first (Kong logs when more than one matches)."""
    low = username.lower()
    matches = [
        c
        for c in runtime.list_consumers()
        if isinstance(c.get("username"), str) and c["username"].lower() == low
    ]
    if len(matches) > 1:
        log.info(
            "openid-connect: %d consumers match a username case-insensitively; using the oldest", len(matches)
        )
    matches.sort(key=_created_at)  # stable: equal timestamps keep the store's order
    return matches[0] if matches else None


def _find(runtime: GatewayRuntime, by: str, value: str, ignore_case: bool) -> Mapping[str, Any] | None:
    """Kong's ``consumers_load``: an exact lookup; for ``username`` with ignore_case, then a case-free one."""
    consumer = runtime.find_consumer_by(by, value)
    if consumer is not None or by != "username" or not ignore_case:
        return consumer
    return username_ignoring_case(runtime, value)


def map_consumer(
    runtime: GatewayRuntime, config: Mapping[str, Any], sources: Sequence[Mapping[str, Any] | None]
) -> Mapping[str, Any] | None:
    """The consumer named by the first present consumer claim, by ``consumer_by`` in order.

    ``None`` when mapping is off or (with ``consumer_optional``) nothing matched; raises a 403 otherwise.
    """
    paths = consumer_claim_paths(config)
    if not paths:
        return None
    optional = bool(config.get("consumer_optional"))
    value = None
    for path in paths:
        value = claim_from(sources, path)
        if value is not None:
            break
    if value is None or isinstance(value, (dict, list)):
        if optional:
            return None
        raise forbidden("consumer claim was not found")
    text = value if isinstance(value, str) else str(value)
    ignore_case = bool(config.get("by_username_ignore_case"))
    for by in config.get("consumer_by") or ["custom_id", "username"]:
        consumer = _find(runtime, str(by), text, ignore_case)
        if consumer is not None:
            return consumer
    if optional:
        return None
    raise forbidden("consumer was not found")


@dataclass(frozen=True)
class KongOauth2Result:
    """A token found in Kong's own oauth2 tables, as openid-connect's kong_oauth2 method sees it."""

    claims: dict[str, Any]  # introspection-like view used for authorization and headers
    consumer: Mapping[str, Any] | None
    credential: dict[str, Any]


def kong_oauth2_lookup(
    runtime: GatewayRuntime, ctx: RequestContext, token: str
) -> KongOauth2Result | AuthFailure:
    """Look ``token`` up in ``runtime.oauth2_store()``; a failure value when it is unknown or unusable."""
    try:
        found = runtime.oauth2_store().find(token)
    except (AttributeError, NotImplementedError) as exc:
        log.warning("openid-connect: kong_oauth2 store unavailable: %s", type(exc).__name__)
        found = None
    if found is None:
        return unauthorized("kong access token was not found")
    service_id = getattr(found, "service_id", None)
    current = ctx.service.get("id") if ctx.service else None
    if (
        service_id is not None
        and service_id != current
        and not runtime.defects.on(dx.KONG_OAUTH2_IGNORES_SERVICE)
    ):
        return unauthorized("kong access token is for different service")
    created_at = float(getattr(found, "created_at", 0) or 0)
    expires_in = float(getattr(found, "expires_in", 0) or 0)
    if expires_in > 0 and runtime.clock.now() - created_at > expires_in:
        return unauthorized("kong access token has expired")
    consumer_id = getattr(found, "consumer_id", None)
    consumer = runtime.find_consumer(str(consumer_id)) if consumer_id else None
    claims: dict[str, Any] = {
        "active": True,
        "token_type": "bearer",
        "scope": getattr(found, "scope", None) or "",
        "client_id": getattr(found, "client_id", None),
        "iat": created_at,
    }
    if expires_in > 0:
        claims["exp"] = created_at + expires_in
    userid = getattr(found, "authenticated_userid", None)
    if userid:
        claims["sub"] = userid
    credential = {
        "id": getattr(found, "credential_id", None),
        "client_id": getattr(found, "client_id", None),
        "consumer": {"id": consumer_id} if consumer_id else None,
    }
    return KongOauth2Result(
        claims={k: v for k, v in claims.items() if v is not None}, consumer=consumer, credential=credential
    )
