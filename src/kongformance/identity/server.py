"""``kongformance serve identity``: run the Kong Identity emulator in the foreground."""

from __future__ import annotations

import argparse
import sys

from kongformance.cli_args import port
from kongformance.identity.app import IdentityEmulator
from kongformance.identity.defects import ISSUER_DEFECTS, enabled_from_environment
from kongformance.serving import bind_socket, serve_sockets_forever


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port, default=8300, help="port to bind (default 8300; 0 picks one)")
    parser.add_argument(
        "--public-url",
        default=None,
        help="base URL clients use to reach this emulator (default http://HOST:PORT); issuer URLs derive from it",
    )
    parser.add_argument(
        "--defect",
        action="append",
        default=[],
        metavar="NAME",
        choices=sorted(ISSUER_DEFECTS),
        help="switch on an issuer defect (repeatable; also KONGFORMANCE_DEFECTS=a,b)",
    )
    parser.add_argument(
        "--signing-threads",
        type=_non_negative_int,
        default=None,
        metavar="N",
        help="threads that sign access tokens (default: one per CPU; 0 signs on the event loop: less CPU per "
        "token, one core)",
    )
    parser.add_argument(
        "--accept-token",
        action="append",
        default=[],
        metavar="TOKEN",
        help="management API bearer token to accept (repeatable; default: any non-empty token)",
    )


def main(args: argparse.Namespace) -> int:
    accepted = set(args.accept_token)
    defects = sorted(set(args.defect) | set(enabled_from_environment()))
    emulator = IdentityEmulator(
        defects=defects,
        accept_token=(lambda token: token in accepted) if accepted else None,
        signing_threads=args.signing_threads,
    )
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as err:
        print(f"kongformance serve identity: {err}", file=sys.stderr)
        return 2
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    emulator.set_public_base_url(args.public_url or f"http://{shown_host}:{port}")
    print(emulator.public_base_url, flush=True)
    serve_sockets_forever([(emulator.app, sock, None, None)])
    return 0
