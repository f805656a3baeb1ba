"""Target settings are checked up front, one line per problem (issue 9 Deliver 1 and 7)."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kongformance.serving import start_in_thread
from kongformance.targets.base import TargetOptions
from kongformance.targets.settings import (
    PROPAGATION_DEADLINE,
    SettingsError,
    check_required,
    propagation_deadline,
    reach_problem,
    url_problem,
)
from kongformance.targets.setup import RunSetup


def test_urls_must_be_absolute_http_urls_with_a_host() -> None:
    assert url_problem("KF_ADMIN_URL", "http://127.0.0.1:8001") is None
    assert "is not an http(s) URL" in str(url_problem("KF_ADMIN_URL", "127.0.0.1:8001"))
    assert "is not a valid URL" in str(url_problem("KF_ADMIN_URL", "http://h:99999999"))


def test_each_missing_or_invalid_setting_gets_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KF_A", raising=False)
    monkeypatch.setenv("KF_B", "ftp://x")
    problems = check_required({"KF_C": "http://ok"}, ["KF_A", "KF_C"], ["KF_B", "KF_C"])
    assert problems == [
        "KF_A: missing (set it in the environment or with --kf-set KF_A=...)",
        "KF_B: 'ftp://x' is not an http(s) URL with a host",
    ]


def test_the_propagation_deadline_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KF_PROPAGATION_DEADLINE", raising=False)
    assert propagation_deadline({}) == PROPAGATION_DEADLINE
    assert propagation_deadline({"KF_PROPAGATION_DEADLINE": "90"}) == 90.0
    with pytest.raises(SettingsError, match="^KF_PROPAGATION_DEADLINE: 'soon' is not a number of seconds$"):
        propagation_deadline({"KF_PROPAGATION_DEADLINE": "soon"})
    setup = RunSetup("local", TargetOptions(settings={"KF_PROPAGATION_DEADLINE": "7.5"}), "/tmp")
    assert setup.propagation_deadline == 7.5


def test_a_refused_token_is_named_with_a_hint() -> None:
    async def refuse(request: Request) -> JSONResponse:
        return JSONResponse({"message": "Unauthorized"}, status_code=401)

    server = start_in_thread(Starlette(routes=[Route("/v1/auth-servers", refuse)]))
    try:
        problem = reach_problem("KONNECT_TOKEN", server.url + "/v1/auth-servers", ok=(200,))
        assert reach_problem("KONNECT_PROXY_URL", server.url + "/anything") is None  # any answer will do
    finally:
        server.stop()
    assert problem is not None and problem.startswith("KONNECT_TOKEN: GET ")
    assert problem.endswith("answered 401 (token missing, invalid or expired?)")


def test_tox_passes_the_konnect_settings_to_the_run() -> None:
    """issue 9 Deliver 1: without KONNECT_* the konnect target cannot run under tox."""
    import configparser
    from pathlib import Path

    tox = configparser.ConfigParser(interpolation=None)
    tox.read(Path(__file__).resolve().parents[2] / "tox.ini")
    assert "KONNECT_*" in tox["testenv"]["passenv"].split()
    assert tox["testenv:run"]["passenv"].strip() == "{[testenv]passenv}"


def test_konnect_checks_its_control_plane_token_and_proxy_before_any_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An expired token (401), an unknown control plane (404) and a dead proxy: one line each."""
    import socket

    from kongformance.targets.konnect import KonnectTarget

    async def expired(request: Request) -> JSONResponse:
        return JSONResponse({"status": 401, "title": "Unauthorized"}, status_code=401)

    async def unknown(request: Request) -> JSONResponse:
        return JSONResponse({"status": 404, "title": "Not Found"}, status_code=404)

    routes = [Route("/v1/auth-servers", expired), Route("/v2/control-planes/{cp}", unknown)]
    server = start_in_thread(Starlette(routes=routes))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    settings = {
        "KONNECT_TOKEN": "kpat_expired",
        "KONNECT_REGION": "eu",
        "KONNECT_CONTROL_PLANE_ID": "no-such-cp",
        "KONNECT_PROXY_URL": dead,
    }
    target = KonnectTarget(TargetOptions(settings=settings))
    monkeypatch.setattr(target, "api_base", lambda: server.url)
    try:
        with pytest.raises(SettingsError) as info:
            target.check()
    finally:
        server.stop()
    lines = info.value.problems
    assert [line.split(":")[0] for line in lines] == [
        "KONNECT_CONTROL_PLANE_ID",
        "KONNECT_TOKEN",
        "KONNECT_PROXY_URL",
    ]
    assert lines[0].endswith("answered 404") and "token missing, invalid or expired" in lines[1]
    assert "unreachable" in lines[2] and all("kpat_expired" not in line for line in lines)


def test_konnect_api_url_replaces_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """With KONNECT_API_URL (a Konnect stand-in), KONNECT_REGION is not needed; a bad one is one line."""
    from kongformance.targets.konnect import KonnectTarget

    for key in ("KONNECT_REGION", "KONNECT_API_URL"):
        monkeypatch.delenv(key, raising=False)
    base = {
        "KONNECT_TOKEN": "spat_x",
        "KONNECT_CONTROL_PLANE_ID": "cp",
        "KONNECT_PROXY_URL": "http://127.0.0.1:9",
    }
    target = KonnectTarget(TargetOptions(settings={**base, "KONNECT_API_URL": "http://127.0.0.1:8400/"}))
    target.validate()
    assert target.api_base() == "http://127.0.0.1:8400"
    with pytest.raises(SettingsError) as info:
        KonnectTarget(TargetOptions(settings={**base, "KONNECT_API_URL": "ftp://x"})).validate()
    assert info.value.problems == ["KONNECT_API_URL must be an http(s) URL, got 'ftp://x'"]
