"""Responses the gateway generates itself in Kong's error format (``kong.response.error`` and Kong's nginx
error handlers): the body type follows the client's ``Accept`` header (else its ``Content-Type``, else
``error_default_type`` = text/plain), and from 3.6 the body carries the request id."""

from __future__ import annotations

import json
from email.utils import formatdate

# Kong's standard messages for statuses its error handlers produce
MESSAGES = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    500: "An unexpected error occurred",
    502: "An invalid response was received from the upstream server",
    503: "The upstream server is currently unavailable",
    504: "The upstream server is timed out",
}

_TYPES = (
    ("application/json", "json"),
    ("text/html", "html"),
    ("application/xml", "xml"),
    ("text/xml", "xml"),
    ("text/plain", "plain"),
    ("*/*", "json"),
    ("application/*", "json"),
    ("text/*", "plain"),
)
_CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "plain": "text/plain; charset=utf-8",
}


def negotiate(accept: str | None, content_type: str | None, default: str = "text/plain") -> str:
    """The error body format for a request: json, html, xml or plain."""
    wanted = accept or content_type or default
    best, best_q = "json", -1.0
    for part in wanted.lower().split(","):
        fields = [f.strip() for f in part.split(";")]
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        kind = next((k for mime, k in _TYPES if fields[0] == mime), None)
        if kind is not None and q > best_q:
            best, best_q = kind, q
    return best


def error_body(fmt: str, message: str, request_id: str | None) -> tuple[bytes, str]:
    """(body, Content-Type) of a Kong-generated error in format ``fmt``."""
    if fmt == "json":
        doc = {"message": message} if request_id is None else {"message": message, "request_id": request_id}
        text = json.dumps(doc, indent=2, separators=(",", ":"))
    elif fmt == "html":
        rid = f"<p>request_id: {request_id}</p>\n" if request_id else ""
        text = (
            '<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n'
            f"<body>\n<h1>Error</h1>\n<p>{message}.</p>\n{rid}</body>\n</html>\n"
        )
    elif fmt == "xml":
        rid = f"<requestid>{request_id}</requestid>\n" if request_id else ""
        text = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<error>\n<message>{message}</message>\n{rid}</error>\n'
        )
    else:
        text = f"{message}\nrequest_id: {request_id}\n" if request_id else f"{message}\n"
    return text.encode(), _CONTENT_TYPES.get(fmt, _CONTENT_TYPES["json"])


def http_date(epoch: float) -> str:
    """``epoch`` as an IMF-fixdate (RFC 9110 5.6.7), the form nginx writes in ``Date``."""
    return formatdate(epoch, usegmt=True)


def exit_headers(
    headers: list[tuple[str, str]],
    *,
    body_length: int,
    server: str,
    now: float,
    latency_ms: int,
    request_id: str,
) -> list[tuple[str, str]]:
    """The headers of a response Kong generates itself (``kong.response.exit``, its error handlers).

    Kong's runloop ``header_filter`` (not proxied) sets ``X-Kong-Response-Latency`` and overrides ``Server``
    with ``kong/<version>`` unless the response carries ``Via: kong/<version>`` (a plugin's short-circuit,
    e.g. proxy-cache); ``X-Kong-Request-Id`` is added; nginx adds ``Date`` unless one was set. Defaults for
    Kong's ``headers`` setting (server_tokens, latency_tokens, X-Kong-Request-Id) are assumed.
    """
    via = next((v for k, v in headers if k.lower() == "via"), None)
    keep_server = via == server
    out = [
        (k, v)
        for k, v in headers
        if k.lower() not in ("content-length", "x-kong-response-latency", "x-kong-request-id")
        and (keep_server or k.lower() != "server")
    ]
    out.append(("Content-Length", str(body_length)))
    if not keep_server:
        out.append(("Server", server))
    if not any(k.lower() == "date" for k, _ in out):
        out.append(("Date", http_date(now)))
    out.append(("X-Kong-Response-Latency", str(latency_ms)))
    out.append(("X-Kong-Request-Id", request_id))
    return out
