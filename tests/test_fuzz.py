"""Fuzzing: definitions from the ASL grammar and hostile inputs, through every entry point.

Whatever a learner pastes, sfnlab answers with one of a few outcomes and nothing else:

* a result (an execution that SUCCEEDED with JSON output, or ended FAILED / TIMED_OUT with an
  error name: ``States.*``, or a name the definition itself chose in a Fail state or a Task);
* a refused definition (:class:`~sfnlab.DefinitionError` with AWS's diagnostics, or the client's
  ``InvalidDefinition``);
* a refused input (:class:`~sfnlab.errors.InvalidExecutionInput`, or the client's
  ``InvalidExecutionInput``).

Any other exception is an *escape*, and so is a hang: each example runs under an alarm.

The definitions come from a grammar of the Amazon States Language: every state type, Parallel
and Map nested in each other, JSONPath and JSONata, Retry and Catch; then some are damaged
(a field removed, a field given a value of the wrong type, an unknown field added). Inputs are
deep, wide, unicode or huge numbers.

The CI run is small. A long run prints its figures::

    SFNLAB_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/test_fuzz.py -q -s

(each test then tries that many examples and prints its outcomes by kind).

Long run, 2026-11-26, SFNLAB_FUZZ_EXAMPLES=5000 (12 min 22 s, peak resident size 0.9 GB):
25,000 cases, 0 escapes, 0 hangs.

* definitions through StateMachine (5,000): 3,024 refused (2,587 SCHEMA_VALIDATION_FAILED,
  395 MISSING_TRANSITION_TARGET, 35 INVALID_JSONATA_EXPRESSION, 7 UNSUPPORTED_JSONATA_EXPRESSION);
  524 succeeded; failed: 748 States.Runtime, 418 States.QueryEvaluationError, 148 the
  definition's own error, 68 without an error name, 14 States.ResultPathMatchFailure,
  5 States.DataLimitExceeded, 3 States.NoChoiceMatched; 30 timed out; 18 waiting for a callback.
* hostile inputs (5,000): 2,290 refused definitions; 673 succeeded; failed: 1,003 States.Runtime,
  654 States.QueryEvaluationError, 230 own error, 64 unnamed, 22 ResultPathMatchFailure,
  6 DataLimitExceeded; 35 timed out; 23 waiting for a callback.
* the client (5,000): 3,142 InvalidDefinition, 533 input refused (InvalidExecutionInput or the
  256 KiB ValidationException); Standard 273 succeeded, 709 failed, 7 timed out, 12 running
  (callbacks); Express 66 succeeded, 237 failed, 21 timed out.
* definition text (5,000): 4,954 INVALID_JSON_DESCRIPTION, 46 SCHEMA_VALIDATION_FAILED.
* deep definitions (5,000): 2,864 refused as nested too deep, 2,136 succeeded.

Earlier long runs found what is now fixed: an Express loop of heavy states that ran for hours
(now TIMED_OUT after five minutes of real work), and a JSONata path over a range of ranges that
filled 6 GB inside one library call (now stopped by the memory guard).
"""
from __future__ import annotations

import collections
import json
import math
import os
import signal
import string
import threading

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sfnlab
import sfnlab.engine
import sfnlab.jsonata
from sfnlab import DefinitionError, StateMachine
from sfnlab.errors import InvalidExecutionInput
from sfnlab.validation import MAX_DEPTH, MESSAGES

TOO_DEEP = MESSAGES["too_deep"].format(limit=MAX_DEPTH)

EXAMPLES = int(os.environ.get("SFNLAB_FUZZ_EXAMPLES", "0"))
LONG = EXAMPLES > 0
ALARM_SECONDS = 30  # far above any honest example; only a hang gets there

FUZZ = settings(
    max_examples=EXAMPLES or 25,
    deadline=None,
    database=None,
    derandomize=not LONG,  # CI: the same examples every run; the long run explores
    suppress_health_check=list(HealthCheck),
)

OUTCOMES: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


class Hang(BaseException):
    """An example ran past the alarm (BaseException, so no ``except Exception`` inside swallows it)."""


