"""``kongformance serve upstream``: the echo upstream in the foreground.

Ports and host come from the arguments, or from ``KONGFORMANCE_UPSTREAM_HOST`` /
``KONGFORMANCE_UPSTREAM_PORT`` (what the Docker image sets).
"""

from __future__ import annotations

import argparse
import os

from kongformance.cli_args import port
from kongformance.hidden_control import maybe_hidden
from kongformance.serving import bind_socket, serve_sockets_forever, shown_url
from kongformance.upstream.echo import DEFAULT_LOG_SIZE, EchoUpstream


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default=os.environ.get("KONGFORMANCE_UPSTREAM_HOST", "127.0.0.1"),
        help="address to listen on (default 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=port,
        default=int(os.environ.get("KONGFORMANCE_UPSTREAM_PORT", "8088")),
        help="port to listen on (default 8088)",
    )
    parser.add_argument(
        "--log-size",
        type=int,
        default=DEFAULT_LOG_SIZE,
        help="how many requests the /_emulator/requests log keeps (oldest dropped first)",
    )
    parser.add_argument(
        "--hide-control",
        action="store_true",
        help="every /_emulator path answers 404, as on httpbin (no request log)",
    )


def main(args: argparse.Namespace) -> int:
    echo = EchoUpstream(log_size=args.log_size)
    sock = bind_socket(args.host, args.port)  # before printing: a busy port is one error line naming it
    print(f"echo upstream: {shown_url('http', sock)}", flush=True)
    serve_sockets_forever([(maybe_hidden(echo.app, "upstream", args.hide_control), sock, None, None)])
    return 0
