"""Runs a compiled state machine: states, data flow, Retry/Catch, Map/Parallel, history.

ASL spec, "Input and Output Processing", "Errors", and each state type's section. The order of
data processing is the spec's:

    raw input -> InputPath -> Parameters -> (the state's work) -> ResultSelector
              -> ResultPath (merged into the *raw* input) -> OutputPath -> output

Public surface used by the client (api.py) and the pythonic layer:

* :class:`Runtime`: one local account: its virtual clock and scheduler, the Lambda functions
  (name -> ``handler(event, context)``), the region/account and a seeded random source.
* :class:`ExecutionInfo`: names and ARNs of one execution.
* :func:`start`: begin an execution of a compiled :class:`~sfnlab.definition.Machine`; returns an
  :class:`Execution` that has run as far as it can (to its end, or until it waits on something
  outside it).

Every line of control (the execution, a Parallel branch, a Map iteration) is a generator run by
:class:`~sfnlab.clock.Scheduler`; it yields only when virtual time must pass or when it waits for
other lines, so a long chain of states that never wait costs no scheduling at all.

Besides the AWS history, an execution keeps ``records``: one :class:`~sfnlab.visits.Visit` per
state visit (read like a dict: name, type, scope, status, inspection, attempts, ...), in the order
states were entered, for the drawings, the data-flow stepper, timelines and TestState.
"""
from __future__ import annotations

import base64
import random
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Generator, Mapping, NamedTuple, Sequence, cast

from . import definition as d
from . import distributed
from ._timestamps import parse_timestamp
from .clock import Join, Scheduler, Sleep, Task, VirtualClock, iso
from .errors import StatesError, matches
from .history import History, HistoryLimitExceeded, to_json
from .jsonata import Environment, JsonataTemplate
from .paths import Path, PathNotFound, Scope
from .payload import Template
from .visits import Visit

if TYPE_CHECKING:
    from .backend import Backend
    from .services import Services

__all__ = ["Runtime", "ExecutionInfo", "Execution", "start", "PAYLOAD_LIMIT", "TestMode", "Retriable"]

PAYLOAD_LIMIT = 256 * 1024  # bytes of UTF-8 JSON: state input/output, task results, execution I/O
EXPRESS_MAX_SECONDS = 5 * 60
EXPRESS_EVENT_BUDGET = 250_000  # history events an Express execution may make before it counts as runaway
EXPRESS_REAL_SECONDS = EXPRESS_MAX_SECONDS  # real seconds of work: a loop of heavy states is a runaway too
REDRIVE_LAUNCH = 1_700_006_400.0  # 2023-11-15: executions started before RedriveExecution existed
STANDARD_MAX_SECONDS = 365 * 24 * 3600
WAIT_LIMIT = 99_999_999  # seconds; a longer Wait fails with "Wait state delay is too long."

_ROOT = d.ROOT  # the Path "$"
_NOTHING = object()

_TOO_DEEP = "The state's data is nested too deeply to be processed."  # sfnlab's words; AWS documents none

# Errors whose cause AWS prefixes with the state and the event where it was entered.
_STATE_SCOPED = frozenset({"States.Runtime", "States.IntrinsicFailure", "States.QueryEvaluationError"})


@dataclass
class Runtime:
    """One local account: clock, scheduler, Lambda functions, region, account, random source."""

    functions: dict[str, Callable] = field(default_factory=dict)
    clock: VirtualClock = field(default_factory=VirtualClock)
    region: str = "us-east-1"
    account: str = "123456789012"
    seed: int | None = 0
    scheduler: Scheduler = field(init=False)
    random: random.Random = field(init=False)
    if TYPE_CHECKING:  # attributes set later, not fields: Backend(runtime) sets one, AWS services the other
        backend: Backend = field(init=False)
        services: Services = field(init=False)

    def __post_init__(self) -> None:
        self.scheduler = Scheduler(self.clock)
        self.random = random.Random(self.seed)


@dataclass(frozen=True)
class ExecutionInfo:
    """Names and ARNs of one execution (they feed the context object ``$$``)."""

    arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    role_arn: str | None  # None: a TestState call without a role
    type: str = "STANDARD"  # or "EXPRESS"


@dataclass
class TestMode:
    """How TestState runs one state (see sfnlab.teststate): mocks and the state's starting point.

    Attributes:
        mock_result: the mocked result of a Task, Map or Parallel (a JSON value), or
        mock_error: ``(error, cause)`` it fails with instead.
        retrier_retry_count: attempts already made under the retrier that matches the error.
        has_mock: whether a mock replaces the state's work.
    """

    has_mock: bool = False
    mock_result: Any = None
    mock_error: tuple[str | None, str | None] | None = None  # the error may be None, as in SendTaskFailure
    retrier_retry_count: int = 0
    # Optional overrides: the whole context object TestState shows, and the mocked outcome
    # (e.g. a Map that fails when mocked iterations break its tolerance).
    context: Callable[..., dict] | None = None
    mocked: Callable[[], Any] | None = None


class Retriable(Exception):
    """TestState: the error matched a retrier that still has attempts left."""

    def __init__(self, failure: StatesError, retry_index: int, delay: float) -> None:
        super().__init__(failure.error)
        self.failure = failure
        self.retry_index = retry_index
        self.delay = delay


class Frame:
    """One line of control: where its last event was, its variables, the state it is in, its place.

    ``$$.Map.Item`` exists only while a Map's ItemSelector is evaluated, so frames carry no Map item.
    ``variables`` is never changed in place (Assign makes a new dict), so branches and iterations
    start from their parent's dict without copying it.
    """

    __slots__ = ("prev", "variables", "assigned", "record", "scope_path")

    def __init__(self, prev: int, variables: dict, scope_path: tuple = ()) -> None:
        self.prev = prev
        self.variables = variables
        self.assigned: dict | None = None
        self.record: Visit | None = None
        self.scope_path = scope_path


