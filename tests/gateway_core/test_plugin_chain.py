"""The plugin chain of the reference gateway: Kong's priority order, precedence of the most specific
plugin entity, Exit short-circuiting, header_filter, and plugin failures (https://developer.konghq.com/gateway/authentication/; base.py contract)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from kongformance.gateway import plugins as registry
from kongformance.gateway.plugins.base import Exit, Plugin, RequestContext, UpstreamResponse

from .conftest import RunningGateway, Upstream

CALLS: list[str] = []


class _Recorder(Plugin):
    """Records its access call and stamps a header naming the instance's ``config.tag``."""

    async def access(self, ctx: RequestContext) -> Exit | None:
        CALLS.append(f"{self.name}:{self.config.get('tag', '')}")
        ctx.request.headers.add("X-Chain", f"{self.name}:{self.config.get('tag', '')}")
        return None


class HighPlugin(_Recorder):
    name: ClassVar[str] = "test-high"
    PRIORITY: ClassVar[int] = 1700


class MiddlePlugin(_Recorder):
    name: ClassVar[str] = "test-middle"
    PRIORITY: ClassVar[int] = 1050


class LowPlugin(_Recorder):
    name: ClassVar[str] = "test-low"
    PRIORITY: ClassVar[int] = 760


class DenyPlugin(Plugin):
    name: ClassVar[str] = "test-deny"
    PRIORITY: ClassVar[int] = 1000

    async def access(self, ctx: RequestContext) -> Exit | None:
        CALLS.append("test-deny")
        return Exit(401, {"message": "Unauthorized"}, {"WWW-Authenticate": 'Bearer realm="test"'})


class StatusSpy(Plugin):
    name: ClassVar[str] = "test-status-spy"
    PRIORITY: ClassVar[int] = 900

    async def header_filter(self, ctx: RequestContext, response: UpstreamResponse) -> None:
        response.headers.set("X-Seen-Status", str(response.status))
        response.headers.remove("X-Upstream")


class BrokenPlugin(Plugin):
    name: ClassVar[str] = "test-broken"
    PRIORITY: ClassVar[int] = 1000

    async def access(self, ctx: RequestContext) -> Exit | None:
        raise RuntimeError("plugin bug")


TEST_PLUGINS = (HighPlugin, MiddlePlugin, LowPlugin, DenyPlugin, StatusSpy, BrokenPlugin)


@pytest.fixture(autouse=True)
def test_plugins() -> Iterator[None]:
    for cls in TEST_PLUGINS:
        registry.register(cls)
    CALLS.clear()
    yield
    for cls in TEST_PLUGINS:
        registry.unregister(cls.name)


def test_plugins_run_in_descending_priority(gateway: RunningGateway, upstream: Upstream) -> None:
    """https://developer.konghq.com/gateway/authentication/: a higher priority runs earlier in the access phase, whatever the creation order."""
    _, route = gateway.service_and_route(upstream.url, paths=["/chain"])
    for name in ("test-low", "test-high", "test-middle"):
        assert gateway.admin.post(f"/routes/{route['id']}/plugins", json={"name": name}).status_code == 201
    gateway.proxy.get("/chain")
    assert CALLS == ["test-high:", "test-middle:", "test-low:"]
    assert [v for k, v in upstream.seen[0]["headers"] if k == "x-chain"] == [
        "test-high:",
        "test-middle:",
        "test-low:",
    ]


def test_most_specific_plugin_entity_wins(gateway: RunningGateway, upstream: Upstream) -> None:
    """Kong plugin precedence: route > service > global for the same plugin name; one instance runs."""
    svc, route = gateway.service_and_route(upstream.url, paths=["/scoped"])
    _, other = gateway.service_and_route(upstream.url, paths=["/other"])
    gateway.admin.post("/plugins", json={"name": "test-high", "config": {"tag": "global"}})
    gateway.admin.post(
        f"/services/{svc['id']}/plugins", json={"name": "test-high", "config": {"tag": "service"}}
    )
    gateway.admin.post(
        f"/routes/{route['id']}/plugins", json={"name": "test-high", "config": {"tag": "route"}}
    )
    gateway.proxy.get("/scoped")
    gateway.proxy.get("/other")
    assert CALLS == ["test-high:route", "test-high:global"]


