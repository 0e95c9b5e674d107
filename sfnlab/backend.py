"""One local AWS account of Step Functions: state machines, executions, tags, and the API operations.

The backend answers the operations of the ``stepfunctions`` service (JSON 1.0) with the bodies and
errors AWS sends. It knows nothing of HTTP or botocore: :meth:`Backend.respond` takes an operation
name and its decoded parameters and returns ``(status, body)``. :mod:`sfnlab.api` puts a real
botocore client in front of it; a server can put HTTP in front of it the same way.

What AWS does, and therefore what happens here (sources: the API reference, and answers recorded
from AWS in LocalStack's snapshot tests):

* Model constraints (maximum lengths, maximum values, enums) are checked before anything else and
  answer ``ValidationException`` with "1 validation error detected: Value 'x' at 'name' failed to
  satisfy constraint: ..."; botocore already refuses missing members and minimums client-side.
* ARNs: ``arn:aws:states:{region}:{account}:stateMachine:{name}``, executions
  ``...:execution:{machine}:{name}``, Express executions ``...:express:{machine}:{name}:{uuid}``.
  A text that does not start with ``arn:`` is ``InvalidArn: 'Invalid ARN prefix: x'``; an ARN of
  the wrong kind is ``InvalidArn: 'Resource type not valid in this context: kind'``.
* Names: 1-80 characters, no whitespace, ``<>{}[]?*"#%\\^|~`$&,;:/`` or control characters
  (``InvalidName: 'name'``).
* CreateStateMachine is idempotent on name, definition, type and the logging, tracing and
  encryption settings; a different ``roleArn`` or ``tags`` are ignored (the existing machine is
  returned unchanged). Anything else under the same name is ``StateMachineAlreadyExists``.
* StartExecution is idempotent for STANDARD machines: the same name and input while the first
  execution is RUNNING returns the first answer; a closed execution or a different input is
  ``ExecutionAlreadyExists``. EXPRESS executions always start anew (their ARN ends in a uuid).
* EXPRESS executions cannot be described, stopped or listed, nor their history read:
  ``InvalidArn: 'Resource type not valid in this context: express'`` and, for ListExecutions,
  ``StateMachineTypeNotSupported``.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import random
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from . import distributed, engine
from .definition import Machine, load
from .errors import DefinitionError, Diagnostic
from .validation import MAX_DEPTH, MESSAGES, too_deep

__all__ = ["ApiError", "Backend", "check_constraints", "is_valid_name"]

_SERVICE = "com.amazonaws.swf.service.v2.model"
_CORAL_VALIDATE = "com.amazon.coral.validate"
_CORAL_SERVICE = "com.amazon.coral.service"

STANDARD, EXPRESS = "STANDARD", "EXPRESS"
RUNNING = "RUNNING"
_DEFAULT_PAGE = 100  # maxResults 0 or absent means the default page size
_DEFAULT_LOGGING = {"level": "OFF", "includeExecutionData": False}
_DEFAULT_TRACING = {"enabled": False}
_MAX_TAGS = 50  # tags per resource (AWS quota)
_EXPRESS_LIMIT = 300.0  # seconds: the longest an Express execution may run


class ApiError(Exception):
    """An error answer of the Step Functions API (HTTP 400 and an AWS JSON error body)."""

    def __init__(self, code: str, message: str | None, *, namespace: str | None = _SERVICE, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.namespace = namespace
        self.status = status

    def body(self) -> dict:
        """The JSON body AWS sends: ``{"__type": "<namespace>#<Code>", "message": ...}``."""
        out: dict[str, Any] = {"__type": f"{self.namespace}#{self.code}" if self.namespace else self.code}
        if self.message is not None:
            out["message"] = self.message
        return out


# ----------------------------------------------------------------------------------------------
# Model constraints: what AWS's request validation refuses before the service looks at a request


# AWS prints enum sets in its own (hash) order, which is not the model's order; the ones observed.
_ENUM_ORDER = {
    "ExecutionStatus": ["SUCCEEDED", "TIMED_OUT", "PENDING_REDRIVE", "ABORTED", "FAILED", "RUNNING"],
}
# Payload fields whose limit is in UTF-8 bytes, not characters (the API reference says so).
_BYTE_LIMITED = {"SensitiveData"}


def check_constraints(operation_model: Any, params: dict) -> None:
    """Raise ``ValidationException`` for the model constraints AWS checks and botocore does not.

    Botocore validates required members, types and minimums on the client; AWS additionally
    refuses values over a maximum length or value and strings outside an enum.

    Args:
        operation_model: the botocore ``OperationModel`` of the operation.
        params: the decoded request body.
    """
    problems: list[str] = []
    if operation_model.input_shape is not None:
        _collect_violations(operation_model.input_shape, params, "", problems)
    if problems:
        noun = "error" if len(problems) == 1 else "errors"
        raise ApiError(
            "ValidationException",
            f"{len(problems)} validation {noun} detected: " + "; ".join(problems),
            namespace=_CORAL_VALIDATE,
        )


def _violation(shape: Any, value: Any, where: str, constraint: str) -> str:
    shown = "" if shape.metadata.get("sensitive") else f" '{value}'"
    return f"Value{shown} at '{where}' failed to satisfy constraint: Member must {constraint}"


def _check_string(shape: Any, value: str, where: str, out: list[str]) -> None:
    meta = shape.metadata
    enum = meta.get("enum")
    if enum and value not in enum:
        listed = ", ".join(_ENUM_ORDER.get(shape.name, enum))
        out.append(_violation(shape, value, where, f"satisfy enum value set: [{listed}]"))
    limit = meta.get("max")
    if limit is None:
        return
    if shape.name in _BYTE_LIMITED:
        if len(value.encode("utf-8")) > limit:
            constraint = f"have size less than or equal to {limit} bytes in UTF-8 encoding"
            out.append(_violation(shape, value, where, constraint))
    elif len(value) > limit:
        out.append(_violation(shape, value, where, f"have length less than or equal to {limit}"))


def _collect_violations(shape: Any, value: Any, where: str, out: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                _collect_violations(member, value[name], f"{where}.{name}" if where else name, out)
    elif kind == "list" and isinstance(value, list):
        limit = shape.metadata.get("max")
        if limit is not None and len(value) > limit:
            out.append(_violation(shape, value, where, f"have length less than or equal to {limit}"))
        for index, item in enumerate(value, 1):  # AWS numbers list members from 1
            _collect_violations(shape.member, item, f"{where}.{index}.member", out)
    elif kind == "string" and isinstance(value, str):
        _check_string(shape, value, where, out)
    elif kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        limit = shape.metadata.get("max")
        if limit is not None and value > limit:
            out.append(_violation(shape, value, where, f"have value less than or equal to {limit}"))


# ----------------------------------------------------------------------------------------------
# Names, ARNs, input


_FORBIDDEN_NAME_CHARS = frozenset('<>{}[]?*"#%\\^|~`$&,;:/')


def is_valid_name(name: str) -> bool:
    """Whether AWS accepts ``name`` for a state machine or an execution (length checked apart).

    AWS refuses whitespace, the characters ``<>{}[]?*"#%\\^|~`$&,;:/`` and control characters
    (U+0000-001F, U+007F-009F).
    """
    return not any(
        ch.isspace() or ch in _FORBIDDEN_NAME_CHARS or unicodedata.category(ch) == "Cc" for ch in name
    )


def _check_name(name: str) -> None:
    if not is_valid_name(name):
        raise ApiError("InvalidName", f"Invalid Name: '{name}'")


@dataclass(frozen=True)
class _Arn:
    region: str
    account: str
    kind: str  # stateMachine | execution | express | activity | ...
    parts: tuple[str, ...]  # what follows the resource kind


def _parse_arn(text: str, allowed: tuple[str, ...]) -> _Arn:
    """Split a Step Functions ARN, refusing it as AWS does when it is not of an allowed kind."""
    if not text.startswith("arn:"):
        raise ApiError("InvalidArn", f"Invalid Arn: 'Invalid ARN prefix: {text}'")
    pieces = text.split(":")
    if len(pieces) < 7 or pieces[2] != "states":
        raise ApiError("InvalidArn", f"Invalid Arn: '{text}'")
    kind = pieces[5]
    if kind not in allowed:
        raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {kind}'")
    return _Arn(pieces[3], pieces[4], kind, tuple(pieces[6:]))


def _reject_nan(constant: str) -> Any:
    raise ValueError(f"Non-standard token '{constant}': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow")


def _invalid_input_reason(text: str) -> str | None:
    """Why AWS refuses ``text`` as execution input (its Jackson parser's words), or None."""
    if not text.strip():
        return "Invalid execution input."
    try:
        value = json.loads(text, parse_constant=_reject_nan)
    except ValueError as exc:
        return _jackson_reason(text, exc)
    except RecursionError:  # deeper than Python's parser goes
        return MESSAGES["too_deep"].format(limit=MAX_DEPTH)
    return MESSAGES["too_deep"].format(limit=MAX_DEPTH) if too_deep(value, text) else None


_TOKEN_CHARS = re.compile(r"[\w$]+")  # what Jackson gathers into an unrecognised token
_EXPECTING_VALUE = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
# Python's complaint -> what Jackson expected instead (Jackson's words, as AWS quotes them).
_JACKSON_EXPECTED = {
    "Expecting property name enclosed in double quotes": "was expecting double-quote to start field name",
    "Expecting ':' delimiter": "was expecting a colon to separate field name and value",
}


def _jackson_reason(text: str, exc: ValueError) -> str:
    """Jackson's wording for the first problem in ``text`` (the common cases; others approximated)."""
    pos = getattr(exc, "pos", None)
    if pos is None:  # NaN / Infinity, refused by parse_constant
        return str(exc)
    if pos >= len(text):
        return "Unexpected end-of-input"
    char = text[pos]
    if char.isalpha():
        word = _TOKEN_CHARS.match(text, pos)
        return f"Unrecognized token '{word.group(0) if word else char}': was expecting {_EXPECTING_VALUE}"
    msg = getattr(exc, "msg", "")
    expected = _JACKSON_EXPECTED.get(msg)
    if expected is None and msg == "Expecting ',' delimiter":
        expected = f"was expecting comma to separate {_container(text, pos)} entries"
    if expected is None:
        expected = f"expected a valid value {_EXPECTING_VALUE}"
    return f"Unexpected character ('{char}' (code {ord(char)})): {expected}"


def _container(text: str, pos: int) -> str:
    """"Object" or "Array": the innermost container open at ``pos`` (the JSON before it is valid)."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
    return "Object" if stack and stack[-1] == "{" else "Array"


# ----------------------------------------------------------------------------------------------
# Account state


@dataclass
class _Revision:
    """One version of a state machine's configuration (UpdateStateMachine makes a new one)."""

    machine: Machine
    definition: str
    role_arn: str
    logging: dict
    tracing: dict
    encryption: dict | None
    date: float
    revision_id: str
    shown: bool = False  # AWS shows revisionId only once the machine has been updated


@dataclass
class _StateMachine:
    arn: str
    name: str
    type: str
    creation_date: float
    revision: _Revision
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class _Execution:
    arn: str
    name: str
    machine: _StateMachine
    revision: _Revision
    input_text: str
    trace_header: str | None
    seq: int
    run: Any  # sfnlab.engine.Execution

    @property
    def type(self) -> str:
        return self.machine.type


@dataclass(frozen=True)
class _ChildMachine:
    """What a Distributed Map child has for a state machine: its run's ARN and name (``Parent/Label``)."""

    arn: str
    type: str
    name: str


@dataclass
class _MapRunChild(_Execution):
    """A child execution of a Distributed Map run, found through its run (it has no machine record)."""

    map_run_arn: str = ""


def _type_not_supported() -> ApiError:
    return ApiError("StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")


def _date(seconds: float) -> float:
    """Virtual epoch seconds as AWS sends them: a number with millisecond precision."""
    return round(seconds, 3)


def _output_text(run: Any) -> str:
    text = getattr(run, "output_text", None)
    if isinstance(text, str):
        return text
    from .history import to_json

    return to_json(run.output)


_PAYLOAD_KEYS = frozenset(
    {"input", "inputDetails", "output", "outputDetails", "parameters", "assignedVariables", "assignedVariablesDetails"}
)


def _wire_event(event: dict, include_data: bool) -> dict:
    """A history event as GetExecutionHistory sends it (payloads dropped when asked)."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key == "timestamp":
            out[key] = _date(value)
        elif key.endswith("EventDetails") and isinstance(value, dict) and not include_data:
            out[key] = {k: v for k, v in value.items() if k not in _PAYLOAD_KEYS}
        else:
            out[key] = value
    return out


def _diagnostics(definition: str, sm_type: str) -> list[Diagnostic]:
    """AWS's static findings about a definition, from :mod:`sfnlab.validation` when present."""
    try:
        from .validation import validate
    except ImportError:  # the validator is optional; fall back to what the loader refuses
        try:
            load(definition, validate=False)
        except DefinitionError as exc:
            return list(exc.diagnostics) or [Diagnostic("SCHEMA_VALIDATION_FAILED", exc.message)]
        return []
    return list(validate(definition, type=sm_type))


# ----------------------------------------------------------------------------------------------
# The backend


_ROLE_ACCOUNT = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/")


def _with_revision_fields(out: dict, rev: Any) -> dict:
    """revisionId (after an update) and encryptionConfiguration (when set) of a revision."""
    if rev.shown:
        out["revisionId"] = rev.revision_id
    if rev.encryption is not None:
        out["encryptionConfiguration"] = dict(rev.encryption)
    return out


class Backend:
    """The state of one local account and the API operations over it.

    Attributes:
        runtime: the :class:`sfnlab.engine.Runtime` (clock, scheduler, Lambda functions, random).
        region, account: where the account lives (they appear in every ARN).
    """

    def __init__(self, runtime: engine.Runtime, service_model: Any = None, *, account_from_role: bool = False) -> None:
        self.runtime = runtime
        self._account_from_role = account_from_role
        self.region = runtime.region
        self.account = runtime.account
        self._model = service_model
        self._machines: dict[str, _StateMachine] = {}
        self._executions: dict[str, _Execution] = {}
        self._seq = 0
        # Request ids and revision ids come from their own seeded stream, so that making calls
        # does not change the names and States.UUID values an execution sees.
        self._ids = random.Random(f"sfnlab-ids-{runtime.seed}")
        self._request_ids = random.Random(f"sfnlab-requests-{runtime.seed}")
        self._activities: dict[str, dict] = {}
        self._activity_queue: dict[str, list[tuple[str, str]]] = {}
        self._test_cases: dict[str, str] = {}  # execution ARN -> mock test case (Step Functions Local)
        self._nested = 0  # > 0 while an execution calls the API (states:startExecution, aws-sdk:sfn)
        self.mock_config: Any = None
        runtime.backend = self  # integrations reach the account through the runtime

    def __repr__(self) -> str:
        return (
            f"<sfnlab backend {self.region}/{self.account}: {len(self._machines)} state machines, "
            f"{len(self._executions)} executions, {self.runtime.clock!r}>"
        )

    # -- helpers for the rest of sfnlab ------------------------------------------------------------
    @property
    def clock(self) -> Any:
        """The account's :class:`~sfnlab.clock.VirtualClock`."""
        return self.runtime.clock

    def advance_clock(self, seconds: float) -> float:
        """Let ``seconds`` of virtual time pass, running whatever falls due on the way.

        Executions that wait (a Wait state, a Retry back-off, a task timeout or heartbeat) move
        on as their timers fire.

        Args:
            seconds: how far to move the clock; must not be negative.

        Returns:
            The clock's new time, in epoch seconds.
        """
        if seconds < 0 or math.isnan(seconds):
            raise ValueError("the virtual clock only moves forward")
        self.runtime.scheduler.advance(seconds)
        return self.runtime.clock.now

    def execution(self, execution_arn: str) -> Any:
        """The engine's :class:`~sfnlab.engine.Execution` behind an ARN (EXPRESS ones too)."""
        record = self._executions.get(execution_arn)
        if record is None:
            raise KeyError(execution_arn)
        return record.run

    def state_machine_definition(self, state_machine_arn: str) -> Machine:
        """The compiled :class:`~sfnlab.definition.Machine` a state machine runs now."""
        return self._machines[state_machine_arn].revision.machine

    def aws_client(self, service: str) -> Any:
        """A boto3 client of ``service`` that sees what this account's state machines see.

        By default it reaches sfnlab's local moto server (started on first use); see
        :mod:`sfnlab.services`.
        """
        return self.services.client(service)

    @property
    def services(self) -> Any:
        found = getattr(self.runtime, "services", None)
        if found is None:
            from .services import Services

            found = self.runtime.services = Services(self.region, self.account)
        return found

    # -- the wire ----------------------------------------------------------------------------------
    def request_id(self) -> str:
        """A request id for the ``x-amzn-RequestId`` header (seeded, so runs repeat)."""
        return self._uuid(self._request_ids)

    @property
    def service_model(self) -> Any:
        if self._model is None:
            from .api import service_model

            self._model = service_model()
        return self._model

    def respond(self, operation: str, params: dict | None) -> tuple[int, dict]:
        """Answer one API call as AWS would: ``(HTTP status, JSON body)``.

        Args:
            operation: the operation name, e.g. ``"StartExecution"`` (from ``X-Amz-Target``).
            params: the decoded JSON request body.
        """
        try:
            return 200, self.call(operation, params or {})
        except ApiError as exc:
            return exc.status, exc.body()

    def call(self, operation: str, params: dict) -> dict:
        """Run one operation; raises :class:`ApiError` for AWS's error answers."""
        if operation not in self.service_model.operation_names:
            raise ApiError("UnknownOperationException", None, namespace=_CORAL_SERVICE)
        check_constraints(self.service_model.operation_model(operation), params)
        handler = _OPERATIONS.get(operation)
        if handler is None:
            raise ApiError("UnsupportedOperation", f"sfnlab does not implement the {operation} operation yet")
        answer = handler(self, params)
        if operation in _MOVES_EXECUTIONS and not self._nested:
            # Whatever the call set going (a child execution, a resumed task) runs as far as it can.
            self.runtime.scheduler.run()
        return answer

    def call_nested(self, operation: str, params: dict) -> dict:
        """An API call made by a running execution: it must not run the scheduler itself."""
        self._nested += 1
        try:
            return self.call(operation, params)
        finally:
            self._nested -= 1

    # -- lookups -----------------------------------------------------------------------------------
    def _machine(self, arn: str) -> _StateMachine:
        _parse_arn(arn, ("stateMachine",))
        found = self._machines.get(arn)
        if found is None:
            raise ApiError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")
        return found

    def _execution(self, arn: str) -> _Execution:
        _parse_arn(arn, ("execution",))  # Express ARNs are refused here, as AWS refuses them
        found = self._executions.get(arn) or self._map_run_child(arn)
        if found is None:
            raise ApiError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
        return found

    def _map_run_child(self, arn: str) -> _MapRunChild | None:
        """A Distributed Map child, as DescribeExecution and GetExecutionHistory find them on AWS.

        Only the children a run keeps in full (:attr:`distributed.MapRun.KEEP_CHILDREN`) can be found."""
        for run in distributed.map_runs(self.runtime).values():
            for child in run.executions:
                if child.info.arn == arn:
                    machine = _ChildMachine(arn=child.info.state_machine_arn, type=child.info.type,
                                            name=child.info.state_machine_name)
                    # A child has no machine record of its own: it shows its run's names, and the
                    # revision (role, dates) of the state machine its top-level execution runs.
                    return _MapRunChild(arn=arn, name=child.info.name, machine=machine,  # type: ignore[arg-type]  # its arn, type, name
                                        revision=self._root_revision(run.execution_arn),
                                        input_text=child.input_text, trace_header=None, seq=0, run=child,
                                        map_run_arn=run.arn)
        return None

    def _root_revision(self, execution_arn: str) -> _Revision:
        """The revision the top-level execution above ``execution_arn`` (a Map Run's parent) runs."""
        record = self._execution(execution_arn)
        while isinstance(record, _MapRunChild):  # a Distributed Map inside a child
            record = self._execution(distributed.map_runs(self.runtime)[record.map_run_arn].execution_arn)
        return record.revision

    def _tagged(self, arn: str) -> _StateMachine:
        parsed = _parse_arn(arn, ("stateMachine", "activity"))
        found = self._machines.get(arn) if parsed.kind == "stateMachine" else None
        if found is None:
            raise ApiError("ResourceNotFound", f"Resource not found: '{arn}'")
        return found

    def _uuid(self, rng: random.Random) -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def _compile(self, definition: str, sm_type: str) -> Machine:
        problems = [d for d in _diagnostics(definition, sm_type) if d.severity == "ERROR"]
        if problems:
            raise ApiError("InvalidDefinition", DefinitionError(problems).message)
        try:
            return load(definition, validate=False)
        except DefinitionError as exc:
            raise ApiError("InvalidDefinition", exc.message) from None

    @staticmethod
    def _check_role(role_arn: str) -> None:
        if not role_arn.startswith("arn:"):
            raise ApiError("InvalidArn", f"Invalid Arn: 'Invalid ARN prefix: {role_arn}'")

    @staticmethod
    def _page_size(params: dict) -> int:
        return params.get("maxResults") or _DEFAULT_PAGE

    # -- state machines ----------------------------------------------------------------------------
    def _adopt_account(self, role_arn: str) -> None:
        """Take the account id of the first execution role, before any ARN has been handed out."""
        if not self._account_from_role or self._machines or self._executions:
            return
        self._account_from_role = False
        m = _ROLE_ACCOUNT.match(role_arn)
        if m:
            self.account = self.runtime.account = m.group(1)
            services = getattr(self.runtime, "services", None)
            if services is not None:
                services.account = self.account

    def create_state_machine(self, params: dict) -> dict:
        name, definition, role = params["name"], params["definition"], params["roleArn"]
        sm_type = params.get("type", STANDARD)
        _check_name(name)
        self._check_role(role)
        if params.get("publish"):
            raise ApiError("UnsupportedOperation", "sfnlab does not model state machine versions (publish=True)")
        machine = self._compile(definition, sm_type)
        self._adopt_account(role)
        logging = {**_DEFAULT_LOGGING, **params.get("loggingConfiguration", {})}
        tracing = {**_DEFAULT_TRACING, **params.get("tracingConfiguration", {})}
        encryption = params.get("encryptionConfiguration")
        arn = f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"
        existing = self._machines.get(arn)
        if existing is not None:
            rev = existing.revision
            same = (rev.definition, existing.type, rev.logging, rev.tracing, rev.encryption) == (
                definition, sm_type, logging, tracing, encryption)
            if not same:
                raise ApiError("StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'")
            # Idempotent: a different roleArn or tags are ignored, as AWS documents.
            return {"stateMachineArn": arn, "creationDate": _date(existing.creation_date)}
        now = self.runtime.clock.now
        revision = _Revision(machine, definition, role, logging, tracing, encryption, now, self._uuid(self._ids))
        tags = {t["key"]: t["value"] for t in params.get("tags", [])}
        self._machines[arn] = _StateMachine(arn, name, sm_type, now, revision, tags)
        return {"stateMachineArn": arn, "creationDate": _date(now)}

    def describe_state_machine(self, params: dict) -> dict:
        sm = self._machine(params["stateMachineArn"])
        rev = sm.revision
        out: dict[str, Any] = {
            "stateMachineArn": sm.arn,
            "name": sm.name,
            "status": "ACTIVE",
            "definition": rev.definition,
            "roleArn": rev.role_arn,
            "type": sm.type,
            "creationDate": _date(sm.creation_date),
            "loggingConfiguration": dict(rev.logging),
            "tracingConfiguration": dict(rev.tracing),
        }
        return _with_revision_fields(out, rev)

    def list_state_machines(self, params: dict) -> dict:
        after = _read_token(params.get("nextToken"), "ListStateMachines", "")
        ordered = sorted(self._machines.values(), key=lambda sm: sm.name)
        if after is not None:
            ordered = [sm for sm in ordered if sm.name > after]
        page, more = ordered[: self._page_size(params)], ordered[self._page_size(params):]
        out: dict[str, Any] = {
            "stateMachines": [
                {"stateMachineArn": sm.arn, "name": sm.name, "type": sm.type, "creationDate": _date(sm.creation_date)}
                for sm in page
            ]
        }
        if more:
            out["nextToken"] = _make_token("ListStateMachines", "", page[-1].name)
        return out

    def update_state_machine(self, params: dict) -> dict:
        sm = self._machine(params["stateMachineArn"])
        changes = ("definition", "roleArn", "loggingConfiguration", "tracingConfiguration")
        if not any(key in params for key in changes):
            raise ApiError(
                "MissingRequiredParameter",
                "Either the definition, the role ARN, the LoggingConfiguration, "
                "or the TracingConfiguration must be specified",
            )
        if params.get("publish"):
            raise ApiError("UnsupportedOperation", "sfnlab does not model state machine versions (publish=True)")
        old = sm.revision
        definition = params.get("definition", old.definition)
        role = params.get("roleArn", old.role_arn)
        if "roleArn" in params:
            self._check_role(role)
        machine = self._compile(definition, sm.type) if "definition" in params else old.machine
        logging = {**old.logging, **params.get("loggingConfiguration", {})}
        tracing = {**old.tracing, **params.get("tracingConfiguration", {})}
        encryption = params.get("encryptionConfiguration", old.encryption)
        now = self.runtime.clock.now
        changed = (definition, role, logging, tracing, encryption) != (
            old.definition, old.role_arn, old.logging, old.tracing, old.encryption)
        # An update that changes nothing keeps the revision id (AWS answers the same one again).
        revision_id = self._uuid(self._ids) if changed else old.revision_id
        sm.revision = _Revision(machine, definition, role, logging, tracing, encryption, now, revision_id, shown=True)
        return {"updateDate": _date(now), "revisionId": revision_id}

    def delete_state_machine(self, params: dict) -> dict:
        arn = params["stateMachineArn"]
        _parse_arn(arn, ("stateMachine",))
        sm = self._machines.pop(arn, None)  # deleting what does not exist succeeds, as on AWS
        if sm is not None:
            # AWS terminates the machine's running executions at their next transition.
            for record in self._executions.values():
                if record.machine is sm and record.run.status == RUNNING:
                    record.run.stop(None, None)
        return {}

    def describe_state_machine_for_execution(self, params: dict) -> dict:
        record = self._execution(params["executionArn"])
        rev = record.revision
        out: dict[str, Any] = {
            "stateMachineArn": record.machine.arn,
            "name": record.machine.name,
            "definition": rev.definition,
            "roleArn": rev.role_arn,
            "updateDate": _date(rev.date),
            "loggingConfiguration": dict(rev.logging),
            "tracingConfiguration": dict(rev.tracing),
        }
        if isinstance(record, _MapRunChild):
            # AWS API reference: mapRunArn and label "returned only if the executionArn is a child
            # workflow execution that was started by a Distributed Map state".
            run = distributed.map_runs(self.runtime)[record.map_run_arn]
            out.update(definition=run.child_definition, mapRunArn=run.arn, label=run.label)
            return out
        return _with_revision_fields(out, rev)

    # -- tags --------------------------------------------------------------------------------------
    def tag_resource(self, params: dict) -> dict:
        sm = self._tagged(params["resourceArn"])
        tags = {**sm.tags, **{tag["key"]: tag["value"] for tag in params["tags"]}}
        if len(tags) > _MAX_TAGS:
            raise ApiError("TooManyTags", f"Too many tags: a resource can have at most {_MAX_TAGS}")
        sm.tags = tags
        return {}

    def untag_resource(self, params: dict) -> dict:
        sm = self._tagged(params["resourceArn"])
        for key in params["tagKeys"]:
            sm.tags.pop(key, None)
        return {}

    def list_tags_for_resource(self, params: dict) -> dict:
        sm = self._tagged(params["resourceArn"])
        return {"tags": [{"key": k, "value": v} for k, v in sm.tags.items()]}

    # -- executions --------------------------------------------------------------------------------
    def _prepare_start(self, params: dict) -> tuple[_StateMachine, str, str, Any]:
        """Checks shared by StartExecution and StartSyncExecution, in AWS's order."""
        arn, _, test_case = params["stateMachineArn"].partition("#")
        self._pending_test_case = test_case or None  # Step Functions Local: "<arn>#<TestCase>"
        if test_case and self.mock_config is None:
            raise ApiError("ValidationException", "A test case was named but no mock configuration was given",
                           namespace=_CORAL_VALIDATE)
        sm = self._machine(arn)
        name = params.get("name")
        if name is not None:
            _check_name(name)
        input_text = params.get("input", "{}")
        reason = _invalid_input_reason(input_text)
        if reason is not None:
            raise ApiError("InvalidExecutionInput", f"Invalid State Machine Execution Input: '{reason}'")
        return sm, name if name is not None else self._uuid(self.runtime.random), input_text, json.loads(input_text)

    def _run(self, sm: _StateMachine, arn: str, name: str, input_text: str, value: Any, params: dict) -> _Execution:
        rev = sm.revision
        info = engine.ExecutionInfo(arn, name, sm.arn, sm.name, rev.role_arn, sm.type)
        self._seq += 1
        record = _Execution(arn, name, sm, rev, input_text, params.get("traceHeader"), self._seq, None)
        self._executions[arn] = record
        test_case = getattr(self, "_pending_test_case", None)
        if test_case:
            self._test_cases[arn] = test_case
        try:
            # A nested start (from inside a running execution) only schedules the child.
            record.run = engine.start(rev.machine, self.runtime, info, value, input_text, run=not self._nested)
        except BaseException:
            del self._executions[arn]
            raise
        return record

    def test_case_of(self, execution_arn: str) -> str | None:
        """The mock test case an execution was started with (``<machine ARN>#<test case>``)."""
        return self._test_cases.get(execution_arn)

    def _express_arn(self, sm: _StateMachine, name: str) -> str:
        # Express executions are not unique by name: a uuid makes each ARN new.
        suffix = self._uuid(self.runtime.random)
        return f"arn:aws:states:{self.region}:{self.account}:express:{sm.name}:{name}:{suffix}"

    def start_execution(self, params: dict) -> dict:
        sm, name, input_text, value = self._prepare_start(params)
        if sm.type == EXPRESS:
            arn = self._express_arn(sm, name)
        else:
            arn = f"arn:aws:states:{self.region}:{self.account}:execution:{sm.name}:{name}"
            existing = self._executions.get(arn)
            if existing is not None:
                if existing.run.status == RUNNING and existing.input_text == input_text:
                    return {"executionArn": arn, "startDate": _date(existing.run.start_time)}
                raise ApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")
        record = self._run(sm, arn, name, input_text, value, params)
        return {"executionArn": arn, "startDate": _date(record.run.start_time)}

    def start_sync_execution(self, params: dict) -> dict:
        sm, name, input_text, value = self._prepare_start(params)
        if sm.type != EXPRESS:
            raise _type_not_supported()
        arn = self._express_arn(sm, name)
        record = self._run(sm, arn, name, input_text, value, params)
        run = record.run
        if run.status == RUNNING:  # the caller waits for the end: let virtual time pass
            self.runtime.scheduler.run(lambda: run.status != RUNNING)
        out = self._execution_fields(record)
        out.pop("redriveCount", None)
        stop = run.stop_time if run.stop_time is not None else self.runtime.clock.now
        # Express is billed in 100 ms steps (at least one) and 64 MB steps of memory.
        billed_ms = max(100, math.ceil(round((stop - run.start_time) * 1000, 3) / 100) * 100)
        out["billingDetails"] = {"billedDurationInMilliseconds": billed_ms, "billedMemoryUsedInMB": 64}
        return out

    def _execution_fields(self, record: _Execution) -> dict:
        run = record.run
        out: dict[str, Any] = {
            "executionArn": record.arn,
            "stateMachineArn": record.machine.arn,
            "name": record.name,
            "status": run.status,
            "startDate": _date(run.start_time),
            "input": record.input_text,
            "inputDetails": {"included": True},
        }
        if run.stop_time is not None:
            out["stopDate"] = _date(run.stop_time)
        if run.status == "SUCCEEDED":
            out["output"] = _output_text(run)
            out["outputDetails"] = {"included": True}
        if run.error is not None:
            out["error"] = run.error
        if run.cause is not None:
            out["cause"] = run.cause
        if record.trace_header is not None:
            out["traceHeader"] = record.trace_header
        out["redriveCount"] = run.redrive_count
        if run.redrive_time is not None:
            out["redriveDate"] = _date(run.redrive_time)
        return out

    def _redrive_status(self, record: _Execution) -> tuple[str, str | None]:
        return record.run.redrive_status()

    def redrive_execution(self, params: dict) -> dict:
        record = self._execution(params["executionArn"])
        if record.machine.type == EXPRESS:
            raise ApiError("ExecutionNotRedrivable", "Execution is an EXPRESS execution and cannot be redriven")
        try:
            record.run.redrive()
        except ValueError as exc:
            raise ApiError("ExecutionNotRedrivable", f"Execution {record.arn} is not redrivable. Reason: {exc}") from None
        return {"redriveDate": _date(record.run.redrive_time)}

    def describe_execution(self, params: dict) -> dict:
        record = self._execution(params["executionArn"])
        out = self._execution_fields(record)
        if isinstance(record, _MapRunChild):
            out["mapRunArn"] = record.map_run_arn
        status, reason = self._redrive_status(record)
        out["redriveStatus"] = status
        if reason is not None:
            out["redriveStatusReason"] = reason
        return out

    def list_executions(self, params: dict) -> dict:
        if "mapRunArn" in params:
            return self._map_run_executions(params)
        if "stateMachineArn" not in params:
            raise ApiError("ValidationException", "Must provide a StateMachine ARN or MapRun ARN",
                           namespace=_CORAL_VALIDATE)
        sm = self._machine(params["stateMachineArn"])
        if sm.type == EXPRESS:
            raise _type_not_supported()
        after = _read_token(params.get("nextToken"), "ListExecutions", sm.arn)
        wanted = params.get("statusFilter")
        # Newest first; executions started at the same virtual instant keep their start order.
        found = sorted(
            (r for r in self._executions.values() if r.machine is sm and (wanted is None or r.run.status == wanted)),
            key=lambda r: (r.run.start_time, r.seq),
            reverse=True,
        )
        if params.get("redriveFilter") == "REDRIVEN":
            found = [r for r in found if r.run.redrive_count > 0]
        elif params.get("redriveFilter") == "NOT_REDRIVEN":
            found = [r for r in found if r.run.redrive_count == 0]
        if after is not None:
            found = [r for r in found if r.seq < after]
        size = self._page_size(params)
        page, more = found[:size], found[size:]
        items = []
        for r in page:
            item = {
                "executionArn": r.arn,
                "stateMachineArn": sm.arn,
                "name": r.name,
                "status": r.run.status,
                "startDate": _date(r.run.start_time),
            }
            if r.run.stop_time is not None:
                item["stopDate"] = _date(r.run.stop_time)
            item["redriveCount"] = r.run.redrive_count
            if r.run.redrive_time is not None:
                item["redriveDate"] = _date(r.run.redrive_time)
            items.append(item)
        out: dict[str, Any] = {"executions": items}
        if more:
            out["nextToken"] = _make_token("ListExecutions", sm.arn, page[-1].seq)
        return out

    def _map_run_executions(self, params: dict) -> dict:
        """ListExecutions(mapRunArn=...): the child executions of a Distributed Map run."""
        run = distributed.map_runs(self.runtime).get(params["mapRunArn"])
        if run is None:
            raise ApiError("ResourceNotFound", f"Resource not found: '{params['mapRunArn']}'")
        wanted = params.get("statusFilter")
        items = []
        for child in reversed(run.executions):
            if wanted is not None and child.status != wanted:
                continue
            item = {"executionArn": child.info.arn, "stateMachineArn": child.info.state_machine_arn,
                    "name": child.info.name, "status": child.status, "startDate": _date(child.start_time),
                    "mapRunArn": run.arn, "redriveCount": 0}
            if child.stop_time is not None:
                item["stopDate"] = _date(child.stop_time)
            items.append(item)
        return {"executions": items[: self._page_size(params)]}

    def stop_execution(self, params: dict) -> dict:
        record = self._execution(params["executionArn"])
        run = record.run
        if run.status == RUNNING:
            run.stop(params.get("error"), params.get("cause"))
        # Stopping a closed execution changes nothing and answers its stop date.
        stop = run.stop_time if run.stop_time is not None else self.runtime.clock.now
        return {"stopDate": _date(stop)}

    def get_execution_history(self, params: dict) -> dict:
        record = self._execution(params["executionArn"])
        reverse = bool(params.get("reverseOrder", False))
        include = params.get("includeExecutionData", True)
        scope = f"{record.arn}|{int(reverse)}"
        after = _read_token(params.get("nextToken"), "GetExecutionHistory", scope)
        events = list(reversed(record.run.events)) if reverse else list(record.run.events)
        if after is not None:
            events = [e for e in events if (e["id"] < after if reverse else e["id"] > after)]
        size = self._page_size(params)
        page, more = events[:size], events[size:]
        out: dict[str, Any] = {"events": [_wire_event(e, include) for e in page]}
        if more:
            out["nextToken"] = _make_token("GetExecutionHistory", scope, page[-1]["id"])
        return out

    # -- task tokens (callbacks and activities) ----------------------------------------------------
    def _waiting_task(self, token: str) -> dict:
        tokens = getattr(self.runtime, "task_tokens", None) or {}
        entry = tokens.get(token)
        if entry is None:
            raise ApiError("InvalidToken", "Invalid Token: 'Invalid token'")
        run = entry["execution"]
        if run.status != RUNNING or not self.runtime.scheduler.is_suspended(entry["key"]):
            raise ApiError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
        return entry

    def send_task_success(self, params: dict) -> dict:
        from .clock import Resumed

        entry = self._waiting_task(params["taskToken"])
        text = params["output"]
        try:
            value = json.loads(text, parse_constant=_reject_nan)
        except ValueError:
            raise ApiError("InvalidOutput", f"Invalid State Machine Execution Output: '{text}'") from None
        self.runtime.scheduler.resume(entry["key"], Resumed(value=value))
        return {}

    def send_task_failure(self, params: dict) -> dict:
        from .clock import Resumed

        entry = self._waiting_task(params["taskToken"])
        self.runtime.scheduler.resume(entry["key"], Resumed(error=(params.get("error"), params.get("cause"))))
        return {}

    def send_task_heartbeat(self, params: dict) -> dict:
        entry = self._waiting_task(params["taskToken"])
        self.runtime.scheduler.heartbeat(entry["key"])
        return {}

    # -- activities --------------------------------------------------------------------------------
    def has_activity(self, arn: str) -> bool:
        return arn in self._activities

    def queue_activity_task(self, arn: str, token: str, input_text: str) -> None:
        self._activity_queue.setdefault(arn, []).append((token, input_text))

    def drop_activity_task(self, arn: str, token: str) -> None:
        queue = self._activity_queue.get(arn, [])
        self._activity_queue[arn] = [(t, i) for t, i in queue if t != token]

    def _activity(self, arn: str) -> dict:
        _parse_arn(arn, ("activity",))
        found = self._activities.get(arn)
        if found is None:
            raise ApiError("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")
        return found

    def create_activity(self, params: dict) -> dict:
        name = params["name"]
        _check_name(name)
        arn = f"arn:aws:states:{self.region}:{self.account}:activity:{name}"
        found = self._activities.get(arn)
        if found is None:  # CreateActivity is idempotent on the name
            found = self._activities[arn] = {"activityArn": arn, "name": name, "creationDate": self.runtime.clock.now,
                                             "tags": {t["key"]: t["value"] for t in params.get("tags", [])}}
        return {"activityArn": arn, "creationDate": _date(found["creationDate"])}

    def describe_activity(self, params: dict) -> dict:
        found = self._activity(params["activityArn"])
        return {"activityArn": found["activityArn"], "name": found["name"], "creationDate": _date(found["creationDate"])}

    def list_activities(self, params: dict) -> dict:
        ordered = sorted(self._activities.values(), key=lambda a: a["name"])
        after = _read_token(params.get("nextToken"), "ListActivities", "")
        if after is not None:
            ordered = [a for a in ordered if a["name"] > after]
        size = self._page_size(params)
        page, more = ordered[:size], ordered[size:]
        out: dict[str, Any] = {"activities": [
            {"activityArn": a["activityArn"], "name": a["name"], "creationDate": _date(a["creationDate"])} for a in page]}
        if more:
            out["nextToken"] = _make_token("ListActivities", "", page[-1]["name"])
        return out

    def delete_activity(self, params: dict) -> dict:
        _parse_arn(params["activityArn"], ("activity",))
        self._activities.pop(params["activityArn"], None)
        return {}

    def get_activity_task(self, params: dict) -> dict:
        from .clock import Resumed

        arn = params["activityArn"]
        self._activity(arn)
        queue = self._activity_queue.get(arn) or []
        while queue:
            token, input_text = queue.pop(0)
            entry = (getattr(self.runtime, "task_tokens", None) or {}).get(token)
            if entry is None or not self.runtime.scheduler.is_suspended(entry["key"]):
                continue
            self.runtime.scheduler.resume(entry["key"], Resumed(value={"workerName": params.get("workerName")}))
            return {"taskToken": token, "input": input_text}
        return {}  # AWS answers after a 60 s long poll with no token; here at once

    # -- map runs ----------------------------------------------------------------------------------
    def describe_map_run(self, params: dict) -> dict:
        from . import distributed

        found = distributed.map_runs(self.runtime).get(params["mapRunArn"])
        if found is None:
            raise ApiError("ResourceNotFound", f"Resource not found: '{params['mapRunArn']}'")
        return found.describe()

    def list_map_runs(self, params: dict) -> dict:
        from . import distributed

        record = self._execution(params["executionArn"])
        runs = [r for r in distributed.map_runs(self.runtime).values() if r.execution_arn == record.arn]
        return {"mapRuns": [r.summary() for r in runs]}

    # -- definitions -------------------------------------------------------------------------------
    def validate_state_machine_definition(self, params: dict) -> dict:
        found = _diagnostics(params["definition"], params.get("type", STANDARD))
        failed = any(d.severity == "ERROR" for d in found)
        # severity is the lowest level returned: ERROR (the default) leaves warnings out.
        if params.get("severity", "ERROR") == "ERROR":
            found = [d for d in found if d.severity == "ERROR"]
        size = self._page_size(params)
        return {
            "result": "FAIL" if failed else "OK",
            "diagnostics": [d.as_dict() for d in found[:size]],
            "truncated": len(found) > size,
        }

    def test_state(self, params: dict) -> dict:
        try:
            from . import teststate
        except ImportError:
            raise ApiError("UnsupportedOperation", "sfnlab does not implement the TestState operation yet") from None
        try:
            return teststate.test_state(self.runtime, **params)
        except DefinitionError as exc:
            raise ApiError("InvalidDefinition", exc.message) from None


# ----------------------------------------------------------------------------------------------
# Pagination tokens: opaque to callers, bound to the operation and the resource they page over


def _make_token(operation: str, scope: str, after: Any) -> str:
    raw = json.dumps([operation, scope, after], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_token(token: str | None, operation: str, scope: str) -> Any:
    """The position a token stands for (None without a token); ``InvalidToken`` when foreign."""
    if token is None:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        kind, where, after = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise ApiError("InvalidToken", "Invalid Token: 'Invalid token'") from None
    if kind != operation or where != scope:
        raise ApiError("InvalidToken", "Invalid Token: 'Invalid token'")
    return after


# One table from operation name to handler; operations of the model not listed here answer
# UnsupportedOperation, names outside the model UnknownOperationException.
_OPERATIONS: dict[str, Callable[[Backend, dict], dict]] = {
    "CreateStateMachine": Backend.create_state_machine,
    "DescribeStateMachine": Backend.describe_state_machine,
    "ListStateMachines": Backend.list_state_machines,
    "UpdateStateMachine": Backend.update_state_machine,
    "DeleteStateMachine": Backend.delete_state_machine,
    "DescribeStateMachineForExecution": Backend.describe_state_machine_for_execution,
    "TagResource": Backend.tag_resource,
    "UntagResource": Backend.untag_resource,
    "ListTagsForResource": Backend.list_tags_for_resource,
    "StartExecution": Backend.start_execution,
    "StartSyncExecution": Backend.start_sync_execution,
    "DescribeExecution": Backend.describe_execution,
    "ListExecutions": Backend.list_executions,
    "RedriveExecution": Backend.redrive_execution,
    "StopExecution": Backend.stop_execution,
    "GetExecutionHistory": Backend.get_execution_history,
    "ValidateStateMachineDefinition": Backend.validate_state_machine_definition,
    "TestState": Backend.test_state,
    "SendTaskSuccess": Backend.send_task_success,
    "SendTaskFailure": Backend.send_task_failure,
    "SendTaskHeartbeat": Backend.send_task_heartbeat,
    "CreateActivity": Backend.create_activity,
    "DescribeActivity": Backend.describe_activity,
    "ListActivities": Backend.list_activities,
    "DeleteActivity": Backend.delete_activity,
    "GetActivityTask": Backend.get_activity_task,
    "DescribeMapRun": Backend.describe_map_run,
    "ListMapRuns": Backend.list_map_runs,
}
# Operations after which other executions may move on (children started, tasks resumed).
_MOVES_EXECUTIONS = frozenset({"StartExecution", "StartSyncExecution", "SendTaskSuccess", "SendTaskFailure",
                               "GetActivityTask", "StopExecution", "DeleteStateMachine"})
