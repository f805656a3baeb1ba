"""What openid-connect writes into the upstream request (https://developer.konghq.com/plugins/openid-connect/#consumer-authorization and https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from kongformance.defects import DefectSwitches
from kongformance.gateway.plugins import oidc_defects as dx
from kongformance.gateway.plugins.base import Headers
from kongformance.gateway.plugins.oidc_authz import claim_from
from kongformance.gateway.plugins.profile_option_defects import (
    OIDC_UPSTREAM_HEADERS_NAMES_SHIFTED,
    switched_on,
)

CONSUMER_ID = "X-Consumer-ID"
CONSUMER_CUSTOM_ID = "X-Consumer-Custom-ID"
CONSUMER_USERNAME = "X-Consumer-Username"
ANONYMOUS = "X-Anonymous-Consumer"
AUTHENTICATED_GROUPS = "X-Authenticated-Groups"
CLEARS_MISSING_CLAIM_HEADERS_FROM = (3, 10)


def encode_value(value: Any) -> str | None:
    """A claim as a header value: strings as-is, numbers and booleans stringified, tables base64(JSON)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.b64encode(encoded).decode()


def access_token_header(spec: str | None, token: str) -> tuple[str, str] | None:
    """``name[:type]`` as in ``upstream_access_token_header``; ``bearer`` type becomes ``Bearer <token>``."""
    if not spec:
        return None
    name, _, kind = spec.partition(":")
    if kind.strip().lower() == "bearer":
        return name.strip(), f"Bearer {token}"
    return name.strip(), token


def claim_header_mappings(
    config: Mapping[str, Any], kong_version: tuple[int, int], shifted: bool = False
) -> list[tuple[str, list[str]]]:
    """(header, claim path) pairs from ``upstream_headers_claims``/``_names`` and 3.14+ ``upstream_headers``."""
    out: list[tuple[str, list[str]]] = []
    claims = config.get("upstream_headers_claims") or []
    names = config.get("upstream_headers_names") or []
    if shifted and names:
        names = [*names[1:], names[0]]
    for claim, name in zip(claims, names, strict=False):
        out.append((str(name), [str(claim)]))
    if kong_version >= (3, 14):
        for item in config.get("upstream_headers") or []:
            if isinstance(item, Mapping) and item.get("header") and item.get("path"):
                out.append((str(item["header"]), [str(p) for p in item["path"]]))
    return out


def set_claim_headers(
    headers: Headers,
    config: Mapping[str, Any],
    sources: Sequence[Mapping[str, Any] | None],
    kong_version: tuple[int, int],
    defects: DefectSwitches,
) -> None:
    """Write claim headers; a missing claim clears a client-sent header of that name (3.10+ patch releases)."""
    shifted = switched_on(defects, OIDC_UPSTREAM_HEADERS_NAMES_SHIFTED)
    if switched_on(defects, "option_oidc_upstream_headers_path_ignored"):
        config = {**config, "upstream_headers": []}
    for header, path in claim_header_mappings(config, kong_version, shifted):
        value = encode_value(claim_from(sources, path))
        if value is not None:
            headers.set(header, value)
        elif kong_version >= CLEARS_MISSING_CLAIM_HEADERS_FROM and not defects.on(
            dx.KEEP_CLIENT_CLAIM_HEADER
        ):
            headers.remove(header)


def set_introspection_header(
    headers: Headers, config: Mapping[str, Any], result: Mapping[str, Any] | None
) -> None:
    """``upstream_introspection_header``: the introspection result as base64(JSON)."""
    name = config.get("upstream_introspection_header")
    if name and result is not None:
        value = encode_value(dict(result))
        if value is not None:
            headers.set(str(name), value)


def set_consumer_headers(headers: Headers, consumer: Mapping[str, Any], *, anonymous: bool) -> None:
    """X-Consumer-* of ``consumer`` (empty fields cleared) and X-Anonymous-Consumer."""
    for header, field_name in (
        (CONSUMER_ID, "id"),
        (CONSUMER_CUSTOM_ID, "custom_id"),
        (CONSUMER_USERNAME, "username"),
    ):
        value = consumer.get(field_name)
        if value:
            headers.set(header, str(value))
        else:
            headers.remove(header)
    if anonymous:
        headers.set(ANONYMOUS, "true")
    else:
        headers.remove(ANONYMOUS)


def set_groups_header(headers: Headers, groups: Sequence[str] | None) -> None:
    """X-Authenticated-Groups joined with ``, ``."""
    if groups:
        headers.set(AUTHENTICATED_GROUPS, ", ".join(groups))
    else:
        headers.remove(AUTHENTICATED_GROUPS)
