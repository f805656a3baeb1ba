"""openid-connect ``by_username_ignore_case`` consumer mapping (https://developer.konghq.com/plugins/openid-connect/#consumer-authorization).

Kong's ``consumers_load`` (kong/plugins/openid-connect, Kong/kong) tries ``select_by_username`` first and only
then ``select_by_username_ignore_case``, which returns every case-insensitive match with the oldest
``created_at`` first; Kong takes the first. Recorded in docs/fidelity/gateway-oidc.md.
"""

from __future__ import annotations

from typing import Any

from kongformance.gateway.plugins.oidc_consumers import username_ignoring_case

from .conftest import Harness, oidc_harness


def _loose(**config: Any) -> Harness:
    return oidc_harness(
        consumer_claims=[["sub"]], consumer_by=["username"], by_username_ignore_case=True, **config
    )


def test_maps_a_username_that_differs_only_in_case_through_a_full_scan() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#consumer-authorization: with by_username_ignore_case, "BOB" finds consumer "Bob" (neither is lowercase)."""
    h = _loose()
    _, ctx = h.send(h.idp.token({"sub": "BOB"}))
    assert ctx.consumer is not None and ctx.consumer["id"] == "c-bob"


def test_does_not_ignore_case_unless_configured() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#consumer-authorization: by_username_ignore_case defaults to false: "BOB" maps nobody (403)."""
    h = oidc_harness(consumer_claims=[["sub"]], consumer_by=["username"])
    result, ctx = h.send(h.idp.token({"sub": "BOB"}))
    assert result is not None and result.status == 403
    assert ctx.consumer is None


def test_prefers_an_exact_username_match_over_an_older_case_insensitive_one() -> None:
    """consumers_load: select_by_username runs before select_by_username_ignore_case."""
    h = _loose()
    h.runtime.consumers = [
        {"id": "c-old", "username": "CAROL", "created_at": 100},
        {"id": "c-new", "username": "carol", "created_at": 200},
    ]
    _, ctx = h.send(h.idp.token({"sub": "carol"}))
    assert ctx.consumer is not None and ctx.consumer["id"] == "c-new"


def test_takes_the_oldest_of_several_case_insensitive_matches() -> None:
    """select_by_username_ignore_case sorts oldest created_at first; Kong uses result[1]."""
    h = _loose()
    h.runtime.consumers = [
        {"id": "c-2", "username": "Dave", "created_at": 300},
        {"id": "c-1", "username": "DAVE", "created_at": 100},
        {"id": "c-3", "username": "dAvE", "created_at": 200},
    ]
    _, ctx = h.send(h.idp.token({"sub": "dave"}))
    assert ctx.consumer is not None and ctx.consumer["id"] == "c-1"


def test_skips_consumers_without_a_string_username() -> None:
    """select_by_username_ignore_case compares only string usernames (no error on consumers without one)."""
    h = _loose()
    h.runtime.consumers = [
        {"id": "c-none", "username": None, "custom_id": "x"},
        {"id": "c-erin", "username": "Erin", "created_at": 1},
    ]
    assert username_ignoring_case(h.runtime, "ERIN") == {"id": "c-erin", "username": "Erin", "created_at": 1}
    assert username_ignoring_case(h.runtime, "nobody") is None
