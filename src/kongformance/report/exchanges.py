"""The HTTP exchanges of each test, for failure evidence; and the run's secrets, learnt as they are sent.

:func:`install` wraps ``httpx.Client.send`` once per process. While a test runs (:func:`start` /
:func:`stop`, called by the evidence plugin around each test), every exchange made from the test's thread
is kept (the last :data:`KEEP`). Whenever any request is sent, whatever the thread, the client secret it
carries in a form and the tokens in a JSON answer
(``access_token``, ``refresh_token``, ``id_token``, ``token``) are learnt by
:func:`kongformance.report.redaction.learn`, so an opaque token the issuer handed out is masked wherever
it shows up later.

:func:`describe` turns an exchange into a redacted JSON-ready dict: method, URL, request headers and body,
status, response headers and body (each cut to :data:`BODY_LIMIT` characters), and the decoded header and
claims of every JWT the request carried, with secret values masked.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jwt

from kongformance.report.redaction import learn, mask, redact

KEEP = 12  # exchanges kept per test (the last ones)
BODY_LIMIT = 1500  # characters of a body kept
TOKEN_FIELDS = ("access_token", "refresh_token", "id_token", "token", "jwt", "client_secret")
# headers that tell nothing about a failure, left out of the evidence
DULL_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "connection",
        "user-agent",
        "content-length",
        "date",
        "server",
        "keep-alive",
    }
)
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "apikey",
        "kong-admin-token",
    }
)


@dataclass
class Exchange:
    request: httpx.Request
    response: httpx.Response | None
    error: str = ""


_local = threading.local()
_installed = False
_install_lock = threading.Lock()


def start() -> None:
    """Begin recording this thread's exchanges (a new test)."""
    _local.exchanges = []


def stop() -> list[Exchange]:
    """Stop recording this thread's exchanges and return them (oldest first)."""
    out: list[Exchange] = getattr(_local, "exchanges", None) or []
    _local.exchanges = None
    return out


def recorded() -> list[Exchange]:
    """This thread's exchanges so far (without stopping)."""
    return list(getattr(_local, "exchanges", None) or [])


def _learn_request(request: httpx.Request) -> None:
    """Client secrets sent in a form. (Credentials in an Authorization header are not learnt: tests send
    made-up ones on purpose, and the scheme pattern masks every one of them anyway.)"""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        try:
            form = dict(parse_qsl(request.content.decode("utf-8", errors="replace")))
        except (httpx.RequestNotRead, ValueError):
            return
        learn(*(v for k, v in form.items() if "secret" in k))


def _learn_response(response: httpx.Response) -> None:
    if "json" not in response.headers.get("content-type", ""):
        return
    try:
        doc = response.json()
    except (ValueError, httpx.ResponseNotRead):
        return
    if isinstance(doc, dict):
        learn(*(v for k, v in doc.items() if k in TOKEN_FIELDS or "secret" in k))


def install() -> None:
    """Wrap ``httpx.Client.send`` (once per process) to learn secrets and record each test's exchanges."""
    global _installed
    with _install_lock:
        if _installed:
            return
        original = httpx.Client.send

        def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
            _learn_request(request)
            exchanges = getattr(_local, "exchanges", None)
            try:
                response = original(self, request, **kwargs)
            except httpx.HTTPError as exc:
                if exchanges is not None:
                    exchanges.append(Exchange(request, None, f"{type(exc).__name__}: {exc}"))
                    del exchanges[:-KEEP]
                raise
            if not kwargs.get("stream"):
                _learn_response(response)
            if exchanges is not None:
                exchanges.append(Exchange(request, response))
                del exchanges[:-KEEP]
            return response

        httpx.Client.send = send  # type: ignore[method-assign]
        _installed = True


# ---------------------------------------------------------------- describing an exchange


def _headers(headers: httpx.Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.multi_items():
        if name.lower() in DULL_HEADERS:
            continue
        if name.lower() in SECRET_HEADERS:
            scheme, sep, credential = value.partition(" ")
            value = f"{scheme} {mask(credential)}" if sep and scheme.isalpha() else mask(value)
        out[name] = redact(value) if name not in out else f"{out[name]}, {redact(value)}"
    return out


def _body(content: bytes) -> str:
    text = content.decode("utf-8", errors="replace")
    cut = f" [... {len(text) - BODY_LIMIT} more characters]" if len(text) > BODY_LIMIT else ""
    return redact(text[:BODY_LIMIT]) + cut


def _claims(value: Any) -> Any:
    """Claims with every string a secret pattern or learnt value matches masked."""
    if isinstance(value, dict):
        return {k: _claims(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_claims(v) for v in value]
    return redact(value) if isinstance(value, str) else value


def decoded_tokens(request: httpx.Request) -> list[dict[str, Any]]:
    """Header and claims of each JWT in the request's Authorization header (signature not shown)."""
    out: list[dict[str, Any]] = []
    value = request.headers.get("authorization", "")
    scheme, _, credential = value.partition(" ")
    candidate = credential.strip() or scheme
    if candidate.count(".") == 2:
        try:
            header = jwt.get_unverified_header(candidate)
            claims = jwt.decode(candidate, options={"verify_signature": False})
        except jwt.PyJWTError:
            return out
        out.append({"token": mask(candidate), "header": _claims(header), "claims": _claims(claims)})
    return out


def describe(exchange: Exchange) -> dict[str, Any]:
    """The exchange as a redacted JSON-ready dict (see the module docstring)."""
    req = exchange.request
    try:
        req_body = _body(req.content)
    except httpx.RequestNotRead:
        req_body = "[streamed body not recorded]"
    doc: dict[str, Any] = {
        "method": req.method,
        "url": redact(str(req.url)),
        "request_headers": _headers(req.headers),
        "request_body": req_body,
    }
    tokens = decoded_tokens(req)
    if tokens:
        doc["tokens"] = tokens
    resp = exchange.response
    if resp is None:
        doc["error"] = redact(exchange.error)
        return doc
    doc["status"] = resp.status_code
    doc["response_headers"] = _headers(resp.headers)
    try:
        doc["response_body"] = _body(resp.content)
    except httpx.ResponseNotRead:
        doc["response_body"] = "[streamed body not recorded]"
    return doc


def as_text(doc: dict[str, Any]) -> str:
    """One described exchange as a few readable lines (the terminal's failure section)."""
    lines = [f"> {doc['method']} {doc['url']}"]
    lines += [f"> {k}: {v}" for k, v in doc["request_headers"].items()]
    if doc.get("request_body"):
        lines.append(f"> {doc['request_body']}")
    for token in doc.get("tokens", []):
        lines.append(f"  token {token['token']}: header {json.dumps(token['header'])}")
        lines.append(f"  claims {json.dumps(token['claims'], sort_keys=True)}")
    if "error" in doc:
        lines.append(f"< {doc['error']}")
        return "\n".join(lines)
    lines.append(f"< {doc['status']}")
    lines += [f"< {k}: {v}" for k, v in doc["response_headers"].items()]
    if doc.get("response_body"):
        lines.append(f"< {doc['response_body']}")
    return "\n".join(lines)
