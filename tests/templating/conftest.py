"""Fixtures for the claim-templating tests: the Go oracle (skipped, with the reason, without Go)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kongformance.identity.templating.oracle import GoTemplateOracle, OracleUnavailable


@pytest.fixture(scope="session")
def go_oracle() -> Iterator[GoTemplateOracle]:
    """Go's text/template + Sprig, for differential tests; skips when Go or Sprig is missing."""
    try:
        oracle = GoTemplateOracle()
    except OracleUnavailable as why:
        pytest.skip(f"Go template oracle unavailable: {why}")
    with oracle:
        yield oracle
