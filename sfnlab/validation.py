"""Static validation of a state machine definition, as CreateStateMachine and ValidateStateMachineDefinition do it.

ASL spec ("Structure of a State Machine", "States", "Transitions", "Choice Rules", "Errors");
AWS guide, "ValidateStateMachineDefinition" and the CreateStateMachine ``InvalidDefinition`` error;
``reference/asl-semantics.md`` section 1.11.

:func:`validate` returns AWS's diagnostics (code, message, JSON-Pointer-like location) in the order
AWS reports them. It runs in three phases, each one only when the one before found no error, as
AWS does (a definition with schema errors gets no graph analysis):

1. **Schema** (``SCHEMA_VALIDATION_FAILED``): the JSON text, required and supported fields per state
   type and query language, value types and bounds, paths, ``.$`` payload keys, Choice rules,
   Retry/Catch, Map and Parallel sub-machines, EXPRESS restrictions.
2. **Graph**: ``DUPLICATE_STATE_NAME`` across the whole machine, then per container
   ``MISSING_TRANSITION_TARGET`` (dangling ``Next``, ``Default``, ``Choices[i].Next``,
   ``Catch[i].Next``), then either ``MISSING_END_STATE`` or the unreachable states.
3. **Map Labels**: AWS checks them last and answers in a raw Python-exception style
   (``Error=ValueError Args=['Label cannot be empty'] in definition '...'.``).

Messages come from the conformance corpus and from issue threads that quote AWS. Templates whose
exact AWS wording is not recorded anywhere we could find are marked ``# wording unverified`` in
:data:`MESSAGES`; the rule itself (accept / refuse) follows the ASL specification and AWS's guide.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, TypeGuard

from ._timestamps import is_timestamp
from ._json import GIVEN_AS_TEXT, definition_json, json_type
from .jsonata import is_expression
from .errors import Diagnostic
from .paths import compile_path

__all__ = ["validate", "MESSAGES", "STATE_TYPES", "FIELDS", "MAX_DEPTH", "json_depth", "too_deep"]

SCHEMA = "SCHEMA_VALIDATION_FAILED"
MISSING_TARGET = "MISSING_TRANSITION_TARGET"
MISSING_END = "MISSING_END_STATE"
DUPLICATE = "DUPLICATE_STATE_NAME"
INVALID_JSON = "INVALID_JSON_DESCRIPTION"
INVALID_STATE_NAME = "INVALID_STATE_NAME"
INVALID_LABEL = "INVALID_LABEL_NAME"

JSONPATH, JSONATA = "JSONPath", "JSONata"
INVALID_JSONATA = "INVALID_JSONATA_EXPRESSION"
UNSUPPORTED_JSONATA = "UNSUPPORTED_JSONATA_EXPRESSION"

# JSON nested deeper than this is refused, as Jackson's StreamReadConstraints refuse it by default
# (AWS parses definitions with Jackson); it also keeps every recursive walk far from Python's stack.
MAX_DEPTH = 1000


def json_depth(value: Any, limit: int) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0), counted up to ``limit + 1``.

    Iterative, so a value nested 100,000 levels deep is measured without recursion.
    """
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def too_deep(value: Any, text: str) -> bool:
    """Whether an input ``value`` (parsed from ``text``) nests deeper than MAX_DEPTH.

    Text of two characters a level or less cannot nest that deep, so most inputs cost nothing.
    """
    return len(text) > 2 * MAX_DEPTH and json_depth(value, MAX_DEPTH) > MAX_DEPTH


# Every message template in one place. Verified ones are quoted from the conformance corpus or
# from issue threads that pasted AWS's answer.
MESSAGES: dict[str, str] = {
    "not_object": "Definition must be a valid JSON object",
    # sfnlab's wording after Jackson's ("Document nesting depth (1001) exceeds the maximum allowed").
    "too_deep": "Document nesting depth exceeds the maximum allowed ({limit})",
    "required": "These fields are required: [{fields}]",
    "required_nested": "The field '{field}' is required but was missing",
    "not_supported": "Field '{field}' is not supported",
    "only_in_language": "The QueryLanguage is set to '{language}', but field '{field}' is only supported "
                        "for the '{other}' QueryLanguage",
    "downgrade": "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
    "enum": "The field '{field}' should have one of these values: [{values}]",
    "only_one": "There should only be one of the following fields: [{fields}]",
    "empty": "Value cannot be empty",
    "minimum": "Minimum value is {bound}",
    "maximum": "Maximum value is {bound}",
    "timestamp": "String does not match RFC3339 timestamp",
    "reference_path": "Value is not a Reference Path",
    "dollar_field": "The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call",
    "states_all": "States.ALL must appear alone and at end of list",
    "express_activity": "Express state machine does not support Activity ARN",
    "express_sync": "Express state machine does not support '.sync' service integration",
    # AWS's text really ends with a space here.
    "express_callback": "Express state machine does not support '.waitForTaskToken' service integration ",
    "unknown_resource": "The resource provided {resource} is not recognized. The value is not a valid resource "
                        "ARN, or the resource is not available in this region.",
    "missing_target": "Missing 'Next' target: {target}",  # also used for StartAt: that use unverified
    "unreachable": 'State "{name}" is not reachable.',
    "no_terminal": "Workflow has no terminal state",
    "duplicate": "Duplicate State name: {name}",
    "label": "Error=ValueError Args=[{args}] in definition '{definition}'.",
    # wording unverified: the rules are AWS's, these exact texts were not found in any record.
    "one_required": "Exactly one of these fields is required: [{fields}]",  # wording unverified
    "type": "Expected value of type {kind}",  # wording unverified
    "path": "Value is not a valid JSONPath",  # wording unverified
    "heartbeat": "HeartbeatSeconds must be smaller than TimeoutSeconds",  # wording unverified
    "state_name": "State name cannot be longer than {limit} characters",  # wording unverified
}

STATE_TYPES = ("Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map")
LANGUAGES = (JSONPATH, JSONATA)
STATE_NAME_LIMIT = 80
LABEL_LIMIT = 40
MAX_SECONDS = 99999999  # AWS: "Maximum value is 99999999 at /States/Wait/Seconds"

# ----------------------------------------------------------------------------------------------
# Which fields each state type accepts, and in which query language.

_ALL = frozenset(STATE_TYPES)
_FLOW = _ALL - {"Choice", "Succeed", "Fail"}  # the states that take Next / End
_BOTH = frozenset(LANGUAGES)
_PATH = frozenset({JSONPATH})
_ATA = frozenset({JSONATA})


@dataclass(frozen=True)
class FieldRule:
    """Where a state field is allowed: the state types, and the query languages."""

    types: frozenset[str]
    languages: frozenset[str]


def _rule(types: Iterable[str], languages: frozenset[str]) -> FieldRule:
    return FieldRule(frozenset(types), languages)


