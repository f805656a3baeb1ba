"""Reading requests and writing responses for the management API (``/v1``).

Small helpers shared by the management handlers: bearer-token check, JSON body parsing, path id checks,
query flags, JSON responses, and the translation of store refusals into problem+json statuses.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from kongformance.clock import Clock
from kongformance.identity import store as st
from kongformance.identity.request_schemas import MAX_LABELS
from kongformance.problem_json import Problem, bad_request, invalid, problem_response

Handler = Callable[[Request], Awaitable[Response]]

CLIENT_ID_PATTERN = re.compile(r"[-_\w]+")


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response (``application/json``)."""
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def no_content() -> Response:
    return Response(status_code=204)


def check_bearer(request: Request, accept_token: Callable[[str], bool]) -> None:
    """Require ``Authorization: Bearer <token>`` with a token ``accept_token`` accepts (A.1); else 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Problem(401, "Unauthorized: a bearer token is required.")
    if not accept_token(token):
        raise Problem(401, "Unauthorized: the bearer token was not accepted.")


async def read_json(request: Request) -> Any:
    """The parsed JSON body; malformed or missing JSON is a 400."""
    raw = await request.body()
    if not raw.strip():
        raise bad_request([invalid("body", "required", "a JSON request body is required")])
    try:
        return _no_lone_surrogates(json.loads(raw))
    except (ValueError, UnicodeDecodeError):
        raise bad_request([invalid("body", "invalid", "is not valid JSON")], "Malformed JSON body") from None


def _no_lone_surrogates(value: Any) -> Any:
    """``value`` with every lone UTF-16 surrogate (a ``\\ud800`` escape) replaced by U+FFFD, as Go's
    encoding/json decodes it (https://pkg.go.dev/encoding/json#Unmarshal); a kept surrogate cannot be
    encoded into a token later."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_no_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_no_lone_surrogates(k): _no_lone_surrogates(v) for k, v in value.items()}
    return value


def path_uuid(request: Request, name: str) -> str:
    """A UUID path parameter, normalised to lowercase; anything else is a 400 ``is_uuid``."""
    raw = request.path_params[name]
    try:
        parsed = uuid.UUID(raw)
    except ValueError:
        raise bad_request([invalid(name, "is_uuid", "must be a valid UUID", source="path")]) from None
    if str(parsed) != raw.lower():
        raise bad_request([invalid(name, "is_uuid", "must be a valid UUID", source="path")])
    return str(parsed)


def path_server(store: st.IdentityStore, request: Request) -> st.AuthServer:
    """The auth server named by the ``authServerId`` path parameter (400 if not a UUID, 404 if unknown)."""
    server_id = path_uuid(request, "authServerId")
    server = store.get_server(server_id)
    if server is None:
        raise st.NotFound(f"Auth server [{server_id}] not found.")
    return server


def path_client_id(request: Request) -> str:
    """The ``clientId`` path parameter (OAuth client id: 1-36 of ``[-_\\w]``)."""
    raw: str = request.path_params["clientId"]
    if not 1 <= len(raw) <= 36:
        raise bad_request(
            [
                invalid(
                    "clientId",
                    "max_length",
                    "must not have more than 36 characters",
                    source="path",
                    maximum=36,
                )
            ]
        )
    if not CLIENT_ID_PATTERN.fullmatch(raw):
        raise bad_request([invalid("clientId", "matches_regex", r"must match [-_\w]+", source="path")])
    return raw


def query_force(request: Request) -> bool:
    """The ``force`` query flag of auth-server deletion: ``"true"`` or ``"false"`` (default)."""
    raw = request.query_params.get("force", "false")
    if raw not in ("true", "false"):
        raise bad_request(
            [
                invalid(
                    "force",
                    "enum",
                    "must be one of ['true', 'false']",
                    source="query",
                    choices=["true", "false"],
                )
            ]
        )
    return raw == "true"


def store_problem(error: st.StoreError) -> Problem:
    """The status Kong Identity answers for a store refusal (A.3, A.7, A.10)."""
    if isinstance(error, st.NotFound):
        return Problem(404, error.detail)
    if isinstance(error, st.NameConflict):
        return Problem(409, error.detail)
    if isinstance(error, st.SecretLimit):
        return Problem(403, error.detail)
    if isinstance(error, st.UnknownReference):
        return bad_request([invalid(error.field_name, "missing_reference", error.detail)])
    if isinstance(error, st.NotEmpty):
        return bad_request([invalid("force", "invalid", error.detail, source="query")], error.detail)
    return Problem(400, error.detail)


def guarded(handler: Handler, accept_token: Callable[[str], bool]) -> Handler:
    """Wrap a handler: bearer check first, then problem+json for every refusal."""

    async def endpoint(request: Request) -> Response:
        try:
            check_bearer(request, accept_token)
            return await handler(request)
        except Problem as problem:
            return problem_response(problem)
        except st.StoreError as error:
            return problem_response(store_problem(error))

    return endpoint


@dataclass(frozen=True)
class ManagementContext:
    """What the management handlers need: the store, the clock and how to name a server's issuer URL."""

    store: st.IdentityStore
    clock: Clock
    issuer_url_for: Callable[[st.AuthServer], str]


def merge_labels(current: dict[str, str], update: dict[str, str | None] | None) -> dict[str, str]:
    """``LabelsUpdate`` semantics: ``null`` clears all labels, a ``null`` value removes that key (inferred)."""
    if update is None:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > MAX_LABELS:
        raise bad_request([invalid("labels", "is_label", f"must not have more than {MAX_LABELS} labels")])
    return merged


def require_secure_uris(body: dict[str, Any]) -> None:
    """``redirect_uris`` and ``login_uri`` must be absolute https URIs without a fragment (A.6)."""
    problems = []
    uris = [(f"redirect_uris.{i}", u) for i, u in enumerate(body.get("redirect_uris") or [])]
    if body.get("login_uri") is not None:
        uris.append(("login_uri", body["login_uri"]))
    for field, uri in uris:
        parts = urlsplit(uri)
        if parts.scheme.lower() != "https" or not parts.netloc or parts.fragment or "#" in uri:
            problems.append(invalid(field, "invalid", "must be an absolute https URI without a fragment"))
    if problems:
        raise bad_request(problems)
