"""The benchmark workloads: each builds a state machine definition and its input.

Both engines run exactly the same definition and input. Each builder returns a :class:`Workload`
that also says what a correct run looks like (final status, number of states entered, and for
the waiting workloads the virtual time the execution must take), so ``run.py`` can check that an
engine did the work it was timed on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

ROLE_ARN = "arn:aws:iam::123456789012:role/sfnlab-bench"
ALWAYS_FAILS_ARN = "arn:aws:lambda:us-east-1:123456789012:function:AlwaysFails"


@dataclass
class Workload:
    key: str
    title: str
    definition: dict
    input: Any
    transitions: int  # states entered by a correct run (the count of *StateEntered events)
    status: str = "SUCCEEDED"
    virtual_seconds: float | None = None  # stopDate - startDate a correct run must show
    machine_type: str = "STANDARD"  # EXPRESS: no 25,000-event history limit (the big B3 series)
    api: str | None = None  # "machine": sfnlab runs it with StateMachine.run (definitions over 1 MiB)
    check: Callable[[Any], str | None] | None = field(default=None, repr=False)  # output -> problem


def b1_pass_chain(n: int = 1000) -> Workload:
    """A chain of ``n`` Pass states, each with Parameters (one JsonPath, one constant) and a ResultPath."""
    states = {}
    for i in range(n):
        state: dict[str, Any] = {
            "Type": "Pass",
            "Parameters": {"step": i, "seen.$": "$.seed", "previous.$": "$.last.step"},
            "ResultPath": "$.last",
        }
        if i + 1 < n:
            state["Next"] = f"P{i + 1}"
        else:
            state["End"] = True
        states[f"P{i}"] = state

    def check(output: Any) -> str | None:
        if output != {"seed": "abc", "last": {"step": n - 1, "seen": "abc", "previous": n - 2}}:
            return f"unexpected output {str(output)[:120]}"
        return None

    return Workload(
        "B1",
        f"chain of {n:,} Pass states (Parameters + ResultPath)",
        {"Comment": "B1", "StartAt": "P0", "States": states},
        {"seed": "abc", "last": {"step": -1}},
        transitions=n,
        check=check,
    )


def b2_counter_loop(limit: int = 5000) -> Workload:
    """Pass (States.MathAdd) + Choice loop counting from 0 to ``limit``: 2*limit + 1 transitions."""
    definition = {
        "Comment": "B2",
        "StartAt": "Increment",
        "States": {
            "Increment": {
                "Type": "Pass",
                "Parameters": {"count.$": "States.MathAdd($.count, 1)"},
                "Next": "Done?",
            },
            "Done?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.count", "NumericLessThan": limit, "Next": "Increment"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }

    def check(output: Any) -> str | None:
        return None if output == {"count": limit} else f"unexpected output {str(output)[:120]}"

    return Workload(
        "B2",
        f"Pass + Choice loop counting to {limit:,} with States.MathAdd",
        definition,
        {"count": 0},
        transitions=2 * limit + 1,
        check=check,
    )


def b3_inline_map(items: int = 2000, machine_type: str = "STANDARD", compact: bool = False) -> Workload:
    """An inline Map over ``items`` items; each iteration is Pass -> Choice -> Succeed.

    ``compact``: each iteration outputs only its number (the Succeed states' ``OutputPath:
    $.double``), so that the Map's output stays under the 256 KiB payload limit at 10,000 items.
    """
    ends = {"OutputPath": "$.double"} if compact else {}
    definition = {
        "Comment": "B3",
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Shape",
                    "States": {
                        "Shape": {
                            "Type": "Pass",
                            "Parameters": {"id.$": "$.id", "double.$": "States.MathAdd($.id, $.id)"},
                            "Next": "Big?",
                        },
                        "Big?": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$.double", "NumericGreaterThanEquals": items, "Next": "Big"}],
                            "Default": "Small",
                        },
                        "Big": {"Type": "Succeed", **ends},
                        "Small": {"Type": "Succeed", **ends},
                    },
                },
                "End": True,
            }
        },
    }

    def check(output: Any) -> str | None:
        expected = [2 * i if compact else {"id": i, "double": 2 * i} for i in range(items)]
        return None if output == expected else f"unexpected output {str(output)[:120]}"

    return Workload(
        "B3",
        f"inline Map over {items:,} items, each Pass -> Choice -> Succeed"
        + (" (output: the numbers)" if compact else "") + (f", {machine_type}" if machine_type != "STANDARD" else ""),
        definition,
        {"items": [{"id": i} for i in range(items)]},
        transitions=1 + 3 * items,
        check=check,
        machine_type=machine_type,
    )


def b4_parallel(branches: int = 10, length: int = 50) -> Workload:
    """A Parallel state of ``branches`` branches, each a chain of ``length`` Pass states."""
    branch_defs = []
    for b in range(branches):
        states = {}
        for i in range(length):
            state: dict[str, Any] = {"Type": "Pass", "Parameters": {"branch": b, "step": i}}
            if i + 1 < length:
                state["Next"] = f"B{b}P{i + 1}"
            else:
                state["End"] = True
            states[f"B{b}P{i}"] = state
        branch_defs.append({"StartAt": f"B{b}P0", "States": states})
    definition = {
        "Comment": "B4",
        "StartAt": "Fan",
        "States": {"Fan": {"Type": "Parallel", "Branches": branch_defs, "End": True}},
    }

    def check(output: Any) -> str | None:
        expected = [{"branch": b, "step": length - 1} for b in range(branches)]
        return None if output == expected else f"unexpected output {str(output)[:120]}"

    return Workload(
        "B4",
        f"Parallel of {branches} branches x {length} Pass states",
        definition,
        {},
        transitions=1 + branches * length,
        check=check,
    )


def b5_waits(count: int = 100, seconds: int = 3600) -> Workload:
    """``count`` Wait states of ``seconds`` each: count*seconds of (virtual) time."""
    states = {}
    for i in range(count):
        state: dict[str, Any] = {"Type": "Wait", "Seconds": seconds}
        if i + 1 < count:
            state["Next"] = f"W{i + 1}"
        else:
            state["End"] = True
        states[f"W{i}"] = state
    return Workload(
        "B5",
        f"{count} Wait states of {seconds:,} s",
        {"Comment": "B5", "StartAt": "W0", "States": states},
        {"waited": True},
        transitions=count,
        virtual_seconds=float(count * seconds),
        check=lambda output: None if output == {"waited": True} else f"unexpected output {output!r}",
    )


def b6_retry_backoff() -> Workload:
    """A Lambda Task that always fails, retried 5 times at 2, 4, 8, 16, 32 s (62 s in all)."""
    definition = {
        "Comment": "B6",
        "StartAt": "Flaky",
        "States": {
            "Flaky": {
                "Type": "Task",
                "Resource": ALWAYS_FAILS_ARN,
                "Retry": [
                    {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 2, "MaxAttempts": 5}
                ],
                "End": True,
            }
        },
    }
    return Workload(
        "B6",
        "Lambda Task that always fails; Retry IntervalSeconds 2, BackoffRate 2, MaxAttempts 5 (62 s)",
        definition,
        {"attempt": "always fails"},
        transitions=1,
        status="FAILED",
        virtual_seconds=2.0 + 4 + 8 + 16 + 32,
    )


def always_fails(event: Any, context: Any) -> Any:
    """The Lambda function of B6 (sfnlab runs it in-process)."""
    raise RuntimeError("this function always fails")


WORKLOADS: dict[str, Callable[[], Workload]] = {
    "B1": b1_pass_chain,
    "B2": b2_counter_loop,
    "B3": b3_inline_map,
    "B4": b4_parallel,
    "B5": b5_waits,
    "B6": b6_retry_backoff,
}

def _machine_api(wl: Workload) -> Workload:
    wl.api = "machine"
    return wl


# Scaling series: the same workloads at other sizes, within AWS's limits, which sfnlab enforces:
# * B1 with 10,000 states is a 1.4 MB definition and CreateStateMachine takes at most 1 MiB, so
#   sfnlab runs the whole B1 series with StateMachine(...).run() (moto through boto3 as always);
# * a Standard execution's history holds at most 25,000 events and each B3 item writes 8, and a
#   state's output at most 256 KiB: the B3 series runs as an EXPRESS state machine
#   (StartSyncExecution; no history limit) whose iterations output only their number.
SERIES: dict[str, Callable[[], Workload]] = {
    "B1m-100": lambda: _machine_api(b1_pass_chain(100)),
    "B1m-1000": lambda: _machine_api(b1_pass_chain(1_000)),
    "B1m-10000": lambda: _machine_api(b1_pass_chain(10_000)),
    "B3x-1000": lambda: b3_inline_map(1_000, "EXPRESS", compact=True),
    "B3x-10000": lambda: b3_inline_map(10_000, "EXPRESS", compact=True),
}
ALL: dict[str, Callable[[], Workload]] = {**WORKLOADS, **SERIES}