class Execution:
    """A running or finished execution.

    Attributes:
        status: "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED".
        output: the output JSON value (SUCCEEDED only), else None.
        error, cause: set when FAILED / TIMED_OUT / ABORTED (cause may be None).
        start_time, stop_time: virtual epoch seconds (stop_time None while running).
        events: AWS-shaped history events, dicts with ``timestamp`` (epoch seconds, float),
            ``type``, ``id``, ``previousEventId`` and the ``...EventDetails`` key of the type.
        input: the execution input JSON value; input_text: the text as given.
    """

    # Set only on some executions (annotations only: no class attribute, so getattr defaults still apply).
    map_run_arn: str  # a Distributed Map's child: its Map Run (sfnlab.distributed)
    lambda_seconds: float  # the virtual time the last Lambda function took (sfnlab.tasks)

    def __init__(self, machine: d.Machine, runtime: Runtime, info: ExecutionInfo, input_value: Any,
                 input_text: str) -> None:
        self.machine = machine
        self.runtime = runtime
        self.info = info
        self.input = input_value
        self.input_text = input_text
        self.status = "RUNNING"
        self.output: Any = None
        self.error: str | None = None
        self.cause: str | None = None
        self.start_time = runtime.clock.now
        self.stop_time: float | None = None
        # Express executions keep no history on AWS; sfnlab keeps one for learning, without the limit.
        self.history = History(runtime.clock, History.LIMIT if info.type == "STANDARD" else None)
        self.records: list[Visit] = []  # one per state visit (see the module docstring)
        self.test_mode: TestMode | None = None
        self.redrive_count = 0
        self.redrive_time: float | None = None
        self._redriven: Visit | None = None
        self._real_deadline = time.monotonic() + EXPRESS_REAL_SECONDS  # only Express executions look at it
        self.on_finish: list[Callable[["Execution"], None]] = []  # called once the execution ends
        # The last value _encode turned into text, and that text.
        self._encoded_value: Any = _NOTHING
        self._encoded_text = ""
        self._tasks: list[Task] = []
        self._main: Task | None = None
        self._context_base = {
            "Execution": {
                "Id": info.arn,
                "Input": input_value,
                "StartTime": iso(self.start_time),
                "Name": info.name,
                "RoleArn": info.role_arn,
                "RedriveCount": 0,
            },
            "StateMachine": {"Id": info.state_machine_arn, "Name": info.state_machine_name},
        }

    # -- public ---------------------------------------------------------------------------------
    @property
    def events(self) -> list[dict]:
        return self.history.events

    @property
    def done(self) -> bool:
        return self.status != "RUNNING"

    def stop(self, error: str | None = None, cause: str | None = None) -> None:
        """Abort a RUNNING execution (StopExecution)."""
        if self.done:
            return
        details: dict[str, Any] = {}
        if error is not None:
            details["error"] = error
        if cause is not None:
            details["cause"] = cause
        self._cancel_all()
        self.history.add("ExecutionAborted", self.history.last_id, details,
                         final=True)
        self._finish("ABORTED", error=error, cause=cause)

    # -- redrive --------------------------------------------------------------------------------
    REDRIVE_WINDOW = 14 * 24 * 3600

    def redrive_status(self) -> tuple[str, str | None]:
        """(REDRIVABLE | NOT_REDRIVABLE, the reason when not), with the reasons AWS documents."""
        now = self.runtime.clock.now
        if self.status in ("RUNNING", "SUCCEEDED"):
            return "NOT_REDRIVABLE", f"Execution is {self.status} and cannot be redriven"
        if self.start_time < REDRIVE_LAUNCH:
            return "NOT_REDRIVABLE", "Execution was started before the launch of RedriveExecution"
        if now >= self.start_time + STANDARD_MAX_SECONDS:
            return "NOT_REDRIVABLE", "Execution has exceeded the max execution time"
        if self.stop_time is not None and now >= self.stop_time + self.REDRIVE_WINDOW:
            return "NOT_REDRIVABLE", "Execution redrivable period exceeded"
        if len(self.history) >= History.LIMIT - 1:
            return "NOT_REDRIVABLE", "Execution history event limit exceeded"
        return "REDRIVABLE", None

    def _redrive_point(self) -> Visit | None:
        for record in reversed(self.records):
            if record.scope == () and record.status in ("FAILED", "ABORTED"):
                return record
        return None

    def redrive(self) -> None:
        """RedriveExecution: restart a failed, timed-out or aborted execution from its unsuccessful state.

        The state that did not succeed runs again with the input and variables it had; inside a
        Map or Parallel state only the iterations or branches that did not succeed run again.
        Raises ValueError when AWS would not redrive it (see :meth:`redrive_status`).
        """
        status, reason = self.redrive_status()
        point = self._redrive_point()
        if status != "REDRIVABLE" or point is None:
            raise ValueError(reason or "Execution has no unsuccessful state to redrive from")
        self.redrive_count += 1
        self.redrive_time = self.runtime.clock.now
        self._context_base["Execution"] = {**self._context_base["Execution"], "RedriveCount": self.redrive_count,
                                           "RedriveTime": iso(self.redrive_time)}
        self._redriven = point
        self.status, self.output, self.error, self.cause, self.stop_time = "RUNNING", None, None, None, None
        prev = self.history.add("ExecutionRedriven", self.history.last_id, {"redriveCount": self.redrive_count})
        self._main = self._spawn(self._main_line({"state": point.name, "input": point.inspection["input"],
                                                  "variables": point.variables_at_entry, "prev": prev}),
                                 self.info.name)
        self._start_watchdog()
        self.runtime.scheduler.run(until=lambda: self.done)
        self.raise_crash()

    def raise_crash(self) -> None:
        """Re-raise a Python exception that ended the main line without being a States error.

        The scheduler hands a task's exception to whoever joins it; nobody joins the main line,
        so without this a bug in sfnlab (or a KeyboardInterrupt) would leave the execution
        RUNNING in silence.
        """
        main = self._main
        if main is not None and main.done and main.exception is not None \
                and not isinstance(main.exception, StatesError):
            raise main.exception

    def _start_watchdog(self) -> None:
        # TimeoutSeconds, capped by the longest an execution may run: 5 minutes Express, 1 year Standard.
        longest = EXPRESS_MAX_SECONDS if self.info.type == "EXPRESS" else STANDARD_MAX_SECONDS
        timeout = min(self.machine.timeout_seconds or longest, longest)
        self._spawn(self._watchdog(timeout), f"{self.info.name}/timeout")

    def _previous_results(self, state: d.State, frame: Frame) -> dict[int, Any]:
        """Redrive: the results of the iterations or branches that succeeded last time."""
        point = self._redriven
        if point is None or point.name != state.name or frame.scope_path != ():
            return {}
        return point.get("children", {})

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def arn(self) -> str:
        return self.info.arn

    def events_of(self, *types: str) -> list[dict]:
        """The events of the given types (all events when none is given)."""
        return [e for e in self.history.events if not types or e["type"] in types]

    def __repr__(self) -> str:
        tail = f" output={to_json(self.output)[:60]}" if self.status == "SUCCEEDED" else (
            f" error={self.error!r}" if self.error else "")
        return f"<Execution {self.info.name} {self.status}{tail}>"

    def _repr_html_(self) -> str:
        from .display import execution_html

        return execution_html(self)

    # -- running --------------------------------------------------------------------------------
    def _spawn(self, gen: Generator[Any, Any, Any], name: str = "", after: Task | None = None) -> Task:
        """A new line of control; ``after``: run it right after that task's step (Scheduler.spawn_next)."""
        scheduler = self.runtime.scheduler
        task = scheduler.spawn(gen, name) if after is None else scheduler.spawn_next(after, gen, name)
        self._tasks.append(task)
        return task

    def _cancel_all(self) -> None:
        for task in self._tasks:
            if not task.done:
                self.runtime.scheduler.cancel(task)

    def _finish(self, status: str, output: Any = None, error: str | None = None, cause: str | None = None) -> None:
        self.status = status
        self.output = output
        self.error = error
        self.cause = cause
        self.stop_time = self.runtime.clock.now
        self._cancel_all()
        for record in self.records:
            if record.status == "RUNNING":
                record.status = "ABORTED"
        for callback in list(self.on_finish):
            callback(self)

    def _main_line(self, resume: dict | None = None) -> Generator[Any, Any, Any]:
        """The execution's top line of control; ``resume`` restarts it at a failed state (redrive)."""
        if resume is None:
            frame = Frame(0, {})
            self.history.add("ExecutionStarted", 0, {
                "input": self.input_text if self.input_text is not None else to_json(self.input),
                "inputDetails": {"truncated": False},
                "roleArn": self.info.role_arn,
            })
            # AWS links the first StateEntered to event 0, not to ExecutionStarted.
            start, value = None, self.input
        else:
            frame = Frame(resume["prev"], resume["variables"])
            start, value = resume["state"], resume["input"]
        try:
            output = yield from self._run_graph(self.machine.graph, value, frame, start)
        except StatesError as failure:
            if isinstance(failure.__context__, HistoryLimitExceeded) or isinstance(failure, HistoryLimitExceeded):
                failure = failure if isinstance(failure, HistoryLimitExceeded) else \
                    cast(HistoryLimitExceeded, failure.__context__)
            self.history.add("ExecutionFailed", self.history.last_id, _error_details(failure), final=True)
            self._finish("FAILED", error=failure.error, cause=failure.cause)
            return
        text = to_json(output)
        if len(text.encode("utf-8", "surrogatepass")) > PAYLOAD_LIMIT:  # a lone surrogate counts, not crashes
            too_big = StatesError("States.DataLimitExceeded",
                                  "The state/task returned a result with a size exceeding the maximum number of bytes service limit.")
            self.history.add("ExecutionFailed", frame.prev, _error_details(too_big), final=True)
            self._finish("FAILED", error=too_big.error, cause=too_big.cause)
            return
        self.history.add("ExecutionSucceeded", frame.prev, {"output": text, "outputDetails": {"truncated": False}},
                         final=True)
        self._finish("SUCCEEDED", output=output)

    def run_as_child(self, graph: d.Graph, value: Any) -> Generator[Any, Any, Any]:
        """Run as a Distributed Map child execution inside its parent's line of control.

        Returns the output, or raises the StatesError the child failed with.
        """
        frame = Frame(0, {})
        self.history.add("ExecutionStarted", 0, {"input": to_json(value), "inputDetails": {"truncated": False},
                                                 "roleArn": self.info.role_arn})
        try:
            output = yield from self._run_graph(graph, value, frame)
        except StatesError as failure:
            self.history.add("ExecutionFailed", self.history.last_id, _error_details(failure), final=True)
            self._finish("FAILED", error=failure.error, cause=failure.cause)
            raise
        self.history.add("ExecutionSucceeded", frame.prev, {"output": to_json(output), "outputDetails": {"truncated": False}},
                         final=True)
        self._finish("SUCCEEDED", output=output)
        return output

    def _watchdog(self, seconds: float) -> Generator[Any, Any, Any]:
        yield Sleep(seconds, passive=True)
        if not self.done:
            self._cancel_all()
            self.history.add("ExecutionTimedOut", self.history.last_id, {"error": "States.Timeout"}, final=True)
            self._finish("TIMED_OUT", error="States.Timeout")

    # -- graphs and states ----------------------------------------------------------------------
    def _run_graph(self, graph: d.Graph, value: Any, frame: Frame, start: str | None = None) -> Generator[Any, Any, Any]:
        name = start or graph.start_at
        states = graph.states
        while True:
            state = states[name]
            kind = _KINDS[state.type]
            if kind.waits:
                name, value = yield from self._run_state(state, value, frame)
            else:  # a plain call: no generator to make and resume for a state that cannot wait
                name, value = self._run_instant(kind, state, value, frame)
            if name is None:
                return value
            if self.history.limit is None and self._runaway():
                # A loop of states that take no virtual time would never reach the 5-minute limit
                # of an Express execution. On AWS every transition takes real time and the loop
                # ends at that limit, TIMED_OUT: let the clock run until the watchdog says so.
                yield Sleep(EXPRESS_MAX_SECONDS)

    def _runaway(self) -> bool:
        """An Express execution past its event budget, or past 5 minutes of this machine's real time."""
        return len(self.history) > EXPRESS_EVENT_BUDGET or time.monotonic() > self._real_deadline

    def _context(self, state: d.State, entered: float, frame: Frame, retry_count: int | None = None,
                 token: str | None = None) -> dict:
        if self.test_mode is not None and self.test_mode.context is not None:
            return self.test_mode.context(state, entered, frame, retry_count, token)
        ctx = dict(self._context_base)
        state_ctx: dict[str, Any] = {"EnteredTime": iso(entered), "Name": state.name}
        if retry_count is not None:
            state_ctx["RetryCount"] = retry_count
        ctx["State"] = state_ctx
        if token is not None:
            ctx["Task"] = {"Token": token}
        return ctx

    def run_state(self, state: d.State, raw: Any, frame: Frame) -> Generator[Any, Any, Any]:
        """Run one state (TestState): a generator returning ``(next state, output)``."""
        return self._run_state(state, raw, frame)

    # A state visit: _enter (StateEntered, its record), the state type's handler, _exit
    # (StateExited) or _state_failed. _run_state is the generator every state type can run in;
    # _run_instant is the same visit as a plain call, for the types that never wait.
    def _run_state(self, state: d.State, raw: Any, frame: Frame) -> Generator[Any, Any, Any]:
        kind = _KINDS[state.type]
        record = self._enter(kind, state, raw, frame)
        try:
            if kind.waits:
                next_name, output = yield from kind.run(self, state, raw, frame, record)
            else:
                next_name, output = kind.run(self, state, raw, frame, record)
            text = self._output_text(state, output)
        except (StatesError, PathNotFound, RecursionError) as exc:
            raise self._state_failed(state, record, _as_states_error(exc)) from None
        return self._exit(kind, state, record, frame, next_name, output, text)

    def _run_instant(self, kind: "_Kind", state: d.State, raw: Any, frame: Frame) -> tuple:
        record = self._enter(kind, state, raw, frame)
        try:
            next_name, output = kind.run(self, state, raw, frame, record)
            text = self._output_text(state, output)
        except (StatesError, PathNotFound, RecursionError) as exc:
            raise self._state_failed(state, record, _as_states_error(exc)) from None
        return self._exit(kind, state, record, frame, next_name, output, text)

    def _enter(self, kind: "_Kind", state: d.State, raw: Any, frame: Frame) -> Visit:
        """The StateEntered event and the visit's record."""
        entered = self.history.add_state(kind.entered, frame.prev, state.name, self._encode(raw))
        frame.prev = entered
        # Only Task, Parallel and Map make attempts (Retry); the others share an empty tuple.
        record = Visit(state.name, kind.name, frame.scope_path, entered, self.runtime.clock.now, {"input": raw},
                       [] if kind.waits else (), frame.variables)
        self.records.append(record)
        frame.record = record
        frame.assigned = None
        return record

    def _output_text(self, state: d.State, output: Any) -> str:
        text = self._encode(output)
        # A character takes 1 to 4 bytes in UTF-8: only a long text needs encoding to be measured.
        if len(text) * 4 > PAYLOAD_LIMIT and len(text.encode("utf-8", "surrogatepass")) > PAYLOAD_LIMIT:
            # Terminal: an oversized state output is not handed to Retry or Catch.
            raise StatesError("States.DataLimitExceeded", f"The state/task '{state.name}' returned a result "
                              "with a size exceeding the maximum number of bytes service limit.")
        return text

    def _exit(self, kind: "_Kind", state: d.State, record: Visit, frame: Frame, next_name: str | None, output: Any,
              text: str) -> tuple:
        """The StateExited event; completes the record."""
        if frame.assigned is None:
            frame.prev = self.history.add_state(kind.exited, frame.prev, state.name, text)
        else:
            frame.prev = self.history.add(kind.exited, frame.prev, {
                "name": state.name, "output": text, "outputDetails": {"truncated": False},
                "assignedVariables": frame.assigned, "assignedVariablesDetails": {"truncated": False}})
            frame.assigned = None
        record.exited_event = frame.prev
        record.exited_time = self.runtime.clock.now
        record.next = next_name
        if record.status == "RUNNING":
            record.status = "SUCCEEDED"
        record.inspection["output"] = output
        return next_name, output

    def _state_failed(self, state: d.State, record: Visit, failure: StatesError) -> StatesError:
        """The error a failed state raises (scoped to it), with its record and EvaluationFailed event."""
        failure = _scoped(failure, state, record.entered_event)
        if failure.error == "States.QueryEvaluationError":
            self.history.add("EvaluationFailed", 0, {
                "cause": failure.cause, "error": failure.error,
                "location": getattr(failure, "location", None), "state": state.name})
        _fail_record(record, failure, self.runtime.clock.now)
        return failure

    def _encode(self, value: Any) -> str:
        """JSON text of a state's input or output. A state's output is usually the next state's
        input, the very same object (values are never changed in place), so its text is reused."""
        if value is self._encoded_value:
            return self._encoded_text
        text = to_json(value)
        self._encoded_value, self._encoded_text = value, text
        return text

    # -- data flow helpers ----------------------------------------------------------------------
    def _scope(self, value: Any, state: d.State, entered_time: float, frame: Frame,
               retry_count: int | None = None, token: str | None = None) -> Scope:
        if self.test_mode is not None:
            return Scope(value, self._context(state, entered_time, frame, retry_count, token), frame.variables)
        # The context object is made only if something reads $$ (most states never do).
        return Scope(value, None, frame.variables, partial(self._context, state, entered_time, frame, retry_count, token))

    def _env(self, scope: Scope, raw: Any, **extra: Any) -> Environment:
        """The JSONata environment of a state: ``$states`` and the variables before the state."""
        states = {"input": raw, "context": scope.context}
        states.update(extra)
        return Environment(states, scope.variables, self.runtime.random, self.runtime.clock.now)

    @staticmethod
    def _select(path: Path | None, value: Any, scope: Scope) -> Any:
        """InputPath / OutputPath: null gives {}, ``$`` the value itself, else what the path selects."""
        if path is None:
            return {}
        if path.steps == () and path.root == "input":
            return value
        return path.get(scope.with_input(value))

    def _input(self, state: d.State, raw: Any, scope: Scope) -> Any:
        path = state.input_path
        return raw if path is _ROOT else self._select(path, raw, scope)  # "$", the default, is common

    def _recorded_input(self, state: d.State, raw: Any, scope: Scope, frame: Frame) -> Any:
        value = self._input(state, raw, scope)
        if frame.record is not None:
            frame.record.inspection["afterInputPath"] = value
        return value

    def _apply_output(self, state: d.State, value: Any, scope: Scope) -> Any:
        path = state.output_path
        return value if path is _ROOT else self._select(path, value, scope)

    def _apply_result_path(self, path: Path | None, raw: Any, result: Any) -> Any:
        if path is None:
            return raw
        if path is _ROOT or not path.steps:
            return result
        try:
            return path.set(raw, result)
        except ValueError:
            raise StatesError(
                "States.ResultPathMatchFailure",
                f"Unable to apply ReferencePath {path.text} to input {to_json(raw)}",
            ) from None

    def _assign(self, template: Any, scope: Scope, frame: Frame, env: Environment | None = None) -> None:
        """Assign: evaluated against the variables as they were on entering the state."""
        if template is None:
            return
        if env is not None:
            values = template.evaluate(env)
        else:
            values = template.evaluate(scope, self.runtime.random)
        frame.variables = {**frame.variables, **values}
        frame.assigned = {k: to_json(v) for k, v in values.items()}
        if frame.record is not None:
            frame.record.inspection["variables"] = frame.variables

    def _effective_input(self, state: d._Results, raw: Any, scope: Scope, frame: Frame) -> Any:
        """InputPath then Parameters (JSONPath), or Arguments (JSONata): what the state works on."""
        inspection = frame.record.inspection if frame.record is not None else {}
        if state.is_jsonata:
            if state.arguments is None:
                return raw
            value = state.arguments.evaluate(self._env(scope, raw))
            inspection["afterArguments"] = value
            return value
        value = self._input(state, raw, scope)
        inspection["afterInputPath"] = value
        if state.parameters is not None:
            value = state.parameters.evaluate(scope.with_input(value), self.runtime.random)
            inspection["afterParameters"] = value
        return value

    def _finish_state(self, state: d._Results, raw: Any, result: Any, scope: Scope, frame: Frame) -> Any:
        """JSONPath: ResultSelector -> ResultPath -> OutputPath; JSONata: Output. Then Assign."""
        inspection = frame.record.inspection if frame.record is not None else {}
        inspection["result"] = result
        if state.is_jsonata:
            env = self._env(scope, raw, result=result)
            output = state.output.evaluate(env) if state.output is not None else result
            self._assign(state.assign, scope, frame, env)
            return output
        if state.result_selector is not None:
            result = state.result_selector.evaluate(scope.with_input(result), self.runtime.random)
            inspection["afterResultSelector"] = result
        # Assign reads the state's result through $ and the variables as they were before it.
        if state.assign is not None:
            self._assign(state.assign, scope.with_input(result), frame)
        path = state.result_path
        merged = result if path is _ROOT else self._apply_result_path(path, raw, result)
        inspection["afterResultPath"] = merged
        return self._apply_output(state, merged, scope)

    def _plain_output(self, state: d.State, raw: Any, value: Any, scope: Scope, frame: Frame,
                      output: Any = None, assign: Any = None) -> Any:
        """Output and Assign of states without a result (Choice, Wait, Succeed)."""
        if state.is_jsonata:
            env = self._env(scope, raw)
            template = output if output is not None else state.output
            result = template.evaluate(env) if template is not None else raw
            self._assign(assign if assign is not None else state.assign, scope, frame, env)
            return result
        template = assign if assign is not None else state.assign
        if template is not None:
            self._assign(template, scope.with_input(value), frame)
        return self._apply_output(state, value, scope)

    # -- state types ----------------------------------------------------------------------------
    def _run_pass(self, state: d.PassState, raw: Any, frame: Frame, record: Visit) -> tuple:
        scope = self._scope(raw, state, self.runtime.clock.now, frame)
        if state.is_jsonata:
            env = self._env(scope, raw)
            output = state.output.evaluate(env) if state.output is not None else (
                state.result if state.has_result else raw)
            self._assign(state.assign, scope, frame, env)
            return _next(state), output
        value = self._effective_input(state, raw, scope, frame)
        result = state.result if state.has_result else value
        output = self._finish_state(state, raw, result, scope, frame)
        return _next(state), output

    def _run_succeed(self, state: d.SucceedState, raw: Any, frame: Frame, record: Visit) -> tuple:
        scope = self._scope(raw, state, self.runtime.clock.now, frame)
        value = raw if state.is_jsonata else self._recorded_input(state, raw, scope, frame)
        return None, self._plain_output(state, raw, value, scope, frame)

    def _run_fail(self, state: d.FailState, raw: Any, frame: Frame, record: Visit) -> tuple:
        scope = self._scope(raw, state, self.runtime.clock.now, frame)
        if state.is_jsonata:
            env = self._env(scope, raw)
            error = state.error_expr.evaluate(env) if state.error_expr is not None else state.error
            cause = state.cause_expr.evaluate(env) if state.cause_expr is not None else state.cause
            for field, value, expr in (("Error", error, state.error_expr), ("Cause", cause, state.cause_expr)):
                if expr is not None and not isinstance(value, str):
                    raise _unexpected_type(expr.source, field, "string", value)
        else:
            record.inspection["afterInputPath"] = raw  # Fail takes no InputPath
            error = _fail_field(state.error, state.error_path, "ErrorPath", scope, self.runtime.random)
            cause = _fail_field(state.cause, state.cause_path, "CausePath", scope, self.runtime.random)
        raise _FailState(error, cause)

    def _run_choice(self, state: d.ChoiceState, raw: Any, frame: Frame, record: Visit) -> tuple:
        scope = self._scope(raw, state, self.runtime.clock.now, frame)
        if state.is_jsonata:
            env = self._env(scope, raw)
            for branch in state.choices:
                matched = cast(JsonataTemplate, branch.condition).evaluate(env)  # set in JSONata
                if not isinstance(matched, bool):
                    raise _unexpected_type(branch.raw.get("Condition"), "Condition", "boolean", matched)
                if matched:
                    return branch.next, self._plain_output(state, raw, raw, scope, frame, branch.output, branch.assign)
            if state.default is None:
                raise StatesError("States.NoChoiceMatched", f"No Matches! at state with name '{state.name}'")
            return state.default, self._plain_output(state, raw, raw, scope, frame)
        value = self._input(state, raw, scope)
        record.inspection["afterInputPath"] = value
        rule_scope = scope.with_input(value)
        for branch in state.choices:
            if branch.rule(rule_scope):  # type: ignore[misc]  # set in JSONPath (no cast: a call per branch)
                if branch.assign is not None:
                    self._assign(branch.assign, rule_scope, frame)
                return branch.next, self._apply_output(state, value, scope)
        if state.default is None:
            raise StatesError("States.NoChoiceMatched", f"No Matches! at state with name '{state.name}'")
        if state.assign is not None:
            self._assign(state.assign, rule_scope, frame)
        return state.default, self._apply_output(state, value, scope)

    def _run_wait(self, state: d.WaitState, raw: Any, frame: Frame, record: Visit) -> Generator[Any, Any, Any]:
        now = self.runtime.clock.now
        scope = self._scope(raw, state, now, frame)
        value = raw if state.is_jsonata else self._recorded_input(state, raw, scope, frame)
        seconds = self._wait_seconds(state, raw, scope.with_input(value), now)
        output = self._plain_output(state, raw, value, scope, frame)
        if seconds > 0:
            yield Sleep(seconds)
        return _next(state), output

    def _wait_seconds(self, state: d.WaitState, raw: Any, scope: Scope, now: float) -> float:
        if state.seconds_expr is not None:
            seconds = state.seconds_expr.evaluate(self._env(scope, raw))
            if not _is_integer(seconds) or seconds < 0:
                raise _unexpected_type(state.raw.get("Seconds"), "Seconds", "integer", seconds)
        elif state.timestamp_expr is not None:
            found = state.timestamp_expr.evaluate(self._env(scope, raw))
            when = parse_timestamp(found)
            if when is None:
                raise StatesError("States.QueryEvaluationError", "The Timestamp field cannot be parsed as an ISO-8601 extended "
                                  f"offset date-time format string: {_java_text(found)}")
            seconds = when - now
        elif state.seconds is not None:
            seconds = state.seconds
        elif state.timestamp is not None:
            when = parse_timestamp(state.timestamp)
            if when is None:
                raise StatesError("States.Runtime", "The Timestamp field cannot be parsed as an ISO-8601 extended "
                                  f"offset date-time format string: {state.timestamp}")
            seconds = when - now
        elif state.seconds_path is not None:
            try:
                found = state.seconds_path.get(scope)
            except PathNotFound:
                raise StatesError("States.Runtime", "The SecondsPath parameter does not reference an input value: "
                                  f"{state.seconds_path.text}") from None
            if not _is_integer(found):
                raise StatesError("States.Runtime", "The SecondsPath parameter cannot be parsed as a long value: "
                                  f"{state.seconds_path.text} == {_java_text(found)}")
            if found < 0:
                raise StatesError("States.Runtime", "The SecondsPath parameter references a negative value: "
                                  f"{state.seconds_path.text} == {_java_text(found)}")
            seconds = found
        else:
            path = cast(Path, state.timestamp_path)  # the definition has one of the four
            try:
                found = path.get(scope)
            except PathNotFound:
                raise StatesError("States.Runtime", "The TimestampPath parameter does not reference an input value: "
                                  f"{path.text}") from None
            when = parse_timestamp(found)
            if when is None:
                raise StatesError("States.Runtime", "The TimestampPath parameter does not reference a valid ISO-8601 "
                                  f"extended offset date-time format string: {path.text} == {_java_text(found)}")
            seconds = when - now
        if seconds > WAIT_LIMIT:
            raise StatesError("States.Runtime", "Wait state delay is too long.")
        return max(0.0, float(seconds))

    # Task, Parallel and Map share Retry/Catch around one "attempt".
    def _with_handlers(self, state: d._Handles, raw: Any, frame: Frame, record: Visit,
                       attempt: Callable) -> Generator[Any, Any, Any]:
        test = self.test_mode
        counts = [test.retrier_retry_count if test else 0] * len(state.retry)
        retry_count = test.retrier_retry_count if test else 0
        while True:
            started = self.runtime.clock.now
            log: dict[str, Any] = {"start": started, "end": None, "error": None, "cause": None, "retry_index": None,
                                   "delay": None}
            cast(list, record.attempts).append(log)  # a list for Task, Parallel and Map
            try:
                output = yield from attempt(retry_count)
                log["end"] = self.runtime.clock.now
                return _next(state), output
            except StatesError as failure:
                log.update(end=self.runtime.clock.now, error=failure.error, cause=failure.cause)
                if failure.error == "States.Runtime":
                    raise
                error = failure.error
                delay = None
                for index, retrier in enumerate(state.retry):
                    if matches(retrier.error_equals, error):
                        if counts[index] < retrier.max_attempts:
                            counts[index] += 1
                            retry_count += 1
                            delay = retrier.delay(counts[index])
                            if retrier.jitter_strategy == "FULL":
                                delay = self.runtime.random.uniform(0, delay)
                            log.update(retry_index=index, delay=delay)
                        break
                if delay is not None:
                    if test is not None:
                        raise Retriable(failure, log["retry_index"], delay)
                    if delay > 0:
                        yield Sleep(delay)
                    continue
                failure = _scoped(failure, state, record.entered_event)
                for index, catcher in enumerate(state.catch):
                    if matches(catcher.error_equals, error):
                        record.status, record.caught_by, record.error, record.cause = \
                            "CAUGHT", index, error, failure.cause
                        return catcher.next, self._catch_output(state, catcher, raw, failure, frame)
                raise failure

    def _catch_output(self, state: d._Handles, catcher: d.Catcher, raw: Any, failure: StatesError,
                      frame: Frame) -> Any:
        error_output = {"Error": failure.error, "Cause": failure.cause}
        if failure.cause is None and failure.error is not None:
            error_output = {"Error": failure.error}
        scope = self._scope(raw, state, self.runtime.clock.now, frame)
        if state.is_jsonata:
            env = self._env(scope, raw, errorOutput=error_output)
            output = catcher.output.evaluate(env) if catcher.output is not None else error_output
            self._assign(catcher.assign, scope, frame, env)
            return output
        self._assign(catcher.assign, scope.with_input(error_output), frame)
        return self._apply_result_path(catcher.result_path, raw, error_output)

    def _run_task(self, state: d.TaskState, raw: Any, frame: Frame, record: Visit) -> Generator[Any, Any, Any]:
        from .tasks import run_task

        # A task token exists for callbacks and, as AWS was recorded doing, for .sync tasks too.
        callback = state.resource.endswith(".waitForTaskToken") or ".sync" in state.resource

        def attempt(retry_count: int) -> Generator[Any, Any, Any]:
            token = self.task_token() if callback else None
            scope = self._scope(raw, state, self.runtime.clock.now, frame, retry_count, token)
            value = self._effective_input(state, raw, scope, frame)
            if self.test_mode is not None and self.test_mode.has_mock:
                result = self._mocked()
            else:
                result = yield from run_task(self, state, value, scope, frame)
            return self._finish_state(state, raw, result, scope, frame)

        return (yield from self._with_handlers(state, raw, frame, record, attempt))

    def _mocked(self) -> Any:
        """TestState: the mocked result, or the mocked error raised."""
        test = cast(TestMode, self.test_mode)  # called in test mode only
        if test.mocked is not None:
            return test.mocked()
        if test.mock_error is not None:
            raise StatesError(*test.mock_error)
        return test.mock_result

    def task_token(self) -> str:
        """A new opaque, unique task token (seeded, so runs repeat)."""
        bits = self.runtime.random.getrandbits(384)
        return base64.urlsafe_b64encode(bits.to_bytes(48, "big")).decode().rstrip("=")

    def _run_parallel(self, state: d.ParallelState, raw: Any, frame: Frame, record: Visit) -> Generator[Any, Any, Any]:
        def attempt(retry_count: int) -> Generator[Any, Any, Any]:
            scope = self._scope(raw, state, self.runtime.clock.now, frame, retry_count)
            value = self._effective_input(state, raw, scope, frame)
            if self.test_mode is not None and self.test_mode.has_mock:
                return self._finish_state(state, raw, self._mocked(), scope, frame)
            frame.prev = self.history.add("ParallelStateStarted", frame.prev)
            previous = self._previous_results(state, frame)
            frames = [Frame(frame.prev, frame.variables, scope_path=frame.scope_path + (("Parallel", state.name, i),))
                      for i in range(len(state.branches))]
            tasks = {i: self._spawn(self._run_graph(branch, value, frames[i]), f"{state.name}/{i}")
                     for i, branch in enumerate(state.branches) if i not in previous}
            yield Join(tuple(tasks.values()), fail_fast=True)
            done = {i: t.result for i, t in tasks.items() if t.done and t.exception is None}
            record.children = {**previous, **done}
            failed = next((t for t in tasks.values() if t.exception is not None), None)
            frame.prev = max([frame.prev] + [f.prev for f in frames])
            if failed is not None:
                for t in tasks.values():
                    if not t.done:
                        self.runtime.scheduler.cancel(t)
                frame.prev = self.history.add("ParallelStateFailed", frame.prev)
                raise cast(BaseException, failed.exception)
            frame.prev = self.history.add("ParallelStateSucceeded", frame.prev)
            results = [record.children[i] for i in range(len(state.branches))]
            return self._finish_state(state, raw, results, scope, frame)

        return (yield from self._with_handlers(state, raw, frame, record, attempt))

    def _run_map(self, state: d.MapState, raw: Any, frame: Frame, record: Visit) -> Generator[Any, Any, Any]:
        def attempt(retry_count: int) -> Generator[Any, Any, Any]:
            scope = self._scope(raw, state, self.runtime.clock.now, frame, retry_count)
            if state.is_jsonata:
                value = raw
                env = self._env(scope, raw)
                items = state.items.evaluate(env) if state.items is not None else raw
                if state.items is not None and not isinstance(items, list):
                    raise _unexpected_type(state.raw.get("Items"), "Items", "array", items)
            else:
                value = self._input(state, raw, scope)
                record.inspection["afterInputPath"] = value
                items = None if state.item_reader is not None else state.items_path.get(
                    scope.with_input(value))
            if state.item_reader is not None:
                # Distributed Map: items come from S3 (see sfnlab.distributed).
                items = yield from distributed.read_items(self, state, value, raw, scope, frame)
            if not isinstance(items, (list, distributed.Spool)):
                if state.is_jsonata:
                    raise StatesError("States.QueryEvaluationError",
                                      f"Map state input must be an array but was: {to_json(items)}")
                # AWS names the ItemsPath, a leading $$ shown as $ (recorded through TestState).
                path = state.items_path.text
                raise StatesError("States.Runtime",
                                  f'Reference path "{path[1:] if path.startswith("$$") else path}" must point to array.')
            # Items an ItemReader read stay in a file; a drawing shows them only when they are few.
            shown = items if isinstance(items, list) else items.shown()
            if shown is not None:
                record.inspection["afterItemsPath"] = shown
            inner = scope.with_input(value)
            limit = self._max_concurrency(state, inner, raw)
            tolerance = self._tolerance(state, inner, raw)
            if state.item_batcher is not None:
                items = distributed.batch_items(self, state, items, value, raw, scope)
            record.inspection["maxConcurrency"] = limit
            if tolerance is not None:
                record.inspection["toleratedFailureCount"] = tolerance[0]
                record.inspection["toleratedFailurePercentage"] = tolerance[1]
            if self.test_mode is not None:
                if state.item_selector is not None:
                    record.inspection["afterItemSelector"] = [
                        self._item_input(state, value, raw, items, i, scope, frame) for i in range(len(items))]
                if self.test_mode.has_mock:
                    return self._finish_state(state, raw, self._mocked(), scope, frame)
            frame.prev = self.history.add("MapStateStarted", frame.prev, {"length": len(items)})
            run = None
            if state.mode == "DISTRIBUTED":
                run = distributed.start_map_run(self, state, frame, len(items), limit, tolerance)
                record.map_run = run
            try:
                if run is not None:  # child executions; their results, or where a ResultWriter put them
                    results = yield from distributed.run_children(self, state, value, raw, items, limit, scope,
                                                                  frame, tolerance)
                else:
                    results = yield from self._run_iterations(state, value, raw, items, limit, scope, frame,
                                                              record, tolerance)
                if state.result_writer is not None and run is None:
                    results = yield from distributed.write_results(self, state, results, value, raw, scope, frame)
            except StatesError as failure:
                if run is not None:
                    distributed.finish_map_run(self, run, frame, failure)
                frame.prev = self.history.add("MapStateFailed", frame.prev)
                raise
            if run is not None:
                distributed.finish_map_run(self, run, frame, None)
            frame.prev = self.history.add("MapStateSucceeded", frame.prev)
            return self._finish_state(state, raw, results, scope, frame)

        return (yield from self._with_handlers(state, raw, frame, record, attempt))

    def _number_field(self, state: d.MapState, expr: Any, path: Path | None, literal: Any, scope: Scope,
                      raw: Any) -> tuple[Any, Any]:
        """(value, what was found) of a numeric Map field given as literal, ...Path or JSONata."""
        if expr is not None:
            found = expr.evaluate(self._env(scope, raw))
            return found, found
        if path is not None:
            found = path.get(scope)
            return found, found
        return literal, literal

    def _max_concurrency(self, state: d.MapState, scope: Scope, raw: Any) -> int:
        found, _ = self._number_field(state, state.max_concurrency_expr, state.max_concurrency_path,
                                      state.max_concurrency, scope, raw)
        value = _integer_like(found)
        if value is None or value < 0:
            path_text = state.max_concurrency_path.text if state.max_concurrency_path else state.raw.get("MaxConcurrency")
            raise StatesError("States.Runtime", "The MaxConcurrencyPath field refers to value "
                              f"\"{_java_text(found)}\" which is not a valid integer: {path_text}")
        return value

    def _tolerance(self, state: d.MapState, scope: Scope, raw: Any) -> tuple[int, float] | None:
        """(count, percentage) of failed iterations a Distributed Map tolerates; None: none."""
        if state.mode != "DISTRIBUTED":
            return None
        found, _ = self._number_field(state, state.tolerated_failure_count_expr, state.tolerated_failure_count_path,
                                      state.tolerated_failure_count, scope, raw)
        count = _integer_like(found) if found is not None else None
        if found is not None and count is None:
            raise StatesError("States.Runtime", "The ToleratedFailureCountPath field refers to value "
                              f"\"{_java_text(found)}\" which is not a valid integer: "
                              f"{state.tolerated_failure_count_path.text if state.tolerated_failure_count_path else ''}")
        found, _ = self._number_field(state, state.tolerated_failure_percentage_expr,
                                      state.tolerated_failure_percentage_path, state.tolerated_failure_percentage,
                                      scope, raw)
        percentage = _float_like(found) if found is not None else None
        if found is not None and percentage is None:
            raise StatesError("States.Runtime", "The ToleratedFailurePercentagePath field refers to value "
                              f"\"{_java_text(found)}\" which is not a valid float: "
                              f"{state.tolerated_failure_percentage_path.text if state.tolerated_failure_percentage_path else ''}")
        if count is not None and count < 0:
            raise StatesError("States.Runtime", "ToleratedFailureCount cannot be negative.")
        if percentage is not None and not 0 <= percentage <= 100:
            raise StatesError("States.Runtime", "ToleratedFailurePercentage must be between 0 and 100.")
        return (count or 0, float(percentage or 0))

    # A drawing of a big Distributed Map needs only so many of its children's state visits.
    CHILD_RECORDS_KEPT = 10_000

    def _adopt_records(self, child: "Execution", frame: Frame, state: d.MapState, index: int) -> None:
        """Show a Distributed Map child's state visits in this execution's records, under the Map."""
        if len(self.records) >= self.CHILD_RECORDS_KEPT:
            return
        prefix = frame.scope_path + (("Map", state.name, index),)
        for record in child.records:
            self.records.append(record.copy(scope=prefix + record.scope))

    def _item_input(self, state: d.MapState, value: Any, raw: Any, items: list, index: int, scope: Scope,
                    frame: Frame) -> Any:
        """An iteration's input: the item, or ItemSelector with ``$$.Map.Item.Index/Value``."""
        selector = state.item_selector
        if selector is None:
            return items[index]
        ctx = dict(cast("Mapping[str, Any]", scope.context))  # a state's scope has a context
        ctx["Map"] = {"Item": {"Index": index, "Value": items[index]}}
        if state.is_jsonata:
            return cast(JsonataTemplate, selector).evaluate(Environment({"input": raw, "context": ctx}, frame.variables,
                                                 self.runtime.random, self.runtime.clock.now))
        return cast(Template, selector).evaluate(Scope(value, ctx, frame.variables), self.runtime.random)

    def _run_iterations(self, state: d.MapState, value: Any, raw: Any, items: list, limit: int, scope: Scope,
                        frame: Frame, record: Visit,
                        tolerance: tuple[int, float] | None = None) -> Generator[Any, Any, Any]:
        n = len(items)
        results: list[Any] = [None] * n
        if n == 0:
            return results
        failure: list[BaseException] = []
        tolerated: list[int] = []
        next_index = [0]
        previous = self._previous_results(state, frame)
        succeeded: dict[int, Any] = {}
        record.children = succeeded
        frames: list[Frame] = []
        processor = cast(d.Graph, state.processor)  # a Map always has one

        def over_threshold() -> bool:
            if tolerance is None:
                return bool(tolerated)
            count, percentage = tolerance
            return len(tolerated) > count and 100.0 * len(tolerated) / n > percentage

        def worker() -> Generator[Any, Any, Any]:
            while not failure and next_index[0] < n:
                index = next_index[0]
                next_index[0] += 1
                if index in previous:  # redrive: this iteration succeeded last time
                    results[index] = succeeded[index] = previous[index]
                    continue
                iteration_input = self._item_input(state, value, raw, items, index, scope, frame)
                f = Frame(frame.prev, frame.variables, scope_path=frame.scope_path + (("Map", state.name, index),))
                frames.append(f)
                details = {"index": index, "name": state.name}
                f.prev = self.history.add("MapIterationStarted", f.prev, details)
                try:
                    results[index] = yield from self._run_graph(processor, iteration_input, f)
                except StatesError as exc:
                    f.prev = self.history.add("MapIterationFailed", f.prev, details)
                    tolerated.append(index)
                    if over_threshold():
                        failure.append(exc)
                        return
                    results[index] = {"Error": exc.error, "Cause": exc.cause} if exc.cause is not None else {"Error": exc.error}
                    continue
                succeeded[index] = results[index]
                f.prev = self.history.add("MapIterationSucceeded", f.prev, details)

        workers = n if limit <= 0 else min(limit, n)
        tasks: list[Task] = []

        def start_worker(after: Task | None) -> None:
            # Each worker is started when the one before it first waits (or ends), in the place it
            # would have had if all had been started at once: a worker started earlier would only
            # find nothing left, since a worker runs iterations until one of them waits.
            task = self._spawn(worker(), f"{state.name}/worker{len(tasks)}", after)
            tasks.append(task)
            if len(tasks) < workers:
                task.on_pause = lambda: None if failure or next_index[0] >= n else start_worker(task)

        start_worker(None)
        yield Join(tuple(tasks), fail_fast=False)
        frame.prev = max([frame.prev] + [f.prev for f in frames])
        raise_map_failure(tasks, failure, tolerance)
        return results


