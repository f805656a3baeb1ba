"""Kong's core entities as the reference gateway stores them: Service, Route, Consumer, Plugin and the
consumer credentials (oauth2, jwt), with their field schemas, defaults (per kong_version) and the
entity-level checks Kong applies. Shapes follow Konnect's control-planes-config v2 document
(shared/reference/konnect-openapi/control-planes-config-v2.yaml), the same as Kong's Admin API.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kongformance.gateway.credentials import NEEDS_PUBLIC_KEY, is_public_key, redirect_uri_problem
from kongformance.gateway.schemas import KongError, Version, field_errors, schema_violation

_STR: dict[str, Any] = {"type": "string", "minLength": 1}
_STRS: dict[str, Any] = {"type": "array", "items": {"type": "string", "minLength": 1}}
_FK: dict[str, Any] = {"type": "object", "properties": {"id": _STR, "name": _STR, "username": _STR}}
_PROTOCOLS = ["grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp", "ws", "wss"]
_TS = {"type": "integer"}


def _int(lo: int, hi: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": lo, "maximum": hi}


def _closed(props: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": props, "additionalProperties": False, "required": list(required)}


@dataclass(frozen=True)
class EntityKind:
    """One entity type: its table name, JSON schema, defaults, unique fields and foreign key to a parent."""

    table: str
    schema: dict[str, Any]
    defaults: dict[str, Any]
    endpoint_keys: tuple[str, ...]  # fields a URL segment may name besides id (Kong's endpoint_key)
    unique: tuple[str, ...] = ()
    parent: str | None = None  # field holding the foreign key to a parent entity
    parent_table: str | None = None
    generated: dict[str, int] = field(default_factory=dict)  # field -> length of a random value when omitted


SERVICE = EntityKind(
    table="services",
    schema=_closed(
        {
            "id": _STR,
            "name": _STR,
            "protocol": {"type": "string", "enum": _PROTOCOLS},
            "host": _STR,
            "port": _int(0, 65535),
            "path": _STR,
            "retries": _int(0, 32767),
            "connect_timeout": _int(1, 2147483646),
            "write_timeout": _int(1, 2147483646),
            "read_timeout": _int(1, 2147483646),
            "tags": _STRS,
            "client_certificate": _FK,
            "tls_verify": {"type": "boolean"},
            "tls_verify_depth": _int(0, 64),
            "ca_certificates": _STRS,
            "enabled": {"type": "boolean"},
            "created_at": _TS,
            "updated_at": _TS,
        },
        ("host",),
    ),
    defaults={
        "protocol": "http",
        "port": 80,
        "path": None,
        "retries": 5,
        "connect_timeout": 60000,
        "write_timeout": 60000,
        "read_timeout": 60000,
        "tags": None,
        "client_certificate": None,
        "tls_verify": None,
        "tls_verify_depth": None,
        "ca_certificates": None,
        "enabled": True,
        "name": None,
    },
    endpoint_keys=("name",),
    unique=("name",),
)

ROUTE = EntityKind(
    table="routes",
    schema=_closed(
        {
            "id": _STR,
            "name": _STR,
            "protocols": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": _PROTOCOLS}},
            "methods": _STRS,
            "hosts": _STRS,
            "paths": _STRS,
            "headers": {"type": "object", "additionalProperties": _STRS},
            "https_redirect_status_code": {"type": "integer", "enum": [426, 301, 302, 307, 308]},
            "regex_priority": {"type": "integer"},
            "strip_path": {"type": "boolean"},
            "path_handling": {"type": "string", "enum": ["v0", "v1"]},
            "preserve_host": {"type": "boolean"},
            "request_buffering": {"type": "boolean"},
            "response_buffering": {"type": "boolean"},
            "snis": _STRS,
            "sources": {"type": "array", "items": {"type": "object"}},
            "destinations": {"type": "array", "items": {"type": "object"}},
            "tags": _STRS,
            "service": _FK,
            "created_at": _TS,
            "updated_at": _TS,
        }
    ),
    defaults={
        "name": None,
        "methods": None,
        "hosts": None,
        "paths": None,
        "headers": None,
        "https_redirect_status_code": 426,
        "regex_priority": 0,
        "strip_path": True,
        "path_handling": "v0",
        "preserve_host": False,
        "request_buffering": True,
        "response_buffering": True,
        "snis": None,
        "sources": None,
        "destinations": None,
        "tags": None,
        "service": None,
    },
    endpoint_keys=("name",),
    unique=("name",),
    parent="service",
    parent_table="services",
)

CONSUMER = EntityKind(
    table="consumers",
    schema=_closed(
        {"id": _STR, "username": _STR, "custom_id": _STR, "tags": _STRS, "created_at": _TS, "updated_at": _TS}
    ),
    defaults={"username": None, "custom_id": None, "tags": None},
    endpoint_keys=("username",),
    unique=("username", "custom_id"),
)

OAUTH2_CREDENTIAL = EntityKind(
    table="oauth2_credentials",
    schema=_closed(
        {
            "id": _STR,
            "name": _STR,
            "client_id": _STR,
            "client_secret": _STR,
            "hash_secret": {"type": "boolean"},
            "redirect_uris": _STRS,
            "client_type": {"type": "string", "enum": ["confidential", "public"]},
            "consumer": _FK,
            "tags": _STRS,
            "created_at": _TS,
        },
        ("consumer", "name"),
    ),
    defaults={"hash_secret": False, "redirect_uris": None, "client_type": "confidential", "tags": None},
    endpoint_keys=("client_id",),
    unique=("client_id",),
    parent="consumer",
    parent_table="consumers",
    generated={"client_id": 32, "client_secret": 32},
)

JWT_CREDENTIAL = EntityKind(
    table="jwt_secrets",
    schema=_closed(
        {
            "id": _STR,
            "key": _STR,
            "secret": _STR,
            "algorithm": {
                "type": "string",
                "enum": [
                    "HS256",
                    "HS384",
                    "HS512",
                    "RS256",
                    "RS384",
                    "RS512",
                    "ES256",
                    "ES384",
                    "ES512",
                    "PS256",
                    "PS384",
                    "PS512",
                    "EdDSA",
                ],
            },
            "rsa_public_key": _STR,
            "consumer": _FK,
            "tags": _STRS,
            "created_at": _TS,
        },
        ("consumer",),
    ),
    defaults={"algorithm": "HS256", "rsa_public_key": None, "tags": None},
    endpoint_keys=("key",),
    unique=("key",),
    parent="consumer",
    parent_table="consumers",
    generated={"key": 32, "secret": 32},
)

PLUGIN = EntityKind(
    table="plugins",
    schema=_closed(
        {
            "id": _STR,
            "name": _STR,
            "instance_name": _STR,
            "config": {"type": "object"},
            "protocols": {"type": "array", "items": {"type": "string", "enum": _PROTOCOLS}},
            "enabled": {"type": "boolean"},
            "route": _FK,
            "service": _FK,
            "consumer": _FK,
            "tags": _STRS,
            "ordering": {"type": "object"},
            "created_at": _TS,
            "updated_at": _TS,
        },
        ("name",),
    ),
    defaults={
        "instance_name": None,
        "enabled": True,
        "route": None,
        "service": None,
        "consumer": None,
        "tags": None,
        "ordering": None,
    },
    endpoint_keys=("instance_name",),
    unique=("instance_name",),
)

KINDS: dict[str, EntityKind] = {
    k.table: k for k in (SERVICE, ROUTE, CONSUMER, OAUTH2_CREDENTIAL, JWT_CREDENTIAL, PLUGIN)
}


def new_id() -> str:
    return str(uuid.uuid4())


def random_secret(length: int) -> str:
    """A random alphanumeric value like Kong's generated client ids and secrets."""
    return secrets.token_urlsafe(length)[:length].replace("-", "a").replace("_", "b")


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def route_protocols_default(version: Version) -> list[str]:
    """https://developer.konghq.com/gateway/authentication/: a new Route is https-only from 3.14 on; before, http and https."""
    return ["http", "https"] if version < (3, 14) else ["https"]


