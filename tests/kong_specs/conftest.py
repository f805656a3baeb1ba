"""Fixtures of the Kong spec replay: a local stack per modelled Kong version, and an Admin/proxy client pair.

Each test file here replays one of Kong's public busted spec files (spec/03-plugins/<nn>-<plugin>/ at the tag
in :data:`tests.kong_specs.cite.TAG`) over HTTP: it builds through our Admin API what the spec's ``setup``
builds, sends the spec's requests to the proxy and asserts the spec's status, body and headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.kong_specs.oauth2_access import build

from kongformance.stack import LocalStack, start_local_stack

# the versions the reference gateway models where Kong's jwt/oauth2 behaviour differs (docs/fidelity.md)
VERSIONS = ("3.9", "3.15")


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


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"kong{v}")
def kong(request: pytest.FixtureRequest) -> Iterator[Kong]:
    yield from kong_at(str(request.param))


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"kong{v}")
def oauth2_access(request: pytest.FixtureRequest) -> Iterator[Kong]:
    """The oauth2 access spec's Kong (trusted_ips 127.0.0.1, as its start_kong) with the spec's set-up."""
    for kong in kong_at(str(request.param), trusted_ips=["127.0.0.1"]):
        yield build(kong)


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