class _FailState(StatesError):
    """The error of a Fail state (its Error may be absent: then there is no error name)."""


def _fail_record(record: Visit, failure: StatesError, now: float) -> None:
    if record.status == "RUNNING":
        record.status, record.error, record.cause, record.exited_time = "FAILED", failure.error, failure.cause, now


def _unexpected_type(source: Any, field: str, expected: str, value: Any) -> StatesError:
    from .jsonata import json_type

    text = source[2:-2].strip() if isinstance(source, str) and source.startswith("{%") else source
    error = StatesError("States.QueryEvaluationError",
                        f"The JSONata expression '{text}' specified for the field '{field}' returned an unexpected "
                        f"result type. Expected '{expected}', but was '{json_type(value)}' for value: {to_json(value)}")
    error.location = field  # type: ignore[attr-defined]
    return error


def _error_details(failure: StatesError) -> dict:
    details: dict[str, Any] = {} if failure.error is None else {"error": failure.error}
    if failure.cause:  # AWS leaves an empty cause out of the event
        details["cause"] = failure.cause
    return details


def _as_states_error(exc: Exception) -> StatesError:
    """What a state's visit failed with, as the States.* error the state fails with."""
    if isinstance(exc, StatesError):
        return exc
    if isinstance(exc, PathNotFound):
        return StatesError("States.Runtime", str(exc))
    return StatesError("States.Runtime", _TOO_DEEP)  # RecursionError: data nested deeper than any walk can go