def expand_service_url(body: dict[str, Any]) -> dict[str, Any]:
    """Kong's ``url`` shorthand: ``url`` sets protocol, host, port and path (and may not be combined)."""
    url = body.pop("url", None)
    if url is None:
        return body
    if not isinstance(url, str):
        raise schema_violation({"url": "expected a string"})
    parts = urlsplit(url)
    if parts.scheme not in _PROTOCOLS or not parts.hostname:
        raise schema_violation({"url": "missing host in url"} if parts.scheme else {"url": "invalid url"})
    body["protocol"] = parts.scheme
    body["host"] = parts.hostname
    try:
        port = parts.port
    except ValueError:
        raise schema_violation({"url": "invalid port number"}) from None
    body["port"] = port or (443 if parts.scheme in ("https", "grpcs", "wss", "tls") else 80)
    body["path"] = parts.path or None
    return body


def check_fields(kind: EntityKind, body: Mapping[str, Any]) -> None:
    """Raise Kong's schema violation for field-level problems of ``body``."""
    errors = field_errors(kind.schema, {k: v for k, v in body.items() if v is not None})
    if isinstance(body.get("id"), str) and not is_uuid(body["id"]):
        errors["id"] = "expected a valid UUID"
    if errors:
        raise schema_violation(errors)


