"""Limits: the ones AWS enforces, with AWS's errors, and the guards a laptop needs.

Each test feeds the hostile case and checks the answer; none measures time (speed belongs in
bench/). A guard that failed would show as a hang or a MemoryError, not as a slow pass.
"""
from __future__ import annotations

import json
import random
import re

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

import sfnlab
import sfnlab.engine
import sfnlab.jsonata
from sfnlab import DefinitionError, StateMachine
from sfnlab.choice import Wildcard, string_matches
from sfnlab.engine import EXPRESS_MAX_SECONDS
from sfnlab.errors import InvalidExecutionInput
from sfnlab.validation import MAX_DEPTH

ROLE = "arn:aws:iam::123456789012:role/limits"


def pass_state(**fields) -> dict:
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True, **fields}}}


def jsonata_output(expression: str) -> dict:
    return {"QueryLanguage": "JSONata", "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True, "Output": {"x": "{% " + expression + " %}"}}}}


def nested(depth: int, leaf=1, as_object=False):
    value = leaf
    for _ in range(depth):
        value = {"a": value} if as_object else [value]
    return value


# ----------------------------------------------------------------------------------------------
# Payload size: 256 KiB (AWS quota; States.DataLimitExceeded at run time, ValidationException at the API)


def test_a_state_output_over_256_kib_fails_with_data_limit_exceeded():
    execution = StateMachine(pass_state(Result="x" * (256 * 1024))).run({})
    assert (execution.status, execution.error) == ("FAILED", "States.DataLimitExceeded")
    assert "exceeding the maximum number of bytes service limit" in execution.cause


def test_an_execution_input_over_256_kib_is_refused_by_the_api():
    sfn = sfnlab.client()
    arn = sfn.create_state_machine(name="big", definition=json.dumps(pass_state()), roleArn=ROLE)["stateMachineArn"]
    with pytest.raises(ClientError) as refused:
        sfn.start_execution(stateMachineArn=arn, input=json.dumps("x" * (256 * 1024)))
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "262144 bytes" in refused.value.response["Error"]["Message"]


# ----------------------------------------------------------------------------------------------
# History: 25,000 events for Standard; the Express 5-minute limit for a loop that takes no time

LOOP = {"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Next": "B"},
    "B": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": True, "Next": "E"}], "Default": "A"},
    "E": {"Type": "Succeed"}}}


def test_a_standard_loop_without_end_fails_at_25000_history_events():
    execution = StateMachine(LOOP).run({})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert execution.cause == "The execution reached the maximum number of history events (25000)."
    assert len(execution.events) == 25_000


def test_an_express_loop_that_takes_no_time_times_out_at_its_five_minute_limit():
    execution = StateMachine(LOOP, type="EXPRESS").run({})
    assert (execution.status, execution.error) == ("TIMED_OUT", "States.Timeout")
    assert execution.stop_time - execution.start_time == EXPRESS_MAX_SECONDS
    assert execution.events[-1]["type"] == "ExecutionTimedOut"


def test_an_express_loop_stops_at_its_own_shorter_timeout():
    execution = StateMachine({**LOOP, "TimeoutSeconds": 30}, type="EXPRESS").run({})
    assert (execution.status, execution.error) == ("TIMED_OUT", "States.Timeout")
    assert execution.stop_time - execution.start_time == 30


def test_an_express_loop_of_heavy_states_times_out_after_five_minutes_of_real_work(monkeypatch):
    # Few events, but each costs real time: the budget in events alone would let it run for hours.
    monkeypatch.setattr(sfnlab.engine, "EXPRESS_REAL_SECONDS", 0.3)
    heavy = {"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Output": {"n": "{% $sum([1..200000]) %}"}, "Next": "B"},
        "B": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n < 0 %}", "Next": "E"}], "Default": "A"},
        "E": {"Type": "Succeed"}}}
    execution = StateMachine(heavy, type="EXPRESS").run({})
    assert (execution.status, execution.error) == ("TIMED_OUT", "States.Timeout")
    assert execution.stop_time - execution.start_time == EXPRESS_MAX_SECONDS


