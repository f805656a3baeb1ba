"""The docker target's settings: which images, the pull policy, the network mode. Bad values fail closed.

Each setting comes from ``--kf-set NAME=VALUE`` (the suite's target settings), else the environment:

``KF_KONG_IMAGE``       the gateway image (``kongformance/kong:<kong_version>``, the stand-in built by
                        images/build.sh, by default; ``kong/kong-gateway:3.15`` for real Kong). Also
                        ``--kong-image`` of ``kongformance run``; ``KONGFORMANCE_KONG_IMAGE`` is still read.
``KF_POSTGRES_IMAGE``   the database of DB mode (``kongformance/postgres:15``, built locally)
``KF_PULL_POLICY``      ``never`` (default): an image that is not present is an error, nothing is pulled;
                        ``missing``: pull what is not present; ``always``: pull every image before the run
``KF_DOCKER_NETWORK``   ``mapped`` (default): a network per run, exposed ports mapped to host ports (Docker
                        Desktop, a remote DOCKER_HOST, DinD); ``host``: host networking, every listener on
                        127.0.0.1 (engines without a bridge, like the one .ci/run starts)
``KF_DOCKER_HOST_ADDRESS``  mapped mode: the name under which this process reaches the engine's published
                        ports; the issuer is published under it and Kong resolves it to the issuer container
                        (default: the engine's host from DOCKER_HOST, or this machine's host name for a
                        local engine)
``KF_GATEWAY_CLOCK``    ``probe`` (default): ask the gateway container for a movable clock (the stand-in has
                        one, reached through KONGFORMANCE_CONTROL=on, which Kong ignores) and use it when it
                        answers; ``off``: the stand-in hides it too, and time-dependent checks wait in real
                        time, as against Kong
``KF_READY_TIMEOUT``    seconds a container may take to become ready (default 60)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

STANDIN_REPOSITORY = "kongformance/kong"
POSTGRES_IMAGE = "kongformance/postgres:15"
PULL_POLICIES = ("never", "missing", "always")
NETWORK_MODES = ("mapped", "host")
_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:@-]*$", re.IGNORECASE)


class DockerSettingsError(ValueError):
    """A setting the docker target cannot honour; the message names the setting and its choices."""


@dataclass(frozen=True)
class DockerSettings:
    kong_image: str
    postgres_image: str = POSTGRES_IMAGE
    pull_policy: str = "never"
    network: str = "mapped"
    host_address: str | None = None
    ready_timeout: float = 60.0
    gateway_clock: bool = True

    @classmethod
    def resolve(
        cls, kong_version: str, settings: Mapping[str, str], env: Mapping[str, str] | None = None
    ) -> DockerSettings:
        """Settings from ``settings`` (``--kf-set``), else ``env``; defaults for what neither gives."""
        env = os.environ if env is None else env

        def get(name: str, *legacy: str) -> str | None:
            for key in (name, *legacy):
                value = settings.get(key) if key == name else None
                value = value if value is not None else env.get(key)
                if value is not None and value.strip():
                    return value.strip()
            return None

        kong_image = get("KF_KONG_IMAGE", "KONGFORMANCE_KONG_IMAGE") or f"{STANDIN_REPOSITORY}:{kong_version}"
        postgres_image = get("KF_POSTGRES_IMAGE") or POSTGRES_IMAGE
        for name, image in (("KF_KONG_IMAGE", kong_image), ("KF_POSTGRES_IMAGE", postgres_image)):
            if not _IMAGE.match(image):
                raise DockerSettingsError(
                    f"{name}={image!r} is not an image reference (e.g. kong/kong-gateway:3.15)"
                )
        pull = (get("KF_PULL_POLICY") or "never").lower()
        if pull not in PULL_POLICIES:
            raise DockerSettingsError(f"KF_PULL_POLICY={pull!r}: choose one of {', '.join(PULL_POLICIES)}")
        network = (get("KF_DOCKER_NETWORK") or "mapped").lower()
        if network not in NETWORK_MODES:
            raise DockerSettingsError(
                f"KF_DOCKER_NETWORK={network!r}: choose one of {', '.join(NETWORK_MODES)}"
            )
        timeout_text = get("KF_READY_TIMEOUT") or "60"
        try:
            timeout = float(timeout_text)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 3600:
            raise DockerSettingsError(f"KF_READY_TIMEOUT={timeout_text!r}: a number of seconds in (0, 3600]")
        clock = (get("KF_GATEWAY_CLOCK") or "probe").lower()
        if clock not in ("probe", "off"):
            raise DockerSettingsError(f"KF_GATEWAY_CLOCK={clock!r}: choose probe or off")
        address = get("KF_DOCKER_HOST_ADDRESS")
        return cls(kong_image, postgres_image, pull, network, address, timeout, clock == "probe")


def with_tag(image: str) -> tuple[str, str]:
    """``repo[:tag]`` -> (repo, tag); the tag defaults to ``latest`` as docker's does."""
    if "@" in image:
        repo, _, digest = image.partition("@")
        return repo, digest
    repo, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:
        return image, "latest"
    return repo, tag


def version_from_tag(image: str) -> str | None:
    """``kong/kong-gateway:3.9.1.0`` -> ``3.9``; None when the tag is not a version."""
    match = re.match(r"^(\d+)\.(\d+)", with_tag(image)[1])
    return f"{match.group(1)}.{match.group(2)}" if match else None
