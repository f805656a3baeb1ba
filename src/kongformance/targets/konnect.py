"""The ``konnect`` target: Kong Identity and a control plane in Konnect, plus a data plane proxy URL.

Environment: ``KONNECT_TOKEN`` (PAT or system-account token), ``KONNECT_REGION`` (us, eu, au, me, in, sg),
``KONNECT_API_URL`` (the API base; default ``https://{region}.api.konghq.com``, so the region is not needed
when it is set), ``KONNECT_CONTROL_PLANE_ID``, ``KONNECT_PROXY_URL`` (the data plane), optionally ``KONNECT_PROXY_SSL_URL``,
``KONNECT_UPSTREAM_URL`` (an httpbin-compatible upstream the data plane reaches; default
https://httpbin.konghq.com) and ``KONNECT_KONG_VERSION``. Missing, invalid or unreachable settings stop the run
before any test, one line each (:mod:`kongformance.targets.settings`). The data plane's Kong version is read
from the control plane's nodes (or the proxy's ``Server`` header): :mod:`kongformance.targets.kong_version`.
"""

from __future__ import annotations

import os

from kongformance.targets import kong_version
from kongformance.targets.base import Stack, TargetOptions
from kongformance.targets.settings import SettingsError, check_required, reach_problem, url_problem

REQUIRED = ("KONNECT_TOKEN", "KONNECT_REGION", "KONNECT_CONTROL_PLANE_ID", "KONNECT_PROXY_URL")
REGIONS = ("us", "eu", "au", "me", "in", "sg")
URLS = ("KONNECT_PROXY_URL", "KONNECT_PROXY_SSL_URL", "KONNECT_UPSTREAM_URL")
TOKEN_PREFIXES = ("kpat_", "spat_")  # personal access token, system-account token
DEFAULT_API_URL = "https://{region}.api.konghq.com"


def api_url(region: str, override: str = "") -> str:
    """The Konnect API base URL: ``KONNECT_API_URL`` when set, else the region's production URL."""
    return override.rstrip("/") if override else DEFAULT_API_URL.format(region=region)


class KonnectTarget:
    """Configures Konnect through its APIs; starts nothing locally."""

    name = "konnect"

    def __init__(self, options: TargetOptions) -> None:
        self.options = options

    def setting(self, key: str, default: str = "") -> str:
        return self.options.settings.get(key) or os.environ.get(key, default)

    def api_base(self) -> str:
        return api_url(self.setting("KONNECT_REGION"), self.setting("KONNECT_API_URL"))

    def validate(self) -> None:
        """Stop with one line per missing or invalid setting (no I/O): :class:`SettingsError`."""
        override = self.setting("KONNECT_API_URL")
        required = [k for k in REQUIRED if not (override and k == "KONNECT_REGION")]
        problems = check_required(self.options.settings, required, URLS)
        region = self.setting("KONNECT_REGION")
        if not override and region and region not in REGIONS:
            problems.append(f"KONNECT_REGION: must be one of {', '.join(REGIONS)}, got {region!r}")
        if override and url_problem("KONNECT_API_URL", override):
            problems.append(f"KONNECT_API_URL must be an http(s) URL, got {override!r}")
        token = self.setting("KONNECT_TOKEN")
        if token and not token.startswith(TOKEN_PREFIXES):
            problems.append(
                "KONNECT_TOKEN: not a Konnect personal (kpat_...) or system-account (spat_...) token"
            )
        if problems:
            raise SettingsError(self.name, problems)

    def check(self) -> None:
        """Before the run: valid settings, then the control plane, the token and the proxy answer (5 s each)."""
        self.validate()
        auth = {"Authorization": f"Bearer {self.setting('KONNECT_TOKEN')}"}
        cp_url = f"{self.api_base()}/v2/control-planes/{self.setting('KONNECT_CONTROL_PLANE_ID')}"
        reach = [
            reach_problem("KONNECT_CONTROL_PLANE_ID", cp_url, headers=auth, ok=(200,)),
            reach_problem(
                "KONNECT_TOKEN", f"{self.api_base()}/v1/auth-servers?page[size]=1", headers=auth, ok=(200,)
            ),
            reach_problem("KONNECT_PROXY_URL", self.setting("KONNECT_PROXY_URL")),
        ]
        problems = [p for p in reach if p]
        if problems:
            raise SettingsError(self.name, problems)

    def start(self) -> Stack:
        self.validate()  # reachability: check(), which the run calls first
        api = self.api_base()
        token = self.setting("KONNECT_TOKEN")
        cp = self.setting("KONNECT_CONTROL_PLANE_ID")
        proxy = self.setting("KONNECT_PROXY_URL").rstrip("/")
        upstream = self.setting("KONNECT_UPSTREAM_URL", "https://httpbin.konghq.com").rstrip("/")
        auth = {"Authorization": f"Bearer {token}"}
        read = kong_version.read_kong_version(
            proxy_url=proxy, admin_headers=auth, konnect_control_plane_url=f"{api}/v2/control-planes/{cp}"
        )
        given = self.setting("KONNECT_KONG_VERSION") or self.options.given_kong_version
        version, warning = kong_version.reconcile(given, read, self.options.kong_version)
        return Stack(
            target=self.name,
            identity_url=api,
            identity_token=token,
            admin_url=f"{api}/v2/control-planes/{cp}/core-entities",
            admin_mode="konnect",
            admin_headers=auth,
            proxy_url=proxy,
            proxy_ssl_url=self.setting("KONNECT_PROXY_SSL_URL", proxy).rstrip("/"),
            upstream_url=upstream,
            upstream_log_url=upstream,
            kong_version=version,
            kong_version_source=read.source if read else "",
            warnings=[warning] if warning else [],
            db_less=True,  # data planes are configured like DB-less nodes: no oauth2 plugin
        )

    def stop(self) -> None:
        return None
