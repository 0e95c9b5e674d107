"""Task targets other than a plain Lambda function: ``arn:aws:states:::<service>:<api>[.pattern]``.

AWS guide, "Integrating services with Step Functions" and "Service integration patterns". Every
integration here follows one of the three patterns, and records the events AWS records:

* request-response (no suffix): ``TaskScheduled`` -> ``TaskStarted`` -> ``TaskSucceeded | TaskFailed``;
  the result is the service's answer;
* ``.waitForTaskToken``: the request is sent (``TaskSubmitted`` carries the service's answer), then the
  task waits until ``SendTaskSuccess`` / ``SendTaskFailure`` names its token, or until its
  ``TimeoutSeconds`` / ``HeartbeatSeconds`` run out on the virtual clock (``TaskTimedOut``,
  ``States.Timeout``: AWS reports a missed heartbeat of a callback with that error too);
* ``.sync`` / ``.sync:2`` (``states:startExecution``): ``TaskSubmitted`` carries the start answer,
  the result is the child execution's description once it has ended.

Activities (``arn:aws:states:<region>:<account>:activity:<name>``) record ``Activity*`` events
instead, see :mod:`sfnlab.integrations.activities`.

Modules: :mod:`.aws` calls AWS services through boto3 (optimized integrations and ``aws-sdk:*``),
:mod:`.nested` starts executions of this account, :mod:`.activities` hands work to activity workers.
"""
from __future__ import annotations

from typing import Any, Generator, cast

from ..clock import Resumed, Suspend
from ..errors import StatesError
from ..history import to_json

__all__ = ["run", "TOKEN_KEY"]

TOKEN_KEY = "task-token"  # Suspend keys are (TOKEN_KEY, token)


def run(execution, state, value, scope, frame, resource: dict, timeout, heartbeat) -> Generator[Any, Any, Any]:
    """One attempt of a Task whose Resource is a Step Functions service ARN (not plain Lambda)."""
    service, api, pattern = resource["service"], resource["api"], resource["pattern"] or ""
    if service == "activity":
        from .activities import run_activity

        return (yield from run_activity(execution, state, value, frame, timeout, heartbeat))
    if service == "aws-sdk":
        sdk_service, _, action = api.partition(":")
        resource_type, resource_name = f"aws-sdk:{sdk_service}", action + pattern
    else:
        resource_type, resource_name = service, api + pattern
    express = execution.info.type == "EXPRESS"
    if express and pattern:
        # CreateStateMachine refuses these for EXPRESS machines; a definition that slipped through
        # (e.g. a Map's EXPRESS children) fails the same way at run time.
        raise StatesError("States.Runtime", f"Express state machine does not support '{pattern.split(':')[0]}' "
                                            "service integration")
    task = _TaskEvents(execution, frame, resource_type, resource_name)
    task.scheduled(value, timeout, heartbeat)
    token = (scope.context.get("Task") or {}).get("Token") if pattern == ".waitForTaskToken" else None
    if token is not None:
        register_token(execution, token, "callback")
    try:
        from .. import mocks

        mocked = mocks.next_response(execution, state)
        if mocked is not None:
            result = mocks.apply(mocked)
            task.succeeded(result)
            return result
        if service == "lambda" and api == "invoke":
            from ..tasks import invoke_function

            answer = invoke_function(execution, value)  # .waitForTaskToken: the function gets the token
        elif service == "states" or (service == "aws-sdk" and resource_type == "aws-sdk:sfn"):
            from .nested import call_states

            answer = yield from call_states(execution, api if service == "states" else action, pattern, value, task,
                                            timeout, heartbeat, sdk=service == "aws-sdk")
            if pattern.startswith(".sync"):
                return answer
        else:
            from .aws import call

            answer = call(execution, service, api, value)
    except StatesError as failure:
        if failure.error == "States.Runtime":
            raise
        task.failed(failure)
        raise
    if pattern != ".waitForTaskToken":
        task.succeeded(answer)
        return answer
    task.submitted(answer)
    return (yield from wait_for_token(execution, task, cast(str, token), timeout, heartbeat))  # set for this pattern


def register_token(execution, token: str, kind: str, **extra: Any) -> None:
    """Let SendTask* find the task that waits on ``token``."""
    tokens = getattr(execution.runtime, "task_tokens", None)
    if tokens is None:
        tokens = execution.runtime.task_tokens = {}
    tokens[token] = {"execution": execution, "key": (TOKEN_KEY, token), "kind": kind, **extra}


def wait_for_token(execution, task: "_TaskEvents", token: str, timeout, heartbeat) -> Generator[Any, Any, Any]:
    resumed: Resumed = yield Suspend((TOKEN_KEY, token), timeout=timeout, heartbeat=heartbeat)
    if resumed.timed_out:
        failure = StatesError("States.Timeout", None)
        task.timed_out(failure)
        raise failure
    if resumed.error is not None:
        failure = StatesError(resumed.error[0], resumed.error[1])
        failure.error = resumed.error[0]  # SendTaskFailure may name no error at all
        task.failed(failure)
        raise failure
    task.succeeded(resumed.value)
    return resumed.value


class _TaskEvents:
    """The Task* history events of one attempt, linked one after another."""

    def __init__(self, execution, frame, resource_type: str, resource: str) -> None:
        self.execution = execution
        self.frame = frame
        self.base = {"resourceType": resource_type, "resource": resource}

    def add(self, kind: str, details: dict | None = None) -> None:
        self.frame.prev = self.execution.history.add(kind, self.frame.prev, details)

    def scheduled(self, value: Any, timeout, heartbeat) -> None:
        details: dict[str, Any] = {"parameters": to_json(value), "region": self.execution.runtime.region, **self.base}
        if timeout is not None:
            details["timeoutInSeconds"] = timeout
        if heartbeat is not None:
            details["heartbeatInSeconds"] = heartbeat
        self.add("TaskScheduled", details)
        self.add("TaskStarted", dict(self.base))

    def submitted(self, output: Any) -> None:
        self.add("TaskSubmitted", {"output": to_json(output), "outputDetails": {"truncated": False}, **self.base})

    def succeeded(self, output: Any) -> None:
        self.add("TaskSucceeded", {"output": to_json(output), "outputDetails": {"truncated": False}, **self.base})

    def failed(self, failure: StatesError) -> None:
        self.add("TaskFailed", {**_error_details(failure), **self.base})

    def timed_out(self, failure: StatesError) -> None:
        self.add("TaskTimedOut", {**_error_details(failure), **self.base})


def _error_details(failure: StatesError) -> dict:
    details: dict[str, Any] = {}
    if failure.error is not None:
        details["error"] = failure.error
    if failure.cause is not None:
        details["cause"] = failure.cause
    return details
