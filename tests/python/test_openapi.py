"""openapi.yaml is the truth: schemathesis drives a fresh server with requests generated
from the spec and fails on any 5xx or any answer the spec does not describe.

Why a subprocess: the `st run` CLI runs every phase (examples, coverage, fuzzing, stateful)
with its own workers and writes a JSON report, from which the test reads how many cases
were generated and what failed. The seed is fixed so CI runs are reproducible; set
SCHEMATHESIS_SEED to explore other inputs locally.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import REPO_ROOT, free_port, server_binary, stop, wait_until_up

SPEC = REPO_ROOT / "openapi.yaml"
# Checks that judge the server against the spec. Not `negative_data_rejection` or
# `positive_data_acceptance`: Confluent's API is lenient (unknown fields ignored, flags
# parsed like Java booleans) and a syntactically valid body can hold an invalid schema.
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
MIN_CASES = 2000
MAX_EXAMPLES = 30
TIME_LIMIT_SECONDS = 240


@pytest.fixture()
def fresh_server(tmp_path: Path):
    url = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "server.log"
    command = [str(server_binary()), "serve", "--listen", url.removeprefix("http://"), "--data-dir", str(tmp_path / "data")]
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_until_up(process, url, log)
        seed_data(url)
        yield url
    finally:
        stop(process)


def seed_data(url: str, headers: dict[str, str] | None = None) -> None:
    """Registers what the spec's examples name (subject `users-value`, schema id 1, a
    reference), so generated requests reach stored data and not only 404s; ``headers``
    carry credentials when the server asks for them."""
    address = '{"type":"record","name":"Address","namespace":"ex","fields":[{"name":"city","type":"string"}]}'
    user = '{"type":"record","name":"User","namespace":"ex","fields":[{"name":"home","type":"ex.Address"}]}'
    bodies = [
        ("address-value", {"schema": address}),
        ("users-value", {"schema": user, "references": [{"name": "ex.Address", "subject": "address-value", "version": 1}]}),
    ]
    for subject, body in bodies:
        reply = requests.post(f"{url}/subjects/{subject}/versions", json=body, timeout=10, headers=headers)
        assert reply.status_code == 200, reply.text


def run_schemathesis(
    url: str, workdir: Path, extra: tuple[str, ...] = (), label: str = "", max_examples: int = MAX_EXAMPLES
) -> dict:
    """Runs schemathesis against ``url`` with the project's checks and asserts it found
    nothing; returns its JSON report. ``extra`` adds arguments (e.g. a header)."""
    report = workdir / "report.json"
    st = Path(sys.executable).with_name("st")
    command = [
        str(st), "run", str(SPEC),
        "--url", url,
        *extra,
        "--checks", CHECKS,
        "--max-examples", str(max_examples),
        "--seed", os.environ.get("SCHEMATHESIS_SEED", "1"),
        "--workers", "1",
        "--no-shrink",
        "--request-timeout", "10",
        "--report", "json", "--report-json-path", str(report),
    ]  # fmt: skip
    run = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=TIME_LIMIT_SECONDS)
    assert report.is_file(), f"schemathesis wrote no report:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
    result = json.loads(report.read_text())
    generated = result["test_cases"]["generated"]
    print(f"schemathesis {result['schemathesis_version']}{label}: {generated} test cases, "
          f"{len(result['failures'])} failures, {len(result['errors'])} errors")  # fmt: skip
    sections = [run.stdout.find(title) for title in ("ERRORS", "FAILURES") if title in run.stdout]
    details = run.stdout[min(sections, default=-12000) :][:20000]
    assert result["failures"] == [] and result["errors"] == [] and run.returncode == 0, details
    assert result["complete"], result["stop_reason"]
    assert generated >= MIN_CASES, f"only {generated} test cases generated"
    assert result["operations"]["tested"] == result["operations"]["total"], result["operations"]
    return result


def test_schemathesis_finds_nothing(fresh_server: str, tmp_path: Path) -> None:
    run_schemathesis(fresh_server, tmp_path)
