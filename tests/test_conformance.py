"""The conformance ratchet: cases recorded from real AWS that passed once must keep passing.

`../shared/conformance` (beside the checkout; present in CI, absent on a learner's machine) holds
answers recorded from real AWS Step Functions and `run.py`, which replays them through
``sfnlab.client()``. `tests/conformance/passing.txt` lists the ids of the cases that pass; this
test replays those cases and fails on any that stopped passing. To grow the list after a fix:

    python tests/conformance/update_passing.py
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "conformance"
PASSING = HERE / "conformance" / "passing.txt"


def load_runner():
    spec = importlib.util.spec_from_file_location("sfnlab_conformance_run", CORPUS / "run.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (CORPUS / "run.py").exists(), reason="../shared/conformance is not beside this checkout")
def test_cases_that_passed_still_pass():
    runner = load_runner()
    wanted = {line.strip() for line in PASSING.read_text().splitlines() if line.strip() and not line.startswith("#")}
    assert wanted, "the ratchet list is empty"
    engine = runner.SfnlabEngine()
    regressions = {}
    seen = set()
    for path in sorted((CORPUS / "cases").glob("*.json")):
        case = json.loads(path.read_text())
        if case["id"] not in wanted:
            continue
        seen.add(case["id"])
        try:
            problem = runner.with_time_limit(10.0, lambda: runner.replay(engine, case, 10.0))
        except Exception as exc:  # noqa: BLE001 - a crash is a regression too
            problem = f"crashed: {type(exc).__name__}: {exc}"
        if problem is not None:
            regressions[case["id"]] = problem
    missing = wanted - seen
    assert not missing, f"{len(missing)} listed cases are not in the corpus: {sorted(missing)[:5]}"
    report = "\n".join(f"{cid}\n    {problem}" for cid, problem in sorted(regressions.items())[:20])
    assert not regressions, f"{len(regressions)} of {len(wanted)} cases stopped passing:\n{report}"
