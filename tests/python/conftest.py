"""Shared pytest fixtures: start the Schemata server once per test session.

Why this file exists: the interop and conformance tests talk to a real
``schemata serve`` process. ``registry_url`` starts the binary named by
``SCHEMATA_BIN`` (default ``target/debug/schemata`` under the repository root) on
a free loopback port with a fresh data directory, waits until ``GET /`` answers,
yields the base URL, and stops the process at the end of the session. It also
prints the conformance summary (stashed by test_conformance.py) at the end of
the run.

For the Kafka-backed store (test_kafka_interop.py), ``kafka_bootstrap`` starts one
in-memory tansu broker (a Kafka-protocol broker; ``TANSU_BIN`` or the path
``scripts/tansu.sh`` prints) on a free loopback port for the session, and
``kafka_schemata`` starts a ``schemata serve --kafka-bootstrap ...`` node on a given
topic and data directory and waits until ``GET /health/ready`` answers 200, i.e. the
node has caught up with the topic.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

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


def log_tail(log: Path, chars: int = 4000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError as e:
        return f"(no log: {e})"


def tansu_binary() -> str:
    """The tansu broker: ``TANSU_BIN``, else what ``scripts/tansu.sh`` prints (it installs it once)."""
    if os.environ.get("TANSU_BIN"):
        return os.environ["TANSU_BIN"]
    script = REPO_ROOT / "scripts" / "tansu.sh"
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        pytest.fail(f"{script} failed ({result.returncode}); set TANSU_BIN to a tansu binary:\n{result.stderr[-4000:]}")
    return lines[-1]


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One in-memory tansu broker on loopback for the session: yields ``127.0.0.1:PORT``."""
    binary = tansu_binary()
    if not Path(binary).is_file():
        pytest.fail(f"tansu binary {binary} not found: set TANSU_BIN or run scripts/tansu.sh")
    workdir = tmp_path_factory.mktemp("tansu")
    log = workdir / "tansu.log"
    port = free_port()
    listener = f"tcp://127.0.0.1:{port}"
    command = [
        binary, "broker", "--listener-url", listener, "--advertised-listener-url", listener,
        "--storage-engine", "memory://tansu/",
    ]
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not accepts(port):
            if process.poll() is not None:
                pytest.fail(f"tansu exited with {process.returncode} on startup:\n{log_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"tansu did not accept connections on {port} within {STARTUP_TIMEOUT}s:\n{log_tail(log)}")
            time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)


@dataclass
class KafkaNode:
    """A running Kafka-backed Schemata node."""

    url: str
    process: subprocess.Popen
    log: Path
    data_dir: Path

    def log_tail(self, chars: int = 4000) -> str:
        return log_tail(self.log, chars)


def wait_until_ready(process: subprocess.Popen, url: str, log: Path, context: ssl.SSLContext | None = None) -> None:
    """Waits until ``/health/ready`` answers 200 (over https with ``context``)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"schemata exited with {process.returncode} on startup:\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(url + "/health/ready", timeout=2, context=context) as reply:
                if reply.status == 200:
                    return
                last = f"{reply.status} {reply.read()[:500]!r}"
        except urllib.error.HTTPError as e:
            last = f"{e.code} {e.read()[:500]!r}"
        except (urllib.error.URLError, OSError) as e:
            last = str(e)
        time.sleep(0.1)
    pytest.fail(f"schemata was not ready within {STARTUP_TIMEOUT}s (last: {last}):\n{log_tail(log)}")


@contextmanager
def kafka_schemata(
    bootstrap: str, topic: str, data_dir: Path, log: Path | None = None, extra_args: Sequence[str] = ()
) -> Iterator[KafkaNode]:
    """Starts ``schemata serve`` keeping its state in ``topic`` (``data_dir`` caches it),
    waits until ``/health/ready`` answers 200, yields the node, and stops it on exit.
    The log is appended to, so that a restarted node keeps its history. Nodes of one topic
    meet in one registry group (named after the topic, so tests never share a group)."""
    binary = server_binary()
    if not binary.is_file():
        pytest.fail(f"server binary {binary} not found: run `cargo build` or set SCHEMATA_BIN")
    log = log or data_dir.parent / f"{data_dir.name}.log"
    url = f"http://127.0.0.1:{free_port()}"
    command = [
        str(binary), "serve", "--listen", url.removeprefix("http://"), "--data-dir", str(data_dir),
        "--kafka-bootstrap", bootstrap, "--kafka-topic", topic, "--kafka-replication-factor", "1",
        "--kafka-group-id", f"group{topic}", *extra_args,
    ]
    with log.open("ab") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_until_ready(process, url, log)
        yield KafkaNode(url=url, process=process, log=log, data_dir=data_dir)
    finally:
        stop(process)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    summary = config.stash.get(CONFORMANCE_SUMMARY, None)
    if summary:
        terminalreporter.write_sep("=", "conformance replay (Confluent 7.9.0 corpus)")
        terminalreporter.write_line(summary)