def raise_map_failure(tasks: Sequence[Any], failure: list, tolerance: Any) -> None:
    """After a Map's workers joined: re-raise a crash, else the iteration failure that ends the
    Map (``States.ExceedToleratedFailureThreshold`` when a tolerance was set)."""
    crashed = next((t.exception for t in tasks if t.exception is not None), None)
    if crashed is not None:
        raise crashed
    if failure:
        if tolerance is not None:
            raise StatesError("States.ExceedToleratedFailureThreshold",
                              "The specified tolerated failure threshold was exceeded")
        raise failure[0]


def _scoped(failure: StatesError, state: d.State, entered: int) -> StatesError:
    if failure.error in _STATE_SCOPED and not getattr(failure, "scoped", False):
        scoped = StatesError.of(failure.error, f"An error occurred while executing the state '{state.name}' "
                                               f"(entered at the event id #{entered}). {failure.cause}")
        scoped.scoped = True  # type: ignore[attr-defined]
        scoped.location = getattr(failure, "location", None)  # type: ignore[attr-defined]
        return scoped
    return failure


def _next(state: d.State) -> str | None:
    return None if state.end else state.next


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _integer_like(value: Any) -> int | None:
    """An integer, or a string holding one (AWS reads numeric fields from text too)."""
    if _is_integer(value):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _float_like(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _java_text(value: Any) -> str:
    """A JSON value as AWS's Java service prints it inside messages."""
    if isinstance(value, str):
        return value
    return to_json(value)


def _fail_field(literal: Any, path: Any, field_name: str, scope: Scope, rng: random.Random) -> Any:
    if path is None:
        return literal
    if isinstance(path, Path):
        try:
            value = path.get(scope)
        except PathNotFound:
            text = to_json(scope.input)
            raise StatesError("States.Runtime", f"The JSONPath '{path.text}' specified for the field '{field_name}' "
                              f"could not be found in the input '{text}'") from None
    else:
        value = path.evaluate(scope, rng)
    if not isinstance(value, str):  # the docs: the path "must select a field that contains a string value"
        raise StatesError("States.Runtime", f"The value for the field '{field_name}' must be a string, but was "
                          f"'{to_json(value)}'")
    return value


_HANDLERS: dict[str, Callable] = {
    "Pass": Execution._run_pass,
    "Task": Execution._run_task,
    "Choice": Execution._run_choice,
    "Wait": Execution._run_wait,
    "Succeed": Execution._run_succeed,
    "Fail": Execution._run_fail,
    "Parallel": Execution._run_parallel,
    "Map": Execution._run_map,
}
# State types whose handler is a generator (they may wait on time or on other lines of control).
_WAITING = frozenset({"Task", "Wait", "Parallel", "Map"})


class _Kind(NamedTuple):
    """What a visit of one state type needs, looked up once per visit."""

    name: str
    entered: str  # event types
    exited: str
    run: Callable
    waits: bool


_KINDS: dict[d.StateType, _Kind] = {
    d.StateType(name): _Kind(name, f"{name}StateEntered", f"{name}StateExited", handler, name in _WAITING)
    for name, handler in _HANDLERS.items()
}


def start(machine: d.Machine, runtime: Runtime, info: ExecutionInfo, input_value: Any, input_text: str, *,
          run: bool = True) -> Execution:
    """Start ``machine`` with ``input_value``.

    With ``run`` (the default) the scheduler runs until the execution ends or waits on the outside;
    without it the execution is only scheduled (a nested start from inside another execution).
    """
    execution = Execution(machine, runtime, info, input_value, input_text)
    execution._main = execution._spawn(execution._main_line(), info.name)
    execution._start_watchdog()
    if run:
        runtime.scheduler.run(until=lambda: execution.done)
        execution.raise_crash()
    return execution
