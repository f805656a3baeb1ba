"""The reference gateway's defect catalogue: core defects (routing, plugin resolution, defaults) plus
every plugin module's ``DEFECTS``. Each defect is checked at exactly one place in the code."""

from __future__ import annotations

from kongformance.defects import Defect, catalogue_of
from kongformance.gateway.plugins import plugin_defects

COMPONENT = "gateway"

ROUTE_PROTOCOLS_DEFAULT_IGNORED = "route_protocols_default_ignored"
STRIP_PATH_IGNORED = "strip_path_ignored"
HTTPS_ONLY_ROUTE_SERVED_OVER_HTTP = "https_only_route_served_over_http"
PLUGIN_PRECEDENCE_REVERSED = "plugin_precedence_reversed"
PLUGINS_RUN_IN_REVERSE_PRIORITY = "plugins_run_in_reverse_priority"
LEGACY_PLUGIN_DEFAULTS = "legacy_plugin_defaults"

CORE_DEFECTS: tuple[Defect, ...] = (
    Defect(
        ROUTE_PROTOCOLS_DEFAULT_IGNORED,
        COMPONENT,
        "a new Route defaults to protocols [http, https] on every version, so 3.14+ routes answer plain HTTP",
        "https://developer.konghq.com/gateway/breaking-changes/ (3.14 breaking change: routes default to https only)",
    ),
    Defect(
        STRIP_PATH_IGNORED,
        COMPONENT,
        "the matched route prefix is forwarded to the upstream even when strip_path is true",
        "Kong Route entity: strip_path (default true)",
    ),
    Defect(
        HTTPS_ONLY_ROUTE_SERVED_OVER_HTTP,
        COMPONENT,
        "a plain-HTTP request to an https-only route is proxied instead of answered with 426",
        "Kong Route entity: protocols, https_redirect_status_code (426)",
    ),
    Defect(
        PLUGIN_PRECEDENCE_REVERSED,
        COMPONENT,
        "when a plugin is configured both globally and on the route or service, the global instance runs",
        "Kong plugin precedence: the most specific plugin entity wins",
    ),
    Defect(
        PLUGINS_RUN_IN_REVERSE_PRIORITY,
        COMPONENT,
        "plugins run in ascending priority (upstream-oauth before openid-connect before oauth2-introspection)",
        "https://developer.konghq.com/gateway/authentication/ (execution priority)",
    ),
    Defect(
        LEGACY_PLUGIN_DEFAULTS,
        COMPONENT,
        "new plugin entities get the pre-3.14 defaults (hide_credentials false, ssl_verify false) on 3.14+",
        "https://developer.konghq.com/gateway/breaking-changes/ (3.14 breaking changes: hide_credentials and TLS verification defaults)",
    ),
)


def gateway_catalogue() -> dict[str, Defect]:
    """Core defects plus every loaded plugin module's defects (names must be unique)."""
    return catalogue_of(*CORE_DEFECTS, *plugin_defects())
