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


# Two more plausible wrong answers per exercise, tried "wrong first" as a learner would: each report
# must say what is wrong and where (the state, the field, the run and what differed).
ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:Worker"
PASS_END = {"Type": "Pass", "End": True}
SUCCEED = {"Type": "Succeed"}


def _choice(name: str, choices: list, default: str | None = None, **targets) -> dict:
    state = {"Type": "Choice", "Choices": choices}
    if default:
        state["Default"] = default
    return machine({name: state, **{t: SUCCEED for t in targets}})


def _payment(catch: list, **states) -> dict:
    return machine({"Charge": task("ProcessPayment", Catch=catch), **states}, start="Charge")


def _sum_state(output: dict) -> dict:
    return machine({"Sum": {"Type": "Pass", "End": True, "Output": output}}, QueryLanguage="JSONata")


def _seed_with(change) -> dict:
    definition = copy.deepcopy(FIXED_SEED)
    change(definition["States"])
    return definition


_STOCK_THEN_PRICE = {"StartAt": "Stock", "States": {"Stock": {"Type": "Task", "Resource": "CheckStock", "Next": "Price"},
                                                    "Price": task("GetPrice")}}
_BRANCHES = [{"StartAt": "Stock", "States": {"Stock": task("CheckStock")}},
             {"StartAt": "Price", "States": {"Price": task("GetPrice")}}]
_MAP_PROCESSOR = {"StartAt": "Price", "States": {"Price": task("GetPrice")}}
_KEEP = {"StartAt": "Keep", "States": {"Keep": PASS_END}}
_ASK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"

