"""OAuth error responses of the issuer endpoints (RFC 6749 section 5.2, RFC 6750 section 3, RFC 7009 2.2.1).

Handlers raise :class:`OAuthError`; the issuer renders it as ``{"error", "error_description"}`` JSON with
``Cache-Control: no-store``. Kong Identity's exact bodies are not public (https://developer.konghq.com/identity/auth-servers/, inferred).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """An OAuth error answer: code, description, HTTP status and extra headers."""

    def __init__(
        self, error: str, description: str, status: int = 400, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}

    def response(self) -> Response:
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers={**NO_STORE, **self.headers})


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def bearer_challenge(error: str | None = None, description: str | None = None) -> str:
    """A ``WWW-Authenticate: Bearer`` challenge (RFC 6750 3); no error attribute when no token was sent."""
    parts = []
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append(f'error_description="{description}"')
    return "Bearer" + (" " + ", ".join(parts) if parts else "")


_HTTP_ERRORS = {404: "not_found", 405: "method_not_allowed"}


async def http_error_as_oauth(request: Request, exc: Exception) -> Response:
    """Routing errors on issuer paths (unknown path, wrong method) as OAuth-style JSON instead of plain text."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal error"
    body = {"error": _HTTP_ERRORS.get(status, "invalid_request"), "error_description": detail}
    return JSONResponse(body, status_code=status, headers=headers)