FIELDS: dict[str, FieldRule] = {
    # common to every state
    "Type": _rule(_ALL, _BOTH),
    "Comment": _rule(_ALL, _BOTH),
    "QueryLanguage": _rule(_ALL, _BOTH),
    "Next": _rule(_FLOW, _BOTH),
    "End": _rule(_FLOW, _BOTH),
    # data flow: five JSONPath fields collapse to Arguments / Output in JSONata; Assign is in both
    "InputPath": _rule(_ALL - {"Fail"}, _PATH),
    "OutputPath": _rule(_ALL - {"Fail"}, _PATH),
    "Parameters": _rule({"Pass", "Task", "Parallel", "Map"}, _PATH),
    "ResultSelector": _rule({"Task", "Parallel", "Map"}, _PATH),
    "ResultPath": _rule({"Pass", "Task", "Parallel", "Map"}, _PATH),
    "Arguments": _rule({"Task", "Parallel"}, _ATA),
    "Output": _rule(_ALL - {"Fail"}, _ATA),
    "Assign": _rule({"Pass", "Task", "Map", "Parallel", "Choice", "Wait"}, _BOTH),
    # error handling
    "Retry": _rule({"Task", "Parallel", "Map"}, _BOTH),
    "Catch": _rule({"Task", "Parallel", "Map"}, _BOTH),
    # Task
    "Resource": _rule({"Task"}, _BOTH),
    "Credentials": _rule({"Task"}, _BOTH),
    "TimeoutSeconds": _rule({"Task"}, _BOTH),
    "HeartbeatSeconds": _rule({"Task"}, _BOTH),
    "TimeoutSecondsPath": _rule({"Task"}, _PATH),
    "HeartbeatSecondsPath": _rule({"Task"}, _PATH),
    # Pass
    "Result": _rule({"Pass"}, _PATH),
    # Choice
    "Choices": _rule({"Choice"}, _BOTH),
    "Default": _rule({"Choice"}, _BOTH),
    # Wait
    "Seconds": _rule({"Wait"}, _BOTH),
    "Timestamp": _rule({"Wait"}, _BOTH),
    "SecondsPath": _rule({"Wait"}, _PATH),
    "TimestampPath": _rule({"Wait"}, _PATH),
    # Fail
    "Error": _rule({"Fail"}, _BOTH),
    "Cause": _rule({"Fail"}, _BOTH),
    "ErrorPath": _rule({"Fail"}, _PATH),
    "CausePath": _rule({"Fail"}, _PATH),
    # Parallel
    "Branches": _rule({"Parallel"}, _BOTH),
    # Map (inline and distributed)
    "ItemProcessor": _rule({"Map"}, _BOTH),
    "Iterator": _rule({"Map"}, _BOTH),
    "ItemSelector": _rule({"Map"}, _BOTH),
    "ItemsPath": _rule({"Map"}, _PATH),
    "Items": _rule({"Map"}, _ATA),
    "MaxConcurrency": _rule({"Map"}, _BOTH),
    "MaxConcurrencyPath": _rule({"Map"}, _PATH),
    "ItemReader": _rule({"Map"}, _BOTH),
    "ItemBatcher": _rule({"Map"}, _BOTH),
    "ResultWriter": _rule({"Map"}, _BOTH),
    "ToleratedFailureCount": _rule({"Map"}, _BOTH),
    "ToleratedFailureCountPath": _rule({"Map"}, _PATH),
    "ToleratedFailurePercentage": _rule({"Map"}, _BOTH),
    "ToleratedFailurePercentagePath": _rule({"Map"}, _PATH),
    "Label": _rule({"Map"}, _BOTH),
}

# Fields a state type must have (beyond Type). Map's ItemProcessor/Iterator and Wait's four
# fields are "exactly one of" groups, below.
REQUIRED: dict[str, tuple[str, ...]] = {
    "Task": ("Resource",),
    "Choice": ("Choices",),
    "Parallel": ("Branches",),
}

