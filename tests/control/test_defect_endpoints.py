"""The shared defect-switch endpoints (docs/identity-control-api.md "Defects"; defects.py: named departures,
off unless asked for, switched through the control API)."""

from __future__ import annotations

import httpx
import pytest
from tests.control.conftest import SAMPLE_DEFECTS, Surface


def test_lists_the_whole_catalogue_with_each_switch_state(http: httpx.Client, surface: Surface) -> None:
    """docs/identity-control-api.md: GET /defects gives the enabled names and every defect of the catalogue."""
    name = next(iter(surface.defects.catalogue))
    surface.defects.enable(name)
    body = http.get(f"{surface.control}/defects").json()
    assert body["enabled"] == [name]
    assert [d["name"] for d in body["catalogue"]] == list(surface.defects.catalogue)
    first = body["catalogue"][0]
    defect = surface.defects.catalogue[name]
    assert first == {
        "name": defect.name,
        "component": defect.component,
        "summary": defect.summary,
        "departs_from": defect.departs_from,
        "enabled": True,
    }
    assert not any(d["enabled"] for d in body["catalogue"][1:])


def test_put_replaces_the_enabled_set(http: httpx.Client, surface: Surface) -> None:
    """docs/identity-control-api.md: PUT {"enabled": [...]} switches on exactly the listed defects."""
    first, second = list(surface.defects.catalogue)[:2]
    surface.defects.enable(first)
    body = http.put(f"{surface.control}/defects", json={"enabled": [second]}).json()
    assert body["enabled"] == [second] and surface.defects.enabled() == [second]
    assert http.put(f"{surface.control}/defects", json={"enabled": []}).json()["enabled"] == []
    assert surface.defects.enabled() == []


def test_put_calls_the_change_callback_after_switching(http: httpx.Client, bare: Surface) -> None:
    """h13 brief: the on-change callback (the gateway rebuilds its plugins) sees the new set, once per PUT."""
    http.put(f"{bare.control}/defects", json={"enabled": ["drop_headers", "accept_everything"]})
    http.put(f"{bare.control}/defects", json={"enabled": []})
    assert bare.changes == [["accept_everything", "drop_headers"], []]


def test_gateway_rebuilds_its_plugins_when_defects_change(
    http: httpx.Client, surfaces: dict[str, Surface]
) -> None:
    """https://developer.konghq.com/gateway/authentication/ (defects as data): a switched defect takes effect at once (the runtime's compiled
    snapshot of routes and plugins is rebuilt), with no config change."""
    surface = surfaces["gateway"]
    assert surface.gateway is not None
    runtime = surface.gateway.runtime
    name = next(iter(surface.defects.catalogue))
    before = runtime.snapshot
    try:
        response = http.put(f"{surface.control}/defects", json={"enabled": [name]})
        assert response.status_code == 200 and surface.defects.on(name)
        assert runtime.snapshot is not before
    finally:
        surface.defects.clear()
        runtime.rebuild()


def test_rejects_an_unknown_defect_and_keeps_the_current_set(http: httpx.Client, bare: Surface) -> None:
    """common rules: unknown names are 400 problem+json listing the choices; nothing changes, no callback."""
    bare.defects.enable("drop_headers")
    response = http.put(f"{bare.control}/defects", json={"enabled": ["accept_everything", "nope"]})
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    (entry,) = response.json()["invalid_parameters"]
    assert entry["field"] == "enabled" and entry["rule"] == "enum" and "'nope'" in entry["reason"]
    assert entry["choices"] == sorted(SAMPLE_DEFECTS)
    assert bare.defects.enabled() == ["drop_headers"] and bare.changes == []


@pytest.mark.parametrize(
    ("raw", "field", "rule"),
    [
        ("", "body", "required"),
        ("{", "body", "invalid"),
        ("[]", "body", "is_object"),
        ("{}", "enabled", "is_array"),
        ('{"enabled": "drop_headers"}', "enabled", "is_array"),
        ('{"enabled": [1]}', "enabled", "is_array"),
    ],
)
def test_rejects_a_malformed_put(
    http: httpx.Client, surface: Surface, raw: str, field: str, rule: str
) -> None:
    """common rules: bad input to the control API gives 400 problem+json naming the parameter."""
    response = http.put(f"{surface.control}/defects", content=raw)
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert [(p["field"], p["rule"]) for p in response.json()["invalid_parameters"]] == [(field, rule)]
