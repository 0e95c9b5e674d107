"""The engine through the pythonic surface: data flow, states, errors, Retry/Catch, virtual time."""
from __future__ import annotations

import json

import pytest

import sfnlab
from sfnlab import StateMachine

T0 = 1_700_000_000.0
AFTER_REDRIVE_LAUNCH = 1_710_000_000.0


def machine(states: dict, start: str | None = None, functions=None, **top) -> StateMachine:
    definition = {"StartAt": start or next(iter(states)), "States": states, **top}
    return StateMachine(definition, functions=functions, start_time=T0)


def run(states: dict, input=None, **kw):
    return machine(states, **kw).run(input if input is not None else {})


def types(execution) -> list[str]:
    return [e["type"] for e in execution.events]


# -- data flow ---------------------------------------------------------------------------------

def test_pass_result_and_result_path_merge_into_raw_input():
    ex = run({"P": {"Type": "Pass", "InputPath": "$.a", "Result": {"x": 1}, "ResultPath": "$.r", "End": True}},
             {"a": {"b": 2}, "keep": True})
    # ResultPath merges into the *raw* input, not the InputPath selection
    assert ex.output == {"a": {"b": 2}, "keep": True, "r": {"x": 1}}


def test_parameters_paths_context_and_literals():
    ex = run({"P": {"Type": "Pass", "Parameters": {"v.$": "$.a[1]", "lit": "$.a", "name.$": "$$.State.Name",
                                                   "nested": {"n.$": "$.a[0]"}}, "End": True}},
             {"a": [10, 20]})
    assert ex.output == {"v": 20, "lit": "$.a", "name": "P", "nested": {"n": 10}}


def test_equal_literals_of_other_json_types_stay_apart_across_states():
    # Literal fields are shared between states when they are the same; 1, 1.0 and true are equal
    # in Python but not in JSON, and neither are 0.0 and -0.0.
    literals = [1, 1.0, True, 0.0, -0.0, "1", None]
    states = {f"S{i}": {"Type": "Pass", "Parameters": {"v": v, "n": i}, "ResultPath": f"$.r{i}",
                        **({"Next": f"S{i + 1}"} if i + 1 < len(literals) else {"End": True})}
              for i, v in enumerate(literals)}
    ex = run(states, {})
    assert ex.events[-1]["executionSucceededEventDetails"]["output"] == (
        '{"r0":{"v":1,"n":0},"r1":{"v":1.0,"n":1},"r2":{"v":true,"n":2},"r3":{"v":0.0,"n":3},'
        '"r4":{"v":-0.0,"n":4},"r5":{"v":"1","n":5},"r6":{"v":null,"n":6}}')


def test_a_null_query_language_is_as_absent_everywhere():
    # Validation treats "QueryLanguage": null as absent; compiling treated it as a third language
    # (found by the long fuzz run: a Pass state's Assign then crashed with a TypeError).
    ex = StateMachine({"StartAt": "S", "QueryLanguage": None,
                       "States": {"S": {"Type": "Pass", "Assign": {"x.$": "$.a"}, "End": True}}}).run({"a": 1})
    assert (ex.status, ex.output) == ("SUCCEEDED", {"a": 1})
    ex = StateMachine({"StartAt": "S", "QueryLanguage": "JSONata",
                       "States": {"S": {"Type": "Pass", "QueryLanguage": None, "Output": "{% 1 + 1 %}",
                                        "End": True}}}).run({})
    assert (ex.status, ex.output) == ("SUCCEEDED", 2)


def test_null_paths():
    ex = run({"P": {"Type": "Pass", "InputPath": None, "Result": 5, "ResultPath": None, "Next": "Q"},
              "Q": {"Type": "Pass", "OutputPath": None, "End": True}}, {"a": 1})
    assert json.loads(ex.events[2]["stateExitedEventDetails"]["output"]) == {"a": 1}  # ResultPath null keeps input
    assert ex.output == {}  # OutputPath null gives {}


