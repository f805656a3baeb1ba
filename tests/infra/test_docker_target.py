"""The docker target: our three images start under a local Docker engine and answer (h8 Deliver 3).

These tests only run when a Docker engine is reachable (DOCKER_HOST) and images/build.sh has built the
images; otherwise they are skipped with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from kongformance.targets import docker as docker_target

_ENGINE_OK, _ENGINE_WHY = docker_target.engine_reachable()
_MISSING = [i for i in docker_target.OUR_IMAGES.values() if _ENGINE_OK and not docker_target.image_present(i)]

pytestmark = [
    pytest.mark.skipif(not _ENGINE_OK, reason=_ENGINE_WHY),
    pytest.mark.skipif(
        bool(_MISSING), reason=f"images not built ({', '.join(_MISSING)}): run images/build.sh"
    ),
]


@pytest.fixture(scope="module")
def docker_stack() -> Iterator[docker_target.DockerStack]:
    mp = pytest.MonkeyPatch()
    mp.setenv("KONGFORMANCE_KONG_IMAGE", "none")
    stack = docker_target.start_docker_stack(ready_timeout=60)
    yield stack
    stack.stop()
    mp.undo()


@pytest.fixture(scope="module")
def upstream_only() -> Iterator[docker_target.DockerStack]:
    """Just the upstream container, wrapped in a DockerStack so stop() removes it."""
    (port,) = docker_target.free_ports(1)
    url = f"http://127.0.0.1:{port}"
    stack = docker_target.DockerStack(url, url, url, url, url, "", False, run_id=uuid.uuid4().hex[:12])
    container = docker_target.labelled_container(
        docker_target.OUR_IMAGES["upstream"], stack.run_id, "upstream"
    )
    stack.containers["upstream"] = container.with_env("KONGFORMANCE_UPSTREAM_PORT", str(port)).start()
    docker_target.wait_ready(stack, {"upstream": url + "/anything"}, 30)
    yield stack
    stack.stop()


def test_upstream_image_echoes_and_logs(upstream_only: docker_target.DockerStack) -> None:
    """issue 3 Deliver 7 / h8 Deliver 3: the upstream image serves /anything and its request log."""
    with httpx.Client(base_url=upstream_only.upstream_url) as c:
        r = c.get("/anything/from-test", headers={"X-Probe": "1"})
        assert r.status_code == 200 and r.json()["headers"]["X-Probe"] == "1"
        log = c.get("/_emulator/requests", params={"path_prefix": "/anything/from-test"}).json()
        assert log["count"] == 1


def test_identity_image_serves_the_management_api(docker_stack: docker_target.DockerStack) -> None:
    """issue 2 Deliver 2: the identity image answers the /v1 management API (Bearer required)."""
    with httpx.Client(base_url=docker_stack.identity_url) as c:
        assert c.get("/v1/auth-servers").status_code == 401
        assert c.get("/v1/auth-servers", headers={"Authorization": "Bearer t"}).status_code == 200


def test_gateway_image_serves_admin_and_proxy(docker_stack: docker_target.DockerStack) -> None:
    """issue 3 Deliver 1-2: the gateway image answers the Admin API and both proxy listeners."""
    assert not docker_stack.real_kong
    with httpx.Client(verify=False) as c:
        assert c.get(docker_stack.admin_url + "/").status_code == 200
        assert c.get(docker_stack.admin_url + "/status").status_code == 200
        assert c.get(docker_stack.proxy_url + "/no-such-route").status_code == 404
        assert c.get(docker_stack.proxy_ssl_url + "/no-such-route").status_code == 404


def test_containers_use_the_host_network_and_are_labelled(docker_stack: docker_target.DockerStack) -> None:
    """ci-environment.md: containers run with network_mode=host; every URL is on loopback."""
    for container in docker_stack.containers.values():
        attrs = container.get_wrapped_container().attrs
        assert attrs["HostConfig"]["NetworkMode"] == "host"
        assert attrs["Config"]["Labels"][docker_target.LABEL] == docker_stack.run_id
    urls = [
        docker_stack.identity_url,
        docker_stack.admin_url,
        docker_stack.proxy_url,
        docker_stack.upstream_url,
    ]
    assert all(u.startswith("http://127.0.0.1:") for u in urls)


def test_unpullable_kong_image_falls_back_to_the_reference_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    """h8 Deliver 3: kong/kong-gateway is used only when it can be had; otherwise our gateway image."""
    monkeypatch.setenv("KONGFORMANCE_KONG_IMAGE", "kongformance-test/does-not-exist:0.0")
    assert docker_target.kong_image_for("3.15") is None
    monkeypatch.setenv("KONGFORMANCE_KONG_IMAGE", docker_target.OUR_IMAGES["upstream"])
    assert docker_target.kong_image_for("3.15") == docker_target.OUR_IMAGES["upstream"]


def test_stop_removes_every_container(upstream_only: docker_target.DockerStack) -> None:
    """Ryuk is disabled: the target must remove its own containers (stop() is idempotent)."""
    client = docker_target.docker_client()
    selector = {"label": f"{docker_target.LABEL}={upstream_only.run_id}"}
    assert len(client.containers.list(all=True, filters=selector)) == 1
    upstream_only.stop()
    upstream_only.stop()
    assert client.containers.list(all=True, filters=selector) == []
