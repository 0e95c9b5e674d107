"""TestState (sfnlab.teststate): one state, run on its own, as AWS's TestState API runs it.

Expected messages and shapes are AWS's, as recorded in the conformance corpus (test_state_* cases).
"""
from __future__ import annotations

import json

import pytest

import sfnlab
from sfnlab import engine, teststate
from sfnlab.backend import ApiError

ROLE = "arn:aws:iam::111111111111:role/sfn-test"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:111111111111:function:shout"


def shout(event, context):
    return {"shouted": str(event.get("word", "")).upper()}


@pytest.fixture()
def sfn():
    return sfnlab.client(functions={"shout": shout})


def call(sfn, state: dict, **params):
    params.setdefault("input", json.dumps(params.pop("input_value", {})))
    response = sfn.test_state(definition=json.dumps(state), **params)
    response.pop("ResponseMetadata", None)
    return response


def error_of(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def stages(response: dict) -> dict:
    """inspectionData with its JSON-text stages parsed."""
    out = {}
    for key, value in response["inspectionData"].items():
        out[key] = json.loads(value) if isinstance(value, str) else value
    return out


# ----------------------------------------------------------------------------------------------
# Data flow and inspection levels


IO_PASS = {"Type": "Pass", "InputPath": "$.initialData",
           "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
           "ResultPath": "$.modifiedData", "End": True}
NESTED = {"initialData": {"fieldFromInput": "value from input", "otherField": "other"}, "unrelated": 1}


def test_info_answers_without_inspection_data(sfn):
    r = call(sfn, IO_PASS, input_value=NESTED, inspectionLevel="INFO")
    assert r["status"] == "SUCCEEDED"
    assert "inspectionData" not in r and "nextState" not in r
    assert json.loads(r["output"])["modifiedData"] == {"staticValue": "some value", "inputValue": "value from input"}


def test_debug_shows_every_jsonpath_stage(sfn):
    r = call(sfn, IO_PASS, input_value=NESTED, inspectionLevel="DEBUG")
    s = stages(r)
    assert s["input"] == NESTED
    assert s["afterInputPath"] == NESTED["initialData"]
    assert s["afterParameters"] == {"staticValue": "some value", "inputValue": "value from input"}
    assert s["afterResultSelector"] == s["afterParameters"]  # no ResultSelector: the result as is
    assert s["afterResultPath"] == json.loads(r["output"])
    assert "result" not in s  # a Pass state without Result shows no result stage


def test_pass_with_result_shows_the_result_not_the_parameters(sfn):
    state = dict(IO_PASS, Result={"resultKey": "result value"})
    s = stages(call(sfn, state, input_value=NESTED, inspectionLevel="TRACE"))
    assert s["result"] == {"resultKey": "result value"}
    assert "afterInputPath" not in s and "afterParameters" not in s


def test_inspection_values_are_compact_json_text(sfn):
    r = call(sfn, {"Type": "Pass", "End": True}, input_value={"a": [1, 2]}, inspectionLevel="DEBUG")
    assert r["inspectionData"]["input"] == '{"a":[1,2]}'


def test_choice_reports_the_next_state(sfn):
    state = {"Type": "Choice", "Choices": [
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                 {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"}],
        "Default": "DefaultState"}
    r = call(sfn, state, input_value={"type": "Private", "value": 22}, inspectionLevel="DEBUG")
    assert (r["status"], r["nextState"]) == ("SUCCEEDED", "ValueInTwenties")
    assert stages(r)["afterInputPath"] == {"type": "Private", "value": 22}


def test_fail_state_fails_with_its_error_and_cause(sfn):
    r = call(sfn, {"Type": "Fail", "Error": "SomeFailure", "Cause": "because"}, inspectionLevel="DEBUG")
    assert (r["status"], r["error"], r["cause"]) == ("FAILED", "SomeFailure", "because")
    assert "output" not in r


def test_wait_state_does_not_wait(sfn):
    before = sfn.sfnlab.runtime.clock.now
    r = call(sfn, {"Type": "Wait", "Seconds": 86400, "Next": "After"}, input_value={"x": 1})
    assert (r["status"], r["nextState"], json.loads(r["output"])) == ("SUCCEEDED", "After", {"x": 1})
    assert sfn.sfnlab.runtime.clock.now == before


def test_next_may_name_a_state_that_does_not_exist(sfn):
    r = call(sfn, {"Type": "Pass", "Next": "Elsewhere"})
    assert r["nextState"] == "Elsewhere"


def test_runtime_errors_fail_the_state(sfn):
    r = call(sfn, {"Type": "Pass", "Parameters": {"x.$": "$.missing"}, "End": True}, input_value={"a": 2})
    assert r["status"] == "FAILED" and r["error"] == "States.Runtime"
    assert r["cause"].startswith("The JSONPath '$.missing' specified for the field 'x.$' could not be found")


def test_lambda_task_runs_the_function(sfn):
    r = call(sfn, {"Type": "Task", "Resource": LAMBDA_ARN, "End": True}, input_value={"word": "hi"},
             roleArn=ROLE, inspectionLevel="DEBUG")
    assert json.loads(r["output"]) == {"shouted": "HI"}
    assert stages(r)["result"] == {"shouted": "HI"}


def test_a_task_without_a_mock_needs_a_role(sfn):
    with pytest.raises(Exception) as excinfo:
        call(sfn, {"Type": "Task", "Resource": LAMBDA_ARN, "End": True})
    assert error_of(excinfo) == ("ValidationException", "RoleArn must be specified when testing a Task state")


# ----------------------------------------------------------------------------------------------
# Variables, stateName, context


def test_variables_are_visible_and_reported(sfn):
    state = {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $greeting & ' ' & $states.input.name %}",
             "End": True}
    r = call(sfn, state, input_value={"name": "Ada"}, variables='{"greeting": "hello"}', inspectionLevel="DEBUG")
    assert json.loads(r["output"]) == "hello Ada"
    assert stages(r)["variables"] == {"greeting": "hello"}


def test_assign_updates_the_reported_variables(sfn):
    r = call(sfn, {"Type": "Pass", "Assign": {"x.$": "$.a"}, "End": True}, input_value={"a": 5},
             variables='{"y": 1}', inspectionLevel="DEBUG")
    assert stages(r)["variables"] == {"y": 1, "x": 5}


MACHINE = {"QueryLanguage": "JSONata", "StartAt": "First", "States": {
    "First": {"Type": "Pass", "Next": "Loop"},
    "Loop": {"Type": "Map", "Items": "{% $states.input.items %}", "ItemProcessor": {
        "StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Output": "{% $states.input * 2 %}", "End": True}}},
        "End": True}}}


