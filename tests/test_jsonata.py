"""AWS's JSONata dialect: definition-time checks, the extra functions, and evaluation rules."""
from __future__ import annotations

import hashlib

import pytest

import sfnlab
from sfnlab import StateMachine

T0 = 1_700_000_000.0


def output_of(expression, input=None, **kw):
    sm = StateMachine({"QueryLanguage": "JSONata", "StartAt": "P",
                       "States": {"P": {"Type": "Pass", "Output": {"v": expression}, "End": True}}}, start_time=T0, **kw)
    ex = sm.run(input or {})
    assert ex.status == "SUCCEEDED", (ex.error, ex.cause)
    return ex.output["v"]


def diagnostics(output):
    return [str(d) for d in sfnlab.validate({"QueryLanguage": "JSONata", "StartAt": "E",
                                             "States": {"E": {"Type": "Pass", "Output": output, "End": True}}})]


def test_a_bare_top_level_reference_is_refused():
    assert diagnostics({"v": "{% phone.mobile %}"}) == [
        "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at the top level is not supported. at /States/E/Output/v"]
    # predicates and later steps are relative to the data already reached
    assert diagnostics("{% $states.input.items[price > 3].name %}") == []


@pytest.mark.parametrize("expression, message", [
    ("{% 1 + %}", "Unexpected end of expression"),
    ("{% $states.input.a ?? 1 %}", 'The symbol "?" cannot be used as a unary operator'),
    ("{% $states.input.a ?: 1 %}", 'The symbol ":" cannot be used as a unary operator'),
])
def test_syntax_errors_and_jsonata_2_1_operators_are_invalid(expression, message):
    assert diagnostics(expression) == [f"INVALID_JSONATA_EXPRESSION: {message} at /States/E/Output"]


def test_aws_functions():
    assert output_of("{% $partition([1,2,3,4,5], 2) %}") == [[1, 2], [3, 4], [5]]
    assert output_of("{% $range(0, 10, 5) %}") == [0, 5, 10]
    assert output_of("{% $hash('abc', 'SHA-256') %}") == hashlib.sha256(b"abc").hexdigest()
    assert output_of("{% $parse('{\"a\": [1]}') %}") == {"a": [1]}
    assert output_of("{% $random(7) %}") == output_of("{% $random(7) %}")
    assert len(output_of("{% $uuid() %}")) == 36


def test_now_reads_the_virtual_clock():
    assert output_of("{% $now() %}") == "2023-11-14T22:13:20.000Z"
    assert output_of("{% $millis() %}") == int(T0 * 1000)


def test_eval_is_not_available():
    sm = StateMachine({"QueryLanguage": "JSONata", "StartAt": "P",
                       "States": {"P": {"Type": "Pass", "Output": "{% $eval('1') %}", "End": True}}})
    assert sm.run({}).error == "States.QueryEvaluationError"


def test_null_is_not_undefined():
    assert output_of("{% $states.input.a %}", {"a": None}) is None


def test_children_of_a_jsonata_map_follow_the_top_level_language():
    sm = StateMachine({"StartAt": "M", "States": {"M": {
        "Type": "Map", "QueryLanguage": "JSONata", "Items": "{% $states.input.xs %}", "End": True,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"x.$": "$"}, "End": True}}}}}})
    assert sm.run({"xs": [1, 2]}).output == [{"x": 1}, {"x": 2}]
