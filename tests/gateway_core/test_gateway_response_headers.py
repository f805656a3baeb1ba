"""Headers of the reference gateway's responses, on listeners where uvicorn adds no Date (as in ``serve``).

Kong's runloop ``header_filter`` (Kong/kong ``kong/runloop/handler.lua``): a response Kong generates itself gets
``Server: kong/<version>`` (unless ``Via: kong/<version>`` is set), ``X-Kong-Response-Latency`` and
``X-Kong-Request-Id``; a proxied one gets ``Server: kong/<version>`` only when the upstream sent none. nginx
passes the upstream's ``Date`` (``proxy_pass_header Date`` in Kong's nginx template) and adds its own otherwise
and on every generated response. https://developer.konghq.com/gateway/authentication/; docs/fidelity/gateway-core.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kongformance.clock import Clock
from kongformance.gateway.app import ReferenceGateway
from kongformance.gateway.responses import exit_headers, http_date
from kongformance.serving import RunningServer, start_in_thread

FROZEN = 1_000_000_000.0  # 2001-09-09: far from the real time an upstream's own Date carries
FROZEN_DATE = "Sun, 09 Sep 2001 01:46:40 GMT"
SERVER = "kong/3.15.0.0"


@dataclass
class Listeners:
    gateway: ReferenceGateway
    admin: httpx.Client
    proxy: httpx.Client
    proxy_tls: httpx.Client
    upstream_url: str  # sends Date (uvicorn's) and X-Upstream
    bare_upstream_url: str  # sends neither Date nor Server


def _upstream_app() -> Starlette:
    async def answer(request: Request) -> Response:
        return Response("up", headers={"X-Upstream": "yes"})

    return Starlette(routes=[Route("/{path:path}", answer)])


@pytest.fixture
def listeners() -> Iterator[Listeners]:
    clock = Clock()
    clock.freeze(FROZEN)
    gateway = ReferenceGateway(clock)
    cert, key = gateway.tls_files()
    servers: list[RunningServer] = [
        start_in_thread(gateway.admin_app),
        start_in_thread(gateway.proxy_app, date_header=False),
        start_in_thread(gateway.proxy_app, certfile=cert, keyfile=key, date_header=False),
        start_in_thread(_upstream_app()),
        start_in_thread(_upstream_app(), date_header=False),
    ]
    running = Listeners(
        gateway,
        admin=httpx.Client(base_url=servers[0].url, timeout=10),
        proxy=httpx.Client(base_url=servers[1].url, timeout=10),
        proxy_tls=httpx.Client(base_url=servers[2].url, timeout=10, verify=False),
        upstream_url=servers[3].url,
        bare_upstream_url=servers[4].url,
    )
    yield running
    for client in (running.admin, running.proxy, running.proxy_tls):
        client.close()
    for server in servers:
        server.stop()
    gateway.close()


def _route(admin: httpx.Client, url: str, **route: Any) -> None:
    svc = admin.post("/services", json={"url": url})
    assert svc.status_code == 201, svc.text
    route.setdefault("protocols", ["http", "https"])
    assert admin.post(f"/services/{svc.json()['id']}/routes", json=route).status_code == 201


def _assert_generated(r: httpx.Response) -> None:
    """One Date from the gateway's clock, Kong's Server, and Kong's headers for responses it generates."""
    assert r.headers.get_list("date") == [FROZEN_DATE]
    assert r.headers.get_list("server") == [SERVER]
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.headers["x-kong-response-latency"].isdigit()
    assert len(r.headers["x-kong-request-id"]) == 32


def test_no_route_404_carries_date_and_kong_server_headers(listeners: Listeners) -> None:
    """https://developer.konghq.com/gateway/authentication/: a Kong-generated 404 carries Server, X-Kong-Response-Latency, X-Kong-Request-Id, Date."""
    r = listeners.proxy.get("/nowhere", headers={"Accept": "application/json"})
    assert r.status_code == 404
    _assert_generated(r)


