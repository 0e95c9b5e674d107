"""TestState: run one state on its own, as AWS's ``TestState`` API does, and show its data flow.

AWS API reference, "TestState", "MockInput", "TestStateConfiguration", "InspectionData"; the
developer guide, "Testing states with TestState". The rules below follow those pages and the
answers recorded from AWS in the conformance corpus (``test_state_*`` cases).

The request:

* ``definition`` is one state, or a whole machine with ``stateName`` naming the state to run
  (anywhere in the machine, Map and Parallel children included). A lone state is JSONPath unless
  it says otherwise; a state picked out of a machine keeps the query language it has there. AWS
  runs the state under the name ``StateName`` (that is what ``$$.State.Name`` reads, and where
  definition errors are located: ``/States/StateName/...``). Its ``Next`` may name states that do
  not exist: TestState runs one state and reports ``nextState``.
* ``inspectionLevel`` INFO answers status, output, error, cause and nextState; DEBUG and TRACE add
  ``inspectionData`` (each data-flow stage as JSON text; Map settings as numbers; ``errorDetails``).
* ``mock`` replaces the work of a Task, Map or Parallel state with ``result`` (JSON text) or
  ``errorOutput`` (``error``/``cause``). Map and Parallel states, callback (``.waitForTaskToken``)
  and ``.sync`` tasks can be tested only with a mock; Pass, Succeed, Fail, Choice and Wait cannot
  be mocked. A mocked result of a service integration is checked against the service API's output
  shape (``fieldValidationMode``: STRICT, the default, also wants the required fields; PRESENT
  checks only the fields given; NONE checks nothing).
* ``context`` replaces the context object ``$$`` (it may hold Execution, State, StateMachine and,
  for callback and ``.sync`` tasks, Task; never Map). ``variables`` are the workflow variables
  the state sees.
* ``stateConfiguration``: ``retrierRetryCount`` (attempts already made under the retrier that
  matches the error), ``mapIterationFailureCount`` (how many of a mocked Map's iterations failed:
  past the Map's tolerated failure threshold, the Map fails with
  ``States.ExceedToleratedFailureThreshold``), ``errorCausedByState`` (the child state a mocked
  Map/Parallel error comes from), ``mapItemReaderData`` (what an ItemReader would read).

The answer's ``status``: SUCCEEDED, FAILED, CAUGHT_ERROR (a Catch took the error: ``nextState``
is the catcher's), or RETRIABLE (a retrier still has attempts: ``errorDetails`` tells which and
after how long). A Retry never waits here, and neither does a Wait state.
"""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Generator, Set
from functools import lru_cache
from typing import Any

from . import engine
from .backend import ApiError, _invalid_input_reason
from .clock import Join, Sleep, Suspend, iso
from .definition import JSONATA, JSONPATH, Machine, load
from .errors import DefinitionError, Diagnostic, StatesError, matches
from .history import to_json
from .paths import PathNotFound, Scope
from .visits import Visit

__all__ = ["STATE_NAME", "test_state"]

STATE_NAME = "StateName"  # the name AWS gives the state under test

_VALIDATION = "ValidationException"
_MOCKABLE = ("Task", "Map", "Parallel")
_THRESHOLD = ("States.ExceedToleratedFailureThreshold", "The specified tolerated failure threshold was exceeded")
_SCOPE_PREFIX = re.compile(r"^An error occurred while executing the state '[^']*' \(entered at the event id #\d+\)\. ")
_MAP_NOT_ARRAY = "Map state input must be an array but was: "

# Fields a mocked context object may hold, and the JSON type each must have.
_CONTEXT_FIELDS: dict[str, dict[str, tuple[type, ...] | None]] = {
    "Execution": {"Id": (str,), "Input": None, "Name": (str,), "RoleArn": (str,), "StartTime": (str,),
                  "RedriveCount": (int,), "RedriveTime": (str,)},
    "State": {"EnteredTime": (str,), "Name": (str,), "RetryCount": (int,)},
    "StateMachine": {"Id": (str,), "Name": (str,)},
    "Task": {"Token": (str,)},
}
_TYPE_WORDS = {str: "a string", int: "an integer"}


