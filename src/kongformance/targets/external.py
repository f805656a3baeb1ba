"""The ``external`` target: a running Kong (or a running emulator stack) given by URLs.

Settings come from ``--kf-set KEY=VALUE`` or the environment: ``KF_ADMIN_URL``, ``KF_PROXY_URL``,
``KF_PROXY_SSL_URL``, ``KF_IDENTITY_URL`` (Kong Identity API base; ``/v1`` is appended), ``KF_IDENTITY_TOKEN``,
``KF_UPSTREAM_URL`` (the echo upstream as the gateway reaches it), ``KF_UPSTREAM_LOG_URL`` (as this machine
reaches it). Missing, invalid or unreachable settings stop the run before any test, one line each. The Kong
version and database mode are read from ``GET /`` of the Admin API (a ``--kf-kong-version`` that disagrees is
a warning); the emulators' control surfaces are detected by probing ``/_emulator``.
"""

from __future__ import annotations

import os

import httpx

from kongformance.targets import kong_version
from kongformance.targets.base import Stack, TargetOptions
from kongformance.targets.settings import SettingsError, check_required, reach_problem

REQUIRED = ("KF_ADMIN_URL", "KF_PROXY_URL", "KF_IDENTITY_URL", "KF_UPSTREAM_URL")
URLS = (*REQUIRED, "KF_PROXY_SSL_URL", "KF_UPSTREAM_LOG_URL")


def _probe(http: httpx.Client, url: str) -> bool:
    try:
        return http.get(url).status_code == 200
    except httpx.HTTPError:
        return False


class ExternalTarget:
    """Connects to URLs; starts nothing and stops nothing."""

    name = "external"

    def __init__(self, options: TargetOptions) -> None:
        self.options = options

    def setting(self, key: str, default: str = "") -> str:
        return self.options.settings.get(key) or os.environ.get(key, default)

    def validate(self) -> None:
        """Stop with one line per missing or invalid setting (no I/O): :class:`SettingsError`."""
        problems = check_required(self.options.settings, REQUIRED, URLS)
        if problems:
            raise SettingsError(self.name, problems)

    def check(self) -> None:
        """Before the run: valid settings, then the Admin API, the issuer and the proxy answer (5 s each)."""
        self.validate()
        reach = [
            reach_problem("KF_ADMIN_URL", self.setting("KF_ADMIN_URL").rstrip("/") + "/", ok=(200,)),
            reach_problem("KF_IDENTITY_URL", self.setting("KF_IDENTITY_URL")),
            reach_problem("KF_PROXY_URL", self.setting("KF_PROXY_URL")),
        ]
        problems = [p for p in reach if p]
        if problems:
            raise SettingsError(self.name, problems)

    def start(self) -> Stack:
        self.validate()  # reachability: check(), which the run calls first
        admin = self.setting("KF_ADMIN_URL").rstrip("/")
        identity = self.setting("KF_IDENTITY_URL").rstrip("/")
        upstream = self.setting("KF_UPSTREAM_URL").rstrip("/")
        log_url = self.setting("KF_UPSTREAM_LOG_URL", upstream).rstrip("/")
        with httpx.Client(timeout=10.0, verify=False) as http:
            try:
                info = http.get(admin + "/").json()
            except (httpx.HTTPError, ValueError) as exc:
                raise SettingsError(self.name, [f"KF_ADMIN_URL: GET {admin}/ gave no JSON: {exc}"]) from exc
            read = kong_version.from_admin(http, admin, {}) or kong_version.from_proxy(
                http, self.setting("KF_PROXY_URL")
            )
            version, warning = kong_version.reconcile(
                self.options.given_kong_version, read, self.options.kong_version
            )
            db_less = str(info.get("configuration", {}).get("database", "")) == "off"
            clock = _probe(http, identity + "/_emulator/clock") and _probe(http, admin + "/_emulator/clock")
            issuer_control = _probe(http, identity + "/_emulator/clock")
            upstream_log = _probe(http, log_url + "/_emulator/requests")
        proxy = self.setting("KF_PROXY_URL").rstrip("/")
        return Stack(
            target=self.name,
            identity_url=identity,
            identity_token=self.setting("KF_IDENTITY_TOKEN", "kongformance"),
            admin_url=admin,
            proxy_url=proxy,
            proxy_ssl_url=self.setting("KF_PROXY_SSL_URL", proxy).rstrip("/"),
            upstream_url=upstream,
            upstream_log_url=log_url,
            admin_mode="dbless" if db_less else "crud",
            kong_version=version,
            kong_version_source=read.source if read else "",
            warnings=[warning] if warning else [],
            db_less=db_less,
            virtual_clock=clock,
            issuer_control=issuer_control,
            upstream_log=upstream_log,
        )

    def stop(self) -> None:
        return None
