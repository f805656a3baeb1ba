"""The ``docker`` target: issuer, Kong and upstream as containers, started and awaited by testcontainers.

The gateway is whatever Kong image the settings name (:mod:`.docker_settings`): ``kong/kong-gateway`` for
real Kong, or the Kong-shaped stand-in ``kongformance/kong:<version>`` built by images/build.sh. Both get the
same treatment: Kong's environment (``KONG_DATABASE``, ``KONG_PG_*``, ``KONG_*_LISTEN``,
``KONG_DECLARATIVE_CONFIG``, ``KONG_LICENSE_DATA``), ``kong migrations bootstrap`` before a DB-mode start,
and readiness on Kong's ``/status/ready``. Nothing here knows which of the two it runs.

Networking (``KF_DOCKER_NETWORK``): ``mapped`` puts the run on its own Docker network with exposed ports
mapped to host ports (Docker Desktop, remote engines, DinD); ``host`` uses host networking with every
listener on 127.0.0.1. Images are never pulled unless ``KF_PULL_POLICY`` asks. Ryuk runs as testcontainers
is configured (``TESTCONTAINERS_RYUK_DISABLED``); this module removes its own containers either way.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from kongformance.stack import route_defects
from kongformance.targets import docker_containers as dc
from kongformance.targets.base import Stack, TargetOptions, TargetUnavailable
from kongformance.targets.docker_containers import BOOT_ROUTE, PORTS, free_ports  # noqa: F401 - re-exported
from kongformance.targets.docker_settings import DockerSettings, DockerSettingsError, with_tag

OUR_IMAGES = {c: f"kongformance/{c}" for c in ("identity", "upstream")}
LABEL = "io.kongformance.run"
ROLE_LABEL = "io.kongformance.role"
# the process that owns the run: `kongformance cleanup` removes a container only when it is gone
PID_LABEL, HOST_LABEL, PID_START_LABEL = (
    "io.kongformance.pid",
    "io.kongformance.host",
    "io.kongformance.pid-start",
)


class DockerTargetError(RuntimeError):
    """The docker stack could not be started (engine unreachable, image missing, a container died)."""


def container_labels(run_id: str, role: str) -> dict[str, str]:
    """The labels of every container and network a run creates (the one place they are set)."""
    from kongformance.run_ledger import owner_labels

    owner = dict(zip((PID_LABEL, HOST_LABEL, PID_START_LABEL), owner_labels(), strict=True))
    return {LABEL: run_id, ROLE_LABEL: role, **owner}


@dataclass
class DockerStack:
    """A running docker stack: URLs of each listener (as this process reaches them) and the containers."""

    identity_url: str
    admin_url: str
    proxy_url: str
    proxy_ssl_url: str
    upstream_url: str  # as Kong reaches the upstream
    gateway_image: str
    run_id: str
    status_url: str = ""
    upstream_log_url: str = ""  # as this process reaches the upstream
    network: str = "host"
    kong_version: str = ""
    virtual_clock: bool = False  # the gateway's clock can be moved (the stand-in's /_emulator/clock answers)
    containers: dict[str, DockerContainer] = field(default_factory=dict)
    docker_network: Network | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def logs(self) -> dict[str, str]:
        """stdout and stderr of each container (redacted), for a failure report."""
        from kongformance.report.redaction import redact

        out = {}
        for name, container in self.containers.items():
            try:
                stdout, stderr = container.get_logs()
                out[name] = redact((stdout + stderr).decode("utf-8", "replace"))
            except Exception as exc:  # noqa: BLE001 - a container already gone has no logs
                out[name] = f"<no logs: {exc}>"
        return out

    def write_logs(self, directory: Path) -> list[Path]:
        """Write each container's log to ``directory/docker-<role>.log``; returns the files."""
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in self.logs().items():
            path = directory / f"docker-{name}.log"
            path.write_text(text, "utf-8")
            written.append(path)
        return written

    def stop(self) -> None:
        """Remove every container and the network of this stack (idempotent)."""
        with self._lock:
            containers, self.containers = self.containers, {}
            network, self.docker_network = self.docker_network, None

        def remove(container: DockerContainer) -> None:
            with contextlib.suppress(Exception):  # already removed
                container.stop()

        if containers:  # side by side: each removal waits for the engine to kill and delete
            with ThreadPoolExecutor(max_workers=len(containers)) as pool:
                list(pool.map(remove, containers.values()))
        if network is not None:
            with contextlib.suppress(Exception):
                network.remove()
        remove_labelled(self.run_id)

    def __enter__(self) -> DockerStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def docker_client() -> Any:
    """A docker SDK client for DOCKER_HOST (a ``docker.DockerClient``: no type information for the SDK is installed)."""
    import docker

    return docker.from_env()


