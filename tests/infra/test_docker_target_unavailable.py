"""The docker target reports a missing engine as TargetUnavailable, which stops the run (h8 Deliver 3, issue 9)."""

from __future__ import annotations

import pytest

from kongformance.targets.base import TargetOptions, TargetUnavailable
from kongformance.targets.docker import DockerTarget, engine_reachable, kong_image_for


def test_an_unreachable_engine_makes_the_target_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    ok, why = engine_reachable()
    assert not ok and "no-such.sock" in why
    with pytest.raises(TargetUnavailable, match="no Docker engine"):
        DockerTarget(TargetOptions()).start()


def test_kong_image_choice_none_means_the_reference_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    """h8 Deliver 3: KONGFORMANCE_KONG_IMAGE=none forces our gateway image without asking any registry."""
    monkeypatch.setenv("KONGFORMANCE_KONG_IMAGE", "none")
    assert kong_image_for("3.15") is None
    assert kong_image_for("3.15", "reference") is None
