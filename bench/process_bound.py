"""Upper bound of a multi-process emulator, measured beside the shipped design and oidc-provider in one run.

An experiment for issue 2, not a mode of the emulator: one emulator is configured (an auth server, a client,
a first token so its signing key exists), then forked into N copies, each serving the token endpoint on its
own SO_REUSEPORT socket and signing on its own event loop. The copies share nothing after the fork: token
records, the request log and fault counters diverge, so introspection of another copy's token would fail. A
real multi-process emulator must ship that state between processes, which only adds CPU, so these numbers
bound what any such design could reach on this machine.

    .venv/bin/python bench/process_bound.py            # 2 rounds of 10 s per server (about 2 minutes)
    .venv/bin/python bench/process_bound.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import tempfile
from pathlib import Path

import httpx

from issuer import (
    BENCH_AUTH_SERVER,
    BENCH_CLIENT,
    MGMT_TOKEN,
    check_token,
    emulator_client,
    issue_at_least,
    measure_cpu,
    start_emulator,
    start_oidc_provider,
    token_body,
)
from proctree import mib, pss_bytes, rss_bytes
from servers import free_port, start_process


async def _configure(app: object, base: str) -> dict[str, str]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=transport, base_url=base, headers={"Authorization": MGMT_TOKEN}
    ) as c:
        server = (await c.post("/v1/auth-servers", json=BENCH_AUTH_SERVER)).json()
        client = (await c.post(f"/v1/auth-servers/{server['id']}/clients", json=BENCH_CLIENT)).json()
        endpoint = (await c.get(server["metadata_uri"])).json()["token_endpoint"]
        first = await c.post(
            endpoint,
            data={
                "grant_type": "client_credentials",
                "client_id": client["id"],
                "client_secret": client["client_secret"],
            },
        )
        first.raise_for_status()
        return {
            "token_endpoint": endpoint,
            "client_id": client["id"],
            "client_secret": client["client_secret"],
        }


def serve_copies(copies: int, port: int, credentials: Path) -> None:
    """Configure one emulator, write its client's credentials to ``credentials``, fork, serve until killed."""
    from kongformance.identity.app import IdentityEmulator
    from kongformance.serving import serve_sockets_forever

    emulator = IdentityEmulator(signing_threads=0)
    base = f"http://127.0.0.1:{port}"
    emulator.set_public_base_url(base)
    credentials.write_text(json.dumps(asyncio.run(_configure(emulator.app, base))))
    sockets = []
    for _ in range(copies):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(1024)
        sockets.append(sock)
    for sock in sockets[1:]:
        if os.fork() == 0:
            serve_sockets_forever([(emulator.app, sock, None, None)])
            os._exit(0)
    serve_sockets_forever([(emulator.app, sockets[0], None, None)])


def measure_round(args: argparse.Namespace) -> None:
    port = free_port()
    credentials = Path(tempfile.mkstemp(prefix="kf-bench-bound-", suffix=".json")[1])
    cmd = [sys.executable, __file__, "--serve", str(args.copies), str(port), str(credentials)]
    forked = start_process(
        "forked emulator",
        cmd,
        f"http://127.0.0.1:{port}/v1/auth-servers",
        headers={"Authorization": MGMT_TOKEN},
    )
    try:
        info = json.loads(credentials.read_text())
        body = token_body(info["client_id"], info["client_secret"])
        check_token(info["token_endpoint"], body)
        label = f"{args.copies} forked emulators (upper bound)"
        result, _, _, _ = measure_cpu(forked, label, info["token_endpoint"], body, args)
        if args.memory_tokens:
            issued, _ = issue_at_least(
                args.memory_tokens, info["token_endpoint"], body, args, result.per_second
            )
            print(
                f"{label} after {issued} more tokens: resident {mib(rss_bytes(forked.pid))} summed over the "
                f"processes, {mib(pss_bytes(forked.pid))} proportional (shared pages counted once)"
            )
    finally:
        forked.stop()
        credentials.unlink(missing_ok=True)

    shipped, note = start_emulator()
    try:
        endpoint, client_id, secret = emulator_client(shipped.base)
        body = token_body(client_id, secret)
        check_token(endpoint, body)
        measure_cpu(shipped, f"emulator ({note})", endpoint, body, args)
    finally:
        shipped.stop()

    started = start_oidc_provider(install=not args.quick)
    if started:
        op, endpoint, client_id, secret = started
        try:
            body = token_body(client_id, secret)
            check_token(endpoint, body)
            measure_cpu(op, "oidc-provider (one Node process)", endpoint, body, args)
        finally:
            op.stop()


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve_copies(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    p.add_argument("--seconds", type=float, default=10.0, help="load duration per server")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--copies", type=int, default=os.cpu_count() or 2, help="forked emulators (default: CPUs)")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--threads", type=int, default=1, help="load generator threads (wrk -t)")
    p.add_argument("--memory-tokens", type=int, default=200_000, help="tokens issued before measuring memory")
    args = p.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.memory_tokens = 2.0, 1, 2_000
    for n in range(1, args.rounds + 1):
        print(f"round {n} of {args.rounds}")
        measure_round(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