@pytest.fixture(autouse=True, scope="module")
def _bounded_evaluation():
    """The clocks shortened: an endless expression costs half a second, not ten, and a runaway
    Express loop five seconds, not five minutes."""
    saved = sfnlab.jsonata.EVALUATION_SECONDS, sfnlab.engine.EXPRESS_REAL_SECONDS
    sfnlab.jsonata.EVALUATION_SECONDS = 0.5
    sfnlab.engine.EXPRESS_REAL_SECONDS = 5.0  # an Express loop of heavy states: TIMED_OUT, not a hang
    yield
    sfnlab.jsonata.EVALUATION_SECONDS, sfnlab.engine.EXPRESS_REAL_SECONDS = saved
    if LONG:
        for test, counter in sorted(OUTCOMES.items()):
            print(f"\n{test}: {sum(counter.values())} cases")
            for kind, n in counter.most_common():
                print(f"  {n:7d}  {kind}")


class _Alarm:
    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            def ring(signum, frame):
                raise Hang(f"no answer within {ALARM_SECONDS} s")

            self._old = signal.signal(signal.SIGALRM, ring)
            signal.alarm(ALARM_SECONDS)
        return self

    def __exit__(self, *exc):
        if threading.current_thread() is threading.main_thread():
            signal.alarm(0)
            signal.signal(signal.SIGALRM, self._old)
        return False


# ----------------------------------------------------------------------------------------------
# JSON values: deep, wide, unicode, huge numbers

_unicode = st.text(st.characters(codec="utf-8"), max_size=12)
_strings = _unicode | st.sampled_from(["", "$", "$.a", "{}", "\\", "*", "\u0000", "é", "😀", "\ud800", "a" * 300,
                                       "2024-01-01T00:00:00Z", "States.ALL", "{% 1 %}"])
_numbers = (st.integers(-2**31, 2**31) | st.integers(-10**30, 10**30)
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.sampled_from([0, -0.0, 1e308, -1e308, 5e-324, 2**53 + 1, 2**63, 10**300]))
scalars = st.none() | st.booleans() | _numbers | _strings
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_strings, inner, max_size=5),
    max_leaves=20)


@st.composite
def deep_values(draw):
    """A value nested hundreds of levels deep, in arrays or objects."""
    depth = draw(st.integers(50, 900))
    value = draw(scalars)
    as_object = draw(st.booleans())
    for _ in range(depth):
        value = {"a": value} if as_object else [value]
    return value


wide_values = st.builds(lambda n, v: {f"k{i}": v for i in range(n)}, st.integers(100, 3000), scalars) | \
    st.builds(lambda n, v: [v] * n, st.integers(100, 20000), scalars)
inputs = values | deep_values() | wide_values

# ----------------------------------------------------------------------------------------------
# Expressions: paths, intrinsic calls, JSONata. Each comes mostly well formed, now and then broken.


def _mostly(good, broken):
    """``good`` 39 times in 40, ``broken`` the 40th (a machine draws dozens of them)."""
    return st.integers(0, 39).flatmap(lambda n: broken if n == 0 else good)


_names = st.sampled_from(["a", "b", "items", "x", "é", "a b", "0"])
_good_paths = st.one_of(
    st.sampled_from(["$", "$.a", "$.a.b", "$.items[0]", "$.items[*]", "$..b", "$.items[1:]", "$['a']",
                     "$.items[?(@.b > 1)]", "$$.Execution.Input", "$$.State.Name",
                     "$.a[-1]", "$.x", "$.items[0].b"]),
    st.lists(_names.filter(lambda n: n.isidentifier()), min_size=1, max_size=4).map(lambda p: "$." + ".".join(p)),
)
paths = _mostly(_good_paths, st.sampled_from(["$.", "$[", "a", "$..", "$$.Map.Item.Value", "$var.a", "$['a",
                                              '$.items[?(@.a =~ "(a+)+$")]', "$.items[?(@.a =~ /(a+)+$/)]"]))
