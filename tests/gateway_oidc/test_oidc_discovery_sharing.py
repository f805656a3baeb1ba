"""Discovery and JWKS are kept per gateway node and per issuer, not per plugin instance (https://developer.konghq.com/plugins/openid-connect/#discovery-cache).

Kong stores discovery data per issuer (DB, or worker memory in DB-less mode), rate-limits rediscovery per issuer by
``rediscovery_lifetime`` and serialises it with a per-issuer semaphore.
"""

from __future__ import annotations

import asyncio

import httpx

from kongformance.gateway.plugins import openid_connect
from kongformance.gateway.plugins.base import RequestContext
from kongformance.gateway.plugins.oidc_discovery import drop_discovery

from .conftest import (
    ISSUER,
    FakeIdp,
    Harness,
    bearer,
    make_request,
    oidc_harness,
    run,
    schema_defaults,
)


def second_plugin(h: Harness, **config: object) -> Harness:
    """Another openid-connect plugin instance (another route) on the same gateway node."""
    full = schema_defaults("OpenidConnect.json")
    full.update({"issuer": ISSUER, "auth_methods": ["bearer"]})
    full.update(config)
    plugin = openid_connect.OpenidConnectPlugin({"name": "openid-connect", "config": full}, h.runtime)
    return Harness(h.idp, h.runtime, plugin)


def test_two_plugins_with_one_issuer_share_one_discovery() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: discovery data is kept per issuer, so a second route does not discover again."""
    a = oidc_harness()
    b = second_plugin(a)
    assert a.send(a.idp.token())[0] is None
    assert b.send(a.idp.token())[0] is None
    assert a.idp.calls["discovery"] == 1
    assert a.idp.calls["jwks"] == 1
    assert a.plugin.discovery.fetches == b.plugin.discovery.fetches == 1


def test_two_plugins_with_one_issuer_share_one_rediscovery_throttle() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: rediscovery is rate-limited per issuer, not per route."""
    a = oidc_harness(rediscovery_lifetime=30)
    b = second_plugin(a, rediscovery_lifetime=30)
    a.send(a.idp.token())
    a.runtime.clock.advance(31)
    a.idp.rotate()
    assert (
        a.send(a.idp.token())[0] is None
    )  # unknown kid: rediscovery allowed, 31 s after the first discovery
    assert a.idp.calls["discovery"] == 2
    a.idp.rotate()
    exit_b, _ = b.send(a.idp.token())  # the other route is within the same issuer's 30 s window
    assert exit_b is not None and exit_b.status == 401
    assert a.idp.calls["discovery"] == 2


def test_a_key_rotation_picked_up_by_one_route_is_seen_by_another() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: rediscovered keys are stored per issuer, so every route naming it trusts them."""
    a = oidc_harness(rediscovery_lifetime=30)
    b = second_plugin(a, rediscovery_lifetime=30)
    a.send(a.idp.token())
    b.send(a.idp.token())
    a.runtime.clock.advance(31)
    a.idp.rotate()
    assert a.send(a.idp.token())[0] is None
    assert b.send(a.idp.token())[0] is None  # no rediscovery of its own needed (and it would be throttled)
    assert a.idp.calls["discovery"] == 2


def test_different_issuers_keep_separate_discovery() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: the cache is per issuer; another issuer URL is discovered on its own."""
    a = oidc_harness()
    b = second_plugin(a, issuer=ISSUER + "/.well-known/oauth-authorization-server")
    a.send(a.idp.token())
    b.send(a.idp.token())
    assert a.idp.calls["discovery"] == 2
    assert a.plugin.discovery.fetches == 1
    assert b.plugin.discovery.fetches == 1


def test_separate_gateway_nodes_do_not_share_discovery() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: the data lives in one node's memory (DB-less), so another runtime discovers again."""
    idp = FakeIdp()
    a = oidc_harness(idp)
    b = oidc_harness(idp)
    a.send(idp.token())
    b.send(idp.token())
    assert idp.calls["discovery"] == 2


class YieldingTransport(httpx.AsyncBaseTransport):
    """Lets other tasks run before each IdP call, so concurrent requests really overlap."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(3):
            await asyncio.sleep(0)  # a scheduling point, not a wait for time
        return await self.inner.handle_async_request(request)


def test_concurrent_requests_trigger_one_discovery() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: a per-issuer semaphore serialises discovery, so parallel requests fetch once."""
    a = oidc_harness()
    b = second_plugin(a)
    token = a.idp.token()
    a.runtime.http = httpx.AsyncClient(transport=YieldingTransport(httpx.ASGITransport(app=a.idp.app())))

    async def both() -> list[object]:
        calls = [
            h.plugin.access(
                RequestContext(request=make_request(headers=bearer(token)), route={"id": r}, service={})
            )
            for h, r in ((a, "r1"), (b, "r2"), (a, "r3"))
        ]
        return list(await asyncio.gather(*calls))

    assert run(both()) == [None, None, None]
    assert a.idp.calls["discovery"] == 1


def test_clearing_one_plugin_cache_empties_the_issuer_for_every_route() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: clearing the cache (Admin API / DELETE /_emulator/caches) forgets the issuer."""
    a = oidc_harness()
    b = second_plugin(a)
    a.send(a.idp.token())
    a.plugin.clear_caches()
    b.send(a.idp.token())
    assert a.idp.calls["discovery"] == 2


def test_dropping_the_node_cache_forgets_every_issuer() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: the runtime's cache drop empties the shared discovery state."""
    a = oidc_harness()
    b = second_plugin(a, issuer=ISSUER + "/.well-known/oauth-authorization-server")
    a.send(a.idp.token())
    b.send(a.idp.token())
    drop_discovery(a.runtime)
    a.send(a.idp.token())
    b.send(a.idp.token())
    assert a.idp.calls["discovery"] == 4


def test_a_route_with_an_extra_jwks_loads_it_without_losing_the_shared_keys() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: extra_jwks_uris is the reading instance's setting; other routes keep their key set."""
    a = oidc_harness()
    b = second_plugin(a, extra_jwks_uris=[ISSUER + "/extra-jwks"])
    assert a.send(a.idp.token())[0] is None
    assert b.send(a.idp.token())[0] is None
    assert a.send(a.idp.token())[0] is None
    assert a.idp.calls["discovery"] == 2  # b needed a key set not yet loaded for this issuer
    assert a.idp.calls["jwks"] == 3  # first discovery: 1; b's load: discovered jwks_uri + its extra


def test_each_route_applies_its_own_cache_ttl() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: cache_ttl of the reading instance bounds the shared data it accepts."""
    a = oidc_harness(cache_ttl=3600)
    b = second_plugin(a, cache_ttl=60)
    a.send(a.idp.token())
    a.runtime.clock.advance(61)
    a.send(a.idp.token())
    assert a.idp.calls["discovery"] == 1
    b.send(a.idp.token())
    assert a.idp.calls["discovery"] == 2
