"""The Kong admin client against a fake Admin API recording the calls (https://developer.konghq.com/gateway/db-less-mode/)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kongformance.clients.kong_admin import KongAdmin, KongAdminError
from kongformance.serving import RunningServer, start_in_thread

DOC: dict[str, Any] = {
    "_format_version": "3.0",
    "consumers": [{"username": "u", "oauth2_credentials": [{"name": "c", "client_id": "id"}]}],
    "services": [
        {
            "name": "s",
            "url": "http://up/anything",
            "routes": [
                {
                    "name": "r",
                    "paths": ["/p"],
                    "plugins": [{"name": "openid-connect", "config": {"issuer": "i"}}],
                }
            ],
        }
    ],
    "plugins": [{"name": "cors"}],
}


class FakeAdmin:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.entities: dict[str, dict[str, Any]] = {}
        self.app = Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST", "DELETE"])])

    async def handle(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        body: Any = await request.json() if request.method == "POST" else None
        self.calls.append((request.method, path, body))
        if request.method == "GET":
            return JSONResponse({"data": [], "next": None})
        if request.method == "DELETE":
            return Response(status_code=204)
        if body and body.get("name") == "bad":
            return JSONResponse(
                {"message": "schema violation (name: bad)", "name": "schema violation", "code": 2}, 400
            )
        eid = str(uuid.uuid4())
        self.entities[eid] = body
        return JSONResponse({**body, "id": eid}, status_code=201)


@pytest.fixture
def fake() -> Iterator[tuple[FakeAdmin, RunningServer]]:
    admin = FakeAdmin()
    server = start_in_thread(admin.app)
    yield admin, server
    server.stop()


def closing_admin(*args: Any, **kwargs: Any) -> closing[KongAdmin]:
    return closing(KongAdmin(*args, **kwargs))


@pytest.fixture
def closer() -> Iterator[ExitStack]:
    """Closes the Admin API clients a test made (their connection pools)."""
    with ExitStack() as stack:
        yield stack


def test_crud_apply_creates_nested_entities_in_dependency_order(
    fake: tuple[FakeAdmin, RunningServer], closer: ExitStack
) -> None:
    admin, server = fake
    client = closer.enter_context(closing_admin(server.url, mode="crud"))
    client.apply(DOC)
    posts = [p for m, p, _ in admin.calls if m == "POST"]
    assert posts[0] == "/consumers"
    assert posts[1].startswith("/consumers/") and posts[1].endswith("/oauth2")
    assert posts[2] == "/services"
    assert posts[3].startswith("/services/") and posts[3].endswith("/routes")
    assert posts[4].startswith("/routes/") and posts[4].endswith("/plugins")
    assert posts[5] == "/plugins"
    route_body = next(b for m, p, b in admin.calls if m == "POST" and p.endswith("/routes"))
    assert "plugins" not in route_body


def test_teardown_deletes_what_apply_created_in_reverse(
    fake: tuple[FakeAdmin, RunningServer], closer: ExitStack
) -> None:
    admin, server = fake
    client = closer.enter_context(closing_admin(server.url, mode="crud"))
    client.apply(DOC)
    admin.calls.clear()
    client.teardown()
    deletes = [p for m, p, _ in admin.calls if m == "DELETE"]
    assert [d.split("/")[1] for d in deletes] == ["plugins", "plugins", "routes", "services", "consumers"]


def test_db_less_apply_posts_the_whole_document_to_config(
    fake: tuple[FakeAdmin, RunningServer], closer: ExitStack
) -> None:
    admin, server = fake
    client = closer.enter_context(closing_admin(server.url, mode="dbless"))
    client.apply(DOC)
    assert admin.calls == [("POST", "/config", DOC)]
    client.teardown()
    assert admin.calls[-1] == ("POST", "/config", {"_format_version": "3.0"})


def test_a_refused_call_raises_with_kongs_message(
    fake: tuple[FakeAdmin, RunningServer], closer: ExitStack
) -> None:
    _, server = fake
    with pytest.raises(KongAdminError, match="schema violation"):
        closer.enter_context(closing_admin(server.url)).call(
            "POST", "/services", json={"name": "bad"}, expect=(201,)
        )


def test_konnect_mode_uses_the_same_crud_paths_under_the_core_entities_base(
    fake: tuple[FakeAdmin, RunningServer], closer: ExitStack
) -> None:
    admin, server = fake
    client = closer.enter_context(
        closing_admin(
            server.url + "/v2/control-planes/cp/core-entities",
            mode="konnect",
            headers={"Authorization": "Bearer t"},
        )
    )
    client.apply({"_format_version": "3.0", "services": [{"name": "s", "url": "http://u", "routes": []}]})
    assert (
        "POST",
        "/v2/control-planes/cp/core-entities/services",
        {"name": "s", "protocol": "http", "host": "u", "port": 80},  # Konnect's Service schema requires host
    ) in admin.calls
