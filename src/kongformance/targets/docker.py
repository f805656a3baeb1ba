"""The ``docker`` target: the stack as containers on the host network, started through testcontainers.

The gateway is real ``kong/kong-gateway:<tag>`` when that image is present or can be pulled, and our
reference gateway image otherwise; the issuer and the upstream are always our images
(``kongformance/identity``, ``kongformance/upstream``, built by ``images/build.sh``). Containers use
``network_mode="host"`` (the engine runs with ``--bridge=none``), so every URL is on 127.0.0.1. Ryuk is
disabled here, so this module removes its own containers: ``DockerStack.stop()``, also at interpreter exit.

Environment: ``DOCKER_HOST`` (the engine), ``KONGFORMANCE_KONG_IMAGE`` (a Kong image to use, or ``none`` to
force the reference gateway), ``KONG_LICENSE_DATA`` (passed to Kong for the Enterprise plugins).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

from kongformance.stack import route_defects
from kongformance.targets import kong_version
from kongformance.targets.base import Stack, TargetOptions, TargetUnavailable

OUR_IMAGES = {c: f"kongformance/{c}" for c in ("identity", "gateway", "upstream")}
KONG_REPOSITORY = "kong/kong-gateway"
POSTGRES_IMAGE = "postgres:16"
LABEL = "io.kongformance.run"


class DockerTargetError(RuntimeError):
    """The docker stack could not be started (engine unreachable, image missing, a container died)."""


@dataclass
class DockerStack:
    """A running docker stack: URLs of each listener and the containers behind them."""

    identity_url: str
    admin_url: str
    proxy_url: str
    proxy_ssl_url: str
    upstream_url: str
    gateway_image: str
    real_kong: bool
    run_id: str
    containers: dict[str, DockerContainer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def logs(self) -> dict[str, str]:
        """stdout and stderr of each container, for a failure report."""
        out = {}
        for name, container in self.containers.items():
            try:
                stdout, stderr = container.get_logs()
                out[name] = (stdout + stderr).decode("utf-8", "replace")
            except Exception as exc:  # noqa: BLE001 - a container already gone has no logs
                out[name] = f"<no logs: {exc}>"
        return out

    def stop(self) -> None:
        """Remove every container of this stack (idempotent)."""
        with self._lock:
            containers, self.containers = self.containers, {}
        for container in reversed(list(containers.values())):
            with contextlib.suppress(Exception):  # already removed
                container.stop()

    def __enter__(self) -> DockerStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


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


def docker_client():  # type: ignore[no-untyped-def]
    """A docker SDK client for DOCKER_HOST."""
    import docker

    return docker.from_env()


def engine_reachable() -> tuple[bool, str]:
    """Whether a Docker engine answers at DOCKER_HOST (or the default socket), and why not."""
    try:
        docker_client().ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine"
        return False, f"no Docker engine reachable ({os.environ.get('DOCKER_HOST', 'default socket')}): {exc}"
    return True, "ok"


def image_present(image: str) -> bool:
    try:
        docker_client().images.get(image)
    except Exception:  # noqa: BLE001 - ImageNotFound or engine error
        return False
    return True


def kong_image_for(kong_version: str, choice: str | None = None) -> str | None:
    """The Kong image to run (``choice``, else KONGFORMANCE_KONG_IMAGE, else ``kong/kong-gateway:<version>``),
    or None when it is neither present nor pullable, or the choice is ``none``."""
    chosen = choice if choice is not None else os.environ.get("KONGFORMANCE_KONG_IMAGE")
    if chosen is None:
        chosen = f"{KONG_REPOSITORY}:{kong_version}"
    if chosen.lower() in ("", "none", "reference"):
        return None
    if image_present(chosen):
        return chosen
    try:
        repository, _, tag = chosen.rpartition(":")
        docker_client().images.pull(repository, tag=tag or "latest")
    except Exception:  # noqa: BLE001 - no registry, no such tag, no credentials: use our gateway
        return None
    return chosen


def labelled_container(image: str, run_id: str, role: str) -> DockerContainer:
    """A container on the host network, labelled with its run so leftovers can be found and removed."""
    return DockerContainer(image).with_kwargs(
        network_mode="host", labels={LABEL: run_id, "io.kongformance.role": role}
    )


def _with_defects(container: DockerContainer, defects: list[str]) -> None:
    """Pass ``--defect NAME`` arguments to one of our images (appended to its entrypoint)."""
    if defects:
        container.with_command([arg for name in defects for arg in ("--defect", name)])


def wait_ready(stack: DockerStack, urls: dict[str, str], timeout: float) -> None:
    """Poll each URL until it answers any HTTP response; fail early with logs when a container exits."""
    deadline = time.monotonic() + timeout
    pending = dict(urls)
    with httpx.Client(verify=False, timeout=1.0) as client:
        while pending:
            for name, url in list(pending.items()):
                try:
                    client.get(url)
                    del pending[name]
                except httpx.TransportError:
                    pass
            for name, container in stack.containers.items():
                container.reload()
                if container.status not in ("created", "running"):
                    raise DockerTargetError(f"container {name} exited:\n{stack.logs().get(name, '')}")
            if pending and time.monotonic() > deadline:
                raise DockerTargetError(f"not ready after {timeout}s: {', '.join(pending)}")
            if pending:
                time.sleep(0.1)  # polling a container's readiness, not waiting on protocol time


def _kong_env(
    ports: dict[str, int], db_less: bool, pg_port: int | None, trusted_ips: list[str]
) -> dict[str, str]:
    env = {
        "KONG_DATABASE": "off" if db_less else "postgres",
        "KONG_ADMIN_LISTEN": f"127.0.0.1:{ports['admin']}",
        "KONG_PROXY_LISTEN": f"127.0.0.1:{ports['proxy']}, 127.0.0.1:{ports['proxy_ssl']} ssl",
        "KONG_STATUS_LISTEN": "off",
        "KONG_ADMIN_GUI_LISTEN": "off",
        "KONG_PROXY_ACCESS_LOG": "/dev/stdout",
        "KONG_PROXY_ERROR_LOG": "/dev/stderr",
        "KONG_ADMIN_ACCESS_LOG": "/dev/stdout",
        "KONG_ADMIN_ERROR_LOG": "/dev/stderr",
        # one worker: per-worker caches (JWKS, introspection, upstream tokens) then behave deterministically
        "KONG_NGINX_WORKER_PROCESSES": "1",
    }
    if pg_port is not None:
        env.update(
            KONG_PG_HOST="127.0.0.1", KONG_PG_PORT=str(pg_port), KONG_PG_USER="kong", KONG_PG_PASSWORD="kong"
        )
    if trusted_ips:  # Kong trusts no proxy by default
        env["KONG_TRUSTED_IPS"] = ",".join(trusted_ips)
    if os.environ.get("KONG_LICENSE_DATA"):
        env["KONG_LICENSE_DATA"] = os.environ["KONG_LICENSE_DATA"]
    return env


def _start_postgres(stack: DockerStack, run_id: str, port: int, timeout: float) -> None:
    pg = labelled_container(POSTGRES_IMAGE, run_id, "postgres").with_command(["-p", str(port)])
    pg.with_envs(POSTGRES_USER="kong", POSTGRES_PASSWORD="kong", POSTGRES_DB="kong")
    stack.containers["postgres"] = pg.start()
    deadline = time.monotonic() + timeout
    while pg.exec(["pg_isready", "-h", "127.0.0.1", "-p", str(port)]).exit_code != 0:
        if time.monotonic() > deadline:
            raise DockerTargetError("postgres did not become ready")
        time.sleep(0.2)  # polling a container's readiness


def _bootstrap_kong(image: str, env: dict[str, str], run_id: str, timeout: float) -> None:
    migrations = labelled_container(image, run_id, "migrations").with_command("kong migrations bootstrap")
    for key, value in env.items():
        migrations.with_env(key, value)
    migrations.start()
    try:
        code = migrations.get_wrapped_container().wait(timeout=timeout)["StatusCode"]
        if code != 0:
            out, err = migrations.get_logs()
            raise DockerTargetError(
                f"kong migrations bootstrap failed ({code}): {(out + err).decode()[-2000:]}"
            )
    finally:
        migrations.stop()


def start_docker_stack(
    *,
    kong_version: str = "3.15",
    db_less: bool = False,
    defects: Iterable[str] = (),
    kong_image: str | None = None,
    trusted_ips: Iterable[str] = (),
    ready_timeout: float = 60.0,
) -> DockerStack:
    """Start issuer, gateway (real Kong when available) and upstream containers; return once all answer.

    ``trusted_ips`` is Kong's ``trusted_ips`` (default none, as Kong's), given to either gateway.
    """
    testcontainers_config.ryuk_disabled = (
        True  # the Ryuk image cannot be pulled; we remove our own containers
    )
    ok, why = engine_reachable()
    if not ok:
        raise DockerTargetError(why)
    routed = route_defects(defects)
    kong_image = kong_image_for(kong_version, kong_image)
    if kong_image and routed["gateway"]:
        raise DockerTargetError(
            f"gateway defects {routed['gateway']} need the reference gateway, not {kong_image}"
        )
    for image in [OUR_IMAGES["identity"], OUR_IMAGES["upstream"]] + (
        [] if kong_image else [OUR_IMAGES["gateway"]]
    ):
        if not image_present(image):
            raise DockerTargetError(f"image {image} is missing: build it with images/build.sh")
    names = ["identity", "admin", "proxy", "proxy_ssl", "upstream", "postgres"]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    run_id = uuid.uuid4().hex[:12]
    base = "http://127.0.0.1"
    stack = DockerStack(
        identity_url=f"{base}:{ports['identity']}",
        admin_url=f"{base}:{ports['admin']}",
        proxy_url=f"{base}:{ports['proxy']}",
        proxy_ssl_url=f"https://127.0.0.1:{ports['proxy_ssl']}",
        upstream_url=f"{base}:{ports['upstream']}",
        gateway_image=kong_image or OUR_IMAGES["gateway"],
        real_kong=kong_image is not None,
        run_id=run_id,
    )
    atexit.register(stack.stop)
    try:
        identity = labelled_container(OUR_IMAGES["identity"], run_id, "identity")
        identity.with_env("KONGFORMANCE_IDENTITY_PORT", str(ports["identity"]))
        _with_defects(identity, routed["identity"])
        stack.containers["identity"] = identity.start()
        upstream = labelled_container(OUR_IMAGES["upstream"], run_id, "upstream")
        stack.containers["upstream"] = upstream.with_env(
            "KONGFORMANCE_UPSTREAM_PORT", str(ports["upstream"])
        ).start()
        stack.containers["gateway"] = _start_gateway(
            stack, kong_image, kong_version, db_less, routed["gateway"], ports, list(trusted_ips)
        )
        wait_ready(
            stack,
            {
                "identity": stack.identity_url + "/",
                "upstream": stack.upstream_url + "/anything",
                "admin": stack.admin_url + "/",
                "proxy": stack.proxy_url + "/",
                "proxy_ssl": stack.proxy_ssl_url + "/",
            },
            ready_timeout,
        )
    except BaseException:
        stack.stop()
        raise
    return stack


def _start_gateway(
    stack: DockerStack,
    kong_image: str | None,
    kong_version: str,
    db_less: bool,
    defects: list[str],
    ports: dict[str, int],
    trusted_ips: list[str],
) -> DockerContainer:
    if kong_image is None:
        gw = labelled_container(OUR_IMAGES["gateway"], stack.run_id, "gateway")
        gw.with_envs(
            KONGFORMANCE_ADMIN_PORT=str(ports["admin"]),
            KONGFORMANCE_PROXY_PORT=str(ports["proxy"]),
            KONGFORMANCE_PROXY_SSL_PORT=str(ports["proxy_ssl"]),
            KONGFORMANCE_KONG_VERSION=kong_version,
            KONGFORMANCE_DB_LESS="1" if db_less else "0",
        )
        args = [arg for name in defects for arg in ("--defect", name)]
        args += [arg for cidr in trusted_ips for arg in ("--trusted-ip", cidr)]
        if args:
            gw.with_command(args)
        return gw.start()
    pg_port = None if db_less else ports["postgres"]
    env = _kong_env(ports, db_less, pg_port, trusted_ips)
    if pg_port is not None:
        _start_postgres(stack, stack.run_id, pg_port, 60.0)
        _bootstrap_kong(kong_image, env, stack.run_id, 120.0)
    kong = labelled_container(kong_image, stack.run_id, "gateway")
    for key, value in env.items():
        kong.with_env(key, value)
    return kong.start()


def remove_leftover_containers() -> int:
    """Remove containers left by runs that could not clean up (killed processes); returns how many."""
    client = docker_client()
    leftovers = client.containers.list(all=True, filters={"label": LABEL})
    for container in leftovers:
        container.remove(force=True)
    return len(leftovers)


class DockerTarget:
    """The ``docker`` target of the suite (``--kf-target docker``): starts a :class:`DockerStack`.

    Settings: ``KF_KONG_IMAGE`` (or env KONGFORMANCE_KONG_IMAGE; ``none`` forces the reference gateway),
    ``KF_TRUSTED_IPS`` (comma-separated CIDRs for Kong's ``trusted_ips``; default none).
    """

    name = "docker"

    def __init__(self, options: TargetOptions) -> None:
        self.options = options
        self._running: DockerStack | None = None

    def start(self) -> Stack:
        try:
            running = start_docker_stack(
                kong_version=self.options.kong_version,
                db_less=self.options.db_less,
                defects=self.options.defects,
                kong_image=self.options.settings.get("KF_KONG_IMAGE"),
                trusted_ips=[c for c in self.options.settings.get("KF_TRUSTED_IPS", "").split(",") if c],
            )
        except DockerTargetError as exc:
            raise TargetUnavailable(str(exc)) from exc
        self._running = running
        version, source, warnings = self.options.kong_version, "", []
        if running.real_kong:  # what the image really runs, not what was asked for
            with httpx.Client(timeout=5.0) as http:
                read = kong_version.from_admin(http, running.admin_url, {})
            version, warning = kong_version.reconcile(self.options.given_kong_version, read, version)
            source, warnings = (read.source if read else ""), ([warning] if warning else [])
        return Stack(
            target=self.name,
            identity_url=running.identity_url,
            identity_token="kongformance-docker",
            admin_url=running.admin_url,
            proxy_url=running.proxy_url,
            proxy_ssl_url=running.proxy_ssl_url,
            upstream_url=running.upstream_url,
            upstream_log_url=running.upstream_url,
            admin_mode="dbless" if self.options.db_less else "crud",
            kong_version=version,
            kong_version_source=source,
            warnings=warnings,
            db_less=self.options.db_less,
            virtual_clock=not running.real_kong,  # identity and gateway each have /_emulator/clock
            issuer_control=True,
            upstream_log=True,
        )

    def stop(self) -> None:
        if self._running is not None:
            self._running.stop()
            self._running = None