def test_state_name_picks_a_state_of_a_machine(sfn):
    r = call(sfn, MACHINE, stateName="First", input_value={"v": 1})
    assert (r["status"], r["nextState"]) == ("SUCCEEDED", "Loop")


def test_state_name_reaches_inside_a_map_and_keeps_the_machine_language(sfn):
    r = call(sfn, MACHINE, stateName="Inner", input_value=21)
    assert json.loads(r["output"]) == 42  # JSONata, inherited from the machine


def test_unknown_state_name(sfn):
    with pytest.raises(Exception) as excinfo:
        call(sfn, MACHINE, stateName="dne")
    assert error_of(excinfo) == ("ValidationException", "State not found in definition")


def test_the_state_runs_under_the_name_aws_gives_it(sfn):
    state = {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.context %}", "End": True}
    ctx = json.loads(call(sfn, state, input_value={"k": 1}, roleArn=ROLE)["output"])
    assert ctx["State"]["Name"] == "StateName"
    assert ctx["Execution"]["Input"] == {"k": 1}
    assert ctx["Execution"]["RoleArn"] == ROLE
    assert ":express:" in ctx["Execution"]["Id"] and ":111111111111:" in ctx["Execution"]["Id"]


def test_a_given_context_replaces_the_context_object(sfn):
    state = {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": True}
    given = {"Execution": {"Name": "mine"}, "State": {}}
    r = call(sfn, state, context=json.dumps(given))
    assert json.loads(r["output"]) == {"ctx": given}


@pytest.mark.parametrize("context,message", [
    ({"Pokedex": {}}, "Invalid Context object provided: Field 'Pokedex' is not allowed"),
    ({"Execution": {"pokemon": 1}}, "Invalid Context object provided: Field 'pokemon' is not allowed"),
    ({"Execution": {"Id": 1}}, "Invalid Context object provided: Execution.Id must be a string"),
    ({"Map": {}}, "Invalid Context object provided: 'Map' field is not supported when mocking a Context object"),
    ({"Task": {"Token": "t"}}, ("Invalid Context object provided: Context object contains 'Task' when state is not a "
                               "Task state with a '.sync' or '.waitForTaskToken' service integration pattern")),
])
def test_invalid_context_objects(sfn, context, message):
    with pytest.raises(Exception) as excinfo:
        call(sfn, {"Type": "Pass", "End": True}, context=json.dumps(context))
    assert error_of(excinfo) == ("ValidationException", message)


def test_task_token_of_a_mocked_callback_comes_from_the_context(sfn):
    state = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
             "Parameters": {"QueueUrl": "q", "MessageBody": {"TaskToken.$": "$$.Task.Token"}}, "ResultPath": "$.SQS",
             "Next": "After"}
    r = call(sfn, state, context=json.dumps({"Task": {"Token": "abcd123"}}), mock={"result": '{"ok": true}'},
             inspectionLevel="DEBUG")
    assert stages(r)["afterParameters"]["MessageBody"] == {"TaskToken": "abcd123"}
    assert json.loads(r["output"]) == {"SQS": {"ok": True}}


