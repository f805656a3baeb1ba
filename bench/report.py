"""Report benchmark: render time and size of compliance.html for a 900-test run with failure evidence.

Issue 11's targets: <= 2 s and <= 1 MB. The run is synthetic but shaped like a real one: the shipped
catalogue, 900 tests spread over its requirements (about 5% failing, each with three recorded exchanges
of 1.5 KB bodies and a decoded token, as report/evidence.py records them), deviations on some passes.

    .venv/bin/python bench/report.py [--quick] [--tests 900] [--failing 45] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time

from kongformance.report.assemble import _report, _shipped_registry
from kongformance.report.model import RunInfo, TestResult
from kongformance.report.render import render_html
from kongformance.requirements import load_catalogue

TARGET_SECONDS, TARGET_BYTES = 2.0, 1_000_000


def _exchange(n: int) -> dict[str, object]:
    body = json.dumps(
        {"args": {}, "headers": {"Authorization": "Bearer [redacted 0a1b2c3d]", "X-Kf-Probe": str(n)}}
    )
    return {
        "method": "GET",
        "url": f"https://127.0.0.1:8443/oidc-bearer/anything?probe={n}",
        "request_headers": {"host": "127.0.0.1:8443", "authorization": "Bearer [redacted 0a1b2c3d]"},
        "request_body": "",
        "tokens": [
            {
                "token": "[redacted 0a1b2c3d]",
                "header": {"alg": "RS256", "kid": "k1", "typ": "at+jwt"},
                "claims": {"iss": "https://issuer.example/auth", "sub": "c1", "exp": 1, "scope": "read"},
            }
        ],
        "status": 200,
        "response_headers": {"content-type": "application/json", "via": "1.1 kong/3.15.0.0"},
        "response_body": (body * 20)[:1500],
    }


def synthetic_tests(n_tests: int, n_failing: int) -> list[TestResult]:
    catalogue = load_catalogue()
    ids = list(catalogue.requirements)
    tests = []
    for n in range(n_tests):
        reqs = (ids[n % len(ids)], ids[(n * 7) % len(ids)])
        failing = (
            n % max(1, n_tests // max(1, n_failing)) == 0 and n // max(1, n_tests // n_failing) < n_failing
        )
        evidence = None
        if failing:
            evidence = {
                "when": "call",
                "requirements": [
                    {"id": r, "level": catalogue[r].level, "statement": catalogue[r].statement} for r in reqs
                ],
                "failure": "AssertionError: expected (401,), got 200",
                "defects": ["oidc_accept_expired_token"],
                "exchanges": [_exchange(n * 3 + k) for k in range(3)],
            }
        tests.append(
            TestResult(
                nodeid=f"suites/test_bench_{n % 23}.py::test_requirement_holds[variant-{n}]",
                outcome="failed" if failing else "passed",
                requirements=reqs,
                message="AssertionError: expected (401,), got 200" if failing else "",
                details=("Traceback line\n" * 40) if failing else "",
                duration=0.01,
                evidence=evidence,
            )
        )
    return tests


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tests", type=int, default=900)
    p.add_argument("--failing", type=int, default=45)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="one render (proves it runs)")
    args = p.parse_args()
    if args.quick:
        args.repeat = 1
    tests = synthetic_tests(args.tests, args.failing)
    run = RunInfo(target="local", kong_version="3.15", run_id="bench", sources=("synthetic",))
    best = float("inf")
    page = ""
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = _report(load_catalogue(), tests, run, _shipped_registry())
        page = render_html(report, "bench")
        best = min(best, time.perf_counter() - start)
    size = len(page.encode("utf-8"))
    failing = sum(1 for t in tests if t.failing)
    print(f"tests {len(tests)}, failing with evidence {failing}")
    print(
        f"render (assemble + HTML), best of {args.repeat}: {best:.3f} s (target <= {TARGET_SECONDS} s, ratio {best / TARGET_SECONDS:.2f})"
    )
    print(f"size: {size / 1e6:.3f} MB (target <= 1 MB, ratio {size / TARGET_BYTES:.2f})")
    return 0 if best <= TARGET_SECONDS and size <= TARGET_BYTES else 1


if __name__ == "__main__":
    raise SystemExit(main())
