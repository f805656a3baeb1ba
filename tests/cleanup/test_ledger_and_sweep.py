"""The run ledger, the sweeps and ``kongformance cleanup`` (issue 9 Deliver 3), on an in-process stack."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kongformance import cleanup_command, profile, run_ledger
from kongformance.clients.identity_api import IdentityApi
from kongformance.clients.kong_admin import KongAdmin
from kongformance.run_cleanup import Endpoints, sweep
from kongformance.run_signals import deferred
from kongformance.stack import LocalStack, start_local_stack


@pytest.fixture(scope="module")
def local() -> Iterator[LocalStack]:
    stack = start_local_stack(hide_control=True)
    yield stack
    stack.stop()


@pytest.fixture
def apis(local: LocalStack) -> Iterator[tuple[IdentityApi, KongAdmin]]:
    identity = IdentityApi(local.identity_url + "/v1", "t")
    admin = KongAdmin(local.admin_url)
    yield identity, admin
    identity.close()
    admin.close()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _ledger(directory: Path, run_id: str, *, pid: int, host: str | None = None, age: float = 0) -> Path:
    ledger = run_ledger.RunLedger.create(run_id, "external", directory)
    lines = ledger.path.read_text().splitlines()
    header = json.loads(lines[0])
    header.update(pid=pid, pid_start=None, started=time.time() - age)
    if host is not None:
        header["host"] = host
    ledger.path.write_text(json.dumps(header) + "\n")
    return ledger.path


def _leave(identity: IdentityApi, admin: KongAdmin, run_id: str) -> None:
    """What a run killed mid-set-up leaves: a labelled auth server and tagged gateway entities."""
    identity.create_auth_server(f"kongformance-{run_id}", "aud", labels=run_ledger.run_labels(run_id))
    tags = ["kongformance", run_ledger.run_tag(run_id)]
    svc = admin.call("POST", "/services", json={"name": f"s-{run_id}", "url": "http://u", "tags": tags})
    admin.call("POST", f"/services/{svc['id']}/routes", json={"paths": [f"/{run_id}"], "tags": tags})


def _left(identity: IdentityApi, admin: KongAdmin, run_id: str) -> int:
    servers = [s for s in identity.pages("/auth-servers") if (s.get("labels") or {}).get("kf-run") == run_id]
    return len(servers) + len(admin.list_all("/services", tags=run_ledger.run_tag(run_id)))


def test_the_ledger_announces_the_auth_server_before_it_is_created(tmp_path: Path) -> None:
    ledger = run_ledger.RunLedger.create("abcd1234", "external", tmp_path)
    seen: list[dict[str, Any]] = []

    class Api:
        base_url = "http://identity/v1"

        def create_auth_server(self, name: str, audience: str, **kw: Any) -> dict[str, Any]:
            run = run_ledger.read(ledger.path)
            assert run is not None
            seen.extend(run.intents)
            assert kw["labels"] == {"kf-run": "abcd1234", "kf-owner": "kongformance"}
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        profile.apply_issuer_objects(Api(), "abcd1234", ledger)  # type: ignore[arg-type]
    assert [(i["kind"], i["where"]) for i in seen] == [("auth_server", "http://identity/v1")]


def test_a_ledger_read_back_keeps_what_was_created_and_not_deleted(tmp_path: Path) -> None:
    ledger = run_ledger.RunLedger.create("r1", "external", tmp_path)
    ledger.created("auth_server", "w", "a")
    ledger.created("auth_server", "w", "b")
    ledger.deleted("auth_server", "w", "a")
    with ledger.path.open("a") as f:
        f.write('{"op": "created", "kind": "auth')  # a line torn by a kill
    run = run_ledger.read(ledger.path)
    assert run is not None and [r["id"] for r in run.created] == ["b"]
    assert run.alive() and not run.stale(0)
    assert (ledger.path.stat().st_mode & 0o777) == 0o600
    ledger.close()
    assert not ledger.path.exists()


def test_a_run_is_stale_when_its_owner_died_or_it_came_from_elsewhere_long_ago(tmp_path: Path) -> None:
    dead = run_ledger.read(_ledger(tmp_path, "dead", pid=_dead_pid()))
    fresh_elsewhere = run_ledger.read(_ledger(tmp_path, "f", pid=1, host="other-host", age=60))
    old_elsewhere = run_ledger.read(_ledger(tmp_path, "o", pid=1, host="other-host", age=7200))
    assert dead is not None and fresh_elsewhere is not None and old_elsewhere is not None
    assert dead.stale(3600) and not dead.alive()
    assert not fresh_elsewhere.stale(3600)
    assert old_elsewhere.stale(3600)


def test_a_sweep_removes_crashed_and_unowned_runs_and_never_a_live_one(
    apis: tuple[IdentityApi, KongAdmin], local: LocalStack, tmp_path: Path
) -> None:
    identity, admin = apis
    for rid in ("live0001", "dead0001", "lost0001"):
        _leave(identity, admin, rid)
    live = run_ledger.RunLedger.create("live0001", "external", tmp_path)  # this process: alive
    live.intent("auth_server", identity.base_url, labels=run_ledger.run_labels("live0001"))
    dead = _ledger(tmp_path, "dead0001", pid=_dead_pid())
    dead_ledger = run_ledger.RunLedger(dead)
    dead_ledger.intent("auth_server", identity.base_url)
    dead_ledger.intent("gateway", admin.base_url, tag=run_ledger.run_tag("dead0001"))
    ends = Endpoints(identity, admin, identity.base_url, admin.base_url)
    swept = sweep(ends, older_than=3600, directory=tmp_path)
    # the dead run goes by its ledger; the unowned one is too young for the hour; the live one stays
    assert _left(identity, admin, "dead0001") == 0 and not dead.exists()
    assert _left(identity, admin, "lost0001") == 2
    assert _left(identity, admin, "live0001") == 2 and live.path.exists()
    assert swept.removed == {"auth servers": 1, "gateway entities": 2}, swept.removed
    swept = sweep(ends, older_than=0, directory=tmp_path)
    assert _left(identity, admin, "lost0001") == 0 and _left(identity, admin, "live0001") == 2
    live.close()
    sweep(ends, older_than=0, directory=tmp_path)
    assert _left(identity, admin, "live0001") == 0


def test_cleanup_command_removes_a_crashed_runs_leftovers_on_the_external_target(
    apis: tuple[IdentityApi, KongAdmin],
    local: LocalStack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    identity, admin = apis
    _leave(identity, admin, "gone0001")
    settings = {
        "KF_ADMIN_URL": local.admin_url,
        "KF_PROXY_URL": local.proxy_url,
        "KF_IDENTITY_URL": local.identity_url,
        "KF_UPSTREAM_URL": local.upstream_url,
    }
    argv = ["--target", "external", "--older-than", "0s", "--ledger", str(tmp_path)]
    argv += [a for k, v in settings.items() for a in ("--set", f"{k}={v}")]
    parser = __import__("argparse").ArgumentParser()
    cleanup_command.add_arguments(parser)
    assert cleanup_command.main(parser.parse_args(argv)) == 0
    out = capsys.readouterr().out
    assert "removed 1 auth servers, 2 gateway entities of 1 run(s)" in out, out
    assert _left(identity, admin, "gone0001") == 0


def test_cleanup_command_names_each_missing_setting_of_a_target_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("KONNECT_TOKEN", "KONNECT_REGION", "KONNECT_CONTROL_PLANE_ID", "KONNECT_PROXY_URL"):
        monkeypatch.delenv(key, raising=False)
    parser = __import__("argparse").ArgumentParser()
    cleanup_command.add_arguments(parser)
    assert cleanup_command.main(parser.parse_args(["--target", "konnect", "--ledger", str(tmp_path)])) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert all(line.startswith("kongformance cleanup: konnect: ") for line in err), err
    assert "KONNECT_TOKEN" in "\n".join(err) and "Traceback" not in "\n".join(err)


def test_signals_are_held_back_while_a_teardown_runs() -> None:
    before = signal.getsignal(signal.SIGINT)
    with deferred() as held:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
    assert held == [signal.SIGINT, signal.SIGTERM]
    assert signal.getsignal(signal.SIGINT) is before


class _Container:
    """One container as the engine's list answer shows it (``Id``, ``Labels``, ``Created`` in epoch seconds)."""

    def __init__(self, run: str, pid: int, host: str, created: float) -> None:
        self.summary: dict[str, object] = {
            "Id": f"id-{run}",
            "Labels": {
                "io.kongformance.run": run,
                "io.kongformance.pid": str(pid),
                "io.kongformance.host": host,
            },
            "Created": int(created),
        }
        self.removed = False
        self.vanished = False  # another run removed it after the list answer


