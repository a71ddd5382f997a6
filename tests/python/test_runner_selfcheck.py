"""Self-checks of the conformance runner (conformance.py) without the Rust server.

Why this file exists: a replay runner that silently passes everything (or fails
everything) would make the conformance figures meaningless. These tests drive it
against a small in-process fake registry that answers each scenario step with the
recorded Confluent response (ids turned back into numbers) and checks that every
request arrives exactly as the corpus wrote it. A faithful replay must pass 100%;
an altered response must fail; a broken reset must fail the scenario's steps
without crashing the run. They take a few seconds and need no Rust build.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

import pytest

import conformance as cf

FAKE_ID_BASE = 1000
FOREIGN_SUBJECT = "zz-not-in-any-scenario.x"
SYMBOL = re.compile(r"^\$id(\d+)$")
SYMBOL_IN_MESSAGE = re.compile(r"(Schema |with id |input id )\$id(\d+)")

Mutator = Callable[[str, int, dict], dict]


# --------------------------------------------------------------------------
# The fake registry


def real_id(number: str) -> int:
    return FAKE_ID_BASE + int(number)


def denormalise(value: Any, key: Optional[str] = None) -> Any:
    """Turn recorded symbols ("$id3") back into the numbers a server would send."""
    if isinstance(value, dict):
        return {k: denormalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [denormalise(item) for item in value]
    if isinstance(value, str):
        match = SYMBOL.match(value)
        if match:
            return real_id(match.group(1))
        if key == "message":
            return SYMBOL_IN_MESSAGE.sub(lambda m: m.group(1) + str(real_id(m.group(2))), value)
    return value


def expected_path(step: dict) -> str:
    return cf.PLACEHOLDER_IN_PATH.sub(lambda m: str(real_id(m.group(1))), step["p"])


def expected_body(step: dict) -> Optional[bytes]:
    if "raw" in step:
        return step["raw"].encode("utf-8")
    if "b" not in step:
        return None
    filled = cf.fill_body(step["b"], _FakeTable())
    return json.dumps(filled).encode("utf-8")


class _FakeTable(cf.IdTable):
    """Resolves every placeholder the way the fake registry numbers ids."""

    def real(self, number: int) -> Optional[int]:
        return FAKE_ID_BASE + number


def request_problem(step: dict, body: bytes, content_type: Optional[str]) -> Optional[str]:
    want = expected_body(step)
    if want is None:
        return "unexpected body" if body else None
    if "raw" in step and body != want:
        return f"raw body {body!r}, want {want!r}"
    if "b" in step and json.loads(body) != json.loads(want):
        return f"json body {body!r}, want {want!r}"
    want_type = step.get("ct", cf.DEFAULT_CONTENT_TYPE) or None
    if content_type != want_type:
        return f"content type {content_type!r}, want {want_type!r}"
    return None


class FakeRegistry(ThreadingHTTPServer):
    """Replays golden responses for the queued scenario steps, in order.

    Requests that are not the next expected step are reset traffic and get a
    generic answer: no contexts, no subjects, ``{}`` for everything else.
    """

    daemon_threads = True

    def __init__(self, corpus: cf.Corpus, names: list[str], mutate: Optional[Mutator] = None,
                 listing_status: int = 200):
        super().__init__(("127.0.0.1", 0), FakeHandler)
        self.corpus = corpus
        self.mutate = mutate or (lambda name, index, response: response)
        self.listing_status = listing_status
        self.expected = deque((n, i, s) for n in names for i, s in enumerate(corpus.scenario(n)["steps"]))
        self.paths_seen: list[str] = []
        self.problems: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, method: str, path: str, body: bytes, content_type: Optional[str]) -> tuple[int, Any]:
        self.paths_seen.append(path)
        if self.expected:
            name, index, step = self.expected[0]
            if step["m"] == method and expected_path(step) == path:
                self.expected.popleft()
                return self.replay(name, index, step, body, content_type)
        return self.generic(method, path)

    def replay(self, name: str, index: int, step: dict, body: bytes, content_type: Optional[str]):
        problem = request_problem(step, body, content_type)
        if problem:
            self.problems.append(f"{name}#{index}: {problem}")
            return 418, {"problem": problem}
        recorded = self.mutate(name, index, json.loads(json.dumps(self.corpus.golden[name][index])))
        reply = denormalise(recorded["body"])
        if step.get("keep") and isinstance(reply, list):
            reply = reply + [FOREIGN_SUBJECT]  # must be filtered out by `keep`
        return recorded["status"], reply

    def generic(self, method: str, path: str) -> tuple[int, Any]:
        if method == "GET" and path == "/contexts":
            return 200, ["."]
        if method == "GET" and path.startswith("/subjects?subjectPrefix="):
            return (200, []) if self.listing_status == 200 else (self.listing_status, {"error_code": 50001})
        return 200, {}


class FakeHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # keep pytest output quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, reply = self.server.answer(self.command, self.path, body, self.headers.get("Content-Type"))
        data = encode_reply(reply)
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


def encode_reply(reply: Any) -> bytes:
    """Recorded ``{"text": ...}`` bodies were empty or non-JSON responses."""
    if isinstance(reply, dict) and set(reply) == {"text"}:
        return reply["text"].encode("utf-8")
    return json.dumps(reply).encode("utf-8")


def replay(corpus: cf.Corpus, names: list[str], **options: Any) -> tuple[list[cf.StepResult], FakeRegistry]:
    server = FakeRegistry(corpus, names, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        return cf.run_corpus(server.url, corpus, names), server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def corpus() -> cf.Corpus:
    return cf.load_corpus()


def failures(results: list[cf.StepResult]) -> list[str]:
    return [f"{r.key}: {r.reason}" for r in results if not r.passed]


# --------------------------------------------------------------------------
# Replays through the fake registry


def test_faithful_replay_of_whole_corpus_passes_every_step(corpus):
    names = [s["name"] for s in corpus.scenarios]
    results, server = replay(corpus, names)
    assert server.problems == []
    assert failures(results) == []
    assert len(results) == sum(len(s["steps"]) for s in corpus.scenarios) == 1553
    assert [r for r in results if r.outcome == "relaxed"] == []
    assert len(server.expected) == 0, "every recorded step must have reached the server"


def test_altered_body_and_status_fail_exactly_those_steps(corpus):
    def mutate(name: str, index: int, response: dict) -> dict:
        if (name, index) == ("reg-avro", 2):
            response["body"] = {"unexpected": True}
        if (name, index) == ("reg-avro", 5):
            response["status"] = 500
        return response

    results, _ = replay(corpus, ["reg-avro"], mutate=mutate)
    assert [r.key for r in results if not r.passed] == ["reg-avro#2", "reg-avro#5"]
    assert len(results) == 32


def test_wrong_message_text_fails_exact_comparison(corpus):
    name, index = first_step(corpus, lambda s, w: w["status"] == 404 and "message" in w["body"])

    def mutate(n: str, i: int, response: dict) -> dict:
        if (n, i) == (name, index):
            response["body"]["message"] += " (reworded)"
        return response

    results, _ = replay(corpus, [name], mutate=mutate)
    assert [r.key for r in results if not r.passed] == [f"{name}#{index}"]


def test_jackson_message_difference_passes_only_via_relaxation(corpus):
    results, _ = replay(corpus, ["root"], mutate=reword_step("root", 3))
    step = results[3]
    assert (step.outcome, step.relaxation) == ("relaxed", "code")
    assert sum(r.outcome == "pass" for r in results) == 6


def test_relaxed_step_still_needs_the_error_code(corpus):
    def mutate(name: str, index: int, response: dict) -> dict:
        if (name, index) == ("root", 3):
            response["body"]["error_code"] = 42201
        return response

    results, _ = replay(corpus, ["root"], mutate=mutate)
    assert [r.key for r in results if not r.passed] == ["root#3"]


def test_failing_reset_fails_the_scenario_without_crashing(corpus):
    results, _ = replay(corpus, ["root", "versions"], listing_status=500)
    assert len(results) == 7 + 34
    assert all(not r.passed and r.reason.startswith("reset failed") for r in results)


def test_unreachable_server_fails_every_step_without_crashing(corpus):
    port = unused_port()
    results = cf.run_corpus(f"http://127.0.0.1:{port}", corpus, ["root"])
    assert len(results) == 7
    assert all(not r.passed for r in results)


def test_paths_are_sent_exactly_as_written(corpus):
    _, server = replay(corpus, ["subject-names-raw", "subject-names"])
    seen = set(server.paths_seen)
    assert "/subjects/subject-names-raw.plain//versions" in seen
    assert "/subjects/subject-names-raw.plain/versions/1/" in seen
    assert "/subjects/subject-names.slash%2Finside/versions" in seen
    assert "/subjects/subject-names.with%20space/versions" in seen


def test_body_placeholder_is_sent_as_the_bound_number(corpus):
    _, server = replay(corpus, ["reg-explicit-id"])
    assert server.problems == []
    assert len(server.expected) == 0


def test_command_line_writes_report_and_exit_code(corpus, tmp_path, capsys):
    server = FakeRegistry(corpus, ["root"], mutate=lambda n, i, r: r)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        report = tmp_path / "report.txt"
        code = cf.main(["--url", server.url, "--scenario", "root", "--report", str(report), "--verbose"])
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0
    text = report.read_text()
    assert "PASS root#0 GET /" in text
    assert "Conformance, all 1 scenarios: total 7, passed 7 (100.0%, 0 only via relaxation), failed 0" in text
    assert "PASS root#6 GET /schemas/types" in capsys.readouterr().out


# --------------------------------------------------------------------------
# Pure functions


@pytest.mark.parametrize("path, context", [
    ("/subjects/a/versions", "."),
    ("/subjects/%3A.ctx%3Aname/versions", ".ctx"),
    ("/subjects/%3A.ctx/versions", ".ctx"),
    ("/contexts/.c/subjects/x/versions", ".c"),
    ("/contexts/c/subjects/x/versions", ".c"),
    ("/schemas/ids/3?subject=%3A.q%3As", ".q"),
    ("/schemas/ids/3", "."),
    ("/compatibility/subjects/%3A.k%3Aa/versions/latest", ".k"),
])
def test_step_context(path, context):
    assert cf.step_context(path) == context


def test_normalisation_uses_context_and_first_seen_order():
    table = cf.IdTable()
    body = [{"subject": ":.x:a", "id": 1}, {"subject": "b", "id": 1}, {"subject": "c", "id": 7, "version": 1}]
    got = cf.normalise(body, {}, ".", table)
    assert got == [{"subject": ":.x:a", "id": "$id1"}, {"subject": "b", "id": "$id2"},
                   {"subject": "c", "id": "$id3", "version": 1}]
    message = cf.normalise({"error_code": 40403, "message": "Schema 7 not found"}, {}, ".", table)
    assert message == {"error_code": 40403, "message": "Schema $id3 not found"}
    assert cf.normalise([7, 9, True], {"ids": True}, ".", table) == ["$id3", "$id4", True]
    assert cf.fill_path("/schemas/ids/{$id4}/x/{$id9}", table) == "/schemas/ids/9/x/{$id9}"


def test_keep_patterns():
    body = ["a.x", "ab", "b", {"subject": "a.y"}, {"subject": "c"}, 3]
    assert cf.apply_keep(body, ["a.", "=b"]) == ["a.x", "b", {"subject": "a.y"}]


def test_relaxation_rules(corpus):
    jackson = {"status": 400, "body": {"error_code": 400, "message": "Unrecognized token"}}
    assert cf.relaxation_for("x#0", jackson, {}) == "code"
    assert cf.relaxation_for("x#0", {"status": 500, "body": {"error_code": 500}}, {}) == "skip"
    parse = {"status": 422, "body": {"error_code": 42201, "message": "bad, details: com.fasterxml.jackson.X"}}
    assert cf.relaxation_for("x#0", parse, {}) == "code"
    verdict = {"status": 200, "body": {"is_compatible": False, "messages": ["details: Could not parse Protobuf"]}}
    assert cf.relaxation_for("x#0", verdict, {}) == "verdict"
    assert cf.relaxation_for("tags-avro#13", jackson, corpus.allowed) == "code"
    assert cf.relaxation_for("import#17", jackson, corpus.allowed) == "skip"
    assert cf.relaxation_for("x#0", {"status": 404, "body": {"error_code": 40401}}, {}) is None


def test_json_equality_is_strict_about_booleans():
    assert cf.json_equal({"a": [1, {"b": True}]}, {"a": [1.0, {"b": True}]})
    assert not cf.json_equal(True, 1)
    assert not cf.json_equal([1, 2], [2, 1])


def test_avro_classification(corpus):
    non_avro = {s["name"] for s in corpus.scenarios if not cf.is_avro_scenario(s)}
    assert {"reg-json", "reg-proto", "reg-schema-type", "compat-types", "type-collision"} <= non_avro
    assert {"reg-avro", "jackson-coercion", "reg-body", "root"}.isdisjoint(non_avro)
    assert len(non_avro) == 19


def test_known_differences_matching():
    whole = {"scenario": "a", "reason": "r"}
    one = {"scenario": "b", "step": 2, "reason": "r"}
    result = lambda s, i: cf.StepResult(s, i, "fail", "GET /")  # noqa: E731
    assert cf.is_listed(result("a", 5), [whole])
    assert cf.is_listed(result("b", 2), [one])
    assert not cf.is_listed(result("b", 3), [one])


# --------------------------------------------------------------------------
# Helpers


def first_step(corpus: cf.Corpus, predicate) -> tuple[str, int]:
    for scenario in corpus.scenarios:
        name = scenario["name"]
        for index, step in enumerate(scenario["steps"]):
            want = corpus.golden[name][index]
            if isinstance(want["body"], dict) and cf.relaxation_for(f"{name}#{index}", want, corpus.allowed) is None \
                    and step.get("cmp", "exact") == "exact" and predicate(step, want):
                return name, index
    raise AssertionError("no such step in the corpus")


def reword_step(name: str, index: int) -> Mutator:
    def mutate(n: str, i: int, response: dict) -> dict:
        if (n, i) == (name, index):
            response["body"]["message"] = "some other parser's wording"
        return response
    return mutate


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
