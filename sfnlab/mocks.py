"""Mocked service responses in the Step Functions Local format (a ``MockConfigFile``).

AWS guide, "Using mocked service integrations for testing in Step Functions Local"::

    {
      "StateMachines": {
        "<state machine name>": {
          "TestCases": {"<test case>": {"<state name>": "<mocked response name>"}}
        }
      },
      "MockedResponses": {
        "<mocked response name>": {
          "0": {"Return": {...}},                          # first call of the state
          "1-2": {"Throw": {"Error": "...", "Cause": "..."}}  # second and third calls
        }
      }
    }

An execution uses a test case when it is started as Step Functions Local expects:
``start_execution(stateMachineArn="<state machine ARN>#<test case>")``. Each call of a mocked Task
state (every attempt, so Retry walks through the numbered responses) takes the next response:
``Return`` is the task's result, ``Throw`` fails the attempt with that error and cause. Calls are
counted per execution and state. The events are those of the real integration.
"""
from __future__ import annotations

import json
import os
from typing import Any

from .errors import StatesError

__all__ = ["load_mock_config", "next_response", "apply", "MockConfigError"]


class MockConfigError(ValueError):
    """The mock configuration does not have the Step Functions Local shape."""


def load_mock_config(source: Any) -> dict:
    """A mock configuration from a dict, JSON text or a file path; checked for its shape."""
    if isinstance(source, (str, os.PathLike)) and not str(source).lstrip().startswith("{"):
        with open(source, encoding="utf-8") as handle:
            source = json.load(handle)
    elif isinstance(source, str):
        source = json.loads(source)
    if not isinstance(source, dict):
        raise MockConfigError("a mock configuration is a JSON object")
    responses = source.get("MockedResponses") or {}
    for machine, spec in (source.get("StateMachines") or {}).items():
        for case, states in (spec.get("TestCases") or {}).items():
            for state, response in states.items():
                if response not in responses:
                    raise MockConfigError(f"test case {machine}/{case} names the unknown mocked response {response!r} "
                                          f"for state {state!r}")
    for name, steps in responses.items():
        for key, step in steps.items():
            _range(key)
            if not isinstance(step, dict) or len(set(step) & {"Return", "Throw"}) != 1:
                raise MockConfigError(f"mocked response {name}/{key} needs exactly one of Return or Throw")
    return source


def _range(key: str) -> tuple[int, int]:
    first, _, last = str(key).partition("-")
    try:
        low, high = int(first), int(last or first)
    except ValueError:
        raise MockConfigError(f"invalid invocation range {key!r}: expected 'N' or 'N-M'") from None
    if low < 0 or high < low:
        raise MockConfigError(f"invalid invocation range {key!r}")
    return low, high


def next_response(execution, state) -> dict | None:
    """The mocked response for this call of ``state``, or None when it is not mocked."""
    backend: Any = getattr(execution.runtime, "backend", None)  # set when a mock config is
    config = getattr(backend, "mock_config", None)
    if config is None:
        return None
    case = backend.test_case_of(execution.info.arn)
    if case is None:
        return None
    cases = ((config.get("StateMachines") or {}).get(execution.info.state_machine_name) or {}).get("TestCases") or {}
    if case not in cases:
        raise StatesError("States.Runtime", f"The test case '{case}' is not defined for the state machine "
                                            f"'{execution.info.state_machine_name}' in the mock configuration")
    name = cases[case].get(state.name)
    if name is None:
        return None
    counts = execution.__dict__.setdefault("_sfnlab_mock_calls", {})
    call = counts.get(state.name, 0)
    counts[state.name] = call + 1
    steps = config["MockedResponses"][name]
    best = None
    for key, step in steps.items():
        low, high = _range(key)
        if low <= call <= high:
            return step
        if best is None or high > best[0]:
            best = (high, step)
    # Past the last numbered call: the last response keeps answering.
    return best[1] if best else None


def apply(step: dict) -> Any:
    """The task result of a mocked response, or its error raised as a StatesError."""
    if "Throw" in step:
        thrown = step["Throw"] or {}
        raise StatesError(thrown.get("Error"), thrown.get("Cause"))
    return step.get("Return")
