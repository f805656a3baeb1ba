"""The ``kongformance`` command: serve the emulators, run the conformance suite, render configs.

Each subcommand lives with the component it serves: the module named for it provides
``add_arguments(parser)`` and ``main(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

from kongformance.cli_args import OneLineParser

# subcommand -> (module, help). The module provides add_arguments(parser) and main(args) -> int.
SERVE_COMPONENTS: dict[str, tuple[str, str]] = {
    "identity": ("kongformance.identity.server", "the Kong Identity emulator (management API + issuers)"),
    "gateway": ("kongformance.gateway.server", "the reference gateway (Admin API + proxy)"),
    "upstream": ("kongformance.upstream.server", "the echo upstream (httpbin-style /anything)"),
    "stack": ("kongformance.stack", "issuer, gateway and upstream together on loopback, one clock"),
    "konnect": ("kongformance.konnect.server", "Konnect: Kong Identity, a control plane and its data plane"),
}
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("kongformance.runner", "run the conformance suite against a target and write reports/"),
    "config": ("kongformance.runner_config", "render the profile's decK-format gateway config"),
    "report": ("kongformance.report", "build the HTML compliance report from a run's results in reports/"),
    "cleanup": (
        "kongformance.cleanup_command",
        "remove what crashed runs left on a target (ledger, labels, tags)",
    ),
}


def _load(module: str) -> Any:
    return importlib.import_module(module)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="kongformance", description="Kong OAuth2/OIDC conformance suite")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run an emulator in the foreground")
    serve_sub = serve.add_subparsers(dest="component", required=True, metavar="COMPONENT")
    for name, (module, help_text) in SERVE_COMPONENTS.items():
        p = serve_sub.add_parser(name, help=help_text)
        _attach(p, module)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        _attach(p, module)
    return parser


def _attach(parser: argparse.ArgumentParser, module: str) -> None:
    try:
        mod = _load(module)
        add_arguments, entry = mod.add_arguments, mod.main
    except (ImportError, AttributeError) as exc:  # one broken component must not break every command
        parser.set_defaults(_main=_unavailable(module, exc))
        return
    add_arguments(parser)
    parser.set_defaults(_main=entry)


def _unavailable(module: str, exc: Exception) -> Callable[[argparse.Namespace], int]:
    def fail(_args: argparse.Namespace) -> int:
        print(f"kongformance: {module} is not available: {exc}", file=sys.stderr)
        return 2

    return fail


def _terminate(signum: int, _frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so servers stop and their temporary TLS files are removed."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    if args.command == "serve":  # a served emulator shows its warnings, as Kong's error log would
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.setLevel(logging.WARNING)
        logging.getLogger("kongformance").addHandler(handler)
    try:
        return int(args._main(args) or 0)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # a port in use, an unreadable file: one clear line, no traceback
        print(f"kongformance: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
