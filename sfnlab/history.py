"""AWS-shaped execution history events (GetExecutionHistory).

Each event is a plain dict as botocore returns it, except that ``timestamp`` is virtual epoch
seconds (the client turns it into a datetime): ``{"timestamp", "type", "id", "previousEventId",
"<detailsKey>": {...}}``. Inputs and outputs inside details are JSON *text*, as on AWS.
"""
from __future__ import annotations

import json
import threading
from typing import Any, cast

from .errors import StatesError

__all__ = ["History", "HistoryLimitExceeded", "details_key", "to_json"]


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_ENCODE = _ENCODER.encode
try:
    from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]  # C accelerator, not in typeshed
    from json.encoder import encode_basestring as _encode_string
except ImportError:  # pragma: no cover - interpreters without json's C accelerator
    _c_make_encoder = None


def _new_encoder() -> Any:
    # JSONEncoder.encode's C encoder, with its own dict of the containers being encoded (the
    # circular-reference check), made once per thread instead of once per call.
    return _c_make_encoder({}, _ENCODER.default, _encode_string, None, ":", ",", False, False, True)


_local = threading.local()


def to_json(value: Any) -> str:
    """JSON text as AWS writes it: compact, UTF-8 kept as is."""
    if _c_make_encoder is None or value.__class__ is str:
        return _ENCODE(value)
    encode = getattr(_local, "encode", None)
    if encode is None:
        encode = _local.encode = _new_encoder()
    try:
        return "".join(encode(value, 0))
    except BaseException:
        _local.encode = None  # an encoding that failed may leave entries in the circular-reference dict
        raise


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

    Events are logged as five plain values each, in one flat list, and turned into AWS-shaped
    dicts only when :attr:`events` is read: a few strings and numbers are cheaper to store than
    a dict of dicts, and they leave nothing for Python's garbage collector to track, so a long
    run is not slowed down by collections that walk its whole history.
    """

    LIMIT = 25_000

    __slots__ = ("_log", "_count", "_room", "_events", "clock", "limit")

    def __init__(self, clock: Any, limit: int | None = LIMIT) -> None:
        # Per event: timestamp, type, previousEventId, then the state's name and its input or
        # output JSON text (``...StateEntered``/``...StateExited``), or the details dict and None.
        self._log: list = []
        self._count = 0
        self._room = limit - 1 if limit is not None else float("inf")  # events before the last slot
        self._events: list[dict] = []  # the dicts of the first events, made on reading
        self.clock = clock
        self.limit = limit

    def add(self, event_type: str, previous: int, details: dict | None = None, *, final: bool = False) -> int:
        """Append an event; returns its id. Raises HistoryLimitExceeded when the history is full."""
        if self._count >= self._room and not final:
            raise HistoryLimitExceeded(cast(int, self.limit))  # no limit: the room is infinite
        self._log += (self.clock.now, event_type, previous, details, None)
        self._count += 1
        return self._count

    def add_state(self, event_type: str, previous: int, name: str, text: str) -> int:
        """Append a ``...StateEntered`` (``text``: the input) or ``...StateExited`` (the output) event."""
        if self._count >= self._room:
            raise HistoryLimitExceeded(cast(int, self.limit))  # no limit: the room is infinite
        self._log += (self.clock.now, event_type, previous, name, text)
        self._count += 1
        return self._count

    @property
    def events(self) -> list[dict]:
        """The events as GetExecutionHistory shows them (the same dicts on every reading)."""
        events, log = self._events, self._log
        for i in range(len(events), self._count):
            events.append(_event(i + 1, log[5 * i:5 * i + 5]))
        return events

    @property
    def last_id(self) -> int:
        """The id of the latest event (0 before the first)."""
        return self._count

    def __len__(self) -> int:
        return self._count


def _event(event_id: int, entry: list) -> dict:
    timestamp, event_type, previous, details, text = entry
    event: dict[str, Any] = {"timestamp": timestamp, "type": event_type, "id": event_id, "previousEventId": previous}
    key = _DETAILS.get(event_type)
    if text is not None:  # a state's entry or exit: details is its name
        if key == "stateEnteredEventDetails":
            event[key] = {"input": text, "inputDetails": {"truncated": False}, "name": details}
        else:
            event[cast(str, key)] = {"name": details, "output": text, "outputDetails": {"truncated": False}}
    elif details is not None and key is not None:
        event[key] = details
    return event
