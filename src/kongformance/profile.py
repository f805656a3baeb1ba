"""The declared profile: issuer objects (auth server, scopes, claims, clients) and the gateway config.

Everything a run needs is declared here once, as data, and applied once per run: first the issuer objects
through :class:`~kongformance.clients.identity_api.IdentityApi` (the answers give ids, the issuer URL and
client secrets), then the gateway config, a decK-format document with one route per flow variant
(:func:`gateway_config`) applied through :class:`~kongformance.clients.kong_admin.KongAdmin`.
:class:`ProfileHandles` is what tests see; it is plain JSON so the xdist controller can hand it to workers.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from kongformance.clients.identity_api import IdentityApi
from kongformance.clients.issuer import basic_auth
from kongformance.clients.kong_admin import TAG

TOKEN_LIFETIME = 60  # the shortest access_token_duration Kong Identity allows (kong-identity.md A.6)
AUDIENCE = "https://api.kongformance.test"
OTHER_AUDIENCE = "https://other.kongformance.test"
ROUTE_PREFIX = "/kf"
UNREACHABLE_ISSUER = "http://127.0.0.1:9/kf-unreachable/auth"  # port 9 (discard): connection refused


@dataclass(frozen=True)
class ScopeSpec:
    name: str
    default: bool = False
    include_in_metadata: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class ClaimSpec:
    """A claim and its inclusion mode: always | scopes | no-scope | never (kong-identity.md A.5)."""

    name: str
    value: str
    mode: str = "always"
    scopes: tuple[str, ...] = ()
    enabled: bool = True


@dataclass(frozen=True)
class ClientSpec:
    role: str
    allow_all_scopes: bool = False
    allow_scopes: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()


SCOPES: tuple[ScopeSpec, ...] = (
    ScopeSpec("read", include_in_metadata=True),
    ScopeSpec("write"),
    ScopeSpec("admin"),
    ScopeSpec("profile", default=True, include_in_metadata=True),
    ScopeSpec("disabled", enabled=False),
)

CLAIMS: tuple[ClaimSpec, ...] = (
    ClaimSpec("kf_always", "always-value"),
    ClaimSpec("kf_read", "read-value", mode="scopes", scopes=("read",)),
    ClaimSpec("kf_noscope", "noscope-value", mode="no-scope"),
    ClaimSpec("kf_never", "never-value", mode="never"),
    ClaimSpec("kf_disabled", "disabled-value", enabled=False),
    ClaimSpec("kf_number", "42"),
    ClaimSpec("kf_json", '{"a":[1,2],"b":true}'),
    ClaimSpec("kf_tpl_name", "${ .Client.Name }"),
    ClaimSpec("kf_tpl_upper", "${ upper .Client.Name }"),
    ClaimSpec("kf_tpl_concat", "${ .AuthServer.Audience }-${ .Client.ID }"),
    ClaimSpec("kf_tpl_tier", "${ .Client.Labels.tier }"),
    ClaimSpec("kf_tpl_uuid", "${ uuidv4 }"),
    ClaimSpec("kf_tpl_list", '${ list "a" "b" | toJson }'),
)

CLIENTS: tuple[ClientSpec, ...] = (
    ClientSpec("default", allow_scopes=("read", "write", "disabled")),
    ClientSpec("all_scopes", allow_all_scopes=True),
    ClientSpec("labelled", allow_scopes=("read",), labels=(("tier", "gold"),)),
    ClientSpec("gateway", allow_scopes=("read",)),
)

# upstream header name -> claim, for the openid-connect header variants (kong-plugins.md 1.9)
UPSTREAM_CLAIM_HEADERS: dict[str, str] = {
    "X-KF-Always": "kf_always",
    "X-KF-Number": "kf_number",
    "X-KF-Json": "kf_json",
    "X-KF-Tier": "kf_tpl_tier",
}


@dataclass
class ClientCreds:
    id: str
    secret: str
    name: str


@dataclass
class AuthServerHandle:
    id: str
    issuer: str
    audience: str
    name: str


@dataclass
class RouteHandle:
    name: str
    path: str
    plugin: str | None


@dataclass
class JwtKey:
    """The RSA key pair behind the jwt plugin's credential (``key`` is the ``iss`` the plugin looks up)."""

    key: str
    private_pem: str
    public_pem: str


