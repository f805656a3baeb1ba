"""What reached the upstream, with and without its request log (issue 9 Deliver 5; issue 10: no no-op checks)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fixtures.http import PROBE_HEADER, ProxyResult, Upstream, echoed_request

from kongformance.serving import start_in_thread
from kongformance.targets import Stack
from kongformance.upstream import EchoUpstream

HTTPBIN_ANYTHING_KEYS = {"args", "data", "files", "form", "headers", "json", "method", "origin", "url"}


def _stack(*, log: bool) -> Stack:
    return Stack("fake", "http://i", "t", "http://a", "http://p", "https://p", "http://u", upstream_log=log)


def _result(status: int, body: Any, probe: str = "p1") -> ProxyResult:
    response = httpx.Response(status, json=body, request=httpx.Request("GET", "http://p/r"))
    return ProxyResult(response, probe)


def _echo(probe: str, **headers: str) -> dict[str, Any]:
    """An answer of httpbin's /anything (the shape our echo upstream copies)."""
    return {
        "args": {},
        "data": "",
        "files": {},
        "form": {},
        "headers": {"X-Kf-Probe": probe, **headers},
        "json": None,
        "method": "GET",
        "origin": "127.0.0.1",
        "url": "http://u/anything",
    }


def test_the_echo_upstream_answers_in_httpbins_anything_shape() -> None:
    server = start_in_thread(EchoUpstream().app)
    try:
        body = httpx.post(
            server.url + "/anything/x?a=1&a=2", data={"f": "v"}, headers={PROBE_HEADER: "p9"}
        ).json()
    finally:
        server.stop()
    assert set(body) == HTTPBIN_ANYTHING_KEYS
    assert body["args"] == {"a": ["1", "2"]} and body["form"] == {"f": "v"} and body["method"] == "POST"
    assert body["headers"]["X-Kf-Probe"] == "p9"


def test_without_a_log_listing_what_reached_the_upstream_skips_naming_the_capability() -> None:
    with pytest.raises(pytest.skip.Exception, match="lacks upstream_log"):
        Upstream(_stack(log=False)).seen("p1")


def test_without_a_log_nothing_reached_is_recorded_unchecked_not_passed(
    request: pytest.FixtureRequest,
) -> None:
    Upstream(_stack(log=False)).assert_not_reached(_result(401, {"message": "Unauthorized"}))
    unchecked = [v for k, v in request.node.user_properties if k == "unchecked"]
    assert unchecked and unchecked[0].startswith("RS-no-upstream-on-reject ")


def test_without_a_log_an_echo_of_a_refused_request_still_fails() -> None:
    with pytest.raises(AssertionError, match="reached the upstream"):
        Upstream(_stack(log=False)).assert_not_reached(_result(200, _echo("p1")))


def test_without_a_log_headers_come_from_the_echoed_request() -> None:
    upstream = Upstream(_stack(log=False))
    result = _result(200, _echo("p1", Authorization="Bearer a,Bearer b"))
    assert upstream.header_values(result, "authorization") == ["Bearer a", "Bearer b"]
    assert upstream.header_values(result, "x-absent") == []
    upstream.assert_reached_once(result)


def test_an_echo_of_another_request_is_not_this_requests_echo() -> None:
    other = _result(200, _echo("someone-else"))
    assert echoed_request(other) is None
    with pytest.raises(AssertionError):
        Upstream(_stack(log=False)).assert_reached_once(other)
    with pytest.raises(AssertionError):
        Upstream(_stack(log=False)).header_values(other, "authorization")