def test_indefinite_paths_return_lists():
    ex = run({"P": {"Type": "Pass", "Parameters": {"ids.$": "$.items[*].id", "big.$": "$.items[?(@.n > 1)].id",
                                                   "none.$": "$.missing[*]"}, "End": True}},
             {"items": [{"id": "a", "n": 1}, {"id": "b", "n": 2}]})
    assert ex.output == {"ids": ["a", "b"], "big": ["b"], "none": []}


def test_missing_path_is_states_runtime_with_aws_cause():
    ex = run({"P": {"Type": "Pass", "Parameters": {"v.$": "$.nope"}, "End": True}}, {"a": 1})
    assert ex.status == "FAILED"
    assert ex.error == "States.Runtime"
    assert ex.cause == ("An error occurred while executing the state 'P' (entered at the event id #2). "
                        "The JSONPath '$.nope' specified for the field 'v.$' could not be found in the input '{\"a\":1}'")


def test_a_path_function_is_accepted_but_finds_nothing_as_on_aws():
    # AWS re:Post: "$.Jobs.sum()" in Parameters passes validation, then fails with this cause.
    jobs = {"Jobs": [0, 1, 0]}
    states = {"Sum Jobs": {"Type": "Pass", "Parameters": {"Jobs.$": "$.Jobs.sum()"}, "End": True}}
    assert sfnlab.client().validate_state_machine_definition(
        definition=json.dumps({"StartAt": "Sum Jobs", "States": states}))["result"] == "OK"
    ex = run(states, jobs)
    assert (ex.status, ex.error) == ("FAILED", "States.Runtime")
    assert ex.cause == ("An error occurred while executing the state 'Sum Jobs' (entered at the event id #2). "
                        "The JSONPath '$.Jobs.sum()' specified for the field 'Jobs.$' could not be found in the "
                        "input '{\"Jobs\":[0,1,0]}'")
    ex = run({"P": {"Type": "Pass", "InputPath": "$.Jobs.length()", "End": True}}, jobs)
    assert ex.error == "States.Runtime" and "Invalid path '$.Jobs.length()'" in ex.cause
    # A Reference Path may not use a function at all.
    with pytest.raises(sfnlab.DefinitionError, match="Reference Path at /States/P/ResultPath"):
        machine({"P": {"Type": "Pass", "ResultPath": "$.Jobs.length()", "End": True}})
    # What comes before the function must still be a valid path.
    with pytest.raises(sfnlab.DefinitionError, match="/States/P/Parameters"):
        machine({"P": {"Type": "Pass", "Parameters": {"n.$": "$.a[?(.length()"}, "End": True}})


def test_output_path_miss_uses_jayway_wording():
    ex = run({"P": {"Type": "Pass", "OutputPath": "$.x.y", "End": True}}, {"a": 1})
    assert ex.cause.endswith("Invalid path '$.x.y' : Missing property in path $['x']")


def test_result_path_on_non_object_is_result_path_match_failure():
    ex = run({"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.r", "End": True}}, "text")
    assert ex.error == "States.ResultPathMatchFailure"


def test_intrinsics_in_parameters():
    ex = run({"P": {"Type": "Pass", "Parameters": {"s.$": "States.Format('{} has {} items', $.n, States.ArrayLength($.a))"},
                    "End": True}}, {"n": "cart", "a": [1, 2, 3]})
    assert ex.output == {"s": "cart has 3 items"}


# -- Choice ------------------------------------------------------------------------------------

CHOICE = {
    "C": {"Type": "Choice", "Default": "D",
          "Choices": [{"And": [{"Variable": "$.n", "NumericGreaterThanEquals": 10},
                               {"Not": {"Variable": "$.s", "StringMatches": "*.tmp"}}], "Next": "Big"},
                      {"Variable": "$.n", "NumericLessThanPath": "$.limit", "Next": "Small"}]},
    "Big": {"Type": "Pass", "Result": "big", "End": True},
    "Small": {"Type": "Pass", "Result": "small", "End": True},
    "D": {"Type": "Pass", "Result": "default", "End": True},
}


