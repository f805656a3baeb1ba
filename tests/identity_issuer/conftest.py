"""Fixtures for the issuer emulator's tests: one emulator on loopback, fresh auth servers per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest
from tests.identity_issuer.helpers import Issuer, add_client

from kongformance.identity.app import IdentityEmulator
from kongformance.serving import RunningServer, start_in_thread

_servers = itertools.count(1)


@pytest.fixture(scope="session")
def emulator() -> IdentityEmulator:
    return IdentityEmulator()


@pytest.fixture(scope="session")
def running(emulator: IdentityEmulator) -> Iterator[RunningServer]:
    server = start_in_thread(emulator.app)
    emulator.set_public_base_url(server.url)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def http(running: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture(autouse=True)
def _clean_switches(emulator: IdentityEmulator) -> Iterator[None]:
    """Every test starts and ends with real time, no defects, no faults."""
    yield
    emulator.clock.reset()
    emulator.defects.clear()
    emulator.faults.clear()


@pytest.fixture
def issuer(emulator: IdentityEmulator, running: RunningServer, http: httpx.Client) -> Issuer:
    server = emulator.store.create_server(
        name=f"server-{next(_servers)}", audience="https://api.example.test"
    )
    client, secret = add_client(emulator, server)
    return Issuer(emulator, server, emulator.issuer_url_for(server), http, client, secret)


@pytest.fixture
def control(running: RunningServer) -> str:
    return f"{running.url}/_emulator"
