"""Suite-wide fixtures: the run-wide shared lock, ``@pytest.mark.needs`` capability skips, ``realm``, ``token``;
expiry checks (``@pytest.mark.expiry``) ordered last and, on real targets, prepared at the run's start."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fixtures.evidence import DeviationCheck
from fixtures.http import Proxy, Upstream
from fixtures.timing import ExpiryPlan, RunLock, wait_in_real_time
from fixtures.tokens import TokenFactory

from kongformance.profile import ProfileHandles
from kongformance.run_checks import lacks_reason
from kongformance.targets.setup import RunState
from negative_flows import Judge, oidc_realm


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Expiry checks run last: on real targets they were prepared at the start and wait for one shared instant."""
    items.sort(key=lambda item: item.get_closest_marker("expiry") is not None)


@pytest.fixture(scope="session", autouse=True)
def _kf_expiry_up_front(expiry_plan: ExpiryPlan) -> ExpiryPlan:
    """Prepare the run's expiry checks before any test (real targets), so their one wait overlaps the run."""
    return expiry_plan


@pytest.fixture(autouse=True)
def _kf_capabilities_and_lock(request: pytest.FixtureRequest, kf_state: RunState) -> Iterator[None]:
    caps = kf_state.stack.capabilities()
    for mark in request.node.iter_markers("needs"):
        missing = [c for c in mark.args if not caps.get(c, False)]
        if missing:
            pytest.skip(lacks_reason(missing, target=kf_state.stack.target))
    if not kf_state.stack.virtual_clock and "expiring" in request.fixturenames:
        due = request.getfixturevalue("expiry_plan").due_of(request.node.nodeid)
        if due is not None:
            wait_in_real_time(due)  # the run's one shared wait, outside every lock (mostly passed by now)
    lock = RunLock(kf_state.lock_dir)
    moves_time = kf_state.stack.virtual_clock and bool({"clock", "expiring"} & set(request.fixturenames))
    if moves_time or "exclusive" in request.fixturenames:
        # virtual time moves or every route changes: run alone, and take the lock before any other fixture of
        # the test runs (a token fetched earlier could expire while waiting for it). Real targets never hold
        # it across a wait: their expiry checks share the run's one wait (fixtures.timing).
        with lock.exclusive():
            yield
        return
    with lock.shared():
        yield


@pytest.fixture(scope="session")
def realm(kf_profile: ProfileHandles) -> str:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: openid-connect's realm, the host part of the issuer URL (no port, no scheme)."""
    return oidc_realm(kf_profile)


@pytest.fixture
def token(tokens: TokenFactory) -> str:
    """A fresh access token of the default client with scope ``read`` (never seen by the gateway before)."""
    return tokens.access_token("default", scope="read")


@pytest.fixture
def judge(proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, deviations: DeviationCheck) -> Judge:
    """The bearer-flow oracle of one test (negative_flows.Judge)."""
    return Judge(proxy, upstream, kf_profile, deviations)
