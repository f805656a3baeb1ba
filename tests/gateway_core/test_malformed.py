"""Malformed proxied requests never produce an unhandled error: oversized headers, broken bodies, odd
paths and methods get the status Kong gives (Kong/kong spec 05-proxy/13-error_handlers_spec.lua)."""

from __future__ import annotations

import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import RunningGateway, Upstream


@pytest.fixture
def proxied(gateway: RunningGateway, upstream: Upstream) -> RunningGateway:
    gateway.service_and_route(upstream.url, paths=["/m"])
    return gateway


def test_oversized_header_is_400_bad_request(proxied: RunningGateway, upstream: Upstream) -> None:
    """Kong error handlers: a header beyond nginx's 8k buffer gives 400 "Bad request" with a request id."""
    r = proxied.proxy.get("/m", headers={"X-Large": "a" * (10 * 1024)})
    assert r.status_code == 400
    assert r.json()["message"] == "Bad request" and r.json()["request_id"]
    assert r.headers["server"].startswith("kong/") or "kong/" in ",".join(r.headers.get_list("server"))
    many = {f"X-H{i}": "b" * 4000 for i in range(10)}
    assert proxied.proxy.get("/m", headers=many).status_code == 400
    assert upstream.seen == []


def test_error_body_follows_the_accept_header(proxied: RunningGateway) -> None:
    """Kong error handlers answer in the format the client accepts; text/plain when it says nothing."""
    plain = proxied.proxy.get("/nowhere", headers={"Accept": "text/plain"})
    assert plain.status_code == 404
    assert plain.text.startswith("no Route matched with those values\nrequest_id: ")
    html = proxied.proxy.get("/nowhere", headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html") and "no Route matched" in html.text
    raw = _raw(proxied, b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 404") and b"text/plain" in raw


def test_trace_method_is_405(proxied: RunningGateway, upstream: Upstream) -> None:
    """Kong refuses TRACE with 405 "Method not allowed"."""
    r = proxied.proxy.request("TRACE", "/m")
    assert r.status_code == 405 and r.json()["message"] == "Method not allowed"
    assert upstream.seen == []


def test_broken_json_body_is_proxied_untouched(proxied: RunningGateway, upstream: Upstream) -> None:
    """The gateway does not parse bodies it has no reason to: broken JSON reaches the upstream as sent."""
    r = proxied.proxy.post("/m", content=b'{"broken": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and upstream.seen[0]["body"] == '{"broken": '


def _raw(gw: RunningGateway, payload: bytes) -> bytes:
    port = gw.servers[1].port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            chunks.append(data)
            if b"\r\n\r\n" in b"".join(chunks) and payload.startswith(b"GET"):
                sock.settimeout(0.5)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "payload",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /m HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
        b"GET /m HTTP/1.1\r\n\r\n",
        b"POST /m HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b"GET /m/%zz%00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /m HTTP/1.1\r\nHost: x\r\nX-Bin: \xff\xfe\r\n\r\n",
    ],
)
def test_malformed_http_never_gets_a_5xx(proxied: RunningGateway, payload: bytes) -> None:
    """Bad input to the proxy gets a 4xx (or a proxied answer), never a 5xx."""
    answer = _raw(proxied, payload)
    if answer:
        status = int(answer.split(b" ", 2)[1])
        assert status < 500, answer[:200]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
    header=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200),
)
def test_arbitrary_paths_and_header_values_never_5xx(proxied: RunningGateway, path: str, header: str) -> None:
    """Property: whatever printable path and header value a client sends, the proxy answers below 500."""
    r = proxied.proxy.get(
        "/m/" + path.replace("?", "").replace("#", ""), headers={"X-Anything": header.strip()}
    )
    assert r.status_code < 500
