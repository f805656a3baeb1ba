"""Suite-wide fixtures: the run-wide shared lock, ``@pytest.mark.needs`` capability skips, ``realm``, ``token``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fixtures.timing import RunLock
from fixtures.tokens import TokenFactory

from kongformance.profile import ProfileHandles
from kongformance.targets.setup import RunState
from negative_flows import oidc_realm


@pytest.fixture(autouse=True)
def _kf_capabilities_and_lock(request: pytest.FixtureRequest, kf_state: RunState) -> Iterator[None]:
    caps = kf_state.stack.capabilities()
    for mark in request.node.iter_markers("needs"):
        missing = [c for c in mark.args if not caps.get(c, False)]
        if missing:
            pytest.skip(f"target {kf_state.stack.target} lacks {', '.join(missing)}")
    lock = RunLock(kf_state.lock_dir)
    if {"clock", "exclusive"} & set(request.fixturenames):
        # time moves or every route changes: run alone, and take the lock before any other fixture of the
        # test runs (a token fetched earlier could expire while waiting for it)
        with lock.exclusive():
            yield
        return
    with lock.shared():
        yield


@pytest.fixture(scope="session")
def realm(kf_profile: ProfileHandles) -> str:
    """kong-plugins.md 1.7: openid-connect's realm, the host part of the issuer URL (no port, no scheme)."""
    return oidc_realm(kf_profile)


@pytest.fixture
def token(tokens: TokenFactory) -> str:
    """A fresh access token of the default client with scope ``read`` (never seen by the gateway before)."""
    return tokens.access_token("default", scope="read")
