"""``kongformance serve gateway``: the reference gateway's Admin API and proxy (HTTP and HTTPS) in the
foreground, like Kong's default listeners (8001, 8000, 8443)."""

from __future__ import annotations

import argparse

from kongformance.gateway.app import ReferenceGateway
from kongformance.serving import serve_forever


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address of the proxy listeners (default 127.0.0.1)"
    )
    parser.add_argument(
        "--admin-host", default="127.0.0.1", help="address of the Admin API (default 127.0.0.1)"
    )
    parser.add_argument("--admin-port", type=int, default=8001)
    parser.add_argument("--proxy-port", type=int, default=8000)
    parser.add_argument("--proxy-ssl-port", type=int, default=8443)
    parser.add_argument(
        "--db-less", action="store_true", help="DB-less mode: POST /config, CRUD writes answer 405"
    )
    parser.add_argument(
        "--kong-version", default="3.15", help="Kong version whose behaviour to follow (3.9 ... 3.15)"
    )
    parser.add_argument(
        "--defect", action="append", default=[], metavar="NAME", help="switch on a named defect"
    )
    parser.add_argument(
        "--trusted-ip", action="append", default=[], metavar="CIDR", help="Kong's trusted_ips"
    )


def main(args: argparse.Namespace) -> int:
    gateway = ReferenceGateway(
        kong_version=args.kong_version, db_less=args.db_less, defects=args.defect, trusted_ips=args.trusted_ip
    )
    cert, key = gateway.tls_files()
    print(f"admin  http://{args.admin_host}:{args.admin_port}", flush=True)
    print(f"proxy  http://{args.host}:{args.proxy_port}", flush=True)
    print(f"proxy  https://{args.host}:{args.proxy_ssl_port}", flush=True)
    try:
        serve_forever(
            [
                (gateway.admin_app, args.admin_host, args.admin_port, None, None),
                (gateway.proxy_app, args.host, args.proxy_port, None, None),
                (gateway.proxy_app, args.host, args.proxy_ssl_port, cert, key),
            ],
            date_header=False,  # Kong passes the upstream's Date through
        )
    finally:
        gateway.close()
    return 0
