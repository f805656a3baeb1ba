"""Bad input to the CLI and the Makefile gets one line naming the bad value and exit 2, before any server
starts or any test runs; servers print their real ports, leave no TLS key behind on SIGTERM, and in-process
servers log no per-request warnings (issue 12 Deliver 5)."""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kongformance.serving import start_in_thread

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "kongformance.cli"]


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def assert_one_line_error(done: subprocess.CompletedProcess[str], *names: str) -> str:
    """Exit 2, nothing on stdout, one stderr line naming every ``names``, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stdout[-500:], done.stderr[-500:])
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for name in names:
        assert name in lines[0]
    return lines[0]


@pytest.mark.parametrize(("value", "shown"), [("abc", "'abc'"), ("9.9", "9.9")])
def test_run_refuses_a_kong_version_it_does_not_model(value: str, shown: str) -> None:
    """`run --kong-version abc` used to give 892 errors; `9.9` was reported as "Kong 9.9"."""
    line = assert_one_line_error(cli("run", "--kong-version", value), shown)
    assert "--kong-version" in line


@pytest.mark.parametrize(("args", "shown"), [(["-n", "abc"], "'abc'"), (["-n", "-1"], "'-1'")])
def test_run_refuses_a_worker_count_xdist_cannot_take(args: list[str], shown: str) -> None:
    """`run -n abc` used to reach pytest and end with pytest's usage text and exit 4."""
    assert "--workers" in assert_one_line_error(cli("run", *args), shown)


@pytest.mark.parametrize("value", ["0", "two"])
def test_run_mutation_refuses_a_job_count_below_one(value: str) -> None:
    assert "--jobs" in assert_one_line_error(cli("run", "--mutation", "--jobs", value), f"'{value}'")


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_run_refuses_a_reports_directory_it_cannot_create(tmp_path: Path, where: str) -> None:
    """`run --reports <a file>` used to end in an INTERNALERROR traceback from the plugin's mkdir."""
    (tmp_path / "afile").write_text("")
    target = tmp_path / "afile" if where == "a file" else tmp_path / "afile" / "reports"
    assert_one_line_error(cli("run", "--reports", str(target)), "cannot write reports", str(target))


