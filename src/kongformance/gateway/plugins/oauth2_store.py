"""The OSS oauth2 plugin's token table (Kong's ``oauth2_tokens``), one per gateway.

Credentials (``oauth2_credentials``) belong to the Admin API; the store reaches them through the
``credential_by_client_id`` lookup the gateway passes in. Tokens and authorization codes are bound to a
credential and (unless global) a Service: a row whose credential or Service is gone is gone too (Kong's foreign
keys cascade, https://github.com/Kong/kong/blob/3.9.0/kong/plugins/oauth2/daos.lua), https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua and https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from kongformance.clock import Clock

CredentialLookup = Callable[[str], "Mapping[str, Any] | None"]
ServiceExists = Callable[[str], bool]


@dataclass(frozen=True)
class Oauth2Token:
    """One row of ``oauth2_tokens``. ``service_id`` is None for a global token (``global_credentials``)."""

    access_token: str
    token_type: str
    expires_in: int | float  # 0: never expires
    created_at: int  # whole seconds, as Kong stores it
    scope: str | None
    authenticated_userid: str | None
    credential_id: str
    client_id: str
    consumer_id: str | None
    service_id: str | None
    purge_at: float | None = None  # Kong deletes the row after refresh_token_ttl
    refresh_token: str | None = None
    id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))  # the row's primary key

    def expired(self, now: float) -> bool:
        """Kong's rule: ``expires_in > 0`` and ``now - created_at > expires_in`` (https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua and https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow)."""
        return self.expires_in > 0 and now - self.created_at > self.expires_in


AUTHORIZATION_CODE_TTL = 300  # seconds: Kong inserts oauth2_authorization_codes with ttl = 300


@dataclass(frozen=True)
class AuthorizationCode:
    """One row of ``oauth2_authorization_codes`` (deleted once exchanged, or after 300 s)."""

    code: str
    credential_id: str
    service_id: str | None
    plugin_id: str | None
    authenticated_userid: str | None
    scope: str | None
    challenge: str | None
    challenge_method: str | None
    expires_at: float


