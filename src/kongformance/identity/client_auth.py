"""Request parsing and client authentication for the issuer's form-encoded endpoints.

RFC 6749 2.3.1 (client_secret_basic with form-encoded id and secret, client_secret_post), 2.3 (one method
per request), 3.2 (no repeated parameters); 5.2 (``invalid_client``: 401, ``WWW-Authenticate`` when the
Authorization header was used).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

from kongformance.defects import DefectSwitches
from kongformance.identity.directory import IssuerDirectory
from kongformance.identity.oauth_errors import OAuthError, invalid_request
from kongformance.identity.store import Client

FORM_TYPE = "application/x-www-form-urlencoded"


def parse_form(content_type: str | None, body: bytes) -> dict[str, str]:
    """The parameters of a form-encoded body; repeated or undecodable parameters are ``invalid_request``."""
    if content_type is not None and content_type.split(";", 1)[0].strip().lower() != FORM_TYPE:
        raise invalid_request(f"The request body must be {FORM_TYPE}.")
    try:
        text = body.decode("utf-8")
        if "%" in text or "+" in text:
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        else:  # nothing to unquote: split as parse_qsl would, without its per-field overhead
            pairs = [(name, value) for name, _, value in (p.partition("=") for p in text.split("&") if p)]
    except (UnicodeDecodeError, ValueError):
        raise invalid_request("The request body is not valid form-encoded UTF-8.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise invalid_request(f"The parameter {name} is included more than once.")
        form[name] = value
    return form


@dataclass(frozen=True)
class Credentials:
    """The client credentials of a request and how they were presented."""

    client_id: str
    secret: str
    method: str  # "client_secret_basic" | "client_secret_post"


def parse_basic(authorization: str) -> tuple[str, str] | None:
    """(client_id, secret) of an HTTP Basic header, each form-decoded (RFC 6749 2.3.1); None if malformed."""
    _, _, value = authorization.partition(" ")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep or not user:
        return None
    return unquote_plus(user), unquote_plus(password)


def is_basic(authorization: str) -> bool:
    """Whether an Authorization header value uses the Basic scheme (case-insensitive)."""
    return authorization.split(" ", 1)[0].lower() == "basic"


def invalid_client(basic_used: bool, defects: DefectSwitches, description: str) -> OAuthError:
    """``invalid_client``: 401, with ``WWW-Authenticate: Basic`` when Basic was used (RFC 6749 5.2)."""
    if defects.on("invalid_client_400"):
        return OAuthError("invalid_client", description, 400)
    headers = {"WWW-Authenticate": 'Basic realm="kong-identity"'} if basic_used else None
    return OAuthError("invalid_client", description, 401, headers)


def credentials_of(
    form: dict[str, str], authorization: str | None, defects: DefectSwitches, *, allow_post: bool = True
) -> Credentials:
    """The credentials a request presents, refusing none, malformed or mixed methods."""
    if authorization is not None and is_basic(authorization):
        parsed = parse_basic(authorization)
        if parsed is None:
            raise invalid_client(True, defects, "Malformed HTTP Basic client credentials.")
        if "client_secret" in form:
            raise invalid_request("Use only one client authentication method.")
        if form.get("client_id") not in (None, parsed[0]):
            raise invalid_request("client_id does not match the HTTP Basic credentials.")
        return Credentials(parsed[0], parsed[1], "client_secret_basic")
    if allow_post and form.get("client_id") and "client_secret" in form:
        return Credentials(form["client_id"], form["client_secret"], "client_secret_post")
    raise invalid_client(not allow_post, defects, "Client authentication failed: no client credentials.")


def secret_matches(client: Client, secret: str, *, enabled_only: bool = True) -> bool:
    """Whether ``secret`` equals one of the client's (enabled) secrets; every secret is compared, constant-time."""
    matched = False
    for item in client.secrets:
        if item.matches(secret) and (item.enabled or not enabled_only):
            matched = True
    return matched


def authenticate(
    directory: IssuerDirectory, server_id: str, creds: Credentials, defects: DefectSwitches
) -> Client:
    """The client these credentials prove (an enabled secret must match), else ``invalid_client``."""
    client = directory.client(server_id, creds.client_id)
    if (
        client is not None
        and not secret_matches(client, creds.secret)
        and not _defect_accepts(client, creds, defects)
    ):
        client = None
    if client is None:
        raise invalid_client(creds.method == "client_secret_basic", defects, "Client authentication failed.")
    return client


def _defect_accepts(client: Client, creds: Credentials, defects: DefectSwitches) -> bool:
    if defects.on("accept_wrong_secret"):
        return True
    return defects.on("accept_disabled_secret") and secret_matches(client, creds.secret, enabled_only=False)
