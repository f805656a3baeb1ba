"""Routing and proxying of the reference gateway: paths, hosts, methods, protocols (426), strip_path,
preserve_host, upstream errors and Kong's headers (https://developer.konghq.com/gateway/authentication/ and 7; Kong Route/Service entities)."""

from __future__ import annotations

import pytest

from .conftest import MakeGateway, RunningGateway, Upstream


def test_unmatched_request_is_404_no_route_matched(gateway: RunningGateway) -> None:
    """Kong answers a request no route matches with 404 and its router message."""
    r = gateway.proxy.get("/nothing-here")
    assert r.status_code == 404
    assert r.json()["message"] == "no Route matched with those values"
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert "x-kong-response-latency" in r.headers


def test_longest_prefix_path_wins(gateway: RunningGateway, upstream: Upstream) -> None:
    """Kong router: among prefix paths the longest match wins, whatever the creation order."""
    gateway.service_and_route(upstream.url + "/short", paths=["/api"])
    gateway.service_and_route(upstream.url + "/long", paths=["/api/v2"])
    assert gateway.proxy.get("/api/v2/items").json()["path"] == "/long/items"
    assert gateway.proxy.get("/api/v1/items").json()["path"] == "/short/v1/items"


def test_regex_path_matches_and_beats_prefix(gateway: RunningGateway, upstream: Upstream) -> None:
    """Kong router: ``~`` paths are regexes anchored at the start, evaluated before prefix paths."""
    gateway.service_and_route(upstream.url + "/prefix", paths=["/users"])
    gateway.service_and_route(upstream.url + "/regex", paths=[r"~/users/\d+$"])
    assert gateway.proxy.get("/users/42").json()["path"] == "/regex"
    assert gateway.proxy.get("/users/abc").json()["path"] == "/prefix/abc"


def test_hosts_and_methods_restrict_a_route(gateway: RunningGateway, upstream: Upstream) -> None:
    """Kong router: a route with hosts/methods only matches requests carrying them."""
    gateway.service_and_route(upstream.url + "/a", paths=["/h"], hosts=["api.example.com"], methods=["GET"])
    gateway.service_and_route(upstream.url + "/w", paths=["/h"], hosts=["*.wild.example"])
    assert gateway.proxy.get("/h", headers={"Host": "api.example.com"}).json()["path"] == "/a"
    assert gateway.proxy.post("/h", headers={"Host": "api.example.com"}).status_code == 404
    assert gateway.proxy.get("/h", headers={"Host": "other.example"}).status_code == 404
    assert gateway.proxy.get("/h", headers={"Host": "x.wild.example:8000"}).json()["path"] == "/w"


def test_http_request_on_https_only_route_gets_426(gateway: RunningGateway, upstream: Upstream) -> None:
    """https://developer.konghq.com/gateway/authentication/: 3.14+ routes are https-only by default; plain HTTP gets 426 with Kong's headers."""
    svc = gateway.admin.post("/services", json={"url": upstream.url}).json()
    gateway.admin.post(f"/services/{svc['id']}/routes", json={"paths": ["/secure"]})
    r = gateway.proxy.get("/secure")
    assert r.status_code == 426
    assert r.json() == {"message": "Please use HTTPS protocol"}
    assert r.headers["upgrade"] == "TLS/1.2, HTTP/1.1" and r.headers["connection"].lower() == "upgrade"
    assert upstream.seen == []
    ok = gateway.proxy_tls.get("/secure")
    assert ok.status_code == 200
    assert upstream.header(0, "x-forwarded-proto") == "https"


def test_https_redirect_status_code_redirects_instead(gateway: RunningGateway, upstream: Upstream) -> None:
    """Kong Route ``https_redirect_status_code`` 301 answers a redirect to the https URL."""
    svc = gateway.admin.post("/services", json={"url": upstream.url}).json()
    gateway.admin.post(
        f"/services/{svc['id']}/routes",
        json={"paths": ["/moved"], "protocols": ["https"], "https_redirect_status_code": 301},
    )
    r = gateway.proxy.get("/moved/x?q=1", headers={"Host": "api.example"})
    assert r.status_code == 301 and r.headers["location"] == "https://api.example/moved/x?q=1"


