"""The ``konnect`` target: Kong Identity and a control plane in Konnect, plus a data plane proxy URL.

Environment: ``KONNECT_TOKEN`` (PAT or system-account token), ``KONNECT_REGION`` (us, eu, au, me, in, sg),
``KONNECT_API_URL`` (the API base; default ``https://{region}.api.konghq.com``, so the region is not needed
when it is set; ``kongformance serve konnect`` prints the emulator's), ``KONNECT_CONTROL_PLANE_ID``,
``KONNECT_PROXY_URL`` (the data plane), optionally ``KONNECT_PROXY_SSL_URL``,
``KONNECT_UPSTREAM_URL`` (an httpbin-compatible upstream the data plane reaches; default
https://httpbin.konghq.com) and ``KONNECT_KONG_VERSION``. Missing settings skip the suite with the reason.
"""

from __future__ import annotations

import os

from kongformance.targets.base import Stack, TargetOptions, TargetUnavailable

REQUIRED = ("KONNECT_TOKEN", "KONNECT_REGION", "KONNECT_CONTROL_PLANE_ID", "KONNECT_PROXY_URL")
REGIONS = ("us", "eu", "au", "me", "in", "sg")
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

    def start(self) -> Stack:
        override = self.setting("KONNECT_API_URL")
        required = [k for k in REQUIRED if not (override and k == "KONNECT_REGION")]
        missing = [k for k in required if not self.setting(k)]
        if missing:
            raise TargetUnavailable(f"the konnect target needs {', '.join(missing)} in the environment")
        region = self.setting("KONNECT_REGION")
        if not override and region not in REGIONS:
            raise TargetUnavailable(f"KONNECT_REGION must be one of {', '.join(REGIONS)}, got {region!r}")
        if override and not override.startswith(("http://", "https://")):
            raise TargetUnavailable(f"KONNECT_API_URL must be an http(s) URL, got {override!r}")
        api = api_url(region, override)
        token = self.setting("KONNECT_TOKEN")
        cp = self.setting("KONNECT_CONTROL_PLANE_ID")
        proxy = self.setting("KONNECT_PROXY_URL").rstrip("/")
        upstream = self.setting("KONNECT_UPSTREAM_URL", "https://httpbin.konghq.com").rstrip("/")
        return Stack(
            target=self.name,
            identity_url=api,
            identity_token=token,
            admin_url=f"{api}/v2/control-planes/{cp}/core-entities",
            admin_mode="konnect",
            admin_headers={"Authorization": f"Bearer {token}"},
            proxy_url=proxy,
            proxy_ssl_url=self.setting("KONNECT_PROXY_SSL_URL", proxy).rstrip("/"),
            upstream_url=upstream,
            upstream_log_url=upstream,
            kong_version=self.setting("KONNECT_KONG_VERSION", self.options.kong_version),
            db_less=True,  # data planes are configured like DB-less nodes: no oauth2 plugin
        )

    def stop(self) -> None:
        return None
