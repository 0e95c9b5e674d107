"""Loading a definition: JSON text or dict -> a frozen, compiled :class:`Machine`.

ASL spec, "State Machine Structure" and "States". :func:`load` first runs the static checks of
:mod:`sfnlab.validation` (AWS's codes, messages and locations), then compiles every path, payload
template, intrinsic call and Choice rule once, so that running the machine parses nothing.

The model is a tree of frozen dataclasses: a :class:`Machine` has a top-level :class:`Graph`
(``StartAt`` + ``States``); Parallel branches and Map item processors are Graphs too. States are
one dataclass per ASL state type, dispatched on by the engine through a table.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Mapping

from ._json import definition_json
from .choice import Rule, compile_rule
from .errors import DefinitionError, Diagnostic
from .intrinsics import compile_intrinsic, is_intrinsic
from .jsonata import JsonataTemplate, compile_jsonata, is_expression
from .paths import Path, compile_path, compile_reference_path
from .payload import Template, compile_template

__all__ = ["load", "Machine", "Graph", "State", "StateType", "Retrier", "Catcher"]

JSONATA = "JSONata"
JSONPATH = "JSONPath"


class StateType(str, Enum):
    PASS = "Pass"
    TASK = "Task"
    CHOICE = "Choice"
    WAIT = "Wait"
    SUCCEED = "Succeed"
    FAIL = "Fail"
    PARALLEL = "Parallel"
    MAP = "Map"


ROOT = compile_path("$")


@dataclass(frozen=True)
class Retrier:
    """One entry of ``Retry``."""

    error_equals: tuple[str, ...]
    interval_seconds: float = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter_strategy: str = "NONE"
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def delay(self, attempt: int) -> float:
        """Back-off before retry number ``attempt`` (1-based), before jitter."""
        seconds = self.interval_seconds * self.backoff_rate ** (attempt - 1)
        if self.max_delay_seconds is not None:
            seconds = min(seconds, self.max_delay_seconds)
        return seconds


@dataclass(frozen=True)
class Catcher:
    """One entry of ``Catch``."""

    error_equals: tuple[str, ...]
    next: str
    result_path: Path | None = ROOT  # None: ResultPath null (keep the input)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    assign: Any = None  # Template (JSONPath) or JsonataTemplate
    output: JsonataTemplate | None = None  # JSONata only


@dataclass(frozen=True, kw_only=True, slots=True)
class State:
    """Fields common to every state. ``input_path``/``output_path`` None means the JSON null."""

    name: str
    type: StateType
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    location: str = field(repr=False, compare=False)
    query_language: str = JSONPATH
    comment: str | None = None
    next: str | None = None
    end: bool = False
    input_path: Path | None = ROOT
    output_path: Path | None = ROOT
    assign: Any = None  # Template (JSONPath) or JsonataTemplate (JSONata)
    output: JsonataTemplate | None = None  # JSONata only
    is_jsonata: bool = field(init=False, repr=False, compare=False)  # query_language == JSONATA

    def __post_init__(self) -> None:
        # A plain attribute, not a property: the engine asks on every state it runs.
        object.__setattr__(self, "is_jsonata", self.query_language == JSONATA)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Results(State):
    """States that produce a result: Parameters, ResultSelector, ResultPath."""

    parameters: Template | None = None
    result_selector: Template | None = None
    result_path: Path | None = ROOT  # None: ResultPath null
    arguments: JsonataTemplate | None = None  # JSONata only


@dataclass(frozen=True, kw_only=True, slots=True)
class _Handles(_Results):
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class PassState(_Results):
    result: Any = None
    has_result: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskState(_Handles):
    resource: str = ""
    timeout_seconds: int | None = None
    timeout_seconds_path: Path | None = None
    heartbeat_seconds: int | None = None
    heartbeat_seconds_path: Path | None = None
    credentials: Template | None = None
    timeout_expr: JsonataTemplate | None = None
    heartbeat_expr: JsonataTemplate | None = None


@dataclass(frozen=True, slots=True)
class ChoiceBranch:
    rule: Rule | None
    next: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    assign: Any = None
    condition: JsonataTemplate | None = None  # JSONata only
    output: JsonataTemplate | None = None  # JSONata only


@dataclass(frozen=True, kw_only=True, slots=True)
class ChoiceState(State):
    choices: tuple[ChoiceBranch, ...] = ()
    default: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class WaitState(State):
    seconds: Any = None
    timestamp: str | None = None
    seconds_path: Path | None = None
    timestamp_path: Path | None = None
    seconds_expr: JsonataTemplate | None = None
    timestamp_expr: JsonataTemplate | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SucceedState(State):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class FailState(State):
    error: str | None = None
    cause: str | None = None
    error_path: Path | Any = None
    cause_path: Path | Any = None
    error_expr: JsonataTemplate | None = None
    cause_expr: JsonataTemplate | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ParallelState(_Handles):
    branches: tuple["Graph", ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class MapState(_Handles):
    processor: "Graph | None" = None
    mode: str = "INLINE"
    execution_type: str | None = None
    items_path: Path = ROOT
    item_selector: Template | JsonataTemplate | None = None  # JsonataTemplate in JSONata
    max_concurrency: int = 0
    max_concurrency_path: Path | None = None
    label: str | None = None
    item_reader: Mapping[str, Any] | None = None
    item_batcher: Mapping[str, Any] | None = None
    result_writer: Mapping[str, Any] | None = None
    tolerated_failure_count: Any = None
    tolerated_failure_count_path: Path | None = None
    tolerated_failure_percentage: Any = None
    tolerated_failure_percentage_path: Path | None = None
    items: JsonataTemplate | None = None  # JSONata only
    max_concurrency_expr: JsonataTemplate | None = None
    tolerated_failure_count_expr: JsonataTemplate | None = None
    tolerated_failure_percentage_expr: JsonataTemplate | None = None


@dataclass(frozen=True)
class Graph:
    """``StartAt`` + ``States``: the top level, a Parallel branch, or a Map item processor."""

    start_at: str
    states: Mapping[str, State]
    query_language: str = JSONPATH


@dataclass(frozen=True, eq=False)
class Machine:
    """A compiled, immutable state machine. Build one with :func:`load`."""

    definition_text: str
    definition: Mapping[str, Any] = field(repr=False)
    graph: Graph = field(repr=False)
    timeout_seconds: int | None = None
    query_language: str = JSONPATH
    comment: str | None = None

    def state(self, name: str) -> State:
        """Find a state by name anywhere in the machine (names are unique machine-wide)."""
        found = _find_state(self.graph, name)
        if found is None:
            raise KeyError(name)
        return found

    def all_states(self) -> list[State]:
        out: list[State] = []
        _collect(self.graph, out)
        return out

    def __repr__(self) -> str:
        return f"<Machine StartAt={self.graph.start_at!r} states={len(self.all_states())}>"


def _children(state: State) -> tuple[Graph, ...]:
    if isinstance(state, ParallelState):
        return state.branches
    if isinstance(state, MapState) and state.processor is not None:
        return (state.processor,)
    return ()


def _collect(graph: Graph, out: list) -> None:
    for state in graph.states.values():
        out.append(state)
        for child in _children(state):
            _collect(child, out)


def _find_state(graph: Graph, name: str) -> State | None:
    if name in graph.states:
        return graph.states[name]
    for state in graph.states.values():
        for child in _children(state):
            found = _find_state(child, name)
            if found is not None:
                return found
    return None


# ----------------------------------------------------------------------------------------------
# Loading


def parse_definition(definition: str | bytes | Mapping[str, Any]) -> tuple[str, Any]:
    """Text and parsed value of a definition given either way (no validation). Raises ValueError.

    A dict is taken as it is (a shallow copy, so its states are shared with the caller). Parsing
    its text again would give the machine containers of its own, but a 10,000-state chain then
    ran about 5 % slower (B1 through bench/_child.py; most likely where the objects land in
    memory, as the run never reads them).
    """
    text, value = definition_json(definition)
    return text, dict(value) if isinstance(value, dict) else json.loads(text)


def load(definition: str | bytes | Mapping[str, Any], *, validate: bool = True) -> Machine:
    """Validate and compile a definition.

    Args:
        definition: the ASL as JSON text (``str`` or UTF-8 ``bytes``) or as a dict (or other mapping).
        validate: run AWS's static checks first (turn off only for definitions known good).

    Raises:
        DefinitionError: the definition is invalid; ``.diagnostics`` holds AWS's findings and
            ``.message`` the text of AWS's ``InvalidDefinition`` error.
    """
    if validate:
        from .validation import validate as static_checks

        problems = [d for d in static_checks(definition) if d.severity == "ERROR"]
        if problems:
            raise DefinitionError(problems)
    try:
        text, raw = parse_definition(definition)
    except ValueError as exc:
        raise DefinitionError([Diagnostic("INVALID_JSON_DESCRIPTION", str(exc))]) from None
    if not isinstance(raw, dict):
        raise DefinitionError([Diagnostic("SCHEMA_VALIDATION_FAILED", "Definition must be a JSON object", "/")])
    query_language = raw.get("QueryLanguage") or JSONPATH  # null is as absent (so validation treats it)
    try:
        graph = _compile_graph(raw, "", query_language)
    except DefinitionError:
        raise
    except RecursionError:
        from .validation import MAX_DEPTH, MESSAGES

        raise DefinitionError([Diagnostic("INVALID_JSON_DESCRIPTION", MESSAGES["too_deep"].format(limit=MAX_DEPTH))]) \
            from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # The static checks should have caught this; never let a Python error escape.
        raise DefinitionError([Diagnostic("SCHEMA_VALIDATION_FAILED", f"Invalid definition: {exc}", "/")]) from None
    return Machine(
        definition_text=text,
        definition=raw,
        graph=graph,
        timeout_seconds=raw.get("TimeoutSeconds"),
        query_language=query_language,
        comment=raw.get("Comment"),
    )


def _name(name: Any) -> Any:
    """A state name as one shared string object: the key of its graph and every Next that names it
    are then the same object, so finding the next state compares no characters."""
    return sys.intern(name) if type(name) is str else name


def _compile_graph(raw: Mapping[str, Any], location: str, query_language: str) -> Graph:
    states = {
        _name(name): _compile_state(_name(name), body, f"{location}/States/{name}", query_language)
        for name, body in raw["States"].items()
    }
    return Graph(raw["StartAt"], states, query_language)


def _path_or_null(raw: Mapping[str, Any], key: str, reference: bool = False) -> Path | None:
    if key not in raw:
        return ROOT
    value = raw[key]
    if value is None:
        return None
    return compile_reference_path(value) if reference else compile_path(value)


def _template(raw: Mapping[str, Any], key: str) -> Template | None:
    return compile_template(raw[key]) if key in raw else None


def _common(name: str, raw: Mapping[str, Any], location: str, query_language: str) -> dict:
    ql = raw.get("QueryLanguage") or query_language
    fields: dict[str, Any] = dict(
        name=name,
        type=StateType(raw["Type"]),
        raw=raw,
        location=location,
        query_language=ql,
        comment=raw.get("Comment"),
        next=_name(raw.get("Next")),
        end=bool(raw.get("End", False)),
    )
    if ql == JSONPATH:
        fields["input_path"] = _path_or_null(raw, "InputPath")
        fields["output_path"] = _path_or_null(raw, "OutputPath")
        fields["assign"] = _template(raw, "Assign")
    else:
        fields["assign"] = _jsonata(raw, "Assign")
        fields["output"] = _jsonata(raw, "Output")
    return fields


def _jsonata(raw: Mapping[str, Any], key: str, field_name: str | None = None) -> JsonataTemplate | None:
    return compile_jsonata(raw[key], field_name or key) if key in raw else None


def _expression_field(raw: Mapping[str, Any], key: str) -> JsonataTemplate | None:
    """A JSONata-mode field that may hold an expression instead of a literal (Seconds, Error...)."""
    return compile_jsonata(raw[key], key) if is_expression(raw.get(key)) else None


def _results(raw: Mapping[str, Any], ql: str) -> dict:
    if ql != JSONPATH:
        return dict(arguments=_jsonata(raw, "Arguments"), result_path=ROOT)
    return dict(
        parameters=_template(raw, "Parameters"),
        result_selector=_template(raw, "ResultSelector"),
        result_path=_path_or_null(raw, "ResultPath", reference=True),
    )


def _handlers(raw: Mapping[str, Any], ql: str) -> dict:
    retry = tuple(
        Retrier(
            error_equals=tuple(r["ErrorEquals"]),
            interval_seconds=r.get("IntervalSeconds", 1),
            max_attempts=r.get("MaxAttempts", 3),
            backoff_rate=r.get("BackoffRate", 2.0),
            max_delay_seconds=r.get("MaxDelaySeconds"),
            jitter_strategy=r.get("JitterStrategy", "NONE"),
            raw=r,
        )
        for r in raw.get("Retry", ())
    )
    catch = tuple(
        Catcher(
            error_equals=tuple(c["ErrorEquals"]),
            next=_name(c["Next"]),
            result_path=_path_or_null(c, "ResultPath", reference=True) if ql == JSONPATH else ROOT,
            raw=c,
            assign=_template(c, "Assign") if ql == JSONPATH else _jsonata(c, "Assign"),
            output=_jsonata(c, "Output") if ql != JSONPATH else None,
        )
        for c in raw.get("Catch", ())
    )
    return dict(retry=retry, catch=catch)


def _optional_path(raw: Mapping[str, Any], key: str) -> Path | None:
    value = raw.get(key)
    return compile_path(value) if isinstance(value, str) and value.startswith("$") else None


def _compile_pass(f: dict, raw: Mapping[str, Any], ql: str, top: str) -> PassState:
    return PassState(**f, **_results(raw, ql), result=raw.get("Result"), has_result="Result" in raw)


def _compile_task(f: dict, raw: Mapping[str, Any], ql: str, top: str) -> TaskState:
    jsonata = ql != JSONPATH
    return TaskState(
        **f, **_results(raw, ql), **_handlers(raw, ql),
        resource=raw.get("Resource", ""),
        timeout_expr=_expression_field(raw, "TimeoutSeconds") if jsonata else None,
        heartbeat_expr=_expression_field(raw, "HeartbeatSeconds") if jsonata else None,
        timeout_seconds=raw.get("TimeoutSeconds") if not is_expression(raw.get("TimeoutSeconds")) else None,
        timeout_seconds_path=_optional_path(raw, "TimeoutSecondsPath"),
        heartbeat_seconds=raw.get("HeartbeatSeconds") if not is_expression(raw.get("HeartbeatSeconds")) else None,
        heartbeat_seconds_path=_optional_path(raw, "HeartbeatSecondsPath"),
        credentials=_template(raw, "Credentials") if ql == JSONPATH else None,
    )


def _compile_choice(f: dict, raw: Mapping[str, Any], ql: str, top: str) -> ChoiceState:
    jsonata = ql != JSONPATH
    branches = tuple(
        ChoiceBranch(
            rule=None if jsonata else compile_rule(rule),
            next=_name(rule["Next"]),
            raw=rule,
            assign=_jsonata(rule, "Assign") if jsonata else _template(rule, "Assign"),
            condition=_jsonata(rule, "Condition") if jsonata else None,
            output=_jsonata(rule, "Output") if jsonata else None,
        )
        for rule in raw.get("Choices", ())
    )
    return ChoiceState(**f, choices=branches, default=_name(raw.get("Default")))


def _compile_wait(f: dict, raw: Mapping[str, Any], ql: str, top: str) -> WaitState:
    jsonata = ql != JSONPATH
    return WaitState(
        **f,
        seconds_expr=_expression_field(raw, "Seconds") if jsonata else None,
        timestamp_expr=_expression_field(raw, "Timestamp") if jsonata else None,
        seconds=None if is_expression(raw.get("Seconds")) else raw.get("Seconds"),
        timestamp=None if is_expression(raw.get("Timestamp")) else raw.get("Timestamp"),
        seconds_path=_optional_path(raw, "SecondsPath"),
        timestamp_path=_optional_path(raw, "TimestampPath"),
    )


def _compile_succeed(f: dict, raw: Mapping[str, Any], ql: str, top: str) -> SucceedState:
    return SucceedState(**f)


def _compile_fail(f: dict, raw: Mapping[str, Any], ql: str, top: str) -> FailState:
    jsonata = ql != JSONPATH
    return FailState(
        **f,
        error_expr=_expression_field(raw, "Error") if jsonata else None,
        cause_expr=_expression_field(raw, "Cause") if jsonata else None,
        error=None if is_expression(raw.get("Error")) else raw.get("Error"),
        cause=None if is_expression(raw.get("Cause")) else raw.get("Cause"),
        error_path=_fail_path(raw.get("ErrorPath")),
        cause_path=_fail_path(raw.get("CausePath")),
    )


def _fail_path(value: Any) -> Any:
    # ErrorPath/CausePath hold a path or an intrinsic call.
    if value is None:
        return None
    return compile_intrinsic(value) if is_intrinsic(value) else compile_path(value)


def _compile_parallel(f: dict, raw: Mapping[str, Any], ql: str, top: str) -> ParallelState:
    branches = tuple(
        _compile_graph(b, f"{f['location']}/Branches/{i}", top)
        for i, b in enumerate(raw.get("Branches", ()))
    )
    return ParallelState(**f, **_results(raw, ql), **_handlers(raw, ql), branches=branches)


def _compile_map(f: dict, raw: Mapping[str, Any], ql: str, top: str) -> MapState:
    processor_raw = raw.get("ItemProcessor") or raw.get("Iterator")
    key = "ItemProcessor" if "ItemProcessor" in raw else "Iterator"
    config = (processor_raw or {}).get("ProcessorConfig", {})
    processor = _compile_graph(processor_raw, f"{f['location']}/{key}", top) if processor_raw else None
    results = _results(raw, ql)
    jsonata = ql != JSONPATH
    if not jsonata:
        selector = raw.get("ItemSelector", raw.get("Parameters"))
        results["parameters"] = None
        item_selector: Template | JsonataTemplate | None = compile_template(selector) if selector is not None else None
    else:
        results["arguments"] = None
        item_selector = _jsonata(raw, "ItemSelector")
    max_concurrency = raw.get("MaxConcurrency", 0)
    return MapState(
        **f, **results, **_handlers(raw, ql),
        processor=processor,
        mode=config.get("Mode", "INLINE"),
        execution_type=config.get("ExecutionType"),
        items_path=_path_or_null(raw, "ItemsPath", reference=True) or ROOT if ql == JSONPATH else ROOT,
        item_selector=item_selector,
        items=_jsonata(raw, "Items") if jsonata else None,
        max_concurrency_expr=_expression_field(raw, "MaxConcurrency") if jsonata else None,
        tolerated_failure_count_expr=_expression_field(raw, "ToleratedFailureCount") if jsonata else None,
        tolerated_failure_percentage_expr=_expression_field(raw, "ToleratedFailurePercentage") if jsonata else None,
        max_concurrency=max_concurrency if isinstance(max_concurrency, int) else 0,
        max_concurrency_path=_optional_path(raw, "MaxConcurrencyPath"),
        label=raw.get("Label"),
        item_reader=raw.get("ItemReader"),
        item_batcher=raw.get("ItemBatcher"),
        result_writer=raw.get("ResultWriter"),
        tolerated_failure_count=None if is_expression(raw.get("ToleratedFailureCount")) else raw.get("ToleratedFailureCount"),
        tolerated_failure_count_path=_optional_path(raw, "ToleratedFailureCountPath"),
        tolerated_failure_percentage=None if is_expression(raw.get("ToleratedFailurePercentage")) else raw.get("ToleratedFailurePercentage"),
        tolerated_failure_percentage_path=_optional_path(raw, "ToleratedFailurePercentagePath"),
    )


# Each compiler gets the state's fields, its JSON, its query language and the machine's top-level
# language (children of a Parallel or Map follow the top level, not their parent state: AWS's rule).
_COMPILERS: dict[str, Callable[[dict, Mapping[str, Any], str, str], State]] = {
    "Pass": _compile_pass,
    "Task": _compile_task,
    "Choice": _compile_choice,
    "Wait": _compile_wait,
    "Succeed": _compile_succeed,
    "Fail": _compile_fail,
    "Parallel": _compile_parallel,
    "Map": _compile_map,
}


def _compile_state(name: str, raw: Mapping[str, Any], location: str, query_language: str) -> State:
    fields = _common(name, raw, location, query_language)
    return _COMPILERS[raw["Type"]](fields, raw, fields["query_language"], query_language)
