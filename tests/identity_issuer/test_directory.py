"""The issuer's cached views follow every management change at once (directory.py; https://developer.konghq.com/api/konnect/kong-identity/v1/-A.7)."""

from __future__ import annotations

from tests.identity_issuer.helpers import Issuer, decode_segments

from kongformance.clock import Clock
from kongformance.identity.directory import READ_ONLY_OR_TOKENS, CountingStore, IssuerDirectory
from kongformance.identity.store import IdentityStore


def test_read_only_list_names_real_store_methods() -> None:
    """A renamed store method must not silently stop invalidating the cache."""
    assert set(dir(IdentityStore)) >= READ_ONLY_OR_TOKENS


def test_writes_bump_the_generation_and_reads_do_not() -> None:
    """directory.py: any write to servers, scopes, claims or clients invalidates the views."""
    store = CountingStore(Clock())
    before = store.generation
    server = store.create_server(name="s", audience="a")
    assert store.generation != before
    after_create = store.generation
    store.get_server(server.id)
    store.scopes_of(server.id)
    assert store.generation == after_create
    directory = IssuerDirectory(store)
    assert directory.server(server.issuer_key) is not None
    store.delete_server(server.id, force=True)
    assert directory.server(server.issuer_key) is None


def test_scope_added_after_first_token_is_granted_next_time(issuer: Issuer) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerScope default scopes: changes apply to the next token."""
    assert decode_segments(issuer.access_token())[1]["scope"] == ""
    scope = issuer.emulator.store.create_scope(issuer.server.id, name="late", default=True)
    issuer.emulator.store.update_client(issuer.server.id, issuer.client.id, {"allow_scopes": [scope.id]})
    assert decode_segments(issuer.access_token())[1]["scope"] == "late"


def test_deleted_auth_server_has_no_issuer_endpoints(issuer: Issuer) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/ delete: the issuer disappears with its auth server."""
    assert issuer.token().status_code == 200
    issuer.emulator.store.delete_server(issuer.server.id, force=True)
    assert issuer.token().status_code == 404
