"""Replay the recorded Confluent Schema Registry 7.9.0 HTTP corpus against a server.

Why this file exists: Schemata claims to answer like Confluent's registry. The
corpus in ``tests/data/conformance/`` holds 75 scenarios (about 1,550 HTTP steps)
with the responses Confluent 7.9.0 gave. This module replays them against a
running server exactly as ``tests/data/conformance/SOURCE.md`` specifies: reset
between scenarios, id-placeholder normalisation, ``keep`` filters, the
documented relaxations (``allowed.json`` first, then the global rules) and the
comparison modes. One rule of ours comes on top: fields Confluent added after 7.9.0
(``NEWER_FIELDS``: the schema ``guid`` of 8.0, which Schemata answers for clients that
frame records with it) are compared only where the recording has them. It reports per step, per scenario, and for the Avro-only
scenarios separately.

It is both a library (used by ``test_conformance.py`` and
``test_runner_selfcheck.py``) and a command-line tool::

    python tests/python/conformance.py --url http://127.0.0.1:8081 \
        [--scenario NAME ...] [--report FILE] [--verbose] [--differences FILE]

Requests go out through ``http.client`` so that paths are sent byte for byte,
already percent-encoded, without any re-encoding or normalisation.
"""

from __future__ import annotations

import argparse
import difflib
import http.client
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional
from urllib.parse import parse_qsl, quote, unquote, urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "tests" / "data" / "conformance"
DIFFERENCES_FILE = REPO_ROOT / "tests" / "conformance-differences.json"

DEFAULT_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
REQUEST_TIMEOUT = 15.0
RESET_ROUNDS = 10
UNPARSABLE_PHRASES = ("details: com.fasterxml.jackson", "details: Could not parse Protobuf")
NON_AVRO_TYPES = {"PROTOBUF", "JSON"}
NEWER_FIELDS = ("guid",)

PLACEHOLDER_IN_PATH = re.compile(r"\{\$id(\d+)\}")
PLACEHOLDER_VALUE = re.compile(r"^\{\$id(\d+)\}$")
ID_IN_MESSAGE = re.compile(r"(Schema |with id |input id )(-?\d+)")
CONFIG_OR_MODE_PREFIX = re.compile(r"^(?:/contexts/[^/?]+)?/(?:config|mode)/[^/?]+")


# --------------------------------------------------------------------------
# Corpus


@dataclass
class Corpus:
    scenarios: list[dict]
    golden: dict[str, list[dict]]
    allowed: dict[str, dict]  # "scenario#index" -> allowed.json entry

    def scenario(self, name: str) -> dict:
        for scenario in self.scenarios:
            if scenario["name"] == name:
                return scenario
        raise KeyError(name)


def load_corpus(data_dir: Path = DATA_DIR) -> Corpus:
    scenarios = json.loads((data_dir / "scenarios.json").read_text(encoding="utf-8"))
    golden = json.loads((data_dir / "golden.json").read_text(encoding="utf-8"))
    allowed = json.loads((data_dir / "allowed.json").read_text(encoding="utf-8"))
    return Corpus(scenarios, golden, {entry["step"]: entry for entry in allowed})


def is_avro_scenario(scenario: dict) -> bool:
    """True when no step body declares ``schemaType`` PROTOBUF or JSON (any case)."""
    for step in scenario["steps"]:
        body = step.get("b")
        if isinstance(body, dict) and isinstance(body.get("schemaType"), str):
            if body["schemaType"].upper() in NON_AVRO_TYPES:
                return False
    return True


# --------------------------------------------------------------------------
# HTTP


@dataclass
class Response:
    status: Optional[int]  # None when the request itself failed
    body: Any


class TransportError(Exception):
    """The server could not be reached or did not answer with HTTP."""


