"""Hide an emulator's ``/_emulator`` control surface, so a stack behaves as real Kong and Konnect do.

Real Kong, Konnect and a real upstream (httpbin) have no test-control endpoints: every ``/_emulator`` path
answers 404 there. Wrapping an emulator's ASGI app in :class:`HiddenControl` gives the same answer, in the
shape the real component uses, so the suite's real-target code paths (no virtual clock, no minting, no
upstream request log) can be rehearsed against our emulators.
"""

from __future__ import annotations

import json
from typing import Any, Literal

CONTROL_PREFIX = "/_emulator"

Role = Literal["identity", "admin", "proxy", "upstream"]

# What the real component answers for a path it does not serve.
_NOT_FOUND: dict[str, tuple[str, bytes]] = {
    # Kong's Admin API (kong/api/init.lua: "Not found")
    "admin": ("application/json; charset=utf-8", json.dumps({"message": "Not found"}).encode()),
    # Kong's proxy when no route matches (kong/runloop/handler.lua)
    "proxy": (
        "application/json; charset=utf-8",
        json.dumps({"message": "no Route matched with those values"}).encode(),
    ),
    # Konnect and Kong Identity answer problem+json
    "identity": (
        "application/problem+json",
        json.dumps({"status": 404, "title": "Not Found", "detail": "Not Found"}).encode(),
    ),
    "upstream": ("application/json", json.dumps({"message": "Not Found"}).encode()),
}


def is_control_path(path: str) -> bool:
    """Whether ``path`` belongs to the control surface."""
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


class HiddenControl:
    """ASGI middleware: ``/_emulator`` answers 404 as ``role`` would; everything else goes to ``app``."""

    def __init__(self, app: Any, role: Role) -> None:
        self.app = app
        self.role = role

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not is_control_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        content_type, body = _NOT_FOUND[self.role]
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def maybe_hidden(app: Any, role: Role, hide: bool) -> Any:
    """``app`` itself, or ``app`` with its control surface hidden."""
    return HiddenControl(app, role) if hide else app
