"""Fast read-side lookups for the issuer hot path, invalidated by a write counter on the store.

:class:`IdentityStore` hands out deep copies and finds auth servers by scanning, which is right for the
management API but costs ~100 µs per token. :class:`CountingStore` is the same store that also counts its
writes (every public method that is not known to be read-only bumps ``generation``); :class:`IssuerDirectory`
keeps an index by issuer key and per-server scopes, claims and clients, rebuilt lazily
whenever the generation moved. Token bookkeeping (record/revoke/evict) does not affect these views.
Objects returned by the directory are shared: read them, never change them.
"""

from __future__ import annotations

import functools
import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kongformance.identity.store import AuthServer, Claim, Client, IdentityStore, Scope

READ_ONLY_OR_TOKENS = frozenset(
    {
        "get_server", "server_by_issuer_key", "list_servers", "get_scope", "scopes_of", "check_scope_ids",
        "get_claim", "claims_of", "get_client", "clients_of", "authenticate_client", "secrets_of",
        "get_secret", "template_context", "record_token", "get_token", "revoke_token", "tokens_of_client",
        "revoke_client_tokens", "evict_expired",
    }
)  # fmt: skip
"""Store methods that leave servers, scopes, claims and clients unchanged; any other public method counts."""


class CountingStore(IdentityStore):
    """An :class:`IdentityStore` whose ``generation`` changes after every write to servers, scopes, claims or clients."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._generations = itertools.count(1)
        self.generation = 0


def _counting(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: CountingStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            self.generation = next(self._generations)

    return wrapper


for _name, _member in list(vars(IdentityStore).items()):
    if inspect.isfunction(_member) and not _name.startswith("_") and _name not in READ_ONLY_OR_TOKENS:
        setattr(CountingStore, _name, _counting(_member))


@dataclass
class _Snapshot:
    generation: int
    servers_by_key: dict[str, AuthServer]
    clients: dict[tuple[str, str], Client | None] = field(default_factory=dict)
    scopes: dict[str, list[Scope]] = field(default_factory=dict)
    claims: dict[str, list[Claim]] = field(default_factory=dict)


class IssuerDirectory:
    """Cached, shared views of a :class:`CountingStore` for the issuer endpoints (thread-safe by replacement)."""

    def __init__(self, store: CountingStore) -> None:
        self.store = store
        self._snapshot = self._build()

    def _build(self) -> _Snapshot:
        generation = self.store.generation  # read before building: a concurrent write makes it stale at once
        servers = {s.issuer_key: s for s in self.store.list_servers()}
        return _Snapshot(generation, servers)

    def _current(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot.generation != self.store.generation:
            snapshot = self._snapshot = self._build()
        return snapshot

    def server(self, issuer_key: str) -> AuthServer | None:
        """The auth server of an issuer key (https://developer.konghq.com/identity/auth-servers/)."""
        return self._current().servers_by_key.get(issuer_key)

    def client(self, server_id: str, client_id: str) -> Client | None:
        snapshot = self._current()
        key = (server_id, client_id)
        if key not in snapshot.clients:
            snapshot.clients[key] = self.store.get_client(server_id, client_id)
        return snapshot.clients[key]

    def scopes(self, server_id: str) -> list[Scope]:
        snapshot = self._current()
        scopes = snapshot.scopes.get(server_id)
        if scopes is None:
            scopes = snapshot.scopes[server_id] = self.store.scopes_of(server_id)
        return scopes

    def claims(self, server_id: str) -> list[Claim]:
        snapshot = self._current()
        claims = snapshot.claims.get(server_id)
        if claims is None:
            claims = snapshot.claims[server_id] = self.store.claims_of(server_id)
        return claims