class Http:
    """One fresh ``http.client`` connection per request; paths are sent verbatim."""

    def __init__(self, base_url: str, timeout: float = REQUEST_TIMEOUT):
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"expected an http:// URL, got {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.timeout = timeout

    def send(self, method: str, path: str, body: Optional[bytes], content_type: Optional[str]) -> Response:
        headers = {"Content-Type": content_type} if body is not None and content_type else {}
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            reply = conn.getresponse()
            return Response(reply.status, parse_body(reply.read()))
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"{method} {path}: {exc!r}") from exc
        finally:
            conn.close()

    def json(self, method: str, path: str, body: Any = None) -> Response:
        """Send a JSON body (or none) with the default content type."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        return self.send(method, path, data, DEFAULT_CONTENT_TYPE)


def parse_body(data: bytes) -> Any:
    """Parse a response the way the corpus recorded it."""
    text = data.decode("utf-8", errors="replace")
    if text == "":
        return {"text": ""}
    try:
        return json.loads(text)
    except ValueError:
        return {"text": text}


# --------------------------------------------------------------------------
# Contexts and id placeholders


def subject_context(subject: str) -> str:
    """``:.ctx:name`` and ``:.ctx`` live in ``.ctx``; every other subject in ``.``."""
    if subject.startswith(":."):
        return subject[1:].split(":", 1)[0]
    return "."


def step_context(path: str) -> str:
    route, _, query = path.partition("?")
    match = re.match(r"/contexts/([^/]+)/", route)
    if match:
        context = unquote(match.group(1))
        return context if context.startswith(".") else "." + context
    match = re.search(r"/subjects/([^/]*)", route)
    if match:
        return subject_context(unquote(match.group(1)))
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "subject":
            return subject_context(value)
    return "."


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class IdTable:
    """Per-scenario mapping ``(context, real id) <-> N``, symbols in first-seen order."""

    def __init__(self) -> None:
        self._symbols: dict[tuple[str, int], int] = {}
        self._reals: dict[int, int] = {}

    def symbol(self, context: str, real: int) -> str:
        key = (context, real)
        if key not in self._symbols:
            number = len(self._symbols) + 1
            self._symbols[key] = number
            self._reals[number] = real
        return f"$id{self._symbols[key]}"

    def real(self, number: int) -> Optional[int]:
        return self._reals.get(number)


def fill_path(path: str, table: IdTable) -> str:
    def replace(match: re.Match) -> str:
        real = table.real(int(match.group(1)))
        return match.group(0) if real is None else str(real)

    return PLACEHOLDER_IN_PATH.sub(replace, path)


def fill_body(value: Any, table: IdTable) -> Any:
    if isinstance(value, dict):
        return {key: fill_body(item, table) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_body(item, table) for item in value]
    if isinstance(value, str):
        match = PLACEHOLDER_VALUE.match(value)
        if match and table.real(int(match.group(1))) is not None:
            return table.real(int(match.group(1)))
    return value


def normalise_message(message: str, context: str, table: IdTable) -> str:
    return ID_IN_MESSAGE.sub(lambda m: m.group(1) + table.symbol(context, int(m.group(2))), message)


def normalise(body: Any, step: dict, context: str, table: IdTable) -> Any:
    if step.get("ids") and isinstance(body, list):
        return [table.symbol(context, item) if is_int(item) else item for item in body]
    return _normalise_value(body, context, table)


def _normalise_value(value: Any, context: str, table: IdTable) -> Any:
    if isinstance(value, list):
        return [_normalise_value(item, context, table) for item in value]
    if not isinstance(value, dict):
        return value
    if isinstance(value.get("subject"), str):
        context = subject_context(value["subject"])
    result = {}
    for key, item in value.items():
        if key in ("id", "maxId") and is_int(item):
            result[key] = table.symbol(context, item)
        elif key == "message" and isinstance(item, str):
            result[key] = normalise_message(item, context, table)
        else:
            result[key] = _normalise_value(item, context, table)
    return result


def apply_keep(body: Any, patterns: Optional[list[str]]) -> Any:
    if not patterns or not isinstance(body, list):
        return body
    return [item for item in body if _kept(item, patterns)]


def _kept(item: Any, patterns: list[str]) -> bool:
    value = item.get("subject") if isinstance(item, dict) else item
    if not isinstance(value, str):
        return False
    for pattern in patterns:
        if pattern.startswith("="):
            if value == pattern[1:]:
                return True
        elif value.startswith(pattern):
            return True
    return False


# --------------------------------------------------------------------------
# Sending one step


def encode_step_body(step: dict, table: IdTable) -> tuple[Optional[bytes], Optional[str]]:
    """Return (body bytes or None, content type or None) for a scenario step."""
    if "raw" in step:
        data = step["raw"].encode("utf-8")
    elif "b" in step:
        data = json.dumps(fill_body(step["b"], table), ensure_ascii=False).encode("utf-8")
    else:
        return None, None
    content_type = step.get("ct", DEFAULT_CONTENT_TYPE)
    return data, (content_type or None)


def send_step(http_client: Http, step: dict, table: IdTable) -> Response:
    body, content_type = encode_step_body(step, table)
    return http_client.send(step["m"], fill_path(step["p"], table), body, content_type)


def replay_step(http_client: Http, step: dict, table: IdTable) -> Response:
    """Send a step and return its filtered, normalised response."""
    try:
        raw = send_step(http_client, step, table)
    except TransportError as exc:
        return Response(None, {"transport_error": str(exc)})
    kept = apply_keep(raw.body, step.get("keep"))
    return Response(raw.status, normalise(kept, step, step_context(step["p"]), table))


# --------------------------------------------------------------------------
# Reset between scenarios


class ResetError(Exception):
    """The registry could not be brought back to an empty state."""


def reset_registry(http_client: Http, scenario: dict) -> None:
    """Empty the registry as SOURCE.md prescribes; raise ResetError if that fails."""
    try:
        http_client.json("PUT", "/mode?force=true", {"mode": "READWRITE"})
        http_client.json("DELETE", "/config")
        for context in list_contexts(http_client):
            encoded = quote(f":{context}:", safe="")
            http_client.json("DELETE", f"/mode/{encoded}")
            http_client.json("DELETE", f"/config/{encoded}")
        delete_all_subjects(http_client)
        for prefix in config_and_mode_prefixes(scenario):
            http_client.json("DELETE", prefix)
    except TransportError as exc:
        raise ResetError(str(exc)) from exc


def list_contexts(http_client: Http) -> list[str]:
    reply = http_client.json("GET", "/contexts")
    if reply.status != 200 or not isinstance(reply.body, list):
        return []  # a server without contexts has nothing to reset there
    return [c for c in reply.body if isinstance(c, str) and c != "."]


def list_all_subjects(http_client: Http) -> list[str]:
    reply = http_client.json("GET", "/subjects?subjectPrefix=%3A*%3A&deleted=true")
    if reply.status != 200 or not isinstance(reply.body, list):
        raise ResetError(f"subject listing answered {reply.status}: {short_json(reply.body)}")
    return [s for s in reply.body if isinstance(s, str)]


def delete_all_subjects(http_client: Http) -> None:
    for _ in range(RESET_ROUNDS):
        subjects = list_all_subjects(http_client)
        if not subjects:
            return
        for subject in subjects:
            encoded = quote(subject, safe="")
            http_client.json("DELETE", f"/mode/{encoded}")
            http_client.json("DELETE", f"/subjects/{encoded}")
            http_client.json("DELETE", f"/subjects/{encoded}?permanent=true")
    left = list_all_subjects(http_client)
    if left:
        raise ResetError(f"{len(left)} subjects left after {RESET_ROUNDS} rounds: {short_json(left)}")


def config_and_mode_prefixes(scenario: dict) -> list[str]:
    """Distinct ``/config/<x>`` and ``/mode/<x>`` prefixes the scenario's steps touch."""
    prefixes: list[str] = []
    for step in scenario["steps"]:
        match = CONFIG_OR_MODE_PREFIX.match(step["p"])
        if match and match.group(0) not in prefixes:
            prefixes.append(match.group(0))
    return prefixes