def test_the_container_sweep_removes_containers_of_gone_runs_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """docker target: labelled containers whose owner died here, or started elsewhere long ago, go; one that
    another run removed between the list and the removal is skipped, not an error."""
    import socket

    from docker.errors import NotFound

    from kongformance.run_cleanup import sweep_containers
    from kongformance.targets import docker

    here = socket.gethostname()
    now = time.time()
    containers = {
        "live": _Container("a", os.getpid(), here, now),
        "dead": _Container("b", _dead_pid(), here, now),
        "young elsewhere": _Container("c", 1, "other-host", now),
        "old elsewhere": _Container("d", 1, "other-host", 1577836800),  # 2020-01-01
        "kept by ledger": _Container("e", _dead_pid(), here, now),
        "removed meanwhile": _Container("f", _dead_pid(), here, now),
    }
    containers["removed meanwhile"].vanished = True
    by_id = {str(c.summary["Id"]): c for c in containers.values()}

    class Api:
        @staticmethod
        def containers(all: bool, filters: dict[str, str]) -> list[dict[str, object]]:
            assert all and filters == {"label": docker.LABEL}
            return [c.summary for c in containers.values()]

        @staticmethod
        def remove_container(container_id: str, force: bool) -> None:
            container = by_id[container_id]
            if container.vanished:
                raise NotFound(f"No such container: {container_id}")
            container.removed = force

    class Client:
        api = Api()

        class networks:  # noqa: N801 - docker SDK shape
            @staticmethod
            def list(filters: dict[str, str]) -> list[object]:
                return []

    monkeypatch.setattr(docker, "docker_client", lambda: Client())
    assert sweep_containers(3600, {"e"}) == 2
    assert {k for k, c in containers.items() if c.removed} == {"dead", "old elsewhere"}