@pytest.mark.parametrize("payload, expected", [
    ({"n": 10, "s": "a.txt", "limit": 0}, "big"),
    ({"n": 10, "s": "a.tmp", "limit": 20}, "small"),
    ({"n": "10", "s": "a", "limit": 20}, "default"),  # a string is never numeric
    ({"n": 5, "s": "x", "limit": 5}, "default"),
])
def test_choice_rules(payload, expected):
    assert run(CHOICE, payload).output == expected


def test_no_choice_matched():
    ex = run({"C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": True, "Next": "X"}]},
              "X": {"Type": "Succeed"}}, {})
    assert (ex.error, ex.status) == ("States.NoChoiceMatched", "FAILED")


# -- Wait and the virtual clock ----------------------------------------------------------------

def test_wait_costs_no_real_time_and_moves_the_clock():
    ex = run({"W": {"Type": "Wait", "Seconds": 3600, "Next": "T"},
              "T": {"Type": "Wait", "TimestampPath": "$.until", "End": True}},
             {"until": "2023-11-15T00:00:00Z"})
    assert ex.status == "SUCCEEDED"
    # Seconds first, then until the timestamp
    assert ex.events[3]["timestamp"] - T0 == 3600
    assert ex.stop_time == pytest.approx(1_700_006_400.0)


def test_seconds_path_must_be_a_non_negative_integer():
    ex = run({"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}, {"s": 1.5})
    assert ex.cause.endswith("The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5")


# -- Errors, Retry, Catch ----------------------------------------------------------------------

class PaymentGatewayTimeout(Exception):
    pass


def flaky(failures: int):
    calls = {"n": 0}

    def handler(event, context):
        calls["n"] += 1
        if calls["n"] <= failures:
            raise PaymentGatewayTimeout("gateway slow")
        return {"paid": True}

    return handler, calls


def test_retry_back_off_on_the_virtual_clock():
    handler, calls = flaky(3)
    ex = run({"T": {"Type": "Task", "Resource": "Pay", "End": True,
                    "Retry": [{"ErrorEquals": ["PaymentGatewayTimeout"], "IntervalSeconds": 2, "MaxAttempts": 3,
                               "BackoffRate": 2.0}]}}, functions={"Pay": handler})
    assert ex.status == "SUCCEEDED" and calls["n"] == 4
    scheduled = [e["timestamp"] - T0 for e in ex.events if e["type"] == "LambdaFunctionScheduled"]
    assert scheduled == [0, 2, 6, 14]  # 2 s -> 4 s -> 8 s


def test_retry_exhausted_then_catch_with_result_path():
    handler, _ = flaky(10)
    ex = run({"T": {"Type": "Task", "Resource": "Pay", "Next": "Ok",
                    "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1, "IntervalSeconds": 1}],
                    "Catch": [{"ErrorEquals": ["PaymentGatewayTimeout"], "ResultPath": "$.error", "Next": "Bad"}]},
              "Ok": {"Type": "Succeed"}, "Bad": {"Type": "Pass", "End": True}}, {"order": 1},
             functions={"Pay": handler})
    assert ex.output["order"] == 1
    assert ex.output["error"]["Error"] == "PaymentGatewayTimeout"
    cause = json.loads(ex.output["error"]["Cause"])
    assert cause["errorMessage"] == "gateway slow" and cause["errorType"] == "PaymentGatewayTimeout"


def test_max_delay_and_max_attempts_zero():
    handler, calls = flaky(10)
    ex = run({"T": {"Type": "Task", "Resource": "Pay", "End": True,
                    "Retry": [{"ErrorEquals": ["Nope"], "MaxAttempts": 5},
                              {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "BackoffRate": 3,
                               "MaxDelaySeconds": 20, "MaxAttempts": 3}]}}, functions={"Pay": handler})
    assert ex.stop_time - T0 == 10 + 20 + 20
    handler0, calls0 = flaky(10)
    ex0 = run({"T": {"Type": "Task", "Resource": "Pay", "End": True,
                     "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}]}}, functions={"Pay": handler0})
    assert calls0["n"] == 1 and ex0.error == "PaymentGatewayTimeout"


def test_full_jitter_is_seeded_and_bounded():
    handler, _ = flaky(10)
    states = {"T": {"Type": "Task", "Resource": "Pay", "End": True,
                    "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 4, "MaxAttempts": 2,
                               "JitterStrategy": "FULL"}]}}
    a = run(states, functions={"Pay": flaky(10)[0]})
    b = run(states, functions={"Pay": flaky(10)[0]})
    assert a.stop_time == b.stop_time  # same seed, same jitter
    assert 0 <= a.stop_time - T0 <= 4 + 8


def test_task_failed_does_not_match_timeout_and_runtime_is_never_caught():
    ex = run({"P": {"Type": "Task", "Resource": "F", "OutputPath": "$.nope", "End": True,
                    "Catch": [{"ErrorEquals": ["States.Runtime"], "Next": "X"}]},
              "X": {"Type": "Succeed"}}, functions={"F": lambda e, c: {}})
    assert ex.error == "States.Runtime" and ex.status == "FAILED"
    assert not sfnlab.errors.matches(["States.TaskFailed"], "States.Timeout")
    assert sfnlab.errors.matches(["States.TaskFailed"], "Lambda.Unknown")


def test_fail_state_error_and_cause_paths():
    ex = run({"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('bad {}', $.id)"}},
             {"e": "Oops", "id": 7})
    assert (ex.error, ex.cause) == ("Oops", "bad 7")
    assert types(ex)[-2:] == ["FailStateEntered", "ExecutionFailed"]


def test_unknown_function_fails_as_lambda_does():
    ex = run({"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "Missing", "Payload": {}}, "End": True}})
    assert ex.error == "Lambda.ResourceNotFoundException"
    assert ex.cause.startswith("Function not found: arn:aws:lambda:us-east-1:123456789012:function:Missing:$LATEST")


def test_lambda_invoke_wraps_the_payload():
    ex = run({"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:Echo:prod",
                                   "Payload.$": "$"}, "End": True}},
             {"a": 1}, functions={"Echo": lambda event, context: {"got": event, "fn": context.function_name}})
    assert ex.output["Payload"] == {"got": {"a": 1}, "fn": "Echo"}
    assert ex.output["StatusCode"] == 200
    assert [e["type"] for e in ex.events][2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]


def test_oversized_task_result_is_catchable_data_limit_exceeded():
    ex = run({"T": {"Type": "Task", "Resource": "Big", "Next": "Ok",
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
              "Ok": {"Type": "Succeed"}, "Caught": {"Type": "Pass", "End": True}},
             functions={"Big": lambda e, c: "a" * (256 * 1024 + 1)})
    assert ex.output["Error"] == "States.DataLimitExceeded"


# -- Parallel and Map --------------------------------------------------------------------------

def test_parallel_runs_branches_concurrently_in_virtual_time():
    ex = run({"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 10, "End": True}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": True}}}]}}, {"x": 1})
    assert ex.output == [{"x": 1}, "b"]
    assert ex.stop_time - T0 == 10  # concurrent, not 10 + 0 in sequence