reference_paths = _mostly(st.sampled_from(["$", "$.a", "$.a.b", "$.items[0]", "$['a']", "$.x"]),
                          st.sampled_from(["$..a", "$.items[*]", "$.a[?(@.b)]", "$["]))
_INTRINSICS = ["States.Format", "States.StringToJson", "States.JsonToString", "States.Array",
               "States.ArrayPartition", "States.ArrayContains", "States.ArrayRange", "States.ArrayGetItem",
               "States.ArrayLength", "States.ArrayUnique", "States.Base64Encode", "States.Base64Decode",
               "States.Hash", "States.JsonMerge", "States.MathRandom", "States.MathAdd", "States.StringSplit",
               "States.UUID"]
_intrinsic_literals = st.sampled_from(["'{} and {}'", "'a,b'", "','", "'SHA-256'", "'MD5'", "1", "-1", "0",
                                       "1000", "1000000000", "1.5", "1e308", "true", "false", "null", "'\\''",
                                       "'{'", "'x'", "''"])


def _calls(arguments):
    return st.builds(lambda name, args: f"{name}({', '.join(args)})", st.sampled_from(_INTRINSICS),
                     st.lists(arguments, max_size=4))


intrinsics = _mostly(
    st.recursive(_good_paths | _intrinsic_literals, _calls, max_leaves=12).filter(lambda t: t.startswith("States.")),
    st.one_of(st.integers(1, 40).map(lambda depth: "States.Array(" * depth + "$" + ")" * depth),
              st.sampled_from(["States.Unknown()", "States.Format(", "States.Format('{}', $.a", "States."])))

_jsonata_atoms = st.sampled_from([
    "$states.input", "$states.input.a", "$states.input.items", "$states.context.Execution.Id", "$states.result",
    "$states.errorOutput", "$x", "1", "0", "-1", "1e308", "'a'", "\"b\"", "true", "null", "[]", "{}", "[1..5]",
    "[1..100000]", "$random()", "$uuid()", "$now()", "$millis()", "$eval('1')",
    "$match($states.input.a, /a+/)", "$replace($states.input.a, /(b)/i, '$1$1')", "$split('a,b', /,/)",
])
_jsonata_functions = ["$string", "$number", "$count", "$sum", "$max", "$keys", "$length", "$uppercase", "$split",
                      "$join", "$substring", "$partition", "$range", "$hash", "$parse", "$exists", "$type",
                      "$append", "$sort", "$reverse", "$zip", "$merge", "$each", "$formatNumber", "$pad",
                      "$toMillis", "$fromMillis", "$base64encode", "$match", "$replace", "$boolean"]


def _jsonata_compounds(inner):
    return st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner,
                  st.sampled_from(["+", "-", "*", "/", "%", "&", "=", "!=", "<", ">", "and", "or", "in"]), inner),
        st.builds(lambda f, args: f"{f}({', '.join(args)})", st.sampled_from(_jsonata_functions),
                  st.lists(inner, max_size=3)),
        st.builds(lambda c, a, b: f"({c} ? {a} : {b})", inner, inner, inner),
        st.builds(lambda a, b: f"{a}[{b}]", inner, inner),
        st.builds(lambda items: "[" + ", ".join(items) + "]", st.lists(inner, max_size=3)),
        st.builds(lambda k, v: "{" + f"{k}: {v}" + "}", inner, inner),
        st.builds(lambda a: f"($v := {a}; $v)", inner),
    )


jsonata_expressions = _mostly(
    st.recursive(_jsonata_atoms, _jsonata_compounds, max_leaves=10),
    st.sampled_from([
        "( $f := function($x){ $f($x) }; $f(1) )",                  # tail recursion, endless
        "( $f := function($n){ $n + $f($n - 1) }; $f(5) )",         # non-tail recursion, endless
        "1" + " + 1" * 300,                                        # too deep
        "$range(0, 1000000000, 1)", "$count([1..10000000])", "$pad('', 1000000)", "$states.input.a.b.c",
        "a ?? b", "a ?: b", "$states.input.", "((((", "{%", "%}", "phone.mobile", "undefinedName",
        "$match('a', /a{2,1}/)", "$match('a', /*/)", "$match($string($states.input), /(x+x+)+y/)",
    ]),
).map(lambda text: "{% " + text + " %}")