def test_http_only_route_does_not_match_https(gateway: RunningGateway, upstream: Upstream) -> None:
    """Kong router: a route with protocols [http] does not serve HTTPS requests."""
    gateway.service_and_route(upstream.url, paths=["/plain"], protocols=["http"])
    assert gateway.proxy.get("/plain").status_code == 200
    assert gateway.proxy_tls.get("/plain").status_code == 404


@pytest.mark.parametrize(
    ("service_path", "route_path", "request_path", "strip", "expected"),
    [
        ("/s", "/p", "/p/x", True, "/s/x"),
        ("/s", "/p", "/p", True, "/s"),
        ("/s", "/p", "/px", True, "/s/x"),
        ("/s/", "/p", "/p/x", True, "/s/x"),
        ("/s", "/p", "/p/x", False, "/s/p/x"),
        ("/s/", "/p", "/p/x", False, "/s/p/x"),
        (None, "/p", "/p/x", True, "/x"),
        (None, "/p", "/p", True, "/"),
        (None, "/p", "/p/x", False, "/p/x"),
    ],
)
def test_strip_path_joins_service_path_as_kong_v0(
    gateway: RunningGateway,
    upstream: Upstream,
    service_path: str | None,
    route_path: str,
    request_path: str,
    strip: bool,
    expected: str,
) -> None:
    """Kong Route ``strip_path`` with path_handling v0 (kong/router/utils.lua get_upstream_uri_v0)."""
    gateway.service_and_route(upstream.url + (service_path or ""), paths=[route_path], strip_path=strip)
    assert gateway.proxy.get(request_path).json()["raw_path"] == expected


def test_query_string_and_body_reach_the_upstream(gateway: RunningGateway, upstream: Upstream) -> None:
    """The proxy forwards method, query and body unchanged."""
    gateway.service_and_route(upstream.url, paths=["/q"])
    r = gateway.proxy.post(
        "/q/x?a=1&b=two&a=3", content=b'{"k": "v"}', headers={"Content-Type": "application/json"}
    )
    seen = r.json()
    assert seen["method"] == "POST" and seen["query"] == "a=1&b=two&a=3" and seen["body"] == '{"k": "v"}'


def test_preserve_host_controls_the_upstream_host_header(gateway: RunningGateway, upstream: Upstream) -> None:
    """Kong Route ``preserve_host``: false sends the service host, true the client's Host."""
    gateway.service_and_route(upstream.url, paths=["/keep"], preserve_host=True)
    gateway.service_and_route(upstream.url, paths=["/swap"])
    gateway.proxy.get("/keep", headers={"Host": "client.example"})
    gateway.proxy.get("/swap", headers={"Host": "client.example"})
    assert upstream.header(0, "host") == "client.example"
    assert upstream.server is not None
    assert upstream.header(1, "host") == f"127.0.0.1:{upstream.server.port}"


def test_forwarded_headers_and_kong_response_headers(gateway: RunningGateway, upstream: Upstream) -> None:
    """https://developer.konghq.com/gateway/authentication/: X-Kong-Request-Id upstream; Via and latency headers on the response."""
    gateway.service_and_route(upstream.url, paths=["/fwd"])
    r = gateway.proxy.get("/fwd/a", headers={"Host": "front.example", "X-Forwarded-For": "10.0.0.1"})
    assert upstream.header(0, "x-forwarded-for") == "10.0.0.1, 127.0.0.1"
    assert upstream.header(0, "x-forwarded-host") == "front.example"
    assert upstream.header(0, "x-forwarded-proto") == "http"
    assert upstream.header(0, "x-forwarded-prefix") == "/fwd"
    assert upstream.header(0, "x-kong-request-id") == r.headers["x-kong-request-id"]
    assert r.headers["via"].endswith("kong/3.15.0.0")
    assert int(r.headers["x-kong-upstream-latency"]) >= 0 and int(r.headers["x-kong-proxy-latency"]) >= 0
    assert r.headers["x-upstream"] == "yes"


def test_upstream_status_and_headers_pass_through(gateway: RunningGateway, upstream: Upstream) -> None:
    """The upstream's status and headers reach the client unchanged."""
    gateway.service_and_route(upstream.url, paths=["/status"], strip_path=False)
    r = gateway.proxy.get("/status/418")
    assert r.status_code == 418 and r.headers["x-upstream"] == "yes"