def test_an_express_loop_that_ends_is_not_cut_short():
    loop = json.loads(json.dumps(LOOP))
    loop["States"]["A"] = {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "B"}
    loop["States"]["B"]["Choices"] = [{"Variable": "$.n", "NumericGreaterThanEquals": 2000, "Next": "E"}]
    execution = StateMachine(loop, type="EXPRESS").run({"n": 0})
    assert (execution.status, execution.output) == ("SUCCEEDED", {"n": 2000})
    assert execution.stop_time == execution.start_time


# ----------------------------------------------------------------------------------------------
# Intrinsic functions: 10 levels of nesting; States.ArrayRange: 1,000 items


def test_intrinsic_calls_nest_ten_deep_and_no_deeper():
    ten = "States.Array(" * 10 + "$.a" + ")" * 10
    assert StateMachine(pass_state(Parameters={"x.$": ten})).run({"a": 1}).output == {"x": nested(10)}
    with pytest.raises(DefinitionError) as refused:
        StateMachine(pass_state(Parameters={"x.$": "States.Array(" + ten + ")"}))
    assert refused.value.diagnostics[0].code == "SCHEMA_VALIDATION_FAILED"
    assert refused.value.diagnostics[0].location == "/States/P/Parameters"


def test_ten_thousand_nested_intrinsic_calls_are_refused_not_a_recursion_error():
    deep = "States.Array(" * 10_000 + "$.a" + ")" * 10_000
    with pytest.raises(DefinitionError) as refused:
        StateMachine(pass_state(Parameters={"x.$": deep}))
    assert refused.value.diagnostics[0].code == "SCHEMA_VALIDATION_FAILED"


@pytest.mark.parametrize("call, outcome", [
    ("States.ArrayRange(1, 1000, 1)", 1000),
    ("States.ArrayRange(0, 1000, 1)", None),          # 1,001 items
    ("States.ArrayRange(0, 1000000000, 1)", None),    # a billion: refused before anything is made
    ("States.ArrayRange(1000000000, 0, -1)", None),
])
def test_array_range_makes_at_most_1000_items(call, outcome):
    execution = StateMachine(pass_state(Parameters={"x.$": call})).run({})
    if outcome is None:
        assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
        assert execution.cause.endswith("Invalid arguments in States.ArrayRange")
    else:
        assert len(execution.output["x"]) == outcome


def test_math_add_with_a_400_digit_number_fails_as_an_invalid_argument():
    execution = StateMachine(pass_state(Parameters={"x.$": "States.MathAdd($.a, 1)"})).run({"a": 10 ** 400})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert execution.cause.endswith("Invalid arguments in States.MathAdd")


# ----------------------------------------------------------------------------------------------
# JSONata: depth about 100 and a clock, as AWS bounds it; $range at 1,000 items


STACK_OVERFLOW = ("threw an error during evaluation: Stack overflow error: Check for non-terminating recursive "
                  "function. Consider rewriting as tail-recursive.")


def test_a_jsonata_expression_nested_past_depth_100_fails_as_on_aws():
    # AWS (measured): a sum of 200 terms fails with JSONata's stack-overflow text.
    execution = StateMachine(jsonata_output("1" + " + 1" * 199)).run({})
    assert (execution.status, execution.error) == ("FAILED", "States.QueryEvaluationError")
    assert STACK_OVERFLOW in execution.cause
    assert StateMachine(jsonata_output("1" + " + 1" * 40)).run({}).output == {"x": 41}


def test_endless_non_tail_recursion_fails_with_the_stack_overflow_text():
    execution = StateMachine(jsonata_output("( $f := function($n){ $n + $f($n - 1) }; $f(5) )")).run({})
    assert (execution.status, execution.error) == ("FAILED", "States.QueryEvaluationError")
    assert STACK_OVERFLOW in execution.cause