def test_plain_pytest_refuses_a_reports_directory_it_cannot_create(tmp_path: Path) -> None:
    """The same through the pytest plugin (``pytest --kf-reports``): a usage error naming it, no traceback."""
    (tmp_path / "afile").write_text("")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites",
            "-p",
            "no:cacheprovider",
            "--kf-reports",
            str(tmp_path / "afile"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 4, done.stderr[-500:]
    assert "INTERNALERROR" not in done.stdout + done.stderr
    assert f"cannot write reports to {tmp_path / 'afile'}" in done.stderr


def test_serve_identity_refuses_a_port_out_of_range() -> None:
    assert_one_line_error(cli("serve", "identity", "--port", "99999"), "99999")


def test_run_mutation_refuses_an_unknown_defect() -> None:
    assert_one_line_error(cli("run", "--mutation", "--defect", "bogus"), "'bogus'")


def test_run_refuses_defect_without_mutation() -> None:
    assert_one_line_error(cli("run", "--defect", "oauth2_accept_expired_token"), "--defect", "--mutation")


def test_config_refuses_an_issuer_that_is_not_a_url() -> None:
    assert_one_line_error(cli("config", "--issuer", "not-a-url"), "'not-a-url'")


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something else listens on."""
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        yield int(blocker.getsockname()[1])


@pytest.mark.parametrize("component", ["gateway", "upstream"])
def test_serve_on_a_busy_port_names_the_port_and_prints_no_url(component: str, busy_port: int) -> None:
    if component == "gateway":
        args = ["--admin-port", str(busy_port), "--proxy-port", "0", "--proxy-ssl-port", "0"]
    else:
        args = ["--port", str(busy_port)]
    assert_one_line_error(cli("serve", component, *args), f"127.0.0.1:{busy_port}", "in use")


def test_serve_stack_on_a_busy_port_names_the_port_and_prints_no_url() -> None:
    """`serve stack` uses Kong's fixed ports: keep one of them busy (or find it busy already)."""
    blocker = socket.socket()
    try:
        try:
            blocker.bind(("127.0.0.1", 8300))
            blocker.listen()
        except OSError:
            pass  # someone already listens there: busy all the same
        line = assert_one_line_error(cli("serve", "stack"), "in use")
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        assert match is not None, line
        with socket.socket() as probe, pytest.raises(OSError):
            probe.bind(("127.0.0.1", int(match.group(1))))
    finally:
        blocker.close()


def _read_urls(proc: subprocess.Popen[str], count: int) -> list[str]:
    assert proc.stdout is not None
    return [proc.stdout.readline().split()[-1] for _ in range(count)]


def test_serve_gateway_with_port_0_prints_the_ports_it_bound() -> None:
    proc = subprocess.Popen(
        [*CLI, "serve", "gateway", "--admin-port", "0", "--proxy-port", "0", "--proxy-ssl-port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        admin, proxy, proxy_ssl = _read_urls(proc, 3)
        for url in (admin, proxy, proxy_ssl):
            assert not url.endswith(":0"), url
        with httpx.Client(verify=False, timeout=5) as http:
            assert http.get(admin + "/").status_code == 200
            assert http.get(proxy_ssl + "/nowhere").status_code == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        if proc.stdout is not None:
            proc.stdout.close()  # the pipe (else ResourceWarning)


def test_sigterm_on_serve_stack_leaves_no_tls_key(tmp_path: Path) -> None:
    """The gateway's self-signed key lives in a temporary directory; SIGTERM must remove it as Ctrl-C does."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [*CLI, "serve", "stack", "--random-ports"], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env
    )
    try:
        urls = dict(line.split() for line in _lines_until_serving(proc))
        with httpx.Client(verify=False, timeout=5) as http:  # the HTTPS listener made the key
            assert http.get(urls["proxy_ssl"] + "/nowhere").status_code == 404
        assert list(tmp_path.glob("kongformance-gateway-tls-*"))
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(15)
        if proc.stdout is not None:
            proc.stdout.close()  # the pipe (else ResourceWarning)
    assert code == 128 + signal.SIGTERM
    assert not list(tmp_path.glob("kongformance-gateway-tls-*"))


def _lines_until_serving(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        if line.startswith("serving"):
            return lines
        lines.append(line)
    raise AssertionError(f"serve stack ended early: {lines}")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_refuses_a_python_older_than_3_11_before_anything_else(tmp_path: Path) -> None:
    fake = tmp_path / "python3.10"
    fake.write_text('#!/bin/sh\n[ "$1" = "-c" ] && case "$2" in *print*) echo 3.10;; *) exit 1;; esac\n')
    fake.chmod(0o755)
    venv = tmp_path / "venv"
    done = subprocess.run(
        ["make", "-s", "setup", f"PYTHON={fake}", f"VENV={venv}"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 2
    assert "Python >= 3.11" in done.stderr and "3.10" in done.stderr
    assert not venv.exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_rebuilds_a_venv_made_by_another_python(tmp_path: Path) -> None:
    """A .venv whose python is another version (here a stub saying 3.10) is removed and made again."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    stub = venv / "bin" / "python"
    stub.write_text("#!/bin/sh\necho 3.10\n")
    stub.chmod(0o755)
    done = subprocess.run(
        ["make", "-s", "setup", f"PYTHON={sys.executable}", f"VENV={venv}", "PIP_INSTALL=true"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "made by another Python" in done.stderr
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert version == f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_in_process_servers_log_no_warning_for_an_invalid_request() -> None:
    """The suites send malformed requests on purpose; uvicorn's "Invalid HTTP request received" warning must
    not clutter a passing run."""

    async def app(scope: dict[str, object], receive: object, send: object) -> None:  # pragma: no cover
        raise AssertionError("never reached by an invalid request")

    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.WARNING)
    logging.getLogger("uvicorn.error").addHandler(handler)
    server = start_in_thread(app)
    try:
        with socket.create_connection((server.host, server.port), timeout=5) as conn:
            conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            conn.settimeout(5)
            answer = conn.recv(1024)  # uvicorn logs before it answers 400 and closes
        assert answer.startswith(b"HTTP/1.1 400")
    finally:
        server.stop()
        logging.getLogger("uvicorn.error").removeHandler(handler)
    assert not [r for r in records if "Invalid HTTP request" in r.getMessage()]


def test_serve_upstream_prints_its_real_port() -> None:
    proc = subprocess.Popen(
        [*CLI, "serve", "upstream", "--port", "0"], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        (url,) = _read_urls(proc, 1)
        assert not url.endswith(":0")
        assert httpx.get(url + "/anything", timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        if proc.stdout is not None:
            proc.stdout.close()  # the pipe (else ResourceWarning)