def test_trace_405_and_https_only_426_carry_date_and_server(listeners: Listeners) -> None:
    """Kong's error handlers (405) and its 426 for an https-only route are gateway-generated responses."""
    _route(listeners.admin, listeners.upstream_url, paths=["/secure"], protocols=["https"])
    trace = listeners.proxy.request("TRACE", "/secure")
    assert trace.status_code == 405
    _assert_generated(trace)
    upgrade = listeners.proxy.get("/secure")
    assert upgrade.status_code == 426
    _assert_generated(upgrade)


def test_unreachable_upstream_502_carries_date_and_server(listeners: Listeners) -> None:
    """Kong answers a refused upstream connection itself (502) with its own headers."""
    _route(listeners.admin, "http://127.0.0.1:9", paths=["/down"])
    r = listeners.proxy.get("/down")
    assert r.status_code == 502
    _assert_generated(r)


def test_gateway_date_follows_the_emulator_clock(listeners: Listeners) -> None:
    """Emulators read time through the Clock only: advancing it moves the Date of generated responses."""
    listeners.gateway.clock.advance(86_400)
    r = listeners.proxy_tls.get("/nowhere")
    assert parsedate_to_datetime(r.headers["date"]).timestamp() == FROZEN + 86_400


def test_proxied_response_keeps_the_upstreams_date(listeners: Listeners) -> None:
    """Kong's nginx template: proxy_pass_header Date; the upstream's Date reaches the client, once."""
    _route(listeners.admin, listeners.upstream_url, paths=["/up"])
    r = listeners.proxy.get("/up")
    assert r.status_code == 200 and r.headers["x-upstream"] == "yes"
    dates = r.headers.get_list("date")
    assert len(dates) == 1 and dates[0] != FROZEN_DATE  # the upstream's real-time Date, not the gateway's
    assert "x-kong-response-latency" not in r.headers


def test_proxied_response_without_date_or_server_gets_the_gateways(listeners: Listeners) -> None:
    """nginx adds Date when the upstream sent none; handler.lua sets Server kong/<v> when the upstream had none."""
    _route(listeners.admin, listeners.bare_upstream_url, paths=["/bare"])
    r = listeners.proxy.get("/bare")
    assert r.status_code == 200
    assert r.headers.get_list("date") == [FROZEN_DATE]
    assert r.headers.get_list("server") == [SERVER]
    assert r.headers["via"] == f"1.1 {SERVER}"


def test_exit_headers_override_a_plugin_server_header() -> None:
    """handler.lua header_filter (not proxied): Server is always kong/<version> when server_tokens is on."""
    out = exit_headers(
        [("Server", "custom"), ("Content-Type", "text/plain")],
        body_length=3,
        server=SERVER,
        now=FROZEN,
        latency_ms=0,
        request_id="r" * 32,
    )
    assert [v for k, v in out if k == "Server"] == [SERVER]
    assert ("Date", FROZEN_DATE) in out and ("Content-Length", "3") in out


def test_exit_headers_leave_server_alone_when_via_is_kong() -> None:
    """handler.lua: a short-circuit with ``Via: kong/<version>`` (proxy-cache) gets no Server override."""
    out = exit_headers(
        [("Via", SERVER), ("Date", "Mon, 01 Jan 2001 00:00:00 GMT")],
        body_length=0,
        server=SERVER,
        now=FROZEN,
        latency_ms=0,
        request_id="r" * 32,
    )
    assert not any(k.lower() == "server" for k, _ in out)
    assert [v for k, v in out if k == "Date"] == ["Mon, 01 Jan 2001 00:00:00 GMT"]


def test_http_date_is_an_imf_fixdate() -> None:
    """RFC 9110 5.6.7: Date uses IMF-fixdate in GMT."""
    assert http_date(FROZEN) == FROZEN_DATE
    assert http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
