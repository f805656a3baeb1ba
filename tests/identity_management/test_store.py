"""The in-memory model the issuer builds on (https://developer.konghq.com/api/konnect/kong-identity/v1/-A.8, C.3)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from kongformance.clock import Clock
from kongformance.identity.store import IdentityStore, NameConflict, SecretLimit, TokenRecord

CC = {"name": "svc", "grant_types": ["client_credentials"], "response_types": ["token"]}


def test_template_context_exposes_the_documented_variables(store: IdentityStore) -> None:
    """C.3: .AuthServer.* and .Client.* as plain values, timestamps RFC 3339."""
    server = store.create_server(name="s", audience="aud", description="d", labels={"env": "prod"})
    client, _ = store.create_client(
        server.id, {**CC, "labels": {"tier": "gold"}, "redirect_uris": ["https://a/cb"]}
    )
    ctx = store.template_context(server, client)
    assert set(ctx["AuthServer"]) == {
        "ID", "CreatedAt", "UpdatedAt", "Name", "Description", "Audience", "SigningAlgorithm", "Labels",
    }  # fmt: skip
    assert set(ctx["Client"]) == {
        "ID", "CreatedAt", "UpdatedAt", "Name", "Labels", "GrantTypes", "RedirectURIs", "LoginURI",
        "ResponseTypes", "AllowAllScopes",
    }  # fmt: skip
    assert ctx["AuthServer"]["Labels"] == {"env": "prod"} and ctx["AuthServer"]["Audience"] == "aud"
    assert ctx["Client"]["Labels"] == {"tier": "gold"} and ctx["Client"]["GrantTypes"] == [
        "client_credentials"
    ]
    assert ctx["Client"]["AllowAllScopes"] is False and ctx["Client"]["RedirectURIs"] == ["https://a/cb"]
    assert ctx["AuthServer"]["CreatedAt"].endswith("Z")


def test_objects_handed_out_are_copies(store: IdentityStore) -> None:
    """Changing a returned object does not change the store (changes go through methods)."""
    server = store.create_server(name="s", audience="aud")
    server.labels["x"] = "y"
    stored = store.get_server(server.id)
    assert stored is not None and stored.labels == {}


def test_timestamps_come_from_the_clock(store: IdentityStore, clock: Clock) -> None:
    """Timestamps come from the shared virtual Clock."""
    server = store.create_server(name="s", audience="aud")
    assert server.created_at == clock.now()
    clock.advance(30)
    assert store.update_server(server.id, {"audience": "b"}).updated_at == server.created_at + 30


def test_secrets_are_not_kept_in_clear_text(store: IdentityStore) -> None:
    """A.6: secrets are not stored retrievably."""
    server = store.create_server(name="s", audience="aud")
    client, secret = store.create_client(server.id, CC)
    assert secret not in repr(store.get_client(server.id, client.id))


def test_authenticate_client_needs_an_enabled_matching_secret(store: IdentityStore) -> None:
    """A.7: only enabled secrets authenticate."""
    server = store.create_server(name="s", audience="aud")
    client, secret = store.create_client(server.id, CC)
    authenticated = store.authenticate_client(server.id, client.id, secret)
    assert authenticated is not None and authenticated.id == client.id
    assert store.authenticate_client(server.id, "nobody", secret) is None
    item = store.secrets_of(server.id, client.id)[0]
    store.set_secret_enabled(server.id, client.id, item.id, False)
    assert store.authenticate_client(server.id, client.id, secret) is None


def test_store_enforces_the_secret_limit_and_name_uniqueness(store: IdentityStore) -> None:
    """A.7 at most two enabled secrets; A.6 unique client names."""
    server = store.create_server(name="s", audience="aud")
    client, _ = store.create_client(server.id, CC)
    store.create_secret(server.id, client.id)
    with pytest.raises(SecretLimit):
        store.create_secret(server.id, client.id)
    with pytest.raises(NameConflict):
        store.create_client(server.id, CC)


def test_revocation_keeps_the_record_for_introspection(store: IdentityStore, clock: Clock) -> None:
    """A.8: revocation marks the record revoked (the issuer answers active=false for it)."""
    server = store.create_server(name="s", audience="aud")
    client, _ = store.create_client(server.id, CC)
    now = clock.now()
    store.record_token(TokenRecord("a1", server.id, client.id, [], now, now + 60))
    assert store.revoke_token("a1") is True
    revoked = store.get_token("a1")
    assert revoked is not None and revoked.revoked is True
    assert store.revoke_token("missing") is False


def test_concurrent_creates_keep_names_unique(clock: Clock) -> None:
    """The store is thread-safe: concurrent creates of one name give exactly one object."""
    store = IdentityStore(clock)
    outcomes: list[str] = []

    def create() -> None:
        try:
            store.create_server(name="same", audience="aud")
            outcomes.append("ok")
        except NameConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and len(store.list_servers()) == 1


def test_client_writes_are_seen_by_write_tracking(clock: Clock) -> None:
    """The issuer's cached views (directory.CountingStore) must notice client and secret writes too."""
    directory = pytest.importorskip("kongformance.identity.directory")
    store = directory.CountingStore(clock)
    server = store.create_server(name="s", audience="aud")
    steps: list[Callable[[], object]] = [
        lambda: store.create_client(server.id, CC),
        lambda: store.update_client(server.id, store.clients_of(server.id)[0].id, {"allow_all_scopes": True}),
        lambda: store.create_secret(server.id, store.clients_of(server.id)[0].id),
        lambda: store.delete_client(server.id, store.clients_of(server.id)[0].id),
    ]
    for step in steps:
        before = store.generation
        step()
        assert store.generation != before


def test_a_lone_surrogate_in_a_json_body_is_read_as_u_fffd_as_gos_decoder_reads_it() -> None:
    """A ``\\ud800`` escape cannot be encoded into a token later: it is replaced, as Go's encoding/json does."""
    from kongformance.identity.api_io import _no_lone_surrogates

    assert _no_lone_surrogates({"v": "x\ud800", "k\udc00": ["\ud83d\ude00"]}) == {
        "v": "x\ufffd",
        "k\ufffd": ["\U0001f600"],
    }
