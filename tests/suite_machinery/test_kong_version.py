"""The data plane's Kong version is read from the gateway, not assumed (issue 9 Deliver 7)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kongformance.serving import start_in_thread
from kongformance.stack import LocalStack, start_local_stack
from kongformance.targets import kong_version
from kongformance.targets.base import TargetOptions
from kongformance.targets.external import ExternalTarget


@pytest.fixture(scope="module")
def hidden_stack() -> Iterator[LocalStack]:
    """A stack that behaves like real Kong: every /_emulator path answers 404; Kong 3.12."""
    stack = start_local_stack(kong_version="3.12", hide_control=True)
    yield stack
    stack.stop()


def test_the_version_is_read_from_server_or_via_headers() -> None:
    assert kong_version.from_headers({"Server": "kong/3.10.0.1"}) == kong_version.ReadVersion(
        "3.10.0.1", "the proxy's Server header"
    )
    via = kong_version.from_headers({"Via": "1.1 kong/3.9.1"})
    assert via is not None and via.version == "3.9.1"
    assert kong_version.from_headers({"Server": "nginx"}) is None


def test_the_version_is_read_from_the_proxy_and_the_admin_api_of_a_kong_like_stack(
    hidden_stack: LocalStack,
) -> None:
    with httpx.Client(timeout=5.0, verify=False) as http:
        from_proxy = kong_version.from_proxy(http, hidden_stack.proxy_url)
        from_admin = kong_version.from_admin(http, hidden_stack.admin_url, {})
    assert from_proxy is not None and from_proxy.minor == "3.12"
    assert from_admin is not None and from_admin.minor == "3.12" and from_admin.source.startswith("GET ")


def test_konnect_reads_the_node_that_pinged_last() -> None:
    nodes = {
        "items": [
            {"id": "a", "version": "3.9.1.0", "last_ping": 100},
            {"id": "b", "version": "3.11.0.2", "last_ping": 200},
            {"id": "c", "hostname": "no-version"},
        ],
        "page": {"total_count": 3},
    }
    seen: list[str] = []

    async def list_nodes(request: Request) -> JSONResponse:
        seen.append(request.headers.get("authorization", ""))
        return JSONResponse(nodes)

    app = Starlette(routes=[Route("/v2/control-planes/cp-1/nodes", list_nodes)])
    server = start_in_thread(app)
    try:
        read = kong_version.read_kong_version(
            proxy_url="http://127.0.0.1:9",
            admin_headers={"Authorization": "Bearer kpat_x"},
            konnect_control_plane_url=server.url + "/v2/control-planes/cp-1",
        )
    finally:
        server.stop()
    assert read == kong_version.ReadVersion("3.11.0.2", "GET /v2/control-planes/{id}/nodes")
    assert seen == ["Bearer kpat_x"]


def test_a_given_version_that_disagrees_is_a_one_line_warning_and_the_read_one_wins() -> None:
    read = kong_version.ReadVersion("3.12.0.0", "GET /")
    assert kong_version.reconcile(None, read, "3.15") == ("3.12", None)
    assert kong_version.reconcile("3.12", read, "3.15") == ("3.12", None)
    version, warning = kong_version.reconcile("3.9", read, "3.15")
    assert version == "3.12" and warning is not None and "\n" not in warning
    assert "3.9 was given but the data plane runs 3.12.0.0" in warning
    assert kong_version.reconcile("3.9", None, "3.15")[0] == "3.9"


def test_the_external_target_uses_the_version_it_reads(hidden_stack: LocalStack) -> None:
    settings = {
        "KF_ADMIN_URL": hidden_stack.admin_url,
        "KF_PROXY_URL": hidden_stack.proxy_url,
        "KF_IDENTITY_URL": hidden_stack.identity_url,
        "KF_UPSTREAM_URL": hidden_stack.upstream_url,
    }
    options = TargetOptions(kong_version="3.15", kong_version_given=True, settings=settings)
    stack = ExternalTarget(options).start()
    assert stack.kong_version == "3.12" and stack.kong_version_source.startswith("GET ")
    assert len(stack.warnings) == 1 and "3.15 was given" in stack.warnings[0]
    assert not stack.virtual_clock and not stack.issuer_control  # the control surface is hidden
