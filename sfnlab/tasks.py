"""Task targets: what a Task state's ``Resource`` names, and how it is called.

AWS guide, "Task workflow states" and "Invoke Lambda with Step Functions". Two Lambda forms:

* a function ARN, partial ARN or name (``arn:aws:lambda:us-east-1:123456789012:function:F:prod``):
  the effective input is the event, the function's return value is the result, and the history
  shows ``LambdaFunctionScheduled / Started / Succeeded | Failed``;
* the optimized integration ``arn:aws:states:::lambda:invoke``: Parameters carry ``FunctionName``
  and ``Payload``; the result is the Invoke response (``Payload``, ``StatusCode``, ...), and the
  history shows ``TaskScheduled / TaskStarted / TaskSucceeded | TaskFailed``.

Lambda functions are Python callables ``handler(event, context)`` given to ``sfnlab.client``. An
exception is a Lambda error: Error is the exception's class name and Cause the JSON text AWS's
Python runtime produces (``errorMessage``, ``errorType``, ``requestId``, ``stackTrace``).
"""
from __future__ import annotations

import json
import re
import traceback
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generator

from .clock import Sleep
from .errors import StatesError
from .history import to_json
from .paths import Scope

if TYPE_CHECKING:  # pragma: no cover
    from .definition import TaskState
    from .engine import Execution, Frame

__all__ = ["run_task", "parse_function_name", "LambdaContext"]

_FUNCTION_ARN = re.compile(
    # Account ids are read leniently (the seed material writes "123"): only the name matters here.
    r"^(?:arn:(?P<partition>[\w-]+):lambda:(?P<region>[\w-]+):(?P<account>\d+):function:"
    r"|(?P<short_account>\d+):function:)?(?P<name>[A-Za-z0-9_-]{1,140})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]+))?$"
)
_SERVICE_RESOURCE = re.compile(r"^arn:(?P<partition>[\w-]+):states:(?P<region>[\w-]*):(?P<account>\d*):"
                               r"(?P<service>[\w-]+):(?P<api>[\w:.-]+?)(?P<pattern>\.sync(?::2)?|\.waitForTaskToken)?$")


def parse_function_name(text: str) -> tuple[str, str | None] | None:
    """``(name, qualifier)`` of a Lambda function name or (partial) ARN, else None."""
    m = _FUNCTION_ARN.match(text or "")
    if not m:
        return None
    return m.group("name"), m.group("qualifier")


