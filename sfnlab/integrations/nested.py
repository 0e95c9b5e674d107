"""``states:startExecution`` (request-response, ``.sync``, ``.sync:2``, ``.waitForTaskToken``) and
``aws-sdk:sfn:*``: Step Functions calling Step Functions of the same local account.

AWS guide, "Start a new AWS Step Functions state machine from a running execution":

* request-response: the result is ``{ExecutionArn, StartDate}`` with the SDK metadata;
* ``.sync``: the result is the child's DescribeExecution answer in PascalCase, with ``Input`` and
  ``Output`` as JSON *text*; ``.sync:2`` gives them as JSON values. When the child does not
  succeed, the task fails with ``States.TaskFailed`` and the same description (plus ``Error`` and
  ``Cause``) as JSON text in the cause.

The child is an ordinary execution of the client: ``describe_execution`` and ``list_executions``
show it.
"""
from __future__ import annotations

import json
from typing import Any, Generator

from ..clock import Resumed, Suspend
from ..errors import StatesError
from ..history import to_json

__all__ = ["call_states", "on_finish"]

_CHILD_KEY = "child-execution"


def _backend(execution):
    backend = getattr(execution.runtime, "backend", None)
    if backend is None:
        raise StatesError("States.Runtime", "states:startExecution needs an sfnlab.client() account")
    return backend


def on_finish(run, callback) -> None:
    """Call ``callback(run)`` once the engine execution ``run`` has ended."""
    run.on_finish.append(callback)


def _pascal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: _pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    return value


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _millis(seconds: Any) -> Any:
    return int(round(seconds * 1000)) if isinstance(seconds, (int, float)) else seconds


def _api_error(exc, sdk: bool, backend) -> StatesError:
    request_id = backend.request_id()
    if sdk:
        return StatesError(f"Sfn.{exc.code}Exception" if not exc.code.endswith("Exception") else f"Sfn.{exc.code}",
                           f"{exc.message} (Service: Sfn, Status Code: {exc.status}, Request ID: {request_id}) "
                           "(SDK Attempt Count: 1)")
    return StatesError(f"StepFunctions.{exc.code}Exception" if not exc.code.endswith("Exception")
                       else f"StepFunctions.{exc.code}",
                       f"{exc.message} (Service: AWSStepFunctions; Status Code: {exc.status}; Error Code: {exc.code}; "
                       f"Request ID: {request_id}; Proxy: null)")


def call_states(execution, api: str, pattern: str, value: Any, task, timeout, heartbeat, *, sdk: bool) -> Generator[Any, Any, Any]:
    from ..backend import ApiError

    backend = _backend(execution)
    params = value if isinstance(value, dict) else {}
    if sdk:
        operation = next((op for op in backend.service_model.operation_names if op.lower() == api.lower()), None)
        if operation is None:
            raise StatesError("States.Runtime", f"The resource provided arn:aws:states:::aws-sdk:sfn:{api} is not "
                                                "recognized.")
        request: dict[str, Any] = {k: v for k, v in _camel(params).items() if v is not None}  # the SDK sends no null member
        if operation == "StartExecution" and "input" in request and not isinstance(request["input"], str):
            request["input"] = to_json(request["input"])  # a JSON value is sent as its text
        try:
            answer = backend.call_nested(operation, request)
        except ApiError as exc:
            raise _api_error(exc, True, backend) from None
        return _pascal(_dates_to_text(answer, backend.service_model.operation_model(operation).output_shape))
    if api != "startExecution":
        raise StatesError("States.Runtime", f"The resource provided arn:aws:states:::states:{api} is not recognized.")
    request = {"stateMachineArn": params.get("StateMachineArn")}
    given = params.get("Input")
    request["input"] = "{}" if given is None else (given if isinstance(given, str) else to_json(given))
    if params.get("Name") is not None:
        request["name"] = params["Name"]
    try:
        started = backend.call_nested("StartExecution", request)
    except ApiError as exc:
        raise _api_error(exc, False, backend) from None
    from .aws import with_metadata

    answer = with_metadata(execution, "states", {"ExecutionArn": started["executionArn"],
                                                 "StartDate": _millis(started["startDate"])})
    if not pattern.startswith(".sync"):
        return answer
    task.submitted(answer)
    child = backend.execution(started["executionArn"])
    key = (_CHILD_KEY, started["executionArn"], id(task))
    if child.status == "RUNNING":
        scheduler = execution.runtime.scheduler
        on_finish(child, lambda run: scheduler.resume(key, Resumed(value="done")))
        resumed: Resumed = yield Suspend(key, timeout=timeout, heartbeat=heartbeat)
        if resumed.timed_out:
            failure = StatesError("States.Timeout", None)
            task.timed_out(failure)
            raise failure
    described = backend.call_nested("DescribeExecution", {"executionArn": started["executionArn"]})
    result = _sync_output(described, pattern == ".sync:2")
    if described["status"] != "SUCCEEDED":
        failure = StatesError("States.TaskFailed", to_json(result))
        task.failed(failure)
        raise failure
    task.succeeded(result)
    return result


def _dates_to_text(value: Any, shape: Any) -> Any:
    """An aws-sdk answer with its timestamp members as ISO-8601 text, as every aws-sdk integration
    answers them (S3 ``LastModified``, Step Functions ``StartDate``: ``2024-01-02T03:04:05.678Z``)."""
    if shape is None:
        return value
    if shape.type_name == "timestamp" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _instant_text(value)
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: _dates_to_text(v, shape.members.get(k)) for k, v in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [_dates_to_text(v, shape.member) for v in value]
    return value


def _instant_text(seconds: float) -> str:
    """Java's ``Instant.toString()`` (what the AWS SDK for Java prints): fractions in groups of three."""
    from datetime import datetime, timezone

    millis = int(round(seconds * 1000))
    moment = datetime.fromtimestamp(millis // 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{moment}.{millis % 1000:03d}Z" if millis % 1000 else f"{moment}Z"


def _sync_output(described: dict, parsed: bool) -> dict:
    out = _pascal({k: v for k, v in described.items() if k not in ("redriveStatus", "redriveStatusReason")})
    out["StartDate"] = _millis(described.get("startDate"))
    if "stopDate" in described:
        out["StopDate"] = _millis(described["stopDate"])
    for key in ("redriveStatus", "redriveStatusReason"):
        if key in described:
            out[key[:1].upper() + key[1:]] = described[key]
    if parsed:
        for key in ("Input", "Output"):
            if isinstance(out.get(key), str):
                try:
                    out[key] = json.loads(out[key])
                except ValueError:
                    pass
    return out
