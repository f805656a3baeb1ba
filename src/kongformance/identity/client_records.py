"""Clients, their secrets and the records of issued tokens: the part of the identity store under a client.

:class:`ClientRecords` holds the shared state of the store (one lock, all maps) and the client-level
operations (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient-A.8); :class:`kongformance.identity.store.IdentityStore` adds auth servers,
scopes and claims on top. Secrets are kept as salted hashes and compared in constant time.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from kongformance.clock import Clock
from kongformance.identity.model import (
    CLIENT_ID_LENGTH,
    CLIENT_SECRET_LENGTH,
    MAX_ENABLED_SECRETS,
    AuthServer,
    Claim,
    Client,
    ClientSecret,
    NameConflict,
    NotFound,
    Scope,
    SecretLimit,
    TokenRecord,
    copy_of,
    new_secret,
    random_lower_alnum,
)


def _build_client(
    server_id: str, client_id: str, fields: Mapping[str, Any], *, created_at: float, now: float
) -> Client:
    """A client from a create/replace body, with the document's defaults for absent fields (A.6)."""
    return Client(
        id=client_id,
        auth_server_id=server_id,
        name=fields["name"],
        grant_types=list(fields["grant_types"]),
        response_types=list(fields["response_types"]),
        redirect_uris=list(fields.get("redirect_uris") or []),
        login_uri=fields.get("login_uri"),
        access_token_duration=int(fields.get("access_token_duration", 300)),
        id_token_duration=int(fields.get("id_token_duration", 300)),
        allow_all_scopes=bool(fields.get("allow_all_scopes", False)),
        allow_scopes=list(fields.get("allow_scopes") or []),
        labels=dict(fields.get("labels") or {}),
        token_endpoint_auth_method=fields.get("token_endpoint_auth_method", "client_secret_post"),
        created_at=created_at,
        updated_at=now,
    )


