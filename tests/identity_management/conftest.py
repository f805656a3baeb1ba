"""Fixtures for the management API tests: a store on a frozen clock, the /v1 app, a bearer-carrying client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount
from starlette.testclient import TestClient

from kongformance.clock import Clock
from kongformance.identity.management import http_exception_as_problem, management_app
from kongformance.identity.store import AuthServer, IdentityStore

TOKEN = "kpat_test_token"
PUBLIC_BASE = "http://127.0.0.1:8300"


def issuer_url_for(server: AuthServer) -> str:
    return f"{PUBLIC_BASE}/{server.issuer_key}/auth"


def build_app(store: IdentityStore, clock: Clock) -> Starlette:
    """The management app mounted at /v1, accepting only TOKEN (as app.py mounts it)."""
    api = management_app(store, clock, issuer_url_for=issuer_url_for, accept_token=lambda t: t == TOKEN)
    # paths Mount("/v1") cannot match (e.g. a %0A in an id) reach the outer app: answer those as problems too
    return Starlette(
        routes=[Mount("/v1", app=api)], exception_handlers={HTTPException: http_exception_as_problem}
    )


@pytest.fixture
def clock() -> Clock:
    c = Clock()
    c.freeze(1_780_000_000.0)
    return c


@pytest.fixture
def store(clock: Clock) -> IdentityStore:
    return IdentityStore(clock)


@pytest.fixture
def api(store: IdentityStore, clock: Clock) -> Iterator[TestClient]:
    with TestClient(build_app(store, clock), headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


@pytest.fixture
def server(api: TestClient) -> dict[str, Any]:
    r = api.post("/v1/auth-servers", json={"name": "orders", "audience": "https://orders.example"})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture
def client_app(api: TestClient, server: dict[str, Any]) -> dict[str, Any]:
    r = api.post(
        f"/v1/auth-servers/{server['id']}/clients",
        json={"name": "svc", "grant_types": ["client_credentials"], "response_types": ["token"]},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body