def engine_reachable() -> tuple[bool, str]:
    """Whether a Docker engine answers at DOCKER_HOST (or the default socket), and why not."""
    import os

    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if host.startswith("unix://") and not os.path.exists(host[len("unix://") :]):
        # the docker SDK leaks the socket of a failed unix connect: do not make one that cannot succeed
        return False, f"no Docker engine reachable ({host} does not exist)"
    try:
        with closing(docker_client()) as client:
            client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine"
        return False, f"no Docker engine reachable ({os.environ.get('DOCKER_HOST', 'default socket')}): {exc}"
    return True, "ok"


def image_present(image: str) -> bool:
    try:
        with closing(docker_client()) as client:
            client.images.get(image)
    except Exception:  # noqa: BLE001 - ImageNotFound or engine error
        return False
    return True


def ensure_image(image: str, policy: str, why: str = "") -> None:
    """Make ``image`` available under the pull policy; never pulls under ``never``."""
    present = image_present(image)
    if present and policy != "always":
        return
    if policy == "never":
        raise DockerTargetError(
            f"image {image} is not present and KF_PULL_POLICY is never{why}: build it (make images), "
            f"`docker pull {image}`, or set KF_PULL_POLICY=missing"
        )
    repository, tag = with_tag(image)
    try:
        docker_client().images.pull(repository, tag=tag)
    except Exception as exc:  # noqa: BLE001 - no registry, no such tag, no credentials
        raise DockerTargetError(f"pulling {image} failed: {str(exc).splitlines()[0]}") from None


def labelled_container(image: str, run_id: str, role: str, network: Network | None = None) -> DockerContainer:
    """A container labelled with its run: on ``network``, or on the host network when it is None."""
    container = DockerContainer(image).with_kwargs(labels=container_labels(run_id, role))
    if network is None:
        return container.with_kwargs(network_mode="host", labels=container_labels(run_id, role))
    return container.with_network(network)


def start_docker_stack(
    *,
    kong_version: str = "3.15",
    db_less: bool = False,
    defects: Iterable[str] = (),
    settings: DockerSettings | None = None,
    trusted_ips: Iterable[str] = (),
    run_id: str | None = None,
) -> DockerStack:
    """Start issuer, upstream, (Postgres and ``kong migrations bootstrap``) and Kong, side by side; return
    once every container is ready (Kong: ``/status/ready`` answers 200)."""
    settings = settings or DockerSettings.resolve(kong_version, {})
    ok, why = engine_reachable()
    if not ok:
        raise DockerTargetError(why)
    routed = route_defects(defects)
    images = [OUR_IMAGES["identity"], OUR_IMAGES["upstream"], settings.kong_image]
    images += [] if db_less else [settings.postgres_image]
    for image in images:
        ensure_image(image, settings.pull_policy)
    if not testcontainers_config.ryuk_disabled:  # Ryuk runs as testcontainers is configured
        why = " (testcontainers' Ryuk is on; TESTCONTAINERS_RYUK_DISABLED=true turns it off)"
        ensure_image(testcontainers_config.ryuk_image, settings.pull_policy, why)
    run_id = run_id or uuid.uuid4().hex[:12]
    layout = dc.Layout.choose(settings, DockerContainer(settings.kong_image).get_docker_client().host())
    network = None
    if layout.mode == "mapped":
        network = Network(docker_network_kw={"labels": container_labels(run_id, "network")})
        network.create()
    stack = DockerStack(
        "", "", "", "", "", settings.kong_image, run_id, network=layout.mode, docker_network=network
    )
    atexit.register(stack.stop)

    def new(image: str, role: str) -> DockerContainer:
        container = labelled_container(image, run_id, role, network)
        stack.containers[role] = container
        return container

    timeout = settings.ready_timeout
    try:
        stack.identity_url, identity_ready = dc.start_identity(
            new, OUR_IMAGES["identity"], layout, routed["identity"], timeout
        )
        stack.upstream_url, stack.upstream_log_url, upstream_ready = dc.start_upstream(
            new, OUR_IMAGES["upstream"], layout, timeout
        )
        env = dc.kong_env(layout, db_less, list(trusted_ips), "/kongformance/boot.yaml" if db_less else None)
        if not db_less:
            dc.start_postgres(new, settings.postgres_image, layout, timeout)()
            dc.bootstrap(new, settings.kong_image, env, timeout)
            stack.containers.pop("migrations", None)
        # read by the stand-in (its defects; its /_emulator clock), ignored by Kong: the same call for both
        extra = {"KONGFORMANCE_CONTROL": "on"} if settings.gateway_clock else {}
        if routed["gateway"]:
            extra["KONGFORMANCE_DEFECTS"] = ",".join(routed["gateway"])
        boot = dc.boot_config(stack.upstream_url) if db_less else None
        urls, kong_ready = dc.start_kong(new, settings.kong_image, layout, env, extra, boot, timeout)
        stack.admin_url, stack.proxy_url = urls["admin"], urls["proxy"]
        stack.proxy_ssl_url, stack.status_url = urls["proxy_ssl"], urls["status"]
        for ready in (identity_ready, upstream_ready, kong_ready):
            ready()
        _check_version(stack, kong_version)
        stack.virtual_clock = _answers(stack.admin_url + "/_emulator/clock")
    except dc.ContainerFailed as exc:
        stack.stop()
        raise DockerTargetError(str(exc)) from None
    except BaseException:
        stack.stop()
        raise
    return stack


