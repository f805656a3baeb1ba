"""Fixtures of the Kong spec replay: a local stack per modelled Kong version, and an Admin/proxy client pair.

Each test file here replays one of Kong's public busted spec files (spec/03-plugins/<nn>-<plugin>/ at the tag
in :data:`tests.kong_specs.cite.TAG`) over HTTP: it builds through our Admin API what the spec's ``setup``
builds, sends the spec's requests to the proxy and asserts the spec's status, body and headers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.kong_specs import jwt_access
from tests.kong_specs import oauth2_access as oauth2_access_setup
from tests.kong_specs.kong import Kong, kong_at

# the versions the reference gateway models where Kong's jwt/oauth2 behaviour differs (docs/fidelity.md)
VERSIONS = ("3.9", "3.15")


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"kong{v}")
def kong(request: pytest.FixtureRequest) -> Iterator[Kong]:
    yield from kong_at(str(request.param))


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"kong{v}")
def oauth2_access(request: pytest.FixtureRequest) -> Iterator[Kong]:
    """The oauth2 access spec's Kong (trusted_ips 127.0.0.1, as its start_kong) with the spec's set-up."""
    for kong in kong_at(str(request.param), trusted_ips=["127.0.0.1"]):
        yield oauth2_access_setup.build(kong)


@pytest.fixture(scope="module")
def setup(kong: Kong) -> jwt_access.Setup:
    """The jwt access spec's lazy_setup on ``kong`` (tests/kong_specs/jwt_access.py)."""
    return jwt_access.build(kong)