# ----------------------------------------------------------------------------------------------
# Mocks, retries, catches


LAMBDA_INVOKE = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"}, "End": True}


def test_a_mocked_result_replaces_the_work(sfn):
    r = call(sfn, LAMBDA_INVOKE, input_value={"FunctionName": "f", "Payload": None},
             mock={"result": '{"Payload": "function output", "StatusCode": 200}'})
    assert json.loads(r["output"]) == {"Payload": "function output", "StatusCode": 200}


@pytest.mark.parametrize("mock,params,message", [
    ({"result": "{}", "errorOutput": {"error": "E"}}, {},
     "A test mock should have only one of the following fields: [result, errorOutput]."),
    ({"result": "{}"}, {"revealSecrets": True}, "TestState does not support RevealSecrets when a mock is specified."),
    ({"result": "not JSON", "fieldValidationMode": "NONE"}, {}, "Mocked result must be valid JSON"),
])
def test_invalid_mocks(sfn, mock, params, message):
    with pytest.raises(Exception) as excinfo:
        call(sfn, LAMBDA_INVOKE, mock=mock, **params)
    assert error_of(excinfo) == ("ValidationException", message)


@pytest.mark.parametrize("kind", ["Pass", "Succeed", "Fail"])
def test_states_without_work_cannot_be_mocked(sfn, kind):
    state = {"Type": kind} if kind != "Pass" else {"Type": "Pass", "End": True}
    with pytest.raises(Exception) as excinfo:
        call(sfn, state, mock={"errorOutput": {"error": "E", "cause": "C"}})
    assert error_of(excinfo) == ("ValidationException", f"State type '{kind}' is not supported when a mock is specified")


PARALLEL = {"Type": "Parallel", "Branches": [{"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": True}}},
                                             {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": True}}}],
            "End": True}


def test_map_and_parallel_need_a_mock(sfn):
    with pytest.raises(Exception) as excinfo:
        call(sfn, PARALLEL)
    assert error_of(excinfo) == ("InvalidDefinition", ("TestState API does not support Map or Parallel states. "
                                                      "Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]"))


@pytest.mark.parametrize("result,message", [
    ('{"a": 1}', "Mocked result must be an array."),
    ('[{"a": 1}]', "Mocked result must contain the same number of items as number of Parallel branches."),
])
def test_parallel_mock_shape(sfn, result, message):
    with pytest.raises(Exception) as excinfo:
        call(sfn, PARALLEL, mock={"result": result})
    assert error_of(excinfo) == ("ValidationException", message)


def test_mocked_parallel(sfn):
    r = call(sfn, dict(PARALLEL, ResultPath="$.out"), input_value={"k": 1}, mock={"result": "[1, 2]"},
             inspectionLevel="DEBUG")
    assert json.loads(r["output"]) == {"k": 1, "out": [1, 2]}
    assert stages(r)["afterResultSelector"] == [1, 2]


def test_empty_parallel_is_an_invalid_definition_located_at_state_name(sfn):
    with pytest.raises(Exception) as excinfo:
        call(sfn, {"Type": "Parallel", "Branches": [], "End": True}, mock={"result": "[]"})
    assert error_of(excinfo) == ("InvalidDefinition", ("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: "
                                                      "Value cannot be empty at /States/StateName/Branches'"))


