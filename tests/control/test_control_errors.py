"""Error shapes of the shared control endpoints: Konnect's problem+json (https://developer.konghq.com/api/konnect/kong-identity/v1/), the same on
the issuer emulator and the gateway; unknown control paths and wrong methods too (common rules)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from tests.control.conftest import Surface

SPEC = resources.files("kongformance").joinpath("reference/konnect-openapi/kong-identity-v1.yaml")


@pytest.fixture(scope="module")
def bad_request_schema() -> dict[str, Any]:
    """Konnect's ``BadRequestError`` schema, with the document's components for ``$ref`` resolution."""
    components = yaml.safe_load(SPEC.read_text())["components"]
    return {"$ref": "#/components/schemas/BadRequestError", "components": components}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/clock/rewind", None),
        ("POST", "/clock", {"action": "advance"}),
        ("POST", "/clock/advance", {"seconds": -5}),
        ("POST", "/clock/reset", {"at": 1}),
        ("PUT", "/defects", {"enabled": ["nope"]}),
        ("PUT", "/defects", {"enabled": "x"}),
    ],
)
def test_bad_input_answers_konnects_bad_request_error(
    http: httpx.Client,
    surface: Surface,
    bad_request_schema: dict[str, Any],
    method: str,
    path: str,
    body: Any,
) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/: 400s carry status, title, instance, detail and schema-valid invalid_parameters."""
    response = http.request(method, surface.control + path, json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    jsonschema.validate(response.json(), bad_request_schema)
    assert response.json()["instance"].startswith("kong:trace:")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nothing-here", 404),
        ("DELETE", "/clock", 405),
        ("GET", "/clock/freeze", 405),
        ("POST", "/defects", 405),
    ],
)
def test_unknown_paths_and_methods_are_problem_json(
    http: httpx.Client, surface: Surface, method: str, path: str, status: int
) -> None:
    """common rules: routing errors under /_emulator are problem+json on every emulator, never Kong's format."""
    response = http.request(method, surface.control + path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status
