"""The Kong Identity emulator's data model: auth servers, scopes, claims, clients, secrets, token records.

Plain dataclasses (https://developer.konghq.com/api/konnect/kong-identity/v1/-A.8), the refusals the store raises, and the generators of ids and
secrets. :mod:`kongformance.identity.store` re-exports everything here; import from there.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
import string
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

_ALNUM_LOWER = string.ascii_lowercase + string.digits
ISSUER_KEY_LENGTH = 16
CLIENT_ID_LENGTH = 16
CLIENT_SECRET_LENGTH = 24
MAX_ENABLED_SECRETS = 2


def random_lower_alnum(length: int) -> str:
    """A random string of lowercase letters and digits (the form of issuer keys, client ids and secrets)."""
    return "".join(secrets.choice(_ALNUM_LOWER) for _ in range(length))


def format_timestamp(ts: float) -> str:
    """RFC 3339 with microseconds and ``Z``, as Konnect shows (https://developer.konghq.com/api/konnect/kong-identity/v1/, observed)."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- errors ---------------------------------------------------------------------------------------


class StoreError(Exception):
    """A change the store refuses; ``detail`` is safe to show to API callers."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(StoreError):
    """The named object does not exist (under the given parent)."""


class NameConflict(StoreError):
    """Another object already uses that name where names must be unique."""


class NotEmpty(StoreError):
    """An auth server still has scopes, claims or clients and ``force`` was not given."""


class SecretLimit(StoreError):
    """A third enabled secret was asked for (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createClientSecret: at most two active)."""


class UnknownReference(StoreError):
    """A list of scope ids names a scope that does not exist on this auth server."""

    def __init__(self, detail: str, field_name: str) -> None:
        super().__init__(detail)
        self.field_name = field_name


# --- model ----------------------------------------------------------------------------------------


@dataclass
class AuthServer:
    """An authorization server (https://developer.konghq.com/api/konnect/kong-identity/v1/)."""

    id: str
    name: str
    description: str
    audience: str
    signing_algorithm: str
    labels: dict[str, str]
    trusted_origins: list[str] | None
    issuer_key: str
    created_at: float
    updated_at: float


@dataclass
class Scope:
    """A scope of one auth server (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerScope)."""

    id: str
    auth_server_id: str
    name: str
    description: str
    default: bool
    include_in_metadata: bool
    enabled: bool
    created_at: float
    updated_at: float


@dataclass
class Claim:
    """A (possibly templated) claim of one auth server (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim)."""

    id: str
    auth_server_id: str
    name: str
    value: str
    include_in_token: bool
    include_in_all_scopes: bool
    include_in_scopes: list[str]
    enabled: bool
    created_at: float
    updated_at: float


@dataclass
class ClientSecret:
    """One secret of a client; only a salted hash is kept (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createClientSecret)."""

    id: str
    enabled: bool
    salt: bytes
    digest: bytes
    created_at: float
    updated_at: float

    def matches(self, secret: str) -> bool:
        """Constant-time comparison of ``secret`` with the stored one."""
        return hmac.compare_digest(_digest(self.salt, secret), self.digest)


@dataclass
class Client:
    """An OAuth client of one auth server (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient)."""

    id: str
    auth_server_id: str
    name: str
    grant_types: list[str]
    response_types: list[str]
    redirect_uris: list[str]
    login_uri: str | None
    access_token_duration: int
    id_token_duration: int
    allow_all_scopes: bool
    allow_scopes: list[str]
    labels: dict[str, str]
    token_endpoint_auth_method: str
    created_at: float
    updated_at: float
    secrets: list[ClientSecret] = field(default_factory=list)


@dataclass(slots=True)
class TokenRecord:
    """Bookkeeping of one issued access token; ``id`` is the JWT ``jti`` (a UUID, https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/listAuthServerClientTokens)."""

    id: str
    auth_server_id: str
    client_id: str
    granted_scope_names: Sequence[str]  # a tuple when the issuer records it (smaller than a list)
    created_at: float
    expires_at: float
    revoked: bool = False


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode("utf-8")).digest()


def new_secret(secret: str, enabled: bool, now: float) -> ClientSecret:
    """A secret item holding a salted hash of ``secret``."""
    salt = secrets.token_bytes(16)
    return ClientSecret(
        id=str(uuid.uuid4()),
        enabled=enabled,
        salt=salt,
        digest=_digest(salt, secret),
        created_at=now,
        updated_at=now,
    )


_T = TypeVar("_T")


def copy_of(obj: _T) -> _T:
    """A deep copy: the store hands out copies, never its own objects."""
    return copy.deepcopy(obj)