def check_entity(kind: EntityKind, entity: Mapping[str, Any]) -> None:
    """Kong's entity checks that a field schema cannot express (after defaults)."""
    errors: dict[str, Any] = {}
    if kind is SERVICE:
        path = entity.get("path")
        if path is not None and not str(path).startswith("/"):
            errors["path"] = "should start with: /"
    elif kind is ROUTE:
        protocols = entity.get("protocols") or []
        bad_paths = [p for p in entity.get("paths") or [] if not (p.startswith("/") or p.startswith("~/"))]
        if bad_paths:
            errors["paths"] = [
                None if p not in bad_paths else "should start with: / (fixed path) or ~/ (regex path)"
                for p in entity.get("paths") or []
            ]
        if any(p in ("http", "https") for p in protocols) and not any(
            entity.get(f) for f in ("methods", "hosts", "headers", "paths", "snis")
        ):
            proto = "https" if "https" in protocols and "http" not in protocols else "http"
            fields = "'methods', 'hosts', 'headers', 'paths'" + (", 'snis'" if proto == "https" else "")
            errors["@entity"] = [f"must set one of {fields} when 'protocols' is '{proto}'"]
        if entity.get("snis") and not any(
            p in ("https", "grpcs", "tls", "tls_passthrough") for p in protocols
        ):
            errors["snis"] = (
                "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'"
            )
    elif kind is CONSUMER and not entity.get("username") and not entity.get("custom_id"):
        errors["@entity"] = ["at least one of these fields must be non-empty: 'custom_id', 'username'"]
    elif kind is JWT_CREDENTIAL and entity.get("algorithm") in NEEDS_PUBLIC_KEY:
        key = entity.get("rsa_public_key")
        problem = (
            "required field missing" if key is None else None if is_public_key(str(key)) else "invalid key"
        )
        if problem:
            errors["rsa_public_key"] = problem
            errors["@entity"] = ["failed conditional validation given value of field 'algorithm'"]
    elif kind is OAUTH2_CREDENTIAL:
        uris = entity.get("redirect_uris") or []
        problems = [redirect_uri_problem(str(uri)) for uri in uris]
        if any(problems):
            errors["redirect_uris"] = problems
    if errors:
        raise schema_violation(errors)


def unique_violation(kind: EntityKind, field_name: str, value: Any) -> KongError:
    """Kong's 409 ``unique constraint violation`` (code 5)."""
    return KongError(
        409,
        {
            "code": 5,
            "name": "unique constraint violation",
            "message": f"UNIQUE violation detected on '{{{field_name}=\"{value}\"}}'",
            "fields": {field_name: value},
        },
    )


def foreign_key_violation(field_name: str, key: Mapping[str, Any], parent_table: str) -> KongError:
    """Kong's 400 ``foreign key violation`` (code 4) for a reference to a missing entity."""
    pretty = "{" + ",".join(f'{k}="{v}"' for k, v in key.items()) + "}"
    parent = parent_table[:-1] if parent_table.endswith("s") else parent_table
    return KongError(
        400,
        {
            "code": 4,
            "name": "foreign key violation",
            "message": f"the foreign key '{pretty}' does not reference an existing '{parent}' entity.",
            "fields": {field_name: dict(key)},
        },
    )
