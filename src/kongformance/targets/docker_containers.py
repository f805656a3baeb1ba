"""The containers of a docker run, one function each: how it is configured, published and awaited.

Every function receives ``new(image, role)``, which makes a container labelled with the run and attached to
the run's network (:func:`kongformance.targets.docker.labelled_container`), starts its container without
blocking, and returns it with a waiter: testcontainers' own wait strategies (HTTP on a URL, ``pg_isready``
in the container), so containers start side by side and are awaited afterwards.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import ExecWaitStrategy, HttpWaitStrategy, WaitStrategy

from kongformance.targets.docker_settings import DockerSettings

# container ports in mapped mode (Kong's defaults; the status listener on 8100 as Kong's docs show it)
PORTS = {"proxy": 8000, "proxy_ssl": 8443, "admin": 8001, "status": 8100, "identity": 8300, "upstream": 8088}
KONG_LISTENERS = ("admin", "proxy", "proxy_ssl", "status")
PG_PORT = 5432
PG_USER = PG_DB = "kong"
PG_PASSWORD = uuid.uuid4().hex  # per process: the throwaway database's password
BOOT_ROUTE = "/kongformance-boot"  # the route of the declarative config a DB-less Kong starts with
POLL = 0.1  # seconds between readiness probes (testcontainers' default is 1 s)

NewContainer = Callable[[str, str], DockerContainer]
Waiter = Callable[[], None]


class ContainerFailed(RuntimeError):
    """A container exited or did not become ready; the message ends with its (redacted) log."""


def tail(raw: bytes, limit: int = 3000) -> str:
    from kongformance.report.redaction import redact

    return redact(raw.decode("utf-8", "replace")[-limit:])


class UrlWait(HttpWaitStrategy):
    """testcontainers' HTTP wait on a fixed URL, failing at once (with the log) when the container exits."""

    def __init__(self, url: str, *statuses: int) -> None:
        parsed = httpx.URL(url)
        super().__init__(parsed.port or 80, parsed.raw_path.decode() or "/")
        self._url = url
        self._status_codes = set(statuses or (200,))
        self._container: Any = None
        if parsed.scheme == "https":
            self.using_tls(insecure=True)
        self.with_poll_interval(POLL)

    def _build_url(self, container: Any) -> str:
        self._container = container
        return self._url

    def _try_http_request(self, url: str, headers: dict[str, str], ssl_context: Any) -> bool:
        if super()._try_http_request(url, headers, ssl_context):
            return True
        wrapped = self._container.get_wrapped_container() if self._container is not None else None
        if wrapped is not None:
            wrapped.reload()
            if wrapped.status not in ("created", "running"):
                out, err = self._container.get_logs()
                raise ContainerFailed(f"container exited before {url} answered:\n{tail(out + err)}")
        return False


def waiter(container: DockerContainer, strategy: WaitStrategy, timeout: float) -> Waiter:
    def wait() -> None:
        try:
            strategy.with_startup_timeout(int(timeout)).wait_until_ready(container)
        except TimeoutError as exc:
            out, err = container.get_logs()
            raise ContainerFailed(f"{str(exc).splitlines()[0]}\n{tail(out + err)}") from None

    return wait


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports free on ``host`` right now (the containers bind them moments later)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _is_loopback(name: str) -> bool:
    try:
        return ipaddress.ip_address(socket.gethostbyname(name)).is_loopback
    except (OSError, ValueError):
        return False


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass
class Layout:
    """Where listeners bind and how this process (and Kong) reach them."""

    mode: str  # host | mapped
    test_host: str  # how this process reaches published ports
    bind_ip: str  # host address that published ports bind (mapped mode)
    host_address: str  # the issuer's public host name
    ports: dict[str, int]  # host mode: every listener's port; mapped: the issuer's port

    @classmethod
    def choose(cls, settings: DockerSettings, engine_host: str) -> Layout:
        if settings.network == "host":
            names = ["identity", *KONG_LISTENERS, "upstream", "postgres"]
            ports = dict(zip(names, free_ports(len(names)), strict=True))
            return cls("host", "127.0.0.1", "127.0.0.1", "127.0.0.1", ports)
        local = engine_host in ("localhost", "127.0.0.1", "::1")
        test_host = "127.0.0.1" if local else engine_host
        address = settings.host_address or (socket.gethostname() if local else engine_host)
        bind_ip = "127.0.0.1" if local and _is_loopback(address) else "0.0.0.0"
        return cls("mapped", test_host, bind_ip, address, {"identity": free_ports(1)[0]})

    def published(self, container: DockerContainer, port: int) -> str:
        return f"{self.test_host}:{container.get_exposed_port(port)}"

    def publish(self, container: DockerContainer, port: int, host_port: int | None = None) -> None:
        """Publish ``port`` on the engine's host (a free port unless ``host_port``), bound to ``bind_ip``."""
        container.with_exposed_ports(port)
        container.ports[str(port)] = (self.bind_ip, host_port)  # type: ignore[assignment]


