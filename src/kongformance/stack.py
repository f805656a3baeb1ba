"""The local stack: issuer emulator, reference gateway and echo upstream in this process, one clock.

:func:`start_local_stack` is what the ``local`` target and the benchmarks use; ``kongformance serve stack``
runs the same stack in the foreground on fixed ports and prints its URLs. Each app is served by
:func:`kongformance.serving.start_in_thread` on loopback; the servers start concurrently so the stack is
ready in well under a second.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kongformance.cli_args import kong_version
from kongformance.clock import Clock
from kongformance.hidden_control import maybe_hidden
from kongformance.serving import RunningServer, start_in_thread
from kongformance.upstream.echo import EchoUpstream

# component -> (module, candidate attributes) of its defect catalogue: the first attribute present is used;
# it is a mapping name -> Defect, a sequence of Defects, or a function returning either.
DEFECT_CATALOGUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "identity": ("kongformance.identity.defects", ("DEFECTS", "ISSUER_DEFECTS", "CATALOGUE")),
    "gateway": ("kongformance.gateway.defects", ("CATALOGUE", "gateway_catalogue", "DEFECTS")),
}


@dataclass(frozen=True)
class StackPorts:
    """Ports of the stack's listeners; 0 picks a free port (the default, so stacks never collide)."""

    identity: int = 0
    admin: int = 0
    proxy: int = 0
    proxy_ssl: int = 0
    upstream: int = 0


FIXED_PORTS = StackPorts(identity=8300, admin=8001, proxy=8000, proxy_ssl=8443, upstream=8088)


@dataclass
class LocalStack:
    """A running local stack: its clock, the component objects, their URLs; ``stop()`` ends it."""

    clock: Clock
    identity: Any  # kongformance.identity.app.IdentityEmulator
    gateway: Any  # kongformance.gateway.app.ReferenceGateway
    upstream: EchoUpstream
    servers: dict[str, RunningServer] = field(default_factory=dict)

    @property
    def identity_url(self) -> str:
        return self.servers["identity"].url

    @property
    def admin_url(self) -> str:
        return self.servers["admin"].url

    @property
    def proxy_url(self) -> str:
        return self.servers["proxy"].url

    @property
    def proxy_ssl_url(self) -> str:
        return self.servers["proxy_ssl"].url

    @property
    def upstream_url(self) -> str:
        return self.servers["upstream"].url

    def urls(self) -> dict[str, str]:
        """Every listener's base URL by role (identity, admin, proxy, proxy_ssl, upstream)."""
        return {name: server.url for name, server in self.servers.items()}

    def stop(self) -> None:
        """Stop every listener (concurrently; each stop waits for its server thread)."""
        with ThreadPoolExecutor(max_workers=max(1, len(self.servers))) as pool:
            list(pool.map(lambda s: s.stop(), self.servers.values()))
        self.servers.clear()
        close = getattr(self.gateway, "close", None)  # the gateway's HTTP client and temporary TLS files
        if callable(close):
            close()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _defect_names(catalogue: Any) -> set[str]:
    if isinstance(catalogue, Mapping):
        return {str(k) for k in catalogue}
    return {d.name for d in catalogue}


def defect_names_by_component() -> dict[str, set[str]]:
    """The defect names each component's catalogue declares (a component not built yet has none)."""
    out: dict[str, set[str]] = {}
    for component, (module_name, attrs) in DEFECT_CATALOGUES.items():
        out[component] = set()
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for attr in attrs:
            if hasattr(module, attr):
                found = getattr(module, attr)
                out[component] = _defect_names(found() if callable(found) else found)
                break
    return out


def route_defects(defects: Iterable[str]) -> dict[str, list[str]]:
    """Split defect names by the component whose catalogue has them; an unknown name is a ValueError."""
    catalogues = defect_names_by_component()
    routed: dict[str, list[str]] = {component: [] for component in catalogues}
    unknown = []
    for name in defects:
        owners = [c for c, names in catalogues.items() if name in names]
        if not owners:
            unknown.append(name)
        for owner in owners:
            routed[owner].append(name)
    if unknown:
        known = sorted(set().union(*catalogues.values()))
        raise ValueError(f"unknown defect(s) {', '.join(unknown)}; known: {', '.join(known) or 'none'}")
    return routed


