"""The exercise checks fail helpfully on typical wrong answers (the notebooks prove they pass).

Each case is a mistake a learner makes, and words the report must contain: the state, the
field, what was found and what was expected, or AWS's diagnostic with its location.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from sfnlab.exercises import APPROVAL_QUEUE, DATA_BUCKET, EXERCISES, ORDERS_TOPIC, PASS_MARK, check

SEED = json.loads((Path(__file__).resolve().parent.parent / "notebooks" / "data" / "order-workflow.asl.json")
                  .read_text().replace(":123:", ":123456789012:"))


def machine(states: dict, start: str | None = None, **top) -> dict:
    return {"StartAt": start or next(iter(states)), "States": states, **top}


def task(resource: str, **fields) -> dict:
    return {"Type": "Task", "Resource": resource, "End": True, **fields}


FIXED_SEED = copy.deepcopy(SEED)
FIXED_SEED["States"]["CheckInventory"]["ResultSelector"] = {"quantity.$": "States.StringToJson($.Item.quantity.N)"}
FIXED_SEED["States"]["IsInStock"]["Choices"][0]["Variable"] = "$.inventory.quantity"

CSV_MAP = {"Type": "Map", "End": True,
           "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                          "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                          "Parameters": {"Bucket": DATA_BUCKET, "Key.$": "$.key"}},
           "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                             "StartAt": "Parse", "States": {"Parse": {"Type": "Pass", "End": True,
                                                             "Parameters": {"amount.$": "States.StringToJson($.amount)"}}}}}

WRONG = {
    "01.1": (machine({"Hello": {"Type": "Pass", "Result": {"greeting": "Hello, world"}, "End": True}}),
             ["ended in state 'Hello'", "expects it to end in 'Done'", "Succeed state"]),
    "01.2": (machine({"Review": {"Type": "Pass", "Next": "Reject"},
                      "Reject": {"Type": "Fail", "Error": "OrderRejected", "Cause": "Too expensive", "End": True}}),
             ["SCHEMA_VALIDATION_FAILED", "Field 'End' is not supported", "/States/Reject"]),
    "02.1": (machine({"Price": task("GetPrices")}), ["Lambda.ResourceNotFoundException", "expects SUCCEEDED"]),
    "02.2": (machine({"Price": task("arn:aws:states:::lambda:invoke",
                                    Parameters={"FunctionName": "GetPrice", "Payload.$": "$"})}),
             ["the output differs", "$.sku is missing"]),
    "02.3": (machine({"Work": task("arn:aws:states:us-east-1:123456789012:activity:Worker",
                                   TimeoutSeconds=300, HeartbeatSeconds=300)}),
             ["HeartbeatSeconds must be smaller than TimeoutSeconds", "/States/Work"]),
    "03.1": (machine({"Route": {"Type": "Choice", "Default": "Auto", "Choices": [
                 {"Variable": "$.total", "NumericGreaterThanEquals": 100, "Next": "Manual"}]},
                 "Manual": {"Type": "Succeed"}, "Auto": {"Type": "Succeed"}}),
             ['input {"total": 100}', "ended in state 'Manual'", "expects it to end in 'Auto'"]),
    "03.2": (machine({"Where": {"Type": "Choice", "Choices": [
                 {"Variable": "$.country", "StringEquals": "FR", "Next": "Europe"}]},
                 "Europe": {"Type": "Succeed"}, "Other": {"Type": "Succeed"}}),
             ["MISSING_TRANSITION_TARGET", "not reachable", "/States/Other"]),
    "03.3": (machine({"Triage": {"Type": "Choice", "Default": "Normal", "Choices": [{"Or": [
                 {"Variable": "$.vip", "BooleanEquals": True}, {"Variable": "$.total", "NumericGreaterThan": 500}],
                 "Next": "Priority"}]}, "Priority": {"Type": "Succeed"}, "Normal": {"Type": "Succeed"}}),
             ['input {"total": 20}', "States.Runtime", "Invalid path '$.vip'"]),
    "04.1": (machine({"Pause": {"Type": "Wait", "Seconds": 90, "End": True}}), ["waited 90 s", "expects 5 s"]),
    "04.2": (machine({"Hold": {"Type": "Wait", "Timestamp": "$.sendAt", "End": True}}),
             ["AWS would refuse this definition", "/States/Hold"]),
    "05.1": (machine({"Lookup": {"Type": "Parallel", "End": True, "Branches": [
                 {"StartAt": "Price", "States": {"Price": task("GetPrice")}},
                 {"StartAt": "Stock", "States": {"Stock": task("CheckStock")}}]}}),
             ["$[0]", "the output differs"]),
    "05.2": (machine({"Lookup": {"Type": "Parallel", "End": True, "Branches": [
                 {"StartAt": "Stock", "States": {"Stock": task("CheckStock")}},
                 {"StartAt": "Price", "States": {"Price": task("GetPrice")}}]}}),
             ["the output differs", "expected"]),
    "06.1": (machine({"PriceAll": {"Type": "Map", "ItemsPath": "$.items", "End": True, "ItemProcessor": {
                 "StartAt": "Price", "States": {"Price": task("GetPrice")}}}}),
             ["State 'PriceAll': MaxConcurrency is missing", "asks for 2"]),
    "06.2": (machine({"Lines": {"Type": "Map", "ItemsPath": "$.items", "End": True,
                                "ItemSelector": {"orderId.$": "$.orderId", "line.$": "$$.Map.Item.Index", "item.$": "$"},
                                "ItemProcessor": {"StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "End": True}}}}}),
             ["$[0].item is", 'expected "pen"']),
    "07.1": (machine({"Price": task("GetPrice", InputPath="$.order", ResultPath="$.pricing")}),
             ["$.pricing has a field the exercise does not expect: 'sku'"]),
    "07.2": (machine({"Price": task("GetPrice", Parameters={"sku": "$.order.sku"})}),
             ['$.sku is "$.order.sku"', 'expected "C3"']),
    "07.3": (machine({"Audit": {"Type": "Pass", "Result": {"audit": "logged"}, "End": True}}),
             ["$.orderId is missing"]),
    "08.1": (machine({"M": {"Type": "Pass", "End": True,
                            "Parameters": {"message": "States.Format('Order {} costs {} EUR', $.orderId, $.total)"}}}),
             ["$.message is", "expected \"Order o-7 costs 42 EUR\""]),
    "08.2": (machine({"B": {"Type": "Pass", "End": True, "Parameters": {
                 "batches.$": "States.ArrayPartition($.ids, 2)", "count.$": "States.ArrayLength($.ids)"}}}),
             ["$.count is 5; expected 3"]),
    "09.1": (machine({"Charge": task("ProcessPayment", Retry=[{"ErrorEquals": ["PaymentGatewayTimeout"],
                                                               "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxAttempts": 3}])}),
             ["State 'Charge': Retry[0].BackoffRate is 1.5; the exercise asks for 2", "2s, 3s, 4.5s"]),
    "09.2": (machine({"Charge": task("ProcessPayment", Catch=[{"ErrorEquals": ["PaymentDeclined"], "Next": "PaymentFailed"}]),
                      "PaymentFailed": {"Type": "Fail", "Error": "PaymentFailed"}}, start="Charge"),
             ["PaymentFailed's input should be the order with the error under $.error"]),
    "09.3": (machine({"Charge": task("ProcessPayment", Catch=[
                 {"ErrorEquals": ["States.ALL"], "Next": "Unexpected"},
                 {"ErrorEquals": ["PaymentDeclined"], "Next": "PaymentFailed"}]),
                 "PaymentFailed": {"Type": "Fail", "Error": "PaymentFailed"},
                 "Unexpected": {"Type": "Fail", "Error": "Unexpected"}}, start="Charge"),
             ["AWS would refuse this definition", "/States/Charge/Catch"]),
    "10.1": (machine({"AskManager": task("arn:aws:states:::sqs:sendMessage", Parameters={
                 "QueueUrl": APPROVAL_QUEUE, "MessageBody": {"orderId.$": "$.orderId"}})}),
             ["Resource is \"arn:aws:states:::sqs:sendMessage\"", "taskToken.$ is missing", "TimeoutSeconds is missing",
              "no taskToken"]),
    "10.2": (machine({"RunChild": task("arn:aws:states:::states:startExecution",
                                       Parameters={"StateMachineArn.$": "$.child"})}),
             ["State 'RunChild': Resource is", "startExecution.sync:2"]),
    "11.1": (machine({"SaveOrder": task("SaveOrderFunction")}),
             ["calls a Lambda function", "direct service integration", "dynamodb:putItem"]),
    "11.2": (machine({"Notify": task("arn:aws:states:::sns:publish", Parameters={
                 "TopicArn": ORDERS_TOPIC, "Message": "States.Format('Order {} confirmed', $.orderId)"})}),
             ["Parameters.Message.$ is missing"]),
    "12.1": (machine({"ProcessRows": {**CSV_MAP, "ItemReader": {**CSV_MAP["ItemReader"],
                                                                "ReaderConfig": {"InputType": "CSV"}}}}),
             ["ReaderConfig.CSVHeaderLocation is missing", "FIRST_ROW"]),
    "12.2": (machine({"ProcessRows": {**CSV_MAP}}),
             ["ToleratedFailurePercentage is missing", "States.ExceedToleratedFailureThreshold"]),
    "13.1": (machine({"Price": task("arn:aws:states:::lambda:invoke.waitForTaskToken",
                                    Parameters={"FunctionName": "GetPrice", "Payload": {"t.$": "$$.Task.Token"}})}),
             ["expects SUCCEEDED"]),
    "13.2": (machine({"Cooldown": {"Type": "Wait", "Seconds": 600, "End": True}}),
             ["TIMED_OUT", "States.Timeout", "expects SUCCEEDED"]),
    "14.1": (SEED, ["ended in state 'NotifyOutOfStock'", "expects it to end in 'OrderComplete'"]),
    "14.2": (FIXED_SEED, ["Catch has no States.ALL catcher", "error PaymentGatewayTimeout", "expects error PaymentFailed"]),
    "16.1": (machine({"Sum": {"Type": "Pass", "End": True, "Parameters": {"lines.$": "States.ArrayLength($.items)"}}}),
             ["QueryLanguage is JSONPath (the default); the exercise asks for JSONata"]),
    "16.2": (machine({"Remember": {"Type": "Pass", "Output": {"items": "{% $states.input.items %}"}, "Next": "Count"},
                      "Count": {"Type": "Pass", "End": True, "Output": {"count": "{% $count($states.input.items) %}"}}},
                     QueryLanguage="JSONata"),
             ["$.customer is missing"]),
}


def test_every_exercise_has_a_wrong_answer_here():
    assert sorted(EXERCISES) == sorted(WRONG)


@pytest.mark.parametrize("key", sorted(WRONG))
def test_a_typical_mistake_is_explained(key: str):
    definition, words = WRONG[key]
    report = check(key, definition)
    text = str(report)
    assert not report.passed, text
    assert PASS_MARK not in text
    for word in words:
        assert word in text, f"{word!r} not in the report:\n{text}"
    assert "assert" not in text.lower()
    html = report._repr_html_()
    assert "✘" in html


def test_json_text_that_is_not_json_is_reported():
    report = check("01.1", '{"StartAt": "Hello",')
    assert not report.passed and "not valid JSON" in report.problems[0]


def test_a_passing_report_lists_what_was_checked():
    report = check("01.1", machine({"Hello": {"Type": "Pass", "Result": {"greeting": "Hello, world"}, "Next": "Done"},
                                    "Done": {"Type": "Succeed"}}))
    assert report.passed, str(report)
    assert str(report).splitlines()[1].startswith(f"✔ {PASS_MARK}")
    assert report.draw() is not None