def _invalid(message: str) -> ApiError:
    return ApiError(_VALIDATION, message)


# ----------------------------------------------------------------------------------------------
# The operation


def test_state(runtime: engine.Runtime, *, definition: str, roleArn: str | None = None,
               input: str | None = None, inspectionLevel: str | None = None,
               revealSecrets: bool | None = None, variables: str | None = None, stateName: str | None = None,
               mock: dict | None = None, context: str | None = None, stateConfiguration: dict | None = None,
               **_ignored: Any) -> dict:
    """Answer a TestState request on ``runtime`` (the account); returns the response body.

    Raises:
        ApiError: ValidationException, InvalidDefinition or InvalidExecutionInput, with AWS's
            messages, for requests AWS refuses.
    """
    try:
        return _test_state(runtime, definition, roleArn, input, inspectionLevel, revealSecrets, variables,
                           stateName, mock, context, stateConfiguration)
    except DefinitionError as exc:
        raise ApiError("InvalidDefinition", exc.message) from None


def _test_state(runtime: engine.Runtime, definition: str, roleArn: str | None, input: str | None,
                inspectionLevel: str | None, revealSecrets: bool | None, variables: str | None,
                stateName: str | None, mock: dict | None, context: str | None,
                stateConfiguration: dict | None) -> dict:
    level = inspectionLevel or "INFO"
    config = stateConfiguration or {}
    mock = mock or {}
    has_result, has_error = "result" in mock, "errorOutput" in mock
    if has_result and has_error:
        raise _invalid("A test mock should have only one of the following fields: [result, errorOutput].")
    mocked = has_result or has_error
    if revealSecrets and mocked:
        raise _invalid("TestState does not support RevealSecrets when a mock is specified.")

    raw, language = _state_under_test(definition, stateName)
    state_type = raw.get("Type")

    if config.get("mapIterationFailureCount") is not None and not mocked:
        raise _invalid("TestState does not support MapIterationFailureCount when a mock is not specified.")
    if state_type in ("Map", "Parallel") and not mocked:
        raise ApiError("InvalidDefinition", "TestState API does not support Map or Parallel states. "
                                            "Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]")
    if mocked and state_type not in _MOCKABLE:
        raise _invalid(f"State type '{state_type}' is not supported when a mock is specified")
    if state_type == "Task" and not mocked and _needs_mock(raw.get("Resource")):
        # wording unverified: the API reference's sentence (no recorded answer names it)
        raise _invalid("TestState only supports Activity tasks, .sync or .waitForTaskToken service integration "
                       "patterns when a mock is specified.")
    if state_type == "Task" and not mocked and not roleArn:
        raise _invalid("RoleArn must be specified when testing a Task state")

    mock_result: Any = None
    mock_error: tuple[str | None, str | None] | None = None
    if has_result:
        mock_result = _mock_result(mock["result"], raw, config)
        mode = mock.get("fieldValidationMode") or "STRICT"
        if state_type == "Task" and mode != "NONE":
            _validate_mock_fields(raw.get("Resource"), mock_result, strict=mode == "STRICT")
    elif has_error:
        out = mock.get("errorOutput") or {}
        mock_error = (out.get("error"), out.get("cause"))

    context_value = _context_object(context, raw) if context is not None else None
    variables_value = _variables(variables)
    input_text = input if input is not None else "{}"
    reason = _invalid_input_reason(input_text)
    if reason is not None:
        raise ApiError("InvalidExecutionInput", f"Invalid State Machine Execution Input: '{reason}'")
    input_value = json.loads(input_text)

    reader_data = _reader_data(config.get("mapItemReaderData"))
    machine = _one_state_machine(raw, language, reader_data)
    state = machine.graph.states[STATE_NAME]
    run = _Run(runtime, machine, state, roleArn, input_value, input_text, context_value, variables_value,
               engine.TestMode(has_mock=mocked, mock_result=mock_result, mock_error=mock_error,
                               retrier_retry_count=int(config.get("retrierRetryCount") or 0)),
               config.get("mapIterationFailureCount"), reader_data)
    return run.answer(level)