def start_identity(
    new: NewContainer, image: str, layout: Layout, defects: list[str], timeout: float
) -> tuple[str, Waiter]:
    """The issuer emulator; returns its URL (its public base URL in mapped mode) and its waiter."""
    identity = new(image, "identity")
    port = layout.ports["identity"]
    identity.with_env("KONGFORMANCE_IDENTITY_PORT", str(port))
    args = [arg for name in defects for arg in ("--defect", name)]
    url = f"http://127.0.0.1:{port}"
    if layout.mode == "mapped":
        url = f"http://{layout.host_address}:{port}"
        identity.with_env("KONGFORMANCE_HOST", "0.0.0.0")
        layout.publish(identity, port, port)  # the same port inside and out: one issuer URL for all
        if not is_ip(layout.host_address):
            identity.with_network_aliases(
                layout.host_address
            )  # Kong reaches the issuer under its public name
        args += ["--public-url", url]
    if args:
        identity.with_command(args)
    identity.start()
    return url, waiter(identity, UrlWait(url + "/", *range(200, 500)), timeout)


def start_upstream(new: NewContainer, image: str, layout: Layout, timeout: float) -> tuple[str, str, Waiter]:
    """The echo upstream; returns (URL as Kong reaches it, URL as this process reaches it, waiter)."""
    upstream = new(image, "upstream")
    if layout.mode == "host":
        port = layout.ports["upstream"]
        upstream.with_env("KONGFORMANCE_UPSTREAM_PORT", str(port))
        upstream.start()
        url = f"http://127.0.0.1:{port}"
        return url, url, waiter(upstream, UrlWait(url + "/anything"), timeout)
    upstream.with_envs(KONGFORMANCE_HOST="0.0.0.0", KONGFORMANCE_UPSTREAM_PORT=str(PORTS["upstream"]))
    layout.publish(upstream, PORTS["upstream"])
    upstream.with_network_aliases("upstream")
    upstream.start()
    log_url = f"http://{layout.published(upstream, PORTS['upstream'])}"
    return (
        f"http://upstream:{PORTS['upstream']}",
        log_url,
        waiter(upstream, UrlWait(log_url + "/anything"), timeout),
    )


def start_postgres(new: NewContainer, image: str, layout: Layout, timeout: float) -> Waiter:
    """Postgres for DB mode (the official image's POSTGRES_* interface); waits with ``pg_isready``."""
    pg = new(image, "postgres")
    port = layout.ports["postgres"] if layout.mode == "host" else PG_PORT
    pg.with_envs(POSTGRES_USER=PG_USER, POSTGRES_PASSWORD=PG_PASSWORD, POSTGRES_DB=PG_DB, PGPORT=str(port))
    if layout.mode == "host":
        pg.with_env("POSTGRES_LISTEN", "127.0.0.1")
    else:
        pg.with_network_aliases("postgres")
    pg.start()
    ready = ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER, "-d", PG_DB]
    return waiter(pg, ExecWaitStrategy(ready).with_poll_interval(POLL), timeout)


