"""The Kong Identity emulator's in-memory model: auth servers, scopes, claims, clients, secrets, tokens.

One :class:`IdentityStore` holds everything; the management API (``/v1``) changes it and the issuer reads
it. The store keeps the relationships Kong Identity promises (https://developer.konghq.com/api/konnect/kong-identity/v1/-A.8): names unique where
the API returns 409, cascades on delete, at most two enabled secrets per client, tokens that can be revoked.
It never keeps a client secret in clear text. Every timestamp comes from the shared :class:`Clock`.

Objects handed out are copies: change them through the store's methods, never in place.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from kongformance.identity.client_records import ClientRecords
from kongformance.identity.model import (
    CLIENT_ID_LENGTH,
    CLIENT_SECRET_LENGTH,
    ISSUER_KEY_LENGTH,
    MAX_ENABLED_SECRETS,
    AuthServer,
    Claim,
    Client,
    ClientSecret,
    NameConflict,
    NotEmpty,
    NotFound,
    Scope,
    SecretLimit,
    StoreError,
    TokenRecord,
    UnknownReference,
    copy_of,
    format_timestamp,
    random_lower_alnum,
)

__all__ = [
    "CLIENT_ID_LENGTH",
    "CLIENT_SECRET_LENGTH",
    "ISSUER_KEY_LENGTH",
    "MAX_ENABLED_SECRETS",
    "AuthServer",
    "Claim",
    "Client",
    "ClientSecret",
    "IdentityStore",
    "NameConflict",
    "NotEmpty",
    "NotFound",
    "Scope",
    "SecretLimit",
    "StoreError",
    "TokenRecord",
    "UnknownReference",
    "format_timestamp",
    "random_lower_alnum",
]


class IdentityStore(ClientRecords):
    """All Kong Identity objects of one emulator, thread-safe (clients, secrets, tokens: :class:`ClientRecords`)."""

    # -- auth servers --

    def create_server(
        self,
        *,
        name: str,
        audience: str,
        description: str = "",
        signing_algorithm: str = "RS256",
        labels: Mapping[str, str] | None = None,
        trusted_origins: Iterable[str] | None = None,
    ) -> AuthServer:
        """Create an auth server with a fresh id and issuer key. Raises NameConflict."""
        with self._lock:
            self._check_server_name(name, None)
            now = self.clock.now()
            keys = {s.issuer_key for s in self._servers.values()}
            key = random_lower_alnum(ISSUER_KEY_LENGTH)
            while key in keys:
                key = random_lower_alnum(ISSUER_KEY_LENGTH)
            server = AuthServer(
                id=str(uuid.uuid4()),
                name=name,
                description=description,
                audience=audience,
                signing_algorithm=signing_algorithm,
                labels=dict(labels or {}),
                trusted_origins=None if trusted_origins is None else list(trusted_origins),
                issuer_key=key,
                created_at=now,
                updated_at=now,
            )
            self._servers[server.id] = server
            return copy_of(server)

    def get_server(self, server_id: str) -> AuthServer | None:
        with self._lock:
            server = self._servers.get(server_id)
            return None if server is None else copy_of(server)

    def server_by_issuer_key(self, key: str) -> AuthServer | None:
        """The auth server whose issuer URL carries ``key`` (https://developer.konghq.com/identity/auth-servers/)."""
        with self._lock:
            for server in self._servers.values():
                if server.issuer_key == key:
                    return copy_of(server)
            return None

    def list_servers(self) -> list[AuthServer]:
        with self._lock:
            return [copy_of(s) for s in self._servers.values()]

    def update_server(self, server_id: str, changes: Mapping[str, Any]) -> AuthServer:
        """Set the given fields (``labels`` is replaced whole; the caller merges). Raises NotFound/NameConflict."""
        with self._lock:
            server = self._require_server(server_id)
            if "name" in changes:
                self._check_server_name(changes["name"], server_id)
            for key, value in changes.items():
                setattr(server, key, copy_of(value))
            server.updated_at = self.clock.now()
            return copy_of(server)

    def delete_server(self, server_id: str, *, force: bool) -> None:
        """Delete an auth server; without ``force`` only an empty one (https://developer.konghq.com/api/konnect/kong-identity/v1/)."""
        with self._lock:
            self._require_server(server_id)
            has_children = (
                any(s.auth_server_id == server_id for s in self._scopes.values())
                or any(c.auth_server_id == server_id for c in self._claims.values())
                or any(k[0] == server_id for k in self._clients)
            )
            if has_children and not force:
                raise NotEmpty(
                    "Auth server still has scopes, claims or clients; delete them first or use force=true."
                )
            self._scopes = {k: v for k, v in self._scopes.items() if v.auth_server_id != server_id}
            self._claims = {k: v for k, v in self._claims.items() if v.auth_server_id != server_id}
            self._clients = {k: v for k, v in self._clients.items() if k[0] != server_id}
            self._tokens = {k: v for k, v in self._tokens.items() if v.auth_server_id != server_id}
            del self._servers[server_id]

    # -- scopes --

    def create_scope(
        self,
        server_id: str,
        *,
        name: str,
        description: str = "",
        default: bool = False,
        include_in_metadata: bool = False,
        enabled: bool = True,
    ) -> Scope:
        with self._lock:
            self._require_server(server_id)
            self._check_scope_name(server_id, name, None)
            now = self.clock.now()
            scope = Scope(
                id=str(uuid.uuid4()),
                auth_server_id=server_id,
                name=name,
                description=description,
                default=default,
                include_in_metadata=include_in_metadata,
                enabled=enabled,
                created_at=now,
                updated_at=now,
            )
            self._scopes[scope.id] = scope
            return copy_of(scope)

    def get_scope(self, server_id: str, scope_id: str) -> Scope | None:
        with self._lock:
            scope = self._scopes.get(scope_id)
            return copy_of(scope) if scope is not None and scope.auth_server_id == server_id else None

    def scopes_of(self, server_id: str) -> list[Scope]:
        """All scopes of an auth server, in creation order."""
        with self._lock:
            return [copy_of(s) for s in self._scopes.values() if s.auth_server_id == server_id]

    def update_scope(self, server_id: str, scope_id: str, changes: Mapping[str, Any]) -> Scope:
        with self._lock:
            scope = self._require_scope(server_id, scope_id)
            if "name" in changes:
                self._check_scope_name(server_id, changes["name"], scope_id)
            for key, value in changes.items():
                setattr(scope, key, copy_of(value))
            scope.updated_at = self.clock.now()
            return copy_of(scope)

    def delete_scope(self, server_id: str, scope_id: str) -> None:
        """Delete a scope and remove it from clients' allow_scopes and claims' include_in_scopes (A.4, A.5)."""
        with self._lock:
            self._require_scope(server_id, scope_id)
            del self._scopes[scope_id]
            now = self.clock.now()
            for (sid, _), client in self._clients.items():
                if sid == server_id and scope_id in client.allow_scopes:
                    client.allow_scopes = [s for s in client.allow_scopes if s != scope_id]
                    client.updated_at = now
            for claim in self._claims.values():
                if claim.auth_server_id == server_id and scope_id in claim.include_in_scopes:
                    claim.include_in_scopes = [s for s in claim.include_in_scopes if s != scope_id]
                    claim.updated_at = now

    def check_scope_ids(self, server_id: str, scope_ids: Iterable[str], field_name: str) -> None:
        """Raise UnknownReference unless every id names a scope of this auth server."""
        with self._lock:
            for scope_id in scope_ids:
                scope = self._scopes.get(scope_id)
                if scope is None or scope.auth_server_id != server_id:
                    raise UnknownReference(
                        f"Scope [{scope_id}] does not exist on this auth server.", field_name
                    )

    # -- claims --

    def create_claim(
        self,
        server_id: str,
        *,
        name: str,
        value: str,
        include_in_token: bool = False,
        include_in_all_scopes: bool = False,
        include_in_scopes: Iterable[str] = (),
        enabled: bool = True,
    ) -> Claim:
        with self._lock:
            self._require_server(server_id)
            self._check_claim_name(server_id, name, None)
            now = self.clock.now()
            claim = Claim(
                id=str(uuid.uuid4()),
                auth_server_id=server_id,
                name=name,
                value=value,
                include_in_token=include_in_token,
                include_in_all_scopes=include_in_all_scopes,
                include_in_scopes=list(include_in_scopes),
                enabled=enabled,
                created_at=now,
                updated_at=now,
            )
            self._claims[claim.id] = claim
            return copy_of(claim)

    def get_claim(self, server_id: str, claim_id: str) -> Claim | None:
        with self._lock:
            claim = self._claims.get(claim_id)
            return copy_of(claim) if claim is not None and claim.auth_server_id == server_id else None

    def claims_of(self, server_id: str) -> list[Claim]:
        """All claims of an auth server, in creation order."""
        with self._lock:
            return [copy_of(c) for c in self._claims.values() if c.auth_server_id == server_id]

    def update_claim(self, server_id: str, claim_id: str, changes: Mapping[str, Any]) -> Claim:
        with self._lock:
            claim = self._require_claim(server_id, claim_id)
            if "name" in changes:
                self._check_claim_name(server_id, changes["name"], claim_id)
            for key, value in changes.items():
                setattr(claim, key, copy_of(value))
            claim.updated_at = self.clock.now()
            return copy_of(claim)

    def delete_claim(self, server_id: str, claim_id: str) -> None:
        """Delete a claim; claims are attached to scopes only through the claim, so this detaches it (A.5)."""
        with self._lock:
            self._require_claim(server_id, claim_id)
            del self._claims[claim_id]

    # -- templating context --

    def template_context(self, server: AuthServer, client: Client) -> dict[str, Any]:
        """The ``.AuthServer.*`` / ``.Client.*`` context of claim templates (https://developer.konghq.com/identity/auth-servers/#supported-contexts)."""
        return {
            "AuthServer": {
                "ID": server.id,
                "CreatedAt": format_timestamp(server.created_at),
                "UpdatedAt": format_timestamp(server.updated_at),
                "Name": server.name,
                "Description": server.description,
                "Audience": server.audience,
                "SigningAlgorithm": server.signing_algorithm,
                "Labels": dict(server.labels),
            },
            "Client": {
                "ID": client.id,
                "CreatedAt": format_timestamp(client.created_at),
                "UpdatedAt": format_timestamp(client.updated_at),
                "Name": client.name,
                "Labels": dict(client.labels),
                "GrantTypes": list(client.grant_types),
                "RedirectURIs": list(client.redirect_uris),
                "LoginURI": client.login_uri or "",
                "ResponseTypes": list(client.response_types),
                "AllowAllScopes": client.allow_all_scopes,
            },
        }

    # -- internals (call with the lock held) --

    def _require_scope(self, server_id: str, scope_id: str) -> Scope:
        self._require_server(server_id)
        scope = self._scopes.get(scope_id)
        if scope is None or scope.auth_server_id != server_id:
            raise NotFound(f"Scope [{scope_id}] not found.")
        return scope

    def _require_claim(self, server_id: str, claim_id: str) -> Claim:
        self._require_server(server_id)
        claim = self._claims.get(claim_id)
        if claim is None or claim.auth_server_id != server_id:
            raise NotFound(f"Claim [{claim_id}] not found.")
        return claim

    def _check_server_name(self, name: str, own_id: str | None) -> None:
        if any(s.name == name and s.id != own_id for s in self._servers.values()):
            raise NameConflict("Auth server with provided name already exists.")

    def _check_scope_name(self, server_id: str, name: str, own_id: str | None) -> None:
        if any(
            s.auth_server_id == server_id and s.name == name and s.id != own_id for s in self._scopes.values()
        ):
            raise NameConflict("Scope with provided name already exists.")

    def _check_claim_name(self, server_id: str, name: str, own_id: str | None) -> None:
        if any(
            c.auth_server_id == server_id and c.name == name and c.id != own_id for c in self._claims.values()
        ):
            raise NameConflict("Claim with provided name already exists.")


# Wrappers that track writes (directory.CountingStore) enumerate ``vars(IdentityStore)``; give the inherited
# client, secret and token operations a place there too, so they are seen like the rest of the public API.
for _name, _member in vars(ClientRecords).items():
    if not _name.startswith("_") and callable(_member):
        setattr(IdentityStore, _name, _member)
