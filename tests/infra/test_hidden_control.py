"""A stack started with hide_control answers 404 on every /_emulator path, as real Kong and Konnect do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kongformance.stack import LocalStack, start_local_stack


@pytest.fixture(scope="module")
def hidden_stack() -> Iterator[LocalStack]:
    with start_local_stack(hide_control=True) as stack:
        yield stack


@pytest.mark.parametrize(
    ("role", "path", "body"),
    [
        ("admin", "/_emulator/clock", {"message": "Not found"}),
        ("proxy", "/_emulator/clock", {"message": "no Route matched with those values"}),
        ("upstream", "/_emulator/requests", {"message": "Not Found"}),
        ("identity", "/_emulator/clock", {"status": 404, "title": "Not Found", "detail": "Not Found"}),
    ],
)
def test_every_control_path_answers_404(
    hidden_stack: LocalStack, role: str, path: str, body: dict[str, Any]
) -> None:
    response = httpx.get(hidden_stack.urls()[role] + path, verify=False)
    assert response.status_code == 404
    assert response.json() == body


def test_the_rest_of_the_stack_still_answers(hidden_stack: LocalStack) -> None:
    assert httpx.get(hidden_stack.admin_url + "/").status_code == 200
    assert httpx.get(hidden_stack.upstream_url + "/anything").status_code == 200


def test_without_the_switch_the_control_surface_answers() -> None:
    with start_local_stack() as stack:
        assert httpx.get(stack.identity_url + "/_emulator/clock").status_code == 200