RETRY_TASK = {"Type": "Task", "QueryLanguage": "JSONata", "Resource": "arn:aws:states:::lambda:invoke",
              "Arguments": {"FunctionName": "foo", "Payload": "bar"},
              "Retry": [{"ErrorEquals": ["MockException"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2.0}],
              "End": True}
MOCK_ERROR = {"errorOutput": {"error": "MockException", "cause": "Mock the cause of the error."}}


def test_a_retrier_with_attempts_left_answers_retriable(sfn):
    r = call(sfn, RETRY_TASK, mock=MOCK_ERROR, stateConfiguration={"retrierRetryCount": 4}, inspectionLevel="DEBUG")
    assert (r["status"], r["error"], r["cause"]) == ("RETRIABLE", "MockException", "Mock the cause of the error.")
    assert r["inspectionData"]["errorDetails"] == {"retryIndex": 0, "retryBackoffIntervalSeconds": 16}


def test_a_spent_retrier_fails_the_state(sfn):
    r = call(sfn, RETRY_TASK, mock=MOCK_ERROR, stateConfiguration={"retrierRetryCount": 5}, inspectionLevel="DEBUG")
    assert r["status"] == "FAILED"
    assert r["inspectionData"]["errorDetails"] == {"retryIndex": 0}


def test_a_catcher_takes_the_error(sfn):
    state = {"Type": "Task", "QueryLanguage": "JSONata", "Resource": "arn:aws:states:::lambda:invoke",
             "Arguments": {"FunctionName": "foo", "Payload": "bar"},
             "Catch": [{"ErrorEquals": ["MockException"], "Output": "{% $states %}", "Next": "HandleMock"},
                       {"ErrorEquals": ["States.TaskFailed"], "Output": "{% $states %}", "Next": "HandleFailed"}],
             "End": True}
    r = call(sfn, state, input_value={"v": 1}, roleArn=ROLE, inspectionLevel="DEBUG",
             mock={"errorOutput": {"error": "States.TaskFailed", "cause": "The task failed."}})
    assert (r["status"], r["nextState"], r["error"]) == ("CAUGHT_ERROR", "HandleFailed", "States.TaskFailed")
    assert r["inspectionData"]["errorDetails"] == {"catchIndex": 1}
    out = json.loads(r["output"])
    assert out["errorOutput"] == {"Error": "States.TaskFailed", "Cause": "The task failed."}
    assert out["context"]["State"] == {"Name": "StateName", "EnteredTime": out["context"]["State"]["EnteredTime"],
                                       "RetryCount": 0}


# ----------------------------------------------------------------------------------------------
# Map: mocked results, tolerated failures, ItemReader data


def map_state(**extra):
    state = {"Type": "Map", "QueryLanguage": "JSONata", "Items": "{% $states.input.Values %}",
             "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                               "StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
             "End": True}
    state.update(extra)
    return state


VALUES = {"Values": ["first", "second", "third"]}


def test_map_inspection_shows_its_settings(sfn):
    r = call(sfn, map_state(ToleratedFailureCount="{% $x := 1 %}", MaxConcurrency=2), input_value=VALUES,
             mock={"result": "[1, 1, 1]"}, inspectionLevel="DEBUG")
    data = r["inspectionData"]
    assert (data["maxConcurrency"], data["toleratedFailureCount"]) == (2, 1)
    assert "toleratedFailurePercentage" not in data


def test_failed_iterations_past_the_threshold_fail_the_map(sfn):
    state = map_state(ToleratedFailureCount=1, Catch=[
        {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "Threshold"}])
    r = call(sfn, state, input_value=VALUES, mock={"result": "[0, 0, 1]"},
             stateConfiguration={"mapIterationFailureCount": 2}, inspectionLevel="DEBUG")
    assert (r["status"], r["nextState"]) == ("CAUGHT_ERROR", "Threshold")
    assert r["cause"] == "The specified tolerated failure threshold was exceeded"
    ok = call(sfn, state, input_value=VALUES, mock={"result": "[0, 1, 1]"},
              stateConfiguration={"mapIterationFailureCount": 1})
    assert (ok["status"], json.loads(ok["output"])) == ("SUCCEEDED", [0, 1, 1])


def test_failed_iterations_without_a_tolerance_leave_the_map_alone(sfn):
    r = call(sfn, map_state(), input_value=VALUES, mock={"result": "[0, 0, 1]"},
             stateConfiguration={"mapIterationFailureCount": 2})
    assert r["status"] == "SUCCEEDED"


@pytest.mark.parametrize("mock,config,message", [
    (None, {"mapIterationFailureCount": 0},
     "TestState does not support MapIterationFailureCount when a mock is not specified."),
    ({"result": "[1, 1, 1]"}, {"mapIterationFailureCount": 4},
     "Map iteration failure count must be less than or equal to the number of Map iterations"),
    ({"result": '{"not": "an array"}'}, {}, "Mocked result must be an array."),
])
def test_map_mock_validation(sfn, mock, config, message):
    params = {"stateConfiguration": config}
    if mock is not None:
        params["mock"] = mock
    with pytest.raises(Exception) as excinfo:
        call(sfn, map_state(), input_value=VALUES, **params)
    assert error_of(excinfo) == ("ValidationException", message)


def test_a_map_with_a_result_writer_mocks_an_object(sfn):
    state = map_state(ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                                    "Arguments": {"Bucket": "b", "Prefix": "p"}})
    with pytest.raises(Exception) as excinfo:
        call(sfn, state, input_value=VALUES, mock={"result": "[1]"})
    assert error_of(excinfo) == ("ValidationException", "Mocked result must be a JSON object.")


