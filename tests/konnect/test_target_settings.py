"""The konnect target's API base URL is a setting (KONNECT_API_URL), defaulting to the region's production URL."""

from __future__ import annotations

import pytest

from kongformance.targets import Stack, TargetOptions, TargetUnavailable
from kongformance.targets.konnect import KonnectTarget, api_url

CP = "9524ec7d-36d9-465d-a8c5-83a3c9390458"
BASE = {
    "KONNECT_TOKEN": "kpat_x1",
    "KONNECT_CONTROL_PLANE_ID": CP,
    "KONNECT_PROXY_URL": "http://127.0.0.1:8000",
}


def start(settings: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Stack:
    for key in ("KONNECT_API_URL", "KONNECT_REGION", *BASE):
        monkeypatch.delenv(key, raising=False)
    return KonnectTarget(TargetOptions(settings=settings)).start()


def test_the_default_api_url_is_the_regions_production_url(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = start({**BASE, "KONNECT_REGION": "eu"}, monkeypatch)
    assert stack.identity_url == "https://eu.api.konghq.com"
    assert stack.admin_url == f"https://eu.api.konghq.com/v2/control-planes/{CP}/core-entities"


def test_konnect_api_url_replaces_the_base_and_needs_no_region(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = start({**BASE, "KONNECT_API_URL": "http://127.0.0.1:8400/"}, monkeypatch)
    assert stack.identity_url == "http://127.0.0.1:8400"
    assert stack.management_url == "http://127.0.0.1:8400/v1"
    assert stack.admin_url == f"http://127.0.0.1:8400/v2/control-planes/{CP}/core-entities"
    assert stack.admin_headers == {"Authorization": "Bearer kpat_x1"}


@pytest.mark.parametrize("bad", ["127.0.0.1:8400", "ftp://konnect.test"])
def test_an_api_url_that_is_not_http_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    with pytest.raises(TargetUnavailable, match="KONNECT_API_URL must be an http"):
        start({**BASE, "KONNECT_API_URL": bad}, monkeypatch)


def test_without_an_api_url_the_region_is_still_required(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TargetUnavailable, match="KONNECT_REGION"):
        start(dict(BASE), monkeypatch)


def test_api_url_helper() -> None:
    assert api_url("us") == "https://us.api.konghq.com"
    assert api_url("us", "http://h:1/") == "http://h:1"
