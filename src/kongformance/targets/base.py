"""The ``Stack`` handle every target yields, and the ``Target`` contract.

A target starts or connects to a stack (an issuer, a gateway, an upstream, each reachable by URL) and says
what it can do: move the emulators' clocks, use the issuer's control surface, read the upstream's request
log. A :class:`Stack` is plain data so the xdist controller can hand it to workers as JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Protocol

from kongformance.clients.kong_admin import AdminMode


class TargetUnavailable(RuntimeError):
    """The target cannot run here (missing settings or software): the run stops before any test."""


@dataclass
class Stack:
    """URLs and capabilities of a running stack."""

    target: str
    identity_url: str  # Kong Identity API base: management under /v1, emulator control under /_emulator
    identity_token: str
    admin_url: str  # Kong Admin API (or Konnect core-entities base)
    proxy_url: str
    proxy_ssl_url: str
    upstream_url: str  # the echo upstream as the gateway reaches it
    admin_mode: AdminMode = "crud"
    admin_headers: dict[str, str] = field(default_factory=dict)
    kong_version: str = "3.15"
    db_less: bool = False
    virtual_clock: bool = False  # /_emulator/clock on identity and gateway
    issuer_control: bool = False  # /_emulator on the identity side (mint, faults, request log)
    upstream_log: bool = False  # /_emulator/requests on the upstream
    upstream_log_url: str = ""  # where tests read the upstream log (defaults to upstream_url)
    kong_version_source: str = ""  # where kong_version was read (empty: configured, or assumed)
    warnings: list[str] = field(default_factory=list)  # one line each, shown in the terminal summary
    owns_gateway: bool = False  # no other run shares the gateway (the run started it, or KF_OWNS_GATEWAY=1)
    # a local address in the gateway's trusted_ips: requests sent from it come from a trusted proxy (Kong's
    # X-Forwarded-* handling); empty when the run knows none (local: 127.0.0.2; else KF_TRUSTED_SOURCE)
    trusted_source: str = ""

    @property
    def management_url(self) -> str:
        return self.identity_url.rstrip("/") + "/v1"

    @property
    def version(self) -> tuple[int, int]:
        parts = (self.kong_version.split(".") + ["0"])[:2]
        return int(parts[0]), int(parts[1])

    def capabilities(self) -> dict[str, bool]:
        return {
            "virtual_clock": self.virtual_clock,
            "issuer_control": self.issuer_control,
            "upstream_log": self.upstream_log,
            "db": not self.db_less,
            "owns_gateway": self.owns_gateway,
            "trusted_proxy": bool(self.trusted_source),
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Stack:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class TargetOptions:
    """What the user asked for: Kong version, DB-less, defects (local), and free-form settings."""

    kong_version: str = "3.15"
    db_less: bool = False
    defects: tuple[str, ...] = ()
    settings: dict[str, str] = field(default_factory=dict)
    run_id: str = ""  # the run's id: targets that start containers label them with it
    kong_version_given: bool = False  # the user named kong_version (else it is the default)

    @property
    def given_kong_version(self) -> str | None:
        return self.kong_version if self.kong_version_given else None


class Target(Protocol):
    """Starts (or connects to) a stack and stops what it started. A target may also have ``check()``: its
    settings and reachability, raising :class:`TargetUnavailable` (the run calls it before ``start``)."""

    name: str

    def start(self) -> Stack: ...

    def stop(self) -> None: ...
