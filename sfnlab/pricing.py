"""What an execution would cost on AWS, as a Standard and as an Express workflow.

AWS pricing page, "AWS Step Functions Pricing" (us-east-1). Standard workflows are charged per
state transition, retries included; Express workflows per request plus duration × memory, the
duration rounded up to 100 ms and the memory billed in 64 MB chunks. Prices change: the table
below says when it was read, and is the one place to update.

    >>> import sfnlab
    >>> from sfnlab.pricing import estimate
    >>> ex = sfnlab.StateMachine({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}).run({})
    >>> cost = estimate(ex, executions=1_000_000)
    >>> round(cost.standard, 2), round(cost.express, 2)
    (25.0, 1.1)
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["PRICES", "CostEstimate", "estimate", "transitions_of"]

# us-east-1 list prices, read from the AWS pricing page on 2026-11-25.
PRICES: dict[str, Any] = {
    "as_of": "2026-11-25",
    "region": "us-east-1",
    "standard_per_transition": 0.025 / 1000,
    "standard_free_transitions_per_month": 4000,
    "express_per_request": 1.00 / 1_000_000,
    # (GB-seconds in this tier per month, price per GB-second)
    "express_gb_second_tiers": (
        (1_000 * 3600, 0.0600 / 3600),
        (4_000_000 * 3600, 0.0300 / 3600),
        (math.inf, 0.0164 / 3600),
    ),
    "express_memory_chunk_mb": 64,
    "express_duration_step_ms": 100,
}


@dataclass(frozen=True)
class CostEstimate:
    """The monthly cost of running an execution like this one ``executions`` times.

    Free tiers are left out (the Standard free tier, 4,000 transitions a month, is noted in
    ``PRICES``); Lambda, DynamoDB and other services the tasks call are billed apart.
    """

    executions: int
    transitions: int
    billed_ms: int
    memory_mb: int
    standard: float
    express: float

    def __str__(self) -> str:
        return (f"{self.executions:,} executions × {self.transitions} transitions: Standard ${self.standard:,.2f}; "
                f"Express ${self.express:,.2f} ({self.billed_ms} ms × {self.memory_mb} MB each) "
                f"[{PRICES['region']} prices of {PRICES['as_of']}]")

    def _repr_html_(self) -> str:
        rows = (("Standard", f"{self.transitions} transitions × ${PRICES['standard_per_transition']:.6f}",
                 self.standard),
                ("Express", f"1 request + {self.billed_ms} ms × {self.memory_mb} MB", self.express))
        body = "".join(f"<tr><td>{kind}</td><td>{html.escape(basis)}</td><td>${cost:,.2f}</td></tr>"
                       for kind, basis, cost in rows)
        return (f"<table><tr><th>type</th><th>per execution</th><th>{self.executions:,} executions</th></tr>{body}"
                f"</table><small>{PRICES['region']} list prices read {PRICES['as_of']}; free tiers and the "
                f"services tasks call are not included.</small>")


def transitions_of(execution: Any) -> int:
    """State transitions AWS would bill: every state entered, plus every retry of a Task/Map/Parallel."""
    entered = sum(1 for e in execution.events if e["type"].endswith("StateEntered"))
    retries = sum(max(0, len(r.get("attempts") or ()) - 1) for r in execution.records)
    return entered + retries


def _express_duration_cost(gb_seconds: float) -> float:
    cost, left = 0.0, gb_seconds
    for size, price in PRICES["express_gb_second_tiers"]:
        used = min(left, size)
        cost += used * price
        left -= used
        if left <= 0:
            break
    return cost


def estimate(execution: Any, *, executions: int = 1, memory_mb: int = 64) -> CostEstimate:
    """Price ``executions`` runs like ``execution`` as Standard and as Express workflows.

    Args:
        execution: a finished :class:`~sfnlab.engine.Execution` (its virtual duration and history).
        executions: how many such executions a month.
        memory_mb: memory an Express execution uses (AWS bills 64 MB chunks; small workflows
            use the first chunk).
    """
    transitions = transitions_of(execution)
    seconds = (execution.stop_time or execution.runtime.clock.now) - execution.start_time
    step = PRICES["express_duration_step_ms"]
    billed_ms = max(step, math.ceil(round(seconds * 1000, 3) / step) * step)
    chunk = PRICES["express_memory_chunk_mb"]
    billed_mb = max(chunk, math.ceil(memory_mb / chunk) * chunk)
    standard = executions * transitions * PRICES["standard_per_transition"]
    gb_seconds = executions * (billed_ms / 1000) * (billed_mb / 1024)
    express = executions * PRICES["express_per_request"] + _express_duration_cost(gb_seconds)
    return CostEstimate(executions, transitions, billed_ms, billed_mb, standard, express)
