"""Cost estimates: Standard per transition (retries included), Express per request + duration."""
from __future__ import annotations

import pytest

import sfnlab
from sfnlab.pricing import PRICES, estimate, transitions_of


def test_standard_counts_transitions_and_retries():
    calls = {"n": 0}

    def flaky(event, context):
        calls["n"] += 1
        if calls["n"] < 3:
            raise RuntimeError("try again")
        return event

    sm = sfnlab.StateMachine({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "F", "Next": "P",
              "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3}]},
        "P": {"Type": "Pass", "End": True}}}, functions={"F": flaky})
    ex = sm.run({})
    assert transitions_of(ex) == 2 + 2  # two states entered, two retries
    cost = estimate(ex, executions=1000)
    assert cost.standard == pytest.approx(1000 * 4 * PRICES["standard_per_transition"])


def test_express_rounds_duration_up_to_100_ms_and_memory_to_64_mb():
    ex = sfnlab.StateMachine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "End": True}}}).run({})
    cost = estimate(ex, executions=1_000_000, memory_mb=100)
    assert (cost.billed_ms, cost.memory_mb) == (2000, 128)
    gb_seconds = 1_000_000 * 2.0 * 128 / 1024
    assert cost.express == pytest.approx(1.0 + gb_seconds * 0.0600 / 3600)
    assert "Standard $" in str(cost) and PRICES["as_of"] in str(cost)
