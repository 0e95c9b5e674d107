"""AWS-shaped execution history events (GetExecutionHistory).

Each event is a plain dict as botocore returns it, except that ``timestamp`` is virtual epoch
seconds (the client turns it into a datetime): ``{"timestamp", "type", "id", "previousEventId",
"<detailsKey>": {...}}``. Inputs and outputs inside details are JSON *text*, as on AWS.
"""
from __future__ import annotations

import json
from typing import Any

from .errors import StatesError

__all__ = ["History", "HistoryLimitExceeded", "details_key", "to_json"]


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def to_json(value: Any) -> str:
    """JSON text as AWS writes it: compact, UTF-8 kept as is."""
    return _ENCODE(value)


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:]


def details_key(event_type: str) -> str | None:
    """The ``...EventDetails`` member of an event type (None for types without details)."""
    return _DETAILS.get(event_type)


# Event types whose details member is not simply lowerFirst(type) + "EventDetails".
_STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_DETAILS: dict[str, str | None] = {f"{t}StateEntered": "stateEnteredEventDetails" for t in _STATE_TYPES}
_DETAILS.update({f"{t}StateExited": "stateExitedEventDetails" for t in _STATE_TYPES})
for _t in (
    "ActivityFailed ActivityScheduleFailed ActivityScheduled ActivityStarted ActivitySucceeded ActivityTimedOut "
    "TaskFailed TaskScheduled TaskStartFailed TaskStarted TaskSubmitFailed TaskSubmitted TaskSucceeded TaskTimedOut "
    "ExecutionFailed ExecutionStarted ExecutionSucceeded ExecutionAborted ExecutionTimedOut ExecutionRedriven "
    "MapStateStarted MapIterationStarted MapIterationSucceeded MapIterationFailed MapIterationAborted "
    "LambdaFunctionFailed LambdaFunctionScheduleFailed LambdaFunctionScheduled LambdaFunctionStartFailed "
    "LambdaFunctionSucceeded LambdaFunctionTimedOut MapRunStarted MapRunFailed MapRunRedriven EvaluationFailed"
).split():
    _DETAILS[_t] = _lower_first(_t) + "EventDetails"
# Types that carry no details at all.
for _t in ("LambdaFunctionStarted", "ParallelStateStarted", "ParallelStateSucceeded", "ParallelStateFailed",
           "ParallelStateAborted", "MapStateSucceeded", "MapStateFailed", "MapStateAborted", "TaskStateAborted",
           "WaitStateAborted", "MapRunSucceeded", "MapRunAborted"):
    _DETAILS[_t] = None


class HistoryLimitExceeded(StatesError):
    """A Standard execution's history is full (25,000 events): the execution fails."""

    def __init__(self, limit: int) -> None:
        # AWS documents the limit but not the cause text; this wording is sfnlab's.
        super().__init__("States.Runtime", f"The execution reached the maximum number of history events ({limit}).")


class History:
    """An append-only list of events with AWS's ids (1-based) and 25,000-event limit.

    The last event slot is kept for the ExecutionFailed event that reports a full history.
    """

    LIMIT = 25_000

    __slots__ = ("events", "clock", "limit")

    def __init__(self, clock: Any, limit: int | None = LIMIT) -> None:
        self.events: list[dict] = []
        self.clock = clock
        self.limit = limit

    def add(self, event_type: str, previous: int, details: dict | None = None, *, final: bool = False) -> int:
        """Append an event; returns its id. Raises HistoryLimitExceeded when the history is full."""
        if self.limit is not None and not final and len(self.events) >= self.limit - 1:
            raise HistoryLimitExceeded(self.limit)
        event_id = len(self.events) + 1
        event: dict[str, Any] = {
            "timestamp": self.clock.now,
            "type": event_type,
            "id": event_id,
            "previousEventId": previous,
        }
        if details is not None:
            key = _DETAILS.get(event_type)
            if key is not None:
                event[key] = details
        self.events.append(event)
        return event_id

    def __len__(self) -> int:
        return len(self.events)
