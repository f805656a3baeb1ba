"""The run ledger: what a run is about to create and has created, on disk, so a crashed run can be cleaned up.

One JSON-lines file per run, ``<ledger dir>/<run id>.jsonl``, opened with a header (run id, owning pid and
host, the pid's start time, when it started, the target). Every object is announced *before* it is created
(an ``intent`` naming the label, tag or container label it will carry), recorded once created (``created``
with its id) and struck out when deleted (``deleted``). A run that tears down completely removes its file;
a file whose owner is dead is a crashed run, and ``kongformance cleanup`` (or the next run) finishes its
teardown from it.

Where: ``--kf-ledger DIR``, else ``KF_LEDGER_DIR``, else ``$XDG_CACHE_HOME/kongformance/ledger`` (by default
``~/.cache/kongformance/ledger``). Lines are appended with one ``write`` each (``O_APPEND``), so the xdist
controller and its workers can share one file. The ledger holds URLs and ids, never tokens or secrets.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEDGER_ENV = "KF_LEDGER_DIR"
SUFFIX = ".jsonl"
RUN_LABEL = "kf-run"  # Kong Identity label key (keys may not start with "kong"): the run id
OWNER_LABEL = "kf-owner"  # ... and the suite that owns it
OWNER = "kongformance"
TAG_PREFIX = "kf-run-"  # gateway entity tag of a run, besides the shared "kongformance" tag


def new_run_id() -> str:
    """A short random run id (hex; safe in labels, tags, route paths and file names)."""
    return secrets.token_hex(4)


def run_tag(run_id: str) -> str:
    """The gateway entity tag every entity of run ``run_id`` carries."""
    return TAG_PREFIX + run_id


def run_labels(run_id: str) -> dict[str, str]:
    """The Kong Identity labels every auth server of run ``run_id`` carries."""
    return {RUN_LABEL: run_id, OWNER_LABEL: OWNER}


def default_dir() -> Path:
    """``KF_LEDGER_DIR``, else the user's cache directory."""
    if os.environ.get(LEDGER_ENV):
        return Path(os.environ[LEDGER_ENV])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "kongformance" / "ledger"


def _proc_start(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (Linux), to tell a reused pid from its owner."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def owner_labels() -> tuple[str, str, str]:
    """(pid, host, pid start) of this process, for container labels that tell a live owner from a dead one."""
    pid = os.getpid()
    return str(pid), socket.gethostname(), _proc_start(pid) or ""


def pid_alive(pid: int, start: str | None = None) -> bool:
    """Whether ``pid`` runs on this host (and, when ``start`` is known, is the same process)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if start is not None:
        now = _proc_start(pid)
        return now is None or now == start
    return True


@dataclass
class LedgerRun:
    """One run's ledger read back: its header and the objects still standing."""

    path: Path
    header: dict[str, Any]
    intents: list[dict[str, Any]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)  # created and not deleted, in order

    @property
    def run_id(self) -> str:
        return str(self.header.get("run", self.path.stem))

    @property
    def age(self) -> float:
        return time.time() - float(self.header.get("started", 0))

    def alive(self) -> bool:
        """The owning process still runs (only knowable on the host that wrote the ledger)."""
        if self.header.get("host") != socket.gethostname():
            return False
        return pid_alive(int(self.header.get("pid", 0)), self.header.get("pid_start"))

    def stale(self, older_than: float) -> bool:
        """Safe to clean: owner dead on this host, or written elsewhere and older than ``older_than``."""
        if self.header.get("host") == socket.gethostname():
            return not self.alive()
        return self.age >= older_than


def _key(record: dict[str, Any]) -> tuple[str, str, str]:
    return (str(record.get("kind")), str(record.get("where")), str(record.get("id")))


def read(path: Path) -> LedgerRun | None:
    """Parse one ledger file (a torn last line is ignored); None when it has no header."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError:
        return None
    records: list[dict[str, Any]] = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    if not records or records[0].get("op") != "run":
        return None
    run = LedgerRun(path, records[0])
    live: dict[tuple[str, str, str], dict[str, Any]] = {}
    for rec in records[1:]:
        op = rec.get("op")
        if op == "intent":
            run.intents.append(rec)
        elif op == "created":
            live[_key(rec)] = rec
        elif op == "deleted":
            live.pop(_key(rec), None)
    run.created = list(live.values())
    return run


def runs(directory: Path | None = None) -> Iterator[LedgerRun]:
    """Every ledger in ``directory`` (default :func:`default_dir`)."""
    d = directory or default_dir()
    if not d.is_dir():
        return
    for path in sorted(d.glob("*" + SUFFIX)):
        run = read(path)
        if run is not None:
            yield run


class RunLedger:
    """The ledger of the run in progress (the owner writes the header; workers append to the same file)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def path_of(run_id: str, directory: Path | None = None) -> Path:
        """Where run ``run_id``'s ledger lives (whether or not it exists)."""
        return (directory or default_dir()) / f"{run_id}{SUFFIX}"

    @classmethod
    def create(cls, run_id: str, target: str, directory: Path | None = None) -> RunLedger:
        path = cls.path_of(run_id, directory)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        ledger = cls(path)
        pid = os.getpid()
        header = {
            "op": "run",
            "run": run_id,
            "pid": pid,
            "pid_start": _proc_start(pid),
            "host": socket.gethostname(),
            "started": time.time(),
            "target": target,
        }
        try:
            ledger._append(header)
        except BaseException:  # an interrupt between the file's creation and its header: nothing to record
            ledger.path.unlink(missing_ok=True)
            raise
        return ledger

    def _append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, sort_keys=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def intent(self, kind: str, where: str, **detail: Any) -> None:
        """Before creating: objects of ``kind`` at ``where`` carrying the run's label/tag are about to exist."""
        self._append({"op": "intent", "kind": kind, "where": where, **detail})

    def created(self, kind: str, where: str, object_id: str, **detail: Any) -> None:
        self._append({"op": "created", "kind": kind, "where": where, "id": object_id, **detail})

    def deleted(self, kind: str, where: str, object_id: str) -> None:
        self._append({"op": "deleted", "kind": kind, "where": where, "id": object_id})

    def side_file(self, name: str) -> Path:
        """A private file next to the ledger (e.g. a DB-less gateway's previous config), removed with it."""
        return self.path.with_name(f"{self.path.stem}.{name}")

    def close(self) -> None:
        """Everything is gone: remove the ledger and its side files."""
        for p in self.path.parent.glob(f"{self.path.stem}.*"):
            p.unlink(missing_ok=True)
