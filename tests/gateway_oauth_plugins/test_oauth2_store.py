"""The oauth2 token table shared by the oauth2 plugin and openid-connect's kong_oauth2 (https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua)."""

from __future__ import annotations

import re

from tests.gateway_oauth_plugins.oauth_fakes import FakeRuntime

from kongformance.gateway.plugins.oauth2_store import Oauth2Store


def test_issues_32_character_bearer_tokens_bound_to_credential_and_service() -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: 32-char access_token, token_type bearer, service binding, consumer of the credential."""
    runtime = FakeRuntime()
    consumer = runtime.add_consumer(username="u")
    cred = runtime.add_credential(consumer, client_id="cid")
    store = runtime.oauth2_store()
    token = store.issue(cred, service_id="svc", scope="a b", authenticated_userid="x", expires_in=60)
    assert re.fullmatch(r"[0-9a-f]{32}", token.access_token)
    assert token.token_type == "bearer" and token.service_id == "svc" and token.scope == "a b"
    assert (
        token.client_id == "cid" and token.credential_id == cred["id"] and token.consumer_id == consumer["id"]
    )
    assert token.created_at == int(runtime.clock.now())
    assert store.find(token.access_token) == token
    assert store.find("unknown") is None


def test_expiry_follows_kongs_rule() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: expired when now - created_at > expires_in; 0 never expires."""
    runtime = FakeRuntime()
    cred = runtime.add_credential(runtime.add_consumer(username="u"))
    store = runtime.oauth2_store()
    token = store.issue(cred, service_id=None, scope="", authenticated_userid=None, expires_in=10)
    forever = store.issue(cred, service_id=None, scope="", authenticated_userid=None, expires_in=0)
    assert not token.expired(token.created_at + 10)
    assert token.expired(token.created_at + 10.5)
    assert not forever.expired(token.created_at + 10**9)


def test_rows_are_purged_after_their_retention() -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua (Kong deletes token rows after refresh_token_ttl)."""
    runtime = FakeRuntime()
    cred = runtime.add_credential(runtime.add_consumer(username="u"))
    store = runtime.oauth2_store()
    token = store.issue(
        cred, service_id=None, scope="", authenticated_userid=None, expires_in=10, retain_for=100
    )
    runtime.clock.advance(99)
    assert store.find(token.access_token) is not None
    runtime.clock.advance(2)
    assert store.find(token.access_token) is None and len(store) == 0


def test_tokens_of_a_deleted_or_replaced_credential_are_gone() -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua: tokens cascade with their credential."""
    runtime = FakeRuntime()
    consumer = runtime.add_consumer(username="u")
    cred = runtime.add_credential(consumer, client_id="cid")
    store = runtime.oauth2_store()
    token = store.issue(cred, service_id=None, scope="", authenticated_userid=None, expires_in=10)
    runtime.credentials.clear()
    runtime.add_credential(consumer, client_id="cid")  # same client_id, new credential row
    assert store.find(token.access_token) is None


def test_refresh_tokens_find_their_access_token() -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: password/authorization_code tokens carry a refresh_token."""
    runtime = FakeRuntime()
    cred = runtime.add_credential(runtime.add_consumer(username="u"))
    store = runtime.oauth2_store()
    token = store.issue(
        cred, service_id=None, scope="", authenticated_userid=None, expires_in=10, refresh=True
    )
    plain = store.issue(cred, service_id=None, scope="", authenticated_userid=None, expires_in=10)
    assert token.refresh_token is not None and plain.refresh_token is None
    assert store.find_by_refresh_token(token.refresh_token) == token
    store.delete(token.access_token)
    assert store.find_by_refresh_token(token.refresh_token) is None


def test_tokens_and_codes_of_a_deleted_service_are_gone() -> None:
    """https://github.com/Kong/kong/blob/3.9.0/kong/plugins/oauth2/daos.lua: oauth2_tokens and
    oauth2_authorization_codes cascade with their Service; a global row (no Service) stays."""
    runtime = FakeRuntime()
    cred = runtime.add_credential(runtime.add_consumer(username="u"))
    services = {"svc", "other"}
    store = Oauth2Store(runtime.clock, lambda _cid: cred, lambda sid: sid in services)
    bound = store.issue(cred, service_id="svc", scope="", authenticated_userid=None, expires_in=10)
    kept = store.issue(cred, service_id="other", scope="", authenticated_userid=None, expires_in=10)
    unbound = store.issue(cred, service_id=None, scope="", authenticated_userid=None, expires_in=10)
    code = store.issue_code(
        cred,
        service_id="svc",
        plugin_id=None,
        authenticated_userid=None,
        scope=None,
        challenge=None,
        challenge_method=None,
    )
    assert store.find(bound.access_token) == bound and store.find_code(code.code) == code
    services.discard("svc")
    assert store.find(bound.access_token) is None and store.find_code(code.code) is None
    assert [t.access_token for t in store.rows()] == [kept.access_token, unbound.access_token]
