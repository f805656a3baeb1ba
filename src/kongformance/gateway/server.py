"""``kongformance serve gateway``: the reference gateway's Admin API and proxy (HTTP and HTTPS) in the
foreground, like Kong's default listeners (8001, 8000, 8443)."""

from __future__ import annotations

import argparse

from kongformance.cli_args import kong_version, port
from kongformance.gateway.app import ReferenceGateway
from kongformance.serving import bind_all, serve_sockets_forever, shown_url


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address of the proxy listeners (default 127.0.0.1)"
    )
    parser.add_argument(
        "--admin-host", default="127.0.0.1", help="address of the Admin API (default 127.0.0.1)"
    )
    parser.add_argument("--admin-port", type=port, default=8001)
    parser.add_argument("--proxy-port", type=port, default=8000)
    parser.add_argument("--proxy-ssl-port", type=port, default=8443)
    parser.add_argument(
        "--db-less", action="store_true", help="DB-less mode: POST /config, CRUD writes answer 405"
    )
    parser.add_argument(
        "--kong-version",
        type=kong_version,
        default="3.15",
        help="Kong version whose behaviour to follow (3.9 ... 3.15)",
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
    try:
        # bind every listener before printing anything: a busy port is one error line naming it
        admin, proxy, proxy_ssl = bind_all(
            [
                (args.admin_host, args.admin_port),
                (args.host, args.proxy_port),
                (args.host, args.proxy_ssl_port),
            ]
        )
        cert, key = gateway.tls_files()
        print(f"admin  {shown_url('http', admin)}", flush=True)
        print(f"proxy  {shown_url('http', proxy)}", flush=True)
        print(f"proxy  {shown_url('https', proxy_ssl)}", flush=True)
        serve_sockets_forever(
            [
                (gateway.admin_app, admin, None, None),
                (gateway.proxy_app, proxy, None, None),
                (gateway.proxy_app, proxy_ssl, cert, key),
            ],
            date_header=False,  # Kong passes the upstream's Date through
        )
    finally:
        gateway.close()
    return 0
