"""The shared virtual-clock endpoints (docs/identity-control-api.md "Virtual clock"; issue 2 "Test control
surface": freeze, advance). Every test runs against the bare module, the issuer emulator and the gateway."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.control.conftest import Surface


def _post(http: httpx.Client, surface: Surface, form: str, action: str, **fields: float) -> httpx.Response:
    """``POST /clock/{action}`` (path form) or ``POST /clock {"action"}`` (body form)."""
    if form == "path":
        return http.post(f"{surface.control}/clock/{action}", json=fields or None)
    return http.post(f"{surface.control}/clock", json={"action": action, **fields})


def test_reports_now_frozen_and_offset(http: httpx.Client, surface: Surface) -> None:
    """docs/identity-control-api.md: GET /clock answers {"now", "frozen", "offset"} of the emulator's Clock."""
    surface.clock.freeze(1_234_567.5)
    assert http.get(f"{surface.control}/clock").json() == {"now": 1_234_567.5, "frozen": True, "offset": 0.0}


@pytest.mark.parametrize("form", ["path", "body"])
def test_accepts_every_action_in_both_forms(http: httpx.Client, surface: Surface, form: str) -> None:
    """docs/identity-control-api.md: freeze, advance, resume and reset work as /clock/{action} and as /clock
    with the action in the body; each answers the new state and moves the emulator's own Clock."""
    state = _post(http, surface, form, "freeze", at=1_900_000_000).json()
    assert state == {"now": 1_900_000_000, "frozen": True, "offset": 0.0}
    state = _post(http, surface, form, "advance", seconds=61.5).json()
    assert state["now"] == 1_900_000_061.5 and surface.clock.now() == 1_900_000_061.5
    state = _post(http, surface, form, "resume").json()
    assert state["frozen"] is False and surface.clock.state().frozen is False
    assert state["now"] >= 1_900_000_061.5 and state["offset"] > 0  # runs on from the frozen (future) instant
    state = _post(http, surface, form, "reset").json()
    assert state["frozen"] is False and state["offset"] == 0.0 and surface.clock.state().offset == 0.0


@pytest.mark.parametrize("form", ["path", "body"])
def test_freeze_without_an_instant_stops_at_the_current_virtual_time(
    http: httpx.Client, surface: Surface, form: str
) -> None:
    """docs/identity-control-api.md: freeze's "at" is optional (default: current virtual time)."""
    surface.clock.advance(3600)
    before = surface.clock.now()
    state = _post(http, surface, form, "freeze").json()
    assert state["frozen"] is True and before <= state["now"] <= before + 60


def test_advances_a_running_clock_through_the_offset(http: httpx.Client, surface: Surface) -> None:
    """docs/identity-control-api.md: advance moves the clock forward whether frozen or not."""
    state = http.post(f"{surface.control}/clock/advance", json={"seconds": 7200}).json()
    assert state["frozen"] is False and state["offset"] == 7200.0


def test_accepts_a_body_action_equal_to_the_path_action(http: httpx.Client, surface: Surface) -> None:
    """docs/identity-control-api.md: the two forms may be combined when they agree."""
    response = http.post(f"{surface.control}/clock/freeze", json={"action": "freeze", "at": 5})
    assert response.status_code == 200 and response.json()["now"] == 5


def _assert_bad(response: httpx.Response, field: str, rule: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == 400
    assert [(p["field"], p.get("rule")) for p in body["invalid_parameters"]] == [(field, rule)]
    return body


@pytest.mark.parametrize(
    ("form", "action", "source"),
    [("path", "rewind", "path"), ("body", "rewind", "body"), ("body", 3, "body")],
)
def test_rejects_an_unknown_action_listing_the_choices(
    http: httpx.Client, surface: Surface, form: str, action: object, source: str
) -> None:
    """common rules: bad control input is 400 problem+json; the entry names the allowed actions."""
    if form == "path":
        response = http.post(f"{surface.control}/clock/{action}")
    else:
        response = http.post(f"{surface.control}/clock", json={"action": action})
    entry = _assert_bad(response, "action", "enum")["invalid_parameters"][0]
    assert entry["choices"] == ["freeze", "advance", "resume", "reset"] and entry["source"] == source


def test_rejects_the_body_form_without_an_action(http: httpx.Client, surface: Surface) -> None:
    """common rules: POST /clock needs "action" in its body."""
    _assert_bad(http.post(f"{surface.control}/clock", json={"seconds": 5}), "action", "required")


def test_rejects_a_body_action_that_contradicts_the_path(http: httpx.Client, surface: Surface) -> None:
    """common rules: /clock/reset with {"action": "freeze"} is ambiguous, so refused; the clock is untouched."""
    surface.clock.freeze(100)
    response = http.post(f"{surface.control}/clock/reset", json={"action": "freeze"})
    _assert_bad(response, "action", "invalid")
    assert surface.clock.now() == 100


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({}, "required"),
        ({"seconds": None}, "required"),
        ({"seconds": -1}, "min"),
        ({"seconds": "5"}, "is_number"),
        ({"seconds": True}, "is_number"),
        ({"seconds": [5]}, "is_number"),
        ({"seconds": 10**400}, "is_number"),
    ],
)
@pytest.mark.parametrize("form", ["path", "body"])
def test_rejects_advance_without_a_finite_non_negative_number(
    http: httpx.Client, surface: Surface, form: str, body: dict[str, Any], rule: str
) -> None:
    """common rules and docs/identity-control-api.md: advance needs "seconds" >= 0; the clock stays put."""
    surface.clock.freeze(1000)
    url = f"{surface.control}/clock/advance" if form == "path" else f"{surface.control}/clock"
    payload = body if form == "path" else {"action": "advance", **body}
    _assert_bad(http.post(url, json=payload), "seconds", rule)
    assert surface.clock.now() == 1000


@pytest.mark.parametrize("raw", ['{"seconds": NaN}', '{"seconds": Infinity}', '{"seconds": 1e999}'])
def test_rejects_non_finite_seconds(http: httpx.Client, surface: Surface, raw: str) -> None:
    """common rules: NaN and infinities are not numbers a clock can move by."""
    response = http.post(f"{surface.control}/clock/advance", content=raw)
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("at", ["soon", False, {"t": 1}])
def test_rejects_a_freeze_instant_that_is_not_a_number(
    http: httpx.Client, surface: Surface, at: object
) -> None:
    """common rules: freeze's "at" must be epoch seconds."""
    _assert_bad(http.post(f"{surface.control}/clock/freeze", json={"at": at}), "at", "is_number")
    assert surface.clock.state().frozen is False


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("advance", {"seconds": 1, "second": 1}, "second"),
        ("reset", {"at": 5}, "at"),
        ("freeze", {"seconds": 5}, "seconds"),
    ],
)
def test_rejects_fields_the_action_does_not_take(
    http: httpx.Client, surface: Surface, action: str, body: dict[str, Any], field: str
) -> None:
    """common rules: a misspelt or misplaced field is refused rather than silently ignored."""
    _assert_bad(http.post(f"{surface.control}/clock/{action}", json=body), field, "unknown_property")


@pytest.mark.parametrize(("raw", "rule"), [("{", "invalid"), ("[1]", "is_object"), ('"x"', "is_object")])
def test_rejects_a_body_that_is_not_a_json_object(
    http: httpx.Client, surface: Surface, raw: str, rule: str
) -> None:
    """common rules: malformed JSON is 400 problem+json, never a 500."""
    _assert_bad(http.post(f"{surface.control}/clock/reset", content=raw), "body", rule)
