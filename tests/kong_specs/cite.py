"""Citations of Kong's spec files: every replayed test names the spec file and the lines of the assertions
it ports (``@ports(SPEC, 303, 304)``); ``tools/count_kong_spec_asserts.py`` sums them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

TAG = "3.9.0"  # the newest release tag of Kong's public repository; 3.9 behaviour
# Kong's master branch (2026), whose specs describe the 3.11+ behaviour the 3.14/3.15 gateway models
MASTER = "22246ef28c16842098369b494eef879222e30c7b"

F = TypeVar("F", bound=Callable[..., Any])


def spec_url(path: str, ref: str = TAG) -> str:
    """The URL of one of Kong's spec files at ``ref`` (``path`` below spec/03-plugins/)."""
    return f"https://github.com/Kong/kong/blob/{ref}/spec/03-plugins/{path}"


def ports(spec: str, *lines: int) -> Callable[[F], F]:
    """Mark a test as replaying the assertions of ``spec`` (a spec_url) at ``lines``."""

    def mark(fn: F) -> F:
        fn.kong_spec = spec  # type: ignore[attr-defined]
        fn.kong_spec_lines = tuple(lines)  # type: ignore[attr-defined]
        fn.__doc__ = (fn.__doc__ or "") + "\n\n" + " ".join(f"{spec}#L{n}" for n in lines)
        return fn

    return mark