def start_local_stack(
    *,
    host: str = "127.0.0.1",
    kong_version: str = "3.15",
    db_less: bool = False,
    defects: Iterable[str] = (),
    ports: StackPorts = StackPorts(),
    clock: Clock | None = None,
    trusted_ips: Iterable[str] = (),
    hide_control: bool = False,
) -> LocalStack:
    """Start identity emulator, reference gateway (admin, proxy HTTP and HTTPS) and echo upstream.

    ``trusted_ips`` is Kong's ``trusted_ips`` (default none, as Kong's): the proxies whose X-Forwarded-*
    headers the gateway believes. ``hide_control`` makes every ``/_emulator`` path answer 404, as on real
    Kong, Konnect and httpbin (:mod:`kongformance.hidden_control`).
    """
    from kongformance.gateway.app import ReferenceGateway
    from kongformance.identity.app import IdentityEmulator

    routed = route_defects(defects)
    # uvicorn trusts X-Forwarded-* from loopback by default and would rewrite scope["scheme"] and the client
    # address; Kong trusts no proxy unless trusted_ips says so, and the proxy tells HTTP from HTTPS by scheme.
    os.environ["FORWARDED_ALLOW_IPS"] = ""
    clock = clock or Clock()
    identity = IdentityEmulator(clock=clock, defects=routed["identity"])
    trusted = {"trusted_ips": list(trusted_ips)} if trusted_ips else {}
    gateway = ReferenceGateway(
        clock=clock, kong_version=kong_version, db_less=db_less, defects=routed["gateway"], **trusted
    )
    upstream = EchoUpstream(clock)
    certfile, keyfile = gateway.tls_files()
    plans: dict[str, Callable[[], RunningServer]] = {
        "identity": lambda: start_in_thread(
            maybe_hidden(identity.app, "identity", hide_control), host, ports.identity
        ),
        "admin": lambda: start_in_thread(
            maybe_hidden(gateway.admin_app, "admin", hide_control), host, ports.admin
        ),
        "proxy": lambda: start_in_thread(
            maybe_hidden(gateway.proxy_app, "proxy", hide_control), host, ports.proxy, date_header=False
        ),
        "proxy_ssl": lambda: start_in_thread(
            maybe_hidden(gateway.proxy_app, "proxy", hide_control),
            host,
            ports.proxy_ssl,
            certfile=certfile,
            keyfile=keyfile,
            date_header=False,
        ),
        "upstream": lambda: start_in_thread(
            maybe_hidden(upstream.app, "upstream", hide_control), host, ports.upstream
        ),
    }
    stack = LocalStack(clock=clock, identity=identity, gateway=gateway, upstream=upstream)
    with ThreadPoolExecutor(max_workers=len(plans)) as pool:
        futures = {name: pool.submit(plan) for name, plan in plans.items()}
        errors = []
        for name, future in futures.items():
            try:
                stack.servers[name] = future.result()
            except Exception as exc:  # noqa: BLE001 - report every listener that failed, then clean up
                errors.append(f"{name}: {exc}")
    if errors:
        stack.stop()
        raise RuntimeError("local stack failed to start: " + "; ".join(errors))
    identity.set_public_base_url(stack.identity_url)
    return stack


# --- kongformance serve stack ---------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    parser.add_argument(
        "--kong-version", type=kong_version, default="3.15", help="Kong version the gateway behaves as"
    )
    parser.add_argument("--db-less", action="store_true", help="run the gateway in DB-less mode")
    parser.add_argument("--defect", action="append", default=[], metavar="NAME", help="switch a defect on")
    parser.add_argument(
        "--trusted-ip", action="append", default=[], metavar="CIDR", help="Kong's trusted_ips (default none)"
    )
    parser.add_argument(
        "--random-ports",
        action="store_true",
        help="pick free ports instead of 8300 (identity), 8001/8000/8443 (gateway), 8088 (upstream)",
    )
    parser.add_argument(
        "--hide-control",
        action="store_true",
        help="every /_emulator path answers 404, as on real Kong, Konnect and httpbin",
    )


def main(args: argparse.Namespace) -> int:
    try:
        stack = start_local_stack(
            host=args.host,
            kong_version=args.kong_version,
            db_less=args.db_less,
            defects=args.defect,
            ports=StackPorts() if args.random_ports else FIXED_PORTS,
            trusted_ips=args.trusted_ip,
            hide_control=args.hide_control,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"kongformance serve stack: {exc}", file=sys.stderr, flush=True)
        return 2
    for name, url in stack.urls().items():
        print(f"{name:10} {url}", flush=True)
    print("serving; Ctrl-C stops", flush=True)
    try:
        threading.Event().wait()
    finally:
        stack.stop()
    return 0
