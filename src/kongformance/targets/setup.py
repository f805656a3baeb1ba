"""One run's set-up: start the target, apply the profile once, wait for it, guard, and tear it all down.

Used by the pytest plugin in the process that owns the run (the xdist controller, or the only process);
workers receive :class:`RunState` as JSON and never set anything up themselves.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from kongformance import profile
from kongformance.clients.identity_api import IdentityApi
from kongformance.clients.kong_admin import KongAdmin
from kongformance.profile import ProfileHandles
from kongformance.targets import Stack, Target, TargetOptions, TargetUnavailable, select_target
from kongformance.targets.settings import PROPAGATION_DEADLINE, propagation_deadline

SENTINEL_DEADLINE = PROPAGATION_DEADLINE  # default of the KF_PROPAGATION_DEADLINE setting


class GuardFailure(RuntimeError):
    """A protected route let an unauthenticated request through: the run must not be trusted."""


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
        for variant in profile.protected_variants(handles):
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


class RunSetup:
    """Owns a target and the applied profile for one run."""

    def __init__(self, target_name: str, options: TargetOptions, lock_dir: str) -> None:
        self.propagation_deadline = propagation_deadline(options.settings)  # a bad value stops the run
        self.target: Target = select_target(target_name, options)
        self.lock_dir = lock_dir
        self.state: RunState | None = None
        self._admin: KongAdmin | None = None
        self._identity: IdentityApi | None = None

    def start(self) -> RunState:
        """Start the target, apply the profile, wait for the sentinel, run the guard."""
        check = getattr(self.target, "check", None)  # settings and reachability, before anything is created
        if check is not None:
            check()
        stack = self.target.start()
        try:
            self._identity = identity_client(stack)
            handles = profile.apply_issuer_objects(self._identity, profile.new_run_id())
            self.state = RunState(stack, handles, self.lock_dir)
            config = profile.gateway_config(
                handles, stack.upstream_url, with_db=not stack.db_less, kong_version=stack.version
            )
            self._admin = admin_client(stack)
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

    def stop(self) -> None:
        """Tear the profile down and stop what the target started (errors are not hidden but do not mask)."""
        try:
            if self._admin is not None:
                self._admin.teardown()
            if self._identity is not None and self.state is not None:
                profile.remove_issuer_objects(self._identity, self.state.handles)
        except (httpx.HTTPError, RuntimeError):
            pass
        finally:
            self.target.stop()
            self._admin = self._identity = None


__all__ = ["GuardFailure", "RunSetup", "RunState", "TargetUnavailable", "guard", "wait_for_sentinel"]
