"""A small load generator (used by the benchmarks when wrk is missing): N connections for a duration.

Run as its own process so it never shares a CPU-time measurement or a GIL with the server under test:
``python bench/loadgen.py URL --connections 16 --seconds 10 [--method POST --body ... --header K:V]``;
prints one JSON line {requests, non2xx, socket_errors, p50_us, p99_us, duration_us}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import TypedDict

import httpx


class _Tally(TypedDict):
    """What the workers count while the load runs."""

    requests: int
    non2xx: int
    socket_errors: int
    latencies: list[float]
    headers: dict[str, str]


async def _worker(client: httpx.AsyncClient, args: argparse.Namespace, deadline: float, out: _Tally) -> None:
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            r = await client.request(
                args.method, args.url, content=args.body.encode(), headers=out["headers"]
            )
            out["requests"] += 1
            out["non2xx"] += not 200 <= r.status_code < 400
            out["latencies"].append(time.perf_counter() - started)
        except httpx.TransportError:
            out["socket_errors"] += 1


async def run(args: argparse.Namespace) -> dict[str, int]:
    headers: dict[str, str] = dict(h.split(":", 1) for h in args.header)
    out: _Tally = {"requests": 0, "non2xx": 0, "socket_errors": 0, "latencies": [], "headers": headers}
    limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=args.connections)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
        started = time.perf_counter()
        deadline = started + args.seconds
        await asyncio.gather(*(_worker(client, args, deadline, out) for _ in range(args.connections)))
        duration = time.perf_counter() - started
    lat = sorted(out["latencies"]) or [0.0]
    return {
        "requests": out["requests"],
        "non2xx": out["non2xx"],
        "socket_errors": out["socket_errors"],
        "p50_us": int(lat[len(lat) // 2] * 1e6),
        "p99_us": int(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e6),
        "duration_us": int(duration * 1e6),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("url")
    p.add_argument("--method", default="GET")
    p.add_argument("--body", default="")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--seconds", type=float, default=10.0)
    print(json.dumps(asyncio.run(run(p.parse_args()))))


if __name__ == "__main__":
    main()
