"""The Go oracle's availability rules: skip with the exact reason and install command when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from kongformance.identity.templating import oracle


def test_missing_go_is_reported_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """h3 brief: without `go` the differential tests skip saying why and how to install it."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(oracle.OracleUnavailable) as raised:
        oracle.build_oracle(tmp_path / "go-template-oracle")
    assert "`go` is not on PATH" in str(raised.value)
    assert "apt-get install golang-go golang-github-masterminds-sprig-dev" in str(raised.value)


def test_oracle_reports_go_failure_and_success_per_line(go_oracle: oracle.GoTemplateOracle) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: the oracle distinguishes ok output from Go's missingkey=error failure."""
    assert go_oracle.render("${ .A }", {"A": "x"}, now=0) == oracle.OracleResult(
        ok=True, output="x", error=""
    )
    missing = go_oracle.render("${ .B }", {"A": "x"}, now=0)
    assert missing.ok is False and 'map has no entry for key "B"' in missing.error