_patterns = _mostly(st.text(alphabet="ab*\\?", max_size=12), st.sampled_from(["*" * 5000, "*a" * 2000 + "b"]))

# ----------------------------------------------------------------------------------------------
# The grammar of a definition. States are chained S0 -> S1 -> ... so most machines are valid;
# damaged() breaks them afterwards.

_ERRORS = _mostly(st.sampled_from([["States.ALL"], ["States.TaskFailed"], ["States.Timeout"], ["Custom"],
                                   ["ValueError"], ["States.Runtime", "Custom"], ["States.QueryEvaluationError"]]),
                  st.sampled_from([[], "States.ALL", [1], ["States.ALL", "Custom"]]))


def _all_last(handlers):
    """Retriers and catchers naming States.ALL go last, as AWS requires."""
    return sorted(handlers, key=lambda h: "States.ALL" in h["ErrorEquals"])


def _retriers():
    return st.lists(st.fixed_dictionaries(
        {"ErrorEquals": _ERRORS},
        optional={"IntervalSeconds": st.integers(1, 5), "MaxAttempts": st.integers(0, 3),
                  "BackoffRate": st.floats(1, 3), "MaxDelaySeconds": st.integers(1, 100),
                  "JitterStrategy": st.sampled_from(["FULL", "NONE"])}),
        max_size=2).map(_all_last)


def _catchers(targets, jsonata):
    field = {"Output": jsonata_expressions} if jsonata else {"ResultPath": reference_paths | st.none()}
    return st.lists(st.fixed_dictionaries({"ErrorEquals": _ERRORS, "Next": targets}, optional=field),
                    max_size=2).map(_all_last)


def _payload(jsonata):
    """A payload template: JSONata templates in JSONata mode, ``.$`` fields in JSONPath mode."""
    if jsonata:
        return st.recursive(scalars | jsonata_expressions,
                            lambda inner: st.dictionaries(_strings, inner, max_size=3) | st.lists(inner, max_size=3),
                            max_leaves=6)
    dollar_field = st.tuples(_names.map(lambda n: n + ".$"), paths | intrinsics)
    plain_field = st.tuples(_names, scalars)
    return st.lists(dollar_field | plain_field, max_size=4).map(dict)


def _io_fields(jsonata, results=False, arguments=False):
    if jsonata:
        fields = {"Output": _payload(True), "Assign": st.dictionaries(st.sampled_from(["x", "y"]),
                                                                      scalars | jsonata_expressions, max_size=2)}
        if arguments:
            fields["Arguments"] = _payload(True)
        return fields
    fields = {"InputPath": paths | st.none(), "OutputPath": paths | st.none(),
              "Assign": st.fixed_dictionaries({}, optional={"x": scalars, "y.$": paths})}
    if results:
        fields.update({"ResultPath": reference_paths | st.none(), "ResultSelector": _payload(False),
                       "Parameters": _payload(False)})
    return fields


def _rule(jsonata):
    if jsonata:
        return st.fixed_dictionaries({"Condition": jsonata_expressions | st.booleans()})
    operators = st.sampled_from(["StringEquals", "StringLessThan", "NumericEquals", "NumericGreaterThan",
                                 "BooleanEquals", "TimestampLessThan", "IsNull", "IsPresent", "IsNumeric",
                                 "StringEqualsPath", "NumericLessThanPath", "IsTimestamp", "StringMatches"])

    def comparison(op, literal, path, pattern):
        if op == "StringMatches":
            return {"Variable": path, op: pattern}
        if op.endswith("Path"):
            return {"Variable": path, op: path}
        if op.startswith("Is") or op == "BooleanEquals":
            return {"Variable": path, op: bool(literal)}
        if op.startswith("Numeric"):
            return {"Variable": path, op: literal if isinstance(literal, (int, float)) and literal is not True
                    and literal is not False else 1}
        if op.startswith("Timestamp"):
            return {"Variable": path, op: "2024-01-01T00:00:00Z"}
        return {"Variable": path, op: literal if isinstance(literal, str) else "a"}

    leaf = st.builds(comparison, operators, scalars, paths, _patterns)
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda rules: {"And": rules}),
        st.lists(inner, min_size=1, max_size=3).map(lambda rules: {"Or": rules}),
        inner.map(lambda rule: {"Not": rule})), max_leaves=5)


