"""The OSS oauth2 plugin's token endpoint: Kong's ``issue_token`` (https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua;
https://github.com/Kong/kong/blob/3.9.0/kong/plugins/oauth2/access.lua).

Authorization_code (with PKCE), client_credentials, password and refresh_token grants (scope check against
the refreshing plugin, ``reuse_refresh_token``); the HTTPS rule with ``accept_http_if_already_terminated``;
client authentication from the body or ``Authorization: Basic``; scopes; provision_key. Errors are built the
way the Lua code builds them: a later check overwrites an earlier error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

from kongformance.gateway.plugins.base import Exit, GatewayRuntime, ProxyRequest, RequestContext
from kongformance.gateway.plugins.oauth2_defects import (
    AUTHORIZATION_CODE_REUSABLE,
    FORWARDED_PROTO_FROM_ANY_CLIENT,
    PKCE_VERIFIER_NOT_CHECKED,
    PROVISION_KEY_NOT_GENERATED,
    REFRESH_IGNORES_SCOPE_MISMATCH,
    REUSE_REFRESH_TOKEN_IGNORED,
    SECRET_CASE_INSENSITIVE,
)
from kongformance.gateway.plugins.oauth2_pkce import requires_pkce, validate_pkce_verifier
from kongformance.gateway.plugins.oauth2_request import request_parameters
from kongformance.gateway.plugins.oauth2_store import Oauth2Store, Oauth2Token
from kongformance.gateway.plugins.profile_option_defects import switched_on

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
GENERATED_PROVISION_KEYS: set[str] = set()  # keys the schema generated (Kong's ``auto = true``)
_BASIC = re.compile(r"\s*[Bb]asic\s*(.+)")


def secret_matches(credential: Mapping[str, Any], given: str | None, *, ignore_case: bool = False) -> bool:
    """Compare a client secret exactly (``ignore_case``: its defect); ``$pbkdf2-<digest>$i=N,l=L$salt$hash``
    when the credential stores it hashed."""
    stored = str(credential.get("client_secret") or "")
    if given is None:
        return False
    if credential.get("hash_secret") and stored.startswith("$pbkdf2-"):
        try:
            _, scheme, params, salt, digest = stored.split("$")
            options = dict(item.split("=", 1) for item in params.split(","))

            def unb64(text: str) -> bytes:
                return base64.b64decode(text + "=" * (-len(text) % 4))

            expected = unb64(digest)
            derived = hashlib.pbkdf2_hmac(
                scheme.removeprefix("pbkdf2-"), given.encode(), unb64(salt), int(options["i"]), len(expected)
            )
        except (ValueError, KeyError, binascii.Error):
            return False
        return hmac.compare_digest(derived, expected)
    if ignore_case:
        stored, given = stored.lower(), given.lower()
    return hmac.compare_digest(stored.encode(), given.encode())


class _AnyKey:
    """Equal to every provision_key (defect option_oauth2_provision_key_not_checked)."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]


