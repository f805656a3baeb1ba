"""The ready-to-copy CI workflows under ``examples/ci/`` (issue 9, Deliver 8), parsed and run.

Structure: the PR job runs the docker target with the user's Kong image and ``KONG_LICENSE_DATA``, the nightly
job runs the konnect target on a schedule; secrets are referenced as secrets (GitHub ``secrets.*`` in ``env:``
only, GitLab masked variables never defined in the file) and never echoed; ``reports/`` is uploaded and
JUnit published whatever the outcome; ``kongformance cleanup`` runs whatever the outcome; actions are pinned.

Commands: the shell lines the jobs run are extracted, and the ``kongformance`` ones run against the emulators:
the nightly job's against ``kongformance serve konnect`` (control surface hidden) with only the settings its
secrets give, once with them (a short ``-k`` subset through pytest's own ``PYTEST_ADDOPTS``; set
``KF_CI_EXAMPLES_SELECT`` to another ``-k`` expression, or to ``all`` for the full nightly run) and once
without them (it must fail closed); the docker job's up to option parsing (no image is ever pulled).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kongformance.cli import COMMANDS, build_parser
from kongformance.konnect.rehearsal import emulated_konnect

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "ci"
PR = EXAMPLES / "github" / "kongformance-pr.yml"
NIGHTLY = EXAMPLES / "github" / "kongformance-nightly.yml"
GITLAB = EXAMPLES / "gitlab-ci.yml"
CLI = [sys.executable, "-m", "kongformance.cli"]
DEFAULT_SELECT = "test_accepts_a_valid_token_and_forwards_it_upstream"
NIGHTLY_SECRETS = {"KONNECT_TOKEN", "KONNECT_CONTROL_PLANE_ID", "KONNECT_PROXY_URL"}
PINNED = {"actions/checkout": "v4", "actions/setup-python": "v5", "actions/upload-artifact": "v4"}
SECRET_EXPR = re.compile(r"\$\{\{\s*secrets\.(\w+)\s*\}\}")
HAS_CLEANUP = "cleanup" in COMMANDS  # `kongformance cleanup` (branch i9-cleanup)


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    on: Any = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as true
    if isinstance(on, dict):
        return on
    return {name: None for name in ([on] if isinstance(on, str) else list(on or []))}


def only_job(workflow: dict[str, Any]) -> dict[str, Any]:
    jobs = workflow["jobs"]
    assert len(jobs) == 1, list(jobs)
    return next(iter(jobs.values()))


def shell_commands(script: str) -> Iterator[str]:
    """The commands of a shell script: continuation lines joined, comments and blank lines dropped."""
    for line in script.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def github_commands(job: dict[str, Any]) -> list[str]:
    return [cmd for step in job["steps"] if "run" in step for cmd in shell_commands(step["run"])]


def gitlab_commands(job: dict[str, Any], *keys: str) -> list[str]:
    return [cmd for key in keys for line in job.get(key, []) for cmd in shell_commands(line)]


def kongformance_commands(commands: list[str]) -> list[str]:
    return [cmd for cmd in commands if cmd.startswith("kongformance ")]


def argv(command: str, env: dict[str, str]) -> list[str]:
    """A ``kongformance ...`` line as the job's shell would run it (``$VAR`` from ``env``)."""
    words = shlex.split(command)
    assert words[0] == "kongformance" and not any(w in command for w in ("|", ";", "&&", ">")), command
    return [re.sub(r"\$(\w+)|\$\{(\w+)\}", lambda m: env[m.group(1) or m.group(2)], w) for w in words[1:]]


def gitlab_job(trigger: str) -> dict[str, Any]:
    jobs = {name: job for name, job in load(GITLAB).items() if isinstance(job, dict) and "script" in job}
    found = [
        job for job in jobs.values() if any(trigger in rule.get("if", "") for rule in job.get("rules", []))
    ]
    assert len(found) == 1, f"one GitLab job runs on {trigger}: {list(jobs)}"
    base = load(GITLAB).get(found[0].get("extends", ""), {})
    return {**base, **found[0]}


# ---- structure ---------------------------------------------------------------------------------------------


def test_the_pr_workflow_runs_on_pull_requests_against_the_users_kong_image_with_its_licence() -> None:
    workflow = load(PR)
    assert "pull_request" in triggers(workflow)
    job = only_job(workflow)
    runs = kongformance_commands(github_commands(job))
    suite = [cmd for cmd in runs if cmd.startswith("kongformance run ")]
    assert len(suite) == 1 and "--target docker" in suite[0] and "--kong-image" in suite[0]
    assert "kong/kong-gateway" in job["env"]["KONG_IMAGE"]
    step = next(s for s in job["steps"] if s.get("run", "").strip().startswith("kongformance run"))
    assert step["env"]["KONG_LICENSE_DATA"] == "${{ secrets.KONG_LICENSE_DATA }}"
    assert job["env"]["KF_PULL_POLICY"] == "never"  # pulls are explicit steps, never the run's