class ClientRecords:
    """The store's state and its client, secret and token operations (thread-safe)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._servers: dict[str, AuthServer] = {}
        self._scopes: dict[str, Scope] = {}
        self._claims: dict[str, Claim] = {}
        self._clients: dict[tuple[str, str], Client] = {}
        self._tokens: dict[str, TokenRecord] = {}

    # -- clients --

    def create_client(
        self,
        server_id: str,
        fields: Mapping[str, Any],
        *,
        client_id: str | None = None,
        secret: str | None = None,
    ) -> tuple[Client, str]:
        """Create a client (id and secret generated unless given); returns it and its clear-text secret."""
        with self._lock:
            self._require_server(server_id)
            self._check_client_name(server_id, fields["name"], None)
            if client_id is None:
                client_id = random_lower_alnum(CLIENT_ID_LENGTH)
                while (server_id, client_id) in self._clients:
                    client_id = random_lower_alnum(CLIENT_ID_LENGTH)
            elif (server_id, client_id) in self._clients:
                raise NameConflict(f"Client with id [{client_id}] already exists.")
            if secret is None:
                secret = random_lower_alnum(CLIENT_SECRET_LENGTH)
            now = self.clock.now()
            client = _build_client(server_id, client_id, fields, created_at=now, now=now)
            client.secrets = [new_secret(secret, True, now)]
            self._clients[(server_id, client_id)] = client
            return copy_of(client), secret

    def replace_client(
        self, server_id: str, client_id: str, fields: Mapping[str, Any], secret: str
    ) -> tuple[Client, bool]:
        """PUT semantics (A.6): create with this id and secret, or replace every field. Returns (client, created)."""
        with self._lock:
            self._require_server(server_id)
            existing = self._clients.get((server_id, client_id))
            if existing is None:
                client, _ = self.create_client(server_id, fields, client_id=client_id, secret=secret)
                return client, True
            self._check_client_name(server_id, fields["name"], client_id)
            now = self.clock.now()
            replacement = _build_client(server_id, client_id, fields, created_at=existing.created_at, now=now)
            replacement.secrets = self._secrets_with(existing, secret, now)
            self._clients[(server_id, client_id)] = replacement
            return copy_of(replacement), False

    def get_client(self, server_id: str, client_id: str) -> Client | None:
        with self._lock:
            client = self._clients.get((server_id, client_id))
            return None if client is None else copy_of(client)

    def clients_of(self, server_id: str) -> list[Client]:
        with self._lock:
            return [copy_of(c) for (sid, _), c in self._clients.items() if sid == server_id]

    def update_client(
        self, server_id: str, client_id: str, changes: Mapping[str, Any], *, secret: str | None = None
    ) -> Client:
        """PATCH semantics: set the given fields; a new ``secret`` replaces the client's secrets (inferred)."""
        with self._lock:
            client = self._require_client(server_id, client_id)
            if "name" in changes:
                self._check_client_name(server_id, changes["name"], client_id)
            for key, value in changes.items():
                setattr(client, key, copy_of(value))
            now = self.clock.now()
            if secret is not None:
                client.secrets = self._secrets_with(client, secret, now)
            client.updated_at = now
            return copy_of(client)

    def delete_client(self, server_id: str, client_id: str) -> None:
        """Delete a client and all of its tokens (A.6)."""
        with self._lock:
            self._require_client(server_id, client_id)
            del self._clients[(server_id, client_id)]
            self._tokens = {
                k: t
                for k, t in self._tokens.items()
                if not (t.auth_server_id == server_id and t.client_id == client_id)
            }

    def authenticate_client(self, server_id: str, client_id: str, secret: str) -> Client | None:
        """The client if ``secret`` matches one of its enabled secrets (constant-time per secret), else None."""
        with self._lock:
            client = self._clients.get((server_id, client_id))
            if client is None:
                return None
            matched = False
            for item in client.secrets:
                # compare against every secret so the time taken does not tell which one matched
                if item.matches(secret) and item.enabled:
                    matched = True
            return copy_of(client) if matched else None

    # -- client secrets --

    def secrets_of(self, server_id: str, client_id: str) -> list[ClientSecret]:
        with self._lock:
            return [copy_of(s) for s in self._require_client(server_id, client_id).secrets]

    def get_secret(self, server_id: str, client_id: str, secret_id: str) -> ClientSecret | None:
        with self._lock:
            client = self._require_client(server_id, client_id)
            for item in client.secrets:
                if item.id == secret_id:
                    return copy_of(item)
            return None

    def create_secret(
        self, server_id: str, client_id: str, *, secret: str | None = None, enabled: bool = True
    ) -> tuple[ClientSecret, str]:
        """Add a secret (generated unless given); raises SecretLimit for a third enabled one (A.7)."""
        with self._lock:
            client = self._require_client(server_id, client_id)
            if enabled:
                self._check_secret_limit(client)
            value = secret if secret is not None else random_lower_alnum(CLIENT_SECRET_LENGTH)
            now = self.clock.now()
            item = new_secret(value, enabled, now)
            client.secrets.append(item)
            return copy_of(item), value

    def set_secret_enabled(
        self, server_id: str, client_id: str, secret_id: str, enabled: bool
    ) -> ClientSecret:
        with self._lock:
            client = self._require_client(server_id, client_id)
            item = self._find_secret(client, secret_id)
            if enabled and not item.enabled:
                self._check_secret_limit(client)
            item.enabled = enabled
            item.updated_at = self.clock.now()
            return copy_of(item)

    def delete_secret(self, server_id: str, client_id: str, secret_id: str) -> None:
        with self._lock:
            client = self._require_client(server_id, client_id)
            item = self._find_secret(client, secret_id)
            client.secrets = [s for s in client.secrets if s.id != item.id]

    # -- tokens --

    def record_token(self, rec: TokenRecord) -> None:
        """Remember an issued token (called by the issuer at mint time); the store takes ``rec`` over."""
        with self._lock:
            self._tokens[rec.id] = rec

    def get_token(self, jti: str) -> TokenRecord | None:
        """The record of token ``jti``, revoked or not; None once deleted or evicted."""
        with self._lock:
            rec = self._tokens.get(jti)
            return None if rec is None else copy_of(rec)

    def revoke_token(self, jti: str) -> bool:
        """Mark a token revoked; False if no record exists."""
        with self._lock:
            rec = self._tokens.get(jti)
            if rec is None:
                return False
            rec.revoked = True
            return True

    def tokens_of_client(
        self, server_id: str, client_id: str, *, include_revoked: bool = False
    ) -> list[TokenRecord]:
        with self._lock:
            self._require_client(server_id, client_id)
            return [
                copy_of(t)
                for t in self._tokens.values()
                if t.auth_server_id == server_id
                and t.client_id == client_id
                and (include_revoked or not t.revoked)
            ]

    def revoke_client_tokens(self, server_id: str, client_id: str) -> int:
        """Revoke every token of a client; returns how many were newly revoked."""
        with self._lock:
            self._require_client(server_id, client_id)
            count = 0
            for t in self._tokens.values():
                if t.auth_server_id == server_id and t.client_id == client_id and not t.revoked:
                    t.revoked = True
                    count += 1
            return count

    def evict_expired(self, now: float) -> int:
        """Forget records of tokens expired at ``now`` so memory stays flat; returns how many."""
        with self._lock:
            expired = [k for k, t in self._tokens.items() if t.expires_at <= now]
            for k in expired:
                del self._tokens[k]
            return len(expired)

    # -- internals (call with the lock held) --

    def _require_server(self, server_id: str) -> AuthServer:
        server = self._servers.get(server_id)
        if server is None:
            raise NotFound(f"Auth server [{server_id}] not found.")
        return server

    def _require_client(self, server_id: str, client_id: str) -> Client:
        self._require_server(server_id)
        client = self._clients.get((server_id, client_id))
        if client is None:
            raise NotFound(f"Client [{client_id}] not found.")
        return client

    @staticmethod
    def _find_secret(client: Client, secret_id: str) -> ClientSecret:
        for item in client.secrets:
            if item.id == secret_id:
                return item
        raise NotFound(f"Client secret [{secret_id}] not found.")

    @staticmethod
    def _check_secret_limit(client: Client) -> None:
        if sum(1 for s in client.secrets if s.enabled) >= MAX_ENABLED_SECRETS:
            raise SecretLimit(f"A client may have at most {MAX_ENABLED_SECRETS} enabled secrets.")

    @staticmethod
    def _secrets_with(client: Client, secret: str, now: float) -> list[ClientSecret]:
        """Keep an existing secret that already equals ``secret``, else replace all with it."""
        for item in client.secrets:
            if item.matches(secret):
                item.enabled = True
                return [item]
        return [new_secret(secret, True, now)]

    def _check_client_name(self, server_id: str, name: str, own_id: str | None) -> None:
        if any(
            sid == server_id and c.name == name and c.id != own_id for (sid, _), c in self._clients.items()
        ):
            raise NameConflict("Client with provided name already exists.")
