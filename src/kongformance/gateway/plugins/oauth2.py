"""The OSS oauth2 plugin (priority 1400): Kong as the authorization server, plus validation of its tokens.

Behaviour from https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: the token endpoint at any path ending in ``/oauth2/token`` (4.2:
client_credentials, password and refresh_token grants; HTTPS rules; client authentication; scopes;
provision_key) and resource requests (4.3: token lookup, 401 bodies and ``WWW-Authenticate`` by Kong
version, upstream headers, hide_credentials, anonymous); ``/oauth2/authorize`` (authorization code with
PKCE, implicit grant) lives in :mod:`oauth2_authorize`. Kong's source:
https://github.com/Kong/kong/blob/3.9.0/kong/plugins/oauth2/access.lua
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from kongformance.defects import Defect
from kongformance.gateway.plugins.base import Exit, Plugin, ProxyRequest, RequestContext
from kongformance.gateway.plugins.oauth2_authorize import authorize
from kongformance.gateway.plugins.oauth2_defects import (
    GLOBAL_ACCEPTS_BOUND_TOKEN,
    GLOBAL_REFUSAL_WITHOUT_CHALLENGE,
    GRANT_DEFECTS,
    HIDE_CREDENTIALS_IGNORED,
)
from kongformance.gateway.plugins.oauth2_request import (
    ANONYMOUS,
    CREDENTIAL_IDENTIFIER,
    drop_query_and_form_argument,
    missing_anonymous,
    request_parameters,
    scheme_token,
    set_consumer_headers,
    set_or_clear,
)
from kongformance.gateway.plugins.oauth2_store import Oauth2Store, Oauth2Token
from kongformance.gateway.plugins.oauth2_token_endpoint import GENERATED_PROVISION_KEYS, TokenEndpoint
from kongformance.gateway.plugins.profile_option_defects import switched_on

DEFECTS: tuple[Defect, ...] = (
    Defect(
        "oauth2_token_endpoint_accepts_http",
        "gateway",
        "the oauth2 token endpoint issues tokens over plain HTTP",
        "https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua (HTTPS only)",
    ),
    Defect(
        "oauth2_accept_expired_token",
        "gateway",
        "oauth2 accepts an access token older than its expires_in",
        "https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua (expiry)",
    ),
    Defect(
        "oauth2_accept_other_service_token",
        "gateway",
        "oauth2 accepts a token issued for another Service although global_credentials is false",
        "https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua (global_credentials)",
    ),
    Defect(
        "oauth2_ignore_scope_check",
        "gateway",
        "the oauth2 token endpoint grants requested scopes that are not in config.scopes",
        "https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua (scope)",
    ),
    *GRANT_DEFECTS,
)

FLOW_FIELDS = (
    "enable_authorization_code",
    "enable_implicit_grant",
    "enable_client_credentials",
    "enable_password_grant",
)
_INVALID = "The access token is invalid or has expired"


def is_token_endpoint(path: str) -> bool:
    """Whether ``path`` ends with ``/oauth2/token`` (optionally ``/``), whatever the route prefix (4.2)."""
    return (path[:-1] if path.endswith("/") else path).endswith("/oauth2/token")


def is_authorize_endpoint(path: str) -> bool:
    """Whether ``path`` ends with ``/oauth2/authorize`` (optionally ``/``), whatever the route prefix."""
    return (path[:-1] if path.endswith("/") else path).endswith("/oauth2/authorize")


class Oauth2Plugin(Plugin):
    """Issues client_credentials (and password) tokens and validates them on resource requests (4.2, 4.3)."""

    name: ClassVar[str] = "oauth2"
    PRIORITY: ClassVar[int] = 1400

    @classmethod
    def entity_checks(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """Kong's field errors for the oauth2 config record (https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua)."""
        if not any(config.get(name) for name in FLOW_FIELDS):
            return {"config": "at least one of these fields must be true: " + ", ".join(FLOW_FIELDS)}
        if config.get("mandatory_scope") and config.get("scopes") is None:
            return {"config": {"scopes": "required field missing"}}
        return {}

    @classmethod
    def auto_fields(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Kong's ``provision_key`` (``auto = true``): 32 random characters when the config leaves it out
        (https://github.com/Kong/kong/blob/3.9.0/spec/03-plugins/25-oauth2/01-schema_spec.lua#L35)."""
        if config.get("provision_key") is None:
            config["provision_key"] = secrets.token_hex(16)
            GENERATED_PROVISION_KEYS.add(config["provision_key"])
        return config

    @property
    def store(self) -> Oauth2Store:
        store: Oauth2Store = self.runtime.oauth2_store()
        return store

    async def access(self, ctx: RequestContext) -> Exit | None:
        conf = self.config
        request = ctx.request
        anonymous = conf.get("anonymous") or None
        if anonymous and ctx.credential is not None:
            request.headers.remove("X-Authenticated-Scope")
            request.headers.remove("X-Authenticated-UserId")
            return None
        if is_token_endpoint(request.path):
            if request.method != "POST":
                return self._invalid_method(request.method)
            return TokenEndpoint(self.config, self.runtime, self.entity.get("id")).answer(ctx)
        if is_authorize_endpoint(request.path):
            if request.method != "POST":
                return self._invalid_method(request.method, "authorization")
            endpoint = TokenEndpoint(self.config, self.runtime, self.entity.get("id"))
            return authorize(endpoint, ctx, self.entity.get("id"))
        failure, final = self._authenticate(ctx)
        if failure is None or final or not anonymous:
            return failure
        consumer = self.runtime.find_consumer(anonymous)
        if consumer is None:
            return missing_anonymous(anonymous)
        self._set_consumer(ctx, consumer, None, None)
        return None

    # -- WWW-Authenticate ---------------------------------------------------------------------------------

    def _challenge(self, error: str | None = None, description: str | None = None) -> str:
        """``Bearer`` challenge by version: fixed realm up to 3.7, spaces up to 3.10, commas from 3.11 (4.3)."""
        version = self.runtime.kong_version
        realm = "service" if version < (3, 8) else self.config.get("realm")
        params = [f'realm="{realm}"'] if realm is not None else []
        if error is not None:
            params += [f'error="{error}"', f'error_description="{description}"']
        separator = ", " if version >= (3, 11) else " "
        return "Bearer" + (" " + separator.join(params) if params else "")

    def _invalid_method(self, method: str, endpoint: str = "token") -> Exit:
        description = f"The HTTP method {method} is invalid for the {endpoint} endpoint"
        return Exit(
            405,
            {"error": "invalid_method", "error_description": description},
            {"WWW-Authenticate": self._challenge("invalid_method", description)},
        )

    # -- resource requests --------------------------------------------------------------------------------

    def _parse_token(self, request: ProxyRequest) -> str | None:
        """auth_header_name (raw value unless ``bearer|token <t>``), else access_token from query/body (4.3)."""
        header_name = self.config.get("auth_header_name") or "authorization"
        raw = request.headers.get(header_name)
        from_header = False
        if raw is not None:
            token: str | None = scheme_token(raw)
            from_header = token is not None
            if token is None:
                token = raw
        else:
            value = request_parameters(request, with_body=request.method in ("POST", "PUT", "PATCH")).get(
                "access_token"
            )
            if not isinstance(value, str):
                return None
            token = value
        if self.config.get("hide_credentials") and not self.runtime.defects.on(HIDE_CREDENTIALS_IGNORED):
            if from_header:
                request.headers.remove(header_name)
            elif not switched_on(self.runtime.defects, "option_oauth2_hide_credentials_keeps_argument_token"):
                drop_query_and_form_argument(request, "access_token", form_only=True)
        return token

    def _invalid_token(self) -> Exit:
        return Exit(
            401,
            {"error": "invalid_token", "error_description": _INVALID},
            {"WWW-Authenticate": self._challenge("invalid_token", _INVALID)},
        )

    def _authenticate(self, ctx: RequestContext) -> tuple[Exit | None, bool]:
        """Validate the request's token; the flag marks a failure that skips the anonymous fallback."""
        token_value = self._parse_token(ctx.request)
        if not token_value:
            return Exit(
                401,
                {"error": "invalid_request", "error_description": "The access token is missing"},
                {"WWW-Authenticate": self._challenge()},
            ), False
        token = self.store.find(token_value)
        if token is None:
            return self._invalid_token(), False
        global_credentials = bool(self.config.get("global_credentials")) and not switched_on(
            self.runtime.defects, "option_oauth2_global_credentials_ignored"
        )
        if not global_credentials and token.service_id is None:
            # answered straight from retrieve_token in Kong, so it bypasses the anonymous fallback; the
            # challenge carries the generic description (3.8+: 25-oauth2/03-access_spec.lua, regression 4232)
            description = "The access token is global, but the current plugin is configured without 'global_credentials'"
            headers: dict[str, str] = {}
            if self.runtime.kong_version >= (3, 8) and not self.runtime.defects.on(
                GLOBAL_REFUSAL_WITHOUT_CHALLENGE
            ):
                headers = {"WWW-Authenticate": self._challenge("invalid_token", _INVALID)}
            return Exit(401, {"error": "invalid_token", "error_description": description}, headers), True
        service_id = ctx.service.get("id") if ctx.service else None
        if token.service_id is not None and token.service_id != service_id:
            # a token bound to another Service is refused whatever global_credentials says (do_authentication)
            tolerated = (
                GLOBAL_ACCEPTS_BOUND_TOKEN if global_credentials else "oauth2_accept_other_service_token"
            )
            if not self.runtime.defects.on(tolerated):
                return self._invalid_token(), False
        if token.expired(self.runtime.clock.now()) and not self.runtime.defects.on(
            "oauth2_accept_expired_token"
        ):
            return self._invalid_token(), False
        credential = self.store.credential(token.client_id)
        if credential is None:  # pragma: no cover - find() already hides tokens of deleted credentials
            return self._invalid_token(), False
        consumer_ref = credential.get("consumer") or {}
        consumer = self.runtime.find_consumer(str(consumer_ref.get("id"))) if consumer_ref.get("id") else None
        visible = {k: v for k, v in credential.items() if k != "client_secret"}
        self._set_consumer(ctx, consumer, visible, token)
        return None, False

    def _set_consumer(
        self,
        ctx: RequestContext,
        consumer: Mapping[str, Any] | None,
        credential: Mapping[str, Any] | None,
        token: Oauth2Token | None,
    ) -> None:
        """Kong's ``set_consumer``: X-Consumer-*, X-Credential-Identifier, X-Authenticated-* (4.3)."""
        headers = ctx.request.headers
        ctx.authenticate(consumer, credential)
        set_consumer_headers(headers, consumer)
        set_or_clear(headers, CREDENTIAL_IDENTIFIER, credential.get("client_id") if credential else None)
        if credential is not None:
            headers.remove(ANONYMOUS)
        else:
            headers.set(ANONYMOUS, "true")
        set_or_clear(headers, "X-Authenticated-Scope", token.scope if token else None)
        set_or_clear(headers, "X-Authenticated-UserId", token.authenticated_userid if token else None)