def _answers(url: str) -> bool:
    """Whether ``url`` answers 200 (a capability probe: Kong answers 404 for /_emulator paths)."""
    with httpx.Client(timeout=10.0) as http:
        return http.get(url).status_code == 200


def _check_version(stack: DockerStack, kong_version: str) -> None:
    """The image must run the Kong version the run follows (kong/kong-gateway:3.9 needs --kong-version 3.9)."""
    with httpx.Client(timeout=10.0) as http:
        reported = str(http.get(stack.admin_url + "/").json().get("version", ""))
    stack.kong_version = ".".join(reported.split(".")[:2])
    if stack.kong_version != ".".join(kong_version.split(".")[:2]):
        raise DockerTargetError(
            f"{stack.gateway_image} runs Kong {reported}, not {kong_version}: pass --kong-version {stack.kong_version}"
        )


def remove_labelled(run_id: str) -> int:
    """Remove what the engine holds labelled with ``run_id`` beyond the containers a stack knows: one whose
    creation an interrupt cut off (the engine created it, the answer never came). Returns how many containers;
    0 when the engine cannot be reached (``kongformance cleanup`` removes them later by label)."""
    label = {"label": f"{LABEL}={run_id}"}
    try:
        with closing(docker_client()) as client:  # the low-level API: a listed container may be going away
            containers = client.api.containers(all=True, filters=label)
            for container in containers:
                with contextlib.suppress(Exception):  # removed meanwhile
                    client.api.remove_container(container["Id"], force=True)
            for network in client.api.networks(filters=label):
                with contextlib.suppress(Exception):
                    client.api.remove_network(network["Id"])
    except Exception:  # noqa: BLE001 - no engine: nothing this run can remove now
        return 0
    return len(containers)


class DockerTarget:
    """The ``docker`` target of the suite (``--kf-target docker``): starts a :class:`DockerStack`.

    Settings: see :mod:`kongformance.targets.docker_settings`; ``KF_TRUSTED_IPS`` (comma-separated CIDRs
    for Kong's ``trusted_ips``; default none, as Kong's).
    """

    name = "docker"

    def __init__(self, options: TargetOptions) -> None:
        self.options = options
        self._running: DockerStack | None = None
        self.last_stack: DockerStack | None = None

    def start(self) -> Stack:
        try:
            settings = DockerSettings.resolve(self.options.kong_version, self.options.settings)
            running = start_docker_stack(
                kong_version=self.options.kong_version,
                db_less=self.options.db_less,
                defects=self.options.defects,
                settings=settings,
                trusted_ips=[c for c in self.options.settings.get("KF_TRUSTED_IPS", "").split(",") if c],
                run_id=self.options.run_id or None,
            )
        except DockerSettingsError as exc:
            raise DockerTargetError(str(exc)) from None
        except DockerTargetError as exc:
            if "no Docker engine reachable" in str(exc):
                raise TargetUnavailable(str(exc)) from exc
            raise
        self._running = self.last_stack = running
        # the version GET / reports (checked against the run's in _check_version), as every target reads it
        version = running.kong_version or self.options.kong_version
        source = "Admin API GET /" if running.kong_version else ""
        return Stack(
            target=self.name,
            identity_url=running.identity_url,
            identity_token="kongformance-docker",
            admin_url=running.admin_url,
            proxy_url=running.proxy_url,
            proxy_ssl_url=running.proxy_ssl_url,
            upstream_url=running.upstream_url,
            upstream_log_url=running.upstream_log_url,
            admin_mode="dbless" if self.options.db_less else "crud",
            kong_version=version,
            kong_version_source=source,
            db_less=self.options.db_less,
            virtual_clock=running.virtual_clock,  # probed: real Kong's clock cannot be moved
            issuer_control=True,
            upstream_log=True,
        )

    def wait_for_route(self, path: str, deadline: float) -> None:
        """Wait (testcontainers' HTTP wait on the gateway container) until ``path`` proxies with 200."""
        if self._running is None:
            raise DockerTargetError("the docker stack is not running")
        try:
            dc.waiter(
                self._running.containers["gateway"], dc.UrlWait(self._running.proxy_url + path), deadline
            )()
        except dc.ContainerFailed as exc:
            raise TimeoutError(f"the profile did not take effect within {deadline}s: {exc}") from None

    def write_logs(self, directory: Path) -> list[Path]:
        """Each container's log (redacted) under ``directory``: attached to the reports of a failed run."""
        stack = self._running or self.last_stack
        return stack.write_logs(directory) if stack is not None else []

    def stop(self) -> None:
        if self._running is not None:
            self._running.stop()
            self._running = None
