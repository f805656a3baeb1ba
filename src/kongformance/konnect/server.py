"""Start the Konnect emulator: in this process (:func:`start_konnect`) or ``kongformance serve konnect``.

Listeners: ``api`` (Konnect API + issuers), ``proxy`` and ``proxy_ssl`` (the data plane), plus ``admin``
(the gateway's own Admin API) only when the control surface is shown for debugging. The data plane's
``/_emulator`` paths answer 404 unless ``show_control``.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kongformance.hidden_control import maybe_hidden
from kongformance.konnect.app import ISSUER_RATE, KonnectEmulator
from kongformance.serving import RunningServer, start_in_thread


@dataclass
class RunningKonnect:
    """A running Konnect emulator: the emulator object, its listeners; ``stop()`` ends it."""

    emulator: KonnectEmulator
    servers: dict[str, RunningServer] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return self.servers["api"].url

    @property
    def proxy_url(self) -> str:
        return self.servers["proxy"].url

    @property
    def proxy_ssl_url(self) -> str:
        return self.servers["proxy_ssl"].url

    @property
    def control_plane_id(self) -> str:
        return self.emulator.control_plane.id

    def urls(self) -> dict[str, str]:
        return {name: server.url for name, server in self.servers.items()}

    def stop(self) -> None:
        with ThreadPoolExecutor(max_workers=max(1, len(self.servers))) as pool:
            list(pool.map(lambda s: s.stop(), self.servers.values()))
        self.servers.clear()
        self.emulator.close()

    def __enter__(self) -> RunningKonnect:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_konnect(
    *,
    host: str = "127.0.0.1",
    api_port: int = 0,
    proxy_port: int = 0,
    proxy_ssl_port: int = 0,
    show_control: bool = False,
    **options: Any,
) -> RunningKonnect:
    """Start the emulator's listeners on loopback (port 0 picks a free one); ``options`` go to
    :class:`KonnectEmulator` (``kong_version``, ``accept_tokens``, ``api_rate``, ``issuer_rate``...)."""
    os.environ["FORWARDED_ALLOW_IPS"] = ""  # Kong trusts no proxy headers unless trusted_ips says so
    emulator = KonnectEmulator(show_control=show_control, **options)
    gateway = emulator.gateway
    certfile, keyfile = gateway.tls_files()
    proxy = maybe_hidden(gateway.proxy_app, "proxy", not show_control)
    plans = {
        "api": lambda: start_in_thread(emulator, host, api_port),
        "proxy": lambda: start_in_thread(proxy, host, proxy_port, date_header=False),
        "proxy_ssl": lambda: start_in_thread(
            proxy, host, proxy_ssl_port, certfile=certfile, keyfile=keyfile, date_header=False
        ),
    }
    if show_control:
        plans["admin"] = lambda: start_in_thread(gateway.admin_app, host, 0)
    running = RunningKonnect(emulator)
    errors = []
    with ThreadPoolExecutor(max_workers=len(plans)) as pool:
        futures = {name: pool.submit(plan) for name, plan in plans.items()}
        for name, future in futures.items():
            try:
                running.servers[name] = future.result()
            except (OSError, RuntimeError) as exc:
                errors.append(f"{name}: {exc}")
    if errors:
        running.stop()
        raise RuntimeError("Konnect emulator failed to start: " + "; ".join(errors))
    emulator.set_public_base_url(running.api_url)
    emulator.set_proxy_urls([running.proxy_url, running.proxy_ssl_url])
    return running


# --- kongformance serve konnect ------------------------------------------------------------------


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected requests per second, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (no limit) or more, got {text}")
    return value


def _uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a UUID, got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    parser.add_argument("--api-port", type=int, default=8400, help="Konnect API + issuers (default 8400)")
    parser.add_argument("--proxy-port", type=int, default=8000, help="data plane HTTP proxy (default 8000)")
    parser.add_argument("--proxy-ssl-port", type=int, default=8443, help="data plane HTTPS (default 8443)")
    parser.add_argument("--random-ports", action="store_true", help="pick free ports for every listener")
    parser.add_argument("--kong-version", default="3.15", help="Kong version the data plane runs")
    parser.add_argument(
        "--control-plane-id", type=_uuid, default=None, help="UUID of the control plane (default random)"
    )
    parser.add_argument(
        "--accept-token",
        action="append",
        default=[],
        metavar="TOKEN",
        help="the only Konnect tokens accepted (repeatable; default any kpat_... or spat_... token)",
    )
    parser.add_argument(
        "--api-rate",
        type=_rate,
        default=0.0,
        metavar="N",
        help="requests/s per token on /v1 and /v2 before 429 + Retry-After (default 0: no limit)",
    )
    parser.add_argument(
        "--issuer-rate",
        type=_rate,
        default=ISSUER_RATE,
        metavar="N",
        help=f"requests/s per auth server on its issuer endpoints (default {ISSUER_RATE:g}, Kong Identity's limit)",
    )
    parser.add_argument(
        "--show-control",
        action="store_true",
        help="debugging: serve the emulators' /_emulator paths and the gateway's Admin API (Konnect has none)",
    )


def main(args: argparse.Namespace) -> int:
    for token in args.accept_token:
        if not token.startswith(("kpat_", "spat_")):
            print(
                f"kongformance serve konnect: --accept-token must start with kpat_ or spat_: {token[:5]}..."
            )
            return 2
    ports = (0, 0, 0) if args.random_ports else (args.api_port, args.proxy_port, args.proxy_ssl_port)
    try:
        running = start_konnect(
            host=args.host,
            api_port=ports[0],
            proxy_port=ports[1],
            proxy_ssl_port=ports[2],
            show_control=args.show_control,
            kong_version=args.kong_version,
            accept_tokens=tuple(args.accept_token),
            api_rate=args.api_rate,
            issuer_rate=args.issuer_rate,
            control_plane_id=args.control_plane_id,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"kongformance serve konnect: {exc}", flush=True)
        return 2
    for name, url in running.urls().items():
        print(f"{name:16} {url}", flush=True)
    print(f"{'control_plane_id':16} {running.control_plane_id}", flush=True)
    print("serving; Ctrl-C stops", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        requests, refusals = running.emulator.requests, running.emulator.issuer_refusals
        running.stop()
        print(f"api requests {requests}", flush=True)
        print(f"issuer 429s {refusals}", flush=True)
    return 0
