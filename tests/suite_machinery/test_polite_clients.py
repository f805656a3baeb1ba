"""Konnect manners: 429 + Retry-After honoured with bounded backoff, API calls counted (issue 9 Deliver 7).

A fake API on loopback answers 429 a given number of times, then 200. No test waits: the transport's
``sleep`` is recorded instead of slept.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kongformance.clients.identity_api import IdentityApi
from kongformance.clients.kong_admin import KongAdmin
from kongformance.clients.polite import (
    CallCounter,
    PoliteTransport,
    RateLimited,
    RetryPolicy,
    relays_rate_limit,
    retry_after,
)
from kongformance.serving import RunningServer, start_in_thread


class FakeApi:
    """Answers 429 (with ``retry_after`` when given) ``limited`` times, then 200 echoing the body."""

    def __init__(self) -> None:
        self.limited = 0
        self.retry_after: str | None = "1"
        self.bodies: list[bytes] = []

    async def handle(self, request: Request) -> JSONResponse:
        self.bodies.append(await request.body())
        if self.limited > 0:
            self.limited -= 1
            headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
            return JSONResponse({"message": "API rate limit exceeded"}, status_code=429, headers=headers)
        return JSONResponse({"version": "3.12.0.1", "data": []})


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeApi, RunningServer]]:
    api = FakeApi()
    app = Starlette(routes=[Route("/{path:path}", api.handle, methods=["GET", "POST"])])
    server = start_in_thread(app)
    yield api, server
    server.stop()


def _client(
    url: str, policy: RetryPolicy, slept: list[float], counter: CallCounter, kind: str = "admin"
) -> httpx.Client:
    transport = PoliteTransport(kind, policy=policy, sleep=slept.append, counter=counter)
    return httpx.Client(base_url=url, transport=transport)


def test_a_429_with_retry_after_is_waited_out_and_retried(fake: tuple[FakeApi, RunningServer]) -> None:
    api, server = fake
    api.limited, api.retry_after, api.bodies = 2, "3", []
    slept: list[float] = []
    counter = CallCounter()
    with _client(server.url, RetryPolicy(), slept, counter) as http:
        resp = http.post("/services", json={"name": "kf"})
    assert resp.status_code == 200
    assert slept == [3.0, 3.0]
    assert api.bodies == [b'{"name":"kf"}'] * 3  # the same request body each time
    assert counter.summary() == {"total": 3, "by_api": {"admin": 3}, "rate_limited": 2}


def test_without_retry_after_the_backoff_doubles(fake: tuple[FakeApi, RunningServer]) -> None:
    api, server = fake
    api.limited, api.retry_after = 3, None
    slept: list[float] = []
    with _client(server.url, RetryPolicy(base_delay=0.5), slept, CallCounter()) as http:
        assert http.get("/").status_code == 200
    assert slept == [0.5, 1.0, 2.0]


def test_it_gives_up_after_max_attempts_with_one_clear_line(fake: tuple[FakeApi, RunningServer]) -> None:
    api, server = fake
    api.limited, api.retry_after = 10, "1"
    slept: list[float] = []
    counter = CallCounter()
    http = _client(server.url, RetryPolicy(max_attempts=3), slept, counter)
    with http, pytest.raises(RateLimited) as info:
        http.get("/v2/control-planes?secret=hidden")
    message = str(info.value)
    assert "\n" not in message and "hidden" not in message
    assert "GET " in message and "still 429 Too Many Requests after 3 attempt(s)" in message
    assert "KF_RETRY_MAX_ATTEMPTS=3" in message
    assert slept == [1.0, 1.0] and counter.calls["admin"] == 3
    api.limited = 0


def test_it_gives_up_rather_than_wait_beyond_max_wait(fake: tuple[FakeApi, RunningServer]) -> None:
    api, server = fake
    api.limited, api.retry_after = 1, "120"
    slept: list[float] = []
    http = _client(server.url, RetryPolicy(max_wait=60), slept, CallCounter())
    with http, pytest.raises(RateLimited, match="Retry-After 120.*KF_RETRY_MAX_WAIT=60"):
        http.get("/")
    assert slept == []
    api.limited = 0


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after("7") == 7.0
    assert retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert retry_after("soon") is None and retry_after(None) is None


def test_the_policy_comes_from_settings_and_refuses_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KF_RETRY_MAX_WAIT", "12.5")
    policy = RetryPolicy.from_settings({"KF_RETRY_MAX_ATTEMPTS": "2"})
    assert (policy.max_attempts, policy.max_wait) == (2, 12.5)
    with pytest.raises(ValueError, match="^KF_RETRY_MAX_ATTEMPTS: must be a whole number"):
        RetryPolicy.from_settings({"KF_RETRY_MAX_ATTEMPTS": "0"})
    with pytest.raises(ValueError, match="^KF_RETRY_MAX_WAIT: must be a number of seconds"):
        RetryPolicy.from_settings({"KF_RETRY_MAX_WAIT": "-1"})


def test_the_management_and_admin_clients_are_polite_by_default(fake: tuple[FakeApi, RunningServer]) -> None:
    """IdentityApi and KongAdmin built without an http client count their calls (and so retry 429)."""
    from kongformance.clients.polite import API_CALLS

    api, server = fake
    api.limited = 0
    before = API_CALLS.snapshot()["calls"]
    admin = KongAdmin(server.url)
    identity = IdentityApi(server.url + "/v1", "kpat_x")
    try:
        assert admin.info()["version"] == "3.12.0.1"
        identity.call("GET", "/auth-servers")
    finally:
        admin.close()
        identity.close()
    after = API_CALLS.snapshot()["calls"]
    assert after.get("admin", 0) - before.get("admin", 0) == 1
    assert after.get("identity", 0) - before.get("identity", 0) == 1
    assert isinstance(admin.http._transport, PoliteTransport)


WORKER_CALLS = """
import pytest

