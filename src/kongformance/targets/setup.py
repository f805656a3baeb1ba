"""One run's set-up: start the target, apply the profile once, wait for it, guard, and tear it all down.

Used by the pytest plugin in the process that owns the run (the xdist controller, or the only process);
workers receive :class:`RunState` as JSON and never set anything up themselves. Every object is announced
in the run ledger before it is created (:mod:`kongformance.run_ledger`); teardown removes what the run
recorded and whatever carries its label or tag, with SIGINT/SIGTERM held back, and only then drops the
ledger. Before creating anything, a run sweeps the stale leftovers of crashed runs on the same target.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from kongformance import profile, profile_gateway, run_cleanup, run_ledger
from kongformance.clients.identity_api import IdentityApi
from kongformance.clients.kong_admin import KongAdmin
from kongformance.profile import ProfileHandles
from kongformance.run_signals import deferred
from kongformance.targets import Stack, Target, TargetOptions, TargetUnavailable, select_target
from kongformance.targets.settings import PROPAGATION_DEADLINE, propagation_deadline

SENTINEL_DEADLINE = PROPAGATION_DEADLINE  # default of the KF_PROPAGATION_DEADLINE setting


OWNS_GATEWAY = "KF_OWNS_GATEWAY"  # setting: this run may replace a DB-less external gateway's config
TRUSTED_SOURCE = "KF_TRUSTED_SOURCE"  # setting: a local address the gateway's trusted_ips include
STALE_AFTER = "KF_STALE_AFTER"  # setting: seconds after which unowned leftovers of other hosts are swept
STARTED_TARGETS = ("local", "docker")  # the run starts (and alone uses) these gateways


class GuardFailure(RuntimeError):
    """A protected route let an unauthenticated request through: the run must not be trusted."""


class GatewayNotOwned(RuntimeError):
    """A DB-less gateway the run did not start: applying the profile would replace the user's config."""


@dataclass
class RunState:
    """What workers need: the stack, the applied profile, and a directory for run-wide locks."""

    stack: Stack
    handles: ProfileHandles
    lock_dir: str

    def to_json(self) -> str:
        return json.dumps(
            {"stack": self.stack.to_json(), "handles": self.handles.to_json(), "lock_dir": self.lock_dir}
        )

    @classmethod
    def from_json(cls, text: str) -> RunState:
        d = json.loads(text)
        return cls(Stack.from_json(d["stack"]), ProfileHandles.from_json(d["handles"]), d["lock_dir"])


def admin_client(stack: Stack) -> KongAdmin:
    return KongAdmin(stack.admin_url, mode=stack.admin_mode, headers=stack.admin_headers)


def identity_client(stack: Stack) -> IdentityApi:
    return IdentityApi(stack.management_url, stack.identity_token)