def test_the_nightly_workflow_runs_the_konnect_target_on_a_schedule_with_its_secrets() -> None:
    workflow = load(NIGHTLY)
    on = triggers(workflow)
    assert on["schedule"] and all(len(entry["cron"].split()) == 5 for entry in on["schedule"])
    job = only_job(workflow)
    suite = [
        cmd for cmd in kongformance_commands(github_commands(job)) if cmd.startswith("kongformance run ")
    ]
    assert len(suite) == 1 and "--target konnect" in suite[0]
    secrets = {name: SECRET_EXPR.fullmatch(value) for name, value in job["env"].items()}
    assert {name for name, match in secrets.items() if match and match.group(1) == name} == NIGHTLY_SECRETS
    assert "KONNECT_REGION" in job["env"]


@pytest.mark.parametrize("path", [PR, NIGHTLY], ids=["pr", "nightly"])
def test_a_github_job_uploads_reports_publishes_junit_and_cleans_up_whatever_the_outcome(path: Path) -> None:
    job = only_job(load(path))
    steps = job["steps"]
    upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert len(upload) == 1 and upload[0]["if"] == "always()" and upload[0]["with"]["path"] == "reports/"
    suite = next(s for s in steps if s.get("run", "").strip().startswith("kongformance run"))
    assert "--reports reports" in suite["run"]
    junit = [s for s in steps if "junit" in s.get("uses", "")]
    assert (
        len(junit) == 1
        and junit[0]["if"] == "always()"
        and junit[0]["with"]["report_paths"] == "reports/junit.xml"
    )
    cleanup = [s for s in steps if "kongformance cleanup" in s.get("run", "")]
    assert len(cleanup) == 1 and cleanup[0]["if"] == "always()"
    assert steps.index(cleanup[0]) > steps.index(suite)


@pytest.mark.parametrize("path", [PR, NIGHTLY], ids=["pr", "nightly"])
def test_github_actions_are_pinned_and_secrets_stay_in_env(path: Path) -> None:
    text = path.read_text()
    job = only_job(load(path))
    for step in job["steps"]:
        if "uses" in step:
            name, _, version = step["uses"].partition("@")
            assert re.fullmatch(r"v\d+(\.\d+)*", version), step["uses"]
            assert version == PINNED.get(name, version), step["uses"]
        # a secret interpolated into a script would be part of the script's text (and its logs)
        assert not SECRET_EXPR.search(step.get("run", "")), step
    assert {step["uses"].split("@")[0] for step in job["steps"] if "uses" in step} >= {
        "actions/checkout",
        "actions/setup-python",
    }
    assert not re.search(r"(kpat|spat)_[A-Za-z0-9]|set -x|printenv|^\s*env\s*$", text, re.MULTILINE)
    assert not re.search(r"echo[^\n]*\$\{?(KONNECT_TOKEN|KONG_LICENSE_DATA)", text)


def test_the_gitlab_pipeline_has_both_jobs_with_artifacts_junit_dind_and_cleanup() -> None:
    text = GITLAB.read_text()
    docker, nightly = gitlab_job("merge_request_event"), gitlab_job("schedule")
    assert any("dind" in (s["name"] if isinstance(s, dict) else s) for s in docker["services"])
    assert docker["variables"]["DOCKER_HOST"] == "tcp://docker:2375"
    assert docker["variables"]["KF_PULL_POLICY"] == "never"
    for job, target in ((docker, "docker"), (nightly, "konnect")):
        suite = [c for c in gitlab_commands(job, "script") if c.startswith("kongformance run ")]
        assert len(suite) == 1 and f"--target {target}" in suite[0] and "--reports reports" in suite[0]
        assert job["artifacts"]["when"] == "always" and "reports/" in job["artifacts"]["paths"]
        assert job["artifacts"]["reports"]["junit"] == "reports/junit.xml"
        # after_script runs whether the script passed, failed or was cancelled
        assert any(c.startswith(f"kongformance cleanup --target {target}") for c in job["after_script"])
    # secrets are masked CI/CD variables: never given a value in the file, never echoed
    for job in (docker, nightly):
        assert not {"KONG_LICENSE_DATA", *NIGHTLY_SECRETS} & set(job.get("variables", {}))
    assert not re.search(
        r"(kpat|spat)_[A-Za-z0-9]|set -x|printenv|echo[^\n]*\$\{?(KONNECT_TOKEN|KONG_LICENSE_DATA)", text
    )


def test_gitlab_and_github_run_the_same_kongformance_commands() -> None:
    pairs = ((PR, "merge_request_event"), (NIGHTLY, "schedule"))
    for path, trigger in pairs:
        job = gitlab_job(trigger)
        gitlab = kongformance_commands(gitlab_commands(job, "script", "after_script"))
        assert gitlab == kongformance_commands(github_commands(only_job(load(path))))


