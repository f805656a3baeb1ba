"""The guard (issue 4 Deliver 5): a protected route that lets an unauthenticated request through aborts the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kongformance import profile_gateway
from kongformance.profile import AuthServerHandle, ClientCreds, ProfileHandles
from kongformance.serving import RunningServer, start_in_thread
from kongformance.targets import Stack
from kongformance.targets.setup import GuardFailure, guard, wait_for_sentinel


def _proxy(leaky_path: str | None) -> Starlette:
    async def answer(request: Request) -> JSONResponse:
        if request.url.path == leaky_path or request.url.path.endswith("/sentinel"):
            return JSONResponse({"ok": True})
        return JSONResponse({"message": "Unauthorized"}, status_code=401)

    return Starlette(routes=[Route("/{p:path}", answer)])


def _handles() -> ProfileHandles:
    clients = {r: ClientCreds(r, "s", r) for r in ("default", "all_scopes", "labelled", "gateway")}
    h = ProfileHandles("r", AuthServerHandle("a", "http://127.0.0.1:9/x/auth", "aud", "n"), {}, {}, clients)
    profile_gateway.gateway_config(h, "http://u")
    return h


@pytest.fixture
def serve() -> Iterator[list[RunningServer]]:
    servers: list[RunningServer] = []
    yield servers
    for s in servers:
        s.stop()


def _stack(url: str) -> Stack:
    return Stack("fake", "http://i", "t", "http://a", url, url, "http://u")


def test_passes_when_every_protected_route_refuses(serve: list[RunningServer]) -> None:
    serve.append(start_in_thread(_proxy(None)))
    guard(_stack(serve[0].url), _handles())


def test_aborts_when_a_protected_route_answers_without_credentials(serve: list[RunningServer]) -> None:
    """https://developer.konghq.com/support/after-adding-a-ee-plugin-the-plugin-is-not-working-fails-to-execute/: an unlicensed Kong no-ops Enterprise plugins and proxies everything."""
    serve.append(start_in_thread(_proxy(profile_gateway.route_path("oauth2-introspection", "r"))))
    with pytest.raises(GuardFailure, match="oauth2-introspection answered 200.*license"):
        guard(_stack(serve[0].url), _handles())


def test_sentinel_wait_returns_as_soon_as_the_sentinel_proxies(serve: list[RunningServer]) -> None:
    serve.append(start_in_thread(_proxy(None)))
    wait_for_sentinel(_stack(serve[0].url), profile_gateway.route_path("sentinel"), deadline=5)


def test_sentinel_wait_fails_after_its_deadline(serve: list[RunningServer]) -> None:
    serve.append(start_in_thread(_proxy(None)))
    with pytest.raises(TimeoutError, match="did not reach the data plane within"):
        wait_for_sentinel(_stack(serve[0].url), "/kf/never-there", deadline=0.3)