# ----------------------------------------------------------------------------------------------
# The definition: one state, or one state of a machine


def _state_under_test(definition: str, state_name: str | None) -> tuple[dict, str]:
    """The raw state to run and its query language; InvalidDefinition as AWS words it."""
    try:
        parsed = json.loads(definition)
    except ValueError:
        parsed = None
    if state_name is not None:
        _refuse_invalid(_diagnostics(definition))
        machine = load(definition, validate=False)
        try:
            state = machine.state(state_name)
        except KeyError:
            raise _invalid("State not found in definition") from None
        return dict(state.raw), state.query_language
    if not isinstance(parsed, dict):
        _refuse_invalid(_diagnostics(definition))
        raise DefinitionError([Diagnostic("SCHEMA_VALIDATION_FAILED", "Definition must be a valid JSON object")])
    language = parsed.get("QueryLanguage") or JSONPATH
    # Validate the state as the only state of a machine; its transitions go to stand-ins.
    wrapper: dict[str, Any] = {"QueryLanguage": language, "StartAt": STATE_NAME, "States": {STATE_NAME: parsed}}
    for target in _targets(parsed):
        wrapper["States"].setdefault(target, {"Type": "Succeed"})
    _refuse_invalid(_diagnostics(json.dumps(wrapper)))
    return parsed, language


def _targets(raw: dict) -> list[str]:
    found = [raw.get("Next"), raw.get("Default")]
    for key in ("Choices", "Catch"):
        entries = raw.get(key)
        if isinstance(entries, list):
            found += [e.get("Next") for e in entries if isinstance(e, dict)]
    return [t for t in found if isinstance(t, str) and t != STATE_NAME]


def _diagnostics(text: str) -> list[Diagnostic]:
    from .validation import validate

    return [d for d in validate(text) if d.severity == "ERROR"]


def _refuse_invalid(problems: list[Diagnostic]) -> None:
    if problems:
        raise DefinitionError(problems)


def _one_state_machine(raw: dict, language: str, reader_data: Any) -> Machine:
    """A machine whose only state is ``raw``, named as AWS names it."""
    body = dict(raw)
    if body.get("Type") == "Map" and "ItemReader" in body:
        # TestState never reads from S3: the items are what stateConfiguration.mapItemReaderData says.
        del body["ItemReader"]
        items = reader_data if isinstance(reader_data, list) else []
        if language == JSONATA:
            body["Items"] = items
        else:
            body["ItemsPath"] = "$$." + _READER_KEY
    return load({"QueryLanguage": language, "StartAt": STATE_NAME, "States": {STATE_NAME: body}}, validate=False)


_READER_KEY = "sfnlabItemReaderData"


# ----------------------------------------------------------------------------------------------
# Request fields


def _mock_result(text: str, raw: dict, config: dict) -> Any:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        raise _invalid("Mocked result must be valid JSON") from None
    kind = raw.get("Type")
    if kind == "Parallel":
        if not isinstance(value, list):
            raise _invalid("Mocked result must be an array.")
        if len(value) != len(raw.get("Branches") or []):
            raise _invalid("Mocked result must contain the same number of items as number of Parallel branches.")
    elif kind == "Map":
        if "ResultWriter" in raw:
            if not isinstance(value, dict):
                raise _invalid("Mocked result must be a JSON object.")
        elif not isinstance(value, list):
            raise _invalid("Mocked result must be an array.")
        failures = config.get("mapIterationFailureCount")
        if isinstance(value, list) and failures is not None and failures > len(value):
            raise _invalid("Map iteration failure count must be less than or equal to the number of Map iterations")
    return value