def test_bounded_recursion_still_works():
    execution = StateMachine(jsonata_output("( $f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(20) )")).run({})
    assert execution.output == {"x": 20}


@pytest.mark.parametrize("expression", [
    "( $f := function($x){ $f($x) }; $f(1) )",                       # tail call: constant depth, for ever
    "( $f := function($x){ $x > 0 ? $f($x + 1) : 0 }; $f(1) )",
])
def test_an_endless_jsonata_loop_is_stopped_by_the_clock(monkeypatch, expression):
    monkeypatch.setattr(sfnlab.jsonata, "EVALUATION_SECONDS", 0.2)
    execution = StateMachine(jsonata_output(expression)).run({})
    assert (execution.status, execution.error) == ("FAILED", "States.QueryEvaluationError")
    assert "threw an error during evaluation: Expression evaluation timeout: Check for infinite loop" in execution.cause
    # A Catch sees it like any other evaluation failure.
    branch = jsonata_output(expression)
    del branch["QueryLanguage"]
    caught = {"QueryLanguage": "JSONata", "StartAt": "Try", "States": {
        "Try": {"Type": "Parallel", "Branches": [branch], "End": True,
                "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Handled"}]},
        "Handled": {"Type": "Pass", "Output": "{% $states.input.Error %}", "End": True}}}
    assert StateMachine(caught).run({"v": 1}).output == "States.QueryEvaluationError"


def test_the_clock_starts_again_for_every_evaluation(monkeypatch):
    monkeypatch.setattr(sfnlab.jsonata, "EVALUATION_SECONDS", 0.2)
    machine = StateMachine(jsonata_output("$sum([1..1000])"))
    outputs = [machine.run({}).output for _ in range(3)]
    assert outputs == [{"x": 500500}] * 3


MEMORY = "threw an error during evaluation: Expression evaluation memory limit exceeded: Check for excessive memory usage"
DOUBLING = "($p := function($s, $n) { $n = 0 ? $s : $p($s & $s, $n - 1) }; $length($p('x', N)))"


@pytest.mark.parametrize("expression, output", [
    # The boundaries measured on AWS (TestState), quoted in floci-io/floci#2737.
    ("[1..873782] ~> $count()", 873782),
    ("[1..873783] ~> $count()", None),
    ("$sum([1..900000])", None),
    (DOUBLING.replace("N", "22"), 2 ** 22),
    (DOUBLING.replace("N", "23"), None),
])
def test_jsonata_memory_is_bounded_where_aws_bounds_it(expression, output):
    execution = StateMachine(jsonata_output(expression)).run({})
    if output is None:
        assert (execution.status, execution.error) == ("FAILED", "States.QueryEvaluationError")
        assert MEMORY in execution.cause
    else:
        assert execution.output == {"x": output}


def test_a_value_built_inside_one_library_call_is_stopped_by_the_memory_guard(monkeypatch):
    # A path over a range of ranges grows inside one call, out of sight of the result check.
    monkeypatch.setattr(sfnlab.jsonata, "EVALUATION_GROWTH", 64 << 20)
    execution = StateMachine(jsonata_output("$count([1..100000].[1..100000])")).run({})
    assert (execution.status, execution.error) == ("FAILED", "States.QueryEvaluationError")
    assert MEMORY in execution.cause


def test_jsonata_range_of_a_billion_is_refused_without_making_it():
    execution = StateMachine(jsonata_output("$range(0, 1000000000, 1)")).run({})
    assert (execution.status, execution.error) == ("FAILED", "States.QueryEvaluationError")
    assert "$range function cannot produce more than 1000 items" in execution.cause


def test_a_jsonata_expression_nested_5000_deep_is_refused_at_definition_time():
    with pytest.raises(DefinitionError) as refused:
        StateMachine(jsonata_output("[" * 5000 + "1" + "]" * 5000))
    assert refused.value.diagnostics


