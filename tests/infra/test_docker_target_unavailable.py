"""The docker target without an engine (TargetUnavailable, which stops the run) and its settings: no engine
is needed here."""

from __future__ import annotations

from pathlib import Path

import pytest

from kongformance.targets.base import TargetOptions, TargetUnavailable
from kongformance.targets.docker import DockerTarget, DockerTargetError, engine_reachable
from kongformance.targets.docker_settings import (
    DockerSettings,
    DockerSettingsError,
    version_from_tag,
    with_tag,
)


def test_an_unreachable_engine_makes_the_target_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    ok, why = engine_reachable()
    assert not ok and "no-such.sock" in why
    with pytest.raises(TargetUnavailable, match="no Docker engine"):
        DockerTarget(TargetOptions()).start()


def test_the_stand_in_of_the_run_s_version_is_the_default_image() -> None:
    settings = DockerSettings.resolve("3.9", {}, env={})
    assert settings.kong_image == "kongformance/kong:3.9"
    assert settings.postgres_image == "kongformance/postgres:15"
    assert (settings.pull_policy, settings.network) == ("never", "mapped")


def test_kf_kong_image_is_read_from_the_environment_as_the_readme_says() -> None:
    env = {"KF_KONG_IMAGE": "kong/kong-gateway:3.15"}
    assert DockerSettings.resolve("3.15", {}, env=env).kong_image == "kong/kong-gateway:3.15"
    legacy = {"KONGFORMANCE_KONG_IMAGE": "kong/kong-gateway:3.14"}
    assert DockerSettings.resolve("3.14", {}, env=legacy).kong_image == "kong/kong-gateway:3.14"
    # --kf-set (and --kong-image, which sets it) wins over the environment
    chosen = DockerSettings.resolve("3.15", {"KF_KONG_IMAGE": "registry.example/kong:3.15"}, env=env)
    assert chosen.kong_image == "registry.example/kong:3.15"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KF_PULL_POLICY", "sometimes"),
        ("KF_DOCKER_NETWORK", "bridge"),
        ("KF_READY_TIMEOUT", "-1"),
        ("KF_READY_TIMEOUT", "soon"),
        ("KF_KONG_IMAGE", "kong gateway"),
    ],
)
def test_a_bad_setting_is_refused_with_one_line_naming_it(name: str, value: str) -> None:
    with pytest.raises(DockerSettingsError) as err:
        DockerSettings.resolve("3.15", {name: value}, env={})
    assert name in str(err.value) and "\n" not in str(err.value)


def test_a_bad_setting_fails_the_target_not_skips_it(monkeypatch: pytest.MonkeyPatch) -> None:
    options = TargetOptions(settings={"KF_PULL_POLICY": "sometimes"})
    with pytest.raises(DockerTargetError, match="KF_PULL_POLICY"):
        DockerTarget(options).start()


def test_image_tags_and_versions() -> None:
    assert with_tag("kong/kong-gateway:3.9.1.0") == ("kong/kong-gateway", "3.9.1.0")
    assert with_tag("localhost:5000/kong") == ("localhost:5000/kong", "latest")
    assert version_from_tag("kong/kong-gateway:3.9.1.0") == "3.9"
    assert version_from_tag("kongformance/kong:3.15") == "3.15"
    assert version_from_tag("kong/kong-gateway:latest") is None