def _context_object(text: str, raw: dict) -> dict:
    """The mocked context object, checked as AWS checks it."""
    try:
        value = json.loads(text)
    except ValueError:
        raise _invalid("Invalid Context object provided: Context object must be valid JSON") from None
    if not isinstance(value, dict):
        raise _invalid("Invalid Context object provided: Context object must be a JSON object")
    for key, part in value.items():
        if key == "Map":
            raise _invalid("Invalid Context object provided: 'Map' field is not supported when mocking a Context object")
        fields = _CONTEXT_FIELDS.get(key)
        if fields is None:
            raise _invalid(f"Invalid Context object provided: Field '{key}' is not allowed")
        if not isinstance(part, dict):
            raise _invalid(f"Invalid Context object provided: {key} must be an object")
        for name, item in part.items():
            if name not in fields:
                raise _invalid(f"Invalid Context object provided: Field '{name}' is not allowed")
            types = fields[name]
            if types is not None and item is not None and (not isinstance(item, types) or isinstance(item, bool)):
                raise _invalid(f"Invalid Context object provided: {key}.{name} must be {_TYPE_WORDS[types[0]]}")
    if "Task" in value and not _waits_for_token(raw):
        raise _invalid("Invalid Context object provided: Context object contains 'Task' when state is not a Task "
                       "state with a '.sync' or '.waitForTaskToken' service integration pattern")
    return value


def _waits_for_token(raw: dict) -> bool:
    resource = raw.get("Resource")
    return raw.get("Type") == "Task" and isinstance(resource, str) and (
        resource.endswith(".waitForTaskToken") or ".sync" in resource)


def _needs_mock(resource: Any) -> bool:
    """Activities and callback or .sync integrations: TestState runs them only with a mock."""
    if not isinstance(resource, str):
        return False
    return (resource.endswith(".waitForTaskToken") or re.search(r"\.sync(:2)?$", resource) is not None
            or re.match(r"^arn:aws[\w-]*:states:[^:]*:\d*:activity:", resource) is not None)


def _variables(text: str | None) -> dict:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise _invalid("Variables must be valid JSON") from None
    if not isinstance(value, dict):
        raise _invalid("Variables must be a JSON object")
    return value


