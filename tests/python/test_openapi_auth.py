"""openapi.yaml is the truth with authentication on, too: schemathesis drives a server started
with ``--auth-file``, sending a user's Basic credentials on every request, and fails on any
5xx or any answer the spec does not describe.

Why this file exists: test_openapi.py runs the spec's checks against a server without
authentication; with ``--auth-file`` every route passes through the guard middleware first
(authentication, the permission table, filtered listings), which must neither break an
answer nor answer anything the spec does not describe. Two users: ``admin`` (Write on
``.*``: everything allowed, so every route is exercised behind the guard) and ``reader``
(Read on ``Subject:users-.*`` only: most writes and other subjects answer 403, which the spec
documents on every protected operation). The same checks and schemathesis CLI as
test_openapi.py, with a smaller budget per run (see ``MAX_EXAMPLES``).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import requests

from test_openapi import run_schemathesis, seed_data
from test_security import karapace_user, schemata, write_auth_file

MAX_EXAMPLES = 5
PASSWORDS = {"admin": "adm1n-0penapi", "reader": "r3ader-0penapi"}
PERMISSIONS = [
    {"username": "admin", "operation": "Write", "resource": ".*"},
    {"username": "reader", "operation": "Read", "resource": r"Subject:users-.*"},
]


def basic(user: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{PASSWORDS[user]}".encode()).decode("ascii")


@pytest.mark.parametrize("user", ["admin", "reader"])
def test_schemathesis_with_auth_finds_nothing(tmp_path: Path, user: str) -> None:
    auth_file = tmp_path / "auth.json"
    users = [karapace_user("admin", "scrypt", PASSWORDS["admin"]),
             karapace_user("reader", "sha256", PASSWORDS["reader"])]  # fmt: skip
    write_auth_file(auth_file, users, PERMISSIONS)
    with schemata(tmp_path, auth_file) as server:
        seed_data(server.url, {"Authorization": basic("admin")})
        # The guard is on: without credentials even the spec's example subject is refused.
        assert requests.get(f"{server.url}/subjects", timeout=10).status_code == 401

        run_schemathesis(
            server.url, tmp_path, ("--header", f"Authorization: {basic(user)}"), f" as {user}", MAX_EXAMPLES
        )

        # The credentials were used: the admin's writes are audited under its name; the
        # reader, allowed no write, was refused.
        log = server.log_text()
        if user == "admin":
            assert "schemata::audit: write principal=admin " in log, server.log_tail()
        else:
            assert "status=403" in log, "the reader was never refused: the permissions were not exercised"
