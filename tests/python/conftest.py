"""Shared pytest fixtures: start the Schemata server once per test session.

Why this file exists: the interop and conformance tests talk to a real
``schemata serve`` process. ``registry_url`` starts the binary named by
``SCHEMATA_BIN`` (default ``target/debug/schemata`` under the repository root) on
a free loopback port with a fresh data directory, waits until ``GET /`` answers,
yields the base URL, and stops the process at the end of the session. It also
prints the conformance summary (stashed by test_conformance.py) at the end of
the run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30.0
CONFORMANCE_SUMMARY = pytest.StashKey[str]()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_binary() -> Path:
    path = Path(os.environ.get("SCHEMATA_BIN", REPO_ROOT / "target" / "debug" / "schemata"))
    return path if path.is_absolute() else REPO_ROOT / path


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/", timeout=2) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_until_up(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"schemata exited with {process.returncode} on startup:\n{log.read_text()[-4000:]}")
        if answers(url):
            return
        time.sleep(0.1)
    pytest.fail(f"schemata did not answer GET / within {STARTUP_TIMEOUT}s:\n{log.read_text()[-4000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def registry_url(tmp_path_factory: pytest.TempPathFactory):
    binary = server_binary()
    if not binary.is_file():
        pytest.fail(f"server binary {binary} not found: run `cargo build` or set SCHEMATA_BIN")
    workdir = tmp_path_factory.mktemp("schemata")
    log = workdir / "server.log"
    url = f"http://127.0.0.1:{free_port()}"
    command = [str(binary), "serve", "--listen", url.removeprefix("http://"), "--data-dir", str(workdir / "data")]
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_until_up(process, url, log)
        yield url
    finally:
        stop(process)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    summary = config.stash.get(CONFORMANCE_SUMMARY, None)
    if summary:
        terminalreporter.write_sep("=", "conformance replay (Confluent 7.9.0 corpus)")
        terminalreporter.write_line(summary)