def _reader_data(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise _invalid("Map item reader data must be valid JSON") from None


# ----------------------------------------------------------------------------------------------
# Running the state


class _Run:
    """One TestState run: an engine Execution of the one-state machine, in test mode."""

    def __init__(self, runtime: engine.Runtime, machine: Machine, state: Any, role_arn: str | None, input_value: Any,
                 input_text: str, context: dict | None, variables: dict, test: engine.TestMode,
                 failure_count: int | None, reader_data: Any) -> None:
        self.runtime = runtime
        self.state = state
        self.input = input_value
        self.variables = variables
        self.test = test
        self.failure_count = failure_count
        self.reader_data = reader_data
        account = _account(role_arn) or runtime.account
        prefix = f"arn:aws:states:{runtime.region}:{account}"
        sm_name, name = _name(runtime), _name(runtime)
        info = engine.ExecutionInfo(arn=f"{prefix}:express:{sm_name}:{name}", name=name,
                                    state_machine_arn=f"{prefix}:stateMachine:{sm_name}",
                                    state_machine_name=sm_name, role_arn=role_arn, type="EXPRESS")
        execution = engine.Execution(machine, runtime, info, input_value, input_text)
        self.context_base = {
            "Execution": {"Id": info.arn, "Input": input_value, "Name": name, "RoleArn": role_arn,
                          "StartTime": iso(runtime.clock.now)},
            "StateMachine": {"Id": info.state_machine_arn, "Name": sm_name},
        }
        # Test-mode hooks: the context object TestState shows, and the mocked Map threshold.
        test.context = self._context
        test.mocked = self._mocked
        execution.test_mode = test
        self.execution = execution
        self.given_context = context

    # -- hooks ------------------------------------------------------------------------------------
    def _context(self, state: Any, entered: float, frame: engine.Frame, retry_count: int | None = None,
                 token: str | None = None) -> dict:
        if self.given_context is not None:
            ctx = dict(self.given_context)
        else:
            ctx = dict(self.context_base)
            state_ctx: dict[str, Any] = {"Name": STATE_NAME, "EnteredTime": iso(entered)}
            if state.type.value in _MOCKABLE:
                state_ctx["RetryCount"] = retry_count if retry_count is not None else self.test.retrier_retry_count
            ctx["State"] = state_ctx
            if token is not None:
                ctx["Task"] = {"Token": token}
        if self.state.raw.get("ItemsPath") == "$$." + _READER_KEY:
            ctx[_READER_KEY] = self.reader_data if isinstance(self.reader_data, list) else []
        return ctx

    def _mocked(self) -> Any:
        test = self.test
        if test.mock_error is not None:
            raise StatesError(*test.mock_error)
        if self.state.type.value == "Map" and self.failure_count and self._over_threshold():
            raise StatesError(*_THRESHOLD)
        return test.mock_result

    def _over_threshold(self) -> bool:
        """Whether ``mapIterationFailureCount`` failed iterations break the Map's tolerance."""
        raw = self.state.raw
        has_count = "ToleratedFailureCount" in raw or "ToleratedFailureCountPath" in raw
        has_percentage = "ToleratedFailurePercentage" in raw or "ToleratedFailurePercentagePath" in raw
        if not (has_count or has_percentage):
            return False  # no tolerance configured: TestState does not fail the Map for its iterations
        inspection = self.execution.records[0]["inspection"] if self.execution.records else {}
        count = inspection.get("toleratedFailureCount") or 0
        percentage = inspection.get("toleratedFailurePercentage") or 0
        total = len(self.test.mock_result) if isinstance(self.test.mock_result, list) else 0
        failed = self.failure_count or 0
        over_count = failed > count if has_count else True
        over_percentage = (total > 0 and 100.0 * failed / total > percentage) if has_percentage else True
        return over_count and over_percentage

    # -- running ----------------------------------------------------------------------------------
    def answer(self, level: str) -> dict:
        execution = self.execution
        frame = engine.Frame(0, dict(self.variables))
        out: dict[str, Any] = {}
        details: dict[str, Any] = {}
        try:
            next_name, output = _drive(self.runtime, execution.run_state(self.state, self.input, frame))
        except engine.Retriable as retry:
            out.update(status="RETRIABLE", error=retry.failure.error, cause=_cause(retry.failure, self.state))
            details = {"retryIndex": retry.retry_index, "retryBackoffIntervalSeconds": _whole(retry.delay)}
        except StatesError as failure:
            out.update(status="FAILED", error=failure.error, cause=_cause(failure, self.state))
            index = self._retrier_for(failure.error)
            if index is not None:
                details = {"retryIndex": index}
        else:
            record = self._record()
            if record is not None and record["status"] == "CAUGHT":
                out.update(status="CAUGHT_ERROR", error=record["error"], cause=_strip(record["cause"]))
                details = {"catchIndex": record["caught_by"]}
                index = self._retrier_for(record["error"])
                if index is not None:
                    details["retryIndex"] = index
            else:
                out["status"] = "SUCCEEDED"
            out["output"] = to_json(output)
            if next_name is not None:
                out["nextState"] = next_name
        if level in ("DEBUG", "TRACE"):
            inspection = self._inspection(frame)
            if details:
                inspection["errorDetails"] = details
            out["inspectionData"] = inspection
        return {k: v for k, v in out.items() if v is not None}

    def _record(self) -> Visit | None:
        for record in self.execution.records:
            if not record["scope"]:
                return record
        return None

    def _retrier_for(self, error: str | None) -> int | None:
        """The index of the retrier that takes ``error`` (its attempts may be spent)."""
        if error is None:
            return None
        for index, retrier in enumerate(getattr(self.state, "retry", ())):
            if matches(retrier.error_equals, error):
                return index
        return None

    def _inspection(self, frame: engine.Frame) -> dict:
        """``inspectionData`` as AWS shows it: stages as JSON text, Map settings as numbers."""
        record = self._record()
        stages = dict(record["inspection"]) if record is not None else {"input": self.input}
        stages.pop("output", None)
        state = self.state
        kind = state.type.value
        if not state.is_jsonata:
            if "afterResultPath" in stages and "afterResultSelector" not in stages and "result" in stages:
                stages["afterResultSelector"] = stages["result"]
            if kind == "Pass" and state.has_result:
                stages.pop("afterInputPath", None)
                stages.pop("afterParameters", None)
            elif kind == "Pass":
                stages.pop("result", None)
            if kind in ("Succeed", "Fail", "Wait") and "afterInputPath" not in stages:
                stages["afterInputPath"] = self._after_input_path()
            if kind in ("Pass", "Task") and "afterInputPath" in stages:
                stages.setdefault("afterParameters", stages["afterInputPath"])
        if kind == "Map":
            raw = state.raw
            if not ("ToleratedFailureCount" in raw or "ToleratedFailureCountPath" in raw):
                stages.pop("toleratedFailureCount", None)
            if not ("ToleratedFailurePercentage" in raw or "ToleratedFailurePercentagePath" in raw):
                stages.pop("toleratedFailurePercentage", None)
        if "variables" not in stages and frame.variables:
            stages["variables"] = frame.variables
        numbers = ("maxConcurrency", "toleratedFailureCount", "toleratedFailurePercentage")
        return {k: (v if k in numbers else to_json(v)) for k, v in stages.items() if k not in numbers or v is not None}

    def _after_input_path(self) -> Any:
        path = self.state.input_path
        if path is None:
            return {}
        try:
            ctx = self._context(self.state, self.runtime.clock.now, engine.Frame(0, {}))
            return path.get(Scope(self.input, ctx, self.variables))
        except (PathNotFound, StatesError):
            return self.input


def _drive(runtime: engine.Runtime, gen: Generator[Any, Any, Any]) -> Any:
    """Run a state's generator to its end. A Sleep (a Wait state) takes no time in TestState."""
    value: Any = None
    while True:
        try:
            command = gen.send(value)
        except StopIteration as stop:
            return stop.value
        if isinstance(command, Sleep):
            value = None
            continue
        if isinstance(command, (Join, Suspend)):
            return _on_scheduler(runtime, gen, command)
        raise TypeError(f"unexpected command {command!r}")


def _on_scheduler(runtime: engine.Runtime, gen: Generator[Any, Any, Any], first: Any) -> Any:
    """Hand a generator that waits on other lines of control (or the outside) to the scheduler."""

    def rest() -> Generator[Any, Any, Any]:
        command = first
        while True:
            try:
                value = yield command
            except BaseException as exc:  # noqa: BLE001 - passed into the state's generator
                try:
                    command = gen.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                command = gen.send(value)
            except StopIteration as stop:
                return stop.value

    task = runtime.scheduler.spawn(rest(), "TestState")
    runtime.scheduler.run(until=lambda: task.done)
    if not task.done:
        runtime.scheduler.cancel(task)
        raise StatesError("States.Timeout", "The state did not finish: it waits on something outside TestState.")
    if task.exception is not None:
        raise task.exception
    return task.result


# ----------------------------------------------------------------------------------------------
# Small helpers


def _cause(failure: StatesError, state: Any) -> str | None:
    cause = _strip(failure.cause)
    if (cause is not None and state.type.value == "Map" and not state.is_jsonata
            and cause.startswith(_MAP_NOT_ARRAY) and failure.error == "States.Runtime"):
        # AWS words a JSONPath ItemsPath that selects no array with the path, rooted at its document.
        path = str(state.raw.get("ItemsPath", "$"))
        cause = f'Reference path "{path[1:] if path.startswith("$$") else path}" must point to array.'
    return cause


def _strip(cause: str | None) -> str | None:
    """TestState has no history events, so its causes carry no "(entered at the event id #n)"."""
    if cause is None:
        return None
    return _SCOPE_PREFIX.sub("", cause, count=1)


def _whole(seconds: float) -> int:
    return int(seconds)


def _account(role_arn: str | None) -> str | None:
    m = re.match(r"^arn:aws[\w-]*:iam::(\d{12}):role/", role_arn or "")
    return m.group(1) if m else None


def _name(runtime: engine.Runtime) -> str:
    return str(uuid.UUID(int=runtime.random.getrandbits(128), version=4))


# ----------------------------------------------------------------------------------------------
# Mock field validation: a mocked result against the service API's output shape (botocore)

_PREFIX = "Mock result schema validation error: "
_RESOURCE = re.compile(r"^arn:aws[\w-]*:states:::(?P<sdk>aws-sdk:)?(?P<service>[\w-]+):(?P<action>[\w]+)"
                       r"(?P<pattern>\.sync(:2)?|\.waitForTaskToken)?$")
# Service names in Task resources that differ from botocore's.
_SERVICE_ALIASES = {
    "states": "stepfunctions", "sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs",
    "cloudwatchevents": "events", "elasticloadbalancingv2": "elbv2", "elasticloadbalancing": "elb",
    "cognitoidentityprovider": "cognito-idp", "emrcontainers": "emr-containers", "emr": "emr",
    "elasticmapreduce": "emr", "bedrock": "bedrock-runtime",
}


class _MockShapeError(Exception):
    pass


def _validate_mock_fields(resource: Any, result: Any, *, strict: bool) -> None:
    """Check a mocked Task result against the output shape of the action it mocks."""
    if not isinstance(resource, str) or not isinstance(result, dict):
        return
    found = _RESOURCE.match(resource)
    if found is None or found.group("pattern"):
        return  # Lambda ARNs, activities, callback and .sync patterns: no API output shape to check
    shape = _output_shape(found.group("service"), found.group("action"), bool(found.group("sdk")))
    if shape is None:
        return
    free = {"Payload"} if not found.group("sdk") and found.group("service") == "lambda" else set()
    try:
        _check_structure(shape, result, strict, free)
    except _MockShapeError as problem:
        raise _invalid(_PREFIX + str(problem)) from None


@lru_cache(maxsize=256)
def _output_shape(service: str, action: str, sdk: bool) -> Any:
    session = _botocore_session()
    names = _service_names(session)
    key = service.lower().replace("-", "")
    name = _SERVICE_ALIASES.get(key) or names.get(key)
    if name is None:
        return None
    try:
        model = session.get_service_model(name)
        operation = model.operation_model(action[:1].upper() + action[1:])
    except Exception:  # noqa: BLE001 - an action botocore does not know: nothing to check against
        return None
    return operation.output_shape


@lru_cache(maxsize=1)
def _botocore_session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@lru_cache(maxsize=1)
def _service_names(session: Any) -> dict[str, str]:
    return {n.replace("-", ""): n for n in session.get_available_services()}


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def _check_structure(shape: Any, value: dict, strict: bool, free: Set[str] = frozenset()) -> None:
    members = {_pascal(k): v for k, v in shape.members.items()}
    if strict:
        for required in shape.required_members:
            if _pascal(required) not in value:
                raise _MockShapeError(f"Required field '{_pascal(required)}' is missing")
    for key, item in value.items():
        member = members.get(key)
        if member is None or key in free:
            continue
        _check(member, item, key, strict)


def _check(shape: Any, value: Any, name: str, strict: bool) -> None:
    if value is None:
        return
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            raise _MockShapeError(f"Field '{name}' must be an object")
        _check_structure(shape, value, strict)
    elif kind == "list":
        if not isinstance(value, list):
            raise _MockShapeError(f"Field '{name}' must be an array")
        for item in value:
            _check(shape.member, item, name, strict)
    elif kind == "map":
        if not isinstance(value, dict):
            raise _MockShapeError(f"Field '{name}' must be an object")
        for item in value.values():
            _check(shape.value, item, name, strict)
    elif kind in ("string", "blob", "timestamp"):
        if not isinstance(value, str):
            raise _MockShapeError(f"Field '{name}' must be a string")
        if kind == "string" and shape.enum and value not in shape.enum:
            raise _MockShapeError(f"Field '{name}' is not an expected value")
        if kind != "timestamp":
            if "min" in meta and len(value) < meta["min"]:
                raise _MockShapeError(f"Field '{name}' is smaller than the minimum length")
            if "max" in meta and len(value) > meta["max"]:
                raise _MockShapeError(f"Field '{name}' exceeds the maximum length")
    elif kind in ("integer", "long", "float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise _MockShapeError(f"Field '{name}' must be a number")
        if "min" in meta and value < meta["min"]:
            raise _MockShapeError(f"Field '{name}' is less than the minimum value")
        if "max" in meta and value > meta["max"]:
            raise _MockShapeError(f"Field '{name}' exceeds the maximum value")
    elif kind == "boolean" and not isinstance(value, bool):
        raise _MockShapeError(f"Field '{name}' must be a boolean")
