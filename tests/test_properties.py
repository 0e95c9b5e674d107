"""Properties: whatever the definition or input, sfnlab answers with JSON, a States.* error or a
DefinitionError, and never lets a Python exception escape from inside it."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sfnlab
from sfnlab import DefinitionError, StateMachine

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=12)

PATHS = ["$", "$.a", "$.a.b", "$.a[0]", "$.a[*]", "$..b", "$.a[1:]", "$$.Execution.Input", "$.a[?(@.b > 1)]", "$['a']"]

MACHINES = [
    {"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": p, "Parameters": {"x.$": q}, "ResultPath": "$.r",
                                      "OutputPath": "$", "End": True}}}
    for p in ("$", "$.a") for q in PATHS
] + [
    {"StartAt": "C", "States": {"C": {"Type": "Choice", "Default": "D", "Choices": [
        {"Variable": "$.a", "NumericGreaterThan": 1, "Next": "D"},
        {"Variable": "$.a", "StringMatches": "x*", "Next": "D"},
        {"Variable": "$.a", "TimestampLessThanPath": "$.b", "Next": "D"},
        {"Variable": "$.a", "IsNull": True, "Next": "D"}]}, "D": {"Type": "Succeed"}}},
    {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.a", "MaxConcurrencyPath": "$.b", "End": True,
                                      "ItemProcessor": {"StartAt": "W", "States": {
                                          "W": {"Type": "Wait", "SecondsPath": "$", "End": True}}}}}},
    {"StartAt": "W", "States": {"W": {"Type": "Wait", "TimestampPath": "$.a", "End": True}}},
    {"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.a", "CausePath": "$.b"}}},
    {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {
        "Type": "Pass", "Assign": {"n": "{% $count($states.input.a) %}"}, "Next": "C",
        "Output": {"s": "{% $string($states.input.a) %}", "sum": "{% $sum($states.input.a[$type($) = 'number']) %}"}},
        "C": {"Type": "Choice", "Default": "W", "Choices": [{"Condition": "{% $n > 2 %}", "Next": "W"}]},
        "W": {"Type": "Wait", "Seconds": "{% $n %}", "Next": "M"},
        "M": {"Type": "Map", "Items": "{% $states.input.s ? [1] : [] %}", "End": True,
              "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}}}},
    {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True, "Parameters": {
        "f.$": "States.Format('{} {}', $.a, $.b)", "m.$": "States.MathAdd($.a, $.b)", "j.$": "States.StringToJson($.a)",
        "s.$": "States.StringSplit($.a, $.b)", "h.$": "States.Hash($.a, 'SHA-256')",
        "r.$": "States.ArrayRange($.a, $.b, 1)", "g.$": "States.ArrayGetItem($.a, $.b)"}}}},
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(MACHINES) - 1), payload=json_values)
def test_any_input_gives_json_or_a_states_error(index, payload):
    execution = StateMachine(MACHINES[index]).run(payload)
    assert execution.status in ("SUCCEEDED", "FAILED")
    if execution.status == "SUCCEEDED":
        json.dumps(execution.output)
    else:
        assert isinstance(execution.error, str) and execution.error
    assert execution.stop_time >= execution.start_time  # the clock never goes backwards


field_values = json_values | st.sampled_from(PATHS + ["States.Format('x')", "Next", "End", "Pass", "$.a.b[", "{% 1 %}"])
state_bodies = st.dictionaries(
    st.sampled_from(["Type", "Next", "End", "Parameters", "ResultPath", "InputPath", "Choices", "Default", "Seconds",
                     "Branches", "ItemsPath", "Retry", "Catch", "Resource", "Error", "Result", "Iterator"]),
    field_values, max_size=6)


@settings(max_examples=150, deadline=None)
@given(body=state_bodies, start=st.sampled_from(["A", "B"]))
def test_any_definition_loads_or_is_refused_with_a_definition_error(body, start):
    definition = {"StartAt": start, "States": {"A": body}}
    try:
        sfnlab.load(definition)
    except DefinitionError as exc:
        assert exc.message
    diagnostics = sfnlab.validate(json.dumps(definition))
    assert all(d.code and d.message for d in diagnostics)


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=40))
def test_any_text_is_refused_cleanly(text):
    try:
        sfnlab.load(text)
    except DefinitionError as exc:
        assert exc.message
