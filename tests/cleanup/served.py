"""Served targets for the cleanup tests and the runs they start against them (issue 9 Deliver 3-4).

A ``kongformance serve stack --hide-control`` process is an external Kong + Kong Identity
(:func:`served_stack`); a ``kongformance serve konnect`` process (its control surface hidden, as Konnect) with
an echo upstream is a Konnect organisation (:func:`served_konnect`). What runs leave behind is read through
their public APIs only: the Admin API or Konnect's core entities, and the identity ``/v1`` API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "kongformance-cleanup-tests"
# plugins a suite run does not need: a shorter start for every trial
LEAN = ["-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:anyio"]


@dataclass
class Served:
    """A served target: its URLs as the observer reads them (``admin``: the gateway entities' API,
    ``identity``: the ``/v1`` API's base), the token of both, and the settings of the target pointing at it."""

    urls: dict[str, str]
    settings: dict[str, str]
    target: str = "external"
    token: str = TOKEN
    admin_headers: dict[str, str] = field(default_factory=dict)

    def env(self, ledger: Path, **extra: str) -> dict[str, str]:
        """The run's environment: this one without pytest's, ``KF_*`` or ``KONNECT_*``, plus the target's."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("KF_", "PYTEST_", "KONNECT_"))}
        return {**inherited, **self.settings, "KF_LEDGER_DIR": str(ledger), **extra}


@contextmanager
def served_stack(*extra: str) -> Iterator[Served]:
    """``kongformance serve stack --hide-control --random-ports`` (plus ``extra``) until the block ends."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kongformance.cli",
            "serve",
            "stack",
            "--hide-control",
            "--random-ports",
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        urls: dict[str, str] = {}
        for line in proc.stdout:
            if line.startswith("serving"):
                break
            role, url = line.split()
            urls[role] = url
        settings = {
            "KF_ADMIN_URL": urls["admin"],
            "KF_PROXY_URL": urls["proxy"],
            "KF_PROXY_SSL_URL": urls["proxy_ssl"],
            "KF_IDENTITY_URL": urls["identity"],
            "KF_IDENTITY_TOKEN": TOKEN,
            "KF_UPSTREAM_URL": urls["upstream"],
        }
        yield Served(urls, settings)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@contextmanager
def served_konnect() -> Iterator[Served]:
    """``kongformance serve konnect`` (control surface hidden) and a hidden-control echo upstream, as the
    Konnect rehearsal starts them; ``admin`` is the control plane's core entities, ``identity`` the API base."""
    from kongformance.konnect.rehearsal import emulated_konnect

    with emulated_konnect() as settings:
        api, token = settings["KONNECT_API_URL"], settings["KONNECT_TOKEN"]
        urls = {
            "admin": f"{api}/v2/control-planes/{settings['KONNECT_CONTROL_PLANE_ID']}/core-entities",
            "identity": api,
        }
        auth = {"Authorization": f"Bearer {token}"}
        yield Served(urls, dict(settings), target="konnect", token=token, admin_headers=auth)


class Observer:
    """Reads what runs left on a served target (by run id) through its public APIs only."""

    def __init__(self, served: Served) -> None:
        self.urls = served.urls
        self.http = httpx.Client(timeout=10.0, headers=served.admin_headers)
        self.auth = {"Authorization": f"Bearer {served.token}"}

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Observer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def gateway_entities(
        self, tag: str, collections: tuple[str, ...] = ("/plugins", "/routes", "/services", "/consumers")
    ) -> int:
        total = 0
        for collection in collections:
            resp = self.http.get(self.urls["admin"] + collection, params={"tags": tag, "size": 1000})
            total += len(resp.json()["data"])
        return total

    def auth_servers(self, run_id: str | None = None) -> list[dict[str, Any]]:
        servers: list[dict[str, Any]] = []
        number = 1
        while True:
            resp = self.http.get(
                self.urls["identity"] + "/v1/auth-servers",
                params={"page[size]": 100, "page[number]": number},
                headers=self.auth,
            )
            data = resp.json()["data"]
            servers += data
            if len(data) < 100:
                break
            number += 1
        if run_id is None:
            return servers
        return [s for s in servers if (s.get("labels") or {}).get("kf-run") == run_id]

    def claims(self, server_id: str) -> int:
        url = f"{self.urls['identity']}/v1/auth-servers/{server_id}/claims"
        resp = self.http.get(url, params={"page[size]": 100}, headers=self.auth)
        return len(resp.json()["data"]) if resp.status_code == 200 else 0

    def config(self) -> str:
        return str(self.http.get(self.urls["admin"] + "/config").json()["config"])


@dataclass
class Child:
    """A suite run in a child process: its output as it comes, its ledger (and so its run id).

    Used as a context manager: on exit a child still running is killed (its whole process group), reaped,
    and its pipe closed once the reader has drained it, so nothing of it outlives the test."""

    proc: subprocess.Popen[bytes]
    ledger: Path
    output: bytearray = field(default_factory=bytearray)
    reader: threading.Thread | None = None

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_reading(self) -> None:
        def pump() -> None:
            assert self.proc.stdout is not None
            while chunk := self.proc.stdout.read1(4096):  # type: ignore[attr-defined]
                self.output.extend(chunk)

        self.reader = threading.Thread(target=pump, daemon=True)
        self.reader.start()

    def run_id(self) -> str | None:
        files = sorted(self.ledger.glob("*.jsonl"))
        return files[0].stem if files else None

    def results(self) -> int:
        """Test outcomes printed so far (pytest -q progress characters)."""
        text = self.output.decode("utf-8", "replace")
        return sum(line.count(".") + line.count("s") + line.count("F") for line in _progress(text))

    def wait(self, deadline: float) -> int:
        """The child's exit code; AssertionError with every thread's stack (faulthandler, SIGABRT) when it has
        not ended after ``deadline`` seconds: a run that hangs after a signal is a finding, not a timeout."""
        try:
            return self.proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            _signal_group(self.proc, signal.SIGABRT)  # PYTHONFAULTHANDLER=1: each process dumps its stacks
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
            self.close()
            tail = self.output.decode("utf-8", "replace")[-6000:]
            raise AssertionError(f"the run had not ended {deadline:g} s later; its stacks:\n{tail}") from None

    def close(self) -> None:
        if self.proc.poll() is None:
            _signal_group(self.proc, signal.SIGKILL)
        self.proc.wait()
        if self.reader is not None:
            self.reader.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)