def test_unreachable_upstream_is_502_in_kong_format(gateway: RunningGateway) -> None:
    """Kong answers a failed upstream connection with 502 and its error message."""
    gateway.service_and_route("http://127.0.0.1:1", paths=["/down"])
    r = gateway.proxy.get("/down")
    assert r.status_code == 502
    assert r.json()["message"] == "An invalid response was received from the upstream server"


def test_upstream_timeout_is_504(gateway: RunningGateway) -> None:
    """Kong answers an upstream read timeout with 504 ``The upstream server is timed out``."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection but never answers
    try:
        port = listener.getsockname()[1]
        svc = gateway.admin.post(
            "/services", json={"url": f"http://127.0.0.1:{port}", "read_timeout": 1}
        ).json()
        gateway.admin.post(f"/services/{svc['id']}/routes", json={"paths": ["/slow"], "protocols": ["http"]})
        r = gateway.proxy.get("/slow")
        assert r.status_code == 504
        assert r.json()["message"] == "The upstream server is timed out"
    finally:
        listener.close()


def test_config_changes_take_effect_immediately(gateway: RunningGateway, upstream: Upstream) -> None:
    """Admin API writes change the proxy at once (no reload delay)."""
    _, route = gateway.service_and_route(upstream.url, paths=["/live"])
    assert gateway.proxy.get("/live").status_code == 200
    gateway.admin.patch(f"/routes/{route['id']}", json={"paths": ["/moved"]})
    assert gateway.proxy.get("/live").status_code == 404
    assert gateway.proxy.get("/moved").status_code == 200
    gateway.admin.delete(f"/routes/{route['id']}")
    assert gateway.proxy.get("/moved").status_code == 404


def test_client_x_forwarded_proto_does_not_make_http_look_like_https(
    gateway: RunningGateway, upstream: Upstream
) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: trusted_ips is empty by default, so X-Forwarded-Proto from a client is not believed."""
    svc = gateway.admin.post("/services", json={"url": upstream.url}).json()
    gateway.admin.post(f"/services/{svc['id']}/routes", json={"paths": ["/tls-only"]})
    r = gateway.proxy.get("/tls-only", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.9.9.9"})
    assert r.status_code == 426


def test_head_request_keeps_the_upstream_content_length(gateway: RunningGateway, upstream: Upstream) -> None:
    """A HEAD answer has no body but carries the upstream's Content-Length."""
    gateway.service_and_route(upstream.url, paths=["/head"])
    get = gateway.proxy.get("/head")
    head = gateway.proxy.head("/head")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 0 and get.status_code == 200


def test_trusted_client_keeps_its_forwarded_headers(make_gateway: MakeGateway, upstream: Upstream) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: with the client in trusted_ips, its X-Forwarded-* values reach the upstream."""
    gw = make_gateway(trusted_ips=["127.0.0.0/8"])
    gw.service_and_route(upstream.url, paths=["/t"])
    gw.proxy.get("/t", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "edge.example"})
    assert upstream.header(0, "x-forwarded-proto") == "https"
    assert upstream.header(0, "x-forwarded-host") == "edge.example"


def test_routes_of_a_disabled_service_do_not_match(gateway: RunningGateway, upstream: Upstream) -> None:
    """Kong Service ``enabled: false``: its routes behave as if they did not exist."""
    svc, _ = gateway.service_and_route(upstream.url, paths=["/off"])
    assert gateway.proxy.get("/off").status_code == 200
    gateway.admin.patch(f"/services/{svc['id']}", json={"enabled": False})
    assert gateway.proxy.get("/off").status_code == 404


def test_query_string_is_forwarded_byte_for_byte(gateway: RunningGateway, upstream: Upstream) -> None:
    """The proxy forwards the client's query string as sent when no plugin changed it."""
    gateway.service_and_route(upstream.url, paths=["/raw"])
    gateway.proxy.get("/raw?a=b%20c&d=e+f&flag&x=%C3%A9")
    assert upstream.seen[0]["query"] == "a=b%20c&d=e+f&flag&x=%C3%A9"


def test_route_without_service_is_503(gateway: RunningGateway) -> None:
    """A matched route with no service cannot be proxied: 503 in Kong's error format."""
    assert (
        gateway.admin.post("/routes", json={"paths": ["/orphan"], "protocols": ["http"]}).status_code == 201
    )
    r = gateway.proxy.get("/orphan")
    assert r.status_code == 503 and r.json()["message"] == "no Service found with those values"
