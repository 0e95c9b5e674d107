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


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_ENCODE = _ENCODER.encode
try:
    from json.encoder import c_make_encoder as _c_make_encoder, encode_basestring as _encode_string
except ImportError:  # pragma: no cover - interpreters without json's C accelerator
    _c_make_encoder = None


def to_json(value: Any) -> str:
    """JSON text as AWS writes it: compact, UTF-8 kept as is."""
    if _c_make_encoder is None or value.__class__ is str:
        return _ENCODE(value)
    # What JSONEncoder.encode does, without rebuilding its Python-level closures on every call
    # (one per state input and output). A fresh markers dict keeps the circular-reference check.
    return "".join(_c_make_encoder({}, _ENCODER.default, _encode_string, None, ":", ",", False, False, True)(value, 0))


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

    Events are logged as small tuples and turned into AWS-shaped dicts only when
    :attr:`events` is read: a tuple of strings and numbers is cheaper to make than a dict of
    dicts, and Python's garbage collector stops tracking it, so a long run is not slowed down
    by collections that walk its whole history.
    """

    LIMIT = 25_000

    __slots__ = ("_log", "_events", "clock", "limit")

    def __init__(self, clock: Any, limit: int | None = LIMIT) -> None:
        # (timestamp, type, previousEventId, details) or, for a state's entry or exit,
        # (timestamp, type, previousEventId, state name, input or output JSON text).
        self._log: list[tuple] = []
        self._events: list[dict] = []  # the dicts of _log[:len(_events)], made on reading
        self.clock = clock
        self.limit = limit

    def add(self, event_type: str, previous: int, details: dict | None = None, *, final: bool = False) -> int:
        """Append an event; returns its id. Raises HistoryLimitExceeded when the history is full."""
        log = self._log
        if self.limit is not None and not final and len(log) >= self.limit - 1:
            raise HistoryLimitExceeded(self.limit)
        log.append((self.clock.now, event_type, previous, details))
        return len(log)

    def add_state(self, event_type: str, previous: int, name: str, text: str) -> int:
        """Append a ``...StateEntered`` (``text``: the input) or ``...StateExited`` (the output) event."""
        log = self._log
        if self.limit is not None and len(log) >= self.limit - 1:
            raise HistoryLimitExceeded(self.limit)
        log.append((self.clock.now, event_type, previous, name, text))
        return len(log)

    @property
    def events(self) -> list[dict]:
        """The events as GetExecutionHistory shows them (the same dicts on every reading)."""
        events, log = self._events, self._log
        if len(events) < len(log):
            events.extend(_event(i + 1, log[i]) for i in range(len(events), len(log)))
        return events

    @property
    def last_id(self) -> int:
        """The id of the latest event (0 before the first)."""
        return len(self._log)

    def __len__(self) -> int:
        return len(self._log)


def _event(event_id: int, entry: tuple) -> dict:
    event: dict[str, Any] = {"timestamp": entry[0], "type": entry[1], "id": event_id, "previousEventId": entry[2]}
    key = _DETAILS.get(entry[1])
    if len(entry) == 5:
        if key == "stateEnteredEventDetails":
            event[key] = {"input": entry[4], "inputDetails": {"truncated": False}, "name": entry[3]}
        else:
            event[key] = {"name": entry[3], "output": entry[4], "outputDetails": {"truncated": False}}
    elif entry[3] is not None and key is not None:
        event[key] = entry[3]
    return event
