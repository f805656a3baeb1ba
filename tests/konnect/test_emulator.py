"""The Konnect emulator behaves as Konnect's API documents say: tokens, OpenAPI validation, rates, core entities.

Sources: Konnect's OpenAPI documents (reference/konnect-openapi/: control-planes-v2, the control-planes-config-v2
subset, kong-identity-v1), https://developer.konghq.com/api/konnect/control-planes-config/v2/ and
https://developer.konghq.com/kong-identity/auth-servers/ (100 requests/s per auth server).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kongformance.clients.kong_admin import KongAdmin, service_fields
from kongformance.hidden_control import maybe_hidden
from kongformance.konnect.server import RunningKonnect, start_konnect
from kongformance.serving import start_in_thread
from kongformance.upstream.echo import EchoUpstream

TOKEN = "kpat_kongformance_selftest"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def konnect() -> Iterator[RunningKonnect]:
    with start_konnect() as running:
        yield running


@pytest.fixture
def api(konnect: RunningKonnect) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=konnect.api_url, timeout=10) as client:
        yield client


def core(konnect: RunningKonnect, path: str = "") -> str:
    return f"/v2/control-planes/{konnect.control_plane_id}/core-entities{path}"


@pytest.mark.parametrize(
    "header", [None, "Bearer kongformance-not-a-pat", "Basic a3BhdF94Og==", "Bearer kpat_"]
)
@pytest.mark.parametrize("path", ["/v2/control-planes", "/v1/auth-servers", "CORE/services"])
def test_an_api_call_without_a_konnect_token_is_401(
    konnect: RunningKonnect, api: httpx.Client, header: str | None, path: str
) -> None:
    path = core(konnect, "/services") if path.startswith("CORE") else path
    headers = {"Authorization": header} if header else {}
    resp = api.get(path, headers=headers)
    assert resp.status_code == 401
    if "/core-entities/" in path:  # GatewayUnauthorizedError
        assert resp.json() == {
            "message": "No API key found in request"
            if not (header or "").startswith("Bearer")
            else "Unauthorized",
            "status": 401,
        }
    else:  # UnauthorizedError (problem+json)
        body = resp.json()
        assert body["status"] == 401 and body["title"] == "Unauthorized" and body["detail"]


@pytest.mark.parametrize("prefix", ["kpat_", "spat_"])
def test_personal_and_system_account_tokens_are_accepted(api: httpx.Client, prefix: str) -> None:
    resp = api.get("/v2/control-planes", headers={"Authorization": f"Bearer {prefix}abc123"})
    assert resp.status_code == 200


def test_the_control_plane_is_listed_and_read_as_control_planes_v2_describes(
    konnect: RunningKonnect, api: httpx.Client
) -> None:
    listed = api.get("/v2/control-planes", headers=AUTH).json()
    assert [cp["id"] for cp in listed["data"]] == [konnect.control_plane_id]
    assert listed["meta"]["page"]["total"] == 1
    one = api.get(f"/v2/control-planes/{konnect.control_plane_id}", headers=AUTH).json()
    assert one["config"]["cluster_type"] == "CLUSTER_TYPE_CONTROL_PLANE"
    ports = {p["port"] for p in one["config"]["proxy_urls"]}
    assert ports == {int(konnect.proxy_url.rsplit(":", 1)[1]), int(konnect.proxy_ssl_url.rsplit(":", 1)[1])}
    nodes = api.get(f"/v2/control-planes/{konnect.control_plane_id}/nodes", headers=AUTH).json()
    assert [n["version"] for n in nodes["items"]] == ["3.15.0.0"]


def test_an_unknown_control_plane_is_404(api: httpx.Client) -> None:
    resp = api.get(
        "/v2/control-planes/00000000-0000-4000-8000-000000000000/core-entities/services", headers=AUTH
    )
    assert resp.status_code == 404
    assert resp.json()["status"] == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "field", "rule"),
    [
        (
            "POST",
            "/services",
            {"name": "no-host", "url": "http://upstream.test/anything"},
            "host",
            "required",
        ),
        ("POST", "/services", {"host": "a.test", "port": "eighty"}, "port", "is_integer"),
        ("POST", "/services", {"host": "a.test", "colour": "red"}, "colour", "unknown_property"),
        ("POST", "/services", {"host": "a.test", "protocol": "gopher"}, "protocol", "enum"),
        ("POST", "/plugins", {"config": {}}, "name", "required"),
    ],
)
def test_a_request_outside_the_openapi_document_is_400_in_konnects_shape(
    konnect: RunningKonnect,
    api: httpx.Client,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    resp = api.request(method, core(konnect, path), json=body, headers=AUTH)
    assert resp.status_code == 400, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    problem = resp.json()
    assert problem["status"] == 400 and problem["title"] == "Bad Request"
    assert any(p["field"] == field and p.get("rule") == rule for p in problem["invalid_parameters"]), problem


def test_a_path_parameter_outside_the_document_is_400(api: httpx.Client) -> None:
    resp = api.get("/v2/control-planes/not-a-uuid/core-entities/services", headers=AUTH)
    assert resp.status_code == 400
    assert resp.json()["invalid_parameters"][0] == {
        "field": "controlPlaneId",
        "rule": "is_uuid",
        "reason": "must be a valid UUID",
        "source": "path",
    }


def test_a_management_body_outside_kong_identitys_document_is_400(api: httpx.Client) -> None:
    resp = api.post("/v1/auth-servers", json={"name": "kf-no-audience"}, headers=AUTH)
    assert resp.status_code == 400
    assert any(p["field"] == "audience" for p in resp.json()["invalid_parameters"])


def test_a_path_no_document_has_is_404_and_a_method_it_lacks_is_405(
    konnect: RunningKonnect, api: httpx.Client
) -> None:
    assert api.get(core(konnect, "/no-such-entities"), headers=AUTH).status_code == 404
    resp = api.patch(core(konnect, "/services"), json={}, headers=AUTH)
    assert resp.status_code == 405
    assert set(resp.headers["allow"].split(", ")) == {"GET", "POST"}


def test_entities_created_on_the_control_plane_reach_the_data_plane(konnect: RunningKonnect) -> None:
    with start_upstream() as upstream_url:
        admin = KongAdmin(konnect.api_url + core(konnect), mode="konnect", headers=AUTH)
        try:
            svc = admin.call(
                "POST", "/services", json={"name": "kf-selftest", "url": upstream_url + "/anything"}
            )
            route = admin.call("POST", f"/services/{svc['id']}/routes", json={"paths": ["/kf-selftest"]})
            assert svc["host"] == "127.0.0.1" and svc["path"] == "/anything"  # url was split for Konnect
            assert {s["id"] for s in admin.list_all("/services")} >= {svc["id"]}
            resp = httpx.get(konnect.proxy_ssl_url + "/kf-selftest/x", verify=False)
            assert resp.status_code == 200 and resp.json()["url"].endswith("/anything/x")
            admin.call("DELETE", f"/routes/{route['id']}")
            admin.call("DELETE", f"/services/{svc['id']}")
            assert httpx.get(konnect.proxy_ssl_url + "/kf-selftest/x", verify=False).status_code == 404
        finally:
            admin.close()


def test_service_fields_split_a_url_as_kongs_schema_requires() -> None:
    assert service_fields({"name": "s", "url": "https://h.test/p"}) == {
        "name": "s",
        "protocol": "https",
        "host": "h.test",
        "port": 443,
        "path": "/p",
    }
    assert service_fields({"host": "h.test"}) == {"host": "h.test"}


def test_over_the_api_rate_konnect_answers_429_with_retry_after() -> None:
    with start_konnect(api_rate=3) as konnect, httpx.Client(base_url=konnect.api_url) as api:
        statuses = [api.get("/v2/control-planes", headers=AUTH) for _ in range(6)]
        limited = [r for r in statuses if r.status_code == 429]
        assert limited, [r.status_code for r in statuses]
        assert int(limited[0].headers["retry-after"]) >= 1
        assert limited[0].json()["title"] == "Too Many Requests"
        # another token has its own budget
        assert (
            api.get("/v2/control-planes", headers={"Authorization": "Bearer spat_other"}).status_code == 200
        )


def test_over_the_auth_server_rate_its_issuer_answers_429_with_retry_after() -> None:
    with start_konnect(issuer_rate=2) as konnect, httpx.Client(base_url=konnect.api_url) as api:
        server = api.post("/v1/auth-servers", json={"name": "kf-rate", "audience": "kf"}, headers=AUTH).json()
        discovery = server["issuer"] + "/.well-known/openid-configuration"
        statuses = [httpx.get(discovery).status_code for _ in range(5)]
        assert statuses[0] == 200 and 429 in statuses, statuses


def test_the_control_surface_is_hidden_unless_shown(konnect: RunningKonnect) -> None:
    assert httpx.get(konnect.api_url + "/_emulator/clock").status_code == 404
    assert httpx.get(konnect.proxy_url + "/_emulator/clock").status_code == 404
    with start_konnect(show_control=True) as shown:
        assert httpx.get(shown.api_url + "/_emulator/clock").status_code == 200


@contextlib.contextmanager
def start_upstream() -> Iterator[str]:
    """An echo upstream with its control surface hidden, as httpbin."""
    server = start_in_thread(maybe_hidden(EchoUpstream().app, "upstream", True))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--accept-token", "not-a-pat"], "--accept-token must start with kpat_ or spat_"),
        (["--control-plane-id", "cp-1"], "expected a UUID"),
        (["--api-rate", "-1"], "expected 0 (no limit) or more"),
    ],
)
def test_serve_konnect_refuses_bad_options_in_one_line(args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kongformance.cli", "serve", "konnect", "--random-ports", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    out = done.stdout + done.stderr
    assert message in out and "Traceback" not in out


def test_control_plane_writes_are_not_served(konnect: RunningKonnect, api: httpx.Client) -> None:
    resp = api.delete(f"/v2/control-planes/{konnect.control_plane_id}", headers=AUTH)
    assert resp.status_code == 405 and resp.json()["status"] == 405