def test_jsonpath_items_path_that_is_not_an_array(sfn):
    state = {"Type": "Map", "ItemsPath": "$$.Execution.Input", "ItemProcessor": {
        "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True}
    r = call(sfn, state, input_value=[1], mock={"result": "[1]"},
             context=json.dumps({"Execution": {"Input": {"not": "an array"}}}))
    assert (r["status"], r["error"]) == ("FAILED", "States.Runtime")
    assert r["cause"] == 'Reference path "$.Execution.Input" must point to array.'


def test_item_reader_data_stands_in_for_s3(sfn):
    state = map_state(ItemReader={"ReaderConfig": {"InputType": "JSON"}, "Resource": "arn:aws:states:::s3:getObject",
                                  "Arguments": {"Bucket": "b", "Key": "k"}})
    del state["Items"]
    r = call(sfn, state, input_value={}, mock={"result": "[1, 4, 9]"},
             stateConfiguration={"mapItemReaderData": "[1, 2, 3]"}, inspectionLevel="DEBUG")
    assert json.loads(r["output"]) == [1, 4, 9]


# ----------------------------------------------------------------------------------------------
# Mock field validation against the service API's output shape


KMS = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:kms:encrypt",
       "Parameters": {"KeyId": "k", "Plaintext": "p"}, "End": True}
START = {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
         "Parameters": {"StateMachineArn": "arn"}, "End": True}


@pytest.mark.parametrize("state,result,mode,message", [
    (KMS, {"CiphertextBlob": ""}, None, "Field 'CiphertextBlob' is smaller than the minimum length"),
    (KMS, {"CiphertextBlob": 123}, "PRESENT", "Field 'CiphertextBlob' must be a string"),
    (LAMBDA_INVOKE, {"StatusCode": "200"}, None, "Field 'StatusCode' must be a number"),
    (START, {}, None, "Required field 'ExecutionArn' is missing"),
    (START, {"ExecutionArn": "a", "StartDate": True}, "STRICT", "Field 'StartDate' must be a string"),
    ({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject", "End": True},
     {"StorageClass": "Papyrus"}, None, "Field 'StorageClass' is not an expected value"),
    ({"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "End": True},
     {"Entries": [{"EventId": "ok"}, {"EventId": ["no"]}]}, None, "Field 'EventId' must be a string"),
    ({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:lambda:getFunction", "End": True},
     {"Configuration": {"MemorySize": 127}}, None, "Field 'MemorySize' is less than the minimum value"),
])
def test_mocked_results_must_fit_the_api(sfn, state, result, mode, message):
    mock = {"result": json.dumps(result)}
    if mode:
        mock["fieldValidationMode"] = mode
    with pytest.raises(Exception) as excinfo:
        call(sfn, state, mock=mock)
    assert error_of(excinfo) == ("ValidationException", "Mock result schema validation error: " + message)


def test_present_mode_does_not_want_required_fields_and_none_checks_nothing(sfn):
    assert call(sfn, START, mock={"result": "{}", "fieldValidationMode": "PRESENT"})["status"] == "SUCCEEDED"
    r = call(sfn, START, mock={"result": '{"StartDate": true}', "fieldValidationMode": "NONE"})
    assert json.loads(r["output"]) == {"StartDate": True}


def test_fields_outside_the_api_are_left_alone(sfn):
    r = call(sfn, {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "End": True},
             mock={"result": '{"random": "json"}'})
    assert json.loads(r["output"]) == {"random": "json"}


# ----------------------------------------------------------------------------------------------
# Directly, without the client


def test_direct_call_on_a_runtime():
    runtime = engine.Runtime()
    body = teststate.test_state(runtime, definition=json.dumps({"Type": "Pass", "Result": 7, "End": True}),
                                input="{}", inspectionLevel="DEBUG")
    assert body["status"] == "SUCCEEDED" and body["output"] == "7"
    assert body["inspectionData"]["result"] == "7"
    with pytest.raises(ApiError) as excinfo:
        teststate.test_state(runtime, definition=json.dumps({"Type": "Pass", "End": True}), mock={"result": "1"})
    assert excinfo.value.code == "ValidationException"