def test_parallel_branch_failure_is_the_parallel_state_error():
    ex = run({"P": {"Type": "Parallel", "Next": "Ok", "Catch": [{"ErrorEquals": ["Boom"], "Next": "Caught"}],
                    "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "c"}}},
                                 {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": True}}}]},
              "Ok": {"Type": "Succeed"}, "Caught": {"Type": "Pass", "End": True}})
    assert ex.output == {"Error": "Boom", "Cause": "c"}
    assert "ParallelStateFailed" in types(ex)


def test_map_max_concurrency_is_visible_in_time():
    states = {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "End": True,
                    "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
                    "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "W",
                                      "States": {"W": {"Type": "Wait", "Seconds": 10, "End": True}}}}}
    ex = run(states, {"items": ["a", "b", "c", "d", "e"]})
    assert ex.output == [{"i": i, "v": v} for i, v in enumerate("abcde")]
    assert ex.stop_time - T0 == 30  # 5 items, 2 at a time, 10 s each
    unlimited = run({**states, "M": {**states["M"], "MaxConcurrency": 0}}, {"items": ["a", "b", "c"]})
    assert unlimited.stop_time - T0 == 10
    started = [e for e in ex.events if e["type"] == "MapStateStarted"]
    assert started[0]["mapStateStartedEventDetails"] == {"length": 5}


