"""Citations of Kong's spec files: every replayed test names the spec file and the lines of the assertions
it ports (``@ports(SPEC, 303, 304)``); ``tools/count_kong_spec_asserts.py`` sums them.

An assertion the reference gateway does not (yet) meet is still ported, marked with :func:`disagrees` (a
strict xfail saying why); one that cannot run over HTTP (Kong's DAO, gRPC, Lua modules) is recorded with
:func:`cannot_run`. The count tool reports both beside the assertions that agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

TAG = "3.9.0"  # the newest release tag of Kong's public repository; 3.9 behaviour
# Kong's master branch (2026), whose specs describe the 3.11+ behaviour the 3.14/3.15 gateway models
MASTER = "22246ef28c16842098369b494eef879222e30c7b"

F = TypeVar("F", bound=Callable[..., Any])

DISAGREE: dict[str, dict[int, str]] = defaultdict(dict)  # spec URL -> line -> why the gateway disagrees
CANNOT_RUN: dict[str, dict[int, str]] = defaultdict(dict)  # spec URL -> line -> why it cannot run


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


def disagrees(spec: str, why: str, *lines: int) -> pytest.MarkDecorator:
    """The reference gateway disagrees with Kong's assertions at ``lines``: a strict xfail giving ``why``
    (Kong's spec wins; the disagreement is listed in docs/fidelity/kong-spec-replay.md)."""
    for line in lines:
        DISAGREE[spec][line] = why
    return pytest.mark.xfail(reason=f"disagrees with Kong's spec: {why}", strict=True)


def cannot_run(spec: str, why: str, *lines: int) -> None:
    """Record Kong's assertions at ``lines`` as not replayable over HTTP, and why."""
    for line in lines:
        CANNOT_RUN[spec][line] = why