TASK_RESOURCES = ["arn:aws:lambda:us-east-1:123456789012:function:echo", "echo", "fails", "slow",
                  "arn:aws:states:::lambda:invoke", "arn:aws:lambda:us-east-1:123456789012:function:missing",
                  "arn:aws:states:::lambda:invoke.waitForTaskToken"]
_timestamps = _mostly(st.sampled_from(["2024-01-01T00:00:00Z", "2016-03-14T01:59:00Z", "2999-12-31T23:59:59Z",
                                       "1970-01-01T00:00:00.123Z"]), _strings)


def _state(draw, name, following, targets, depth, jsonata, prefix):
    last = following is None
    kinds = ["Pass", "Task", "Choice", "Wait", "Parallel", "Map"] if depth < 3 else ["Pass", "Task", "Choice", "Wait"]
    kind = draw(st.sampled_from(kinds + (["Succeed", "Fail"] if last else [])))
    state: dict = {"Type": kind}
    if kind in ("Pass", "Task", "Wait", "Parallel", "Map"):
        state.update({"End": True} if last else {"Next": draw(_mostly(st.just(following), targets))})
    if kind == "Pass":
        state.update(draw(st.fixed_dictionaries({}, optional={
            **_io_fields(jsonata), **({} if jsonata else {"Result": values, "Parameters": _payload(False),
                                                          "ResultPath": reference_paths | st.none()})})))
    elif kind == "Task":
        state["Resource"] = draw(st.sampled_from(TASK_RESOURCES))
        if state["Resource"].startswith("arn:aws:states:::lambda"):
            key = "Arguments" if jsonata else "Parameters"
            payload = {"FunctionName": draw(st.sampled_from(["echo", "fails", "missing"]))}
            payload.update({"Payload": "{% $states.input %}"} if jsonata else {"Payload.$": "$"})
            if state["Resource"].endswith("waitForTaskToken"):
                payload.update({"Payload": {"token": "{% $states.context.Task.Token %}"}} if jsonata
                               else {"Payload": {"token.$": "$$.Task.Token"}})
                payload.pop("Payload.$", None)
            state[key] = payload
        state.update(draw(st.fixed_dictionaries({}, optional={
            **_io_fields(jsonata, results=True, arguments=not state["Resource"].startswith("arn:aws:states")),
            "TimeoutSeconds": st.integers(1, 100), "HeartbeatSeconds": st.integers(1, 50), "Retry": _retriers(),
            "Catch": _catchers(targets, jsonata)})))
        if state.get("HeartbeatSeconds", 0) >= state.get("TimeoutSeconds", 99999999):
            del state["HeartbeatSeconds"]
    elif kind == "Choice":
        rules = draw(st.lists(_rule(jsonata), min_size=1, max_size=3))
        for rule in rules:
            rule["Next"] = draw(targets) if not last else draw(_mostly(st.just(following), targets)) if following \
                else draw(targets)
        state["Choices"] = rules
        state["Default"] = following if following else draw(targets)
        if last:  # a Choice cannot end a machine: give it a way out
            rules[0]["Next"] = state["Default"] = f"{prefix}Done"
    elif kind == "Wait":
        if jsonata:
            field = draw(st.sampled_from(["Seconds", "Timestamp"]))
            state[field] = draw(jsonata_expressions | (st.integers(0, 100) if field == "Seconds" else _timestamps))
        else:
            field = draw(st.sampled_from(["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]))
            state[field] = draw({"Seconds": st.integers(0, 10**8), "Timestamp": _timestamps}.get(field, reference_paths))
    elif kind == "Fail":
        if jsonata:
            state.update(draw(st.fixed_dictionaries({}, optional={
                "Error": st.sampled_from(["Custom", "States.Runtime"]) | jsonata_expressions,
                "Cause": _strings | jsonata_expressions})))
        else:
            state.update(draw(st.one_of(st.just({}), st.just({"Error": "Custom", "Cause": "because"}),
                                        st.fixed_dictionaries({"ErrorPath": reference_paths | intrinsics,
                                                               "CausePath": reference_paths | intrinsics}))))
    elif kind == "Parallel":
        state["Branches"] = [draw(machines(depth + 1, jsonata, top=False, prefix=f"{prefix}{name}b{i}"))
                             for i in range(draw(st.integers(1, 2)))]
        state.update(draw(st.fixed_dictionaries({}, optional={
            **_io_fields(jsonata, results=True), "Retry": _retriers(), "Catch": _catchers(targets, jsonata)})))
    elif kind == "Map":
        processor = draw(machines(depth + 1, jsonata, top=False, prefix=f"{prefix}{name}m"))
        if draw(st.booleans()):
            processor["ProcessorConfig"] = {"Mode": "INLINE"}
        state["ItemProcessor"] = processor
        fields = _io_fields(jsonata, results=True)
        fields.pop("Parameters", None)  # a Map has ItemSelector instead
        optional = {**fields, "ToleratedFailurePercentage": st.integers(0, 100),
                    "Retry": _retriers(), "Catch": _catchers(targets, jsonata)}
        if jsonata:
            optional.update({"Items": jsonata_expressions | st.lists(scalars, max_size=3),
                             "ItemSelector": _payload(True), "MaxConcurrency": st.integers(0, 3)})
        else:
            optional.update({"ItemsPath": reference_paths, "ItemSelector": _payload(False),
                             "MaxConcurrency": st.integers(0, 3)})
        state.update(draw(st.fixed_dictionaries({}, optional=optional)))
    return state


@st.composite
def machines(draw, depth=0, jsonata=None, top=True, prefix=""):
    """A state machine (or a branch / item processor): 1 to 4 states chained, now and then rewired."""
    if jsonata is None:
        jsonata = draw(st.booleans())
    names = [f"{prefix}S{i}" for i in range(draw(st.integers(1, 4)))]
    targets = st.sampled_from(names + [f"{prefix}Done"])  # a later name, an earlier one (a loop) or the end
    states = {name: _state(draw, name, names[i + 1] if i + 1 < len(names) else None, targets, depth, jsonata, prefix)
              for i, name in enumerate(names)}
    if f'"{prefix}Done"' in json.dumps(states):
        states[f"{prefix}Done"] = {"Type": "Succeed"}
    machine: dict = {"StartAt": names[0], "States": states}
    if top:
        if jsonata:
            machine["QueryLanguage"] = "JSONata"
        if draw(st.booleans()):
            machine["TimeoutSeconds"] = draw(st.integers(1, 3600))
    elif jsonata and draw(st.integers(0, 9)) == 0:
        machine["States"][names[0]]["QueryLanguage"] = "JSONPath"  # AWS refuses this mix
    return machine


_WRONG = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(), _strings,
                   st.lists(scalars, max_size=2), st.dictionaries(_strings, scalars, max_size=2))


@st.composite
def damaged(draw, machine):
    """The machine with a field removed, retyped, or an unknown one added, anywhere in it."""
    machine = json.loads(json.dumps(machine))
    holders = []

    def collect(node):
        if isinstance(node, dict):
            holders.append(node)
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(machine)
    for _ in range(draw(st.integers(1, 3))):
        holder = draw(st.sampled_from(holders))
        action = draw(st.sampled_from(["remove", "retype", "add"]))
        if action == "add" or not holder:
            holder[draw(st.sampled_from(["Unknown", "Type", "Next", "End", "Comment", "Version", "Label",
                                         "ItemReader", "ResultWriter", "ItemBatcher", "Iterator", "Result",
                                         "QueryLanguage", "TimeoutSecondsPath", "Credentials"]))] = draw(_WRONG)
        else:
            key = draw(st.sampled_from(sorted(holder)))
            if action == "remove":
                del holder[key]
            else:
                holder[key] = draw(_WRONG)
    return machine


definitions = st.one_of(machines(), machines(), machines().flatmap(damaged))

# ----------------------------------------------------------------------------------------------
# Running one example and naming its outcome


def echo(event, context):
    return event


def fails(event, context):
    raise ValueError("bad order")


def slow(event, context):
    return {"wrapped": event}


FUNCTIONS = {"echo": echo, "fails": fails, "slow": slow}


def _is_json(value) -> bool:
    """Plain JSON data (finite numbers only), as AWS writes it."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if not all(isinstance(k, str) for k in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif not (item is None or isinstance(item, (str, int, bool))):
            return False
    return True


def _execution_outcome(execution) -> str:
    assert execution.status in ("SUCCEEDED", "FAILED", "TIMED_OUT", "RUNNING"), execution.status
    assert execution.stop_time is None or execution.stop_time >= execution.start_time
    if execution.status == "SUCCEEDED":
        assert _is_json(execution.output), execution.output
        return "succeeded"
    if execution.status == "RUNNING":  # only a callback task may leave it waiting on the outside
        assert any(e["type"] == "TaskSubmitted" or e["type"] == "TaskScheduled" for e in execution.events)
        return "waiting for a callback"
    error = execution.error
    if execution.status == "TIMED_OUT":
        assert error == "States.Timeout"
        return "timed out"
    if error is None:  # a Fail state without Error
        return "failed without an error name"
    assert isinstance(error, str)
    return f"failed {error}" if error.startswith("States.") else "failed with the definition's own error"


def _definition_outcome(exc: DefinitionError) -> str:
    assert exc.message
    assert exc.diagnostics, "a refused definition names at least one diagnostic"
    for diagnostic in exc.diagnostics:
        assert diagnostic.code and diagnostic.message
    return "refused " + exc.diagnostics[0].code


def run_definition(definition, payload, machine_type) -> str:
    with _Alarm():
        diagnostics = sfnlab.validate(definition)
        assert all(d.code and d.message for d in diagnostics)
        try:
            machine = StateMachine(definition, functions=FUNCTIONS, type=machine_type)
        except DefinitionError as exc:
            # Compiling walks deeper than checking; where Python's stack is short (Hypothesis
            # shortens it) a deep definition can pass the checks and be refused as too deep.
            assert diagnostics or exc.diagnostics[0].message == TOO_DEEP, \
                "validate() found nothing, yet the definition was refused"
            return _definition_outcome(exc)
        assert not [d for d in diagnostics if d.severity == "ERROR"], "validate() refused a definition that loaded"
        try:
            execution = machine.run(payload)
        except InvalidExecutionInput as exc:
            assert str(exc)
            return "input refused"
        return _execution_outcome(execution)


def _record(test: str, outcome: str) -> None:
    OUTCOMES[test][outcome] += 1


# ----------------------------------------------------------------------------------------------
# The properties


@FUZZ
@given(definition=definitions, payload=values, machine_type=st.sampled_from(["STANDARD", "EXPRESS"]))
def test_any_definition_and_input_end_in_an_allowed_outcome(definition, payload, machine_type):
    _record("definitions (StateMachine)", run_definition(definition, payload, machine_type))


@FUZZ
@given(definition=machines(), payload=inputs)
def test_hostile_inputs_end_in_an_allowed_outcome(definition, payload):
    _record("hostile inputs (StateMachine)", run_definition(definition, payload, "STANDARD"))


_input_texts = st.one_of(
    values.map(json.dumps),
    deep_values().map(json.dumps),
    st.sampled_from(["", " ", "{", "[[[", "NaN", "Infinity", "1" * 5000, "\"\\ud800\"", "1e308", "-1e-400",
                     "[" * 100000 + "]" * 100000, "{\"a\":" * 5000 + "1" + "}" * 5000, "null", "'a'", "{\"a\":1}}",
                     "\"" + "x" * 300000 + "\""]),
    st.text(max_size=30),
)


@FUZZ
@given(definition=definitions, text=_input_texts, machine_type=st.sampled_from(["STANDARD", "EXPRESS"]))
def test_the_client_answers_with_a_result_or_an_aws_error(definition, text, machine_type):
    client = sfnlab.client(functions=FUNCTIONS)
    role = "arn:aws:iam::123456789012:role/fuzz"
    with _Alarm():
        try:
            arn = client.create_state_machine(name="fuzz", definition=json.dumps(definition), roleArn=role,
                                              type=machine_type)["stateMachineArn"]
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            assert code == "InvalidDefinition", code
            assert exc.response["Error"]["Message"].startswith("Invalid State Machine Definition")
            _record("client", "refused definition")
            return
        try:
            if machine_type == "EXPRESS":
                answer = client.start_sync_execution(stateMachineArn=arn, input=text)
                status = answer["status"]
                assert status in ("SUCCEEDED", "FAILED", "TIMED_OUT")
                if status == "SUCCEEDED":
                    assert _is_json(json.loads(answer["output"]))
                _record("client", f"express {status.lower()}")
                return
            execution_arn = client.start_execution(stateMachineArn=arn, input=text)["executionArn"]
        except ClientError as exc:
            error = exc.response["Error"]
            # AWS: InvalidExecutionInput for text that is not JSON; ValidationException over 256 KiB.
            assert error["Code"] == "InvalidExecutionInput" or (
                error["Code"] == "ValidationException" and "262144 bytes" in error["Message"]), error
            _record("client", "input refused")
            return
        described = client.describe_execution(executionArn=execution_arn)
        assert described["status"] in ("SUCCEEDED", "FAILED", "TIMED_OUT", "RUNNING")
        if described["status"] == "SUCCEEDED":
            assert _is_json(json.loads(described["output"]))
        history = client.get_execution_history(executionArn=execution_arn, maxResults=1000)
        assert history["events"]
        _record("client", f"standard {described['status'].lower()}")


@pytest.mark.xfail(strict=True, reason="known gap: 1e999 is read as a float infinity and written back as "
                                      "Infinity, which is not JSON (Jackson would write the string \"Infinity\")")
def test_an_input_number_beyond_a_double_comes_back_as_json():
    client = sfnlab.client()
    arn = client.create_state_machine(
        name="echo", roleArn="arn:aws:iam::123456789012:role/fuzz",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    execution_arn = client.start_execution(stateMachineArn=arn, input='{"a": 1e999}')["executionArn"]
    output = client.describe_execution(executionArn=execution_arn)["output"]
    assert _is_json(json.loads(output, parse_constant=lambda name: float("nan")))


@FUZZ
@given(text=st.one_of(st.text(max_size=60), st.text(alphabet=string.printable, max_size=60),
                      definitions.map(json.dumps).map(lambda s: s[: len(s) // 2]),
                      st.just("[" * 100000), st.just("{\"StartAt\":" * 3000)))
def test_any_text_is_refused_with_diagnostics(text):
    with _Alarm():
        diagnostics = sfnlab.validate(text)
        assert all(d.code and d.message for d in diagnostics)
        try:
            sfnlab.load(text)
        except DefinitionError as exc:
            _record("definition text", _definition_outcome(exc))
            return
    _record("definition text", "loaded")


@st.composite
def deep_definitions(draw):
    """Parallel states nested deeply, or a payload template nested thousands of levels."""
    if draw(st.booleans()):
        graph = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
        for level in range(draw(st.integers(5, 120))):
            graph = {"StartAt": f"L{level}", "States": {f"L{level}": {"Type": "Parallel", "End": True,
                                                                      "Branches": [graph]}}}
        return graph
    template = draw(scalars)
    for _ in range(draw(st.integers(100, 20000))):
        template = {"a": template}
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": template, "End": True}}}


@FUZZ
@given(definition=deep_definitions())
def test_deeply_nested_definitions_are_run_or_refused(definition):
    _record("deep definitions", run_definition(definition, {}, "STANDARD"))
