"""What the OAuth plugins read from, and write to, the downstream request.

Shared by oauth2-introspection and the OSS oauth2 plugin: Kong's ``access_token``/parameter lookup over the
query string and the body (form, JSON, multipart), the ``bearer``/``token`` Authorization scheme, the
``X-Consumer-*`` headers, and the anonymous-consumer error (https://developer.konghq.com/gateway/authentication/ and https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, urlencode

from kongformance.gateway.plugins.base import Exit, Headers, ProxyRequest, RequestContext

CONSUMER_ID = "X-Consumer-ID"
CONSUMER_CUSTOM_ID = "X-Consumer-Custom-ID"
CONSUMER_USERNAME = "X-Consumer-Username"
CREDENTIAL_IDENTIFIER = "X-Credential-Identifier"
ANONYMOUS = "X-Anonymous-Consumer"


class NonObjectJsonBody(ValueError):
    """A JSON request body that decodes to something other than an object."""


def _collect(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Pairs to a dict the way ngx does it: a repeated name becomes a list of its values."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            prior = out[name]
            out[name] = [*prior, value] if isinstance(prior, list) else [prior, value]
        else:
            out[name] = value
    return out


def form_arguments(request: ProxyRequest) -> dict[str, Any]:
    """The body's form arguments (ngx ``get_post_args``): empty unless the body is url-encoded."""
    content_type = (request.headers.get("content-type") or "").lower()
    if "application/x-www-form-urlencoded" not in content_type:
        return {}
    text = request.body.decode("utf-8", errors="replace")
    return _collect(parse_qsl(text, keep_blank_values=True))


def _multipart_arguments(request: ProxyRequest, content_type: str) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    if not message.is_multipart():
        return {}
    pairs: list[tuple[str, str]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        pairs.append((name, payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""))
    return _collect(pairs)


def body_arguments(request: ProxyRequest, *, strict_json: bool) -> dict[str, Any]:
    """Arguments of the body by Content-Type: multipart, JSON, else url-encoded form.

    Undecodable JSON counts as no arguments. A JSON value that is not an object raises
    :class:`NonObjectJsonBody` when ``strict_json`` (oauth2-introspection), else counts as no arguments.
    """
    content_type = request.headers.get("content-type") or ""
    low = content_type.lower()
    if "multipart/form-data" in low:
        return _multipart_arguments(request, content_type)
    if "application/json" in low:
        try:
            decoded = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return {}
        if isinstance(decoded, dict):
            return decoded
        if strict_json and request.body.strip():
            raise NonObjectJsonBody(type(decoded).__name__)
        return {}
    return form_arguments(request)


def query_arguments(request: ProxyRequest) -> dict[str, Any]:
    return _collect(list(request.query))


def request_parameters(
    request: ProxyRequest, *, with_body: bool, strict_json: bool = False
) -> dict[str, Any]:
    """Query arguments merged with body arguments (the body wins on a clash), as Kong's OAuth plugins read them."""
    params = query_arguments(request)
    if with_body:
        params.update(body_arguments(request, strict_json=strict_json))
    return params


def scheme_token(value: str) -> str | None:
    """The token of an ``Authorization``-style value ``bearer <t>`` or ``token <t>`` (exactly two parts)."""
    parts = value.split()
    if len(parts) == 2 and parts[0].lower() in ("bearer", "token"):
        return parts[1]
    return None


def drop_query_and_form_argument(request: ProxyRequest, name: str, *, form_only: bool) -> None:
    """Remove ``name`` from the query and, for non-GET requests, re-encode the form body without it.

    With ``form_only`` the body is rewritten only when it is url-encoded (OSS oauth2); without it the body is
    always replaced by the re-encoded form arguments (oauth2-introspection's ``set_body_data``).
    """
    request.query_remove(name)
    if request.method == "GET":
        return
    content_type = (request.headers.get("content-type") or "").lower()
    if form_only and "application/x-www-form-urlencoded" not in content_type:
        return
    args = form_arguments(request)
    args.pop(name, None)
    pairs: list[tuple[str, str]] = []
    for key, value in args.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    request.body = urlencode(pairs).encode()
    if "content-length" in request.headers:
        request.headers.set("Content-Length", str(len(request.body)))


def set_or_clear(headers: Headers, name: str, value: Any) -> None:
    """Kong's ``set_header``: a None value clears the header, a list sets one header per element."""
    if value is None:
        headers.remove(name)
        return
    if isinstance(value, list):
        headers.remove(name)
        for item in value:
            headers.add(name, header_text(item))
        return
    headers.set(name, header_text(value))


def header_text(value: Any) -> str:
    """A JSON value as Kong would write it into a header (Lua ``tostring``; objects as JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def set_consumer_headers(headers: Headers, consumer: Mapping[str, Any] | None) -> None:
    """X-Consumer-ID, X-Consumer-Custom-ID and X-Consumer-Username of ``consumer`` (cleared when absent)."""
    consumer = consumer or {}
    set_or_clear(headers, CONSUMER_ID, consumer.get("id"))
    set_or_clear(headers, CONSUMER_CUSTOM_ID, consumer.get("custom_id"))
    set_or_clear(headers, CONSUMER_USERNAME, consumer.get("username"))


def kong_error(ctx: RequestContext, kong_version: tuple[int, int], status: int, message: str) -> Exit:
    """A response of Kong's own error handler (``ngx.exit(status)``, a Lua error): ``{"message"}``, plus
    ``request_id`` from 3.6 when the proxy put one in ``ctx.shared["request_id"]``."""
    body: dict[str, Any] = {"message": message}
    request_id = ctx.shared.get("request_id")
    if kong_version >= (3, 6) and request_id:
        body["request_id"] = request_id
    return Exit(status, body)


def missing_anonymous(name: str) -> Exit:
    """The 500 Kong answers when ``config.anonymous`` names no consumer (https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua)."""
    return Exit(500, {"message": f"anonymous consumer {name} is configured but doesn't exist"})
