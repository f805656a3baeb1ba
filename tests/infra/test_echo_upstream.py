"""The echo upstream answers like httpbin and logs what reached it (issue 3, Deliver 4)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from kongformance.clock import Clock
from kongformance.serving import start_in_thread
from kongformance.upstream.echo import EchoUpstream


@pytest.fixture(scope="module")
def echo() -> Iterator[tuple[EchoUpstream, str]]:
    upstream = EchoUpstream(Clock())
    server = start_in_thread(upstream.app)
    yield upstream, server.url
    server.stop()


@pytest.fixture
def client(echo: tuple[EchoUpstream, str]) -> Iterator[httpx.Client]:
    upstream, url = echo
    upstream.log.clear()
    with httpx.Client(base_url=url) as c:
        yield c


def test_anything_echoes_method_url_args_and_headers(client: httpx.Client) -> None:
    """issue 3 Deliver 4: /anything returns method, url, args, headers, origin like httpbin."""
    r = client.request("PATCH", "/anything/a/b?x=1&x=2&y=z", headers={"x-consumer-id": "c-1"})
    assert r.status_code == 200
    doc = r.json()
    assert doc["method"] == "PATCH"
    assert doc["url"].endswith("/anything/a/b?x=1&x=2&y=z")
    assert doc["args"] == {"x": ["1", "2"], "y": "z"}
    assert doc["headers"]["X-Consumer-Id"] == "c-1"
    assert doc["origin"] == "127.0.0.1"
    assert set(doc) == {"args", "data", "files", "form", "headers", "json", "method", "origin", "url"}


def test_anything_parses_json_and_form_bodies(client: httpx.Client) -> None:
    """issue 3 Deliver 4: /anything echoes json and form bodies as httpbin does."""
    as_json = client.post("/anything", json={"a": [1, 2]}).json()
    assert as_json["json"] == {"a": [1, 2]}
    assert as_json["data"] == '{"a":[1,2]}'
    as_form = client.post("/anything", data={"grant_type": "client_credentials", "s": "1"}).json()
    assert as_form["form"] == {"grant_type": "client_credentials", "s": "1"}
    assert as_form["json"] is None


def test_broken_json_body_is_echoed_as_data_not_an_error(client: httpx.Client) -> None:
    """issue 3 Bad input: a broken JSON body never causes a 500."""
    r = client.post("/anything", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 200
    assert r.json()["json"] is None
    assert r.json()["data"] == "{not json"


def test_origin_follows_x_forwarded_for(client: httpx.Client) -> None:
    """httpbin's origin is X-Forwarded-For when a proxy (Kong) set it."""
    doc = client.get("/anything", headers={"x-forwarded-for": "203.0.113.9"}).json()
    assert doc["origin"] == "203.0.113.9"


@pytest.mark.parametrize("code", [200, 204, 401, 403, 500, 503])
def test_status_answers_the_requested_code(client: httpx.Client, code: int) -> None:
    """h8 Deliver 1: /status/{code} answers that status (upstream-oauth purge tests need 401)."""
    r = client.get(f"/status/{code}")
    assert r.status_code == code


def test_status_401_carries_httpbins_basic_challenge(client: httpx.Client) -> None:
    assert client.get("/status/401").headers["www-authenticate"] == 'Basic realm="Fake Realm"'


@pytest.mark.parametrize("bad", ["abc", "99", "600", "1e3"])
def test_status_refuses_a_non_status_with_400(client: httpx.Client, bad: str) -> None:
    """common.md: bad input gets a clear 400, never a traceback."""
    r = client.get(f"/status/{bad}")
    assert r.status_code == 400
    assert bad in r.json()["detail"]


def test_unknown_path_is_404_json(client: httpx.Client) -> None:
    r = client.get("/nothing-here")
    assert r.status_code == 404
    assert r.json()["path"] == "/nothing-here"


def test_request_log_records_what_reached_the_upstream(client: httpx.Client) -> None:
    """h8 Deliver 1: GET /_emulator/requests shows raw headers and body of each request, in order."""
    client.post("/anything/one", content=b"hello", headers={"Authorization": "Bearer abc"})
    client.get("/anything/two?q=1")
    log = client.get("/_emulator/requests").json()
    assert log["count"] == 2
    first, second = log["requests"]
    assert (first["method"], first["path"], first["body"]) == ("POST", "/anything/one", "hello")
    assert ["authorization", "Bearer abc"] in first["headers"]
    assert (second["path"], second["query_string"]) == ("/anything/two", "q=1")
    assert second["seq"] > first["seq"]


def test_request_log_filters_by_path_prefix_method_header_and_since(client: httpx.Client) -> None:
    """h8 Deliver 1: ?path_prefix= narrows the log so parallel tests see only their own requests."""
    client.get("/anything/t1/a", headers={"X-Test": "1"})
    client.post("/anything/t1/b")
    client.get("/anything/t2/a", headers={"X-Test": "2"})
    get = client.get
    assert get("/_emulator/requests", params={"path_prefix": "/anything/t1"}).json()["count"] == 2
    assert get("/_emulator/requests", params={"path_prefix": "/anything/t3"}).json()["count"] == 0
    assert get("/_emulator/requests", params={"method": "post"}).json()["count"] == 1
    by_header = get("/_emulator/requests", params={"header": "x-test:2"}).json()
    assert [e["path"] for e in by_header["requests"]] == ["/anything/t2/a"]
    first_seq = get("/_emulator/requests").json()["requests"][0]["seq"]
    assert get("/_emulator/requests", params={"since": first_seq}).json()["count"] == 2


def test_request_log_rejects_malformed_filters(client: httpx.Client) -> None:
    assert client.get("/_emulator/requests", params={"header": "novalue"}).status_code == 400
    assert client.get("/_emulator/requests", params={"since": "x"}).status_code == 400


def test_delete_clears_the_log_and_control_calls_are_not_logged(client: httpx.Client) -> None:
    """h8 Deliver 1: DELETE clears; the control surface itself never shows up in the log."""
    client.get("/anything")
    assert client.delete("/_emulator/requests").status_code == 204
    assert client.get("/_emulator/requests").json() == {"count": 0, "requests": []}


def test_log_is_bounded_and_timestamped_by_the_clock() -> None:
    """The log keeps at most log_size entries and stamps them with the (virtual) clock."""
    clock = Clock()
    clock.freeze(at=1_000.0)
    upstream = EchoUpstream(clock, log_size=3)
    server = start_in_thread(upstream.app)
    try:
        with httpx.Client(base_url=server.url) as c:
            for i in range(5):
                c.get(f"/anything/{i}")
        entries = upstream.log.entries()
        assert [e.path for e in entries] == ["/anything/2", "/anything/3", "/anything/4"]
        assert {e.time for e in entries} == {1_000.0}
    finally:
        server.stop()


def test_non_utf8_body_is_logged_as_base64(client: httpx.Client, echo: tuple[EchoUpstream, str]) -> None:
    r = client.post("/anything", content=b"\xff\xfe")
    assert r.json()["data"] == "data:application/octet-stream;base64,//4="
    (entry,) = echo[0].log.entries()
    assert entry.body_base64 and entry.body == "//4="
