"""Targets: where the conformance suite runs (``--kf-target``): local, docker, external, konnect."""

from __future__ import annotations

from kongformance.targets.base import Stack, Target, TargetOptions, TargetUnavailable

TARGETS = ("local", "docker", "external", "konnect")


def select_target(name: str, options: TargetOptions) -> Target:
    """The target called ``name``; :class:`TargetUnavailable` when it cannot run here."""
    if name == "local":
        from kongformance.targets.local import LocalTarget

        return LocalTarget(options)
    if name == "external":
        from kongformance.targets.external import ExternalTarget

        return ExternalTarget(options)
    if name == "konnect":
        from kongformance.targets.konnect import KonnectTarget

        return KonnectTarget(options)
    if name == "docker":
        try:
            from kongformance.targets import docker
        except ImportError as exc:
            raise TargetUnavailable(f"the docker target is not available: {exc}") from exc
        factory = getattr(docker, "target", None) or getattr(docker, "DockerTarget", None)
        if factory is None:
            raise TargetUnavailable("kongformance.targets.docker provides no target(options) / DockerTarget")
        return factory(options)  # type: ignore[no-any-return]
    raise TargetUnavailable(f"unknown target {name!r}; choose one of {', '.join(TARGETS)}")


__all__ = ["TARGETS", "Stack", "Target", "TargetOptions", "TargetUnavailable", "select_target"]
