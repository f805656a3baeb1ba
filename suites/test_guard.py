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
    # every protected route's plugin authenticates the client: no credentials is 401 (RFC 6750 3.1); each
    # flow's exact body and challenge are checked by its own suite file
    assert result.status == 401, f"{variant} answered {result.status} without credentials"
    upstream.assert_not_reached(result)
