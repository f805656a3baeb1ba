"""Fixtures of the OAuth plugins' unit tests (https://developer.konghq.com/plugins/upstream-oauth/ and https://developer.konghq.com/plugins/oauth2-introspection/ and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.gateway_oauth_plugins.oauth_fakes import FakeRuntime, Idp

from kongformance.serving import start_in_thread


@pytest.fixture(scope="session")
def idp_server() -> Iterator[Idp]:
    idp = Idp()
    idp.server = start_in_thread(idp.app)
    yield idp
    idp.server.stop()


@pytest.fixture
def idp(idp_server: Idp) -> Idp:
    idp_server.reset()
    return idp_server


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()
