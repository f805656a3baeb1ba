"""The profile's gateway side: the route table (:data:`kongformance.profile_routes.ROUTE_VARIANTS`) rendered as a
decK document.

:func:`gateway_config` turns the applied issuer objects (:class:`~kongformance.profile.ProfileHandles`) into
the decK-format document that :class:`~kongformance.clients.kong_admin.KongAdmin` applies; it also fills in
``handles.routes``. Each run's routes live under its own path prefix (``/kf/<run id>/<variant>``) and every
entity carries the run's tag (``kf-run-<run id>``) besides ``kongformance``, so concurrent runs on one gateway
never meet (docs/cleanup.md).
"""

from __future__ import annotations

from typing import Any

from kongformance.clients.kong_admin import TAG
from kongformance.profile import PLACEHOLDER_RUN_ID, ProfileHandles, RouteHandle
from kongformance.profile_credentials import OAUTH2_REDIRECT_URI, jwt_eddsa_keys
from kongformance.profile_routes import ROUTE_VARIANTS
from kongformance.run_ledger import run_tag

ROUTE_PREFIX = "/kf"


def route_prefix(run_id: str = PLACEHOLDER_RUN_ID) -> str:
    """Where a run's routes live: ``/kf/<run id>`` (``/kf`` for the placeholder profile of ``config``)."""
    return ROUTE_PREFIX if run_id == PLACEHOLDER_RUN_ID else f"{ROUTE_PREFIX}/{run_id}"


def route_path(variant: str, run_id: str = PLACEHOLDER_RUN_ID) -> str:
    return f"{route_prefix(run_id)}/{variant}"


def entity_tags(run_id: str) -> list[str]:
    """Tags of every gateway entity a run creates: the suite's and the run's own (teardown goes by the latter)."""
    return [TAG] if run_id == PLACEHOLDER_RUN_ID else [TAG, run_tag(run_id)]


def absent_variant_reason(variant: str, *, target: str = "") -> str:
    """Why route variant ``variant`` is not in this run's profile, naming the capability it needs."""
    from kongformance.run_checks import lacks_reason

    spec = ROUTE_VARIANTS.get(variant)
    if spec is not None and spec.needs_db:
        return lacks_reason(["db"], f"route variant {variant!r} needs a database", target=target)
    if spec is not None and spec.min_version > (0, 0):
        since = ".".join(map(str, spec.min_version))
        return lacks_reason(
            ["kong_version"], f"route variant {variant!r} needs Kong {since} or later", target=target
        )
    return f"route variant {variant!r} is not part of this run's profile"


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
    run = handles.run_id
    tags = entity_tags(run)
    suffix = "" if run == PLACEHOLDER_RUN_ID else f"-{run}"  # names are unique per gateway
    for variant, spec in ROUTE_VARIANTS.items():
        if (spec.needs_db and not with_db) or spec.min_version > kong_version:
            continue
        name = f"kf-{variant}{suffix}"
        route = {
            "name": name,
            "paths": [route_path(variant, run)],
            "protocols": ["http", "https"],
            "strip_path": True,
            "tags": tags,
            "plugins": [{**build(handles), "tags": tags} for build in spec.plugins],
        }
        services.append(
            {
                "name": name,
                "url": upstream_url.rstrip("/") + spec.upstream_path,
                "tags": tags,
                "routes": [route],
            }
        )
        plugin = spec.plugins[0](handles)["name"] if spec.plugins else None
        routes[variant] = RouteHandle(name, route_path(variant, run), plugin)
    handles.routes = routes
    doc: dict[str, Any] = {"_format_version": "3.0", "services": services}
    consumers: list[dict[str, Any]] = []
    if handles.jwt is not None:
        consumers.append(
            {
                "username": f"kf-jwt-user-{handles.run_id}",
                "tags": tags,
                "jwt_secrets": [
                    {
                        "key": handles.jwt.key,
                        "algorithm": "RS256",
                        "rsa_public_key": handles.jwt.public_pem,
                        "tags": tags,
                    },
                    *(
                        {"key": k.key, "algorithm": "EdDSA", "rsa_public_key": k.public_pem, "tags": tags}
                        for k in jwt_eddsa_keys(handles).values()
                    ),
                ],
            }
        )
    mapped = handles.clients.get("all_scopes")
    if mapped is not None:
        # oauth2-introspection consumer_by client_id maps a token's client_id to this consumer's custom_id
        consumers.append(
            {"username": f"kf-introspection-user-{handles.run_id}", "custom_id": mapped.id, "tags": [TAG]}
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
                    "tags": tags,
                    "oauth2_credentials": [
                        {
                            "name": cred.name,
                            "client_id": cred.id,
                            "client_secret": cred.secret,
                            "tags": tags,
                        },
                        {
                            "name": f"{cred.name}-app",
                            "client_id": f"{cred.id}-app",
                            "client_secret": cred.secret,
                            "redirect_uris": [OAUTH2_REDIRECT_URI],
                            "tags": tags,
                        },
                    ],
                }
            ]
        )
    return doc


def protected_variants(handles: ProfileHandles) -> list[str]:
    """Route variants of the applied profile that must refuse an unauthenticated request (the guard)."""
    return [v for v in handles.routes if ROUTE_VARIANTS[v].protected]
