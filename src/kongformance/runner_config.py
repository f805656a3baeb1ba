"""``kongformance config``: print the profile's decK-format gateway config (one route per flow variant).

Without ``--issuer`` the issuer URL and client credentials are decK environment placeholders
(``${{ env "DECK_ISSUER_URL" }}`` ...) so the file can be applied to any Kong with ``deck gateway sync``.
"""

from __future__ import annotations

import argparse
import json
import sys

import yaml

from kongformance import profile, profile_gateway
from kongformance.cli_args import http_url


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--issuer", type=http_url, default=None, help="issuer URL (default: a decK env placeholder)"
    )
    parser.add_argument("--gateway-client-id", default=None, help="client the gateway uses at the issuer")
    parser.add_argument("--gateway-client-secret", default=None)
    parser.add_argument(
        "--upstream", type=http_url, default="http://127.0.0.1:8088", help="echo upstream URL"
    )
    parser.add_argument("--db-less", action="store_true", help="leave out what needs a database (oauth2)")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")


def render(args: argparse.Namespace) -> str:
    handles = profile.placeholder_handles()
    if args.issuer:
        handles.auth_server.issuer = args.issuer.rstrip("/")
    gw = handles.clients["gateway"]
    if args.gateway_client_id:
        gw.id = args.gateway_client_id
    if args.gateway_client_secret:
        gw.secret = args.gateway_client_secret
    doc = profile_gateway.gateway_config(handles, args.upstream, with_db=not args.db_less)
    if args.format == "json":
        return json.dumps(doc, indent=2) + "\n"
    return str(yaml.safe_dump(doc, sort_keys=False, width=200))


def main(args: argparse.Namespace) -> int:
    sys.stdout.write(render(args))
    return 0