class Oauth2Store:
    """Issues and finds oauth2 access tokens and authorization codes; thread-safe."""

    def __init__(
        self,
        clock: Clock,
        credential_by_client_id: CredentialLookup,
        service_exists: ServiceExists = lambda _service_id: True,
    ) -> None:
        self.clock = clock
        self.credential_by_client_id = credential_by_client_id
        self.service_exists = service_exists
        self._tokens: dict[str, Oauth2Token] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._lock = threading.Lock()

    def credential(self, client_id: str) -> Mapping[str, Any] | None:
        """The oauth2 credential whose ``client_id`` is ``client_id``."""
        return self.credential_by_client_id(client_id)

    def issue(
        self,
        credential: Mapping[str, Any],
        *,
        service_id: str | None,
        scope: str | None,
        authenticated_userid: str | None,
        expires_in: int | float,
        retain_for: float | None = None,
        refresh: bool = False,
    ) -> Oauth2Token:
        """Insert a new token for ``credential`` (32 random hex characters, like Kong's ``random_string``).

        ``retain_for`` is Kong's row TTL (``refresh_token_ttl`` when the token expires); None keeps it forever.
        ``refresh`` adds a refresh token (password and refresh_token grants).
        """
        now = self.clock.now()
        consumer = credential.get("consumer") or {}
        token = Oauth2Token(
            access_token=secrets.token_hex(16),
            token_type="bearer",
            expires_in=expires_in,
            created_at=math.floor(now),
            scope=scope,
            authenticated_userid=authenticated_userid,
            credential_id=str(credential.get("id")),
            client_id=str(credential.get("client_id")),
            consumer_id=consumer.get("id") if isinstance(consumer, Mapping) else None,
            service_id=service_id,
            purge_at=None if not retain_for else now + retain_for,
            refresh_token=secrets.token_hex(16) if refresh else None,
        )
        with self._lock:
            self._tokens[token.access_token] = token
        return token

    def find(self, access_token: str) -> Oauth2Token | None:
        """The token row for ``access_token``, or None (unknown, purged, or its credential or Service was
        deleted)."""
        with self._lock:
            token = self._tokens.get(access_token)
            if token is None:
                return None
            if token.purge_at is not None and self.clock.now() >= token.purge_at:
                del self._tokens[access_token]
                return None
        credential = self.credential_by_client_id(token.client_id)
        if credential is None or str(credential.get("id")) != token.credential_id:
            return None
        if not self._service_alive(token.service_id):
            self.delete(access_token)
            return None
        return token

    def _service_alive(self, service_id: str | None) -> bool:
        """A global row (no Service) or one whose Service still exists; Kong deletes the others with it."""
        return service_id is None or self.service_exists(service_id)

    def find_by_refresh_token(self, refresh_token: str) -> Oauth2Token | None:
        """The live token row carrying ``refresh_token``, or None."""
        with self._lock:
            match = next((t for t in self._tokens.values() if t.refresh_token == refresh_token), None)
        return None if match is None else self.find(match.access_token)

    def reissue(
        self, token: Oauth2Token, *, expires_in: int | float, retain_for: float | None
    ) -> Oauth2Token:
        """``reuse_refresh_token``: the same row gets a new access token, ``expires_in`` and ``created_at``
        (its refresh token, scope and Service stay), and its row TTL starts again."""
        now = self.clock.now()
        renewed = dataclasses.replace(
            token,
            access_token=secrets.token_hex(16),
            expires_in=expires_in,
            created_at=math.floor(now),
            purge_at=None if not retain_for else now + retain_for,
        )
        with self._lock:
            self._tokens.pop(token.access_token, None)
            self._tokens[renewed.access_token] = renewed
        return renewed

    def issue_code(
        self,
        credential: Mapping[str, Any],
        *,
        service_id: str | None,
        plugin_id: str | None,
        authenticated_userid: str | None,
        scope: str | None,
        challenge: str | None,
        challenge_method: str | None,
    ) -> AuthorizationCode:
        """Insert an authorization code (32 characters) that lives :data:`AUTHORIZATION_CODE_TTL` seconds."""
        code = AuthorizationCode(
            code=secrets.token_hex(16),
            credential_id=str(credential.get("id")),
            service_id=service_id,
            plugin_id=plugin_id,
            authenticated_userid=authenticated_userid,
            scope=scope,
            challenge=challenge,
            challenge_method=challenge_method,
            expires_at=self.clock.now() + AUTHORIZATION_CODE_TTL,
        )
        with self._lock:
            self._codes[code.code] = code
        return code

    def find_code(self, code: str) -> AuthorizationCode | None:
        """The live authorization code row for ``code``, or None (unknown, used, expired, or its Service was
        deleted)."""
        with self._lock:
            row = self._codes.get(code)
            if row is not None and self.clock.now() >= row.expires_at:
                del self._codes[code]
                return None
        if row is not None and not self._service_alive(row.service_id):
            self.delete_code(code)
            return None
        return row

    def delete_code(self, code: str) -> None:
        with self._lock:
            self._codes.pop(code, None)

    def delete(self, access_token: str) -> None:
        with self._lock:
            self._tokens.pop(access_token, None)

    # -- the Admin API's /oauth2_tokens (admin_oauth2_tokens.py) -------------------------------------------

    def rows(self) -> list[Oauth2Token]:
        """Every live token row, oldest first."""
        with self._lock:
            tokens = list(self._tokens.values())
        return [t for t in tokens if self.find(t.access_token) is not None]

    def by_key(self, key: str) -> Oauth2Token | None:
        """A live row by its id or its access token (Kong's endpoint key)."""
        found = self.find(key)
        if found is not None:
            return found
        return next((t for t in self.rows() if t.id == key), None)

    def put(self, token: Oauth2Token) -> Oauth2Token:
        """Insert ``token``, replacing the row with the same id."""
        with self._lock:
            for other in [t for t in self._tokens.values() if t.id == token.id]:
                del self._tokens[other.access_token]
            self._tokens[token.access_token] = token
        return token

    def clear(self) -> None:
        """Drop every token (a fresh database)."""
        with self._lock:
            self._tokens.clear()
            self._codes.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._tokens)