@pytest.mark.requirement("GUARD-unauthenticated-rejected")
def test_asks_the_issuer(issuer):
    assert issuer.discovery(fresh=True)["issuer"]
"""


def test_api_calls_of_set_up_and_workers_are_counted_in_the_run_facts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """issue 9 Deliver 7: the controller's set-up calls and each worker's calls add up in the coverage JSON:
    the same run counts the same calls serially and under xdist (where the test's calls are a worker's)."""
    import json
    from pathlib import Path

    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    pytester.makeconftest('pytest_plugins = ["fixtures.session"]')
    pytester.mkdir("suites")
    (pytester.path / "suites" / "test_x.py").write_text(WORKER_CALLS)
    counted = []
    for name, workers in (("serial", []), ("xdist", ["-n", "1"])):
        out = pytester.path / name
        result = pytester.runpytest_subprocess(
            "suites", "--kf-target", "local", "--kf-reports", str(out), "-p", "no:cacheprovider", *workers
        )
        assert result.ret == pytest.ExitCode.OK, result.stdout.str()
        calls = json.loads((out / "requirements-coverage.json").read_text())["run"]["api_calls"]
        result.stdout.fnmatch_lines(
            [f"*API calls this run: {calls['total']} (admin *, identity *, issuer *)*"]
        )
        counted.append(calls)
    serial, xdist = counted
    assert serial["by_api"]["identity"] > 0 and serial["by_api"]["admin"] > 0  # profile set-up and teardown
    assert serial["by_api"]["issuer"] >= 1  # the test's discovery request
    assert xdist == serial


@pytest.mark.parametrize(
    ("status", "body", "relayed"),
    [
        (401, b'{"status": 429, "title": "Too Many Requests", "detail": "API rate limit exceeded"}', True),
        (502, b'{"status": 429, "detail": "API rate limit exceeded"}', True),
        (429, b"", True),
        (401, b'{"error": "invalid_token", "error_description": "The access token is invalid"}', False),
        (401, b"429 Too Many Requests", False),  # not the IdP's JSON answer
        (403, b'{"status": 429}', False),  # a 403 is the gateway's own verdict
        (200, b'{"status": 429}', False),
    ],
)
def test_a_gateway_refusal_is_retried_only_when_it_relays_the_idps_429(
    status: int, body: bytes, relayed: bool
) -> None:
    response = httpx.Response(status, content=body)
    assert relays_rate_limit(response) is relayed


def test_the_proxy_asks_again_when_the_gateway_relays_the_idps_429() -> None:
    answers = [httpx.Response(401, json={"status": 429, "detail": "API rate limit exceeded"})] * 2
    answers.append(httpx.Response(200, json={"ok": True}))
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answers[len(sent) - 1]

    slept: list[float] = []
    counter = CallCounter()
    transport = PoliteTransport(
        "proxy",
        inner=httpx.MockTransport(handler),
        policy=RetryPolicy(),
        sleep=slept.append,
        counter=counter,
        limited=relays_rate_limit,
    )
    with httpx.Client(transport=transport) as http:
        resp = http.get("http://gateway.invalid/kf/route")
    assert resp.status_code == 200
    assert len(sent) == 3
    assert slept == [0.5, 1.0]  # no Retry-After passes through the gateway: exponential backoff
    assert counter.summary() == {"total": 3, "by_api": {"proxy": 3}, "rate_limited": 2}
