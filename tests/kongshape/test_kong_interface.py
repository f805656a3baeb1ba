"""The stand-in's Kong interface without Docker (issue 13 Deliver 1): KONG_* settings as Kong's conf_loader
reads them (kong/templates/kong_defaults.lua), Kong's Status API (kong/status/ready.lua) and the kong CLI's
answers (kong/cmd/health.lua, kong/cmd/utils/migrations.lua)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from kongformance.gateway import declarative
from kongformance.gateway.app import ReferenceGateway
from kongformance.kongshape import cli
from kongformance.kongshape.conf import ConfError, Listener, from_env, parse_listen
from kongformance.kongshape.database import NEEDS_BOOTSTRAP_MSG
from kongformance.kongshape.status import status_app
from kongformance.targets.docker_containers import boot_config


def test_kong_defaults_when_nothing_is_set() -> None:
    conf = from_env({})
    assert conf.database == "postgres" and not conf.db_less
    assert conf.proxy_listen == (Listener("0.0.0.0", 8000), Listener("0.0.0.0", 8443, ssl=True))
    assert conf.admin_listen == (Listener("127.0.0.1", 8001), Listener("127.0.0.1", 8444, ssl=True))
    assert conf.status_listen == ()  # status_listen = off
    assert (conf.pg_host, conf.pg_port, conf.pg_user, conf.pg_database) == ("127.0.0.1", 5432, "kong", "kong")
    assert conf.trusted_ips == () and conf.license_data is None


def test_kong_settings_from_the_environment() -> None:
    conf = from_env(
        {
            "KONG_DATABASE": "off",
            "KONG_DECLARATIVE_CONFIG": "/kong.yml",
            "KONG_PROXY_LISTEN": "127.0.0.1:9000, [::1]:9443 http2 ssl reuseport backlog=16384",
            "KONG_STATUS_LISTEN": "0.0.0.0:8100",
            "KONG_TRUSTED_IPS": "0.0.0.0/0,::/0",
            "KONG_LICENSE_DATA": '{"license": {}}',
            "KONGFORMANCE_KONG_VERSION": "3.9",
        }
    )
    assert conf.db_less and conf.declarative_config == "/kong.yml"
    assert conf.proxy_listen == (Listener("127.0.0.1", 9000), Listener("::1", 9443, ssl=True))
    assert conf.status_listen == (Listener("0.0.0.0", 8100),)
    assert conf.trusted_ips == ("0.0.0.0/0", "::/0") and conf.kong_version == "3.9"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KONG_DATABASE", "cassandra"),
        ("KONG_PROXY_LISTEN", "8000"),
        ("KONG_PG_PORT", "x"),
        ("KONG_TRUSTED_IPS", "nope"),
    ],
)
def test_a_setting_kong_would_refuse_is_an_error(name: str, value: str) -> None:
    with pytest.raises(ConfError):
        from_env({name: value})


def test_listen_off_means_no_listener() -> None:
    assert parse_listen("admin_listen", "off") == ()


def _get(app: Starlette, path: str) -> httpx.Response:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kong") as c:
            return await c.get(path)

    return asyncio.run(get())


def test_status_ready_is_503_until_a_declarative_config_is_loaded() -> None:
    gateway = ReferenceGateway(db_less=True)
    app = status_app(gateway.runtime)
    r = _get(app, "/status/ready")
    assert (r.status_code, r.json()) == (503, {"message": "no configuration available"})
    assert (_get(app, "/status")).status_code == 200
    status, _ = declarative.load(gateway.runtime, boot_config("http://upstream:8088"))
    assert status == 201
    r = _get(app, "/status/ready")
    assert (r.status_code, r.json()) == (200, {"message": "ready"})


def test_status_ready_says_when_the_database_is_unreachable() -> None:
    app = status_app(ReferenceGateway().runtime, database_ok=lambda: False)
    r = _get(app, "/status/ready")
    assert (r.status_code, r.json()) == (503, {"message": "failed to connect to database"})
    assert (_get(app, "/status")).json()["database"]["reachable"] is False


def test_kong_health_fails_when_no_node_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KONG_PREFIX", str(tmp_path))
    assert cli.main(["health"]) == 1
    assert capsys.readouterr().err.strip() == f"Error: Kong is not running at {tmp_path}"
    (tmp_path / "pids").mkdir()
    (tmp_path / "pids" / "nginx.pid").write_text(str(__import__("os").getpid()))
    assert cli.main(["health"]) == 0
    assert f"Kong is healthy at {tmp_path}" in capsys.readouterr().out


def test_migrations_without_a_database_are_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KONG_DATABASE", "off")
    assert cli.main(["migrations", "bootstrap"]) == 1
    assert capsys.readouterr().err.startswith("Error: ")


def test_an_unreachable_database_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("psycopg", reason="psycopg comes with the kong-standin extra (in the image)")
    monkeypatch.setenv("KONG_PG_PORT", "1")
    monkeypatch.setenv("KONG_PG_TIMEOUT", "1000")
    assert cli.main(["migrations", "bootstrap"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: [PostgreSQL error]") and "Traceback" not in err


def test_a_bad_declarative_config_file_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "kong.yml"
    bad.write_text('_format_version: "3.0"\nservices:\n- name: 1\n  url: nope\n')
    monkeypatch.setenv("KONG_DATABASE", "off")
    with pytest.raises(cli.KongCliError, match="failed loading declarative config file"):
        cli.build_node(from_env({"KONG_DATABASE": "off", "KONG_DECLARATIVE_CONFIG": str(bad)}))
    with pytest.raises(cli.KongCliError, match="No such file"):
        cli.build_node(
            from_env({"KONG_DATABASE": "off", "KONG_DECLARATIVE_CONFIG": str(tmp_path / "none.yml")})
        )


def test_the_refusal_is_kong_s_message() -> None:
    assert NEEDS_BOOTSTRAP_MSG.startswith("Database needs bootstrapping or is older than Kong 1.0.\n\n")
    assert "run 'kong migrations bootstrap'" in NEEDS_BOOTSTRAP_MSG


def test_an_unknown_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["reload"]) == 1
    assert capsys.readouterr().err.startswith("Error: No such command for kong: reload")
