"""Removing what a run created: its own teardown, and the leftovers of runs that crashed.

A run's objects are found two ways, and both are used every time:

- **by ledger** (:mod:`kongformance.run_ledger`): the auth server ids it recorded, the tag and labels it
  announced, the DB-less gateway config it replaced, the container label of its stack;
- **by label/tag**: every auth server labelled ``kf-run=<id>`` (its scopes, claims and clients go with it,
  ``DELETE ...?force=true``), every gateway entity tagged ``kf-run-<id>`` (plugins, routes, services,
  consumers, in that order), every container labelled ``io.kongformance.run``. This finds what a run
  created but had not recorded yet when it was killed, and what in-test fixtures created.

A run is only ever removed when it is not alive: its ledger's owner process is gone (same host), or nothing
on this host owns it and it is older than ``older_than`` seconds (objects from other machines).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from kongformance.clients.identity_api import IdentityApi
from kongformance.clients.kong_admin import TAG, KongAdmin
from kongformance.run_ledger import (
    OWNER,
    OWNER_LABEL,
    RUN_LABEL,
    TAG_PREFIX,
    LedgerRun,
    run_tag,
    runs,
)

GATEWAY_COLLECTIONS = ("/plugins", "/routes", "/services", "/consumers")
DEFAULT_OLDER_THAN = 3600.0
CLEANUP_ERRORS = (httpx.HTTPError, RuntimeError, OSError, ValueError)


@dataclass
class Swept:
    """What a cleanup removed (counts per kind) and what it could not reach."""

    removed: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    runs: set[str] = field(default_factory=set)

    def add(self, kind: str, n: int = 1) -> None:
        if n:
            self.removed[kind] = self.removed.get(kind, 0) + n

    def total(self) -> int:
        return sum(self.removed.values())

    def summary(self) -> str:
        if not self.removed:
            return "nothing to remove"
        parts = ", ".join(f"{n} {kind}" for kind, n in sorted(self.removed.items()))
        return f"removed {parts} of {len(self.runs)} run(s)"


# ---------------------------------------------------------------------------------------------- gateway
def sweep_gateway(admin: KongAdmin, tag: str) -> int:
    """Delete every plugin, route, service and consumer tagged ``tag``; returns how many."""
    return admin.remove_tagged(tag)


def gateway_runs(admin: KongAdmin) -> dict[str, float]:
    """Run ids found in gateway entity tags (``kf-run-<id>``), each with its newest ``created_at``."""
    found: dict[str, float] = {}
    for collection in GATEWAY_COLLECTIONS:
        for entity in admin.list_all(collection, tags=TAG):
            for t in entity.get("tags") or []:
                if isinstance(t, str) and t.startswith(TAG_PREFIX):
                    rid = t[len(TAG_PREFIX) :]
                    found[rid] = max(found.get(rid, 0.0), float(entity.get("created_at") or 0))
    return found


def read_config(admin: KongAdmin) -> str:
    """``GET /config`` of a DB-less gateway: its current declarative config (YAML text)."""
    return str(admin.call("GET", "/config", expect=(200,))["config"])


def restore_config(admin: KongAdmin, config: str) -> None:
    """``POST /config`` with a saved declarative config (form field ``config``, as Kong's docs show)."""
    resp = admin.http.post(
        admin.base_url + "/config",
        data={"config": config},
        headers=admin._headers,  # noqa: SLF001
    )
    if resp.status_code not in (200, 201):
        raise RuntimeError(f"POST /config (restoring the previous config) -> {resp.status_code}")


# ---------------------------------------------------------------------------------------------- identity
def identity_runs(api: IdentityApi) -> dict[str, tuple[str, float]]:
    """Auth servers of kongformance runs: server id -> (run id, created_at epoch)."""
    found: dict[str, tuple[str, float]] = {}
    params = {"filter[labels][eq]": f"{OWNER_LABEL}:{OWNER}"}
    for server in api.pages("/auth-servers", params=params):
        labels = server.get("labels") or {}
        if labels.get(OWNER_LABEL) != OWNER or not labels.get(RUN_LABEL):
            continue  # the filter is a hint: only our label decides
        found[str(server["id"])] = (str(labels[RUN_LABEL]), _epoch(server.get("created_at")))
    return found


def sweep_identity(api: IdentityApi, run_id: str) -> int:
    """Delete every auth server labelled with ``run_id`` (children go with it); returns how many."""
    servers = [sid for sid, (rid, _) in identity_runs(api).items() if rid == run_id]
    for sid in servers:
        api.delete_auth_server(sid, force=True)
    return len(servers)


def _epoch(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


# ---------------------------------------------------------------------------------------------- sweeps
@dataclass
class Endpoints:
    """The target a cleanup can reach (None where it has no such API), with its credentials."""

    identity: IdentityApi | None = None
    admin: KongAdmin | None = None
    management_url: str = ""
    admin_url: str = ""
    containers: Callable[[float, set[str]], int] | None = None  # (older_than, live runs) -> removed


def sweep_containers(older_than: float, keep: set[str]) -> int:
    """Remove containers labelled ``io.kongformance.run`` whose run is not live: the owning pid (label) is
    gone on this host, or the container was started elsewhere more than ``older_than`` seconds ago."""
    import socket

    from kongformance.run_ledger import pid_alive
    from kongformance.targets import docker

    def gone(labels: dict[str, str], created: float) -> bool:
        if labels.get(docker.LABEL) in keep:
            return False
        pid = labels.get(docker.PID_LABEL, "")
        if labels.get(docker.HOST_LABEL) == socket.gethostname() and pid.isdigit():
            return not pid_alive(int(pid), labels.get(docker.PID_START_LABEL) or None)
        return time.time() - created >= older_than

    from docker.errors import NotFound

    client = docker.docker_client()
    removed = 0
    # the engine's list answer itself (no lookup per container): a container another run removes meanwhile
    # is not an error, only one fewer to remove
    for summary in client.api.containers(all=True, filters={"label": docker.LABEL}):
        if gone(summary.get("Labels") or {}, _epoch(summary.get("Created", 0))):
            try:
                client.api.remove_container(summary["Id"], force=True)
            except NotFound:
                continue
            removed += 1
    for network in client.networks.list(filters={"label": docker.LABEL}):  # mapped-ports layout
        if gone(
            network.attrs.get("Labels") or {}, _epoch(str(network.attrs.get("Created", ""))[:19] + "+00:00")
        ):
            try:
                network.remove()
            except Exception:  # noqa: BLE001 - still in use by a container of a live run: left alone
                continue
    return removed


def live_runs(directory: Path | None = None) -> set[str]:
    """Run ids whose ledger owner still runs on this host: never touched."""
    return {r.run_id for r in runs(directory) if r.alive()}


def finish_ledger_run(run: LedgerRun, ends: Endpoints, out: Swept) -> bool:
    """Tear down a crashed run from its ledger; True (and the ledger removed) when nothing of it remains."""
    complete = True
    for intent in run.intents:
        kind, where = intent.get("kind"), str(intent.get("where", ""))
        try:
            if intent.get("ephemeral"):
                continue  # lived in the run's own processes or containers: gone with them
            if kind == "auth_server" and where == ends.management_url and ends.identity is not None:
                for rec in run.created:
                    if rec.get("kind") == "auth_server":
                        ends.identity.delete_auth_server(str(rec["id"]), force=True)
                        out.add("auth servers")
                out.add("auth servers", sweep_identity(ends.identity, run.run_id))
            elif kind == "gateway" and where == ends.admin_url and ends.admin is not None:
                out.add("gateway entities", sweep_gateway(ends.admin, run_tag(run.run_id)))
            elif kind == "dbless" and where == ends.admin_url and ends.admin is not None:
                saved = run.path.with_name(f"{run.path.stem}.previous-config")
                if saved.exists():
                    restore_config(ends.admin, saved.read_text("utf-8"))
                    out.add("DB-less configs restored")
            elif kind == "containers" and ends.containers is not None:
                ends.containers(0.0, live_runs(run.path.parent))
            else:
                complete = False  # another target's objects: left for a cleanup of that target
        except CLEANUP_ERRORS as exc:
            out.problems.append(f"run {run.run_id}: {kind} at {where}: {exc}")
            complete = False
    if complete:
        out.runs.add(run.run_id)
        for p in run.path.parent.glob(f"{run.path.stem}.*"):
            p.unlink(missing_ok=True)
    return complete


def sweep(
    ends: Endpoints,
    *,
    older_than: float = DEFAULT_OLDER_THAN,
    directory: Path | None = None,
    exclude: Iterable[str] = (),
) -> Swept:
    """Remove every crashed run's leftovers reachable through ``ends``: first from the ledgers (owner dead),
    then by label/tag (runs no live ledger owns, older than ``older_than`` seconds)."""
    out = Swept()
    skip = set(exclude)
    for run in runs(directory):
        if run.run_id not in skip and run.stale(older_than):
            finish_ledger_run(run, ends, out)
    keep = live_runs(directory) | skip
    cutoff = time.time() - older_than
    if ends.identity is not None:
        try:
            for sid, (rid, created) in identity_runs(ends.identity).items():
                if rid not in keep and created <= cutoff:
                    ends.identity.delete_auth_server(sid, force=True)
                    out.add("auth servers")
                    out.runs.add(rid)
        except CLEANUP_ERRORS as exc:
            out.problems.append(f"auth servers at {ends.management_url}: {exc}")
    if ends.admin is not None and ends.admin.mode != "dbless":
        try:
            for rid, created in gateway_runs(ends.admin).items():
                if rid not in keep and created <= cutoff:
                    out.add("gateway entities", sweep_gateway(ends.admin, run_tag(rid)))
                    out.runs.add(rid)
        except CLEANUP_ERRORS as exc:
            out.problems.append(f"gateway entities at {ends.admin_url}: {exc}")
    if ends.containers is not None:
        try:
            out.add("containers", ends.containers(older_than, keep))
        except CLEANUP_ERRORS as exc:
            out.problems.append(f"containers: {exc}")
    return out
