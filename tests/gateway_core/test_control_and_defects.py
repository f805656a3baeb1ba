"""The gateway's ``/_emulator`` control surface and its core defects: each defect is a realistic departure
from Kong that a conformance test can observe (layout contract; https://developer.konghq.com/gateway/authentication/)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from kongformance.gateway import plugins as registry
from kongformance.gateway.defects import CORE_DEFECTS
from kongformance.gateway.plugins.base import Exit, Plugin, RequestContext

from .conftest import MakeGateway, RunningGateway, Upstream


def test_clock_control_freezes_and_advances(gateway: RunningGateway) -> None:
    """/_emulator/clock: freeze at an instant, advance, resume, reset."""
    r = gateway.admin.post("/_emulator/clock", json={"action": "freeze", "at": 1_000_000})
    assert r.json()["now"] == 1_000_000 and r.json()["frozen"] is True
    r = gateway.admin.post("/_emulator/clock", json={"action": "advance", "seconds": 30})
    assert r.json()["now"] == 1_000_030
    assert gateway.gateway.clock.now() == 1_000_030
    assert gateway.admin.get("/_emulator/clock").json()["frozen"] is True
    assert gateway.admin.post("/_emulator/clock", json={"action": "reset"}).json()["frozen"] is False
    bad = gateway.admin.post("/_emulator/clock", json={"action": "rewind"})
    assert bad.status_code == 400
    assert (
        gateway.admin.post("/_emulator/clock", json={"action": "advance", "seconds": -1}).status_code == 400
    )


def test_entity_timestamps_follow_the_virtual_clock(gateway: RunningGateway) -> None:
    """One clock: created_at of new entities comes from the gateway's Clock."""
    gateway.admin.post("/_emulator/clock", json={"action": "freeze", "at": 2_000_000})
    assert gateway.admin.post("/consumers", json={"username": "t"}).json()["created_at"] == 2_000_000


def test_defect_switches_list_and_set(gateway: RunningGateway) -> None:
    """/_emulator/defects: the catalogue includes core and plugin defects; PUT sets exactly the listed ones."""
    state = gateway.admin.get("/_emulator/defects").json()
    names = {d["name"] for d in state["catalogue"]}
    assert {d.name for d in CORE_DEFECTS} <= names and len(names) >= 25
    r = gateway.admin.put("/_emulator/defects", json={"enabled": ["strip_path_ignored"]})
    assert r.json()["enabled"] == ["strip_path_ignored"]
    assert gateway.admin.put("/_emulator/defects", json={"enabled": ["nope"]}).status_code == 400
    assert gateway.admin.put("/_emulator/defects", json={"enabled": []}).json()["enabled"] == []


def test_defects_can_be_enabled_at_start(make_gateway: MakeGateway) -> None:
    """ReferenceGateway(defects=...) switches defects on from the start."""
    gw = make_gateway(defects=["strip_path_ignored"])
    assert gw.admin.get("/_emulator/defects").json()["enabled"] == ["strip_path_ignored"]


class _Counter(Plugin):
    name: ClassVar[str] = "test-counter"
    PRIORITY: ClassVar[int] = 1
    cleared = 0

    def clear_caches(self) -> None:
        type(self).cleared += 1


def test_dropping_caches_rebuilds_plugin_objects(gateway: RunningGateway, upstream: Upstream) -> None:
    """/_emulator/caches DELETE: every plugin cache is dropped (plugin objects rebuilt)."""
    registry.register(_Counter)
    try:
        _, route = gateway.service_and_route(upstream.url, paths=["/c"])
        plugin = gateway.admin.post(f"/routes/{route['id']}/plugins", json={"name": "test-counter"}).json()
        before = gateway.gateway.runtime.snapshot.plugins[plugin["id"]]
        assert gateway.admin.delete("/_emulator/caches").status_code == 204
        assert gateway.gateway.runtime.snapshot.plugins[plugin["id"]] is not before
        assert _Counter.cleared == 1
    finally:
        registry.unregister("test-counter")


# --- each core defect is observable ------------------------------------------------------------------


def test_defect_route_protocols_default_ignored(make_gateway: MakeGateway, upstream: Upstream) -> None:
    """route_protocols_default_ignored breaks https://developer.konghq.com/gateway/authentication/: a defaulted 3.14+ route answers plain HTTP."""
    gw = make_gateway()
    svc = gw.admin.post("/services", json={"url": upstream.url}).json()
    gw.admin.post(f"/services/{svc['id']}/routes", json={"paths": ["/x"]})
    gw.admin.post(f"/services/{svc['id']}/routes", json={"paths": ["/explicit"], "protocols": ["https"]})
    assert gw.proxy.get("/x").status_code == 426
    gw.admin.put("/_emulator/defects", json={"enabled": ["route_protocols_default_ignored"]})
    assert gw.proxy.get("/x").status_code == 200
    assert gw.proxy.get("/explicit").status_code == 426  # an explicit https-only route is still honoured


