"""Runs a compiled state machine: states, data flow, Retry/Catch, Map/Parallel, history.

Public surface used by the client (api.py) and the pythonic layer:

* :class:`Runtime`: one local account: its virtual clock and scheduler, the Lambda functions
  (name -> ``handler(event, context)``), the region/account and a seeded random source.
* :class:`ExecutionInfo`: names and ARNs of one execution.
* :func:`start`: begin an execution of a compiled :class:`~sfnlab.definition.Machine`; returns an
  :class:`Execution` that has run as far as it can (to its end, or until it waits on something
  outside it).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

from .clock import Scheduler, VirtualClock


@dataclass
class Runtime:
    """One local account: clock, scheduler, Lambda functions, region, account, random source."""

    functions: dict[str, Callable] = field(default_factory=dict)
    clock: VirtualClock = field(default_factory=VirtualClock)
    region: str = "us-east-1"
    account: str = "123456789012"
    seed: int | None = 0
    scheduler: Scheduler = field(init=False)
    random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.scheduler = Scheduler(self.clock)
        self.random = random.Random(self.seed)


@dataclass(frozen=True)
class ExecutionInfo:
    """Names and ARNs of one execution (they feed the context object ``$$``)."""

    arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    role_arn: str
    type: str = "STANDARD"  # or "EXPRESS"


class Execution:
    """A running or finished execution.

    Attributes:
        status: "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED".
        output: the output JSON value (SUCCEEDED only), else None.
        error, cause: set when FAILED / TIMED_OUT / ABORTED (cause may be None).
        start_time, stop_time: virtual epoch seconds (stop_time None while running).
        events: AWS-shaped history events, dicts with ``timestamp`` (epoch seconds, float),
            ``type``, ``id``, ``previousEventId`` and the ``...EventDetails`` key of the type.
        input: the execution input JSON value; input_text: the text as given.
    """

    status: str
    output: Any
    error: str | None
    cause: str | None
    start_time: float
    stop_time: float | None
    events: list[dict]

    def stop(self, error: str | None = None, cause: str | None = None) -> None:
        """Abort a RUNNING execution (StopExecution)."""
        raise NotImplementedError


def start(machine: Any, runtime: Runtime, info: ExecutionInfo, input_value: Any, input_text: str) -> Execution:
    """Start ``machine`` with ``input_value``; run until it ends or waits on the outside."""
    raise NotImplementedError