def test_an_interrupt_right_after_the_ledger_is_created_leaves_no_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file exists, the run has not recorded it yet: the failed start's stop still removes it (a header
    only)."""
    from kongformance.targets import TargetOptions
    from kongformance.targets.setup import RunSetup

    real_create = run_ledger.RunLedger.create

    def create_then_interrupt(
        run_id: str, target: str, directory: Path | None = None
    ) -> run_ledger.RunLedger:
        real_create(run_id, target, directory)
        raise KeyboardInterrupt("signal SIGINT")

    monkeypatch.setattr(run_ledger.RunLedger, "create", staticmethod(create_then_interrupt))
    run = RunSetup("local", TargetOptions(), str(tmp_path / "lock"), tmp_path / "ledger")
    with pytest.raises(KeyboardInterrupt):
        run.start()
    assert list((tmp_path / "ledger").glob("*")) == []


def test_a_ledger_kept_for_cleanup_survives_a_second_stop(tmp_path: Path) -> None:
    from kongformance.targets import TargetOptions
    from kongformance.targets.setup import RunSetup

    run = RunSetup("local", TargetOptions(), str(tmp_path / "lock"), tmp_path / "ledger")
    run.ledger = run_ledger.RunLedger.create(run.run_id, "local", tmp_path / "ledger")
    run.ledger.intent("gateway", "http://127.0.0.1:9", tag="kf-run-x")
    run.ledger = None  # what stop() leaves when teardown was incomplete: the file stays for cleanup
    run._ledger_settled = True
    run.stop()
    assert [p.name for p in (tmp_path / "ledger").glob("*")] == [f"{run.run_id}.jsonl"]