def test_disabled_plugin_does_not_run(gateway: RunningGateway, upstream: Upstream) -> None:
    """Kong Plugin ``enabled: false`` keeps the entity but skips it."""
    _, route = gateway.service_and_route(upstream.url, paths=["/off"])
    gateway.admin.post(f"/routes/{route['id']}/plugins", json={"name": "test-deny", "enabled": False})
    assert gateway.proxy.get("/off").status_code == 200
    assert CALLS == []


def test_exit_ends_the_request_without_calling_the_upstream(
    gateway: RunningGateway, upstream: Upstream
) -> None:
    """base.py Exit (kong.response.exit): the client gets the plugin's answer; later plugins and the upstream do not run."""
    _, route = gateway.service_and_route(upstream.url, paths=["/deny"])
    for name in ("test-deny", "test-low"):
        gateway.admin.post(f"/routes/{route['id']}/plugins", json={"name": name})
    r = gateway.proxy.get("/deny")
    assert r.status_code == 401
    assert r.json() == {"message": "Unauthorized"}
    assert r.headers["www-authenticate"] == 'Bearer realm="test"'
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert "x-kong-response-latency" in r.headers and "via" not in r.headers
    assert CALLS == ["test-deny"]
    assert upstream.seen == []


def test_header_filter_sees_the_upstream_status(gateway: RunningGateway, upstream: Upstream) -> None:
    """base.py header_filter runs on the upstream response and may edit its headers."""
    _, route = gateway.service_and_route(upstream.url, paths=["/status"], strip_path=False)
    gateway.admin.post(f"/routes/{route['id']}/plugins", json={"name": "test-status-spy"})
    r = gateway.proxy.get("/status/503")
    assert r.status_code == 503
    assert r.headers["x-seen-status"] == "503"
    assert "x-upstream" not in r.headers


def test_failing_plugin_gives_kong_500_not_a_traceback(gateway: RunningGateway, upstream: Upstream) -> None:
    """Kong answers an error inside a plugin with 500 ``An unexpected error occurred``."""
    _, route = gateway.service_and_route(upstream.url, paths=["/broken"])
    gateway.admin.post(f"/routes/{route['id']}/plugins", json={"name": "test-broken"})
    r = gateway.proxy.get("/broken")
    assert r.status_code == 500
    assert r.json()["message"] == "An unexpected error occurred"
    assert upstream.seen == []


def test_plugin_protocols_limit_where_it_runs(gateway: RunningGateway, upstream: Upstream) -> None:
    """Kong Plugin ``protocols``: a plugin limited to https does not run on plain-HTTP requests."""
    _, route = gateway.service_and_route(upstream.url, paths=["/proto"])
    gateway.admin.post(f"/routes/{route['id']}/plugins", json={"name": "test-deny", "protocols": ["https"]})
    assert gateway.proxy.get("/proto").status_code == 200
    assert gateway.proxy_tls.get("/proto").status_code == 401


def test_plugin_object_survives_unrelated_changes(gateway: RunningGateway, upstream: Upstream) -> None:
    """Layout contract: plugin objects (and their caches) are rebuilt only when their entity changes."""
    _, route = gateway.service_and_route(upstream.url, paths=["/keep"])
    plugin = gateway.admin.post(f"/routes/{route['id']}/plugins", json={"name": "test-high"}).json()
    runtime = gateway.gateway.runtime
    before = runtime.snapshot.plugins[plugin["id"]]
    gateway.admin.post("/services", json={"url": "http://unrelated.example"})
    assert runtime.snapshot.plugins[plugin["id"]] is before
    gateway.admin.patch(f"/plugins/{plugin['id']}", json={"config": {"tag": "new"}})
    assert runtime.snapshot.plugins[plugin["id"]] is not before