def test_defect_strip_path_ignored(make_gateway: MakeGateway, upstream: Upstream) -> None:
    """strip_path_ignored forwards the matched prefix although strip_path is true."""
    gw = make_gateway(defects=["strip_path_ignored"])
    gw.service_and_route(upstream.url, paths=["/strip"])
    assert gw.proxy.get("/strip/a").json()["path"] == "/strip/a"


def test_defect_https_only_route_served_over_http(make_gateway: MakeGateway, upstream: Upstream) -> None:
    """https_only_route_served_over_http proxies plain HTTP instead of answering 426."""
    gw = make_gateway(defects=["https_only_route_served_over_http"])
    gw.service_and_route(upstream.url, paths=["/tls"], protocols=["https"])
    assert gw.proxy.get("/tls").status_code == 200


class _Tag(Plugin):
    name: ClassVar[str] = "test-tag"
    PRIORITY: ClassVar[int] = 1000

    async def access(self, ctx: RequestContext) -> Exit | None:
        return Exit(200, {"tag": self.config.get("tag")})


class _First(Plugin):
    name: ClassVar[str] = "test-first"
    PRIORITY: ClassVar[int] = 2000

    async def access(self, ctx: RequestContext) -> Exit | None:
        return Exit(200, {"tag": "first"})


@pytest.fixture
def tag_plugins() -> Iterator[None]:
    registry.register(_Tag)
    registry.register(_First)
    yield
    registry.unregister("test-tag")
    registry.unregister("test-first")


def test_defect_plugin_precedence_reversed(
    make_gateway: MakeGateway, upstream: Upstream, tag_plugins: None
) -> None:
    """plugin_precedence_reversed runs the global instance instead of the route's."""
    gw = make_gateway()
    _, route = gw.service_and_route(upstream.url, paths=["/p"])
    gw.admin.post("/plugins", json={"name": "test-tag", "config": {"tag": "global"}})
    gw.admin.post(f"/routes/{route['id']}/plugins", json={"name": "test-tag", "config": {"tag": "route"}})
    assert gw.proxy.get("/p").json() == {"tag": "route"}
    gw.admin.put("/_emulator/defects", json={"enabled": ["plugin_precedence_reversed"]})
    assert gw.proxy.get("/p").json() == {"tag": "global"}


def test_defect_plugins_run_in_reverse_priority(
    make_gateway: MakeGateway, upstream: Upstream, tag_plugins: None
) -> None:
    """plugins_run_in_reverse_priority runs the lower priority first (https://developer.konghq.com/gateway/authentication/)."""
    gw = make_gateway()
    _, route = gw.service_and_route(upstream.url, paths=["/o"])
    gw.admin.post(f"/routes/{route['id']}/plugins", json={"name": "test-tag", "config": {"tag": "low"}})
    gw.admin.post(f"/routes/{route['id']}/plugins", json={"name": "test-first"})
    assert gw.proxy.get("/o").json() == {"tag": "first"}
    gw.admin.put("/_emulator/defects", json={"enabled": ["plugins_run_in_reverse_priority"]})
    assert gw.proxy.get("/o").json() == {"tag": "low"}


class _ConfigEcho(Plugin):
    name: ClassVar[str] = "openid-connect"  # stands in for the real plugin: echoes the config it was given
    PRIORITY: ClassVar[int] = 1050

    async def access(self, ctx: RequestContext) -> Exit | None:
        keys = ("hide_credentials", "ssl_verify")
        return Exit(200, {k: self.config.get(k) for k in keys})


def test_defect_legacy_plugin_defaults(make_gateway: MakeGateway, upstream: Upstream) -> None:
    """legacy_plugin_defaults runs 3.14+ plugins with the pre-3.14 hide_credentials/ssl_verify defaults."""
    gw = make_gateway()
    _, route = gw.service_and_route(upstream.url, paths=["/d"])
    _, pinned = gw.service_and_route(upstream.url, paths=["/pinned"])
    issuer = {"issuer": "https://i.example"}
    gw.admin.post(f"/routes/{route['id']}/plugins", json={"name": "openid-connect", "config": issuer})
    explicit = {**issuer, "hide_credentials": True}
    gw.admin.post(f"/routes/{pinned['id']}/plugins", json={"name": "openid-connect", "config": explicit})
    original = registry.plugin_class("openid-connect")
    registry.register(_ConfigEcho, None)
    try:
        gw.gateway.runtime.drop_caches()
        assert gw.proxy.get("/d").json() == {"hide_credentials": True, "ssl_verify": True}
        gw.admin.put("/_emulator/defects", json={"enabled": ["legacy_plugin_defaults"]})
        assert gw.proxy.get("/d").json() == {"hide_credentials": False, "ssl_verify": False}
        assert gw.proxy.get("/pinned").json() == {"hide_credentials": True, "ssl_verify": False}
    finally:
        registry.unregister("openid-connect")
        assert registry.plugin_class("openid-connect") is original
