"""The declared profile: issuer objects (auth server, scopes, claims, clients) and the handles tests see.

Everything a run needs is declared once, as data, and applied once per run: first the issuer objects
through :class:`~kongformance.clients.identity_api.IdentityApi` (the answers give ids, the issuer URL and
client secrets; this module), then the gateway config, a decK-format document with one route per flow variant
(:mod:`kongformance.profile_gateway`, which imports this module, never the reverse) applied through
:class:`~kongformance.clients.kong_admin.KongAdmin`. :class:`ProfileHandles` is what tests see; it is plain
JSON so the xdist controller can hand it to workers.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field

from kongformance import run_ledger
from kongformance.clients.identity_api import IdentityApi

TOKEN_LIFETIME = 60  # the shortest access_token_duration Kong Identity allows (kong-identity-v1.yaml TokenDuration minimum)
AUDIENCE = "https://api.kongformance.test"
OTHER_AUDIENCE = "https://other.kongformance.test"


@dataclass(frozen=True)
class ScopeSpec:
    name: str
    default: bool = False
    include_in_metadata: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class ClaimSpec:
    """A claim and its inclusion mode: always | scopes | no-scope | never (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim)."""

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


PLACEHOLDER_RUN_ID = "config"  # the handles of `kongformance config`: no run, no per-run names or paths


def new_run_id() -> str:
    return run_ledger.new_run_id()


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


def apply_issuer_objects(
    api: IdentityApi, run_id: str, ledger: run_ledger.RunLedger | None = None
) -> ProfileHandles:
    """Create the auth server (labelled with the run, announced in ``ledger`` first), its scopes, claims and
    clients; return their handles (no routes yet). The children go with the auth server."""
    name = f"kongformance-{run_id}"
    labels = run_ledger.run_labels(run_id)
    if ledger is not None:
        ledger.intent("auth_server", api.base_url, labels=labels)
    server = api.create_auth_server(
        name, AUDIENCE, description="kongformance conformance profile", labels=labels
    )
    sid = server["id"]
    if ledger is not None:
        ledger.created("auth_server", api.base_url, sid)
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


def placeholder_handles() -> ProfileHandles:
    """Handles with decK environment placeholders, for ``kongformance config`` (users fill in their issuer)."""
    env = '${{ env "DECK_%s" }}'
    creds = ClientCreds(env % "GATEWAY_CLIENT_ID", env % "GATEWAY_CLIENT_SECRET", "gateway")
    server = AuthServerHandle("", env % "ISSUER_URL", AUDIENCE, "")
    oauth2 = ClientCreds(env % "OAUTH2_CLIENT_ID", env % "OAUTH2_CLIENT_SECRET", "kf-oauth2")
    return ProfileHandles(PLACEHOLDER_RUN_ID, server, {}, {}, {"gateway": creds}, oauth2)