# ---- the commands, run -------------------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    """This process's environment without pytest's or any Konnect settings: what a fresh CI job has."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KONNECT_", "KF_", "COV_"))}


def _workspace(tmp_path: Path) -> Path:
    """A checkout-like directory (suites, fixtures, conftest, pyproject) whose reports/ is the test's own."""
    for name in ("suites", "fixtures", "conftest.py", "pyproject.toml"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def _run(
    command: list[str], env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *command], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_the_nightly_commands_fail_closed_in_one_line_per_setting_when_the_secrets_are_not_set(
    tmp_path: Path,
) -> None:
    job = only_job(load(NIGHTLY))
    env = {**_clean_env(), "KONNECT_REGION": "us"}
    suite = next(c for c in kongformance_commands(github_commands(job)) if c.startswith("kongformance run "))
    out = _run(argv(suite, env), env, _workspace(tmp_path), timeout=300)
    text = out.stdout + out.stderr
    assert out.returncode == 3, text[-2000:]
    assert "Traceback" not in text
    for name in NIGHTLY_SECRETS:  # one line naming each setting the job's secrets should have given
        assert any(line.strip().startswith(f"{name}: missing") for line in text.splitlines()), text[-2000:]


def test_the_nightly_commands_pass_against_the_konnect_emulator_and_write_the_uploaded_reports(
    tmp_path: Path,
) -> None:
    job = only_job(load(NIGHTLY))
    commands = kongformance_commands(github_commands(job))
    select = os.environ.get("KF_CI_EXAMPLES_SELECT", DEFAULT_SELECT)
    workspace = _workspace(tmp_path)
    with emulated_konnect() as konnect:
        # only what the job's secrets give, plus the API URL that points the run at the emulator
        env = {**_clean_env(), **{k: v for k, v in konnect.items() if k in NIGHTLY_SECRETS}}
        env |= {"KONNECT_REGION": "us", "KONNECT_API_URL": konnect["KONNECT_API_URL"]}
        env["KONNECT_UPSTREAM_URL"] = konnect["KONNECT_UPSTREAM_URL"]  # a real control plane has httpbin
        env["KF_LEDGER_DIR"] = str(tmp_path / "ledger")
        if select != "all":
            env["PYTEST_ADDOPTS"] = f"-k {select}"
        for command in commands:
            words = argv(command, env)
            if words[0] == "cleanup" and not HAS_CLEANUP:
                continue  # checked by the next test once `kongformance cleanup` exists
            out = _run(words, env, workspace, timeout=1800)
            text = out.stdout + out.stderr
            assert out.returncode == 0, f"{command}: {text[-3000:]}"
            assert "Traceback" not in text and konnect["KONNECT_TOKEN"] not in text
    reports = workspace / "reports"
    for name in ("compliance.html", "junit.xml", "allure-results"):
        assert (reports / name).exists(), sorted(p.name for p in reports.iterdir())
    junit = (reports / "junit.xml").read_text()
    assert 'tests="0"' not in junit and "<failure" not in junit and "<error" not in junit


@pytest.mark.skipif(not HAS_CLEANUP, reason="`kongformance cleanup` is not on this build (branch i9-cleanup)")
def test_the_cleanup_commands_parse_and_name_their_target() -> None:
    parser = build_parser()
    for path in (PR, NIGHTLY):
        for command in kongformance_commands(github_commands(only_job(load(path)))):
            if command.startswith("kongformance cleanup"):
                args = parser.parse_args(argv(command, {}))
                targets = args.target if isinstance(args.target, list) else [args.target]
                assert targets in (["docker"], ["konnect"]), command


def _run_knows(option: str) -> bool:
    """Whether ``kongformance run`` on this build accepts ``option VALUE``."""
    try:
        build_parser().parse_args(["run", option, "x"])
    except SystemExit:
        return False
    return True


@pytest.mark.skipif(
    not _run_knows("--kong-image"),
    reason="`kongformance run --kong-image` is not on this build (branch i13-docker)",
)
def test_the_pr_job_commands_parse_with_the_users_image_and_never_pull() -> None:
    job = only_job(load(PR))
    env = {"KONG_IMAGE": job["env"]["KONG_IMAGE"].split("'")[1]}
    suite = next(c for c in kongformance_commands(github_commands(job)) if c.startswith("kongformance run "))
    args = build_parser().parse_args(argv(suite, env))
    assert args.target == "docker" and args.kong_image == "kong/kong-gateway:3.15" and args.workers == "auto"
    pulls = [c for c in github_commands(job) if c.startswith("docker pull")]
    assert pulls == ['docker pull "$KONG_IMAGE"', 'docker pull "$KF_POSTGRES_IMAGE"']  # explicit, in the job
