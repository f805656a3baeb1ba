"""``serve identity --workers 2``: one consistent emulator as clients see it, whichever process answers.

Requirements: issue 2 (Targets: "use both: several workers"), kong-identity.md B.3/B.4 (token endpoint and
token shape), B.7/B.8 (introspection, revocation), the emulator's control API (clock, faults, request log).
Every token request goes over a fresh connection, so the kernel spreads them over both processes; tests
check that the worker really answered some (its CPU time grows).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from tests.identity_workers.conftest import MGMT, Emulator

ROUNDS = 24


def token_path(server: dict[str, Any]) -> str:
    return urlsplit(server["issuer"]).path + "/oauth/token"


def token_calls(
    emulator: Emulator, server: dict[str, Any], client: dict[str, Any], n: int = ROUNDS
) -> list[tuple[int, Any]]:
    """``n`` token requests (client_secret_post), taking turns over one connection to each process."""
    form = {
        "grant_type": "client_credentials",
        "client_id": client["id"],
        "client_secret": client["client_secret"],
    }
    connections = list(emulator.connections().values())
    return [connections[i % len(connections)].request("POST", token_path(server), form) for i in range(n)]


def tokens(emulator: Emulator, server: dict[str, Any], client: dict[str, Any], n: int = ROUNDS) -> list[str]:
    """``n`` access tokens, issued in turn by every process."""
    answers = token_calls(emulator, server, client, n)
    assert all(status == 200 for status, _ in answers), answers
    return [body["access_token"] for _, body in answers]


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_worker_processes_run_beside_the_primary(emulator: Emulator) -> None:
    """issue 2 Targets: --workers 2 starts one worker process next to the primary, and both accept."""
    assert len(emulator.worker_pids()) == 1
    assert len(emulator.connections()) == 2


def test_management_writes_are_visible_to_token_issuance_at_once(emulator: Emulator) -> None:
    """kong-identity.md A.6/B.3: a client created, changed or disabled is seen by the very next token call."""
    server, client = emulator.new_auth_server("writes")
    tokens(emulator, server, client, 8)
    with httpx.Client(base_url=emulator.base, headers=MGMT) as c:
        patched = c.patch(
            f"/v1/auth-servers/{server['id']}/clients/{client['id']}", json={"access_token_duration": 1234}
        )
        assert patched.status_code == 200, patched.text
        for token in tokens(emulator, server, client):
            claims = claims_of(token)
            assert claims["exp"] - claims["iat"] == 1234
        deleted = c.delete(f"/v1/auth-servers/{server['id']}/clients/{client['id']}")
        assert deleted.status_code == 204, deleted.text
    statuses = [status for status, _ in token_calls(emulator, server, client)]
    assert statuses == [401] * ROUNDS


def test_tokens_from_every_process_verify_with_the_jwks(emulator: Emulator) -> None:
    """kong-identity.md B.4: every token verifies with the auth server's JWKS, also after a key rotation."""
    server, client = emulator.new_auth_server("jwks")
    jwks = jwt.PyJWKClient(server["issuer"] + "/.well-known/jwks", cache_jwk_set=False)
    for token in tokens(emulator, server, client):
        key = jwks.get_signing_key_from_jwt(token)
        jwt.decode(token, key.key, algorithms=["RS256"], audience=server["audience"], issuer=server["issuer"])
    old_kid = jwt.get_unverified_header(token)["kid"]
    rotated = httpx.post(f"{emulator.base}/_emulator/auth-servers/{server['id']}/rotate-keys", json={})
    assert rotated.status_code < 300, rotated.text
    for token in tokens(emulator, server, client):
        assert jwt.get_unverified_header(token)["kid"] != old_kid
        key = jwks.get_signing_key_from_jwt(token)
        jwt.decode(token, key.key, algorithms=["RS256"], audience=server["audience"])


