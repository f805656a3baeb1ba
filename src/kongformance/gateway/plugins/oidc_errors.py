"""openid-connect's failure outcomes and the responses Kong sends for them (https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow).

Verification and authorization code raises :class:`AuthFailure`; the plugin turns it into an :class:`Exit`
with :func:`failure_response` (or falls back to the anonymous consumer first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kongformance.defects import DefectSwitches
from kongformance.gateway.plugins import oidc_defects as dx
from kongformance.gateway.plugins.base import Exit

UNEXPECTED_MESSAGE = "An unexpected error occurred"


@dataclass
class AuthFailure(Exception):
    """An authentication (401) or authorization (403) failure, with the reason Kong would log."""

    status: int  # 401 or 403
    reason: str  # internal reason, shown only with display_errors
    description: str | None = None  # error_description sent in WWW-Authenticate
    token_sent: bool = True

    def __str__(self) -> str:
        return f"{self.status} {self.reason}"


def unauthorized(reason: str, *, description: str | None = None, token_sent: bool = True) -> AuthFailure:
    return AuthFailure(401, reason, description, token_sent)


def forbidden(reason: str) -> AuthFailure:
    return AuthFailure(403, reason)


class UnexpectedError(Exception):
    """Kong's ``unexpected(...)``: a 500 ``An unexpected error occurred`` (e.g. discovery cannot be loaded)."""


def realm_of(issuer: str | None) -> str:
    """The host of the issuer URL without port or scheme, or ``kong`` when it cannot be parsed."""
    if not issuer:
        return "kong"
    try:
        host = urlsplit(issuer).hostname
    except ValueError:
        return "kong"
    return host or "kong"


def www_authenticate(realm: str, error: str | None, description: str | None) -> str:
    """``Bearer realm="..."[, error="..."][, error_description="..."]``: error fields always last."""
    fields = [f'realm="{realm}"']
    if error:
        fields.append(f'error="{error}"')
        if description:
            fields.append(f'error_description="{description}"')
    return "Bearer " + ", ".join(fields)


def failure_response(
    failure: AuthFailure, config: Mapping[str, Any], realm: str, defects: DefectSwitches
) -> Exit:
    """The 401/403 (or redirect) Kong answers for ``failure``."""
    status = failure.status
    redirect_key = "unauthorized_redirect_uri" if status == 401 else "forbidden_redirect_uri"
    redirect = config.get(redirect_key)
    if redirect:
        return Exit(302, None, {"Location": redirect[0]})
    if status == 401:
        message = config.get("unauthorized_error_message") or "Unauthorized"
        error = "invalid_token"
        if not failure.token_sent and defects.on(dx.NO_ERROR_CODE_WITHOUT_TOKEN):
            error = ""
    else:
        message = config.get("forbidden_error_message") or "Forbidden"
        error = "insufficient_scope"
    if config.get("display_errors"):
        message = f"{message} ({failure.reason})"
    if not config.get("expose_error_code", True):
        error = ""
    headers = {"WWW-Authenticate": www_authenticate(realm, error or None, failure.description)}
    if defects.on(dx.DROP_WWW_AUTHENTICATE):
        headers = {}
    return Exit(status, {"message": message}, headers)


def unexpected_response(config: Mapping[str, Any], detail: str) -> Exit:
    """Kong's 500 for errors it did not expect (discovery failure, missing anonymous consumer)."""
    redirect = config.get("unexpected_redirect_uri")
    if redirect:
        return Exit(302, None, {"Location": redirect[0]})
    message = UNEXPECTED_MESSAGE
    if config.get("display_errors"):
        message = f"{message} ({detail})"
    return Exit(500, {"message": message})