@dataclass
class LambdaContext:
    """The ``context`` argument a Python Lambda handler receives (the attributes AWS documents)."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 128
    log_group_name: str = ""
    log_stream_name: str = ""
    remaining_millis: int = 3000
    elapsed: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.remaining_millis - int(self.elapsed * 1000))

    def sleep(self, seconds: float) -> None:
        """Make this invocation take ``seconds`` of *virtual* time (never real time).

        A Python function returns at once; call this to play a slow function, for example to see
        a Task's TimeoutSeconds expire (States.Timeout) or a Map's MaxConcurrency in a timeline.
        ``time.sleep`` would really sleep and is not seen by the virtual clock.
        """
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        self.elapsed += seconds


def _request_id(execution: "Execution") -> str:
    return str(uuid.UUID(int=execution.runtime.random.getrandbits(128), version=4))


def _invoke(execution: "Execution", function_ref: str, event: Any, *, compact: bool = False) -> tuple[Any, str]:
    """Call a Python Lambda. Returns (payload, request id); raises StatesError for Lambda errors.

    The virtual time the function took (``context.sleep``) is left in ``execution.lambda_seconds``
    for the caller to spend; see :func:`_spend`.
    """
    runtime = execution.runtime
    parsed = parse_function_name(function_ref) if isinstance(function_ref, str) else None
    request_id = _request_id(execution)
    if parsed is None:
        raise StatesError("Lambda.InvalidParameterValueException",
                          f"1 validation error detected: Value '{function_ref}' at 'functionName' failed to satisfy "
                          "constraint: Member must satisfy regular expression pattern: "
                          "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?"
                          "([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))? (Service: Lambda, Status Code: 400, "
                          f"Request ID: {request_id})")
    name, qualifier = parsed
    arn = f"arn:aws:lambda:{runtime.region}:{runtime.account}:function:{name}"
    handler = runtime.functions.get(name)
    if handler is None:
        raise StatesError("Lambda.ResourceNotFoundException",
                          f"Function not found: {arn}:{qualifier or '$LATEST'} (Service: AWSLambda; Status Code: 404; "
                          f"Error Code: ResourceNotFoundException; Request ID: {request_id}; Proxy: null)")
    context = LambdaContext(
        function_name=name,
        function_version="$LATEST" if qualifier in (None, "$LATEST") else qualifier,
        invoked_function_arn=arn + (f":{qualifier}" if qualifier else ""),
        aws_request_id=request_id,
        log_group_name=f"/aws/lambda/{name}",
    )
    # The function sees a copy: what it does to its event must not leak into the execution.
    event_copy = json.loads(to_json(event))
    execution.lambda_seconds = 0.0
    try:
        result = handler(event_copy, context)
    except Exception as exc:  # noqa: BLE001 - a raised exception is a Lambda error, as on AWS
        execution.lambda_seconds = context.elapsed
        raise StatesError(type(exc).__name__, _lambda_error_cause(exc, request_id, compact)) from None
    execution.lambda_seconds = context.elapsed
    try:
        return json.loads(to_json(result)), request_id
    except (TypeError, ValueError) as exc:
        cause = json.dumps({"errorMessage": f"Unable to marshal response: {exc}", "errorType": "Runtime.MarshalError",
                            "requestId": request_id, "stackTrace": []}, separators=(",", ":"))
        raise StatesError("Runtime.MarshalError", cause) from None


def _lambda_error_cause(exc: BaseException, request_id: str, compact: bool) -> str:
    """The Cause text AWS records for an unhandled exception in a Python function.

    A function ARN as Resource passes on the runtime's own text (json.dumps' default spacing);
    ``lambda:invoke`` re-serialises the error payload compactly.
    """
    frames = traceback.extract_tb(exc.__traceback__)[1:]  # drop sfnlab's own calling frame
    error = {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }
    return json.dumps(error, separators=(",", ":")) if compact else json.dumps(error)


def _invoke_event(payload: Any) -> Any:
    """The event a function receives from ``lambda:invoke``'s ``Payload``.

    No payload is an empty object; a string is sent as the raw bytes of the request, which the
    runtime then parses as JSON; anything else is sent as JSON.
    """
    if payload is None:
        return {}
    if isinstance(payload, str):
        try:
            return json.loads(payload)
        except ValueError as exc:
            cause = json.dumps({"errorMessage": f"Unable to unmarshal input: {exc}", "errorType": "Runtime.UnmarshalError",
                                "requestId": "", "stackTrace": []})
            raise StatesError("Runtime.UnmarshalError", cause) from None
    return payload


def _invoke_response(payload: Any, request_id: str, date: str) -> dict:
    """The Lambda Invoke response as the optimized integration returns it."""
    # The Python runtime serialises the return value with json.dumps' defaults.
    length = str(len(json.dumps(payload).encode()))
    return {
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "X-Amz-Executed-Version": ["$LATEST"],
                "x-amzn-Remapped-Content-Length": ["0"],
                "Connection": ["keep-alive"],
                "x-amzn-RequestId": [request_id],
                "Content-Length": [length],
                "Date": [date],
                "Content-Type": ["application/json"],
            },
            "HttpHeaders": {
                "Connection": "keep-alive",
                "Content-Length": length,
                "Content-Type": "application/json",
                "Date": date,
                "X-Amz-Executed-Version": "$LATEST",
                "x-amzn-Remapped-Content-Length": "0",
                "x-amzn-RequestId": request_id,
            },
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200,
    }


def _http_date(seconds: float) -> str:
    from email.utils import formatdate

    return formatdate(seconds, usegmt=True)


def _timeouts(execution: "Execution", state: "TaskState", scope: Scope) -> tuple[int | None, int | None]:
    timeout = state.timeout_seconds
    if state.timeout_seconds_path is not None:
        timeout = _seconds_from_path(state.timeout_seconds_path, scope)
    heartbeat = state.heartbeat_seconds
    if state.heartbeat_seconds_path is not None:
        heartbeat = _seconds_from_path(state.heartbeat_seconds_path, scope)
    return timeout, heartbeat


def _seconds_from_path(path, scope: Scope) -> int:
    value = path.get(scope)  # PathNotFound becomes States.Runtime in the engine
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise StatesError("States.Runtime", f"The value of {path.text} must be a positive integer, but was {to_json(value)}")
    return value


def run_task(execution: "Execution", state: "TaskState", value: Any, scope: Scope, frame: "Frame") -> Generator[Any, Any, Any]:
    """Run one attempt of a Task state's work on its effective input ``value``; returns the result."""
    timeout, heartbeat = _timeouts(execution, state, scope)
    resource = state.resource
    service = _SERVICE_RESOURCE.match(resource)
    if service is None:
        if parse_function_name(resource) is not None or resource.startswith("arn:aws:lambda:"):
            return (yield from _run_lambda_arn(execution, state, value, frame, timeout, heartbeat))
        raise StatesError("States.Runtime", f"An error occurred while scheduling the state '{state.name}'. "
                                            f"The provided ARN '{resource}' is invalid.")
    if service.group("service") == "lambda" and service.group("api") == "invoke" and not service.group("pattern"):
        return (yield from _run_lambda_invoke(execution, state, value, frame, timeout, heartbeat))
    from . import integrations

    return (yield from integrations.run(execution, state, value, scope, frame, service.groupdict(), timeout, heartbeat))


class _TimedOut(Exception):
    pass


