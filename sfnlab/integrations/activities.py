"""Activity tasks: ``arn:aws:states:<region>:<account>:activity:<name>``.

AWS guide, "Learn about Activities in Step Functions". The task is queued on the activity
(``ActivityScheduled``); a worker takes it with ``GetActivityTask`` (``ActivityStarted`` with its
``workerName``) and answers with ``SendTaskSuccess`` / ``SendTaskFailure`` (``ActivitySucceeded`` /
``ActivityFailed``), keeping it alive with ``SendTaskHeartbeat``. ``TimeoutSeconds`` counts from
scheduling, ``HeartbeatSeconds`` from the start or the last heartbeat (``ActivityTimedOut``).
"""
from __future__ import annotations

from typing import Any, Generator

from ..clock import Resumed, Suspend
from ..errors import StatesError
from ..history import to_json
from . import TOKEN_KEY, register_token

__all__ = ["run_activity"]


def run_activity(execution, state, value: Any, frame, timeout, heartbeat) -> Generator[Any, Any, Any]:
    history = execution.history
    runtime = execution.runtime
    backend = getattr(runtime, "backend", None)
    arn = state.resource
    details: dict[str, Any] = {"input": to_json(value), "inputDetails": {"truncated": False}, "resource": arn}
    if timeout is not None:
        details["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        details["heartbeatInSeconds"] = heartbeat
    frame.prev = history.add("ActivityScheduled", frame.prev, details)
    if backend is None or not backend.has_activity(arn):
        failure = StatesError("States.Runtime", f"Activity does not exist: '{arn}'")
        frame.prev = history.add("ActivityScheduleFailed", frame.prev, {"error": failure.error, "cause": failure.cause})
        raise failure
    token = execution.task_token()
    register_token(execution, token, "activity", activity=arn)
    backend.queue_activity_task(arn, token, to_json(value))
    key = (TOKEN_KEY, token)
    scheduled_at = runtime.clock.now
    resumed: Resumed = yield Suspend(key, timeout=timeout)
    if resumed.timed_out:
        backend.drop_activity_task(arn, token)
        return _timed_out(execution, frame, "States.Timeout")
    if isinstance(resumed.value, dict) and "workerName" in resumed.value:
        started: dict[str, Any] = {}
        if resumed.value["workerName"] is not None:
            started["workerName"] = resumed.value["workerName"]
        frame.prev = history.add("ActivityStarted", frame.prev, started)
        remaining = None if timeout is None else max(0.0, timeout - (runtime.clock.now - scheduled_at))
        resumed = yield Suspend(key, timeout=remaining, heartbeat=heartbeat)
    if resumed.timed_out:
        return _timed_out(execution, frame, "States.Timeout" if resumed.timed_out == "timeout"
                          else "States.HeartbeatTimeout")
    if resumed.error is not None:
        failure = StatesError(resumed.error[0], resumed.error[1])
        failure.error = resumed.error[0]
        failed: dict[str, Any] = {}
        if failure.error is not None:
            failed["error"] = failure.error
        if failure.cause is not None:
            failed["cause"] = failure.cause
        frame.prev = history.add("ActivityFailed", frame.prev, failed)
        raise failure
    frame.prev = history.add("ActivitySucceeded", frame.prev,
                             {"output": to_json(resumed.value), "outputDetails": {"truncated": False}})
    return resumed.value


def _timed_out(execution, frame, error: str):
    frame.prev = execution.history.add("ActivityTimedOut", frame.prev, {"error": error})
    raise StatesError(error, None)