@dataclass
class ProfileHandles:
    """Ids, URLs and credentials of the applied profile (what tests use)."""

    run_id: str
    auth_server: AuthServerHandle
    scopes: dict[str, str]
    claims: dict[str, str]
    clients: dict[str, ClientCreds]
    oauth2: ClientCreds | None = None
    routes: dict[str, RouteHandle] = field(default_factory=dict)
    jwt: JwtKey | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ProfileHandles:
        d = json.loads(text)
        return cls(
            run_id=d["run_id"],
            auth_server=AuthServerHandle(**d["auth_server"]),
            scopes=d["scopes"],
            claims=d["claims"],
            clients={k: ClientCreds(**v) for k, v in d["clients"].items()},
            oauth2=ClientCreds(**d["oauth2"]) if d.get("oauth2") else None,
            routes={k: RouteHandle(**v) for k, v in d["routes"].items()},
            jwt=JwtKey(**d["jwt"]) if d.get("jwt") else None,
        )


def new_run_id() -> str:
    return secrets.token_hex(4)


def new_jwt_key(run_id: str) -> JwtKey:
    """A fresh RSA-2048 key pair for the jwt plugin's credential (independent of the issuer's rotating keys)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return JwtKey(f"kf-jwt-issuer-{run_id}", private_pem, public_pem)


def apply_issuer_objects(api: IdentityApi, run_id: str) -> ProfileHandles:
    """Create the auth server, scopes, claims and clients; return their handles (no routes yet)."""
    name = f"kongformance-{run_id}"
    server = api.create_auth_server(name, AUDIENCE, description="kongformance conformance profile")
    sid = server["id"]
    scope_ids: dict[str, str] = {}
    for s in SCOPES:
        created = api.create_scope(
            sid, s.name, default=s.default, include_in_metadata=s.include_in_metadata, enabled=s.enabled
        )
        scope_ids[s.name] = created["id"]
    claim_ids: dict[str, str] = {}
    for c in CLAIMS:
        created = api.create_claim(
            sid,
            c.name,
            c.value,
            include_in_token=c.mode != "never",
            include_in_all_scopes=c.mode == "always",
            include_in_scopes=[scope_ids[n] for n in c.scopes],
            enabled=c.enabled,
        )
        claim_ids[c.name] = created["id"]
    clients: dict[str, ClientCreds] = {}
    for spec in CLIENTS:
        cname = f"kf-{spec.role}-{run_id}"
        created = api.create_client(
            sid,
            cname,
            access_token_duration=TOKEN_LIFETIME,
            allow_all_scopes=spec.allow_all_scopes,
            allow_scopes=[scope_ids[n] for n in spec.allow_scopes],
            labels=dict(spec.labels) or None,
        )
        clients[spec.role] = ClientCreds(created["id"], created["client_secret"], cname)
    handle = AuthServerHandle(sid, server["issuer"], server["audience"], name)
    oauth2 = ClientCreds(f"kf-oauth2-{run_id}", secrets.token_urlsafe(24), f"kf-oauth2-{run_id}")
    return ProfileHandles(run_id, handle, scope_ids, claim_ids, clients, oauth2, jwt=new_jwt_key(run_id))


def remove_issuer_objects(api: IdentityApi, handles: ProfileHandles) -> None:
    """Delete the auth server and everything under it."""
    api.delete_auth_server(handles.auth_server.id, force=True)


# ---------------------------------------------------------------------- gateway config
PluginBuilder = Callable[[ProfileHandles], dict[str, Any]]


def _oidc(**config: Any) -> PluginBuilder:
    def build(h: ProfileHandles) -> dict[str, Any]:
        base: dict[str, Any] = {"issuer": h.auth_server.issuer, "auth_methods": ["bearer"]}
        base.update(config)
        return {"name": "openid-connect", "config": base}

    return build


def _oidc_unreachable(h: ProfileHandles) -> dict[str, Any]:
    return {"name": "openid-connect", "config": {"issuer": UNREACHABLE_ISSUER, "auth_methods": ["bearer"]}}


def _jwt(h: ProfileHandles) -> dict[str, Any]:
    return {"name": "jwt", "config": {"claims_to_verify": ["exp", "nbf"], "realm": "kongformance"}}


def _oidc_headers(h: ProfileHandles) -> dict[str, Any]:
    plugin = _oidc()(h)
    plugin["config"]["upstream_headers_claims"] = list(UPSTREAM_CLAIM_HEADERS.values())
    plugin["config"]["upstream_headers_names"] = list(UPSTREAM_CLAIM_HEADERS)
    return plugin


def _oidc_introspection(cache: bool) -> PluginBuilder:
    def build(h: ProfileHandles) -> dict[str, Any]:
        gw = h.clients["gateway"]
        config = {
            "issuer": h.auth_server.issuer,
            "auth_methods": ["introspection"],
            "client_id": [gw.id],
            "client_secret": [gw.secret],
            "cache_introspection": cache,
        }
        return {"name": "openid-connect", "config": config}

    return build


def _authorization_value(gw: ClientCreds) -> str:
    if gw.id.startswith("${{"):  # placeholder handles of `kongformance config`
        return '${{ env "DECK_GATEWAY_BASIC_AUTH" }}'
    return basic_auth(gw.id, gw.secret)


def _introspection_plugin(ttl: int) -> PluginBuilder:
    def build(h: ProfileHandles) -> dict[str, Any]:
        gw = h.clients["gateway"]
        config = {
            "introspection_url": h.auth_server.issuer + "/introspect",
            "authorization_value": _authorization_value(gw),
            "consumer_by": "client_id",
            "custom_claims_forward": ["kf_always"],
            "ttl": ttl,
        }
        return {"name": "oauth2-introspection", "config": config}

    return build


def _upstream_oauth(
    variant: str, auth_method: str, *, wrong_secret: bool = False, header: str | None = None
) -> PluginBuilder:
    def build(h: ProfileHandles) -> dict[str, Any]:
        gw = h.clients["gateway"]
        config: dict[str, Any] = {
            "oauth": {
                "token_endpoint": h.auth_server.issuer + "/oauth/token",
                "grant_type": "client_credentials",
                "client_id": gw.id,
                "client_secret": "not-the-secret" if wrong_secret else gw.secret,
                "scopes": ["read"],
                # a distinct oauth record per variant: Kong shares the token cache between identical records
                "token_headers": {"X-KF-Variant": variant},
            },
            "client": {"auth_method": auth_method},
        }
        if header:
            config["behavior"] = {"upstream_access_token_header_name": header}
        return {"name": "upstream-oauth", "config": config}

    return build


def _oauth2(h: ProfileHandles) -> dict[str, Any]:
    config = {"enable_client_credentials": True, "global_credentials": True, "scopes": ["read", "write"]}
    return {"name": "oauth2", "config": config}


@dataclass(frozen=True)
class RouteVariant:
    """One route of the profile: its plugins, upstream path, and whether it needs a database."""

    plugins: tuple[PluginBuilder, ...]
    upstream_path: str = "/anything"
    needs_db: bool = False
    protected: bool = True  # refuses unauthenticated requests (checked by the guard)
    min_version: tuple[int, int] = (0, 0)  # Kong version that introduced a config field it uses


ROUTE_VARIANTS: dict[str, RouteVariant] = {
    "oidc-bearer": RouteVariant((_oidc(),)),
    "oidc-bearer-header-only": RouteVariant((_oidc(bearer_token_param_type=["header"]),)),
    "oidc-bearer-scopes": RouteVariant((_oidc(scopes_required=["read"]),)),
    "oidc-bearer-scopes-and": RouteVariant((_oidc(scopes_required=["read write"]),)),
    "oidc-bearer-scopes-or": RouteVariant((_oidc(scopes_required=["admin", "write"]),)),
    "oidc-bearer-audience": RouteVariant((_oidc(audience_required=[AUDIENCE]),)),
    "oidc-bearer-audience-other": RouteVariant((_oidc(audience_required=[OTHER_AUDIENCE]),)),
    "oidc-bearer-headers": RouteVariant((_oidc_headers,)),
    "oidc-bearer-leeway": RouteVariant((_oidc(leeway=30),)),
    # discovery cannot load: 500 (kong-plugins.md 1.3); not guarded, it never answers 4xx
    "oidc-bearer-discovery-down": RouteVariant((_oidc_unreachable,), protected=False),
    "jwt": RouteVariant((_jwt,)),
    "oidc-introspection": RouteVariant((_oidc_introspection(cache=True),)),
    "oidc-introspection-nocache": RouteVariant((_oidc_introspection(cache=False),)),
    "oidc-kong-oauth2": RouteVariant((_oidc(auth_methods=["kong_oauth2"]),), needs_db=True),
    "oauth2": RouteVariant((_oauth2,), needs_db=True),
    "oauth2-introspection": RouteVariant((_introspection_plugin(ttl=30),)),
    "oauth2-introspection-ttl1": RouteVariant((_introspection_plugin(ttl=1),)),
    # openid-connect (1050) must run before upstream-oauth (760): kong-plugins.md 0
    "oidc-bearer-upstream-oauth": RouteVariant((_oidc(), _upstream_oauth("chain", "client_secret_post"))),
    "upstream-oauth-post": RouteVariant((_upstream_oauth("post", "client_secret_post"),), protected=False),
    "upstream-oauth-basic": RouteVariant((_upstream_oauth("basic", "client_secret_basic"),), protected=False),
    "upstream-oauth-header": RouteVariant(
        (_upstream_oauth("header", "client_secret_post", header="X-Upstream-Token"),), protected=False
    ),
    "upstream-oauth-purge": RouteVariant(
        (_upstream_oauth("purge", "client_secret_post"),), upstream_path="/status/401", protected=False
    ),
    "upstream-oauth-idp-error": RouteVariant(
        (_upstream_oauth("idp-error", "client_secret_post", wrong_secret=True),), protected=False
    ),
    # openid-connect introspection with scopes_required (flow-suites: 403 after an active introspection)
    "oidc-introspection-scopes": RouteVariant(
        (
            lambda h: {
                "name": "openid-connect",
                "config": {**_oidc_introspection(cache=False)(h)["config"], "scopes_required": ["read"]},
            },
        )
    ),
    # two Services with oauth2 bound to them (global_credentials false): tokens must not cross (kong-plugins.md 4.2)
    "oauth2-service": RouteVariant(
        (lambda h: {"name": "oauth2", "config": {"enable_client_credentials": True, "scopes": ["read"]}},),
        needs_db=True,
    ),
    "oauth2-service-other": RouteVariant(
        (lambda h: {"name": "oauth2", "config": {"enable_client_credentials": True, "scopes": ["read"]}},),
        needs_db=True,
    ),
    # upstream-oauth whose token answers a test scripts through issuer faults (flow-suites; kong-plugins.md 2.3-2.5)
    "upstream-oauth-scripted": RouteVariant(
        (_upstream_oauth("scripted", "client_secret_post"),), protected=False
    ),
    # upstream-oauth with a configured IdP error answer (flow-suites; kong-plugins.md 2.4)
    "upstream-oauth-idp-custom": RouteVariant(
        (
            lambda h: {
                "name": "upstream-oauth",
                "config": {
                    **_upstream_oauth("idp-custom", "client_secret_post", wrong_secret=True)(h)["config"],
                    "behavior": {
                        "idp_error_response_status_code": 503,
                        "idp_error_response_content_type": "application/problem+json",
                        "idp_error_response_message": "kf idp unavailable",
                        "idp_error_response_body_template": '{"status": {{status}}, "detail": "{{message}}"}',
                    },
                },
            },
        ),
        protected=False,
    ),
    # upstream-oauth for the negative catalogue's scripted IdP answers (negative-suites; anchors 8 F.66-F.69)
    "upstream-oauth-negative": RouteVariant(
        (_upstream_oauth("negative", "client_secret_post"),), protected=False
    ),
    # claim templating property suite (negative-suites): one claim name forwarded by openid-connect (kong-plugins.md 1.9)
    "oidc-bearer-claim-headers": RouteVariant(
        (
            _oidc(
                upstream_headers_claims=["kf_prop"],
                upstream_headers_names=["X-KF-Prop"],
                upstream_headers=[{"header": "X-KF-Prop-Inner", "path": ["kf_prop_obj", "inner"]}],
            ),
        ),
        min_version=(3, 14),  # upstream_headers is a 3.14 field (kong-plugins.md 1.9)
    ),
    # claim templating property suite (negative-suites): custom_claims_forward of one claim (kong-plugins.md 3.5)
    "oauth2-introspection-claims": RouteVariant(
        (
            lambda h: {
                "name": "oauth2-introspection",
                "config": {
                    **_introspection_plugin(ttl=30)(h)["config"],
                    "custom_claims_forward": ["kf_prop"],
                },
            },
        )
    ),
    # last: once the sentinel answers, everything declared before it has taken effect
    "sentinel": RouteVariant((), protected=False),
}


def route_path(variant: str) -> str:
    return f"{ROUTE_PREFIX}/{variant}"


def gateway_config(
    handles: ProfileHandles,
    upstream_url: str,
    *,
    with_db: bool = True,
    kong_version: tuple[int, int] = (3, 15),
) -> dict[str, Any]:
    """The decK-format document for ``handles``: one service and route per variant (protocols http+https),
    leaving out variants that need a database (``with_db=False``) or a newer Kong than ``kong_version``."""
    services: list[dict[str, Any]] = []
    routes: dict[str, RouteHandle] = {}
    for variant, spec in ROUTE_VARIANTS.items():
        if (spec.needs_db and not with_db) or spec.min_version > kong_version:
            continue
        name = f"kf-{variant}"
        route = {
            "name": name,
            "paths": [route_path(variant)],
            "protocols": ["http", "https"],
            "strip_path": True,
            "tags": [TAG],
            "plugins": [{**build(handles), "tags": [TAG]} for build in spec.plugins],
        }
        services.append(
            {
                "name": name,
                "url": upstream_url.rstrip("/") + spec.upstream_path,
                "tags": [TAG],
                "routes": [route],
            }
        )
        plugin = spec.plugins[0](handles)["name"] if spec.plugins else None
        routes[variant] = RouteHandle(name, route_path(variant), plugin)
    handles.routes = routes
    doc: dict[str, Any] = {"_format_version": "3.0", "services": services}
    consumers: list[dict[str, Any]] = []
    if handles.jwt is not None:
        consumers.append(
            {
                "username": f"kf-jwt-user-{handles.run_id}",
                "tags": [TAG],
                "jwt_secrets": [
                    {
                        "key": handles.jwt.key,
                        "algorithm": "RS256",
                        "rsa_public_key": handles.jwt.public_pem,
                        "tags": [TAG],
                    }
                ],
            }
        )
    if consumers:
        doc["consumers"] = consumers
    if with_db and handles.oauth2 is not None:
        cred = handles.oauth2
        doc.setdefault("consumers", []).extend(
            [
                {
                    "username": f"kf-oauth2-user-{handles.run_id}",
                    "custom_id": f"kf-oauth2-custom-{handles.run_id}",
                    "tags": [TAG],
                    "oauth2_credentials": [
                        {"name": cred.name, "client_id": cred.id, "client_secret": cred.secret, "tags": [TAG]}
                    ],
                }
            ]
        )
    return doc


def protected_variants(handles: ProfileHandles) -> list[str]:
    """Route variants of the applied profile that must refuse an unauthenticated request (the guard)."""
    return [v for v in handles.routes if ROUTE_VARIANTS[v].protected]


def placeholder_handles() -> ProfileHandles:
    """Handles with decK environment placeholders, for ``kongformance config`` (users fill in their issuer)."""
    env = '${{ env "DECK_%s" }}'
    creds = ClientCreds(env % "GATEWAY_CLIENT_ID", env % "GATEWAY_CLIENT_SECRET", "gateway")
    server = AuthServerHandle("", env % "ISSUER_URL", AUDIENCE, "")
    oauth2 = ClientCreds(env % "OAUTH2_CLIENT_ID", env % "OAUTH2_CLIENT_SECRET", "kf-oauth2")
    return ProfileHandles("config", server, {}, {}, {"gateway": creds}, oauth2)