def _spend(execution: "Execution", timeout: int | None) -> Generator[Any, Any, Any]:
    """Let the virtual time a function took pass; past the Task's TimeoutSeconds, it timed out."""
    seconds = getattr(execution, "lambda_seconds", 0.0)
    execution.lambda_seconds = 0.0
    if timeout is not None and seconds >= timeout:
        yield Sleep(timeout)
        raise _TimedOut
    if seconds > 0:
        yield Sleep(seconds)


def _run_lambda_arn(execution, state, value, frame, timeout, heartbeat) -> Generator[Any, Any, Any]:
    history = execution.history
    details: dict[str, Any] = {"input": to_json(value), "inputDetails": {"truncated": False}, "resource": state.resource}
    if timeout is not None:
        details["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        details["heartbeatInSeconds"] = heartbeat
    frame.prev = history.add("LambdaFunctionScheduled", frame.prev, details)
    frame.prev = history.add("LambdaFunctionStarted", frame.prev)
    try:
        mocked = _mocked(execution, state)
        try:
            payload = mocks_apply(mocked) if mocked is not None else _invoke(execution, state.resource, value)[0]
        finally:
            yield from _spend(execution, timeout)
        check_result_size(payload, state.resource)
    except _TimedOut:
        frame.prev = history.add("LambdaFunctionTimedOut", frame.prev, {"error": "States.Timeout"})
        raise StatesError("States.Timeout", "") from None
    except StatesError as failure:
        frame.prev = history.add("LambdaFunctionFailed", frame.prev, _failure_details(failure))
        raise
    frame.prev = history.add("LambdaFunctionSucceeded", frame.prev,
                             {"output": to_json(payload), "outputDetails": {"truncated": False}})
    return payload


def _run_lambda_invoke(execution, state, value, frame, timeout, heartbeat) -> Generator[Any, Any, Any]:
    history = execution.history
    runtime = execution.runtime
    base = {"resource": "invoke", "resourceType": "lambda"}
    details: dict[str, Any] = {"parameters": to_json(value), "region": runtime.region, **base}
    if timeout is not None:
        details["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        details["heartbeatInSeconds"] = heartbeat
    frame.prev = history.add("TaskScheduled", frame.prev, details)
    frame.prev = history.add("TaskStarted", frame.prev, dict(base))
    try:
        if not isinstance(value, dict) or "FunctionName" not in value:
            raise StatesError("States.Runtime", "The field 'FunctionName' is required for the resource "
                                                f"'{state.resource}'")
        mocked = _mocked(execution, state)
        if mocked is not None:
            result = mocks_apply(mocked)  # Step Functions Local mocks give the whole Invoke response
        else:
            try:
                result = invoke_function(execution, value)
            finally:
                yield from _spend(execution, timeout)
    except _TimedOut:
        frame.prev = history.add("TaskTimedOut", frame.prev, {"error": "States.Timeout", **base})
        raise StatesError("States.Timeout", "") from None
    except StatesError as failure:
        if failure.error == "States.Runtime":
            raise
        frame.prev = history.add("TaskFailed", frame.prev, {**_failure_details(failure), **base})
        raise
    frame.prev = history.add("TaskSucceeded", frame.prev,
                             {"output": to_json(result), "outputDetails": {"truncated": False}, **base})
    return result


def invoke_function(execution: "Execution", params: Any) -> dict:
    """Lambda's Invoke through the optimized integration: the Invoke response (Payload, StatusCode...)."""
    if not isinstance(params, dict) or "FunctionName" not in params:
        raise StatesError("States.Runtime", "The field 'FunctionName' is required for the resource "
                                            "'arn:aws:states:::lambda:invoke'")
    payload, request_id = _invoke(execution, params["FunctionName"], _invoke_event(params.get("Payload")), compact=True)
    check_result_size(payload, "lambda")
    return _invoke_response(payload, request_id, _http_date(execution.runtime.clock.now))


def _mocked(execution: "Execution", state: "TaskState") -> dict | None:
    """The Step Functions Local mocked response for this call of ``state``, if any."""
    from . import mocks

    return mocks.next_response(execution, state)


def mocks_apply(step: dict) -> Any:
    from . import mocks

    return mocks.apply(step)


def check_result_size(result: Any, resource_name: str) -> None:
    """A task result over 256 KiB fails the task with States.DataLimitExceeded (catchable)."""
    from .engine import PAYLOAD_LIMIT

    text = to_json(result)
    if len(text) * 4 > PAYLOAD_LIMIT and len(text.encode("utf-8", "surrogatepass")) > PAYLOAD_LIMIT:
        raise StatesError("States.DataLimitExceeded", f"The state/task '{resource_name}' returned a result with a size "
                                                      "exceeding the maximum number of bytes service limit.")


def _failure_details(failure: StatesError) -> dict:
    details: dict[str, Any] = {"error": failure.error}
    if failure.cause is not None:
        details["cause"] = failure.cause
    return details
