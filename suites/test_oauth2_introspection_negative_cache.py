"""oauth2-introspection caches an introspection answer for ``config.ttl`` at most, a negative one included: a
token the IdP once reported inactive is accepted once that answer has aged out and the IdP says active.

Source: Kong's oauth2-introspection reference (https://developer.konghq.com/plugins/oauth2-introspection/reference/:
``config.ttl`` "The TTL in seconds for the introspection response"). Route ``oauth2-introspection-ttl1`` has ttl 1.
"""

from __future__ import annotations

import pytest
from fixtures.http import Proxy, Upstream
from fixtures.issuer_control import IssuerControl
from fixtures.oracle import assert_proxied, assert_refused
from fixtures.timing import ClockControl
from fixtures.tokens import TokenFactory

ROUTE = "oauth2-introspection-ttl1"
TTL = 1


@pytest.mark.requirement("KONG-INTRO-negative-cache-ttl")
@pytest.mark.needs("issuer_control")
def test_an_inactive_answer_is_not_kept_past_the_ttl(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, clock: ClockControl, tokens: TokenFactory
) -> None:
    """First introspection scripted to {"active": false} -> 401; after ttl (1 s) the next request introspects
    again, the IdP says active, and the request is proxied."""
    token = tokens.access_token("default")
    with issuer_control.fault("introspect", times=1, status=200, body={"active": False}):
        first = proxy.request(ROUTE, token=token)
    assert_refused(first, upstream, status=401, error="invalid_token")
    clock.advance(TTL + 1)
    assert_proxied(proxy.request(ROUTE, token=token), upstream)
