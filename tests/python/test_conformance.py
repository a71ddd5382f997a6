"""Replay the Confluent 7.9.0 conformance corpus against the session's Schemata server.

Why this file exists: it turns the replay runner (conformance.py) into a pass/fail
gate. The corpus is replayed once; each scenario is then one test that fails if
any of its steps fails without being listed in ``tests/conformance-differences.json``.
The summary (also written to ``target/conformance-report.txt`` together with
every step and the diffs) is printed at the end of the pytest run, with the
listed steps that pass now, so the differences list can be shrunk.
"""

from __future__ import annotations

import pytest

import conformance as cf
from conftest import CONFORMANCE_SUMMARY, REPO_ROOT

REPORT_FILE = REPO_ROOT / "target" / "conformance-report.txt"
CORPUS = cf.load_corpus()
SCENARIO_NAMES = [s["name"] for s in CORPUS.scenarios]


def listed_but_passing(results: list[cf.StepResult], differences: list[dict]) -> list[str]:
    """Difference entries whose steps all pass now (a hint to shrink the list)."""
    hints = []
    for entry in differences:
        covered = [r for r in results if r.scenario == entry["scenario"]
                   and entry.get("step") in (None, r.index)]
        if covered and all(r.passed for r in covered):
            where = entry["scenario"] + (f"#{entry['step']}" if entry.get("step") is not None else "")
            hints.append(f"{where} ({entry['reason']})")
    return hints


def summary_text(results: list[cf.StepResult], differences: list[dict]) -> str:
    text = cf.format_summary(cf.summarise(results, CORPUS))
    unlisted = [r for r in results if not r.passed and not cf.is_listed(r, differences)]
    text += f"\nFailing steps not listed in tests/conformance-differences.json: {len(unlisted)}"
    hints = listed_but_passing(results, differences)
    if hints:
        text += "\nListed as different but passing now (remove from the list):\n  " + "\n  ".join(hints)
    return text + f"\nFull report: {REPORT_FILE}"


@pytest.fixture(scope="session")
def differences() -> list[dict]:
    return cf.load_differences()


@pytest.fixture(scope="session")
def conformance_results(registry_url, differences, pytestconfig) -> dict[str, list[cf.StepResult]]:
    results = cf.run_corpus(registry_url, CORPUS)
    summary = summary_text(results, differences)
    REPORT_FILE.parent.mkdir(parents=True, exist_ok=True)
    REPORT_FILE.write_text(cf.full_report(results, cf.summarise(results, CORPUS)) + summary + "\n",
                           encoding="utf-8")
    pytestconfig.stash[CONFORMANCE_SUMMARY] = summary  # printed by conftest at the end
    by_scenario: dict[str, list[cf.StepResult]] = {}
    for result in results:
        by_scenario.setdefault(result.scenario, []).append(result)
    return by_scenario


def test_differences_file_names_real_steps(differences):
    steps = {s["name"]: len(s["steps"]) for s in CORPUS.scenarios}
    for entry in differences:
        assert entry["scenario"] in steps, entry
        assert entry.get("reason"), entry
        step = entry.get("step")
        assert step is None or 0 <= step < steps[entry["scenario"]], entry


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_scenario_matches_confluent(scenario, conformance_results, differences):
    results = conformance_results[scenario]
    assert len(results) == len(CORPUS.golden[scenario])
    unexpected = [r for r in results if not r.passed and not cf.is_listed(r, differences)]
    details = "\n".join(cf.format_result(r, with_diff=True) for r in unexpected[:20])
    assert not unexpected, (
        f"{len(unexpected)} step(s) of {scenario} differ from Confluent 7.9.0 and are not listed in "
        f"tests/conformance-differences.json (full report: {REPORT_FILE}):\n{details}"
    )
