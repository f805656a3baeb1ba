"""Konnect-style ``application/problem+json`` errors of the management API (https://developer.konghq.com/api/konnect/kong-identity/v1/), also
used by the emulators' ``/_emulator`` control surfaces (:mod:`kongformance.emulator_control`).

Handlers raise :class:`Problem` (or one of the helpers' results); :func:`problem_response` renders it with
``status``, ``title``, ``type``, ``instance`` (``kong:trace:<n>``) and ``detail``, plus ``invalid_parameters``
on 400s, matching the document's ``BaseError`` / ``BadRequestError`` schemas.
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

from starlette.responses import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
}

InvalidParameter = dict[str, Any]
"""One ``invalid_parameters`` entry: ``field``, ``rule``, ``reason``, ``source`` and rule extras."""


class Problem(Exception):
    """An error answered with a problem+json body (management API or emulator control surface)."""

    def __init__(
        self, status: int, detail: str, invalid_parameters: list[InvalidParameter] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.invalid_parameters = invalid_parameters


def bad_request(invalid_parameters: list[InvalidParameter], detail: str = "Invalid Parameters") -> Problem:
    """A 400 listing what was wrong (the document requires at least one entry)."""
    return Problem(400, detail, invalid_parameters)


def invalid(
    field: str, rule: str | None, reason: str, source: str = "body", **extra: Any
) -> InvalidParameter:
    """Build one ``invalid_parameters`` entry."""
    entry: InvalidParameter = {"field": field, "reason": reason, "source": source}
    if rule is not None:
        entry["rule"] = rule
    entry.update(extra)
    return entry


class _TraceIds:
    """Monotonic correlation ids for ``instance``."""

    def __init__(self) -> None:
        self._counter = itertools.count(1_000_000_001)
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            return f"kong:trace:{next(self._counter)}"


_traces = _TraceIds()


def problem_body(
    status: int, detail: str, invalid_parameters: list[InvalidParameter] | None = None
) -> dict[str, Any]:
    """The problem+json document for ``status``."""
    body: dict[str, Any] = {
        "status": status,
        "title": TITLES.get(status, "Error"),
        "type": f"https://httpstatuses.com/{status}",
        "instance": _traces.next(),
        "detail": detail,
    }
    if status == 400:
        body["invalid_parameters"] = invalid_parameters or [
            invalid("body", "invalid", detail if detail else "is invalid")
        ]
    return body


def problem_response(problem: Problem) -> Response:
    """Render a :class:`Problem` as an HTTP response."""
    body = problem_body(problem.status, problem.detail, problem.invalid_parameters)
    headers = {"WWW-Authenticate": 'Bearer realm="konnect"'} if problem.status == 401 else None
    return Response(
        json.dumps(body), status_code=problem.status, media_type=PROBLEM_CONTENT_TYPE, headers=headers
    )
