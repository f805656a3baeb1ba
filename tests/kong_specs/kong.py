"""A running reference gateway for the Kong spec replay: its Admin API and proxy clients and the Kong version it
models (:class:`Kong`), started by :func:`kong_at` (the fixtures are in conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from kongformance.stack import LocalStack, start_local_stack


@dataclass
class Kong:
    """One running reference gateway: Admin API and proxy clients, and the Kong version it models."""

    stack: LocalStack
    admin: httpx.Client
    proxy: httpx.Client
    proxy_tls: httpx.Client
    version: tuple[int, int]

    @property
    def upstream_url(self) -> str:
        return self.stack.upstream_url

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create an entity through the Admin API; anything but 201 fails the test's set-up."""
        resp = self.admin.post(path, json=body)
        assert resp.status_code == 201, f"{path}: {resp.status_code} {resp.text}"
        doc: dict[str, Any] = resp.json()
        return doc

    def route(self, **route: Any) -> dict[str, Any]:
        """A service on the echo upstream (httpbin-style ``/anything``, as Kong's mock upstream echoes) and one route on it (http and https, as Kong's spec routes)."""
        svc = self.post("/services", {"url": self.upstream_url + "/anything"})  # echoes every path below
        route.setdefault("protocols", ["http", "https"])
        return self.post(f"/services/{svc['id']}/routes", route)


def kong_at(version: str, **stack_options: Any) -> Iterator[Kong]:
    """A reference gateway at ``version`` with clients for its Admin API and proxies; stopped afterwards."""
    stack = start_local_stack(kong_version=version, **stack_options)
    major, minor = (int(p) for p in version.split("."))
    kong = Kong(
        stack,
        httpx.Client(base_url=stack.admin_url, timeout=10),
        httpx.Client(base_url=stack.proxy_url, timeout=10),
        httpx.Client(base_url=stack.proxy_ssl_url, timeout=10, verify=False),
        (major, minor),
    )
    yield kong
    for client in (kong.admin, kong.proxy, kong.proxy_tls):
        client.close()
    stack.stop()
