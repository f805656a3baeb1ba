"""Fixtures of the reference gateway's core tests: a tiny recording upstream and a gateway factory that
serves the Admin API and the proxy (HTTP and HTTPS) on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kongformance.gateway.app import ReferenceGateway
from kongformance.serving import RunningServer, start_in_thread


@dataclass
class Upstream:
    """A recording upstream: answers every path with a JSON echo; ``/status/{code}`` answers that code."""

    seen: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: RunningServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def app(self) -> Starlette:
        async def echo(request: Request) -> Response:
            body = await request.body()
            record = {
                "method": request.method,
                "path": request.url.path,
                "raw_path": request.scope.get("raw_path", b"").decode("latin-1"),
                "query": request.url.query,
                "headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
                "body": body.decode("latin-1"),
            }
            with self.lock:
                self.seen.append(record)
            status = 200
            parts = request.url.path.strip("/").split("/")
            if len(parts) == 2 and parts[0] == "status" and parts[1].isdigit():
                status = int(parts[1])
            return Response(
                json.dumps(record),
                status_code=status,
                media_type="application/json",
                headers={"X-Upstream": "yes"},
            )

        return Starlette(
            routes=[Route("/{path:path}", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])]
        )

    def header(self, index: int, name: str) -> str | None:
        return next((v for k, v in self.seen[index]["headers"] if k.lower() == name.lower()), None)


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[Upstream]:
    up = Upstream()
    up.server = start_in_thread(up.app())
    yield up
    up.server.stop()


@pytest.fixture
def upstream(upstream_server: Upstream) -> Upstream:
    with upstream_server.lock:
        upstream_server.seen.clear()
    return upstream_server


@dataclass
class RunningGateway:
    """A started reference gateway with clients for its Admin API and proxy listeners."""

    gateway: ReferenceGateway
    servers: list[RunningServer]
    admin: httpx.Client
    proxy: httpx.Client  # plain HTTP listener
    proxy_tls: httpx.Client  # HTTPS listener (self-signed)

    def stop(self) -> None:
        for client in (self.admin, self.proxy, self.proxy_tls):
            client.close()
        for server in self.servers:
            server._server.should_exit = True  # stop all listeners at once, then wait for each
        for server in self.servers:
            server.stop()
        self.gateway.close()

    def service_and_route(self, upstream_url: str, **route: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Create a service for ``upstream_url`` and one route on it (http and https unless given)."""
        svc = self.admin.post("/services", json={"url": upstream_url})
        assert svc.status_code == 201, svc.text
        route.setdefault("protocols", ["http", "https"])
        rt = self.admin.post(f"/services/{svc.json()['id']}/routes", json=route)
        assert rt.status_code == 201, rt.text
        return svc.json(), rt.json()


# make_gateway(**ReferenceGateway options) -> a started gateway, stopped at the end of the test
MakeGateway = Callable[..., RunningGateway]


@pytest.fixture
def make_gateway() -> Iterator[MakeGateway]:
    started: list[RunningGateway] = []

    def make(**kwargs: Any) -> RunningGateway:
        gw = ReferenceGateway(**kwargs)
        cert, key = gw.tls_files()
        admin = start_in_thread(gw.admin_app)
        http = start_in_thread(gw.proxy_app)
        https = start_in_thread(gw.proxy_app, certfile=cert, keyfile=key)
        running = RunningGateway(
            gateway=gw,
            servers=[admin, http, https],
            admin=httpx.Client(base_url=admin.url, timeout=10),
            proxy=httpx.Client(base_url=http.url, timeout=10),
            proxy_tls=httpx.Client(base_url=https.url, timeout=10, verify=False),
        )
        started.append(running)
        return running

    yield make
    for gw in started:
        gw.stop()


@pytest.fixture
def gateway(make_gateway: MakeGateway) -> RunningGateway:
    """A DB-mode gateway following Kong 3.15."""
    return make_gateway()
