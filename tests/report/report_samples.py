"""A small but real run for the report tests: pytest runs a sample suite in a subprocess and writes JUnit
XML and allure results exactly as a conformance run does (requirement properties and labels, deviation
properties); the coverage JSON is written by the suite machinery's own ``Coverage`` class.

The sample's failure messages, skip reasons and test parameters carry secrets, so the tests can check that
none of them reaches the report.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from kongformance.deviations import Deviation, DeviationRegistry
from kongformance.requirements import Catalogue, Coverage, parse_catalogue
from kongformance.sources import Source

# Secrets planted in the sample run; none may appear in a report.
JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0."
    "eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwic3ViIjoiY2xpZW50LTEifQ."
    "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1ub3QtcmVhbA"
)
CLIENT_SECRET = "q7vx2m9kd0s4hz1pw8tn5ryb"
KPAT = (
    "kpat_" + "8Hq2LmZx0vTbN4cW7yRk1pJsD3fG5aE"
)  # a made-up token, assembled so no scanner takes it for a real one
BASIC = base64.b64encode(b"client-1:" + CLIENT_SECRET.encode()).decode()
SECRETS = (JWT, CLIENT_SECRET, KPAT, BASIC, JWT.split(".")[2])

CATALOGUE_DOC = {
    "requirements": [
        {
            "id": "R-MUST-pass",
            "statement": "A valid token passes.",
            "source": [
                {"title": "RFC 6750 §2.1", "url": "https://www.rfc-editor.org/rfc/rfc6750#section-2.1"}
            ],
            "level": "MUST",
            "flows": ["oidc-bearer"],
        },
        {
            "id": "R-MUST-fail",
            "statement": "An expired token is refused.",
            "source": [
                {"title": "RFC 6750 3.1", "url": "https://www.rfc-editor.org/rfc/rfc6750#section-3.1"}
            ],
            "level": "MUST",
            "flows": ["oidc-bearer"],
        },
        {
            "id": "R-SHOULD-fail",
            "statement": "Secret in the form body is accepted.",
            "source": [
                {"title": "RFC 6749 §2.3.1", "url": "https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1"}
            ],
            "level": "SHOULD",
            "flows": ["issuer"],
        },
        {
            "id": "R-KONG-error",
            "statement": "upstream-oauth caches the token.",
            "source": [
                {
                    "title": "Kong docs: upstream-oauth, caching",
                    "url": "https://developer.konghq.com/plugins/upstream-oauth/#caching",
                }
            ],
            "level": "KONG",
            "flows": ["upstream-oauth"],
        },
        {
            "id": "R-skip",
            "statement": "The jwt plugin refuses a missing token.",
            "source": [
                {"title": "Kong docs: JWT plugin", "url": "https://developer.konghq.com/plugins/jwt/"}
            ],
            "level": "MUST",
            "flows": ["jwt"],
        },
        {
            "id": "R-xfail",
            "statement": "The jwt plugin sends a challenge.",
            "source": [{"title": "RFC 6750 §3", "url": "https://www.rfc-editor.org/rfc/rfc6750#section-3"}],
            "level": "SHOULD",
            "flows": ["jwt"],
        },
        {
            "id": "R-dev",
            "statement": "No error code without a token.",
            "source": [
                {"title": "RFC 6750 3.1", "url": "https://www.rfc-editor.org/rfc/rfc6750#section-3.1"}
            ],
            "level": "SHOULD",
            "flows": ["oidc-bearer"],
        },
        {
            "id": "R-dev-other",
            "statement": "The 401 body is Kong's.",
            "source": [
                {
                    "title": "Kong docs: openid-connect, JWT access token authentication",
                    "url": "https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow",
                }
            ],
            "level": "KONG",
            "flows": ["oidc-bearer"],
        },
        {
            "id": "R-uncovered",
            "statement": "The oauth2 token endpoint needs HTTPS.",
            "source": [
                {
                    "title": "Kong source 3.9.1: kong/plugins/oauth2/access.lua",
                    "url": "https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua",
                }
            ],
            "level": "MUST",
            "flows": ["oauth2", "all"],
        },
    ]
}

REGISTRY = DeviationRegistry(
    [
        Deviation(
            "dev-recorded",
            "R-dev",
            ("oidc-bearer",),
            ">=3.0",
            "sends invalid_token without a token",
            (Source("Kong docs: openid-connect", "https://developer.konghq.com/plugins/openid-connect/"),),
        )
    ]
)

SAMPLE_CONFTEST = """
import pytest

