"""Go's own text/template + Sprig as a test oracle for the claim-template engine.

Builds tools/go-template-oracle (Go source in this repository) into .build/go-template-oracle
with Debian's golang-go and golang-github-masterminds-sprig-dev, then runs it as one
long-lived subprocess speaking JSON lines. Used only by tests; the emulator never needs Go.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTALL_HINT = "apt-get install golang-go golang-github-masterminds-sprig-dev"
DEBIAN_GOPATH = Path("/usr/share/gocode")
SPRIG_SOURCE = DEBIAN_GOPATH / "src/github.com/Masterminds/sprig"
REPO_ROOT = Path(__file__).resolve().parents[4]
SOURCE_DIR = REPO_ROOT / "tools" / "go-template-oracle"
BINARY = REPO_ROOT / ".build" / "go-template-oracle"
RESPONSE_TIMEOUT_S = 10.0


class OracleUnavailable(RuntimeError):
    """The Go oracle cannot be built or started here; the message says why and how to fix it."""


@dataclass(frozen=True, slots=True)
class OracleResult:
    """What Go's engine made of one template: ok and the raw rendered text, or the error."""

    ok: bool
    output: str
    error: str


def build_oracle(binary: Path = BINARY) -> Path:
    """Build the oracle binary if it is missing or older than its source; return its path."""
    source = SOURCE_DIR / "main.go"
    if not source.is_file():
        raise OracleUnavailable(f"oracle source {source} is missing (not a source checkout?)")
    if binary.is_file() and binary.stat().st_mtime >= source.stat().st_mtime:
        return binary
    go = shutil.which("go")
    if go is None:
        raise OracleUnavailable(f"`go` is not on PATH; install Go and Sprig with: {INSTALL_HINT}")
    if not SPRIG_SOURCE.is_dir():
        raise OracleUnavailable(f"Sprig sources not found at {SPRIG_SOURCE}; install with: {INSTALL_HINT}")
    binary.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(DEBIAN_GOPATH),
        "GOCACHE": str(binary.parent / "gocache"),
        "GOFLAGS": "",
    }
    with tempfile.TemporaryDirectory(dir=binary.parent) as scratch:
        built = Path(scratch) / binary.name
        run = subprocess.run(
            [go, "build", "-o", str(built), "."],
            cwd=SOURCE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if run.returncode != 0:
            raise OracleUnavailable(f"building the Go oracle failed ({INSTALL_HINT}?):\n{run.stderr}")
        os.replace(built, binary)  # atomic, so parallel test workers never see half a binary
    return binary


class GoTemplateOracle:
    """A running oracle process; `render` is thread-safe. Use as a context manager or close()."""

    def __init__(self, binary: Path | None = None) -> None:
        self._binary = binary or build_oracle()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [str(self._binary)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "TZ": "UTC"},
            )
        return self._process

    def render(self, template: str, context: Mapping[str, Any], *, now: float) -> OracleResult:
        """Render `template` with Go's engine; a hung or crashed oracle is restarted and reported."""
        line = json.dumps({"template": template, "context": context, "now": now}) + "\n"
        with self._lock:
            process = self._started()
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(line.encode())
                process.stdin.flush()
                ready, _, _ = select.select([process.stdout], [], [], RESPONSE_TIMEOUT_S)
                reply = process.stdout.readline() if ready else b""
            except BrokenPipeError:
                reply = b""
            if not reply:
                self._kill()
                return OracleResult(ok=False, output="", error="oracle timed out or crashed")
        decoded = json.loads(reply)
        return OracleResult(ok=bool(decoded["ok"]), output=decoded["output"], error=decoded.get("error", ""))

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            for pipe in (self._process.stdin, self._process.stdout):
                if pipe is not None:
                    pipe.close()
            self._process = None

    def close(self) -> None:
        """Stop the oracle process."""
        with self._lock:
            if self._process is not None and self._process.stdin is not None:
                self._process.stdin.close()
            self._kill()

    def __enter__(self) -> GoTemplateOracle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
