"""One load generator for every benchmark: wrk (Debian) with bench/wrk_form_post.lua, or bench/loadgen.py
in its own process when wrk is missing. Both report requests, errors and p50/p99 latency."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class LoadResult:
    generator: str
    requests: int
    non2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (
            f"{self.per_second:8.0f} req/s  p50 {self.p50_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms  "
            f"({self.requests} requests, {self.non2xx} non-2xx, {self.socket_errors} socket errors, {self.generator})"
        )


def generator_name() -> str:
    return "wrk" if shutil.which("wrk") and not os.environ.get("KF_BENCH_NO_WRK") else "loadgen.py"


def drive(
    url: str,
    *,
    method: str = "GET",
    body: str = "",
    content_type: str = "",
    authorization: str = "",
    connections: int = 16,
    threads: int = 1,
    seconds: float = 10.0,
) -> LoadResult:
    """Load ``url`` for ``seconds`` (wrk counts whole seconds, at least one)."""
    if generator_name() == "wrk":
        env = dict(
            os.environ,
            KF_METHOD=method,
            KF_BODY=body,
            KF_CONTENT_TYPE=content_type,
            KF_AUTHORIZATION=authorization,
        )
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--timeout", "30s"]
        out = subprocess.run(
            [*cmd, "-s", str(HERE / "wrk_form_post.lua"), url],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        m = re.search(r"KF_RESULT (.*)", out)
        if not m:
            raise RuntimeError(f"wrk printed no result:\n{out}")
        raw = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
        gen = f"wrk -t{threads} -c{connections}"
    else:
        headers = []
        if content_type:
            headers += ["--header", f"content-type:{content_type}"]
        if authorization:
            headers += ["--header", f"authorization:{authorization}"]
        cmd = [sys.executable, str(HERE / "loadgen.py"), url, "--method", method, "--body", body, *headers]
        cmd += ["--connections", str(connections), "--seconds", str(seconds)]
        raw = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        gen = f"loadgen.py -c{connections}"
    return LoadResult(
        generator=gen,
        requests=raw["requests"],
        non2xx=raw["non2xx"],
        socket_errors=raw["socket_errors"],
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        seconds=raw["duration_us"] / 1e6,
    )
