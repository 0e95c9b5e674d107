"""Unit tests for sfnlab.validation: AWS's static checks of a definition, with AWS's exact texts.

Messages asserted here come from the conformance corpus (recorded AWS answers) or from issue
threads quoting AWS; the corpus-driven tests at the end replay every validation case AWS answered.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from sfnlab.errors import DefinitionError, Diagnostic
from sfnlab.validation import validate

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / "cases"


def machine(states: dict, start: str | None = None, **top: Any) -> dict:
    return {"StartAt": start or next(iter(states)), "States": states, **top}


def one(state: dict, name: str = "S", **top: Any) -> dict:
    return machine({name: state}, **top)


def found(definition: Any, **kwargs: Any) -> list[str]:
    return [str(d) for d in validate(definition, **kwargs)]


PASS_END = {"Type": "Pass", "End": True}


# ----------------------------------------------------------------------------------------------
# The JSON text


def test_text_that_is_not_json_gets_jacksons_message_and_location() -> None:
    [d] = validate("not a definition")
    location = '[Source: (String)"not a definition"; line: 1, column: 4]'
    assert d == Diagnostic(
        "INVALID_JSON_DESCRIPTION",
        "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', "
        f"'true' or 'false')\n at {location}",
        location,
    )


def test_single_quoted_field_name_is_an_unexpected_character() -> None:
    [d] = validate("{'StartAt': 'A'}")
    assert d.code == "INVALID_JSON_DESCRIPTION"
    assert d.message.startswith("Unexpected character (''' (code 39)): was expecting double-quote to start field name")
    assert d.location == "[Source: (String)\"{'StartAt': 'A'}\"; line: 1, column: 3]"  # Jackson points past the character


def test_blank_text_and_non_objects_are_not_definitions() -> None:
    expected = ["SCHEMA_VALIDATION_FAILED: Definition must be a valid JSON object"]
    assert found(" ") == expected
    assert found("[1, 2]") == expected
    assert validate(" ")[0].location is None


def test_a_valid_machine_has_no_diagnostics_as_text_or_dict() -> None:
    assert validate(one(PASS_END)) == []
    assert validate(json.dumps(one(PASS_END))) == []


def test_bytes_and_other_mappings_are_definitions_too_and_the_rest_is_a_diagnostic() -> None:
    import collections
    import types

    import sfnlab

    machine = one(PASS_END)
    given = [json.dumps(machine).encode(), types.MappingProxyType(machine), collections.ChainMap(machine),
             {**machine, "States": types.MappingProxyType(machine["States"])}]
    for definition in given:
        assert validate(definition) == []
        assert sfnlab.StateMachine(definition).run({"a": 1}).status == "SUCCEEDED"
    not_utf8 = validate(b'{"StartAt": "\xff"}')
    assert [d.code for d in not_utf8] == ["INVALID_JSON_DESCRIPTION"] and "not UTF-8" in not_utf8[0].message
    with_a_set = {**machine, "Comment": {1, 2}}
    assert [str(d) for d in validate(with_a_set)] == \
        ["INVALID_JSON_DESCRIPTION: The definition is not JSON: Object of type set is not JSON serializable"]
    with pytest.raises(DefinitionError, match="not JSON"):
        sfnlab.StateMachine(with_a_set)


# ----------------------------------------------------------------------------------------------
# Top level and state fields


def test_required_top_level_fields_in_aws_order() -> None:
    assert found("{}") == ["SCHEMA_VALIDATION_FAILED: These fields are required: [States, StartAt] at /"]
    assert found({"StartAt": "A"}) == ["SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /"]
    assert found({"States": {"A": PASS_END}}) == ["SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /"]


def test_unknown_top_level_field() -> None:
    assert found(one(PASS_END, Coment="typo")) == ["SCHEMA_VALIDATION_FAILED: Field 'Coment' is not supported at /"]


def test_unknown_state_type_lists_the_eight_types() -> None:
    assert found(one({"Type": "TypeThatDoesNotExist", "End": True}, "Bad")) == [
        "SCHEMA_VALIDATION_FAILED: The field 'Type' should have one of these values: "
        "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map] at /States/Bad/Type"
    ]


def test_missing_type() -> None:
    assert found(one({"End": True})) == ["SCHEMA_VALIDATION_FAILED: These fields are required: [Type] at /States/S"]


@pytest.mark.parametrize("state_type, extra", [
    ("Pass", {"Catch": []}), ("Pass", {"Retry": []}), ("Wait", {"Seconds": 1, "Catch": []}),
    ("Succeed", {"Retry": []}), ("Map", {"ItemProcessor": {"StartAt": "I", "States": {"I": PASS_END}},
                                         "TimeoutSeconds": 5}),
    ("Parallel", {"Branches": [one(PASS_END, "B")], "TimeoutSeconds": 5}),
])
def test_field_not_supported_on_a_state_type(state_type: str, extra: dict) -> None:
    state = {"Type": state_type, **extra}
    if state_type != "Succeed":
        state["End"] = True
    field = next(k for k in extra if k in ("Catch", "Retry", "TimeoutSeconds"))
    assert found(one(state)) == [f"SCHEMA_VALIDATION_FAILED: Field '{field}' is not supported at /States/S"]


def test_next_on_a_terminal_type_is_not_supported() -> None:
    assert found(machine({"S": {"Type": "Succeed", "Next": "T"}, "T": PASS_END})) == [
        "SCHEMA_VALIDATION_FAILED: Field 'Next' is not supported at /States/S"
    ]


def test_next_and_end_both_or_neither() -> None:
    both = machine({"A": {"Type": "Pass", "Next": "B", "End": True}, "B": PASS_END})
    assert found(both) == ["SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: "
                           "[Next, End] at /States/A"]
    neither = one({"Type": "Pass"})
    assert [d.location for d in validate(neither)] == ["/States/S"]


def test_state_name_longer_than_80_characters() -> None:
    name = "N" * 81
    [d] = validate(one(PASS_END, name))
    assert (d.code, d.location) == ("INVALID_STATE_NAME", f"/States/{name}")
    assert validate(one(PASS_END, "N" * 80)) == []


# ----------------------------------------------------------------------------------------------
# Query languages


def test_jsonpath_field_in_a_jsonata_state() -> None:
    state = {"Type": "Pass", "QueryLanguage": "JSONata", "Parameters": {}, "End": True}
    assert found(one(state)) == [
        "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field 'Parameters' is only "
        "supported for the 'JSONPath' QueryLanguage at /States/S"
    ]


def test_jsonata_field_in_a_jsonpath_state() -> None:
    assert found(one({"Type": "Pass", "Output": {}, "End": True})) == [
        "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONPath', but field 'Output' is only "
        "supported for the 'JSONata' QueryLanguage at /States/S"
    ]


def test_jsonata_machine_cannot_switch_a_state_back() -> None:
    definition = one({"Type": "Pass", "End": True, "QueryLanguage": "JSONPath"}, "Pass", QueryLanguage="JSONata")
    assert found(definition) == [
        "SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state "
        "machine at /States/Pass"
    ]


def test_children_of_a_jsonata_map_follow_the_top_level_language() -> None:
    inner = {"Type": "Pass", "Output": {}, "End": True}
    definition = one({"Type": "Map", "QueryLanguage": "JSONata", "End": True,
                      "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "P", "States": {"P": inner}}},
                     "M")
    assert [(d.message.split(",")[0], d.location) for d in validate(definition)] == [
        ("The QueryLanguage is set to 'JSONPath'", "/States/M/ItemProcessor/States/P")
    ]


def test_item_processor_cannot_declare_a_query_language() -> None:
    definition = one({"Type": "Map", "End": True,
                      "ItemProcessor": {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": PASS_END}}}, "M")
    assert found(definition) == ["SCHEMA_VALIDATION_FAILED: Field 'QueryLanguage' is not supported "
                                 "at /States/M/ItemProcessor"]


def test_assign_is_allowed_in_both_languages_and_jsonata_fields_are_accepted() -> None:
    assert validate(one({"Type": "Pass", "Assign": {"x.$": "$.a", "y": 1}, "End": True})) == []
    jsonata = machine({
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": {"a": "{% $states.input %}"},
              "Output": "{% $states.result %}", "Assign": {"v": 1}, "TimeoutSeconds": "{% 5 %}", "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $v = 1 %}", "Next": "W", "Output": {}}], "Default": "F"},
        "W": {"Type": "Wait", "Seconds": "{% 1 %}", "Next": "M"},
        "M": {"Type": "Map", "Items": "{% [1] %}", "ItemProcessor": {"StartAt": "P", "States": {"P": PASS_END}},
              "Next": "F"},
        "F": {"Type": "Fail", "Error": "{% 'E' %}", "Cause": "{% 'C' %}"},
    }, QueryLanguage="JSONata")
    assert validate(jsonata) == []


def test_invalid_query_language_value() -> None:
    [d] = validate(one(PASS_END, QueryLanguage="Python"))
    assert (d.message, d.location) == ("The field 'QueryLanguage' should have one of these values: "
                                       "[JSONPath, JSONata]", "/QueryLanguage")


# ----------------------------------------------------------------------------------------------
# Paths and payload templates


def test_dollar_key_needs_a_path_or_an_intrinsic_call() -> None:
    state = {"Type": "Pass", "Parameters": {"parsed.$": "States.Format('He said, \\\"Hello\\\"')"}, "End": True}
    assert found(one(state, "IntrinsicEscape")) == [
        "SCHEMA_VALIDATION_FAILED: The value for the field 'parsed.$' must be a valid JSONPath or a valid "
        "intrinsic function call at /States/IntrinsicEscape/Parameters"
    ]


def test_dollar_key_location_is_the_object_holding_it() -> None:
    state = {"Type": "Pass", "Parameters": {"outer": {"bad.$": "not a path"}}, "End": True}
    assert [d.location for d in validate(one(state))] == ["/States/S/Parameters/outer"]


def test_dollar_keys_accept_paths_context_variables_and_intrinsics() -> None:
    state = {"Type": "Pass", "End": True, "Parameters": {
        "a.$": "$.x[0].y", "b.$": "$$.Execution.Id", "c.$": "$var", "d.$": "States.Format('{}', $.x)",
        "e.$": "$.items[?(@.n > 1)]", "list": [{"f.$": "$.g"}]}}
    assert validate(one(state)) == []


def test_result_path_must_be_a_reference_path() -> None:
    assert found(one({"Type": "Pass", "ResultPath": "$.a[*]", "End": True})) == [
        "SCHEMA_VALIDATION_FAILED: Value is not a Reference Path at /States/S/ResultPath"
    ]
    assert validate(one({"Type": "Pass", "ResultPath": None, "End": True})) == []
    assert validate(one({"Type": "Pass", "ResultPath": "$.foo-result", "End": True})) == []


def test_map_number_paths_cannot_read_the_context_but_items_path_can() -> None:
    processor = {"StartAt": "P", "States": {"P": PASS_END}}
    bad = one({"Type": "Map", "ItemProcessor": processor, "MaxConcurrencyPath": "$$.Execution.Input.n", "End": True})
    assert found(bad) == ["SCHEMA_VALIDATION_FAILED: Value is not a Reference Path at /States/S/MaxConcurrencyPath"]
    good = one({"Type": "Map", "ItemProcessor": processor, "ItemsPath": "$$.Execution.Input.items", "End": True})
    assert validate(good) == []


# ----------------------------------------------------------------------------------------------
# Wait, Task, Fail


@pytest.mark.parametrize("timestamp", ["2016-13-05T21:29:29Z", "05-12-2016T21:29:29Z", "2016-12-05T25:29:29Z",
                                       "{% '2016-03-14T01:59:00Z' %}", "2016-12-05 21:29:29Z",
                                       "2016-12-05T21:29:29"])
def test_wait_timestamp_must_be_rfc3339(timestamp: str) -> None:
    definition = one({"Type": "Wait", "Timestamp": timestamp, "End": True}, "WaitUntil")
    assert DefinitionError(validate(definition)).message == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp "
        "at /States/WaitUntil/Timestamp'"
    )


def test_wait_needs_exactly_one_of_its_four_fields() -> None:
    two = one({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True})
    assert found(two) == ["SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: "
                          "[Seconds, Timestamp, SecondsPath, TimestampPath] at /States/S"]
    [none] = validate(one({"Type": "Wait", "End": True}))
    assert none.location == "/States/S" and "[Seconds, Timestamp, SecondsPath, TimestampPath]" in none.message


def test_wait_seconds_bounds() -> None:
    assert found(one({"Type": "Wait", "Seconds": 10000000000000000, "End": True}, "Wait")) == [
        "SCHEMA_VALIDATION_FAILED: Maximum value is 99999999 at /States/Wait/Seconds"
    ]
    assert found(one({"Type": "Wait", "Seconds": -1, "End": True})) == [
        "SCHEMA_VALIDATION_FAILED: Minimum value is 0 at /States/S/Seconds"
    ]


def test_task_timeouts() -> None:
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
    assert found(one({**task, "TimeoutSeconds": 0})) == [
        "SCHEMA_VALIDATION_FAILED: Minimum value is 1 at /States/S/TimeoutSeconds"
    ]
    assert found(one({**task, "TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t"})) == [
        "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: "
        "[TimeoutSeconds, TimeoutSecondsPath] at /States/S"
    ]
    [d] = validate(one({**task, "TimeoutSeconds": 5, "HeartbeatSeconds": 5}))
    assert (d.code, d.location) == ("SCHEMA_VALIDATION_FAILED", "/States/S")
    assert validate(one({**task, "TimeoutSeconds": 5, "HeartbeatSeconds": 4})) == []
    assert validate(one({**task, "TimeoutSecondsPath": "$.t", "HeartbeatSecondsPath": "$.h"})) == []


def test_task_requires_a_resource() -> None:
    assert found(one({"Type": "Task", "End": True})) == [
        "SCHEMA_VALIDATION_FAILED: These fields are required: [Resource] at /States/S"
    ]


@pytest.mark.parametrize("credentials", [{}, {"InvalidField": "invalid"}])
def test_credentials_need_a_role_arn(credentials: dict) -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": "{% $states.input %}",
             "Credentials": credentials, "End": True}
    assert DefinitionError(validate(one(state, "State0", QueryLanguage="JSONata"))).message == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was "
        "missing at /States/State0/Credentials'"
    )


def test_unknown_optimized_integration() -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:query", "End": True}
    assert found(one(state, "Query")) == [
        "SCHEMA_VALIDATION_FAILED: The resource provided arn:aws:states:::dynamodb:query is not recognized. The "
        "value is not a valid resource ARN, or the resource is not available in this region. at /States/Query/Resource"
    ]
    assert validate(one({**state, "Resource": "arn:aws:states:::aws-sdk:dynamodb:query"})) == []


@pytest.mark.parametrize("resource, message", [
    ("arn:aws:states:us-east-1:111111111111:activity:a", "Express state machine does not support Activity ARN"),
    ("arn:aws:states:::states:startExecution.sync", "Express state machine does not support '.sync' service "
                                                    "integration"),
    ("arn:aws:states:::states:startExecution.sync:2", "Express state machine does not support '.sync' service "
                                                      "integration"),
    ("arn:aws:states:::sns:publish.waitForTaskToken", "Express state machine does not support "
                                                      "'.waitForTaskToken' service integration "),
])
def test_express_machines_refuse_activities_and_waiting_patterns(resource: str, message: str) -> None:
    definition = one({"Type": "Task", "Resource": resource, "End": True}, "T")
    assert validate(definition, type="EXPRESS") == [
        Diagnostic("SCHEMA_VALIDATION_FAILED", message, "/States/T/Resource")
    ]
    assert validate(definition, type="STANDARD") == []


def test_fail_error_and_error_path_are_exclusive() -> None:
    assert found(one({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"})) == [
        "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [Error, ErrorPath] at /States/S"
    ]
    assert validate(one({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('{}', $.c)"})) == []


# ----------------------------------------------------------------------------------------------
# Retry and Catch


def _task_with(**fields: Any) -> dict:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True, **fields}


def test_states_all_must_be_alone_and_last() -> None:
    retry = [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["Custom"]}]
    assert found(one(_task_with(Retry=retry), "lambdaInvoke")) == [
        "SCHEMA_VALIDATION_FAILED: States.ALL must appear alone and at end of list "
        "at /States/lambdaInvoke/Retry[0]/ErrorEquals[0]"
    ]
    catch = [{"ErrorEquals": ["Custom", "States.ALL"], "Next": "H"}]
    definition = machine({"T": _task_with(Catch=catch), "H": PASS_END})
    assert found(definition) == [
        "SCHEMA_VALIDATION_FAILED: States.ALL must appear alone and at end of list at /States/T/Catch[0]/ErrorEquals[1]"
    ]
    assert validate(one(_task_with(Retry=[{"ErrorEquals": ["Custom"]}, {"ErrorEquals": ["States.ALL"]}]))) == []


def test_retrier_bounds() -> None:
    retry = [{"ErrorEquals": ["E"], "MaxAttempts": -1, "BackoffRate": 0.5}]
    assert found(one(_task_with(Retry=retry))) == [
        "SCHEMA_VALIDATION_FAILED: Minimum value is 0 at /States/S/Retry[0]/MaxAttempts",
        "SCHEMA_VALIDATION_FAILED: Minimum value is 1.0 at /States/S/Retry[0]/BackoffRate",
    ]


def test_retrier_and_catcher_required_fields() -> None:
    assert found(one(_task_with(Retry=[{}]))) == [
        "SCHEMA_VALIDATION_FAILED: These fields are required: [ErrorEquals] at /States/S/Retry[0]"
    ]
    assert found(one(_task_with(Catch=[{"ErrorEquals": ["E"]}]))) == [
        "SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/S/Catch[0]"
    ]
    assert found(one(_task_with(Retry=[{"ErrorEquals": []}]))) == [
        "SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/S/Retry[0]/ErrorEquals"
    ]


# ----------------------------------------------------------------------------------------------
# Choice


def test_choice_requires_choices_and_rules_require_next() -> None:
    assert found(machine({"Choose": {"Type": "Choice", "Default": "D"}, "D": PASS_END})) == [
        "SCHEMA_VALIDATION_FAILED: These fields are required: [Choices] at /States/Choose"
    ]
    rule = {"Variable": "$", "StringMatches": "Test"}
    assert found(machine({"Choice": {"Type": "Choice", "Choices": [rule], "Default": "D"}, "D": PASS_END})) == [
        "SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/Choice/Choices[0]"
    ]


def test_choice_rule_value_types_and_timestamps() -> None:
    rules = [{"Variable": "$.n", "NumericEquals": "1", "Next": "D"},
             {"Variable": "$.t", "TimestampEquals": "yesterday", "Next": "D"},
             {"Variable": "$.n", "NumericEqualsPath": "$.m", "Next": "D"},
             {"And": [{"Variable": "$.a", "IsPresent": True}, {"Not": {"Variable": "$.b", "BooleanEquals": False}}],
              "Next": "D"}]
    definition = machine({"C": {"Type": "Choice", "Choices": rules, "Default": "D"}, "D": PASS_END})
    assert [(d.location, d.message) for d in validate(definition)][1] == (
        "/States/C/Choices[1]/TimestampEquals", "String does not match RFC3339 timestamp")
    assert [d.location for d in validate(definition)] == ["/States/C/Choices[0]/NumericEquals",
                                                          "/States/C/Choices[1]/TimestampEquals"]


def test_choice_rule_language_mismatch() -> None:
    rule = {"Variable": "$.a", "IsPresent": True, "Next": "D"}
    definition = machine({"C": {"Type": "Choice", "Choices": [rule], "Default": "D"}, "D": PASS_END},
                         QueryLanguage="JSONata")
    assert found(definition)[:2] == [
        "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field 'Variable' is only supported "
        "for the 'JSONPath' QueryLanguage at /States/C/Choices[0]",
        "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field 'IsPresent' is only supported "
        "for the 'JSONPath' QueryLanguage at /States/C/Choices[0]",
    ]


# ----------------------------------------------------------------------------------------------
# Map and Parallel


def _map(**fields: Any) -> dict:
    return {"Type": "Map", "End": True, "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
            "ExecutionType": "STANDARD"}, "StartAt": "I", "States": {"I": PASS_END}}, **fields}


def test_map_number_fields() -> None:
    assert found(one(_map(MaxConcurrency=-1))) == ["SCHEMA_VALIDATION_FAILED: Minimum value is 0 at "
                                                   "/States/S/MaxConcurrency"]
    assert found(one(_map(ToleratedFailurePercentage=101))) == [
        "SCHEMA_VALIDATION_FAILED: Maximum value is 100.0 at /States/S/ToleratedFailurePercentage"
    ]
    assert found(one(_map(ToleratedFailureCount=1, ToleratedFailureCountPath="$.n"))) == [
        "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: "
        "[ToleratedFailureCount, ToleratedFailureCountPath] at /States/S"
    ]


def test_map_distributed_fields_are_accepted() -> None:
    definition = one(_map(
        ItemReader={"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV",
                    "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 10}, "Parameters": {"Bucket.$": "$.b", "Key": "k"}},
        ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"x.$": "$.x"}},
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"}},
        ToleratedFailurePercentage=5, ToleratedFailureCountPath="$.n", Label="TestMap", MaxConcurrency=10,
        ItemSelector={"v.$": "$$.Map.Item.Value"}))
    assert validate(definition) == []


def test_map_processor_mode_enum_and_legacy_iterator() -> None:
    bad = one({"Type": "Map", "End": True, "ItemProcessor": {"ProcessorConfig": {"Mode": "FAST"}, "StartAt": "I",
                                                             "States": {"I": PASS_END}}})
    assert found(bad) == ["SCHEMA_VALIDATION_FAILED: The field 'Mode' should have one of these values: "
                          "[INLINE, DISTRIBUTED] at /States/S/ItemProcessor/ProcessorConfig/Mode"]
    legacy = one({"Type": "Map", "End": True, "Parameters": {"i.$": "$$.Map.Item.Value"},
                  "Iterator": {"StartAt": "I", "States": {"I": PASS_END}}})
    assert validate(legacy) == []
    both = one({"Type": "Map", "End": True, "Iterator": {"StartAt": "I", "States": {"I": PASS_END}},
                "ItemProcessor": {"StartAt": "J", "States": {"J": PASS_END}}})
    assert found(both) == ["SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: "
                           "[ItemProcessor, Iterator] at /States/S"]


def _label_message(label_args: str, definition: str) -> str:
    return f"Error=ValueError Args=[{label_args}] in definition '{definition}'."


@pytest.mark.parametrize("label, args", [
    ("", "'Label cannot be empty'"),
    ("1" * 41, "'Label cannot exceed 40 characters'"),
    ("label_,", "\"Label contains invalid character: ','\""),
    ('label_"', "'Label contains invalid character: \\'\"\\''"),
    ("label_\\", "\"Label contains invalid character: '\\\\\\\\'\""),
    ("label_\n", "\"Label contains invalid character: '\\\\n'\""),
    ("label_\x00", "\"Label contains invalid character: '\\\\x00'\""),
    ("label_\x9f", "\"Label contains invalid character: '\\\\x9f'\""),
])
def test_map_label_errors_use_aws_raw_format(label: str, args: str) -> None:
    text = json.dumps(one(_map(Label=label), "MapState"))
    [d] = validate(text)
    assert (d.code, d.location) == ("INVALID_LABEL_NAME", "/States/MapState/Label")
    assert d.message == _label_message(args, text)
    assert DefinitionError([d]).message == d.message


def test_label_message_echoes_the_definition_text_exactly_as_given() -> None:
    text = '{ "StartAt":"M",\n "States":{"M":' + json.dumps(_map(Label="")) + "}}"
    [d] = validate(text)
    assert d.message.endswith(f"in definition '{text}'.")


def test_parallel_branches() -> None:
    assert found(one({"Type": "Parallel", "Branches": [], "End": True}, "StateName")) == [
        "SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/StateName/Branches"
    ]
    nested = one({"Type": "Parallel", "End": True, "Branches": [machine({"B": {"Type": "Pass", "Bogus": 1,
                                                                                  "End": True}})]}, "P")
    assert found(nested) == ["SCHEMA_VALIDATION_FAILED: Field 'Bogus' is not supported at /States/P/Branches[0]/States/B"]


# ----------------------------------------------------------------------------------------------
# Transitions, reachability, names


def test_missing_targets_use_the_word_next_everywhere_then_unreachable_states() -> None:
    definition = machine({
        "A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "NOPE1",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "NOPE2"}]},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "NOPE3"}], "Default": "NOPE4"},
        "E": PASS_END,
    })
    assert found(definition) == [
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: NOPE1 at /States/A/Next",
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: NOPE2 at /States/A/Catch[0]/Next",
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: NOPE3 at /States/C/Choices[0]/Next",
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: NOPE4 at /States/C/Default",
        'MISSING_TRANSITION_TARGET: State "C" is not reachable. at /States/C',
        'MISSING_TRANSITION_TARGET: State "E" is not reachable. at /States/E',
    ]


def test_createstatemachine_message_for_dangling_next_and_unreachable() -> None:
    definition = machine({"pass1": {"Type": "Pass", "Next": "pass3"}, "pass2": PASS_END})
    assert DefinitionError(validate(definition)).message == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at "
        "/States/pass1/Next, MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2'"
    )


def test_no_terminal_state_has_no_location_and_hides_unreachable_states() -> None:
    loop = {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}
    assert validate(machine(loop)) == [Diagnostic("MISSING_END_STATE", "Workflow has no terminal state")]
    assert DefinitionError(validate(machine(loop))).message == (
        "Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'"
    )
    with_orphan = machine({**loop, "D": {"Type": "Pass", "Next": "A"}})
    assert found(with_orphan) == ["MISSING_END_STATE: Workflow has no terminal state"]
    with_terminal = machine({**loop, "C": PASS_END})
    assert found(with_terminal) == ['MISSING_TRANSITION_TARGET: State "C" is not reachable. at /States/C']


def test_dangling_next_comes_before_missing_end_state() -> None:
    assert found(one({"Type": "Pass", "Next": "NOPE"}, "A")) == [
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: NOPE at /States/A/Next",
        "MISSING_END_STATE: Workflow has no terminal state",
    ]


def test_targets_are_scoped_to_their_container() -> None:
    inner = {"StartAt": "I", "States": {"I": {"Type": "Pass", "Next": "Outer"}}}
    definition = machine({"M": {"Type": "Map", "ItemProcessor": inner, "Next": "Outer"}, "Outer": PASS_END})
    assert found(definition) == [
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Outer at /States/M/ItemProcessor/States/I/Next",
        "MISSING_END_STATE: Workflow has no terminal state",
    ]


def test_state_names_are_unique_across_nested_machines() -> None:
    definition = machine({"M": {"Type": "Map", "Next": "Final State",
                                "Iterator": {"StartAt": "Final State", "States": {"Final State": PASS_END}}},
                          "Final State": PASS_END})
    [d] = validate(definition)
    assert (d.code, d.message) == ("DUPLICATE_STATE_NAME", "Duplicate State name: Final State")


def test_duplicate_keys_in_the_text_are_duplicate_state_names() -> None:
    text = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "A": {"Type": "Succeed"}}}'
    assert [d.code for d in validate(text)] == ["DUPLICATE_STATE_NAME"]


# ----------------------------------------------------------------------------------------------
# DefinitionError


def test_definition_error_joins_diagnostics_like_aws() -> None:
    error = DefinitionError([Diagnostic("A", "one", "/x"), Diagnostic("B", "two")])
    assert error.message == "Invalid State Machine Definition: 'A: one at /x, B: two at null'"


# ----------------------------------------------------------------------------------------------
# The conformance corpus: every validation AWS answered, and no false rejection of a working case


def _cases() -> list[dict]:
    if not CORPUS.is_dir():
        return []
    return [json.loads(p.read_text()) for p in sorted(CORPUS.glob("*.json"))]


def _text(case: dict) -> str:
    return case["definition_text"] if "definition_text" in case else json.dumps(case["definition"])


def _normalise(text: str, case: dict) -> str:
    for rule in case.get("normalise") or []:
        text = re.sub(rule["pattern"], rule["replacement"], text)
    return text.replace("us-east-1", "<region>").replace("arn:aws:", "arn:<partition>:")


def _need_corpus() -> list[dict]:
    cases = _cases()
    if not cases:
        pytest.skip(f"conformance corpus not found at {CORPUS}")
    return cases


def test_corpus_create_state_machine_messages() -> None:
    cases = [c for c in _need_corpus() if c["api"] == "CreateStateMachine"]
    wrong = []
    for case in cases:
        diagnostics = validate(_text(case), type=case.get("state_machine_type") or "STANDARD")
        message = DefinitionError(diagnostics).message if diagnostics else "<accepted>"
        if _normalise(message, case) != case["expected"]["cause"]:
            wrong.append((case["id"], message))
    assert cases and wrong == []


def test_corpus_validate_state_machine_definition() -> None:
    cases = [c for c in _need_corpus() if c["api"] == "ValidateStateMachineDefinition"]
    for case in cases:
        diagnostics = validate(_text(case), type=case.get("state_machine_type") or "STANDARD")
        result = "FAIL" if any(d.severity == "ERROR" for d in diagnostics) else "OK"
        assert (result, [d.as_dict() for d in diagnostics]) == (case["expected"]["result"],
                                                               case["expected"]["diagnostics"]), case["id"]
    assert cases


def test_corpus_working_definitions_are_accepted() -> None:
    rejected = []
    for case in _need_corpus():
        api = case["api"]
        full_machine = api == "TestState" and (case.get("test_state_params") or {}).get("stateName")
        if case["expected"].get("status") == "API_ERROR" or not (
                api in ("StartExecution", "StartSyncExecution") or full_machine):
            continue
        machine_type = "EXPRESS" if api == "StartSyncExecution" else case.get("state_machine_type") or "STANDARD"
        errors = [str(d) for d in validate(_text(case), type=machine_type) if d.severity == "ERROR"]
        if errors:
            rejected.append((case["id"], errors))
    assert rejected == []
