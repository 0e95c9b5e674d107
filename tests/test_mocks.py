"""Step Functions Local mock configurations drive retries without writing functions."""
from __future__ import annotations

import json

import pytest

import sfnlab
from sfnlab.mocks import MockConfigError, load_mock_config

ROLE = "arn:aws:iam::123456789012:role/sfn"
CONFIG = {
    "StateMachines": {"Orders": {"TestCases": {
        "RetryPath": {"Charge": "ThrottledTwice"},
        "HappyPath": {"Charge": "Charged"}}}},
    "MockedResponses": {
        "ThrottledTwice": {
            "0-1": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "Rate exceeded"}},
            "2": {"Return": {"StatusCode": 200, "Payload": {"charged": True}}}},
        "Charged": {"0": {"Return": {"StatusCode": 200, "Payload": {"charged": "first time"}}}}},
}
DEFINITION = {"StartAt": "Charge", "States": {"Charge": {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "charge"},
    "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 2, "MaxAttempts": 3}],
    "OutputPath": "$.Payload", "End": True}}}


@pytest.fixture()
def sfn():
    client = sfnlab.client(mock_config=json.dumps(CONFIG))
    client.arn = client.create_state_machine(name="Orders", definition=json.dumps(DEFINITION),
                                             roleArn=ROLE)["stateMachineArn"]
    return client


def test_mocked_retry(sfn):
    ex = sfn.start_execution(stateMachineArn=sfn.arn + "#RetryPath")["executionArn"]
    d = sfn.describe_execution(executionArn=ex)
    assert d["status"] == "SUCCEEDED" and json.loads(d["output"]) == {"charged": True}
    events = sfn.get_execution_history(executionArn=ex)["events"]
    assert [e["type"] for e in events].count("TaskFailed") == 2
    failed = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert failed[0]["error"] == "Lambda.TooManyRequestsException" and failed[0]["resourceType"] == "lambda"
    # Retry back-off 2 s then 4 s, on the virtual clock
    assert (d["stopDate"] - d["startDate"]).total_seconds() == pytest.approx(6)


def test_test_cases_are_chosen_per_execution(sfn):
    ex = sfn.start_execution(stateMachineArn=sfn.arn + "#HappyPath")["executionArn"]
    assert json.loads(sfn.describe_execution(executionArn=ex)["output"]) == {"charged": "first time"}
    # Without a test case, the real target is called (here: no such function).
    ex = sfn.start_execution(stateMachineArn=sfn.arn)["executionArn"]
    assert sfn.describe_execution(executionArn=ex)["error"] == "Lambda.ResourceNotFoundException"


def test_bad_configuration_is_refused():
    with pytest.raises(MockConfigError):
        load_mock_config({"StateMachines": {"M": {"TestCases": {"T": {"S": "Missing"}}}}, "MockedResponses": {}})
    with pytest.raises(MockConfigError):
        load_mock_config({"MockedResponses": {"R": {"x": {"Return": 1}}}})
