"""Service integrations through sfnlab.client() against the local moto server."""
from __future__ import annotations

import json
import uuid

import pytest

import sfnlab

ROLE = "arn:aws:iam::123456789012:role/sfn"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def machine(sfn, definition: dict, **kwargs) -> str:
    return sfn.create_state_machine(name=unique("m"), definition=json.dumps(definition), roleArn=ROLE,
                                    **kwargs)["stateMachineArn"]


def run(sfn, arn: str, value=None) -> dict:
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps(value or {}))["executionArn"]
    return {"arn": ex, **sfn.describe_execution(executionArn=ex)}


def events(sfn, arn: str) -> list[dict]:
    return sfn.get_execution_history(executionArn=arn)["events"]


def task(resource: str, parameters: dict, **extra) -> dict:
    return {"Type": "Task", "Resource": resource, "Parameters": parameters, **extra}


@pytest.fixture(scope="module")
def sfn():
    return sfnlab.client()


@pytest.fixture(scope="module")
def table(sfn):
    name = unique("orders")
    ddb = sfn.sfnlab.aws_client("dynamodb")
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName=name, Item={"id": {"S": "o-1"}, "total": {"N": "120"}})
    return name


def test_order_workflow_get_item_then_publish(sfn, table):
    sns = sfn.sfnlab.aws_client("sns")
    sqs = sfn.sfnlab.aws_client("sqs")
    topic = sns.create_topic(Name=unique("orders"))["TopicArn"]
    queue = sqs.create_queue(QueueName=unique("orders"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    arn = machine(sfn, {"StartAt": "GetOrder", "States": {
        "GetOrder": task("arn:aws:states:::dynamodb:getItem",
                         {"TableName": table, "Key": {"id": {"S.$": "$.orderId"}}},
                         ResultSelector={"total.$": "$.Item.total.N"}, ResultPath="$.order", Next="Notify"),
        "Notify": task("arn:aws:states:::sns:publish", {"TopicArn": topic, "Message": {"order.$": "$.orderId",
                                                                                         "total.$": "$.order.total"}},
                       ResultPath="$.published", End=True)}})
    d = run(sfn, arn, {"orderId": "o-1"})
    assert d["status"] == "SUCCEEDED"
    out = json.loads(d["output"])
    assert out["order"] == {"total": "120"}
    assert set(out["published"]) == {"MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}
    assert out["published"]["SdkHttpMetadata"]["HttpStatusCode"] == 200
    # AWS's Content-Length of a Publish answer (its XML body) is 294 bytes.
    assert out["published"]["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == "294"
    body = sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"]
    assert json.loads(body) == {"order": "o-1", "total": "120"}
    kinds = [(e["type"], e.get("taskScheduledEventDetails", {}).get("resource")) for e in events(sfn, d["arn"])]
    assert [k for k, _ in kinds] == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    scheduled = [e["taskScheduledEventDetails"] for e in events(sfn, d["arn"]) if e["type"] == "TaskScheduled"]
    assert scheduled[0]["resourceType"] == "dynamodb" and scheduled[0]["resource"] == "getItem"
    assert scheduled[0]["region"] == "us-east-1"
    assert json.loads(scheduled[0]["parameters"]) == {"TableName": table, "Key": {"id": {"S": "o-1"}}}


def test_dynamodb_errors_have_aws_names(sfn, table):
    arn = machine(sfn, {"StartAt": "Put", "States": {"Put": task(
        "arn:aws:states:::dynamodb:putItem",
        {"TableName": table, "Item": {"id": {"S": "o-1"}}, "ConditionExpression": "attribute_not_exists(id)"},
        End=True)}})
    d = run(sfn, arn)
    assert d["status"] == "FAILED"
    assert d["error"] == "DynamoDB.ConditionalCheckFailedException"
    assert "(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException" in d["cause"]
    missing = machine(sfn, {"StartAt": "Get", "States": {"Get": task(
        "arn:aws:states:::dynamodb:getItem", {"TableName": "no-such-table", "Key": {"id": {"S": "x"}}}, End=True)}})
    assert run(sfn, missing)["error"] == "DynamoDB.ResourceNotFoundException"


def test_update_and_delete_item(sfn, table):
    arn = machine(sfn, {"StartAt": "Update", "States": {
        "Update": task("arn:aws:states:::dynamodb:updateItem", {
            "TableName": table, "Key": {"id": {"S": "o-2"}}, "UpdateExpression": "SET #s = :s",
            "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": {":s": {"S": "PAID"}},
            "ReturnValues": "ALL_NEW"}, ResultSelector={"item.$": "$.Attributes"}, ResultPath="$.updated",
            Next="Delete"),
        "Delete": task("arn:aws:states:::dynamodb:deleteItem", {"TableName": table, "Key": {"id": {"S": "o-2"}}},
                       ResultPath=None, End=True)}})
    d = run(sfn, arn)
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"])["updated"]["item"] == {"id": {"S": "o-2"}, "status": {"S": "PAID"}}
    assert "Item" not in sfn.sfnlab.aws_client("dynamodb").get_item(TableName=table, Key={"id": {"S": "o-2"}})


def test_sqs_send_message_and_missing_queue(sfn):
    sqs = sfn.sfnlab.aws_client("sqs")
    queue = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = machine(sfn, {"StartAt": "Send", "States": {"Send": task(
        "arn:aws:states:::sqs:sendMessage", {"QueueUrl.$": "$.url", "MessageBody": {"hello.$": "$.who"}}, End=True)}})
    d = run(sfn, arn, {"url": queue, "who": "world"})
    assert d["status"] == "SUCCEEDED"
    out = json.loads(d["output"])
    assert {"MD5OfMessageBody", "MessageId", "SdkHttpMetadata", "SdkResponseMetadata"} <= set(out)
    assert out["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == "106"
    assert json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"]) == {"hello": "world"}
    bad = run(sfn, arn, {"url": queue.rsplit("/", 1)[0] + "/no-such-queue", "who": "x"})
    assert bad["error"] == "SQS.QueueDoesNotExistException"


def test_event_bridge_put_events(sfn):
    arn = machine(sfn, {"StartAt": "Put", "States": {"Put": task("arn:aws:states:::events:putEvents", {
        "Entries": [{"Source": "sfnlab.test", "DetailType": "OrderPlaced", "Detail": {"id": 1}}]}, End=True)}})
    d = run(sfn, arn)
    assert d["status"] == "SUCCEEDED"
    out = json.loads(d["output"])
    assert out["FailedEntryCount"] == 0 and len(out["Entries"]) == 1 and "EventId" in out["Entries"][0]


def test_aws_sdk_s3_put_get_and_error_names(sfn):
    bucket = unique("bucket")
    sfn.sfnlab.aws_client("s3").create_bucket(Bucket=bucket)
    arn = machine(sfn, {"StartAt": "Put", "States": {
        "Put": task("arn:aws:states:::aws-sdk:s3:putObject", {"Bucket": bucket, "Key": "a.json", "Body": {"x": 1}},
                    ResultPath=None, Next="Get"),
        "Get": task("arn:aws:states:::aws-sdk:s3:getObject", {"Bucket": bucket, "Key": "a.json"},
                    ResultSelector={"body.$": "$.Body"}, End=True)}})
    d = run(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == {"body": '{"x":1}'}
    scheduled = [e for e in events(sfn, d["arn"]) if e["type"] == "TaskScheduled"]
    assert scheduled[0]["taskScheduledEventDetails"]["resourceType"] == "aws-sdk:s3"
    missing = machine(sfn, {"StartAt": "Get", "States": {"Get": task(
        "arn:aws:states:::aws-sdk:s3:getObject", {"Bucket": bucket, "Key": "nope"}, End=True)}})
    d = run(sfn, missing)
    assert d["error"] == "S3.NoSuchKeyException"
    assert "(Service: S3, Status Code: 404" in d["cause"]


def test_aws_sdk_dynamodb_unmodelled_error_is_generic(sfn):
    arn = machine(sfn, {"StartAt": "Put", "States": {"Put": task(
        "arn:aws:states:::aws-sdk:dynamodb:putItem", {"TableName": "no-such-table", "Item": {"id": {"S": "1"}}},
        End=True)}})
    assert run(sfn, arn)["error"] == "DynamoDb.ResourceNotFoundException"


@pytest.mark.parametrize("resource, parsed", [
    ("arn:aws:states:::states:startExecution.sync", False),
    ("arn:aws:states:::states:startExecution.sync:2", True),
])
def test_nested_sync_execution(sfn, resource, parsed):
    child = machine(sfn, {"StartAt": "Wait", "States": {
        "Wait": {"Type": "Wait", "Seconds": 30, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}}})
    parent = machine(sfn, {"StartAt": "Start", "States": {"Start": task(
        resource, {"StateMachineArn": child, "Input": {"a": 1}, "Name": "TestStartTarget"}, End=True)}})
    d = run(sfn, parent)
    assert d["status"] == "SUCCEEDED"
    out = json.loads(d["output"])
    assert out["Status"] == "SUCCEEDED" and out["Name"] == "TestStartTarget"
    assert out["Output"] == ({"Arg1": "argument1"} if parsed else '{"Arg1":"argument1"}')
    assert out["Input"] == ({"a": 1} if parsed else '{"a":1}')
    child_arn = out["ExecutionArn"]
    assert sfn.describe_execution(executionArn=child_arn)["status"] == "SUCCEEDED"
    types = [e["type"] for e in events(sfn, d["arn"])]
    assert types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]


def test_nested_sync_failure_is_task_failed(sfn):
    child = machine(sfn, {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "SomeFailure", "Cause": "boom"}}})
    parent = machine(sfn, {"StartAt": "Start", "States": {"Start": task(
        "arn:aws:states:::states:startExecution.sync", {"StateMachineArn": child}, End=True)}})
    d = run(sfn, parent)
    assert d["error"] == "States.TaskFailed"
    cause = json.loads(d["cause"])
    assert cause["Status"] == "FAILED" and cause["Error"] == "SomeFailure" and cause["Cause"] == "boom"


def test_start_execution_request_response(sfn):
    child = machine(sfn, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    parent = machine(sfn, {"StartAt": "Start", "States": {"Start": task(
        "arn:aws:states:::states:startExecution", {"StateMachineArn": child}, End=True)}})
    out = json.loads(run(sfn, parent)["output"])
    assert {"ExecutionArn", "StartDate", "SdkHttpMetadata", "SdkResponseMetadata"} == set(out)
    assert sfn.describe_execution(executionArn=out["ExecutionArn"])["status"] == "SUCCEEDED"


def test_express_sync_execution(sfn, table):
    arn = machine(sfn, {"StartAt": "Get", "States": {"Get": task(
        "arn:aws:states:::dynamodb:getItem", {"TableName": table, "Key": {"id": {"S": "o-1"}}},
        OutputPath="$.Item", End=True)}}, type="EXPRESS")
    r = sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    assert r["status"] == "SUCCEEDED"
    assert json.loads(r["output"]) == {"id": {"S": "o-1"}, "total": {"N": "120"}}
    assert r["billingDetails"] == {"billedDurationInMilliseconds": 100, "billedMemoryUsedInMB": 64}


def test_express_runs_at_most_five_minutes(sfn):
    arn = machine(sfn, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 400, "End": True}}},
                  type="EXPRESS")
    r = sfn.start_sync_execution(stateMachineArn=arn)
    assert r["status"] == "TIMED_OUT" and r["error"] == "States.Timeout"


@pytest.mark.parametrize("resource", ["arn:aws:states:::states:startExecution.sync",
                                      "arn:aws:states:::sqs:sendMessage.waitForTaskToken"])
def test_express_refuses_sync_and_callbacks(sfn, resource):
    with pytest.raises(sfn.exceptions.InvalidDefinition, match="Express state machine does not support"):
        machine(sfn, {"StartAt": "T", "States": {"T": task(resource, {"QueueUrl": "q", "MessageBody": "m"},
                                                            End=True)}}, type="EXPRESS")


def test_learner_clients_see_the_same_resources():
    sfn = sfnlab.client()
    from sfnlab.services import aws_client

    name = unique("shared")
    sfn.sfnlab.aws_client("sqs").create_queue(QueueName=name)
    urls = aws_client("sqs", client=sfn).list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    assert len(urls) == 1 and urls[0].endswith("/123456789012/" + name)


def test_aws_sdk_start_execution_answers_dates_as_iso_text(sfn):
    # Every aws-sdk integration renders SDK timestamps as ISO-8601 text (the optimized
    # states:startExecution answers epoch milliseconds instead: see the test above).
    child = machine(sfn, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    parent = machine(sfn, {"StartAt": "Start", "States": {"Start": task(
        "arn:aws:states:::aws-sdk:sfn:startExecution", {"StateMachineArn": child}, End=True)}})
    out = json.loads(run(sfn, parent)["output"])
    assert set(out) == {"ExecutionArn", "StartDate"}
    started = sfn.describe_execution(executionArn=out["ExecutionArn"])["startDate"]
    assert out["StartDate"].endswith("Z") and out["StartDate"][:19] == started.strftime("%Y-%m-%dT%H:%M:%S")


def test_sns_fifo_publish_has_a_sequence_number(sfn):
    sns = sfn.sfnlab.aws_client("sns")
    topic = sns.create_topic(Name=unique("t") + ".fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    arn = machine(sfn, {"StartAt": "Publish", "States": {"Publish": task(
        "arn:aws:states:::sns:publish", {"TopicArn": topic, "Message": "hi", "MessageGroupId": "g",
                                         "MessageDeduplicationId.$": "$.dedup"}, End=True)}})
    numbers = [json.loads(run(sfn, arn, {"dedup": str(i)})["output"])["SequenceNumber"] for i in range(2)]
    assert all(len(n) == 20 and n.isdigit() for n in numbers) and int(numbers[1]) > int(numbers[0])