class TokenEndpoint:
    """Answers ``POST .../oauth2/token`` for one oauth2 plugin config."""

    def __init__(
        self, config: Mapping[str, Any], runtime: GatewayRuntime, plugin_id: str | None = None
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.plugin_id = plugin_id

    def provision_key(self) -> Any:
        """``config.provision_key``; a generated one counts as null under its defect."""
        key = self.config.get("provision_key")
        if switched_on(self.runtime.defects, "option_oauth2_provision_key_not_checked"):
            return _AnyKey()
        if key in GENERATED_PROVISION_KEYS and self.runtime.defects.on(PROVISION_KEY_NOT_GENERATED):
            return None
        return key

    @property
    def store(self) -> Oauth2Store:
        store: Oauth2Store = self.runtime.oauth2_store()
        return store

    def _trusted(self, ip: str) -> bool:
        """Whether ``ip`` is in the runtime's ``trusted_ips`` (Kong's default: nothing is trusted)."""
        entries: Iterable[str] = getattr(self.runtime, "trusted_ips", None) or ()
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        for entry in entries:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False

    def check_https(self, request: ProxyRequest) -> tuple[bool, str | None]:
        """Kong's ``check_https`` (https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua)."""
        if request.scheme == "https" or self.runtime.defects.on("oauth2_token_endpoint_accepts_http"):
            return True, None
        if not self.config.get("accept_http_if_already_terminated") or switched_on(
            self.runtime.defects, "option_oauth2_accept_http_if_already_terminated_ignored"
        ):
            return False, None
        if not self._trusted(request.client_ip) and not self.runtime.defects.on(
            FORWARDED_PROTO_FROM_ANY_CLIENT
        ):
            return False, None
        forwarded = request.headers.get_all("x-forwarded-proto")
        if len(forwarded) > 1:
            return False, "Only one X-Forwarded-Proto header allowed"
        return bool(forwarded) and forwarded[0].lower() == "https", None

    def _client_credentials(self, params: Mapping[str, Any], request: ProxyRequest) -> tuple[Any, Any, bool]:
        """client_id/secret from the body, else from ``Authorization: Basic`` (auth_header_name) (4.2)."""
        if params.get("client_id") is not None and params.get("client_secret") is not None:
            return params["client_id"], params["client_secret"], False
        header = request.headers.get(self.config.get("auth_header_name") or "authorization")
        if header is not None:
            match = _BASIC.search(header)
            client_id = client_secret = None
            if match:
                try:
                    decoded = base64.b64decode(match.group(1).strip(), validate=False).decode(
                        "utf-8", "replace"
                    )
                except (binascii.Error, ValueError):
                    decoded = None
                if decoded is not None:
                    parts = decoded.split(":")
                    client_id = parts[0]
                    client_secret = parts[1] if len(parts) > 1 else None
            return client_id, client_secret, True
        return params.get("client_id"), None, False

    def scope(self, params: Mapping[str, Any]) -> tuple[str | None, dict[str, str] | None]:
        """Kong's ``retrieve_scope``: each requested scope must be in config.scopes (4.2)."""
        scope = params.get("scope")
        allowed = self.config.get("scopes")
        if allowed and switched_on(self.runtime.defects, "option_oauth2_scopes_first_only"):
            allowed = allowed[:1]
        if allowed is not None and scope is not None:
            if not isinstance(scope, str):
                return None, {"error": "invalid_scope", "error_description": "scope must be a string"}
            granted = []
            for item in scope.split():
                if item not in allowed and not self.runtime.defects.on("oauth2_ignore_scope_check"):
                    return None, {
                        "error": "invalid_scope",
                        "error_description": f'"{item}" is an invalid scope',
                    }
                granted.append(item)
            return (" ".join(granted) or None), None
        if scope is None and self.config.get("mandatory_scope"):
            return None, {"error": "invalid_scope", "error_description": "You must specify a scope"}
        return None, None

    def service_id(self, ctx: RequestContext) -> str | None:
        if self.config.get("global_credentials") or ctx.service is None:
            return None
        return ctx.service.get("id")

    def generate(
        self,
        ctx: RequestContext,
        credential: Mapping[str, Any],
        authenticated_userid: Any,
        scope: str | None,
        *,
        refresh: bool,
        existing: Oauth2Token | None = None,
    ) -> dict[str, Any]:
        """Kong's ``generate_token``: insert the row (or, with ``reuse_refresh_token``, renew ``existing``)
        and build the token response."""
        expiration = self.config.get("token_expiration", 7200)
        expiration = int(expiration) if float(expiration).is_integer() else expiration
        refresh_ttl = self.config.get("refresh_token_ttl") or None
        retain_for = refresh_ttl if expiration > 0 else None
        if existing is not None:
            token = self.store.reissue(existing, expires_in=expiration, retain_for=retain_for)
        else:
            token = self.store.issue(
                credential,
                service_id=self.service_id(ctx),
                scope=scope,
                authenticated_userid=None if authenticated_userid is None else str(authenticated_userid),
                expires_in=expiration,
                retain_for=retain_for,
                refresh=refresh and expiration > 0,
            )
        body: dict[str, Any] = {"access_token": token.access_token, "token_type": "bearer"}
        if expiration > 0:
            body["expires_in"] = expiration
        if token.refresh_token is not None:
            body["refresh_token"] = token.refresh_token
        return body

    def answer(self, ctx: RequestContext) -> Exit:
        """Kong's ``issue_token``: later checks overwrite earlier errors, as in the Lua code (4.2)."""
        conf = self.config
        request = ctx.request
        params = request_parameters(request, with_body=True)
        state = params.get("state")
        response: dict[str, Any] = {}
        basic_failure = False

        def invalid_client(from_header: bool) -> dict[str, Any]:
            nonlocal basic_failure
            basic_failure = from_header
            return {"error": "invalid_client", "error_description": "Invalid client authentication"}

        is_https, https_error = self.check_https(request)
        if not is_https:
            response = {"error": "access_denied", "error_description": https_error or "You must use HTTPS"}
        else:
            grant_type = params.get("grant_type")
            on = self.runtime.defects
            if not (
                grant_type in ("authorization_code", "refresh_token")
                or (
                    conf.get("enable_client_credentials")
                    and grant_type == "client_credentials"
                    and not switched_on(on, "option_oauth2_enable_client_credentials_ignored")
                )
                or (
                    conf.get("enable_password_grant")
                    and grant_type == "password"
                    and not switched_on(on, "option_oauth2_enable_password_grant_ignored")
                )
            ):
                response = {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}
            client_id, client_secret, from_header = self._client_credentials(params, request)
            client = self.store.credential(str(client_id)) if client_id not in (None, "") else None
            if grant_type != "client_credentials":
                if client is None:
                    response = invalid_client(from_header)
                else:
                    uris = list(client.get("redirect_uris") or [])
                    redirect_uri = params.get("redirect_uri") or (uris[0] if uris else None)
                    if redirect_uri not in uris:
                        response = {
                            "error": "invalid_request",
                            "error_description": "Invalid redirect_uri that does not match with any "
                            "redirect_uri created with the application",
                        }
            if client is not None:
                if client.get("client_type") == "public":
                    if isinstance(client_secret, str) and client_secret.strip():
                        response = {
                            "error": "invalid_request",
                            "error_description": "client_secret is disallowed for public clients",
                        }
                elif not secret_matches(
                    client,
                    None if client_secret is None else str(client_secret),
                    ignore_case=self.runtime.defects.on(SECRET_CASE_INSENSITIVE),
                ):
                    response = invalid_client(from_header)
            if "error" not in response:
                response = self._grant(ctx, str(grant_type), params, client)
        if state is not None:
            response["state"] = state
        headers = dict(_NO_STORE)
        status = 200
        if "error" in response:
            status = 400
            if basic_failure and response.get("error") == "invalid_client":
                status = 401
                headers["WWW-Authenticate"] = 'Basic realm="OAuth2.0"'
        return Exit(status, response, headers)

    def _grant(
        self,
        ctx: RequestContext,
        grant_type: str,
        params: Mapping[str, Any],
        client: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """The grant-specific part of ``issue_token``, once the client checks passed."""
        userid = params.get("authenticated_userid")
        if grant_type == "client_credentials":
            if userid is not None and self.provision_key() != params.get("provision_key"):
                return {"error": "invalid_provision_key", "error_description": "Invalid provision_key"}
            if client is None:
                return {"error": "invalid_client", "error_description": "Invalid client authentication"}
            scope, error = self.scope(params)
            return error or self.generate(ctx, client, userid, scope, refresh=False)
        if client is None:  # pragma: no cover - the non-client_credentials checks already refused it
            return {"error": "invalid_client", "error_description": "Invalid client authentication"}
        if grant_type == "password":
            if self.provision_key() != params.get("provision_key"):
                return {"error": "invalid_provision_key", "error_description": "Invalid provision_key"}
            if not isinstance(userid, str) or not userid.strip():
                return {
                    "error": "invalid_authenticated_userid",
                    "error_description": "Missing authenticated_userid parameter",
                }
            scope, error = self.scope(params)
            return error or self.generate(ctx, client, userid, scope, refresh=True)
        if grant_type == "refresh_token":
            return self._refresh(ctx, params, client)
        return self._authorization_code(ctx, params, client)

    def _authorization_code(
        self, ctx: RequestContext, params: Mapping[str, Any], client: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Exchange a code from ``/oauth2/authorize`` (RFC 6749 4.1.3, RFC 7636 4.5-4.6), once."""
        invalid = {"error": "invalid_request", "error_description": "Invalid code"}
        value = params.get("code")
        row = self.store.find_code(value) if isinstance(value, str) else None
        service_id = self.service_id(ctx)
        if row is None or (service_id is not None and service_id != row.service_id):
            return invalid
        if row.credential_id != str(client.get("id")):
            return invalid
        if requires_pkce(self.config, client, row.challenge_method):
            skip = self.runtime.defects.on(PKCE_VERIFIER_NOT_CHECKED)
            error = validate_pkce_verifier(params, row, skip=skip)
            if error is not None:
                return error
        if self.config.get("global_credentials") and row.plugin_id and row.plugin_id != self.plugin_id:
            return invalid
        body = self.generate(ctx, client, row.authenticated_userid, row.scope, refresh=True)
        if not self.runtime.defects.on(AUTHORIZATION_CODE_REUSABLE):
            self.store.delete_code(row.code)
        return body

    def _refresh(
        self, ctx: RequestContext, params: Mapping[str, Any], client: Mapping[str, Any]
    ) -> dict[str, Any]:
        value = params.get("refresh_token")
        old = self.store.find_by_refresh_token(value) if isinstance(value, str) else None
        service_id = self.service_id(ctx)
        if old is None or (service_id is not None and service_id != old.service_id):
            return {"error": "invalid_request", "error_description": "Invalid refresh_token"}
        if old.credential_id != str(client.get("id")):
            return {"error": "invalid_client", "error_description": "Invalid client authentication"}
        allowed = self.config.get("scopes") or []
        if any(item not in allowed for item in (old.scope or "").split()) and not self.runtime.defects.on(
            REFRESH_IGNORES_SCOPE_MISMATCH
        ):
            return {"error": "invalid_scope", "error_description": "Scope mismatch"}
        reuse = bool(self.config.get("reuse_refresh_token")) and not self.runtime.defects.on(
            REUSE_REFRESH_TOKEN_IGNORED
        )
        body = self.generate(
            ctx, client, old.authenticated_userid, old.scope, refresh=True, existing=old if reuse else None
        )
        if not reuse:
            self.store.delete(old.access_token)
        return body