def test_introspection_revocation_and_token_list_see_worker_tokens_immediately(emulator: Emulator) -> None:
    """kong-identity.md B.7 (introspect), B.8 (revoke), A.8 (token list): no delay after issuance."""
    server, client = emulator.new_auth_server("records")
    auth = (client["id"], client["client_secret"])
    issued = []
    for token in tokens(emulator, server, client):
        answer = httpx.post(server["issuer"] + "/introspect", data={"token": token}, auth=auth)
        assert answer.json()["active"] is True, answer.text
        issued.append(token)
    listed = httpx.get(
        f"{emulator.base}/v1/auth-servers/{server['id']}/clients/{client['id']}/tokens",
        params={"page[size]": 100},
        headers=MGMT,
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["meta"]["page"]["total"] == len(issued)
    for token in tokens(emulator, server, client, 8):
        revoked = httpx.post(server["issuer"] + "/revoke", data={"token": token, **_post_auth(client)})
        assert revoked.status_code == 200, revoked.text
        answer = httpx.post(server["issuer"] + "/introspect", data={"token": token}, auth=auth)
        assert answer.json() == {"active": False}


def _post_auth(client: dict[str, Any]) -> dict[str, str]:
    return {"client_id": client["id"], "client_secret": client["client_secret"]}


def test_clock_freeze_and_advance_reach_every_process(emulator: Emulator) -> None:
    """Control API clock (issue 2): iat and exp follow the frozen, then advanced, virtual time everywhere."""
    server, client = emulator.new_auth_server("clock")
    at = 2_000_000_000
    try:
        assert httpx.post(f"{emulator.base}/_emulator/clock/freeze", json={"at": at}).status_code == 200
        for token in tokens(emulator, server, client):
            claims = claims_of(token)
            assert claims["iat"] == at and claims["exp"] == at + 300
        assert (
            httpx.post(f"{emulator.base}/_emulator/clock/advance", json={"seconds": 1000}).status_code == 200
        )
        for token in tokens(emulator, server, client):
            assert claims_of(token)["iat"] == at + 1000
    finally:
        httpx.post(f"{emulator.base}/_emulator/clock/reset", json={})
    assert abs(claims_of(tokens(emulator, server, client, 4)[0])["iat"] - time.time()) < 60


def test_a_token_fault_for_n_calls_fires_exactly_n_times(emulator: Emulator) -> None:
    """Control API faults: {"endpoint": "token", "times": 3} answers exactly 3 of the following calls."""
    server, client = emulator.new_auth_server("faults")
    tokens(emulator, server, client, 4)  # the worker has a current snapshot
    fault = httpx.post(
        f"{emulator.base}/_emulator/faults",
        json={"endpoint": "token", "auth_server_id": server["id"], "status": 503, "times": 3},
    )
    assert fault.status_code == 201, fault.text
    statuses = [status for status, _ in token_calls(emulator, server, client)]
    assert statuses.count(503) == 3 and statuses[:3] == [503, 503, 503], statuses
    assert statuses.count(200) == ROUNDS - 3
    assert httpx.get(f"{emulator.base}/_emulator/faults").json()["data"] == []
    tokens(emulator, server, client, 8)  # workers answer again once the fault is used up


def test_the_request_log_counts_every_token_call(emulator: Emulator) -> None:
    """Control API request log: every token call is counted and listed, whichever process answered it."""
    server, client = emulator.new_auth_server("log")
    tokens(emulator, server, client, 10)
    log = httpx.get(
        f"{emulator.base}/_emulator/requests", params={"endpoint": "token", "auth_server_id": server["id"]}
    ).json()
    assert log["count"] == 10
    assert [entry["status"] for entry in log["data"]] == [200] * 10
    assert all(entry["auth"]["client_id"] == client["id"] for entry in log["data"])
    assert client["client_secret"] not in json.dumps(log)  # secrets are redacted in the log


def test_a_worker_crash_is_reported_and_the_primary_keeps_serving(emulator: Emulator) -> None:
    """Robustness (h15 brief): a crashed worker is reported on stderr; the emulator still answers."""
    server, client = emulator.new_auth_server("crash")
    (worker,) = emulator.worker_pids()
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not any("exited" in line for line in emulator.stderr) and time.monotonic() < deadline:
        time.sleep(0.05)  # waiting for another process's output, not for virtual time
    assert any(f"pid {worker}" in line for line in emulator.stderr), emulator.stderr
    emulator.forget_connections()
    answers = [
        httpx.post(
            server["issuer"] + "/oauth/token", data=_post_auth(client) | {"grant_type": "client_credentials"}
        )
        for _ in range(8)
    ]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