def pytest_configure(config):
    config.addinivalue_line("markers", "req(*ids): requirement ids")

def pytest_collection_modifyitems(items):
    # the same properties and labels kongformance.pytest_plugin attaches to a suite test
    for item in items:
        ids = [a for m in item.iter_markers("req") for a in m.args]
        for rid in ids:
            item.user_properties.append(("requirement", rid))
        item.add_marker(pytest.mark.allure_label(*ids, label_type="requirement"))
"""

SAMPLE_SUITE = f'''
import pytest

JWT = "{JWT}"
SECRET = "{CLIENT_SECRET}"
KPAT = "{KPAT}"
BASIC = "{BASIC}"

@pytest.fixture
def broken_issuer():
    raise RuntimeError("issuer down; sent client_secret=" + SECRET)

@pytest.mark.req("R-MUST-pass")
def test_accepts_a_valid_token():
    assert True

@pytest.mark.req("R-MUST-fail")
def test_refuses_an_expired_token():
    headers = {{"Authorization": "Bearer " + JWT}}
    assert 200 == 401, f"expected 401 for {{headers}}"

@pytest.mark.req("R-SHOULD-fail")
def test_accepts_secret_in_the_body():
    body = "grant_type=client_credentials&client_id=c1&client_secret=" + SECRET
    raise AssertionError("Authorization: Basic " + BASIC + " then " + body + " with " + KPAT)

@pytest.mark.req("R-KONG-error")
def test_caches_the_token(broken_issuer):
    pass

@pytest.mark.req("R-skip")
def test_jwt_refuses_a_missing_token():
    pytest.skip("needs a consumer; admin token " + KPAT)

@pytest.mark.req("R-xfail")
@pytest.mark.xfail(reason="jwt challenge not implemented", strict=True)
def test_jwt_sends_a_challenge():
    assert False

@pytest.mark.req("R-dev", "R-dev-other")
def test_no_error_code_without_a_token(request):
    request.node.user_properties.append(("deviation", "dev-recorded"))

@pytest.mark.req("R-MUST-pass")
@pytest.mark.parametrize("token", [JWT], ids=[JWT])
def test_token_as_parameter(token):
    assert token
'''


@dataclass
class SampleRun:
    reports: Path
    catalogue: Catalogue


def write_sample_run(
    tmp: Path, *, allure: bool = True, junit: bool = True, coverage: bool = True
) -> SampleRun:
    """Run the sample suite under pytest and write its results to ``tmp/reports``."""
    suite = tmp / "sample"
    suite.mkdir()
    (suite / "conftest.py").write_text(SAMPLE_CONFTEST, "utf-8")
    (suite / "test_sample.py").write_text(SAMPLE_SUITE, "utf-8")
    reports = tmp / "reports"
    reports.mkdir()
    junit_path = reports / "junit.xml" if junit else tmp / "junit.xml"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(suite),
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit_path}",
    ]
    if allure:
        cmd.append(f"--alluredir={reports / 'allure-results'}")
    subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=120, check=False)
    catalogue = parse_catalogue(CATALOGUE_DOC)
    if coverage:
        coverage_from_junit(junit_path, catalogue).write(reports / "requirements-coverage.json")
    return SampleRun(reports, catalogue)


def coverage_from_junit(junit: Path, catalogue: Catalogue) -> Coverage:
    """The coverage the suite machinery records for the run in ``junit`` (outcomes as pytest reports them)."""
    cov = Coverage(catalogue)
    for case in ET.parse(junit).getroot().iter("testcase"):
        props = case.findall("properties/property")
        ids = [p.get("value", "") for p in props if p.get("name") == "requirement"]
        devs = [p.get("value", "") for p in props if p.get("name") == "deviation"]
        module = case.get("classname", "").replace(".", "/")
        nodeid = f"{module}.py::{case.get('name')}"
        outcome = "passed"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        cov.add_collected(nodeid, ids)
        cov.add_outcome(nodeid, ids, outcome, devs)
    return cov
