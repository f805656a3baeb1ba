"""Where openid-connect finds a bearer token, and how ``hide_credentials`` removes it (https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants and https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from kongformance.gateway.plugins.base import ProxyRequest

TOKEN_FIELD = "access_token"
TOKEN_HEADERS = ("access-token", "x-access-token")
_AUTHORIZATION = re.compile(r"^\s*(\S+)\s+(\S.*?)\s*$", re.DOTALL)


@dataclass(frozen=True)
class BearerCredential:
    """A bearer token and where the client sent it."""

    token: str
    location: str  # "header", "query", "form", "json" or "cookie"
    name: str  # header, parameter or cookie name


def _scheme_token(value: str) -> tuple[str, str] | None:
    match = _AUTHORIZATION.match(value)
    if not match:
        return None
    return match.group(1).lower(), match.group(2)


def _from_header(
    request: ProxyRequest, config: Mapping[str, Any], *, token_headers: bool = True
) -> BearerCredential | None:
    custom = config.get("bearer_token_header_name")
    if custom:
        value = request.headers.get(custom)
        if not value or not value.strip():
            return None
        parsed = _scheme_token(value)
        token = parsed[1] if parsed and parsed[0] == "bearer" else value.strip()
        return BearerCredential(token, "header", custom)
    value = request.headers.get("authorization")
    if value:
        parsed = _scheme_token(value)
        if parsed and parsed[0] == "bearer":
            return BearerCredential(parsed[1], "header", "authorization")
    for name in TOKEN_HEADERS if token_headers else ():
        value = request.headers.get(name)
        if value:
            return BearerCredential(value, "header", name)
    return None


def _content_type(request: ProxyRequest) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def _from_body(request: ProxyRequest) -> BearerCredential | None:
    if not request.body:
        return None
    ctype = _content_type(request)
    if ctype == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return None
        value = next((v for k, v in pairs if k == TOKEN_FIELD), None)
        return BearerCredential(value, "form", TOKEN_FIELD) if value else None
    if ctype == "application/json" or ctype.endswith("+json"):
        try:
            body = json.loads(request.body)
        except ValueError:
            return None
        value = body.get(TOKEN_FIELD) if isinstance(body, dict) else None
        return BearerCredential(value, "json", TOKEN_FIELD) if isinstance(value, str) and value else None
    return None


def cookies_of(request: ProxyRequest) -> list[tuple[str, str]]:
    """The request's cookies in order (every Cookie header, ``name=value`` pairs)."""
    out: list[tuple[str, str]] = []
    for header in request.headers.get_all("cookie"):
        for part in header.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name:
                out.append((name, value))
    return out


def _from_cookie(request: ProxyRequest, config: Mapping[str, Any]) -> BearerCredential | None:
    name = config.get("bearer_token_cookie_name")
    if not name:
        return None
    value = next((v for k, v in cookies_of(request) if k == name), None)
    return BearerCredential(value, "cookie", name) if value else None


def find_bearer(
    request: ProxyRequest, config: Mapping[str, Any], *, token_headers: bool = True
) -> BearerCredential | None:
    """The first bearer token found in ``bearer_token_param_type`` order (``token_headers``: also the
    ``access-token`` and ``x-access-token`` headers after ``Authorization``)."""
    for where in config.get("bearer_token_param_type") or ["body", "header", "query"]:
        found: BearerCredential | None = None
        if where == "header":
            found = _from_header(request, config, token_headers=token_headers)
        elif where == "query":
            value = request.query_get(TOKEN_FIELD)
            found = BearerCredential(value, "query", TOKEN_FIELD) if value else None
        elif where == "body":
            found = _from_body(request)
        elif where == "cookie":
            found = _from_cookie(request, config)
        if found is not None:
            return found
    return None


def hide_credential(request: ProxyRequest, credential: BearerCredential, *, in_body: bool = True) -> None:
    """Remove the credential the client used from the upstream request (``in_body``: also from the body)."""
    if not in_body and credential.location in ("form", "json"):
        return
    if credential.location == "header":
        request.headers.remove(credential.name)
    elif credential.location == "query":
        request.query_remove(credential.name)
    elif credential.location == "form":
        pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
        request.body = urlencode([(k, v) for k, v in pairs if k != credential.name]).encode()
    elif credential.location == "json":
        body = json.loads(request.body)
        body.pop(credential.name, None)
        request.body = json.dumps(body, separators=(",", ":")).encode()
    elif credential.location == "cookie":
        kept = [(k, v) for k, v in cookies_of(request) if k != credential.name]
        request.headers.remove("cookie")
        if kept:
            request.headers.set("Cookie", "; ".join(f"{k}={v}" for k, v in kept))
    if credential.location in ("form", "json") and "content-length" in request.headers:
        request.headers.set("Content-Length", str(len(request.body)))
