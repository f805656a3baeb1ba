"""Runs that share a gateway do not meet; a DB-less gateway is only taken over when the run owns it (issue 9
Deliver 4, target "Two concurrent runs on one control plane: both green").

Against a ``kongformance serve stack --hide-control`` process used as the ``external`` target, and against
one control plane of ``kongformance serve konnect`` (its control surface hidden) used as the ``konnect``
target: two runs at the same time both pass and leave a user's own entities alone. On a DB-less stack a run
refuses in one line unless ``KF_OWNS_GATEWAY=1``, and then puts the previous configuration back, also when
interrupted.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from tests.cleanup.served import (
    LEAN,
    ROOT,
    Observer,
    Served,
    poll_until,
    served_konnect,
    served_stack,
    start_run,
)

# suites that run quickly on an external target (the real-time expiry checks are left out: they wait a
# token lifetime each, which is what issue 9 Deliver 6 is about, not isolation)
SELECTION = [
    "suites/test_gateway_routing.py",
    "suites/test_jwt.py",
    "suites/test_openid_connect_bearer.py",
    "suites/test_oauth2_introspection.py",
    "suites/test_kong_oauth2.py",
    "suites/test_introspection_results.py",
    "-k",
    "not expired and not cache_expires",
    "-q",
]
DEADLINE = 180.0
USERS_OWN = {"name": "users-own", "protocol": "http", "host": "own.example", "port": 80}
USER_CONFIG = """\
_format_version: "3.0"
services:
- name: users-own-service
  url: http://127.0.0.1:9/own
  routes:
  - name: users-own-route
    paths: [/users-own]
"""


@pytest.fixture(scope="module", params=["external", "konnect"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    """One gateway (``external``) or one Konnect control plane (``konnect``) that two runs share."""
    with served_stack() if request.param == "external" else served_konnect() as target:
        yield target


@pytest.fixture(scope="module")
def served_dbless() -> Iterator[Served]:
    with served_stack("--db-less") as stack:
        yield stack


def _user_entities(served: Served) -> list[str]:
    with httpx.Client(timeout=10, headers=served.admin_headers) as http:
        return sorted(s["name"] for s in http.get(served.urls["admin"] + "/services").json()["data"])


def test_two_concurrent_runs_on_one_gateway_or_control_plane_both_pass_and_spare_the_users_entities(
    served: Served, tmp_path: Path
) -> None:
    """Each run has its own tag, route prefix and entity names and tears down by its own tag only."""
    with httpx.Client(timeout=10, headers=served.admin_headers) as http:
        own = http.post(served.urls["admin"] + "/services", json=USERS_OWN)  # Konnect's schema: host needed
        assert own.status_code == 201, own.text
    with Observer(served) as observer:
        children = [
            start_run(
                served.env(tmp_path / f"l{i}"),
                tmp_path / f"l{i}",
                SELECTION,
                via_cli=False,
                workers=0,
                target=served.target,
            )
            for i in (1, 2)
        ]
        try:
            poll_until(lambda: all(c.run_id() for c in children), DEADLINE, "both runs' ledgers")
            ids = [c.run_id() for c in children]
            overlap: list[bool] = []

            def both_live_or_one_ended() -> bool:
                if all(observer.gateway_entities(f"kf-run-{i}", ("/services",)) > 0 for i in ids):
                    overlap.append(True)
                    return True
                return any(c.proc.poll() is not None for c in children)

            poll_until(both_live_or_one_ended, DEADLINE, "both runs' services at once")
            statuses = [c.wait(DEADLINE) for c in children]
        finally:
            for c in children:
                c.close()
        outputs = [c.output.decode("utf-8", "replace")[-1500:] for c in children]
        assert statuses == [0, 0], outputs
        assert overlap, "the two runs never had their profiles on the gateway at the same time"
        assert all(" passed" in out and " failed" not in out for out in outputs), outputs
        for rid in ids:
            assert observer.gateway_entities(f"kf-run-{rid}") == 0
            assert observer.auth_servers(rid) == []
        assert _user_entities(served) == ["users-own"]


def _load_user_config(served: Served) -> str:
    with httpx.Client(timeout=10) as http:
        resp = http.post(served.urls["admin"] + "/config", data={"config": USER_CONFIG})
        assert resp.status_code in (200, 201), resp.text
        return str(http.get(served.urls["admin"] + "/config").json()["config"])


def _services(config: str) -> list[str]:
    return sorted(s["name"] for s in (yaml.safe_load(config) or {}).get("services") or [])


def test_a_run_refuses_a_db_less_gateway_it_does_not_own_in_one_line(
    served_dbless: Served, tmp_path: Path
) -> None:
    before = _load_user_config(served_dbless)
    env = served_dbless.env(tmp_path / "ledger")
    command = [sys.executable, "-m", "pytest", *LEAN, "--kf-target", "external", "--kf-no-reports"]
    done = subprocess.run(
        [*command, "suites/test_jwt.py", "-q"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if "DB-less" in ln]
    assert len(lines) == 1 and "KF_OWNS_GATEWAY=1" in lines[0], done.stdout[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    with Observer(served_dbless) as observer:
        assert observer.config() == before


@pytest.mark.parametrize(
    "interrupt", [None, signal.SIGINT, signal.SIGTERM], ids=["complete", "SIGINT", "SIGTERM"]
)
def test_a_run_that_owns_a_db_less_gateway_restores_its_previous_config(
    served_dbless: Served, tmp_path: Path, interrupt: int | None
) -> None:
    """GET /config before, POST /config after: the user's configuration is back, even after an interrupt."""
    before = _load_user_config(served_dbless)
    with Observer(served_dbless) as observer:
        ledger = tmp_path / "ledger"
        with start_run(
            served_dbless.env(ledger, KF_OWNS_GATEWAY="1"),
            ledger,
            ["suites/test_jwt.py", "-q"],
            via_cli=False,
            workers=0,
        ) as child:
            # the run's profile replaced the config (the user's service is gone while it runs)
            poll_until(
                lambda: "kf-sentinel" in observer.config(), DEADLINE, "the run's config on the gateway"
            )
            if interrupt is not None:
                child.proc.send_signal(interrupt)
            status = child.wait(DEADLINE)
        output = child.output.decode("utf-8", "replace")[-2000:]
        if interrupt is None:
            assert status == 0, output
        assert _services(observer.config()) == _services(before) == ["users-own-service"], output
        assert not list(ledger.glob("*"))
