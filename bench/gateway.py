"""Gateway benchmark: the reference gateway's added latency for a bearer-JWT request, and stack ready time.

Starts the local stack (issuer emulator, reference gateway, echo upstream in this process), configures one
route with openid-connect (`auth_methods: [bearer]`) in front of the echo upstream, then loads with one
connection (a) the echo upstream directly and (b) the route through the gateway, with the same token header.
Prints p50/p99 of both and the added p50 (numbers only, never pass/fail). Issue 3's targets: added p50
<= 2 ms; stack ready <= 1 s in-process.

    .venv/bin/python bench/gateway.py [--quick] [--seconds 10] [--connections 1]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

import httpx

from kongformance.stack import start_local_stack
from load import drive, generator_name

MGMT = {"Authorization": "Bearer kongformance-bench"}


def ready_times(rounds: int) -> list[tuple[float, float]]:
    """(import seconds, seconds from start_local_stack() to the admin API's first answer), fresh processes."""
    code = """
import time
t0 = time.perf_counter()
import http.client
import kongformance.gateway.app, kongformance.identity.app
from kongformance.stack import start_local_stack
t1 = time.perf_counter()
s = start_local_stack()
conn = http.client.HTTPConnection(s.servers["admin"].host, s.servers["admin"].port)
conn.request("GET", "/")
assert conn.getresponse().status == 200
print(t1 - t0, time.perf_counter() - t1)
s.stop()
"""
    out = []
    for _ in range(rounds):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        imported, ready = done.stdout.split()[:2]
        out.append((float(imported), float(ready)))
    return out


def issue_token(identity_url: str) -> tuple[str, str]:
    """An auth server and client on the emulator; returns (issuer URL, access token)."""
    with httpx.Client(base_url=identity_url, headers=MGMT, timeout=10) as c:
        server = c.post("/v1/auth-servers", json={"name": "bench", "audience": "https://api.bench.test"})
        server.raise_for_status()
        sid, issuer = server.json()["id"], server.json()["issuer"]
        client = c.post(
            f"/v1/auth-servers/{sid}/clients",
            json={
                "name": "bench",
                "grant_types": ["client_credentials"],
                "response_types": [],
                "allow_all_scopes": True,
            },
        )
        client.raise_for_status()
        token_endpoint = c.get(server.json()["metadata_uri"]).json()["token_endpoint"]
        form = {
            "grant_type": "client_credentials",
            "client_id": client.json()["id"],
            "client_secret": client.json()["client_secret"],
        }
        token = c.post(token_endpoint, data=form)
        token.raise_for_status()
        return issuer, token.json()["access_token"]


def configure_route(admin_url: str, upstream_url: str, issuer: str) -> None:
    with httpx.Client(base_url=admin_url, timeout=10) as c:
        for path, body in (
            ("/services", {"name": "bench", "url": upstream_url + "/anything"}),
            (
                "/services/bench/routes",
                {"name": "bench", "paths": ["/bench"], "protocols": ["http", "https"]},
            ),
            (
                "/routes/bench/plugins",
                {"name": "openid-connect", "config": {"issuer": issuer, "auth_methods": ["bearer"]}},
            ),
        ):
            r = c.post(path, json=body)
            if r.status_code >= 300:
                raise RuntimeError(f"POST {path}: {r.status_code} {r.text}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--ready-rounds", type=int, default=5)
    args = p.parse_args()
    if args.quick:
        args.seconds, args.ready_rounds = 2.0, 1

    times = ready_times(args.ready_rounds)
    ready = [r for _, r in times]
    print(
        f"stack ready (issuer + gateway + upstream, in-process): median {statistics.median(ready) * 1000:.0f} ms, "
        f"max {max(ready) * 1000:.0f} ms over {len(ready)} start(s) "
        f"(imports before it: median {statistics.median(i for i, _ in times) * 1000:.0f} ms)"
    )
    with start_local_stack() as stack:
        issuer, token = issue_token(stack.identity_url)
        configure_route(stack.admin_url, stack.upstream_url, issuer)
        bearer = f"Bearer {token}"
        probe = httpx.get(stack.proxy_url + "/bench", headers={"Authorization": bearer})
        if probe.status_code != 200:
            raise RuntimeError(f"the bench route answered {probe.status_code}: {probe.text[:300]}")
        print(
            f"load generator: {generator_name()}; {args.connections} connection(s); {args.seconds:.0f} s each"
        )
        direct = drive(
            stack.upstream_url + "/anything",
            authorization=bearer,
            connections=args.connections,
            seconds=args.seconds,
        )
        print(f"echo upstream directly:         {direct.line()}")
        proxied = drive(
            stack.proxy_url + "/bench",
            authorization=bearer,
            connections=args.connections,
            seconds=args.seconds,
        )
        print(f"through the gateway (oidc JWT): {proxied.line()}")
        print(
            f"added latency at p50: {proxied.p50_ms - direct.p50_ms:.2f} ms (p99: {proxied.p99_ms - direct.p99_ms:.2f} ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
