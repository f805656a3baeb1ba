"""The nightly Konnect run, rehearsed end to end in the test command (issue 9, Deliver 2).

`kongformance serve konnect` and an echo upstream run as child processes with their control surfaces hidden
(every /_emulator path answers 404, as on Konnect and httpbin); `kongformance run --target konnect -n auto`
runs the whole suite against them with only the KONNECT_* settings a user would set. The run must be green
(no failure, no error), must have checked something, and every skip must say which capability it lacks.
The wall time is measured by bench/konnect_rehearsal.py, never here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kongformance.konnect.rehearsal import rehearse

# What a skip must name: a capability the konnect target lacks (virtual clock, the emulators' control
# surfaces, the upstream's request log, a database) or a profile route / Kong version it does not have.
CAPABILITY = re.compile(
    r"virtual.clock|control surface|issuer_control|upstream.log|request log|database|\bdb\b"
    r"|not part of this run's profile|credential|Kong \d|\b3\.\d+\b",
    re.IGNORECASE,
)


# Failures owned by other work of issue 9, tolerated here until it lands (then remove the entry: the test
# must then pass outright). Deliver 5: these tests read the echo upstream's /_emulator/requests, which a
# real upstream (httpbin) does not have; they must read the echoed request from the response body instead.
PENDING = {
    "suites.test_upstream_oauth::": "issue 9 Deliver 5 (read what reached the upstream from the echoed body)",
}


def test_the_konnect_target_passes_against_the_konnect_emulator_with_its_control_surface_hidden(
    tmp_path: Path,
) -> None:
    outcome = rehearse(tmp_path / "reports", workers="auto")
    assert outcome.tests > 0, outcome.output[-2000:]
    unexpected = [f for f in outcome.failures if not f.startswith(tuple(PENDING))]
    assert unexpected == [], "\n".join(unexpected) + "\n" + outcome.output[-3000:]
    assert outcome.passed > 0
    unexplained = {test: reason for test, reason in outcome.skips.items() if not CAPABILITY.search(reason)}
    assert unexplained == {}
    assert outcome.api_requests and outcome.api_requests > 0  # the run went through the Konnect API
    if outcome.failures:
        owners = sorted(
            {why for prefix, why in PENDING.items() for f in outcome.failures if f.startswith(prefix)}
        )
        pytest.xfail(f"{len(outcome.failures)} failures pending elsewhere: {'; '.join(owners)}")
    assert outcome.returncode == 0, outcome.output[-3000:]
