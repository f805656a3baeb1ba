"""argparse value types shared by the CLI's commands: each refuses bad input with one line naming the value.

Used as ``type=`` so argparse reports ``kongformance <command>: error: argument --x: <message>`` and exits 2
before any server starts or any test runs.
"""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

# the Kong versions whose behaviour the reference gateway models (README: 3.9, 3.14, 3.15 and those between)
OLDEST_MODELLED = (3, 9)
NEWEST_MODELLED = (3, 15)


def port(text: str) -> int:
    """A TCP port, 0 (pick a free one) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r} (expected 0 to 65535)") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {value} (expected 0 to 65535)")
    return value


def workers(text: str) -> str:
    """pytest-xdist's worker count: ``auto``, ``logical`` or a whole number (0: no workers)."""
    if text in ("auto", "logical") or (text.isascii() and text.isdigit()):
        return text
    raise argparse.ArgumentTypeError(
        f"invalid worker count {text!r} (expected auto, logical or a whole number)"
    )


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    if text.isascii() and text.isdigit() and int(text) >= 1:
        return int(text)
    raise argparse.ArgumentTypeError(f"invalid count {text!r} (expected a whole number of at least 1)")


def kong_version(text: str) -> str:
    """``MAJOR.MINOR`` (or a longer ``3.15.0.4``) of a modelled Kong version, returned as ``MAJOR.MINOR``."""
    parts = text.strip().split(".")
    low, high = ".".join(map(str, OLDEST_MODELLED)), ".".join(map(str, NEWEST_MODELLED))
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) < 2 or any(n < 0 for n in numbers):
        raise argparse.ArgumentTypeError(
            f"invalid Kong version {text!r} (expected {low} to {high}, e.g. {high})"
        )
    version = (numbers[0], numbers[1])
    if not OLDEST_MODELLED <= version <= NEWEST_MODELLED:
        raise argparse.ArgumentTypeError(f"Kong {text} is not modelled (expected {low} to {high})")
    return f"{version[0]}.{version[1]}"


def kong_versions(text: str) -> str:
    """One modelled Kong version, or several separated by commas (a version matrix), each as ``MAJOR.MINOR``."""
    return ",".join(kong_version(part) for part in text.split(","))


def http_url(text: str) -> str:
    """An absolute ``http``/``https`` URL with a host."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"invalid URL {text!r} (expected http(s)://host/...)")
    return text


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (``prog: error: message``, exit 2), without the usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")
