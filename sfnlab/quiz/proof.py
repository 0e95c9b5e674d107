"""Proving answers: run a question's machine through sfnlab and observe what the key claims.

A proof is data (``question.proof``): the ASL ``machine``, the execution ``input``, Lambda
``functions`` described as data, and the ``check`` to observe:

========================  =======================================================================
check                     observed value
========================  =======================================================================
``output``                the execution output (JSON)
``error``                 the execution's error name (``None`` when it succeeded)
``status``                ``SUCCEEDED`` / ``FAILED`` / ``TIMED_OUT``
``next_state``            the state entered right after ``state`` (``None``: the execution ended)
``path``                  the names of the states entered, in order
``retry_delays``          seconds between consecutive attempts of the Task ``state``
``attempts``              how many times the Task ``state`` called its function
``invocations``           how many times ``function`` was called in the whole execution
``elapsed``               virtual seconds from start to stop
========================  =======================================================================

Without ``per_option``, the options whose ``value`` equals the observation must be exactly the
keyed answer. With ``per_option`` (``"input"`` or ``"machine"``), each option is run on its own and
is correct exactly when its observation equals ``expect``.

Functions as data (a fresh set per run, so counters start at zero):

* ``{"kind": "return", "value": V}``; ``{"kind": "echo"}``; ``{"kind": "merge", "value": {...}}``
* ``{"kind": "raise", "error": "PaymentDeclined"}`` (the error name is the exception class name)
* ``{"kind": "fail_n_times", "n": 2, "error": "Throttled", "value": V}`` (then returns V, or echoes)
* ``{"kind": "sequence", "steps": [{"raise": "E"}, {"return": V}, {"echo": true}]}`` (the last repeats)
* ``{"kind": "large", "bytes": 300000}`` (returns a string of that many bytes)
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .model import Question

__all__ = ["make_functions", "run_proof", "observe", "check_question", "ProofResult"]


def _exception(name: str, message: str) -> Exception:
    return type(name, (Exception,), {})(message)


def _make_function(spec: Mapping[str, Any], calls: dict, name: str) -> Callable:
    kind = spec["kind"]
    state = {"n": 0}

    def handler(event, context):
        state["n"] += 1
        calls[name] = calls.get(name, 0) + 1
        count = state["n"]
        if kind == "return":
            return copy.deepcopy(spec.get("value"))
        if kind == "echo":
            return event
        if kind == "merge":
            return {**event, **copy.deepcopy(spec["value"])}
        if kind == "raise":
            raise _exception(spec["error"], spec.get("message", f"{name} failed"))
        if kind == "fail_n_times":
            if count <= spec["n"]:
                raise _exception(spec["error"], spec.get("message", f"attempt {count} failed"))
            return copy.deepcopy(spec["value"]) if "value" in spec else event
        if kind == "sequence":
            step = spec["steps"][min(count, len(spec["steps"])) - 1]
            if "raise" in step:
                raise _exception(step["raise"], f"call {count} failed")
            if "return" in step:
                return copy.deepcopy(step["return"])
            return event
        if kind == "large":
            return "x" * spec["bytes"]
        raise ValueError(f"unknown function kind {kind!r}")

    handler.__name__ = name
    return handler


def make_functions(specs: Mapping[str, Mapping[str, Any]] | None) -> tuple[dict[str, Callable], dict[str, int]]:
    """Python Lambda handlers from their data description, and a dict counting their calls."""
    calls: dict[str, int] = {}
    return {name: _make_function(spec, calls, name) for name, spec in (specs or {}).items()}, calls


@dataclass
class ProofResult:
    execution: Any
    calls: dict


def run_proof(proof: Mapping[str, Any], *, machine: Mapping | None = None, input: Any = None,
              use_input: bool = False):
    """Run a proof's machine (or an option's) on its input; returns a :class:`ProofResult`."""
    from ..machine import StateMachine

    functions, calls = make_functions(proof.get("functions"))
    sm = StateMachine(machine if machine is not None else proof["machine"], functions=functions,
                      type=proof.get("workflow_type", "STANDARD"), start_time=1_700_000_000)
    value = input if use_input else proof.get("input", {})
    return ProofResult(sm.run(copy.deepcopy(value)), calls)


def _entered(events: list[dict]) -> list[tuple[int, str]]:
    out = []
    for i, e in enumerate(events):
        if e["type"].endswith("StateEntered"):
            details: Any = next((v for k, v in e.items() if k.endswith("EventDetails")), {})
            out.append((i, details.get("name")))
    return out


def _segment(events: list[dict], state: str) -> list[dict]:
    """The events of the first visit of ``state`` (from its StateEntered to its StateExited)."""
    start = None
    for i, e in enumerate(events):
        details: Any = next((v for k, v in e.items() if k.endswith("EventDetails")), {}) or {}
        if start is None and e["type"].endswith("StateEntered") and details.get("name") == state:
            start = i
        elif start is not None and e["type"].endswith("StateExited") and details.get("name") == state:
            return events[start:i + 1]
    return events[start:] if start is not None else []


def _scheduled(events: list[dict]) -> list[dict]:
    return [e for e in events if e["type"] in ("LambdaFunctionScheduled", "TaskScheduled", "ActivityScheduled")]


def observe(result: ProofResult, proof: Mapping[str, Any]) -> Any:
    """What the engine did, for the proof's ``check``."""
    ex = result.execution
    check = proof["check"]
    if check == "output":
        return ex.output if ex.status == "SUCCEEDED" else {"status": ex.status, "error": ex.error}
    if check == "error":
        return ex.error
    if check == "status":
        return ex.status
    if check == "elapsed":
        return round((ex.stop_time if ex.stop_time is not None else ex.runtime.clock.now) - ex.start_time, 3)
    if check == "path":
        return [name for _, name in _entered(ex.events)]
    if check == "next_state":
        # The first state entered after ``state`` exited (states inside a Parallel/Map are skipped).
        exited = None
        for i, e in enumerate(ex.events):
            details: Any = next((v for k, v in e.items() if k.endswith("EventDetails")), {}) or {}
            if exited is None and e["type"].endswith("StateExited") and details.get("name") == proof["state"]:
                exited = i
            elif exited is not None and e["type"].endswith("StateEntered"):
                return details.get("name")
        return None
    if check in ("retry_delays", "attempts"):
        scheduled = _scheduled(_segment(ex.events, proof["state"]))
        if check == "attempts":
            return len(scheduled)
        times = [e["timestamp"] for e in scheduled]
        return [round(b - a, 3) for a, b in zip(times, times[1:])]
    if check == "invocations":
        return result.calls.get(proof["function"], 0)
    raise ValueError(f"unknown check {check!r}")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(a - b) < 1e-6
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b or (a is None and b is None)


def check_question(question: Question) -> tuple[set[str], dict[str, Any]]:
    """Run a proven question. Returns (the option ids the engine says are correct, observations)."""
    proof = question.proof
    assert proof and "pending" not in proof, f"{question.id} has no runnable proof"
    per_option = proof.get("per_option")
    observations: dict[str, Any] = {}
    correct: set[str] = set()
    if per_option:
        for option in question.options:
            if per_option == "input":
                result = run_proof(proof, input=option.input if option.input is not None else proof.get("input"),
                                   use_input=True)
            else:
                result = run_proof(proof, machine=option.machine)
            observations[option.id] = observe(result, proof)
            if _same(observations[option.id], proof["expect"]):
                correct.add(option.id)
    else:
        result = run_proof(proof)
        seen = observe(result, proof)
        observations["*"] = seen
        correct = {o.id for o in question.options if _same(o.value, seen)}
    return correct, observations
