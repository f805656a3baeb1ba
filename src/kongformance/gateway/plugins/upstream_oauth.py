"""The upstream-oauth plugin (Enterprise, priority 760): Kong as an OAuth client of the upstream's IdP.

Behaviour from https://developer.konghq.com/plugins/upstream-oauth/: the token request per ``client.auth_method`` (2.3), the answer on
IdP failure (2.4), injection of the token into the upstream request and the node-wide token cache shared by
identical ``oauth`` records, purged on configured upstream statuses (2.5).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx
import jwt
from jwt.warnings import InsecureKeyLengthWarning

from kongformance.defects import Defect
from kongformance.gateway.plugins.base import Exit, Plugin, RequestContext, UpstreamResponse
from kongformance.gateway.plugins.oauth2_cache import node_cache
from kongformance.gateway.plugins.profile_option_defects import switched_on

log = logging.getLogger(__name__)

DEFECTS: tuple[Defect, ...] = (
    Defect(
        "upstream_oauth_sends_unset_params_empty",
        "gateway",
        "the token request carries audience, username and password as empty values when the config leaves them unset",
        "https://developer.konghq.com/plugins/upstream-oauth/reference/ (config.oauth: optional token request fields)",
    ),
    Defect(
        "upstream_oauth_never_purge",
        "gateway",
        "upstream-oauth keeps its cached token when the upstream answers a purge_token_on_upstream_status_codes status",
        "https://developer.konghq.com/plugins/upstream-oauth/#caching (purge)",
    ),
    Defect(
        "upstream_oauth_ignore_eagerly_expire",
        "gateway",
        "upstream-oauth caches a token for its full expires_in, ignoring cache.eagerly_expire",
        "https://developer.konghq.com/plugins/upstream-oauth/#caching (cache TTL)",
    ),
    Defect(
        "upstream_oauth_no_cache",
        "gateway",
        "upstream-oauth fetches a new token from the IdP for every proxied request",
        "https://developer.konghq.com/plugins/upstream-oauth/#caching (cache)",
    ),
    Defect(
        "upstream_oauth_post_when_basic",
        "gateway",
        "upstream-oauth sends client_id/client_secret in the body when client.auth_method is client_secret_basic",
        "https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods (client_secret_basic)",
    ),
    Defect(
        "upstream_oauth_leak_idp_error",
        "gateway",
        "upstream-oauth answers an IdP failure with the IdP's own status and error body",
        "https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code",
    ),
    Defect(
        "upstream_oauth_append_token_header",
        "gateway",
        "upstream-oauth adds its token header beside a client-sent header of the same name instead of replacing it",
        "https://developer.konghq.com/plugins/upstream-oauth/#caching (injection replaces the client's header)",
    ),
)

CACHE_NAME = "upstream_oauth"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class UpstreamToken:
    """A token obtained from the IdP, as cached."""

    access_token: str
    token_type: str | None
    expires_in: float | None


class IdpFailure(Exception):
    """The IdP gave no usable token (connection error, status >= 400, bad JSON, no access_token)."""

    def __init__(self, reason: str, status: int | None = None, body: bytes = b"") -> None:
        super().__init__(reason)
        self.status = status
        self.body = body


def _canonical(value: Any) -> Any:
    """Keys sorted (by json.dumps) and arrays sorted, so equal records serialise equally."""
    if isinstance(value, Mapping):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def cache_key(oauth: Mapping[str, Any]) -> str:
    """``upstream-oauth:`` + sha256 of the canonical ``config.oauth`` record (https://developer.konghq.com/plugins/upstream-oauth/#caching)."""
    canonical = json.dumps(_canonical(oauth), sort_keys=True, separators=(",", ":"))
    return "upstream-oauth:" + hashlib.sha256(canonical.encode()).hexdigest()


def _number(value: Any) -> float | None:
    """A JSON number, or a numeric string as Lua arithmetic would coerce it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


class UpstreamOauthPlugin(Plugin):
    """Obtains, caches and injects an access token for the upstream (https://developer.konghq.com/plugins/upstream-oauth/)."""

    name: ClassVar[str] = "upstream-oauth"
    PRIORITY: ClassVar[int] = 760

    @classmethod
    def entity_checks(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """client_id and client_secret are required unless ``client.auth_method`` is ``none`` (https://developer.konghq.com/plugins/upstream-oauth/reference/)."""
        oauth = config.get("oauth") or {}
        method = (config.get("client") or {}).get("auth_method", "client_secret_post")
        if method != "none" and (not oauth.get("client_id") or not oauth.get("client_secret")):
            return {"@entity": ["client_id and client_secret must be provided for authentication"]}
        return {}

    @property
    def _oauth(self) -> Mapping[str, Any]:
        return self.config.get("oauth") or {}

    @property
    def _behavior(self) -> Mapping[str, Any]:
        return self.config.get("behavior") or {}

    async def access(self, ctx: RequestContext) -> Exit | None:
        cache = node_cache(self.runtime, CACHE_NAME)
        key = cache_key(self._oauth)
        token = None if self.runtime.defects.on("upstream_oauth_no_cache") else cache.get(key)
        if not isinstance(token, UpstreamToken):
            try:
                token = await self._fetch_token()
            except IdpFailure as failure:
                return self._idp_error(failure)
            cache.set(key, token, self._ttl(token))
        header = self._behavior.get("upstream_access_token_header_name") or "Authorization"
        if switched_on(self.runtime.defects, "option_upstream_oauth_header_name_ignored"):
            header = "Authorization"
        token_type = token.token_type if token.token_type is not None else "Bearer"
        value = f"{token_type} {token.access_token}"
        if self.runtime.defects.on("upstream_oauth_append_token_header"):
            ctx.request.headers.add(header, value)
        else:
            ctx.request.headers.set(header, value)
        return None

    async def header_filter(self, ctx: RequestContext, response: UpstreamResponse) -> None:
        """Purge the cached token when the upstream answers a configured status (https://developer.konghq.com/plugins/upstream-oauth/#caching)."""
        codes = self._behavior.get("purge_token_on_upstream_status_codes") or []
        if response.status in codes and not self.runtime.defects.on("upstream_oauth_never_purge"):
            node_cache(self.runtime, CACHE_NAME).delete(cache_key(self._oauth))

    def _ttl(self, token: UpstreamToken) -> float:
        """max(0.001, expires_in - eagerly_expire), else cache.default_ttl (https://developer.konghq.com/plugins/upstream-oauth/#caching)."""
        cache_conf = self.config.get("cache") or {}
        if token.expires_in is None:
            return float(cache_conf.get("default_ttl", 3600))
        eager = float(cache_conf.get("eagerly_expire", 5))
        if self.runtime.defects.on("upstream_oauth_ignore_eagerly_expire"):
            eager = 0.0
        return max(0.001, token.expires_in - eager)

    def _token_request(self) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """Headers and form body of the token request (https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods)."""
        oauth = self._oauth
        client_id = oauth.get("client_id") or ""
        client_secret = oauth.get("client_secret") or ""
        if switched_on(self.runtime.defects, "option_upstream_oauth_client_secret_ignored"):
            client_secret = ""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if not switched_on(self.runtime.defects, "option_upstream_oauth_token_headers_not_sent"):
            headers.update(oauth.get("token_headers") or {})
        form: list[tuple[str, str]] = list((oauth.get("token_post_args") or {}).items())
        grant_type = oauth.get("grant_type") or "client_credentials"
        if switched_on(self.runtime.defects, "option_upstream_oauth_grant_type_ignored"):
            grant_type = "password"
        form.append(("grant_type", grant_type))
        for name in ("username", "password"):
            if oauth.get(name) is not None:
                form.append((name, oauth[name]))
        if oauth.get("scopes") and not switched_on(
            self.runtime.defects, "option_upstream_oauth_scopes_not_sent"
        ):
            form.append(("scope", " ".join(oauth["scopes"])))
        if oauth.get("audience"):
            form.append(("audience", " ".join(oauth["audience"])))
        elif self.runtime.defects.on("upstream_oauth_sends_unset_params_empty"):
            form += [(name, "") for name in ("audience", "username", "password") if oauth.get(name) is None]
        method = (self.config.get("client") or {}).get("auth_method") or "client_secret_post"
        if method == "client_secret_basic" and self.runtime.defects.on("upstream_oauth_post_when_basic"):
            method = "client_secret_post"
        if method == "client_secret_post" and switched_on(
            self.runtime.defects, "option_upstream_oauth_post_sent_as_basic"
        ):
            method = "client_secret_basic"
        if method == "client_secret_post":
            form += [("client_id", client_id), ("client_secret", client_secret)]
        elif method == "client_secret_basic":
            raw = f"{client_id}:{client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        elif method == "client_secret_jwt":
            form += [("client_assertion_type", JWT_BEARER), ("client_assertion", self._client_assertion())]
        return headers, form

    def _client_assertion(self) -> str:
        """An HS-signed JWT: iss=sub=client_id, aud=token_endpoint, random jti, nbf=now, exp=now+60."""
        oauth = self._oauth
        now = int(self.runtime.clock.now())
        claims = {
            "iss": oauth.get("client_id"),
            "sub": oauth.get("client_id"),
            "aud": oauth.get("token_endpoint"),
            "jti": secrets.token_urlsafe(24),
            "nbf": now,
            "exp": now + 60,
        }
        alg = (self.config.get("client") or {}).get("client_secret_jwt_alg") or "HS512"
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", InsecureKeyLengthWarning
            )  # Kong signs with whatever secret it has
            return jwt.encode(claims, oauth.get("client_secret") or "", algorithm=alg)

    async def _fetch_token(self) -> UpstreamToken:
        """Ask the IdP; success needs status < 400, a JSON object and a non-empty access_token (https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods)."""
        endpoint = self._oauth["token_endpoint"]
        headers, form = self._token_request()
        timeout = float((self.config.get("client") or {}).get("timeout", 10000)) / 1000.0
        try:
            response = await self.runtime.http.post(
                endpoint, content=urlencode(form), headers=headers, timeout=timeout
            )
        except httpx.HTTPError as exc:
            raise IdpFailure(f"token request failed: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise IdpFailure("token endpoint error", response.status_code, response.content)
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            raise IdpFailure(
                "token endpoint answered non-JSON", response.status_code, response.content
            ) from exc
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("access_token"), str)
            or not body["access_token"]
        ):
            raise IdpFailure("token endpoint gave no access_token", response.status_code, response.content)
        token_type = body.get("token_type")
        return UpstreamToken(
            access_token=body["access_token"],
            token_type=None if token_type is None else str(token_type),
            expires_in=_number(body.get("expires_in")),
        )

    def _idp_error(self, failure: IdpFailure) -> Exit:
        """The configured status, content type and body template; the IdP's body is only logged (2.4)."""
        log.warning("upstream-oauth: %s (IdP status %s)", failure, failure.status)
        behavior = self._behavior
        if self.runtime.defects.on("upstream_oauth_leak_idp_error") and failure.status is not None:
            return Exit(failure.status, failure.body, {"Content-Type": "application/json"})
        on = self.runtime.defects
        status = int(behavior.get("idp_error_response_status_code", 502))
        if switched_on(on, "option_upstream_oauth_idp_error_status_ignored"):
            status = 502
        message = behavior.get("idp_error_response_message", "Failed to authenticate request to upstream")
        if switched_on(on, "option_upstream_oauth_idp_error_message_ignored"):
            message = "Failed to authenticate request to upstream"
        template = behavior.get("idp_error_response_body_template", "")
        if switched_on(on, "option_upstream_oauth_idp_error_body_template_ignored"):
            template = ""
        body = template.replace("{{status}}", str(status)).replace("{{message}}", message)
        content_type = behavior.get("idp_error_response_content_type") or ""
        if switched_on(on, "option_upstream_oauth_idp_error_content_type_ignored"):
            content_type = ""
        return Exit(status, body, {"Content-Type": content_type} if content_type else {})