def _progress(text: str) -> list[str]:
    return [
        line.split(" ")[0] for line in text.splitlines() if line and set(line.split(" ")[0]) <= set(".sFE")
    ]


def start_run(
    env: dict[str, str],
    ledger: Path,
    pytest_args: list[str],
    *,
    via_cli: bool,
    workers: int,
    target: str = "external",
) -> Child:
    """A run of ``target``: plain pytest, or ``kongformance run`` (which forwards signals)."""
    reports = ledger.parent / "reports"
    if via_cli:
        command = [sys.executable, "-m", "kongformance.cli", "run", "--target", target]
        command += ["--reports", str(reports)] + (["-n", str(workers)] if workers else [])
        command += ["--", *LEAN[2:], *pytest_args]
    else:
        command = [
            sys.executable,
            "-m",
            "pytest",
            *LEAN,
            "--kf-target",
            target,
            "--kf-no-reports",
        ]
        command += (["-n", str(workers)] if workers else []) + pytest_args
    env = {**env, "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, process_group=0
    )
    child = Child(proc, ledger)
    child.start_reading()
    return child


def poll_until(condition: Callable[[], object], deadline: float, what: str) -> None:
    """Poll ``condition()`` until true; AssertionError naming ``what`` after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, f"never saw {what}"
        time.sleep(0.005)  # poll: watching another process reach a point of its run
