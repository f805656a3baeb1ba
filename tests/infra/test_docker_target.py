"""The docker target against the Kong-shaped stand-in (issue 13): Kong's image interface, DB-less through
KONG_DECLARATIVE_CONFIG and POST /config, DB mode on a locally built Postgres with ``kong migrations
bootstrap`` and Kong's refusal of a database that is not bootstrapped, mapped ports, labels, no pulls.

Runs when a Docker engine is reachable (DOCKER_HOST) and ``make images`` has built the images; otherwise
skipped with the reason. The network mode is the environment's (KF_DOCKER_NETWORK; .ci/run sets host).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from kongformance.targets import docker as docker_target
from kongformance.targets import docker_containers as dc
from kongformance.targets.docker_settings import POSTGRES_IMAGE, DockerSettings

_ENGINE_OK, _ENGINE_WHY = docker_target.engine_reachable()
_IMAGES = [
    *docker_target.OUR_IMAGES.values(),
    "kongformance/kong:3.15",
    "kongformance/kong:3.9",
    POSTGRES_IMAGE,
]
_MISSING = [i for i in _IMAGES if _ENGINE_OK and not docker_target.image_present(i)]

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not _ENGINE_OK, reason=_ENGINE_WHY),
    pytest.mark.skipif(bool(_MISSING), reason=f"images not built ({', '.join(_MISSING)}): run make images"),
]


def _settings(**extra: str) -> DockerSettings:
    return DockerSettings.resolve("3.15", extra)


@pytest.fixture(scope="module")
def dbless() -> Iterator[docker_target.DockerStack]:
    with docker_target.start_docker_stack(db_less=True, settings=_settings()) as stack:
        yield stack


@pytest.fixture(scope="module")
def with_db() -> Iterator[docker_target.DockerStack]:
    with docker_target.start_docker_stack(db_less=False, settings=_settings()) as stack:
        yield stack


def test_dbless_kong_starts_from_kong_declarative_config_and_is_ready(
    dbless: docker_target.DockerStack,
) -> None:
    """Kong's /status/ready is 200 only once a configuration is loaded: here the one KONG_DECLARATIVE_CONFIG
    names, whose route proxies to the upstream (Kong docs: DB-less and declarative configuration)."""
    with httpx.Client(verify=False, timeout=10) as c:
        assert c.get(dbless.status_url + "/status/ready").json() == {"message": "ready"}
        for base in (dbless.proxy_url, dbless.proxy_ssl_url):
            r = c.get(base + dc.BOOT_ROUTE + "/probe")
            assert r.status_code == 200 and r.json()["url"].split("?")[0].endswith("/anything/probe")
        assert c.get(dbless.admin_url + "/").json()["configuration"]["database"] == "off"


def test_dbless_kong_takes_post_config_and_refuses_crud(dbless: docker_target.DockerStack) -> None:
    config = (
        '_format_version: "3.0"\nservices:\n- name: posted\n'
        f"  url: {dbless.upstream_url}/anything\n  routes:\n  - name: posted\n    paths: [/posted]\n"
    )
    with httpx.Client(verify=False, timeout=10) as c:
        assert (
            c.post(dbless.admin_url + "/services", json={"name": "x", "url": "http://a"}).status_code == 405
        )
        r = c.post(dbless.admin_url + "/config", content=config, headers={"Content-Type": "application/yaml"})
        assert r.status_code == 201
        assert c.get(dbless.proxy_ssl_url + "/posted").status_code == 200
        assert c.get(dbless.proxy_ssl_url + dc.BOOT_ROUTE).status_code == 404  # the whole config was replaced


def test_db_mode_bootstraps_postgres_and_keeps_entities_there(with_db: docker_target.DockerStack) -> None:
    """DB mode: `kong migrations bootstrap` ran, and an entity written through the Admin API is a row in
    Postgres (not only in the gateway's memory)."""
    with httpx.Client(timeout=10) as c:
        assert c.get(with_db.status_url + "/status/ready").json() == {"message": "ready"}
        svc = c.post(
            with_db.admin_url + "/services", json={"name": "kept", "url": "http://upstream.invalid"}
        ).json()
    pg = with_db.containers["postgres"]
    port = pg.env["PGPORT"]
    query = f"SELECT count(*) FROM kongformance_entities WHERE id = '{svc['id']}'"
    out = pg.exec(["psql", "-h", "/tmp", "-p", port, "-U", "kong", "-d", "kong", "-tAc", query])
    assert out.exit_code == 0 and out.output.decode().strip() == "1"
    meta = pg.exec(
        [
            "psql",
            "-h",
            "/tmp",
            "-p",
            port,
            "-U",
            "kong",
            "-d",
            "kong",
            "-tAc",
            "SELECT key FROM schema_meta",
        ]
    )
    assert meta.output.decode().split() == ["schema_meta"]


def test_kong_refuses_to_start_on_a_database_that_is_not_bootstrapped(
    with_db: docker_target.DockerStack,
) -> None:
    """Kong's kong/cmd/utils/migrations.lua NEEDS_BOOTSTRAP_MSG, exit 1, on a fresh database."""
    pg = with_db.containers["postgres"]
    port = pg.env["PGPORT"]
    assert pg.exec(["createdb", "-h", "/tmp", "-p", port, "-U", "kong", "fresh"]).exit_code == 0
    env = dict(with_db.containers["gateway"].env)
    env.update(
        KONG_PG_DATABASE="fresh", KONG_STATUS_LISTEN="off", KONG_ADMIN_LISTEN="off", KONG_PROXY_LISTEN="off"
    )
    kong = docker_target.labelled_container(
        with_db.gateway_image, with_db.run_id, "refusal", with_db.docker_network
    )
    kong.with_envs(**env)
    try:
        kong.start()
        code = kong.get_wrapped_container().wait(timeout=60)["StatusCode"]
        out, err = kong.get_logs()
    finally:
        kong.stop()
    assert code == 1
    assert "Error: Database needs bootstrapping or is older than Kong 1.0." in err.decode()
    assert "run 'kong migrations bootstrap'" in err.decode()


def test_every_container_is_labelled_with_its_run(with_db: docker_target.DockerStack) -> None:
    for role, container in with_db.containers.items():
        labels = container.get_wrapped_container().attrs["Config"]["Labels"]
        assert labels[docker_target.LABEL] == with_db.run_id and labels[docker_target.ROLE_LABEL] == role


def test_the_stand_in_answers_kong_health_inside_its_container(with_db: docker_target.DockerStack) -> None:
    result = with_db.containers["gateway"].exec(["kong", "health"])
    assert result.exit_code == 0 and "Kong is healthy at /usr/local/kong" in result.output.decode()


def test_a_missing_image_is_never_pulled_under_the_default_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13 Deliver 4: the test command must never pull; an absent image is a clear error instead."""
    import docker.api.image
    import docker.models.images

    pulls: list[object] = []
    monkeypatch.setattr(docker.models.images.ImageCollection, "pull", lambda *a, **k: pulls.append(a))
    monkeypatch.setattr(docker.api.image.ImageApiMixin, "pull", lambda *a, **k: pulls.append(a))
    settings = DockerSettings.resolve("3.15", {"KF_KONG_IMAGE": "kongformance-test/absent:3.15"})
    assert settings.pull_policy == "never"
    with pytest.raises(docker_target.DockerTargetError, match="not present and KF_PULL_POLICY is never"):
        docker_target.start_docker_stack(db_less=True, settings=settings)
    assert pulls == []


def test_ryuk_enabled_with_its_image_absent_is_an_error_not_a_pull(monkeypatch: pytest.MonkeyPatch) -> None:
    from testcontainers.core.config import testcontainers_config

    if docker_target.image_present(testcontainers_config.ryuk_image):
        pytest.skip(f"{testcontainers_config.ryuk_image} is present here: Ryuk would simply run")
    monkeypatch.setattr(testcontainers_config, "ryuk_disabled", False)
    with pytest.raises(docker_target.DockerTargetError, match="ryuk"):
        docker_target.start_docker_stack(db_less=True, settings=_settings())


def test_an_image_of_another_kong_version_is_refused() -> None:
    """kongformance/kong:3.9 reports Kong 3.9.0 on GET /: a 3.15 run must not silently test 3.9."""
    settings = _settings(KF_KONG_IMAGE="kongformance/kong:3.9")
    with pytest.raises(docker_target.DockerTargetError, match="pass --kong-version 3.9"):
        docker_target.start_docker_stack(kong_version="3.15", db_less=True, settings=settings)


@pytest.mark.skipif(
    os.environ.get("KF_DOCKER_NETWORK") == "mapped", reason="the fixtures above run mapped already"
)
def test_mapped_ports_on_a_network_of_the_run() -> None:
    """Issue 13 Deliver 3: the default mode (Docker Desktop, remote engines, DinD) maps exposed ports, and
    Kong reaches the issuer under its public name and the upstream by network alias."""
    with docker_target.start_docker_stack(
        db_less=True, settings=_settings(KF_DOCKER_NETWORK="mapped")
    ) as stack:
        kong = stack.containers["gateway"].get_wrapped_container().attrs
        assert kong["HostConfig"]["NetworkMode"] not in ("host", "default", "bridge")
        assert kong["NetworkSettings"]["Ports"]["8001/tcp"]
        with httpx.Client(verify=False, timeout=10) as c:
            assert c.get(stack.proxy_ssl_url + dc.BOOT_ROUTE).status_code == 200
        probe = (
            "import urllib.request as u, urllib.error as e\n"
            f"try: print(u.urlopen('{stack.identity_url}/v1/auth-servers').status)\n"
            "except e.HTTPError as x: print(x.code)"
        )
        seen = stack.containers["gateway"].exec(["python3", "-c", probe])
        assert seen.output.decode().strip() == "401"  # the issuer's management API, as this process sees it
        with httpx.Client(timeout=10) as c:
            assert c.get(stack.identity_url + "/v1/auth-servers").status_code == 401
        labels = {
            n.name
            for n in docker_target.docker_client().networks.list(
                filters={"label": f"{docker_target.LABEL}={stack.run_id}"}
            )
        }
        assert labels
    assert not docker_target.docker_client().networks.list(
        filters={"label": f"{docker_target.LABEL}={stack.run_id}"}
    )


def test_stop_removes_every_container(dbless: docker_target.DockerStack) -> None:
    """Ryuk may be off: the target removes its own containers (stop() is idempotent)."""
    client = docker_target.docker_client()
    selector = {"label": f"{docker_target.LABEL}={dbless.run_id}"}
    assert len(client.containers.list(all=True, filters=selector)) == 3
    dbless.stop()
    dbless.stop()
    assert client.containers.list(all=True, filters=selector) == []