def wait_for_sentinel(stack: Stack, path: str, *, deadline: float = SENTINEL_DEADLINE) -> None:
    """Poll the sentinel route until it proxies (200), or fail after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    last: Any = None
    pause = 0.05
    with httpx.Client(timeout=5.0, verify=False) as http:
        while True:
            try:
                resp = http.get(stack.proxy_url + path)
                if resp.status_code == 200:
                    return
                last = resp.status_code
            except httpx.HTTPError as exc:
                last = exc
            if time.monotonic() > end:
                raise TimeoutError(
                    f"the profile did not reach the data plane within {deadline:g}s (sentinel: {last}); "
                    "raise KF_PROPAGATION_DEADLINE if the data plane is slow to sync"
                )
            time.sleep(pause)  # poll: only real targets get here (the local gateway applies synchronously)
            pause = min(pause * 2, 1.0)


def guard(stack: Stack, handles: ProfileHandles) -> None:
    """Every protected route must refuse a request without credentials (https://developer.konghq.com/support/after-adding-a-ee-plugin-the-plugin-is-not-working-fails-to-execute/)."""
    leaks: list[str] = []
    with httpx.Client(timeout=10.0, verify=False) as http:
        for variant in profile_gateway.protected_variants(handles):
            path = handles.routes[variant].path
            resp = http.get(stack.proxy_url + path, headers={"X-KF-Probe": "guard"})
            if not 400 <= resp.status_code < 500:
                leaks.append(f"{path} answered {resp.status_code}")
    if leaks:
        raise GuardFailure(
            "unauthenticated requests were not rejected ("
            + "; ".join(leaks)
            + "). Is the Enterprise license missing (unlicensed Kong skips Enterprise plugins silently)?"
        )


def _setting(options: TargetOptions, key: str, default: str = "") -> str:
    return options.settings.get(key) or os.environ.get(key, default)


def _trusted_source(options: TargetOptions) -> str:
    """``KF_TRUSTED_SOURCE``: an IP address of this machine that the gateway's trusted_ips include."""
    value = _setting(options, TRUSTED_SOURCE).strip()
    if value:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise TargetUnavailable(
                f"{TRUSTED_SOURCE}: not an IP address: {value!r} (an address of this machine in Kong's trusted_ips)"
            ) from None
    return value


def target_endpoints(
    stack: Stack, admin: KongAdmin | None, identity: IdentityApi | None
) -> run_cleanup.Endpoints:
    """What a sweep can reach on ``stack`` (nothing persistent on local; containers on docker)."""
    ends = run_cleanup.Endpoints(
        identity=identity,
        admin=admin,
        management_url=stack.management_url,
        admin_url=stack.admin_url,
    )
    if stack.target == "docker":
        ends.containers = run_cleanup.sweep_containers
    return ends


class RunSetup:
    """Owns a target and the applied profile for one run."""

    def __init__(
        self, target_name: str, options: TargetOptions, lock_dir: str, ledger_dir: Path | None = None
    ) -> None:
        self.propagation_deadline = propagation_deadline(options.settings)  # a bad value stops the run
        self.run_id = profile.new_run_id()
        self.options = replace(options, run_id=self.run_id)
        self.target: Target = select_target(target_name, self.options)
        self.lock_dir = lock_dir
        self.ledger_dir = ledger_dir
        self.ledger: run_ledger.RunLedger | None = None
        self._ledger_settled = False  # closed, or kept for `kongformance cleanup`
        self.state: RunState | None = None
        self._stack: Stack | None = None
        self._admin: KongAdmin | None = None
        self._identity: IdentityApi | None = None
        self._previous_config: str | None = None

    def start(self) -> RunState:
        """Check the settings, sweep stale leftovers, start the target, apply the profile, wait for the
        sentinel, run the guard."""
        check = getattr(self.target, "check", None)  # settings and reachability, before anything is created
        if check is not None:
            check()
        trusted_source = _trusted_source(self.options)
        try:
            name = self.target.name
            ledger = self.ledger = run_ledger.RunLedger.create(self.run_id, name, self.ledger_dir)
            if name == "docker":
                ledger.intent("containers", "docker", label=f"io.kongformance.run={self.run_id}")
            stack = self._stack = self.target.start()
            stack.owns_gateway = name in STARTED_TARGETS or _setting(self.options, OWNS_GATEWAY) == "1"
            stack.trusted_source = stack.trusted_source or trusted_source
            ephemeral = name in STARTED_TARGETS  # the stack dies with the run: nothing to sweep later
            self._identity = identity_client(stack)
            self._admin = admin_client(stack)
            self._sweep_stale(stack, ephemeral)
            if stack.admin_mode == "dbless":
                self._take_over_dbless(stack, ledger, ephemeral)
            handles = profile.apply_issuer_objects(self._identity, self.run_id, ledger)
            self.state = RunState(stack, handles, self.lock_dir)
            config = profile_gateway.gateway_config(
                handles, stack.upstream_url, with_db=not stack.db_less, kong_version=stack.version
            )
            if stack.admin_mode != "dbless":
                ledger.intent(
                    "gateway", stack.admin_url, tag=run_ledger.run_tag(self.run_id), ephemeral=ephemeral
                )
            self._admin.apply(config)
            route_waiter = getattr(self.target, "wait_for_route", None)  # the docker target: testcontainers'
            if callable(route_waiter):
                route_waiter(handles.routes["sentinel"].path, self.propagation_deadline)
            else:
                wait_for_sentinel(stack, handles.routes["sentinel"].path, deadline=self.propagation_deadline)
            guard(stack, handles)
        except BaseException:
            self.stop()
            raise
        return self.state

    def _sweep_stale(self, stack: Stack, ephemeral: bool) -> None:
        """Leftovers of crashed runs on this target (never a live run's): ledger owners gone, or unowned and
        older than ``KF_STALE_AFTER`` seconds (default an hour). A stack the run started itself has no API
        objects of other runs; docker still has their containers."""
        older = float(_setting(self.options, STALE_AFTER, str(run_cleanup.DEFAULT_OLDER_THAN)))
        if ephemeral:
            ends = target_endpoints(stack, None, None)
        else:
            ends = target_endpoints(stack, self._admin, self._identity)
        swept = run_cleanup.sweep(ends, older_than=older, directory=self.ledger_dir, exclude={self.run_id})
        if swept.total():
            print(f"kongformance: swept stale leftovers: {swept.summary()}", file=sys.stderr)

    def _take_over_dbless(self, stack: Stack, ledger: run_ledger.RunLedger, ephemeral: bool) -> None:
        """A DB-less gateway holds one config: refuse one the run does not own, else save it to restore."""
        if not stack.owns_gateway:
            raise GatewayNotOwned(
                f"the {stack.target} gateway at {stack.admin_url} is DB-less: a run replaces its whole "
                f"configuration; set {OWNS_GATEWAY}=1 (env or --kf-set) if this run may, and it will restore "
                "the previous configuration afterwards"
            )
        assert self._admin is not None
        saved = ledger.side_file("previous-config")
        self._previous_config = run_cleanup.read_config(self._admin)
        fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(self._previous_config)
        ledger.intent("dbless", stack.admin_url, ephemeral=ephemeral)

    def stop(self) -> None:
        """Tear the profile down and stop what the target started, with SIGINT/SIGTERM held back; the ledger
        goes only when everything did (else ``kongformance cleanup`` finishes from it)."""
        problems: list[str] = []
        with deferred():
            stack = self._stack
            try:
                if self._admin is not None and stack is not None:
                    if stack.admin_mode == "dbless":
                        if self._previous_config is not None:
                            run_cleanup.restore_config(self._admin, self._previous_config)
                    else:
                        self._admin.teardown()
                        run_cleanup.sweep_gateway(self._admin, run_ledger.run_tag(self.run_id))
            except run_cleanup.CLEANUP_ERRORS as exc:
                problems.append(f"gateway: {exc}")
            try:
                if self._identity is not None:
                    if self.state is not None:
                        profile.remove_issuer_objects(self._identity, self.state.handles)
                    run_cleanup.sweep_identity(self._identity, self.run_id)
            except run_cleanup.CLEANUP_ERRORS as exc:
                problems.append(f"identity: {exc}")
            try:
                self.target.stop()
            except run_cleanup.CLEANUP_ERRORS as exc:
                problems.append(f"target: {exc}")
            for client in (self._admin, self._identity):
                if client is not None:
                    client.close()
            self._admin = self._identity = None
            self._stack = self.state = None
            self._previous_config = None
            if self.ledger is not None:
                if problems:
                    print(
                        f"kongformance: teardown of run {self.run_id} incomplete ({'; '.join(problems)}); "
                        f"`kongformance cleanup` finishes it from {self.ledger.path}",
                        file=sys.stderr,
                    )
                else:
                    self.ledger.close()
                self.ledger = None
                self._ledger_settled = True
            elif (
                not self._ledger_settled
            ):  # an interrupt between its creation and its assignment: a header only
                run_ledger.RunLedger.path_of(self.run_id, self.ledger_dir).unlink(missing_ok=True)


__all__ = [
    "GatewayNotOwned",
    "GuardFailure",
    "RunSetup",
    "RunState",
    "TargetUnavailable",
    "guard",
    "wait_for_sentinel",
]