def test_a_jsonata_fail_error_that_is_not_a_string_fails_the_evaluation():
    definition = {"QueryLanguage": "JSONata", "StartAt": "F",
                  "States": {"F": {"Type": "Fail", "Error": "{% $states.input %}", "Cause": "c"}}}
    execution = StateMachine(definition).run({"a": 1})
    assert (execution.status, execution.error) == ("FAILED", "States.QueryEvaluationError")
    assert "specified for the field 'Error' returned an unexpected result type. Expected 'string', but was 'object'" \
        in execution.cause


def test_an_error_path_that_selects_a_number_fails_the_state():
    definition = {"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.code", "CausePath": "$.why"}}}
    execution = StateMachine(definition).run({"code": 42, "why": "x"})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert "The value for the field 'ErrorPath' must be a string" in execution.cause
    assert StateMachine(definition).run({"code": "E42", "why": "x"}).error == "E42"


def test_a_catastrophic_jsonata_regex_is_stopped_by_the_clock(monkeypatch):
    monkeypatch.setattr(sfnlab.jsonata, "EVALUATION_SECONDS", 0.2)
    execution = StateMachine(jsonata_output("$match($states.input.s, /(x+x+)+y/)")).run({"s": "x" * 5000})
    assert (execution.status, execution.error) == ("FAILED", "States.QueryEvaluationError")
    assert "Expression evaluation timeout" in execution.cause
    assert StateMachine(jsonata_output("$replace('abcabc', /b(c)/, '$1x')")).run({}).output == {"x": "acxacx"}


@pytest.mark.parametrize("literal", ["/a{2,1}/", "/*/"])
def test_a_broken_jsonata_regex_literal_is_an_invalid_expression(literal):
    diagnostics = sfnlab.validate(jsonata_output(f"$match('a', {literal})"))
    assert [d.code for d in diagnostics] == ["INVALID_JSONATA_EXPRESSION"]
    assert diagnostics[0].location == "/States/P/Output/x"


def test_a_jsonpath_regex_filter_is_refused_before_it_can_backtrack():
    definition = pass_state(InputPath='$.items[?(@.a =~ "(a+)+$")]')
    assert [(d.code, d.location) for d in sfnlab.validate(definition)] == [
        ("SCHEMA_VALIDATION_FAILED", "/States/P/InputPath")]


# ----------------------------------------------------------------------------------------------
# StringMatches: a wildcard matcher in linear time


def _reference(pattern: str, value: str) -> bool:
    """The meaning of a pattern, by a regular expression (fine for short patterns)."""
    parts, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if pattern[i] == "*" else re.escape(pattern[i]))
        i += 1
    return re.fullmatch("".join(parts), value, re.S) is not None


@settings(max_examples=300, deadline=None)
@given(pattern=st.text(alphabet="ab*\\\n", max_size=10), value=st.text(alphabet="ab*\\\n", max_size=12))
def test_string_matches_means_what_the_wildcard_says(pattern, value):
    assert string_matches(value, pattern) == _reference(pattern, value)


@pytest.mark.parametrize("pattern, value, expected", [
    ("*.log", "app.log", True),
    ("*.log", "app.txt", False),
    ("a*b*c", "aXXbYYc", True),
    ("a*b*c", "acb", False),
    ("\\*", "*", True),
    ("\\*", "x", False),
    ("a\\\\b", "a\\b", True),
    ("", "", True),
    ("*", "", True),
    ("ab*ba", "aba", False),   # the first and last pieces may not overlap
])
def test_string_matches_examples(pattern, value, expected):
    assert string_matches(value, pattern) is expected


def test_a_hostile_pattern_is_answered_in_one_pass():
    # A backtracking matcher needs ~10**8 steps for these; the wildcard walks each string once.
    assert not string_matches("a" * 20_000, "*" * 10_000 + "b")
    assert not string_matches("a" * 20_000, "*a" * 5_000 + "b")
    assert string_matches("a" * 20_000 + "b", "*a" * 5_000 + "b")
    choice = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Default": "No",
              "Choices": [{"Variable": "$.s", "StringMatches": "*a" * 5_000 + "b", "Next": "Yes"}]},
        "Yes": {"Type": "Succeed"}, "No": {"Type": "Fail", "Error": "NoMatch"}}}
    assert StateMachine(choice).run({"s": "a" * 50_000}).error == "NoMatch"