def test_map_iteration_failure_fails_the_map():
    ex = run({"M": {"Type": "Map", "End": True, "Iterator": {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "F"}], "Default": "OK"},
        "F": {"Type": "Fail", "Error": "Two"}, "OK": {"Type": "Succeed"}}}}}, [1, 2, 3])
    assert ex.error == "Two"
    assert "MapIterationFailed" in types(ex) and "MapStateFailed" in types(ex)


def test_execution_timeout():
    ex = run({"W": {"Type": "Wait", "Seconds": 100, "End": True}}, TimeoutSeconds=30)
    assert (ex.status, ex.error) == ("TIMED_OUT", "States.Timeout")
    assert ex.stop_time - T0 == 30
    assert types(ex)[-1] == "ExecutionTimedOut"


def test_history_ids_and_previous_event_ids():
    ex = run({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}})
    assert [(e["id"], e["previousEventId"], e["type"]) for e in ex.events] == [
        (1, 0, "ExecutionStarted"), (2, 0, "PassStateEntered"), (3, 2, "PassStateExited"),
        (4, 3, "SucceedStateEntered"), (5, 4, "SucceedStateExited"), (6, 5, "ExecutionSucceeded")]


def test_a_year_of_waits_stays_cheap():
    ex = run({"W": {"Type": "Wait", "Seconds": 86400, "Next": "C"},
              "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 363, "Next": "Inc"}],
                    "Default": "Done"},
              "Inc": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "W"},
              "Done": {"Type": "Succeed"}}, {"n": 0})
    assert ex.status == "SUCCEEDED"
    assert ex.stop_time - T0 == 364 * 86400  # just under a Standard execution's one-year limit


def test_history_limit_fails_a_standard_execution_at_25000_events():
    ex = run({"A": {"Type": "Pass", "Next": "C"},
              "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": False, "Next": "A"}], "Default": "D"},
              "D": {"Type": "Succeed"}})
    assert (ex.status, ex.error) == ("FAILED", "States.Runtime")
    assert len(ex.events) == 25_000 and ex.events[-1]["type"] == "ExecutionFailed"


def test_express_executions_stop_after_five_minutes():
    sm = StateMachine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 400, "End": True}}},
                      type="EXPRESS", start_time=T0)
    ex = sm.run({})
    assert (ex.status, ex.error, ex.stop_time - T0) == ("TIMED_OUT", "States.Timeout", 300)


def test_records_keep_each_stage_under_teststate_names():
    ex = run({"T": {"Type": "Task", "Resource": "F", "InputPath": "$.in", "Parameters": {"v.$": "$.a"},
                    "ResultSelector": {"r.$": "$.got"}, "ResultPath": "$.out", "OutputPath": "$.out", "End": True}},
             {"in": {"a": 1}}, functions={"F": lambda e, c: {"got": e["v"] + 1}})
    stages = ex.records[0]["inspection"]
    assert stages["input"] == {"in": {"a": 1}}
    assert stages["afterInputPath"] == {"a": 1}
    assert stages["afterParameters"] == {"v": 1}
    assert stages["result"] == {"got": 2}
    assert stages["afterResultSelector"] == {"r": 2}
    assert stages["afterResultPath"] == {"in": {"a": 1}, "out": {"r": 2}}
    assert stages["output"] == {"r": 2}
    assert ex.records[0]["status"] == "SUCCEEDED"


def test_jsonata_state_data_flow_and_variables():
    sm = StateMachine({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Assign": {"total": "{% $sum($states.input.items.price) %}"},
              "Output": {"n": "{% $count($states.input.items) %}"}, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $total > 10 %}", "Next": "Big",
                                             "Output": {"total": "{% $total %}"}}], "Default": "Small"},
        "Big": {"Type": "Succeed"}, "Small": {"Type": "Fail", "Error": "Small"}}}, start_time=T0)
    ex = sm.run({"items": [{"price": 4}, {"price": 9}]})
    assert ex.output == {"total": 13}