# --------------------------------------------------------------------------
# Comparison


def relaxation_for(key: str, want: dict, allowed: dict[str, dict]) -> Optional[str]:
    """First applicable relaxation: allowed.json entry, then the global rules."""
    if key in allowed:
        return allowed[key]["cmp"]
    body = want.get("body")
    if not isinstance(body, dict):
        return None
    if want.get("status") == 400 and body.get("error_code") == 400:
        return "code"
    if body.get("error_code") == 500:
        return "skip"
    message = body.get("message")
    if isinstance(message, str) and any(p in message for p in UNPARSABLE_PHRASES):
        return "code"
    messages = body.get("messages")
    if isinstance(messages, list) and any(
        isinstance(m, str) and any(p in m for p in UNPARSABLE_PHRASES) for m in messages
    ):
        return "verdict"
    return None


def json_equal(a: Any, b: Any) -> bool:
    """JSON value equality: booleans are not numbers, key order is ignored."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _field(body: Any, name: str) -> Any:
    return body.get(name) if isinstance(body, dict) else None


def mismatch(step: dict, want: dict, got: Response, relaxation: Optional[str]) -> Optional[str]:
    """None when ``got`` matches ``want`` under ``relaxation``; otherwise why not."""
    if relaxation == "skip":
        return None
    if got.status != want["status"]:
        return f"status {got.status}, want {want['status']}"
    if relaxation in ("code", "verdict"):
        name = "error_code" if relaxation == "code" else "is_compatible"
        ok = json_equal(_field(got.body, name), _field(want["body"], name))
        return None if ok else f"{name} {_field(got.body, name)!r}, want {_field(want['body'], name)!r}"
    mode = step.get("cmp", "exact")
    if mode == "status":
        return None
    if mode == "keys" and isinstance(want["body"], dict):
        got_keys = sorted(got.body) if isinstance(got.body, dict) else None
        return None if got_keys == sorted(want["body"]) else f"keys {got_keys}, want {sorted(want['body'])}"
    return None if json_equal(got.body, want["body"]) else "body differs"


# --------------------------------------------------------------------------
# Results


@dataclass
class StepResult:
    scenario: str
    index: int
    outcome: str  # "pass", "relaxed" (passed only thanks to a relaxation) or "fail"
    request: str
    relaxation: Optional[str] = None
    reason: str = ""
    want: Any = None
    got: Any = None

    @property
    def passed(self) -> bool:
        return self.outcome != "fail"

    @property
    def key(self) -> str:
        return f"{self.scenario}#{self.index}"


def without_newer_fields(got: Any, want: Any) -> Any:
    """``got`` without the ``NEWER_FIELDS`` that ``want`` (a 7.9.0 answer) lacks."""
    if isinstance(got, list):
        wants = want if isinstance(want, list) else []
        return [without_newer_fields(g, wants[i] if i < len(wants) else None) for i, g in enumerate(got)]
    if isinstance(got, dict):
        w = want if isinstance(want, dict) else {}
        return {k: without_newer_fields(v, w.get(k)) for k, v in got.items() if k not in NEWER_FIELDS or k in w}
    return got


def judge(scenario: str, index: int, step: dict, want: dict, got: Response, allowed: dict) -> StepResult:
    key = f"{scenario}#{index}"
    got = Response(got.status, without_newer_fields(got.body, want.get("body")))
    relaxation = relaxation_for(key, want, allowed)
    reason = mismatch(step, want, got, relaxation)
    if reason is not None:
        outcome = "fail"
    elif relaxation and mismatch(step, want, got, None) is not None:
        outcome = "relaxed"
    else:
        outcome = "pass"
    request = f"{step['m']} {step['p']}"
    got_record = {"status": got.status, "body": got.body}
    return StepResult(scenario, index, outcome, request, relaxation, reason or "", want, got_record)


def run_scenario(http_client: Http, corpus: Corpus, scenario: dict) -> list[StepResult]:
    name = scenario["name"]
    try:
        reset_registry(http_client, scenario)
    except ResetError as exc:
        return [reset_failure(name, i, step, exc) for i, step in enumerate(scenario["steps"])]
    table = IdTable()
    results = []
    for index, step in enumerate(scenario["steps"]):
        got = replay_step(http_client, step, table)
        results.append(judge(name, index, step, corpus.golden[name][index], got, corpus.allowed))
    run_teardown(http_client, scenario, table)
    return results


def reset_failure(name: str, index: int, step: dict, exc: Exception) -> StepResult:
    return StepResult(name, index, "fail", f"{step['m']} {step['p']}", reason=f"reset failed: {exc}")


def run_teardown(http_client: Http, scenario: dict, table: IdTable) -> None:
    for step in scenario.get("teardown", []):
        try:
            send_step(http_client, step, table)
        except TransportError:
            pass  # teardown responses are neither recorded nor compared


def run_corpus(url: str, corpus: Corpus, names: Optional[Iterable[str]] = None) -> list[StepResult]:
    """Replay the chosen scenarios (all by default), then leave the registry empty."""
    http_client = Http(url)
    wanted = set(names) if names else None
    results: list[StepResult] = []
    for scenario in corpus.scenarios:
        if wanted is None or scenario["name"] in wanted:
            results.extend(run_scenario(http_client, corpus, scenario))
    try:
        reset_registry(http_client, {"steps": []})
    except ResetError:
        pass  # best effort: later tests use their own subjects
    return results


# --------------------------------------------------------------------------
# Known differences


def load_differences(path: Path = DIFFERENCES_FILE) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def is_listed(result: StepResult, differences: list[dict]) -> bool:
    for entry in differences:
        if entry["scenario"] == result.scenario and entry.get("step") in (None, result.index):
            return True
    return False


# --------------------------------------------------------------------------
# Reporting


@dataclass
class Tally:
    total: int = 0
    passed: int = 0
    relaxed: int = 0
    failed: int = 0

    def add(self, result: StepResult) -> None:
        self.total += 1
        self.passed += result.passed
        self.relaxed += result.outcome == "relaxed"
        self.failed += not result.passed

    def line(self) -> str:
        percent = 100.0 * self.passed / self.total if self.total else 0.0
        return (f"total {self.total}, passed {self.passed} ({percent:.1f}%, "
                f"{self.relaxed} only via relaxation), failed {self.failed}")


@dataclass
class Summary:
    overall: Tally = field(default_factory=Tally)
    avro: Tally = field(default_factory=Tally)
    per_scenario: dict[str, Tally] = field(default_factory=dict)
    avro_scenarios: int = 0


def summarise(results: list[StepResult], corpus: Corpus) -> Summary:
    avro_names = {s["name"] for s in corpus.scenarios if is_avro_scenario(s)}
    summary = Summary()
    for result in results:
        summary.overall.add(result)
        summary.per_scenario.setdefault(result.scenario, Tally()).add(result)
        if result.scenario in avro_names:
            summary.avro.add(result)
    summary.avro_scenarios = len(avro_names & set(summary.per_scenario))
    return summary


def format_summary(summary: Summary) -> str:
    width = max((len(name) for name in summary.per_scenario), default=10)
    lines = [f"{'scenario':<{width}}  steps  passed  relaxed  failed"]
    for name, tally in summary.per_scenario.items():
        lines.append(f"{name:<{width}}  {tally.total:5}  {tally.passed:6}  {tally.relaxed:7}  {tally.failed:6}")
    lines.append("")
    lines.append(f"Conformance, all {len(summary.per_scenario)} scenarios: {summary.overall.line()}")
    lines.append(f"Conformance, {summary.avro_scenarios} Avro scenarios: {summary.avro.line()}")
    return "\n".join(lines)


def format_result(result: StepResult, with_diff: bool) -> str:
    label = {"pass": "PASS", "relaxed": f"PASS ({result.relaxation})", "fail": "FAIL"}[result.outcome]
    line = f"{label} {result.key} {result.request}"
    if result.outcome == "fail":
        line += f" -- {result.reason}"
        if with_diff and result.want is not None:
            line += "\n" + diff_text(result.want, result.got)
    return line


def diff_text(want: Any, got: Any) -> str:
    want_lines = json.dumps(want, indent=1, sort_keys=True, ensure_ascii=False).splitlines()
    got_lines = json.dumps(got, indent=1, sort_keys=True, ensure_ascii=False).splitlines()
    diff = difflib.unified_diff(want_lines, got_lines, "recorded (Confluent)", "received", lineterm="")
    return "\n".join("    " + line for line in diff)


def short_json(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


def full_report(results: list[StepResult], summary: Summary) -> str:
    steps = "\n".join(format_result(r, with_diff=True) for r in results)
    return f"{steps}\n\n{format_summary(summary)}\n"


# --------------------------------------------------------------------------
# Command line


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="base URL of the running registry")
    parser.add_argument("--scenario", action="append", help="run only this scenario (repeatable)")
    parser.add_argument("--report", type=Path, help="write every step with diffs and the summary here")
    parser.add_argument("--verbose", action="store_true", help="print every step, with diffs for failures")
    parser.add_argument("--differences", type=Path,
                        help="known-differences JSON; listed failures do not fail the exit code")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="corpus directory")
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    corpus = load_corpus(args.data_dir)
    unknown = sorted(set(args.scenario or []) - set(corpus.golden))
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    results = run_corpus(args.url, corpus, args.scenario)
    for result in results:
        if args.verbose or result.outcome == "fail":
            print(format_result(result, with_diff=args.verbose))
    summary = summarise(results, corpus)
    print()
    print(format_summary(summary))
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(full_report(results, summary), encoding="utf-8")
    differences = load_differences(args.differences) if args.differences else []
    unexpected = [r for r in results if not r.passed and not is_listed(r, differences)]
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
