"""The OSS oauth2 plugin's ``/oauth2/authorize`` endpoint: Kong's ``authorize``
(https://github.com/Kong/kong/blob/3.9.0/kong/plugins/oauth2/access.lua); its PKCE rules are :mod:`.oauth2_pkce`.

The endpoint takes ``provision_key``, ``authenticated_userid``, ``client_id``, ``response_type`` (``code`` or
``token``), ``scope``, ``redirect_uri``, ``state`` and the PKCE ``code_challenge``/``code_challenge_method``;
it answers ``{"redirect_uri": ...}`` carrying a code (query) or an implicit-grant token (fragment), or the
error parameters when no client is known. As in the Lua code, a later check overwrites an earlier error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from kongformance.gateway.plugins.base import Exit, RequestContext
from kongformance.gateway.plugins.oauth2_pkce import requires_pkce, retrieve_code_challenge
from kongformance.gateway.plugins.oauth2_request import request_parameters
from kongformance.gateway.plugins.oauth2_token_endpoint import TokenEndpoint
from kongformance.gateway.plugins.profile_option_defects import switched_on

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_UNRESERVED = re.compile(r"[^A-Za-z0-9_]")
REDIRECT_URI_ERROR = (
    "Invalid redirect_uri that does not match with any redirect_uri created with the application"
)


def lua_escape(text: str) -> str:
    """LuaSocket's ``url.escape``: every byte but ``[A-Za-z0-9_]`` as ``%xx`` (lower-case hex)."""
    return _UNRESERVED.sub(lambda m: "".join(f"%{b:02x}" for b in m.group().encode()), text)


def encode_args(args: Mapping[str, Any]) -> str:
    """Kong's ``encode_args``: keys sorted, ``key=value`` escaped, empty values as a bare key."""
    parts = []
    for key in sorted(args):
        value = args[key]
        if value is None:
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        parts.append(lua_escape(key) + ("=" + lua_escape(text) if text != "" else ""))
    return "&".join(parts)


def authorize(endpoint: TokenEndpoint, ctx: RequestContext, plugin_id: str | None) -> Exit:
    """Kong's ``authorize``: a code or an implicit token appended to the client's redirect_uri."""
    conf = endpoint.config
    params = request_parameters(ctx.request, with_body=True)
    state = params.get("state")
    response: dict[str, Any] = {}
    redirect_uri: str | None = None
    implicit = False
    is_https, https_error = endpoint.check_https(ctx.request)
    if not is_https:
        response = {"error": "access_denied", "error_description": https_error or "You must use HTTPS"}
    elif endpoint.provision_key() != params.get("provision_key"):
        response = {"error": "invalid_provision_key", "error_description": "Invalid provision_key"}
    elif (
        not isinstance(params.get("authenticated_userid"), str) or not params["authenticated_userid"].strip()
    ):
        response = {
            "error": "invalid_authenticated_userid",
            "error_description": "Missing authenticated_userid parameter",
        }
    else:
        response_type = params.get("response_type")
        on = endpoint.runtime.defects
        if not (
            (
                response_type == "code"
                and conf.get("enable_authorization_code")
                and not switched_on(on, "option_oauth2_enable_authorization_code_ignored")
            )
            or (
                response_type == "token"
                and conf.get("enable_implicit_grant")
                and not switched_on(on, "option_oauth2_enable_implicit_grant_ignored")
            )
        ):
            response = {"error": "unsupported_response_type", "error_description": "Invalid response_type"}
        scope, scope_error = endpoint.scope(params)
        if scope_error:
            response = scope_error
        client_id = params.get("client_id")
        client = endpoint.store.credential(client_id) if isinstance(client_id, str) and client_id else None
        uris = list((client or {}).get("redirect_uris") or [])
        if client is None or not uris:
            response = {"error": "invalid_client", "error_description": "Invalid client authentication"}
        else:
            redirect_uri = params.get("redirect_uri") or uris[0]
            if redirect_uri not in uris and not switched_on(on, "option_oauth2_redirect_uris_not_checked"):
                response = {"error": "invalid_request", "error_description": REDIRECT_URI_ERROR}
                redirect_uri = uris[0]
        challenge, challenge_error, method = retrieve_code_challenge(params)
        if challenge_error:
            response = {"error": "invalid_request", "error_description": challenge_error}
        elif client is not None and challenge is None and requires_pkce(conf, client):
            client_type = client.get("client_type") or "confidential"
            response = {
                "error": "invalid_request",
                "error_description": f"code_challenge is required for {client_type} clients",
            }
        elif challenge is None:
            method = None
        if "error" not in response and client is not None:
            userid = str(params["authenticated_userid"])
            if response_type == "code":
                code = endpoint.store.issue_code(
                    client,
                    service_id=endpoint.service_id(ctx),
                    plugin_id=plugin_id,
                    authenticated_userid=userid,
                    scope=scope,
                    challenge=challenge,
                    challenge_method=method,
                )
                response = {"code": code.code}
            else:
                response = endpoint.generate(ctx, client, userid, scope, refresh=False)
                implicit = True
    if state is not None:
        response["state"] = state
    status = 400 if "error" in response else 200
    if redirect_uri is None:
        return Exit(status, response, dict(NO_STORE))
    return Exit(
        status, {"redirect_uri": _with_params(redirect_uri, response, fragment=implicit)}, dict(NO_STORE)
    )


def _with_params(uri: str, params: Mapping[str, Any], *, fragment: bool) -> str:
    """The redirect URI with ``params`` merged into its query (or, for the implicit grant, its fragment)."""
    parts = urlsplit(uri)
    existing = dict(parse_qsl(parts.fragment if fragment else parts.query, keep_blank_values=True))
    encoded = encode_args({**existing, **params})
    if fragment:
        return urlunsplit(parts._replace(fragment=encoded))
    return urlunsplit(parts._replace(query=encoded))