def test_wildcard_pieces_are_the_literal_text_between_stars():
    assert Wildcard("a\\*b*c").pieces == ("a*b", "c")


# ----------------------------------------------------------------------------------------------
# Nesting depth: 1,000 levels of JSON (Jackson's default), and no RecursionError at any depth


@pytest.mark.parametrize("as_object", [False, True])
def test_an_input_nested_1000_deep_runs_and_1001_is_refused(as_object):
    machine = StateMachine(pass_state())
    assert machine.run({"v": nested(999, as_object=as_object)}).status == "SUCCEEDED"
    with pytest.raises(InvalidExecutionInput) as refused:
        machine.run({"v": nested(1000, as_object=as_object)})
    assert "nesting depth exceeds the maximum allowed (1000)" in str(refused.value)


def test_an_input_nested_100000_deep_is_refused_cleanly():
    with pytest.raises(InvalidExecutionInput):
        StateMachine(pass_state()).run(nested(100_000))
    sfn = sfnlab.client()
    arn = sfn.create_state_machine(name="deep", definition=json.dumps(pass_state()), roleArn=ROLE)["stateMachineArn"]
    for text in ("[" * 100_000 + "]" * 100_000, json.dumps(nested(1001))):
        with pytest.raises(ClientError) as refused:
            sfn.start_execution(stateMachineArn=arn, input=text)
        assert refused.value.response["Error"]["Code"] == "InvalidExecutionInput"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_a_definition_nested_too_deep_is_refused_with_a_diagnostic(depth):
    definition = pass_state(Parameters=nested(depth, as_object=True))
    diagnostics = sfnlab.validate(definition)
    assert [d.code for d in diagnostics] == ["INVALID_JSON_DESCRIPTION"]
    with pytest.raises(DefinitionError):
        StateMachine(definition)
    text_diagnostics = sfnlab.validate("[" * depth + "]" * depth)
    assert text_diagnostics and text_diagnostics[0].code == "INVALID_JSON_DESCRIPTION"


def test_data_a_loop_nests_too_deep_fails_the_state_with_states_runtime():
    wrap = {"a": {"a": {"a": {"a": {"a": {"a": {"a": {"a": {"a": {"v.$": "$"}}}}}}}}}}  # 10 levels a visit
    definition = {"StartAt": "Wrap", "States": {
        "Wrap": {"Type": "Pass", "Parameters": wrap, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": True, "Next": "Done"}],
                  "Default": "Wrap"},
        "Done": {"Type": "Succeed"}}}
    execution = StateMachine(definition).run({})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert "nested too deeply" in execution.cause


# ----------------------------------------------------------------------------------------------
# Odd text and internal failures


def test_a_lone_surrogate_in_the_data_does_not_crash_the_size_check():
    execution = StateMachine(pass_state()).run({"s": "\ud800"})
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"s": "\ud800"}


def test_an_interrupt_inside_a_task_is_raised_not_left_running():
    # Ctrl-C in a notebook while a Lambda handler runs: the scheduler keeps a task's exception for
    # whoever joins it, and nobody joins the main line; without the guard the execution would
    # stay RUNNING in silence. (A bug inside sfnlab takes the same road.)
    def interrupted(event, context):
        raise KeyboardInterrupt

    machine = StateMachine({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "h", "End": True}}},
                           functions={"h": interrupted})
    with pytest.raises(KeyboardInterrupt):
        machine.run({})


def test_the_wildcard_matches_the_reference_on_random_long_strings():
    rng = random.Random(7)
    for _ in range(200):
        pattern = "".join(rng.choice("ab*") for _ in range(rng.randint(0, 30)))
        value = "".join(rng.choice("ab") for _ in range(rng.randint(0, 60)))
        assert string_matches(value, pattern) == _reference(pattern, value)
