"""The ``local`` target: identity emulator, reference gateway and echo upstream in this process, one clock."""

from __future__ import annotations

from typing import Any

from kongformance.targets.base import Stack, TargetOptions, TargetUnavailable

# the one address the local gateway trusts as a proxy (Kong trusts none by default): the suite's requests come
# from 127.0.0.1, untrusted, except those a test sends from here to act as a TLS-terminating proxy
TRUSTED_SOURCE = "127.0.0.2"


class LocalTarget:
    """Starts :func:`kongformance.stack.start_local_stack` on loopback and stops it at the end."""

    name = "local"

    def __init__(self, options: TargetOptions) -> None:
        self.options = options
        self._running: Any = None

    def start(self) -> Stack:
        try:
            from kongformance.stack import start_local_stack
        except ImportError as exc:
            raise TargetUnavailable(f"the local stack is not available: {exc}") from exc
        self._running = start_local_stack(
            kong_version=self.options.kong_version,
            db_less=self.options.db_less,
            defects=self.options.defects,
            trusted_ips=[TRUSTED_SOURCE + "/32"],
        )
        s = self._running
        return Stack(
            target=self.name,
            identity_url=s.identity_url,
            identity_token="kongformance-local",
            admin_url=s.admin_url,
            proxy_url=s.proxy_url,
            proxy_ssl_url=s.proxy_ssl_url,
            upstream_url=s.upstream_url,
            upstream_log_url=s.upstream_url,
            admin_mode="dbless" if self.options.db_less else "crud",
            kong_version=self.options.kong_version,
            db_less=self.options.db_less,
            virtual_clock=True,
            issuer_control=True,
            upstream_log=True,
            trusted_source=TRUSTED_SOURCE,
        )

    def stop(self) -> None:
        if self._running is not None:
            self._running.stop()
            self._running = None