MORE_WRONG = {
    "01.1": [(machine({"Hello": {"Type": "Pass", "Result": "Hello, world", "Next": "Done"}, "Done": SUCCEED}),
              ['$ is "Hello, world"', 'expected {"greeting": "Hello, world"}']),
             (machine({"Hello": {"Type": "Pass", "Result": {"greeting": "Hello, world"}, "Next": "Done"},
                       "Done": PASS_END}),
              ["asks for a Succeed state", "it uses Pass"])],
    "01.2": [(machine({"Review": {"Type": "Pass", "Next": "Reject"}, "Reject": {"Type": "Fail", "Error": "OrderRejected"}}),
              ["State 'Reject': Cause is missing", '"Too expensive"']),
             (machine({"Review": {"Type": "Pass", "Next": "Reject"},
                       "Reject": {"Type": "Fail", "Error": "Rejected", "Cause": "Too expensive"}}),
              ['State \'Reject\': Error is "Rejected"', "expects error OrderRejected"])],
    "02.1": [(machine({"Price": task("arn:aws:states:::lambda:invoke", Parameters={"FunctionName": "GetPrice", "Payload.$": "$"})}),
              ["$.sku is missing", '"Payload"']),
             (machine({"Price": task("GetPrice", InputPath="$.sku")}),
              ["TypeError", "the function received \"B2\"", "in state 'Price'"])],
    "02.2": [(machine({"Price": task("arn:aws:states:::lambda:invoke", OutputPath="$.payload",
                                     Parameters={"FunctionName": "GetPrice", "Payload.$": "$"})}),
              ["States.Runtime", "Invalid path '$.payload'", "in state 'Price'"]),
             (machine({"Price": task("arn:aws:states:::lambda:invoke", ResultPath="$.Payload",
                                     Parameters={"FunctionName": "GetPrice", "Payload.$": "$"})}),
              ["$.price is missing", "expected 30"])],
    "02.3": [(machine({"Work": task(ACTIVITY, TimeoutSeconds=300)}),
              ["State 'Work': HeartbeatSeconds is missing", "asks for 60"]),
             (machine({"Work": task(ACTIVITY, TimeoutSeconds=5, HeartbeatSeconds=1)}),
              ["TimeoutSeconds is 5; the exercise asks for 300", "HeartbeatSeconds is 1; the exercise asks for 60"])],
    "03.1": [(_choice("Route", [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Manual"}], Manual=1),
              ['input {"total": 100}', "States.NoChoiceMatched", "expects it to end in 'Auto'"]),
             (_choice("Route", [{"Variable": "$.total", "StringGreaterThan": "100", "Next": "Manual"}], "Auto",
                      Manual=1, Auto=1),
              ['input {"total": 250}', "ended in state 'Auto'", "expects it to end in 'Manual'"])],
    "03.2": [(_choice("Where", [{"Or": [{"Variable": "$.country", "StringEquals": "FR"},
                                        {"Variable": "$.country", "StringEquals": "DE"}], "Next": "Europe"}], "Other",
                      Europe=1, Other=1),
              ["input {}", "States.Runtime", "Invalid path '$.country'", "expects it to end in 'Other'"]),
             (_choice("Where", [{"Or": [{"Variable": "$.country", "IsPresent": True},
                                        {"Variable": "$.country", "StringEquals": "FR"}], "Next": "Europe"}], "Other",
                      Europe=1, Other=1),
              ['input {"country": "JP"}', "ended in state 'Europe'", "expects it to end in 'Other'"])],
    "03.3": [(_choice("Triage", [{"And": [{"Variable": "$.vip", "IsPresent": True}, {"Variable": "$.vip", "BooleanEquals": True},
                                          {"Variable": "$.total", "NumericGreaterThan": 500}], "Next": "Priority"}],
                      "Normal", Priority=1, Normal=1),
              ['input {"vip": true, "total": 10}', 'input {"vip": false, "total": 600}', "expects it to end in 'Priority'"]),
             (_choice("Triage", [{"Variable": "$.total", "NumericGreaterThan": 500, "Next": "Priority"}], "Normal",
                      Priority=1, Normal=1),
              ['input {"vip": true, "total": 10}', "ended in state 'Normal'"])],
    "04.1": [(machine({"Pause": {"Type": "Wait", "SecondsPath": "$.wait", "End": True}}),
              ["States.Runtime", "SecondsPath", "$.wait", "expects 90 s"]),
             (machine({"Pause": {"Type": "Wait", "Seconds": "$.delay", "End": True}}),
              ["AWS would refuse this definition", "/States/Pause/Seconds"])],
    "04.2": [(machine({"Hold": {"Type": "Wait", "SecondsPath": "$.sendAt", "Next": "Send"}, "Send": SUCCEED}),
              ["States.Runtime", "SecondsPath", "cannot be parsed"]),
             (machine({"Hold": {"Type": "Wait", "Timestamp": "2025-01-01T09:00:00Z", "Next": "Send"}, "Send": SUCCEED}),
              ["waited 32400 s", "expects 118800 s", "expects 0 s"])],
    "05.1": [(machine({"Lookup": {"Type": "Parallel", "End": True, "Branches": [_STOCK_THEN_PRICE]}}),
              ["$ has 1 items; expected 2"]),
             (machine({"Lookup": {"Type": "Parallel", "End": True, "Branches": _BRANCHES,
                                  "ResultSelector": {"stock.$": "$[0]", "price.$": "$[1]"}}}),
              ["the output differs", 'expected [{"sku": "B2", "inStock": true}'])],
    "05.2": [(machine({"Lookup": {"Type": "Parallel", "OutputPath": "$.checks", "End": True, "Branches": _BRANCHES}}),
              ["States.Runtime", "Invalid path '$.checks'", "in state 'Lookup'"]),
             (machine({"Lookup": {"Type": "Parallel", "ResultPath": "$", "End": True, "Branches": _BRANCHES}}),
              ['$ is [{"sku": "A1", "inStock": true}', 'expected {"sku": "A1", "checks"'])],
    "06.1": [(machine({"PriceAll": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "End": True,
                                    "ItemProcessor": _MAP_PROCESSOR}}),
              ["State 'PriceAll': MaxConcurrency is 1; the exercise asks for 2"]),
             (machine({"PriceAll": {"Type": "Map", "MaxConcurrency": 2, "End": True, "ItemProcessor": _MAP_PROCESSOR}}),
              ["States.Runtime", 'Reference path "$" must point to array', "in state 'PriceAll'"])],
    "06.2": [(machine({"Lines": {"Type": "Map", "ItemsPath": "$.items", "End": True, "ItemProcessor": _KEEP,
                                 "ItemSelector": {"orderId.$": "$.orderId", "line.$": "$$.Map.Item.Index",
                                                  "item.$": "$$.Map.Item"}}}),
              ['$[0].item is {"Index": 0, "Value": "pen"}', 'expected "pen"']),
             (machine({"Lines": {"Type": "Map", "ItemsPath": "$.items", "End": True, "ItemProcessor": _KEEP,
                                 "ItemSelector": {"orderId": "$.orderId", "line.$": "$$.Map.Item.Index",
                                                  "item.$": "$$.Map.Item.Value"}}}),
              ["State 'Lines': ItemSelector.orderId is the literal text \"$.orderId\"", '("orderId.$")',
               '$[0].orderId is "$.orderId"; expected "o-9"'])],
    "07.1": [(machine({"Price": task("GetPrice", InputPath="$.order", ResultSelector={"price.$": "$.price"})}),
              ["$.order is missing", 'Your output: {"price": 12}']),
             (machine({"Price": task("GetPrice", ResultSelector={"price.$": "$.price"}, ResultPath="$.pricing")}),
              ["KeyError", "the function received {\"order\"", "in state 'Price'"])],
    "07.2": [(machine({"Price": task("GetPrice", Parameters={"sku.$": "$.sku"})}),
              ["States.Runtime", "The JSONPath '$.sku' specified for the field 'sku.$' could not be found"]),
             (machine({"Price": task("GetPrice", Parameters={"sku.$": "$.order"})}),
              ["TypeError", 'the function received {"sku": {"sku": "C3"}}'])],
    "07.3": [(machine({"Audit": {"Type": "Pass", "Result": {"audit": "logged"}, "ResultPath": "$", "End": True}}),
              ["$.orderId is missing", 'Your output: {"audit": "logged"}']),
             (machine({"Audit": {"Type": "Pass", "Result": {"audit": "logged"}, "ResultPath": "$.audit", "End": True}}),
              ["$ has a field the exercise does not expect: 'audit'"])],
    "08.1": [(machine({"M": {"Type": "Pass", "End": True, "Parameters": {
                 "message.$": "States.Format('Order {} costs {} EUR', $.total, $.orderId)"}}}),
              ['$.message is "Order 42 costs o-7 EUR"', 'expected "Order o-7 costs 42 EUR"']),
             (machine({"M": {"Type": "Pass", "End": True, "Parameters": {
                 "message.$": "States.Format(\"Order {} costs {} EUR\", $.orderId, $.total)"}}}),
              ["AWS would refuse this definition", "message.$", "/States/M/Parameters"])],
    "08.2": [(machine({"B": {"Type": "Pass", "End": True, "Parameters": {
                 "batches.$": "States.ArrayPartition($.ids, 3)",
                 "count.$": "States.ArrayLength(States.ArrayPartition($.ids, 3))"}}}),
              ["$.batches has 2 items; expected 3"]),
             (machine({"B": {"Type": "Pass", "End": True, "Parameters": {"batches.$": "States.ArrayPartition($.ids, 2)"}}}),
              ["$.count is missing (expected 3)"])],
    "09.1": [(machine({"Charge": task("ProcessPayment", Retry=[{"ErrorEquals": ["PaymentGatewayTimeout"],
                                                               "IntervalSeconds": 2, "BackoffRate": 2, "MaxAttempts": 2}])}),
              ["Retry[0].MaxAttempts is 2; the exercise asks for 3", "made 3 attempts; the exercise expects 4",
               "was 2s, 4s; the exercise expects 2s, 4s, 8s"]),
             (machine({"Charge": task("ProcessPayment", Retry=[{"ErrorEquals": ["PaymentDeclined"],
                                                               "IntervalSeconds": 2, "BackoffRate": 2, "MaxAttempts": 3}])}),
              ['Retry[0].ErrorEquals is ["PaymentDeclined"]', "PaymentGatewayTimeout: gateway did not answer",
               "made 1 attempt"])],
    "09.2": [(_payment([{"ErrorEquals": ["PaymentDeclined"], "ResultPath": "$.error", "Next": "PaymentFailed"}],
                       PaymentFailed={"Type": "Fail", "Error": "CardDeclined"}),
              ["ended FAILED with error CardDeclined in state 'PaymentFailed'", "expects error PaymentFailed"]),
             (_payment([{"ErrorEquals": ["PaymentGatewayTimeout"], "ResultPath": "$.error", "Next": "PaymentFailed"}],
                       PaymentFailed={"Type": "Fail", "Error": "PaymentFailed"}),
              ["ended in state 'Charge'", "PaymentDeclined: card declined", "expects error PaymentFailed"])],
    "09.3": [(_payment([{"ErrorEquals": ["PaymentDeclined"], "ResultPath": "$.error", "Next": "Unexpected"},
                        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "PaymentFailed"}],
                       PaymentFailed={"Type": "Fail", "Error": "PaymentFailed"}, Unexpected={"Type": "Fail", "Error": "Unexpected"}),
              ["ended in state 'Unexpected'", "expects it to end in 'PaymentFailed'"]),
             (_payment([{"ErrorEquals": ["PaymentDeclined", "States.ALL"], "ResultPath": "$.error", "Next": "PaymentFailed"}],
                       PaymentFailed={"Type": "Fail", "Error": "PaymentFailed"}, Unexpected={"Type": "Fail", "Error": "Unexpected"}),
              ["AWS would refuse this definition", "States.ALL must appear alone", "/States/Charge/Catch[0]"])],
    "10.1": [(machine({"AskManager": task(_ASK, Parameters={"QueueUrl": APPROVAL_QUEUE, "MessageBody": {
                 "taskToken.$": "$$.Task.Token", "orderId.$": "$.orderId"}})}),
              ["TimeoutSeconds is missing", "still RUNNING, waiting in state 'AskManager'", "expects FAILED with error States.Timeout"]),
             (machine({"AskManager": task(_ASK, TimeoutSeconds=3600, Parameters={"QueueUrl": APPROVAL_QUEUE, "MessageBody": {
                 "taskToken": "$$.Task.Token", "orderId.$": "$.orderId"}})}),
              ["Parameters.MessageBody.taskToken is the literal text \"$$.Task.Token\"", '("taskToken.$")'])],
    "10.2": [(machine({"RunChild": task("arn:aws:states:::states:startExecution.waitForTaskToken",
                                        Parameters={"StateMachineArn.$": "$.child", "Input.$": "$.input"})}),
              ["State 'RunChild': Resource is \"arn:aws:states:::states:startExecution.waitForTaskToken\"", ".sync:2"]),
             (machine({"RunChild": task("arn:aws:states:::states:startExecution.sync:2",
                                        Parameters={"StateMachineArn": "$.child", "Input.$": "$.input"})}),
              ["Parameters.StateMachineArn is the literal text \"$.child\"", '("StateMachineArn.$")'])],
    "11.1": [(machine({"SaveOrder": task("arn:aws:states:::dynamodb:putItem", Parameters={
                 "TableName": "Orders", "Item": {"orderId": {"S.$": "$.orderId"}, "total": {"N.$": "$.total"}}})}),
              ["DynamoDB.AmazonDynamoDBException", "NUMBER_VALUE cannot be converted to String", "in state 'SaveOrder'"]),
             (machine({"SaveOrder": task("arn:aws:states:::dynamodb:putItem", Parameters={
                 "TableName": "Orders", "Item": {"id": {"S.$": "$.orderId"}}})}),
              ["Missing the key orderId in the item", "no item with orderId \"o-11\""])],
    "11.2": [(machine({"Notify": task("arn:aws:states:::sns:publish", Parameters={
                 "TopicArn": "arn:aws:sns:us-east-1:123456789012:Orders",
                 "Message.$": "States.Format('Order {} confirmed', $.orderId)"})}),
              ["SNS.NotFoundException", "in state 'Notify'"]),
             (machine({"Notify": task("arn:aws:states:::sqs:sendMessage", Parameters={
                 "QueueUrl": ORDERS_TOPIC, "MessageBody.$": "States.Format('Order {} confirmed', $.orderId)"})}),
              ["State 'Notify': Resource is \"arn:aws:states:::sqs:sendMessage\"", "arn:aws:states:::sns:publish"])],
    "12.1": [(machine({"ProcessRows": {**CSV_MAP, "ItemProcessor": {**CSV_MAP["ItemProcessor"],
                                                                    "ProcessorConfig": {"Mode": "INLINE"}}}}),
              ["ItemProcessor.ProcessorConfig.Mode is \"INLINE\"", "\"DISTRIBUTED\""]),
             (machine({"ProcessRows": {**CSV_MAP, "ItemReader": {**CSV_MAP["ItemReader"],
                                                                 "Parameters": {"Bucket": DATA_BUCKET, "Key": "$.key"}}}}),
              ["ItemReader.Parameters.Key is the literal text \"$.key\"", '("Key.$")', "States.ItemReaderFailed"])],
    "12.2": [(machine({"ProcessRows": {**CSV_MAP, "ToleratedFailurePercentage": 1}}),
              ["ToleratedFailurePercentage is 1; the exercise asks for 10", "States.ExceedToleratedFailureThreshold"]),
             (machine({"ProcessRows": {**CSV_MAP, "ToleratedFailurePercentage": 0.1}}),
              ["ToleratedFailurePercentage is 0.1; the exercise asks for 10"])],
    "13.1": [(machine({"Price": task("arn:aws:states:us-east-1:123456789012:activity:Price")}),
              ["States.Runtime", "Activity does not exist", "expects SUCCEEDED"]),
             (machine({"Price": task("GetPrice", OutputPath="$.price")}),
              ["$ is 5; expected {\"sku\": \"A1\", \"price\": 5}"])],
    "13.2": [(machine({"Cooldown": {"Type": "Wait", "Seconds": 100, "Next": "Send"},
                       "Send": {"Type": "Wait", "Seconds": 250, "End": True}}),
              ["ended TIMED_OUT with error States.Timeout in state 'Send'", "expects SUCCEEDED"]),
             (machine({"Cooldown": {"Type": "Wait", "Seconds": 120, "Next": "Send"},
                       "Send": {"Type": "Pass", "Result": "receipt sent", "End": True}}, TimeoutSeconds=600)
              | {"States": {"Cooldown": {"Type": "Wait", "Seconds": 400, "Next": "Send"},
                            "Send": {"Type": "Pass", "Result": "receipt sent", "End": True}}},
              ["TIMED_OUT", "States.Timeout", "expects SUCCEEDED"])],
    "14.1": [(_seed_with(lambda s: s["CheckInventory"].update(ResultSelector={"quantity.$": "$.Item.quantity.N"})),
              ["ended in state 'NotifyOutOfStock'", "expects it to end in 'OrderComplete'"]),
             (_seed_with(lambda s: s["IsInStock"]["Choices"][0].update(Variable="$.inventory.Item.quantity.N")),
              ["States.Runtime", "Invalid path '$.inventory.Item.quantity.N'", "in state 'IsInStock'"])],
    "14.2": [(_seed_with(lambda s: s["ProcessPayment"]["Catch"].append({"ErrorEquals": ["States.ALL"], "Next": "HandlePaymentError"})),
              ["Catch[1] (States.ALL): ResultPath is missing", "to keep the order"]),
             (_seed_with(lambda s: s["ProcessPayment"]["Catch"].append(
                 {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyOutOfStock"})),
              ["Catch[1] (States.ALL) goes to \"NotifyOutOfStock\"", "asks for \"HandlePaymentError\""])],
    "16.1": [(_sum_state({"total": "{% $sum($states.input.items.price) %}", "lines": "{% $count($states.input.items) %}"}),
              ["$.total is 17; expected 22"]),
             (_sum_state({"total": "{% $sum($.items.(price * qty)) %}", "lines": "{% $count($states.input.items) %}"}),
              ["States.QueryEvaluationError", "$sum($.items.(price * qty))", "in state 'Sum'"])],
    "16.2": [(machine({"Remember": {"Type": "Pass", "Assign": {"customer": "{% $states.input.customer %}"}, "Next": "Count"},
                       "Count": {"Type": "Pass", "End": True, "Output": {"customer": "{% $customer %}",
                                                                         "count": "{% $count($states.input.items) %}"}}},
                      QueryLanguage="JSONata"),
              ["state 'Remember' still passes 'customer' on in its output"]),
             (machine({"Remember": {"Type": "Pass", "Assign": {"customer": "{% $states.input.customer %}"},
                                    "Output": {"items": "{% $states.input.items %}"}, "Next": "Count"},
                       "Count": {"Type": "Pass", "End": True, "Output": {"customer": "{% $states.input.customer %}",
                                                                         "count": "{% $count($states.input.items) %}"}}},
                      QueryLanguage="JSONata"),
              ["States.QueryEvaluationError", "'$states.input.customer'", "returned nothing", "in state 'Count'"])],
}


def test_every_exercise_has_two_more_wrong_answers():
    assert sorted(MORE_WRONG) == sorted(EXERCISES)
    assert all(len(answers) >= 2 for answers in MORE_WRONG.values())


@pytest.mark.parametrize("key,index", [(k, i) for k in sorted(MORE_WRONG) for i in range(len(MORE_WRONG[k]))])
def test_more_mistakes_are_explained(key: str, index: int):
    definition, words = MORE_WRONG[key][index]
    report = check(key, definition)
    text = str(report)
    assert not report.passed, text
    for word in words:
        assert word in text, f"{word!r} not in the report:\n{text}"
    assert len(report.problems) == len(set(report.problems)), text


def test_a_missing_state_in_a_catch_check_does_not_crash():
    # 09.2's check looks at PaymentFailed's input; when the catcher never fires, it must report, not crash.
    report = check("09.2", MORE_WRONG["09.2"][1][0])
    assert not report.passed and "ended in state 'Charge'" in str(report)
