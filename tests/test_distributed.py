"""Distributed Map over S3 data: ItemReader, ItemBatcher, tolerated failures, ResultWriter."""
from __future__ import annotations

import json
import uuid

import pytest

import sfnlab

ROLE = "arn:aws:iam::123456789012:role/sfn"


@pytest.fixture(scope="module")
def sfn():
    return sfnlab.client()


@pytest.fixture(scope="module")
def bucket(sfn):
    name = f"data-{uuid.uuid4().hex[:8]}"
    s3 = sfn.sfnlab.aws_client("s3")
    s3.create_bucket(Bucket=name)
    rows = "id,amount\n" + "\n".join(f"{i},{i % 100}" for i in range(10_000))
    s3.put_object(Bucket=name, Key="rows.csv", Body=rows.encode())
    s3.put_object(Bucket=name, Key="items.json", Body=json.dumps([{"n": i} for i in range(5)]).encode())
    s3.put_object(Bucket=name, Key="items.jsonl", Body=b'{"n": 1}\n{"n": 2}\n')
    return name


def distributed(reader: dict, processor_states: dict, **extra) -> dict:
    return {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemReader": reader,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                          "StartAt": next(iter(processor_states)), "States": processor_states},
        "End": True, **extra}}}


def run(sfn, definition: dict) -> dict:
    arn = sfn.create_state_machine(name=f"dm-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    return sfn.describe_execution(executionArn=ex)


def test_csv_with_batcher_tolerance_and_writer(sfn, bucket):
    definition = distributed(
        {"Resource": "arn:aws:states:::s3:getObject",
         "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
         "Parameters": {"Bucket": bucket, "Key": "rows.csv"}},
        {"Check": {"Type": "Choice", "Choices": [{"Variable": "$.Items[0].id", "StringEquals": "0", "Next": "Bad"}],
                   "Default": "Count"},
         "Bad": {"Type": "Fail", "Error": "BadBatch", "Cause": "first batch"},
         "Count": {"Type": "Pass", "Parameters": {"n.$": "States.ArrayLength($.Items)", "src.$": "$.BatchInput.src"},
                   "End": True}},
        ItemBatcher={"MaxItemsPerBatch": 100, "BatchInput": {"src": "rows.csv"}},
        ToleratedFailurePercentage=5,
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix": "out"}})
    d = run(sfn, definition)
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert out["ResultWriterDetails"]["Bucket"] == bucket
    key = out["ResultWriterDetails"]["Key"]
    assert key.startswith("out/") and key.endswith("/manifest.json")
    s3 = sfn.sfnlab.aws_client("s3")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert manifest["MapRunArn"] == out["MapRunArn"] and ":mapRun:" in out["MapRunArn"]
    succeeded = json.loads(s3.get_object(Bucket=bucket, Key=manifest["ResultFiles"]["SUCCEEDED"][0]["Key"])["Body"]
                           .read())
    failed = json.loads(s3.get_object(Bucket=bucket, Key=manifest["ResultFiles"]["FAILED"][0]["Key"])["Body"].read())
    assert len(succeeded) == 99 and len(failed) == 1
    assert json.loads(succeeded[0]["Output"]) == {"n": 100, "src": "rows.csv"}
    assert failed[0]["Error"] == "BadBatch"
    described = sfn.describe_map_run(mapRunArn=out["MapRunArn"])
    assert described["status"] == "SUCCEEDED" and described["itemCounts"]["failed"] == 1


def test_failures_over_the_threshold(sfn, bucket):
    definition = distributed(
        {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
         "Parameters": {"Bucket": bucket, "Key": "items.json"}},
        {"F": {"Type": "Fail", "Error": "Nope"}}, ToleratedFailureCount=1)
    d = run(sfn, definition)
    assert d["status"] == "FAILED" and d["error"] == "States.ExceedToleratedFailureThreshold"


@pytest.mark.parametrize("reader, expected", [
    ({"ReaderConfig": {"InputType": "JSON", "MaxItems": 2}, "Key": "items.json"}, [{"n": 0}, {"n": 1}]),
    ({"ReaderConfig": {"InputType": "JSONL"}, "Key": "items.jsonl"}, [{"n": 1}, {"n": 2}]),
    ({"ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["a", "b"], "MaxItems": 1},
      "Key": "rows.csv"}, [{"a": "id", "b": "amount"}]),
])
def test_readers(sfn, bucket, reader, expected):
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": reader["ReaderConfig"],
                              "Parameters": {"Bucket": bucket, "Key": reader["Key"]}},
                             {"P": {"Type": "Pass", "End": True}})
    d = run(sfn, definition)
    assert json.loads(d["output"]) == expected


def test_list_objects(sfn, bucket):
    definition = distributed({"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": bucket,
                                                                                             "Prefix": "items"}},
                             {"P": {"Type": "Pass", "OutputPath": "$.Key", "End": True}})
    assert json.loads(run(sfn, definition)["output"]) == ["items.json", "items.jsonl"]


def test_max_input_bytes_per_batch(sfn):
    from sfnlab.distributed import batch_items

    class State:
        is_jsonata = False
        item_batcher = {"MaxInputBytesPerBatch": 50}

    batches = batch_items(None, State(), [{"k": "x" * 10}] * 5, {}, {}, None)
    assert [len(b["Items"]) for b in batches] == [2, 2, 1]
    assert all(len(json.dumps(b, separators=(",", ":"))) <= 50 for b in batches)
