"""The reference gateway: one object holding the runtime (config, plugins, clock, defects) and the two
ASGI apps Kong exposes, the Admin API (with ``/_emulator``) and the proxy (HTTP and HTTPS)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kongformance.clock import Clock
from kongformance.defects import DefectSwitches, from_environment
from kongformance.gateway.admin import AdminApi
from kongformance.gateway.control import control_routes
from kongformance.gateway.defects import COMPONENT, gateway_catalogue
from kongformance.gateway.proxy import ProxyApp, full_version
from kongformance.gateway.runtime import Runtime
from kongformance.gateway.tls import shared_self_signed


def parse_version(kong_version: str) -> tuple[int, int]:
    """``"3.15"`` or ``"3.15.0.4"`` -> ``(3, 15)``."""
    parts = kong_version.strip().split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        raise ValueError(f"invalid kong_version {kong_version!r}") from None


class ReferenceGateway:
    """A stand-in for Kong: ``admin_app`` and ``proxy_app`` are ASGI apps; one clock, one config."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        kong_version: str = "3.15",
        db_less: bool = False,
        defects: Iterable[str] = (),
        trusted_ips: Iterable[str] = (),
    ) -> None:
        self.clock = clock or Clock()
        self.kong_version = kong_version
        self.version = parse_version(kong_version)
        self.db_less = db_less
        catalogue = gateway_catalogue()
        enabled = [*defects, *from_environment(COMPONENT, catalogue)]
        self.defects = DefectSwitches(catalogue, enabled)
        self.runtime = Runtime(
            self.clock, self.defects, self.version, db_less=db_less, trusted_ips=trusted_ips
        )
        self.full_version = full_version(kong_version)
        self.proxy_app: Any = ProxyApp(self.runtime, kong_version)
        self.admin = AdminApi(self.runtime, kong_version, self.full_version, control_routes(self.runtime))
        self.admin_app: Any = self.admin.app
        self._tls: tuple[str, str] | None = None

    def tls_files(self) -> tuple[str, str]:
        """(certfile, keyfile) of the proxy's self-signed certificate (made once per process, at first use)."""
        if self._tls is None:
            self._tls = shared_self_signed()
        return self._tls

    def close(self) -> None:
        """Release what the gateway holds (the shared TLS files are removed at process exit)."""
        self._tls = None
