"""Kong's configuration from ``KONG_*`` environment variables, as Kong's conf_loader reads them.

Defaults are those of Kong's ``kong/templates/kong_defaults.lua`` (3.x): ``database = postgres``,
``proxy_listen = 0.0.0.0:8000 ..., 0.0.0.0:8443 http2 ssl ...``, ``admin_listen = 127.0.0.1:8001 ...,
127.0.0.1:8444 http2 ssl ...``, ``status_listen = off``, ``pg_host = 127.0.0.1``, ``pg_port = 5432``,
``pg_user = kong``, ``pg_database = kong``, ``pg_timeout = 5000``, ``trusted_ips = NONE``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULTS = {
    "database": "postgres",
    "proxy_listen": "0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 http2 ssl reuseport backlog=16384",
    "admin_listen": "127.0.0.1:8001 reuseport backlog=16384, 127.0.0.1:8444 http2 ssl reuseport backlog=16384",
    "status_listen": "off",
    "pg_host": "127.0.0.1",
    "pg_port": "5432",
    "pg_user": "kong",
    "pg_password": "",
    "pg_database": "kong",
    "pg_timeout": "5000",
    "prefix": "/usr/local/kong",
    "trusted_ips": "",
}
# the Kong version the stand-in follows (its image tag); not a Kong setting
VERSION_VARIABLE = "KONGFORMANCE_KONG_VERSION"


class ConfError(ValueError):
    """A setting Kong would refuse; the message is Kong's wording where Kong has one."""


@dataclass(frozen=True)
class Listener:
    """One entry of a ``*_listen`` setting."""

    host: str
    port: int
    ssl: bool = False


@dataclass(frozen=True)
class KongConf:
    """The settings the stand-in honours."""

    database: str
    proxy_listen: tuple[Listener, ...]
    admin_listen: tuple[Listener, ...]
    status_listen: tuple[Listener, ...]
    pg_host: str
    pg_port: int
    pg_user: str
    pg_password: str
    pg_database: str
    pg_timeout_ms: int
    declarative_config: str | None
    license_data: str | None
    trusted_ips: tuple[str, ...]
    prefix: str
    kong_version: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def db_less(self) -> bool:
        return self.database == "off"


def parse_listen(name: str, value: str) -> tuple[Listener, ...]:
    """``"0.0.0.0:8000 reuseport, 127.0.0.1:8443 http2 ssl"`` -> listeners; ``off`` -> none."""
    value = value.strip()
    if value.lower() == "off":
        return ()
    out = []
    for entry in value.split(","):
        words = entry.split()
        if not words:
            raise ConfError(f"{name} must be of form: [off] | <ip>:<port> [ssl] [http2] ...")
        address, flags = words[0], words[1:]
        host, sep, port_text = address.rpartition(":")
        if not sep or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfError(f"{name} must be of form: [off] | <ip>:<port> [ssl] [http2] ...")
        host = host.strip("[]") or "0.0.0.0"
        out.append(Listener(host, int(port_text), "ssl" in flags))
    return tuple(out)


def _int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfError(f"{name} is not a number") from None


def _trusted_ips(text: str) -> tuple[str, ...]:
    items = tuple(i.strip() for i in text.split(",") if i.strip() and i.strip().upper() != "NONE")
    for item in items:
        if item == "unix:":
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfError(
                f"trusted_ips must be a comma separated list in the form of IPv4 or IPv6 or CIDR: {item}"
            ) from None
    return items


def from_env(env: Mapping[str, str] | None = None) -> KongConf:
    """Kong's settings from ``KONG_<NAME>`` variables (Kong's own precedence over its defaults)."""
    env = os.environ if env is None else env

    def get(name: str) -> str:
        return env.get("KONG_" + name.upper(), DEFAULTS.get(name, ""))

    database = get("database").strip().lower()
    if database not in ("postgres", "off"):
        raise ConfError("database has an invalid value: '" + database + "' (postgres, off)")
    declarative = env.get("KONG_DECLARATIVE_CONFIG") or None
    if declarative is not None and declarative.upper() == "NONE":
        declarative = None
    return KongConf(
        database=database,
        proxy_listen=parse_listen("proxy_listen", get("proxy_listen")),
        admin_listen=parse_listen("admin_listen", get("admin_listen")),
        status_listen=parse_listen("status_listen", get("status_listen")),
        pg_host=get("pg_host"),
        pg_port=_int("pg_port", get("pg_port")),
        pg_user=get("pg_user"),
        pg_password=get("pg_password"),
        pg_database=get("pg_database"),
        pg_timeout_ms=_int("pg_timeout", get("pg_timeout")),
        declarative_config=declarative,
        license_data=env.get("KONG_LICENSE_DATA") or None,
        trusted_ips=_trusted_ips(get("trusted_ips")),
        prefix=get("prefix"),
        kong_version=env.get(VERSION_VARIABLE, "3.15"),
    )
