"""The ``kongformance`` command: serve the emulators, run the conformance suite, render configs."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kongformance", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run an emulator (identity, gateway, upstream, stack)")
    serve.add_subparsers(dest="component", required=True)
    args = parser.parse_args(argv)
    parser.error(f"{args.command}: not available yet")
    return 2


if __name__ == "__main__":
    sys.exit(main())
