"""The guard: every protected route refuses a request without credentials (https://developer.konghq.com/support/after-adding-a-ee-plugin-the-plugin-is-not-working-fails-to-execute/).

The run set-up already aborts when this fails (an unlicensed Kong skips Enterprise plugins silently);
these tests report it per route in the results.
"""

from __future__ import annotations

import pytest
from fixtures.http import Proxy, Upstream

from kongformance import profile_routes

PROTECTED = [v for v, spec in profile_routes.ROUTE_VARIANTS.items() if spec.protected]


@pytest.mark.requirement("GUARD-unauthenticated-rejected", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("variant", PROTECTED)
def test_protected_route_rejects_a_request_without_credentials(
    proxy: Proxy, upstream: Upstream, variant: str
) -> None:
    """https://developer.konghq.com/support/after-adding-a-ee-plugin-the-plugin-is-not-working-fails-to-execute/: a green run must never hide skipped Enterprise plugins."""
    result = proxy.request(variant)
    # the guard proves only that a plugin runs; each flow's exact refusal is checked by its own suite file
    assert 400 <= result.status < 500, f"{variant} answered {result.status} without credentials"
    upstream.assert_not_reached(result)
