"""``kongformance serve upstream``: the echo upstream in the foreground.

Ports and host come from the arguments, or from ``KONGFORMANCE_UPSTREAM_HOST`` /
``KONGFORMANCE_UPSTREAM_PORT`` (what the Docker image sets).
"""

from __future__ import annotations

import argparse
import os

from kongformance.serving import serve_forever
from kongformance.upstream.echo import DEFAULT_LOG_SIZE, EchoUpstream


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default=os.environ.get("KONGFORMANCE_UPSTREAM_HOST", "127.0.0.1"),
        help="address to listen on (default 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("KONGFORMANCE_UPSTREAM_PORT", "8088")),
        help="port to listen on (default 8088)",
    )
    parser.add_argument(
        "--log-size",
        type=int,
        default=DEFAULT_LOG_SIZE,
        help="how many requests the /_emulator/requests log keeps (oldest dropped first)",
    )


def main(args: argparse.Namespace) -> int:
    echo = EchoUpstream(log_size=args.log_size)
    print(f"echo upstream: http://{args.host}:{args.port}", flush=True)
    serve_forever([(echo.app, args.host, args.port, None, None)])
    return 0
