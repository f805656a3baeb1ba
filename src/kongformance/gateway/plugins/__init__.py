"""The reference gateway's plugin registry: plugin name -> plugin class, plus every plugin module's defects.

Plugin modules are written by several engineers and land at different times, so each is imported
defensively: a module that does not exist yet is simply absent; a module that fails to import is skipped
and its error is kept in :func:`import_errors` (the gateway keeps working with the others).
Tests may :func:`register` small plugins of their own.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from kongformance.defects import Defect
from kongformance.gateway.plugins.base import Plugin

log = logging.getLogger(__name__)

# plugin name -> (module under kongformance.gateway.plugins, class name)
BUILTIN: dict[str, tuple[str, str]] = {
    "openid-connect": ("openid_connect", "OpenidConnectPlugin"),
    "jwt": ("jwt", "JwtPlugin"),
    "oauth2-introspection": ("oauth2_introspection", "Oauth2IntrospectionPlugin"),
    "upstream-oauth": ("upstream_oauth", "UpstreamOauthPlugin"),
    "oauth2": ("oauth2", "Oauth2Plugin"),
}

_loaded: dict[str, type[Plugin]] | None = None
_defects: list[Defect] = []
_errors: dict[str, str] = {}
_extra: dict[str, type[Plugin]] = {}
_extra_schemas: dict[str, dict[str, Any] | None] = {}


def _load() -> dict[str, type[Plugin]]:
    global _loaded
    if _loaded is not None:
        return _loaded
    found: dict[str, type[Plugin]] = {}
    seen_modules: set[str] = set()
    for name, (module, cls_name) in BUILTIN.items():
        full = f"{__name__}.{module}"
        try:
            mod = importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:
                _errors[name] = f"{type(exc).__name__}: {exc}"
                log.warning("plugin module %s failed to import: %s", full, exc)
            continue
        except Exception as exc:  # a peer's module is broken: keep the gateway usable without it
            _errors[name] = f"{type(exc).__name__}: {exc}"
            log.warning("plugin module %s failed to import: %s", full, exc)
            continue
        cls = getattr(mod, cls_name, None)
        if not (isinstance(cls, type) and issubclass(cls, Plugin)):
            _errors[name] = f"{full} defines no plugin class {cls_name}"
            continue
        found[name] = cls
        if full not in seen_modules:
            seen_modules.add(full)
            _defects.extend(getattr(mod, "DEFECTS", ()))
    _loaded = found
    return found


def registry() -> dict[str, type[Plugin]]:
    """Every plugin this gateway can run, by Kong plugin name (built-in ones and test-registered ones)."""
    return {**_load(), **_extra}


def plugin_class(name: str) -> type[Plugin] | None:
    return registry().get(name)


def plugin_defects() -> tuple[Defect, ...]:
    """The defects declared by the plugin modules that imported (``DEFECTS`` of each module)."""
    _load()
    from kongformance.gateway.plugins.profile_option_defects import DEFECTS as OPTION_DEFECTS

    return (*_defects, *OPTION_DEFECTS)


def import_errors() -> dict[str, str]:
    """Plugin modules that exist but failed to import, with the error (for diagnostics)."""
    _load()
    return dict(_errors)


def register(cls: type[Plugin], schema: dict[str, Any] | None = None) -> None:
    """Add a plugin class (tests). ``schema`` is a JSON schema of its ``config``; None accepts any object."""
    _extra[cls.name] = cls
    _extra_schemas[cls.name] = schema


def unregister(name: str) -> None:
    _extra.pop(name, None)
    _extra_schemas.pop(name, None)


def registered_schema(name: str) -> tuple[bool, dict[str, Any] | None]:
    """(whether ``name`` was registered by :func:`register`, the config schema it was registered with)."""
    return name in _extra_schemas, _extra_schemas.get(name)
