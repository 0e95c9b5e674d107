"""Callbacks (.waitForTaskToken), heartbeats and timeouts on the virtual clock, and activities."""
from __future__ import annotations

import json
import uuid

import pytest

import sfnlab

ROLE = "arn:aws:iam::123456789012:role/sfn"


@pytest.fixture()
def approval():
    """A human-approval flow: the token goes to an SQS queue, a person answers."""
    sfn = sfnlab.client()
    sqs = sfn.sfnlab.aws_client("sqs")
    queue = sqs.create_queue(QueueName=f"approvals-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    definition = {"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "HeartbeatSeconds": 60, "TimeoutSeconds": 3600,
                "Parameters": {"QueueUrl": queue, "MessageBody": {"order.$": "$.order", "token.$": "$$.Task.Token"}},
                "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "Rejected"}],
                "Next": "Approved"},
        "Approved": {"Type": "Pass", "End": True},
        "Rejected": {"Type": "Pass", "End": True}}}
    arn = sfn.create_state_machine(name="approval", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=arn, input='{"order": 7}')["executionArn"]

    def token() -> str:
        message = sqs.receive_message(QueueUrl=queue)["Messages"][0]
        body = json.loads(message["Body"])
        assert body["order"] == 7
        return body["token"]

    return sfn, ex, token


def history(sfn, ex):
    return sfn.get_execution_history(executionArn=ex)["events"]


def test_waits_until_send_task_success(approval):
    sfn, ex, token = approval
    assert sfn.describe_execution(executionArn=ex)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=token(), output='{"approved": true}')
    d = sfn.describe_execution(executionArn=ex)
    assert d["status"] == "SUCCEEDED" and json.loads(d["output"]) == {"approved": True}
    types = [e["type"] for e in history(sfn, ex)]
    assert types[2:7] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskStateExited"]
    scheduled = history(sfn, ex)[2]["taskScheduledEventDetails"]
    assert scheduled["heartbeatInSeconds"] == 60 and scheduled["timeoutInSeconds"] == 3600
    assert scheduled["resource"] == "sendMessage.waitForTaskToken" and scheduled["resourceType"] == "sqs"


def test_send_task_failure_is_caught(approval):
    sfn, ex, token = approval
    sfn.send_task_failure(taskToken=token(), error="Rejected", cause="too expensive")
    d = sfn.describe_execution(executionArn=ex)
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"])["rejection"] == {"Error": "Rejected", "Cause": "too expensive"}
    failed = [e for e in history(sfn, ex) if e["type"] == "TaskFailed"][0]["taskFailedEventDetails"]
    assert failed["error"] == "Rejected" and failed["cause"] == "too expensive"


def test_heartbeats_keep_the_task_alive_until_they_stop(approval):
    sfn, ex, token = approval
    t = token()
    for _ in range(3):
        sfn.sfnlab.advance_clock(50)
        sfn.send_task_heartbeat(taskToken=t)
    assert sfn.describe_execution(executionArn=ex)["status"] == "RUNNING"
    sfn.sfnlab.advance_clock(61)
    d = sfn.describe_execution(executionArn=ex)
    assert d["status"] == "FAILED" and d["error"] == "States.Timeout"
    timed_out = [e for e in history(sfn, ex) if e["type"] == "TaskTimedOut"][0]
    assert timed_out["taskTimedOutEventDetails"]["error"] == "States.Timeout"
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=t, output="{}")


def test_task_timeout_on_the_virtual_clock(approval):
    sfn, ex, token = approval
    t = token()
    for _ in range(70):
        sfn.sfnlab.advance_clock(55)
        if sfn.describe_execution(executionArn=ex)["status"] != "RUNNING":
            break
        sfn.send_task_heartbeat(taskToken=t)
    d = sfn.describe_execution(executionArn=ex)
    assert d["status"] == "FAILED" and d["error"] == "States.Timeout"
    assert d["stopDate"].timestamp() - d["startDate"].timestamp() == pytest.approx(3600, abs=1)


def test_token_errors(approval):
    sfn, ex, token = approval
    with pytest.raises(sfn.exceptions.InvalidToken, match="Invalid token"):
        sfn.send_task_success(taskToken="not-a-token", output="{}")
    t = token()
    with pytest.raises(sfn.exceptions.InvalidOutput):
        sfn.send_task_success(taskToken=t, output="not json")
    sfn.send_task_success(taskToken=t, output="{}")
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_failure(taskToken=t)


def test_failure_without_error_name(approval):
    sfn, ex, token = approval
    sfn.send_task_failure(taskToken=token())
    d = sfn.describe_execution(executionArn=ex)
    assert d["status"] == "FAILED"
    failed = [e for e in history(sfn, ex) if e["type"] == "TaskFailed"][0]
    assert "error" not in failed["taskFailedEventDetails"]


def test_activity_round_trip():
    sfn = sfnlab.client()
    activity = sfn.create_activity(name="review")["activityArn"]
    assert sfn.describe_activity(activityArn=activity)["name"] == "review"
    definition = {"StartAt": "Review", "States": {"Review": {"Type": "Task", "Resource": activity,
                                                             "HeartbeatSeconds": 10, "End": True}}}
    arn = sfn.create_state_machine(name="act", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=arn, input='{"doc": 1}')["executionArn"]
    work = sfn.get_activity_task(activityArn=activity, workerName="alice")
    assert json.loads(work["input"]) == {"doc": 1}
    assert "taskToken" not in sfn.get_activity_task(activityArn=activity, workerName="bob")
    sfn.send_task_heartbeat(taskToken=work["taskToken"])
    sfn.send_task_success(taskToken=work["taskToken"], output='{"ok": true}')
    assert sfn.describe_execution(executionArn=ex)["status"] == "SUCCEEDED"
    events = history(sfn, ex)
    assert [e["type"] for e in events][2:5] == ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"]
    assert events[3]["activityStartedEventDetails"]["workerName"] == "alice"
    ex2 = sfn.start_execution(stateMachineArn=arn, input='{"doc": 2}')["executionArn"]
    sfn.get_activity_task(activityArn=activity, workerName="alice")
    sfn.sfnlab.advance_clock(11)
    d = sfn.describe_execution(executionArn=ex2)
    assert d["status"] == "FAILED" and d["error"] == "States.HeartbeatTimeout"
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.get_activity_task(activityArn=activity.replace("review", "nope"))