# "Exactly one of" groups (none present -> one_required; several -> only_one).
EXACTLY_ONE: dict[str, tuple[tuple[str, ...], ...]] = {
    "Wait": (("Seconds", "Timestamp", "SecondsPath", "TimestampPath"),),
    "Map": (("ItemProcessor", "Iterator"),),
}
# "At most one of" groups: a literal and its ...Path twin, and Map's two selector names.
AT_MOST_ONE: dict[str, tuple[tuple[str, ...], ...]] = {
    "Task": (("TimeoutSeconds", "TimeoutSecondsPath"), ("HeartbeatSeconds", "HeartbeatSecondsPath")),
    "Fail": (("Error", "ErrorPath"), ("Cause", "CausePath")),
    "Map": (("MaxConcurrency", "MaxConcurrencyPath"), ("ToleratedFailureCount", "ToleratedFailureCountPath"),
            ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"), ("ItemSelector", "Parameters")),
}

# Top level and sub-machines (Parallel branches, Map processors): supported fields, and the
# required ones in the order AWS lists them ("These fields are required: [States, StartAt]").
_MACHINE_REQUIRED = ("States", "StartAt")
_MACHINE_FIELDS: dict[str, frozenset[str]] = {
    "top": frozenset({"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}),
    "branch": frozenset({"StartAt", "States", "Comment"}),
    "processor": frozenset({"StartAt", "States", "Comment", "ProcessorConfig"}),
}

_RETRIER_FIELDS = frozenset({"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds",
                             "JitterStrategy", "Comment"})
# Catcher field -> languages it is allowed in.
_CATCHER_FIELDS: dict[str, frozenset[str]] = {
    "ErrorEquals": _BOTH, "Next": _BOTH, "Comment": _BOTH, "Assign": _BOTH,
    "ResultPath": _PATH, "Output": _ATA,
}

# Choice rules. Comparison operators by the JSON kind of their literal value; each has a
# `...Path` twin that takes a Path instead (StringMatches and the Is* tests have none).
_COMPARISONS: dict[str, str] = {
    **{f"String{op}": "string" for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals",
                                           "GreaterThanEquals")},
    **{f"Numeric{op}": "number" for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals",
                                            "GreaterThanEquals")},
    **{f"Timestamp{op}": "timestamp" for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals",
                                                 "GreaterThanEquals")},
    "BooleanEquals": "boolean",
}
CHOICE_OPERATORS: dict[str, str] = {
    **_COMPARISONS,
    **{f"{name}Path": "path" for name in _COMPARISONS},
    "StringMatches": "string",
    **{name: "boolean" for name in ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")},
}
_RULE_LOGIC = ("And", "Or", "Not")
# Choice rule field -> languages; a top-level rule also has Next (both) and Assign (both).
_JSONATA_RULE_FIELDS = frozenset({"Condition", "Output"})
_JSONPATH_RULE_FIELDS = frozenset({"Variable", *_RULE_LOGIC, *CHOICE_OPERATORS})

_ENUMS: dict[str, tuple[str, ...]] = {
    "Mode": ("INLINE", "DISTRIBUTED"),
    "ExecutionType": ("STANDARD", "EXPRESS"),
    "JitterStrategy": ("FULL", "NONE"),
    "QueryLanguage": LANGUAGES,
}

# Optimized service integrations: service -> actions (AWS guide, "Integrating optimized
# services"). Only these services are checked; an unlisted service is left to run time.
INTEGRATIONS: dict[str, frozenset[str]] = {
    "lambda": frozenset({"invoke"}),
    "dynamodb": frozenset({"getItem", "putItem", "updateItem", "deleteItem"}),
    "sns": frozenset({"publish"}),
    "sqs": frozenset({"sendMessage"}),
    "states": frozenset({"startExecution"}),
    "events": frozenset({"putEvents"}),
    "apigateway": frozenset({"invoke"}),
    "batch": frozenset({"submitJob"}),
    "ecs": frozenset({"runTask"}),
    "glue": frozenset({"startJobRun"}),
    "athena": frozenset({"startQueryExecution", "stopQueryExecution", "getQueryExecution", "getQueryResults"}),
    "http": frozenset({"invoke"}),
}

_SERVICE_ARN = re.compile(r"arn:[^:]+:states:[^:]*:[^:]*:(?P<service>[\w-]+):(?P<action>[^.]+)(?P<pattern>\..*)?")
_ACTIVITY_ARN = re.compile(r"arn:[^:]+:states:[^:]+:\d+:activity:.+")
# AWS's naming rule: no whitespace, brackets, wildcards, special characters or control characters.
_LABEL_FORBIDDEN = re.compile(r"""[\s<>{}\[\]?*"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]""")


# ----------------------------------------------------------------------------------------------
# The walk


@dataclass
class _Walk:
    """What one validation run carries: the machine type, the top-level language, the findings."""

    machine_type: str
    top_language: str
    out: list[Diagnostic] = field(default_factory=list)
    containers: list[tuple[str, dict]] = field(default_factory=list)  # (location, machine) for the graph phase
    labels: list[tuple[str, Any]] = field(default_factory=list)

    def error(self, key: str, location: str | None, code: str = SCHEMA, **values: Any) -> None:
        self.out.append(Diagnostic(code, MESSAGES[key].format(**values), location))


def _at(base: str, *parts: str) -> str:
    return base + "".join("/" + p for p in parts) if (base or parts) else "/"


def _kind_of(value: Any) -> str:
    """JSON type names as AWS's schema messages use them: integers are told apart from numbers."""
    if isinstance(value, int) and not isinstance(value, bool):
        return "integer"
    try:
        return json_type(value)
    except TypeError:
        return "unknown"


_is_jsonata = is_expression


def validate(definition: str | bytes | Mapping[str, Any], *, type: str = "STANDARD") -> list[Diagnostic]:  # noqa: A002 - AWS's name
    """Validate a definition as AWS CreateStateMachine / ValidateStateMachineDefinition do.

    Args:
        definition: The definition's JSON text (``str`` or UTF-8 ``bytes``), or the already parsed
            object (a dict or other mapping).
        type: The state machine type, ``"STANDARD"`` or ``"EXPRESS"`` (EXPRESS refuses activities,
            ``.sync`` and ``.waitForTaskToken``).

    Returns:
        The diagnostics in AWS's order; an empty list means the definition is valid.

    Example:
        >>> [str(d) for d in validate('{"StartAt": "A", "States": {}}')][:1]
        ["MISSING_TRANSITION_TARGET: Missing 'Next' target: A at /StartAt"]
    """
    try:
        text, machine = definition_json(definition)
    except ValueError as exc:
        return [Diagnostic(INVALID_JSON, str(exc))]
    except RecursionError:  # Python values nested deeper than json.dumps goes
        return [Diagnostic(INVALID_JSON, MESSAGES["too_deep"].format(limit=MAX_DEPTH))]
    if machine is GIVEN_AS_TEXT:
        machine = _parse(text)
        if isinstance(machine, Diagnostic):
            return [machine]
    if json_depth(machine, MAX_DEPTH) > MAX_DEPTH:
        return [Diagnostic(INVALID_JSON, MESSAGES["too_deep"].format(limit=MAX_DEPTH))]
    if not isinstance(machine, dict):
        return [Diagnostic(SCHEMA, MESSAGES["not_object"])]

    try:
        return _checks(machine, text, type)
    except RecursionError:  # a walk went deeper than Python's stack allows here (its limit varies)
        return [Diagnostic(INVALID_JSON, MESSAGES["too_deep"].format(limit=MAX_DEPTH))]


def _checks(machine: dict, text: str, type: str) -> list[Diagnostic]:  # noqa: A002 - AWS's name
    language = machine.get("QueryLanguage") or JSONPATH
    w = _Walk(type.upper(), language if language in LANGUAGES else JSONPATH)
    _machine(w, machine, "", "top")
    if w.out:
        return w.out
    _jsonata_expressions(w, machine, "", w.top_language)
    if w.out:
        return w.out
    _graph(w)
    if w.out:
        return w.out
    _labels(w, text)
    return w.out


# ----------------------------------------------------------------------------------------------
# Phase 1b: JSONata expressions (AWS parses every one when the definition is created)

# Keys whose values are never expressions, and keys holding nested machines (walked on their own).
_NOT_EXPRESSIONS = frozenset({"Type", "Comment", "Next", "End", "Resource", "QueryLanguage", "Default", "Label",
                              "ErrorEquals"})
_NESTED_MACHINES = frozenset({"Branches", "ItemProcessor", "Iterator"})


def _jsonata_expressions(w: _Walk, machine: dict, base: str, top_language: str) -> None:
    """INVALID_JSONATA_EXPRESSION (syntax) and UNSUPPORTED_JSONATA_EXPRESSION (top-level references)."""
    from .jsonata import syntax_problem, top_level_references

    for name, state in (machine.get("States") or {}).items():
        if not isinstance(state, dict):
            continue
        where = _at(base, "States", name)
        if (state.get("QueryLanguage") or top_language) == JSONATA:
            for location, text in _expressions(state, where):
                problem = syntax_problem(text)
                if problem is not None:
                    w.out.append(Diagnostic(INVALID_JSONATA, problem, location))
                    continue
                for reference in top_level_references(text):
                    w.out.append(Diagnostic(UNSUPPORTED_JSONATA,
                                            f"Reference to '{reference}' at the top level is not supported.", location))
        for branch_index, branch in enumerate(state.get("Branches") or []):
            if isinstance(branch, dict):
                _jsonata_expressions(w, branch, f"{where}/Branches[{branch_index}]", top_language)
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                _jsonata_expressions(w, state[key], f"{where}/{key}", top_language)


def _expressions(value: Any, where: str):
    """(location, expression text) of every ``{% %}`` string in a JSONata state's fields."""
    if isinstance(value, dict):
        for key, child in value.items():
            if key in _NOT_EXPRESSIONS or key in _NESTED_MACHINES:
                continue
            yield from _expressions(child, f"{where}/{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _expressions(child, f"{where}[{index}]")
    elif _is_jsonata(value):
        yield where, value[2:-2].strip()


# ----------------------------------------------------------------------------------------------
# Phase 1: schema


def _machine(w: _Walk, machine: Any, base: str, kind: str) -> None:
    """A whole machine, a Parallel branch or a Map processor: its fields, then its states."""
    where = _at(base)
    if not isinstance(machine, dict):
        w.error("type", where, kind="object")
        return
    for name in machine:
        if name not in _MACHINE_FIELDS[kind]:
            w.error("not_supported", where, field=name)
    missing = [name for name in _MACHINE_REQUIRED if name not in machine]
    if missing:
        w.error("required", where, fields=", ".join(missing))
    if kind == "top":
        _top_fields(w, machine)
    if kind == "processor" and "ProcessorConfig" in machine:
        _processor_config(w, machine["ProcessorConfig"], _at(base, "ProcessorConfig"))
    if "StartAt" in machine and not isinstance(machine["StartAt"], str):
        w.error("type", _at(base, "StartAt"), kind="string")
    if "States" not in machine:  # reported as required above
        return
    states = machine["States"]
    if not isinstance(states, dict):  # null included: a present field must have its type
        w.error("type", _at(base, "States"), kind="object")
        return
    w.containers.append((base, machine))
    for name, state in states.items():
        _state(w, name, state, _at(base, "States", name))


def _top_fields(w: _Walk, machine: dict) -> None:
    language = machine.get("QueryLanguage")
    if language is not None and language not in LANGUAGES:
        w.error("enum", "/QueryLanguage", field="QueryLanguage", values=", ".join(LANGUAGES))
    if "TimeoutSeconds" in machine:
        _integer(w, machine["TimeoutSeconds"], "/TimeoutSeconds", minimum=1, maximum=MAX_SECONDS)
    for name in ("Comment", "Version"):
        if name in machine and not isinstance(machine[name], str):
            w.error("type", _at("", name), kind="string")


def _processor_config(w: _Walk, config: Any, where: str) -> None:
    if not isinstance(config, dict):
        w.error("type", where, kind="object")
        return
    for name, value in config.items():
        if name not in ("Mode", "ExecutionType"):
            w.error("not_supported", where, field=name)
        elif value not in _ENUMS[name]:
            w.error("enum", _at(where, name), field=name, values=", ".join(_ENUMS[name]))


def _state(w: _Walk, name: str, state: Any, where: str) -> None:
    if len(name) > STATE_NAME_LIMIT:
        w.error("state_name", where, code=INVALID_STATE_NAME, limit=STATE_NAME_LIMIT)
    if not isinstance(state, dict):
        w.error("type", where, kind="object")
        return
    kind = state.get("Type")
    if kind is None:
        w.error("required", where, fields="Type")
        return
    if kind not in STATE_TYPES:
        w.error("enum", _at(where, "Type"), field="Type", values=", ".join(STATE_TYPES))
        return

    language = _state_language(w, state, where)
    for key in state:
        rule = FIELDS.get(key)
        if rule is None or kind not in rule.types:
            w.error("not_supported", where, field=key)
        elif language not in rule.languages:
            other = JSONATA if language == JSONPATH else JSONPATH
            w.error("only_in_language", where, language=language, field=key, other=other)

    missing = [f for f in REQUIRED.get(kind, ()) if f not in state]
    if missing:
        w.error("required", where, fields=", ".join(missing))
    for group in EXACTLY_ONE.get(kind, ()):
        present = [f for f in group if f in state]
        if not present:
            w.error("one_required", where, fields=", ".join(group))
        elif len(present) > 1:
            w.error("only_one", where, fields=", ".join(group))
    for group in AT_MOST_ONE.get(kind, ()):
        if sum(f in state for f in group) > 1:
            w.error("only_one", where, fields=", ".join(group))
    if kind in _FLOW:
        _transition(w, state, where)

    ctx = _StateContext(w, state, kind, language, where)
    for key, value in state.items():
        check = _CHECKS.get(key)
        rule = FIELDS.get(key)
        if check is not None and rule is not None and kind in rule.types and language in rule.languages:
            check(ctx, key, value)
    _heartbeat_below_timeout(w, state, where)


def _state_language(w: _Walk, state: dict, where: str) -> str:
    """The state's effective query language: its own, else the machine's (not the parent state's)."""
    own = state.get("QueryLanguage")
    if own is None:
        return w.top_language
    if own not in LANGUAGES:
        w.error("enum", _at(where, "QueryLanguage"), field="QueryLanguage", values=", ".join(LANGUAGES))
        return w.top_language
    if own == JSONPATH and w.top_language == JSONATA:
        w.error("downgrade", where)
        return JSONATA
    return own


def _transition(w: _Walk, state: dict, where: str) -> None:
    """Next or End: exactly one of them (End must be true to count)."""
    has_next = "Next" in state
    end = state.get("End")
    if "End" in state and not isinstance(end, bool):
        w.error("type", _at(where, "End"), kind="boolean")
        return
    if has_next and "End" in state:
        w.error("only_one", where, fields="Next, End")
    elif not has_next and end is not True:
        w.error("one_required", where, fields="Next, End")


def _heartbeat_below_timeout(w: _Walk, state: dict, where: str) -> None:
    heartbeat, timeout = state.get("HeartbeatSeconds"), state.get("TimeoutSeconds")
    if _is_int(heartbeat) and _is_int(timeout) and heartbeat >= timeout:
        w.error("heartbeat", where)


@dataclass
class _StateContext:
    """One state being checked: what field checkers need to know."""

    w: _Walk
    state: dict
    kind: str
    language: str
    where: str

    def at(self, *parts: str) -> str:
        return _at(self.where, *parts)


# ----------------------------------------------------------------------------------------------
# Value checks


def _is_int(value: Any) -> TypeGuard[float]:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bounded(w: _Walk, value: Any, where: str, kind: str, minimum: float | None, maximum: float | None,
             jsonata: bool) -> None:
    """A number of the given JSON kind within bounds (in JSONata mode an expression may stand in)."""
    if jsonata and _is_jsonata(value):
        return
    if not (_is_int if kind == "integer" else _is_number)(value):
        w.error("type", where, kind=kind)
    elif minimum is not None and value < minimum:
        w.error("minimum", where, bound=minimum)
    elif maximum is not None and value > maximum:
        w.error("maximum", where, bound=maximum)


def _integer(w: _Walk, value: Any, where: str, *, minimum: int | None = None, maximum: int | None = None,
             jsonata: bool = False) -> None:
    _bounded(w, value, where, "integer", minimum, maximum, jsonata)


def _number(w: _Walk, value: Any, where: str, *, minimum: float | None = None, maximum: float | None = None,
            jsonata: bool = False) -> None:
    _bounded(w, value, where, "number", minimum, maximum, jsonata)


def _string(ctx: _StateContext, key: str, value: Any) -> None:
    if not isinstance(value, str):
        ctx.w.error("type", ctx.at(key), kind="string")


def _object(ctx: _StateContext, key: str, value: Any) -> bool:
    if not isinstance(value, dict):
        ctx.w.error("type", ctx.at(key), kind="object")
        return False
    return True


def _valid_path(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        compile_path(text)
    except ValueError:
        return False
    return True


def _valid_reference_path(text: Any, *, context: bool = True) -> bool:
    if not isinstance(text, str):
        return False
    try:
        path = compile_path(text)
    except ValueError:
        return False
    return path.definite and (context or path.root != "context")


def _valid_intrinsic(text: str) -> bool:
    try:
        from . import intrinsics  # lazily: written alongside this module
    except ImportError:  # until it lands, any States.* call is given the benefit of the doubt
        return text.lstrip().startswith("States.")
    if not intrinsics.is_intrinsic(text):
        return False
    try:
        intrinsics.compile_intrinsic(text)
    except ValueError:  # IntrinsicSyntaxError is a ValueError
        return False
    return True


def _path_field(ctx: _StateContext, key: str, value: Any) -> None:
    """InputPath / OutputPath: a Path, or null."""
    if value is not None and not _valid_path(value):
        ctx.w.error("path", ctx.at(key))


def _result_path(ctx: _StateContext, key: str, value: Any, where: str | None = None) -> None:
    """ResultPath: a Reference Path into the state input, or null (AWS writes through it)."""
    if value is not None and not _valid_reference_path(value, context=False):
        ctx.w.error("reference_path", where or ctx.at(key))


def _reference_field(ctx: _StateContext, key: str, value: Any) -> None:
    """The `...Path` twins of literal fields (SecondsPath, TimeoutSecondsPath, ...)."""
    # Only ItemsPath may read the context object among the Map's number paths.
    context = not key.startswith(("MaxConcurrency", "ToleratedFailure"))
    if not _valid_reference_path(value, context=context):
        ctx.w.error("reference_path", ctx.at(key))


def _items_path(ctx: _StateContext, key: str, value: Any) -> None:
    if not _valid_reference_path(value):
        ctx.w.error("reference_path", ctx.at(key))


def _path_or_intrinsic(ctx: _StateContext, key: str, value: Any) -> None:
    """Fail's ErrorPath / CausePath: a Reference Path or an intrinsic call."""
    if isinstance(value, str) and (_valid_reference_path(value) or _valid_intrinsic(value)):
        return
    ctx.w.error("reference_path", ctx.at(key))


def _template(w: _Walk, value: Any, where: str) -> None:
    """A JSONPath payload template: each ``key.$`` must hold a Path or an intrinsic call."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith(".$"):
                if not (isinstance(item, str) and (_valid_path(item) or _valid_intrinsic(item))):
                    w.error("dollar_field", where, field=key)
            else:
                _template(w, item, _at(where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _template(w, item, f"{where}[{index}]")


def _payload(ctx: _StateContext, key: str, value: Any) -> None:
    """Parameters, ResultSelector, ItemSelector (JSONPath: a template object; JSONata: any JSON)."""
    if ctx.language == JSONATA:
        return
    if _object(ctx, key, value):
        _template(ctx.w, value, ctx.at(key))


def _assign(ctx: _StateContext, key: str, value: Any) -> None:
    _assign_at(ctx.w, value, ctx.at(key), ctx.language)


def _assign_at(w: _Walk, value: Any, where: str, language: str) -> None:
    if not isinstance(value, dict):
        w.error("type", where, kind="object")
    elif language == JSONPATH:
        _template(w, value, where)


def _seconds(ctx: _StateContext, key: str, value: Any) -> None:
    """Wait Seconds: 0..99999999 (JSONata: or an expression)."""
    _integer(ctx.w, value, ctx.at(key), minimum=0, maximum=MAX_SECONDS, jsonata=ctx.language == JSONATA)


def _timestamp(ctx: _StateContext, key: str, value: Any) -> None:
    """Wait Timestamp: RFC 3339 (JSONata: or an expression). ``{% %}`` is no timestamp in JSONPath."""
    if ctx.language == JSONATA and _is_jsonata(value):
        return
    if not isinstance(value, str):
        ctx.w.error("type", ctx.at(key), kind="string")
    elif not is_timestamp(value):
        ctx.w.error("timestamp", ctx.at(key))


def _task_seconds(ctx: _StateContext, key: str, value: Any) -> None:
    """Task TimeoutSeconds / HeartbeatSeconds: a positive integer (JSONata: or an expression)."""
    _integer(ctx.w, value, ctx.at(key), minimum=1, maximum=MAX_SECONDS, jsonata=ctx.language == JSONATA)


def _resource(ctx: _StateContext, key: str, value: Any) -> None:
    if not isinstance(value, str):
        ctx.w.error("type", ctx.at(key), kind="string")
        return
    where = ctx.at(key)
    service = _SERVICE_ARN.fullmatch(value)
    if ctx.w.machine_type == "EXPRESS":
        pattern = service.group("pattern") if service else None
        if _ACTIVITY_ARN.fullmatch(value):
            ctx.w.error("express_activity", where)
        elif pattern in (".sync", ".sync:2"):
            ctx.w.error("express_sync", where)
        elif pattern == ".waitForTaskToken":
            ctx.w.error("express_callback", where)
    if service and service.group("service") in INTEGRATIONS:
        if service.group("action") not in INTEGRATIONS[service.group("service")]:
            ctx.w.error("unknown_resource", where, resource=value)


def _credentials(ctx: _StateContext, key: str, value: Any) -> None:
    if not _object(ctx, key, value):
        return
    names = ("RoleArn", "RoleArn.$") if ctx.language == JSONPATH else ("RoleArn",)
    if not any(name in value for name in names):
        ctx.w.error("required_nested", ctx.at(key), field="RoleArn")
    elif ctx.language == JSONPATH:
        _template(ctx.w, value, ctx.at(key))


def _map_count(ctx: _StateContext, key: str, value: Any) -> None:
    """MaxConcurrency, ToleratedFailureCount: integers from 0 (JSONata: or an expression)."""
    _integer(ctx.w, value, ctx.at(key), minimum=0, jsonata=ctx.language == JSONATA)


def _map_percentage(ctx: _StateContext, key: str, value: Any) -> None:
    _number(ctx.w, value, ctx.at(key), minimum=0.0, maximum=100.0, jsonata=ctx.language == JSONATA)


def _items(ctx: _StateContext, key: str, value: Any) -> None:
    if not (isinstance(value, list) or _is_jsonata(value)):
        ctx.w.error("type", ctx.at(key), kind="array")


def _label(ctx: _StateContext, key: str, value: Any) -> None:
    if isinstance(value, str):
        ctx.w.labels.append((ctx.at(key), value))
    else:
        ctx.w.error("type", ctx.at(key), kind="string")


def _processor(ctx: _StateContext, key: str, value: Any) -> None:
    _machine(ctx.w, value, ctx.at(key), "processor")


def _branches(ctx: _StateContext, key: str, value: Any) -> None:
    if not isinstance(value, list):
        ctx.w.error("type", ctx.at(key), kind="array")
    elif not value:
        ctx.w.error("empty", ctx.at(key))
    else:
        for index, branch in enumerate(value):
            _machine(ctx.w, branch, f"{ctx.at(key)}[{index}]", "branch")


def _item_reader(ctx: _StateContext, key: str, value: Any) -> None:
    if not _object(ctx, key, value):
        return
    where = ctx.at(key)
    if "Parameters" in value and ctx.language == JSONPATH:
        _template(ctx.w, value["Parameters"], _at(where, "Parameters"))
    config = value.get("ReaderConfig")
    if isinstance(config, dict):
        config_at = _at(where, "ReaderConfig")
        if "MaxItems" in config and "MaxItemsPath" in config:
            ctx.w.error("only_one", config_at, fields="MaxItems, MaxItemsPath")
        if "MaxItems" in config:
            _integer(ctx.w, config["MaxItems"], _at(config_at, "MaxItems"), minimum=0, maximum=100000000,
                     jsonata=ctx.language == JSONATA)


def _item_batcher(ctx: _StateContext, key: str, value: Any) -> None:
    if not _object(ctx, key, value):
        return
    where = ctx.at(key)
    for literal in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
        if literal in value and literal + "Path" in value:
            ctx.w.error("only_one", where, fields=f"{literal}, {literal}Path")
        if literal in value:
            _integer(ctx.w, value[literal], _at(where, literal), minimum=0, jsonata=ctx.language == JSONATA)
    if "BatchInput" in value and ctx.language == JSONPATH:
        _template(ctx.w, value["BatchInput"], _at(where, "BatchInput"))


def _result_writer(ctx: _StateContext, key: str, value: Any) -> None:
    if _object(ctx, key, value) and "Parameters" in value and ctx.language == JSONPATH:
        _template(ctx.w, value["Parameters"], _at(ctx.at(key), "Parameters"))


# ---- Retry and Catch


def _error_equals(w: _Walk, handler: dict, where: str, index: int, count: int) -> None:
    errors = handler.get("ErrorEquals")
    at = _at(where, "ErrorEquals")
    if not isinstance(errors, list):
        w.error("type", at, kind="array")
        return
    if not errors:
        w.error("empty", at)
        return
    for position, name in enumerate(errors):
        if not isinstance(name, str):
            w.error("type", f"{at}[{position}]", kind="string")
        elif name == "States.ALL" and (len(errors) > 1 or index != count - 1):
            # States.ALL must be the only name of the last retrier / catcher
            w.error("states_all", f"{at}[{position}]")


def _handlers(ctx: _StateContext, key: str, value: Any) -> None:
    if not isinstance(value, list):
        ctx.w.error("type", ctx.at(key), kind="array")
        return
    for index, handler in enumerate(value):
        where = f"{ctx.at(key)}[{index}]"
        if not isinstance(handler, dict):
            ctx.w.error("type", where, kind="object")
            continue
        (_retrier if key == "Retry" else _catcher)(ctx, handler, where)
        if "ErrorEquals" in handler:
            _error_equals(ctx.w, handler, where, index, len(value))


def _retrier(ctx: _StateContext, retrier: dict, where: str) -> None:
    w = ctx.w
    for name in retrier:
        if name not in _RETRIER_FIELDS:
            w.error("not_supported", where, field=name)
    if "ErrorEquals" not in retrier:
        w.error("required", where, fields="ErrorEquals")
    bounds = {"IntervalSeconds": (1, MAX_SECONDS), "MaxAttempts": (0, MAX_SECONDS), "MaxDelaySeconds": (1, 31622400)}
    for name, (low, high) in bounds.items():
        if name in retrier:
            _integer(w, retrier[name], _at(where, name), minimum=low, maximum=high)
    if "BackoffRate" in retrier:
        _number(w, retrier["BackoffRate"], _at(where, "BackoffRate"), minimum=1.0)
    if "JitterStrategy" in retrier and retrier["JitterStrategy"] not in _ENUMS["JitterStrategy"]:
        w.error("enum", _at(where, "JitterStrategy"), field="JitterStrategy",
                values=", ".join(_ENUMS["JitterStrategy"]))


def _catcher(ctx: _StateContext, catcher: dict, where: str) -> None:
    w = ctx.w
    for name in catcher:
        languages = _CATCHER_FIELDS.get(name)
        if languages is None:
            w.error("not_supported", where, field=name)
        elif ctx.language not in languages:
            other = JSONATA if ctx.language == JSONPATH else JSONPATH
            w.error("only_in_language", where, language=ctx.language, field=name, other=other)
    missing = [name for name in ("ErrorEquals", "Next") if name not in catcher]
    if missing:
        w.error("required", where, fields=", ".join(missing))
    if "Next" in catcher and not isinstance(catcher["Next"], str):
        w.error("type", _at(where, "Next"), kind="string")
    if "ResultPath" in catcher and ctx.language == JSONPATH:
        _result_path(ctx, "ResultPath", catcher["ResultPath"], _at(where, "ResultPath"))
    if "Assign" in catcher:
        _assign_at(w, catcher["Assign"], _at(where, "Assign"), ctx.language)


# ---- Choice


def _choices(ctx: _StateContext, key: str, value: Any) -> None:
    if not isinstance(value, list):
        ctx.w.error("type", ctx.at(key), kind="array")
        return
    if not value:
        ctx.w.error("empty", ctx.at(key))
        return
    for index, rule in enumerate(value):
        _choice_rule(ctx, rule, f"{ctx.at(key)}[{index}]", top=True)


def _choice_rule(ctx: _StateContext, rule: Any, where: str, *, top: bool) -> None:
    w = ctx.w
    if not isinstance(rule, dict):
        w.error("type", where, kind="object")
        return
    own = _JSONATA_RULE_FIELDS if ctx.language == JSONATA else _JSONPATH_RULE_FIELDS
    foreign = _JSONPATH_RULE_FIELDS if ctx.language == JSONATA else _JSONATA_RULE_FIELDS
    allowed = own | {"Comment"} | ({"Next", "Assign"} if top else set())
    for name in rule:
        if name in foreign:
            other = JSONATA if ctx.language == JSONPATH else JSONPATH
            w.error("only_in_language", where, language=ctx.language, field=name, other=other)
        elif name not in allowed:
            w.error("not_supported", where, field=name)
    required = (["Condition"] if ctx.language == JSONATA and "Condition" not in rule else []) + (
        ["Next"] if top and "Next" not in rule else [])
    if required:
        w.error("required", where, fields=", ".join(required))
    if "Next" in rule and top and not isinstance(rule["Next"], str):
        w.error("type", _at(where, "Next"), kind="string")
    if "Assign" in rule and top:
        _assign_at(w, rule["Assign"], _at(where, "Assign"), ctx.language)
    if ctx.language == JSONPATH:
        _jsonpath_condition(ctx, rule, where)


def _jsonpath_condition(ctx: _StateContext, rule: dict, where: str) -> None:
    """A JSONPath rule is exactly one of: And/Or (non-empty lists), Not (a rule), Variable + operator."""
    w = ctx.w
    operators = [name for name in rule if name in CHOICE_OPERATORS]
    logic = [name for name in rule if name in _RULE_LOGIC]
    if len(operators) + len(logic) > 1:
        w.error("only_one", where, fields=", ".join(operators + logic))
        return
    if logic:
        name = logic[0]
        value = rule[name]
        if name == "Not":
            _choice_rule(ctx, value, _at(where, "Not"), top=False)
        elif not isinstance(value, list):
            w.error("type", _at(where, name), kind="array")
        elif not value:
            w.error("empty", _at(where, name))
        else:
            for index, inner in enumerate(value):
                _choice_rule(ctx, inner, f"{_at(where, name)}[{index}]", top=False)
        return
    if not operators:
        w.error("required", where, fields="Variable")
        return
    if "Variable" not in rule:
        w.error("required", where, fields="Variable")
    elif not _valid_path(rule["Variable"]):
        w.error("path", _at(where, "Variable"))
    name = operators[0]
    _operand(w, CHOICE_OPERATORS[name], rule[name], _at(where, name))


def _operand(w: _Walk, kind: str, value: Any, where: str) -> None:
    fits = {
        "string": lambda v: isinstance(v, str),
        "number": _is_number,
        "boolean": lambda v: isinstance(v, bool),
        "timestamp": lambda v: isinstance(v, str),
        "path": _valid_path,
    }[kind]
    if not fits(value):
        if kind == "path":
            w.error("path", where)
        else:
            w.error("type", where, kind=kind if kind != "timestamp" else "string")
    elif kind == "timestamp" and not is_timestamp(value):
        w.error("timestamp", where)


def _no_check(ctx: _StateContext, key: str, value: Any) -> None:
    """Any JSON value is accepted (Pass Result, JSONata Arguments and Output)."""


_CHECKS: dict[str, Callable[[_StateContext, str, Any], None]] = {
    "Comment": _string,
    "Next": _string,
    "Default": _string,
    "InputPath": _path_field,
    "OutputPath": _path_field,
    "ResultPath": _result_path,
    "Parameters": _payload,
    "ResultSelector": _payload,
    "ItemSelector": _payload,
    "Arguments": _no_check,
    "Output": _no_check,
    "Assign": _assign,
    "Retry": _handlers,
    "Catch": _handlers,
    "Resource": _resource,
    "Credentials": _credentials,
    "TimeoutSeconds": _task_seconds,
    "HeartbeatSeconds": _task_seconds,
    "TimeoutSecondsPath": _reference_field,
    "HeartbeatSecondsPath": _reference_field,
    "Result": _no_check,
    "Choices": _choices,
    "Seconds": _seconds,
    "Timestamp": _timestamp,
    "SecondsPath": _reference_field,
    "TimestampPath": _reference_field,
    "Error": _string,
    "Cause": _string,
    "ErrorPath": _path_or_intrinsic,
    "CausePath": _path_or_intrinsic,
    "Branches": _branches,
    "ItemProcessor": _processor,
    "Iterator": _processor,
    "ItemsPath": _items_path,
    "Items": _items,
    "MaxConcurrency": _map_count,
    "MaxConcurrencyPath": _reference_field,
    "ToleratedFailureCount": _map_count,
    "ToleratedFailureCountPath": _reference_field,
    "ToleratedFailurePercentage": _map_percentage,
    "ToleratedFailurePercentagePath": _reference_field,
    "ItemReader": _item_reader,
    "ItemBatcher": _item_batcher,
    "ResultWriter": _result_writer,
    "Label": _label,
}


# ----------------------------------------------------------------------------------------------
# Phase 2: names and transitions


def _targets(state: dict, where: str) -> Iterable[tuple[str, str]]:
    """(target state name, location) for every transition out of a state."""
    if isinstance(state.get("Next"), str):
        yield state["Next"], _at(where, "Next")
    for index, rule in enumerate(state.get("Choices") or ()):
        if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
            yield rule["Next"], f"{where}/Choices[{index}]/Next"
    if isinstance(state.get("Default"), str):
        yield state["Default"], _at(where, "Default")
    for index, catcher in enumerate(state.get("Catch") or ()):
        if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
            yield catcher["Next"], f"{where}/Catch[{index}]/Next"


def _is_terminal(state: dict) -> bool:
    return state.get("End") is True or state.get("Type") in ("Succeed", "Fail")


def _graph(w: _Walk) -> None:
    seen: set[str] = set()
    for base, machine in w.containers:  # names are unique across the whole machine, nesting included
        for name in getattr(machine["States"], "duplicates", ()):
            w.error("duplicate", _at(base, "States", name), code=DUPLICATE, name=name)
        for name in machine["States"]:
            if name in seen:
                w.error("duplicate", _at(base, "States", name), code=DUPLICATE, name=name)
            seen.add(name)
    if w.out:
        return
    for base, machine in w.containers:
        _container_graph(w, base, machine)


def _container_graph(w: _Walk, base: str, machine: dict) -> None:
    """Dangling targets, then no terminal state (which hides the reachability walk) or unreachable states."""
    states: dict = machine["States"]
    start: Any = machine.get("StartAt")  # any JSON value; a name once found in states
    if start not in states:
        w.error("missing_target", _at(base, "StartAt"), code=MISSING_TARGET, target=start)
    edges: dict[str, list[str]] = {}
    for name, state in states.items():
        edges[name] = []
        for target, where in _targets(state, _at(base, "States", name)):
            if target in states:
                edges[name].append(target)
            else:
                w.error("missing_target", where, code=MISSING_TARGET, target=target)
    if not any(_is_terminal(state) for state in states.values()):
        w.error("no_terminal", None, code=MISSING_END)
        return
    reached: set[str] = set()
    pending = [start] if start in states else []
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            pending.extend(edges[name])
    for name in states:
        if name not in reached:
            w.error("unreachable", _at(base, "States", name), code=MISSING_TARGET, name=name)


# ----------------------------------------------------------------------------------------------
# Phase 3: Map labels (AWS answers these in its own raw format, echoing the definition text)


def _labels(w: _Walk, text: str) -> None:
    for where, label in w.labels:
        problem = _label_problem(label)
        if problem is not None:
            w.error("label", where, code=INVALID_LABEL, args=repr(problem), definition=text)
            return  # AWS stops at the first one: it is an exception, not a list


def _label_problem(label: str) -> str | None:
    if not label:
        return "Label cannot be empty"
    if len(label) > LABEL_LIMIT:
        return f"Label cannot exceed {LABEL_LIMIT} characters"
    bad = _LABEL_FORBIDDEN.search(label)
    if bad:
        return f"Label contains invalid character: {bad.group()!r}"
    return None


# ----------------------------------------------------------------------------------------------
# JSON text: parsed as AWS's Jackson reader does, with Jackson's error messages


class _Object(dict):
    """A parsed JSON object that remembers the keys it saw twice (Jackson keeps the last one)."""

    duplicates: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    duplicates = []
    for key, value in pairs:
        if key in obj:
            duplicates.append(key)
        obj[key] = value
    if duplicates:
        obj.duplicates = tuple(duplicates)
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN / Infinity are not JSON for Jackson


def _parse(text: str) -> Any:
    """The parsed value, or the Diagnostic AWS gives for text that is not JSON.

    Like Jackson's ``readTree``, content after the first complete value is ignored.
    """
    if not text.strip():
        return Diagnostic(SCHEMA, MESSAGES["not_object"])
    decoder = json.JSONDecoder(object_pairs_hook=_object_pairs, parse_constant=_reject_constant)
    start = len(text) - len(text.lstrip(" \t\r\n"))
    try:
        value, _ = decoder.raw_decode(text, start)
    except RecursionError:  # deeper than Python's parser goes, so far deeper than MAX_DEPTH
        return Diagnostic(INVALID_JSON, MESSAGES["too_deep"].format(limit=MAX_DEPTH))
    except ValueError:
        message, location = _JacksonScanner(text).error()
        return Diagnostic(INVALID_JSON, f"{message}\n at {location}", location)
    return value


_EXPECTED_VALUE = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


class _JacksonError(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class _JacksonScanner:
    """Finds the first syntax error the way Jackson reports it (message and line/column)."""

    _SOURCE_LIMIT = 500  # Jackson truncates the echoed source after this many characters

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self) -> tuple[str, str]:
        try:
            self._skip()
            self._value()
            raise _JacksonError("Unexpected end-of-input", len(self.text))  # pragma: no cover - text was invalid
        except _JacksonError as exc:
            return exc.message, self._location(exc.offset)

    def _location(self, offset: int) -> str:
        before = self.text[:offset]
        line = before.count("\n") + 1
        column = offset - (before.rfind("\n") + 1) + 1
        source = self.text
        if len(source) > self._SOURCE_LIMIT:
            source = source[: self._SOURCE_LIMIT] + f'"[truncated {len(self.text) - self._SOURCE_LIMIT} chars]'
            return f'[Source: (String)"{source}; line: {line}, column: {column}]'
        return f'[Source: (String)"{source}"; line: {line}, column: {column}]'

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _unexpected(self, expecting: str) -> _JacksonError:
        char = self._peek()
        return _JacksonError(f"Unexpected character ('{char}' (code {ord(char)})): {expecting}", self.pos + 1)

    def _eof(self, what: str) -> _JacksonError:
        return _JacksonError(f"Unexpected end-of-input: {what}", len(self.text))

    def _value(self) -> None:
        char = self._peek()
        if not char:
            raise self._eof("expected a value")
        if char == "{":
            self._container("}", "Object")
        elif char == "[":
            self._container("]", "Array")
        elif char == '"':
            self._string()
        elif char == "-" or char.isdigit():
            self._number()
        elif char.isalpha() or char == "_":
            end = self.pos
            while end < len(self.text) and (self.text[end].isalnum() or self.text[end] in "_$"):
                end += 1
            token = self.text[self.pos:end]
            if token not in ("true", "false", "null"):
                raise _JacksonError(f"Unrecognized token '{token}': was expecting {_EXPECTED_VALUE}", end)
            self.pos = end
        else:
            raise self._unexpected(f"expected a valid value {_EXPECTED_VALUE}")

    def _container(self, close: str, name: str) -> None:
        start = self.pos
        self.pos += 1
        self._skip()
        if self._peek() == close:
            self.pos += 1
            return
        while True:
            self._skip()
            if not self._peek():
                raise self._eof(f"expected close marker for {name} (start marker at {self._location(start)})")
            if name == "Object":
                if self._peek() != '"':
                    raise self._unexpected("was expecting double-quote to start field name")
                self._string()
                self._skip()
                if self._peek() != ":":
                    if not self._peek():
                        raise self._eof(f"expected close marker for {name} (start marker at {self._location(start)})")
                    raise self._unexpected("was expecting a colon to separate field name and value")
                self.pos += 1
                self._skip()
            self._value()
            self._skip()
            char = self._peek()
            if char == close:
                self.pos += 1
                return
            if not char:
                raise self._eof(f"expected close marker for {name} (start marker at {self._location(start)})")
            if char != ",":
                raise self._unexpected(f"was expecting comma to separate {name} entries")
            self.pos += 1

    def _string(self) -> None:
        self.pos += 1
        while True:
            char = self._peek()
            if not char:
                raise self._eof("was expecting closing quote for a string value")
            if char == '"':
                self.pos += 1
                return
            if char == "\\":
                escaped = self.text[self.pos + 1: self.pos + 2]
                if escaped and escaped not in '"\\/bfnrtu':
                    raise _JacksonError(f"Unrecognized character escape '{escaped}' (code {ord(escaped)})",
                                        self.pos + 2)
                self.pos += 2
                continue
            if ord(char) < 32:
                raise _JacksonError(f"Illegal unquoted character ((CTRL-CHAR, code {ord(char)})): has to be "
                                    "escaped using backslash to be included in string value", self.pos + 1)
            self.pos += 1

    def _number(self) -> None:
        match = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?").match(self.text, self.pos)
        if not match:
            raise self._unexpected(f"expected a valid value {_EXPECTED_VALUE}")
        self.pos = match.end()