def kong_env(
    layout: Layout, db_less: bool, trusted_ips: list[str], declarative: str | None
) -> dict[str, str]:
    """Kong's environment for this run (the settings a kong/kong-gateway container documents)."""
    if layout.mode == "host":
        listen = {k: f"127.0.0.1:{layout.ports[k]}" for k in KONG_LISTENERS}
    else:
        listen = {k: f"0.0.0.0:{PORTS[k]}" for k in KONG_LISTENERS}
    env = {
        "KONG_DATABASE": "off" if db_less else "postgres",
        "KONG_ADMIN_LISTEN": listen["admin"],
        "KONG_PROXY_LISTEN": f"{listen['proxy']}, {listen['proxy_ssl']} ssl",
        "KONG_STATUS_LISTEN": listen["status"],
        "KONG_ADMIN_GUI_LISTEN": "off",
        "KONG_PROXY_ACCESS_LOG": "/dev/stdout",
        "KONG_PROXY_ERROR_LOG": "/dev/stderr",
        "KONG_ADMIN_ACCESS_LOG": "/dev/stdout",
        "KONG_ADMIN_ERROR_LOG": "/dev/stderr",
        # one worker: per-worker caches (JWKS, introspection, upstream tokens) then behave deterministically
        "KONG_NGINX_WORKER_PROCESSES": "1",
    }
    if not db_less:
        host_mode = layout.mode == "host"
        env.update(
            KONG_PG_HOST="127.0.0.1" if host_mode else "postgres",
            KONG_PG_PORT=str(layout.ports["postgres"] if host_mode else PG_PORT),
            KONG_PG_USER=PG_USER,
            KONG_PG_PASSWORD=PG_PASSWORD,
            KONG_PG_DATABASE=PG_DB,
        )
    if declarative:
        env["KONG_DECLARATIVE_CONFIG"] = declarative
    if trusted_ips:  # Kong trusts no proxy by default
        env["KONG_TRUSTED_IPS"] = ",".join(trusted_ips)
    if os.environ.get("KONG_LICENSE_DATA"):  # the Enterprise plugins need it
        env["KONG_LICENSE_DATA"] = os.environ["KONG_LICENSE_DATA"]
    return env


def boot_config(upstream_url: str) -> bytes:
    """The declarative config a DB-less Kong starts with (KONG_DECLARATIVE_CONFIG): one route to the upstream."""
    return (
        '_format_version: "3.0"\n'
        "services:\n"
        "- name: kongformance-boot\n"
        f"  url: {upstream_url.rstrip('/')}/anything\n"
        "  routes:\n"
        "  - name: kongformance-boot\n"
        "    protocols: [http, https]\n"
        f"    paths: [{BOOT_ROUTE}]\n"
    ).encode()


def bootstrap(new: NewContainer, image: str, env: dict[str, str], timeout: float) -> None:
    """``kong migrations bootstrap`` in a one-off container of the Kong image (Kong's documented step)."""
    migrations = new(image, "migrations").with_command(["kong", "migrations", "bootstrap"]).with_envs(**env)
    migrations.start()
    try:
        code = migrations.get_wrapped_container().wait(timeout=timeout)["StatusCode"]
        if code != 0:
            out, err = migrations.get_logs()
            raise ContainerFailed(f"kong migrations bootstrap failed ({code}):\n{tail(out + err, 2000)}")
    finally:
        migrations.stop()


def start_kong(
    new: NewContainer,
    image: str,
    layout: Layout,
    env: dict[str, str],
    extra: dict[str, str],
    boot: bytes | None,
    timeout: float,
) -> tuple[dict[str, str], Waiter]:
    """Kong (or the stand-in); returns the URL of each listener and a waiter on ``/status/ready``."""
    kong = new(image, "gateway").with_envs(**env, **extra)
    if boot is not None:
        kong.with_copy_into_container(boot, env["KONG_DECLARATIVE_CONFIG"])
    if layout.mode == "mapped":
        for name in KONG_LISTENERS:
            layout.publish(kong, PORTS[name])
    kong.start()
    if layout.mode == "host":
        hosts = {k: f"127.0.0.1:{layout.ports[k]}" for k in KONG_LISTENERS}
    else:
        hosts = {k: layout.published(kong, PORTS[k]) for k in KONG_LISTENERS}
    urls = {k: ("https://" if k == "proxy_ssl" else "http://") + h for k, h in hosts.items()}
    return urls, waiter(kong, UrlWait(urls["status"] + "/status/ready"), timeout)