def test_jsonata_undefined_is_a_query_evaluation_error_with_an_evaluation_failed_event():
    sm = StateMachine({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": {"x": "{% $states.input.missing %}"}, "End": True}}})
    ex = sm.run({})
    assert ex.error == "States.QueryEvaluationError"
    assert ex.cause.endswith("The JSONata expression '$states.input.missing' specified for the field 'Output/x' "
                             "returned nothing (undefined).")
    assert "EvaluationFailed" in types(ex)


def test_redrive_restarts_from_the_failed_state_and_reruns_only_failed_iterations():
    calls = {"n": 0, "items": []}

    def flaky_item(event, context):
        calls["items"].append(event)
        if event == 2 and calls["n"] == 0:
            calls["n"] += 1
            raise RuntimeError("item 2 broke")
        return event * 10

    sm = StateMachine({"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Assign": {"factor": 1}, "Next": "M"},
        "M": {"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "Item", "End": True}}}}}},
        functions={"Item": flaky_item}, start_time=AFTER_REDRIVE_LAUNCH)
    ex = sm.run([1, 2, 3])
    assert (ex.status, ex.error) == ("FAILED", "RuntimeError")
    assert ex.redrive_status() == ("REDRIVABLE", None)
    ex.redrive()
    assert ex.status == "SUCCEEDED" and ex.output == [10, 20, 30]
    assert ex.redrive_count == 1
    # item 1 succeeded and is not run again; 2 failed and 3 never started, so both run on redrive
    assert calls["items"] == [1, 2, 2, 3]
    assert "ExecutionRedriven" in types(ex)
    assert types(ex).count("PassStateEntered") == 1  # Prepare did not run again


def test_executions_started_before_redrive_existed_are_not_redrivable():
    ex = run({"F": {"Type": "Fail", "Error": "E"}})  # T0 is 2023-11-14, a day before RedriveExecution
    assert ex.redrive_status() == ("NOT_REDRIVABLE", "Execution was started before the launch of RedriveExecution")


def test_a_succeeded_execution_is_not_redrivable():
    ex = run({"P": {"Type": "Pass", "End": True}})
    assert ex.redrive_status() == ("NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven")
    with pytest.raises(ValueError):
        ex.redrive()


def test_non_json_input_is_refused_clearly():
    with pytest.raises(sfnlab.errors.InvalidExecutionInput, match="must be JSON data"):
        machine({"P": {"Type": "Pass", "End": True}}).run({"when": {1, 2}})


def test_indefinite_input_and_output_paths_select_lists():
    ex = run({"P": {"Type": "Pass", "InputPath": "$.items[*].price", "Next": "Q"},
              "Q": {"Type": "Pass", "OutputPath": "$[?(@ > 2)]", "End": True}},
             {"items": [{"price": 1}, {"price": 3}, {"price": 5}]})
    assert ex.output == [3, 5]


def test_a_function_can_take_virtual_time_and_time_out():
    def slow(event, context):
        context.sleep(60)
        return event

    ex = run({"T": {"Type": "Task", "Resource": "Slow", "TimeoutSeconds": 5, "Next": "Ok",
                    "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}]},
              "Ok": {"Type": "Succeed"}, "Late": {"Type": "Pass", "End": True}}, functions={"Slow": slow})
    assert ex.output == {"Error": "States.Timeout", "Cause": ""}
    assert "LambdaFunctionTimedOut" in types(ex)
    assert ex.stop_time - T0 == 5
    fast = run({"T": {"Type": "Task", "Resource": "Slow", "TimeoutSeconds": 100, "End": True}}, {"a": 1},
               functions={"Slow": slow})
    assert (fast.status, fast.stop_time - T0) == ("SUCCEEDED", 60)


def test_states_timeout_also_matches_a_heartbeat_timeout():
    # AWS's error-handling page: States.Timeout is raised when a task ran longer than TimeoutSeconds
    # or failed to send a heartbeat for longer than HeartbeatSeconds.
    assert sfnlab.errors.matches(["States.Timeout"], "States.HeartbeatTimeout")
    assert not sfnlab.errors.matches(["States.HeartbeatTimeout"], "States.Timeout")
