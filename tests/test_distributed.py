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


# A processor whose children fail for the rows whose amount is "13" and output {"id": ...} otherwise.
UNLUCKY_13 = {
    "Odd": {"Type": "Choice", "Choices": [{"Variable": "$.amount", "StringEquals": "13", "Next": "Bad"}],
            "Default": "Ok"},
    "Bad": {"Type": "Fail", "Error": "Unlucky", "Cause": "13"},
    "Ok": {"Type": "Pass", "Parameters": {"id.$": "$.id"}, "End": True},
}


def manifest_of(s3, bucket: str, described: dict) -> dict:
    """The manifest.json a ResultWriter wrote, found from the execution's output."""
    key = json.loads(described["output"])["ResultWriterDetails"]["Key"]
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


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


# ---- at scale: streamed items, spooled results, bounded children -------------------------------


def test_spool_reads_back_in_order_and_by_index():
    from sfnlab.distributed import Spool

    values = [{"n": i, "s": "é" * (i % 3)} for i in range(50)] + [[1, 2.5, None, True], "x\ny", 7]
    spool = Spool(json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in values)
    assert len(spool) == len(values)
    assert list(spool) == values
    assert spool[51] == "x\ny" and spool[3] == values[3] and spool[-1] == 7  # random access
    out = __import__("io").BytesIO()
    size = spool.write_array(out)
    assert json.loads(out.getvalue()) == values and size == len(out.getvalue())


def test_spool_moves_to_disk_and_still_reads_back(monkeypatch):
    from sfnlab.distributed import Spool

    monkeypatch.setattr(Spool, "IN_MEMORY", 1024)
    spool = Spool(json.dumps({"i": i}) for i in range(5000))
    assert spool._file._rolled  # on disk: only the offsets stay in memory
    assert spool[4999] == {"i": 4999} and spool[0] == {"i": 0} and sum(v["i"] for v in spool) == sum(range(5000))


def test_batches_of_a_spool_are_the_batches_of_the_list():
    from sfnlab.distributed import Spool, batch_items

    class State:
        is_jsonata = False
        item_batcher = {"MaxItemsPerBatch": 4, "MaxInputBytesPerBatch": 120, "BatchInput": {"b": "ü"}}

    import random
    from types import SimpleNamespace

    from sfnlab.paths import Scope

    execution = SimpleNamespace(runtime=SimpleNamespace(random=random.Random(0)))
    items = [{"k": "v" * (i % 17), "i": i} for i in range(40)]
    from_list = list(batch_items(execution, State(), items, {}, {}, Scope({}, {}, {})))
    from_spool = list(batch_items(execution, State(), Spool(json.dumps(i, separators=(",", ":")) for i in items), {},
                                  {}, Scope({}, {}, {})))
    assert from_list == from_spool
    assert [i for b in from_list for i in b["Items"]] == items
    assert all(len(b["Items"]) <= 4 and b["BatchInput"] == {"b": "ü"} for b in from_list)
    assert all(len(json.dumps(b, separators=(",", ":"), ensure_ascii=False).encode()) <= 120 for b in from_list
               if len(b["Items"]) > 1)


def test_csv_stream_keeps_quoted_line_breaks_and_crlf(sfn, bucket):
    s3 = sfn.sfnlab.aws_client("s3")
    s3.put_object(Bucket=bucket, Key="quoted.csv",
                  Body='a,b\r\n1,"two\r\nlines"\r\n\r\n3,"say ""hi"""\r\n4\r\n'.encode())
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject",
                              "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                              "Parameters": {"Bucket": bucket, "Key": "quoted.csv"}},
                             {"P": {"Type": "Pass", "End": True}})
    assert json.loads(run(sfn, definition)["output"]) == [
        {"a": "1", "b": "two\r\nlines"}, {"a": "3", "b": 'say "hi"'}, {"a": "4", "b": ""}]


def test_jsonl_stream_skips_blank_lines_and_max_items_stops_early(sfn, bucket):
    s3 = sfn.sfnlab.aws_client("s3")
    s3.put_object(Bucket=bucket, Key="many.jsonl", Body=b'{"n": 0}\n\n' + b"".join(b'{"n": %d}\n' % i for i in range(1, 5000))
                  + b"not json\n")
    reader = {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": bucket, "Key": "many.jsonl"}}
    limited = distributed({**reader, "ReaderConfig": {"InputType": "JSONL", "MaxItems": 3}},
                          {"P": {"Type": "Pass", "End": True}})
    assert json.loads(run(sfn, limited)["output"]) == [{"n": 0}, {"n": 1}, {"n": 2}]  # the bad line is never read
    d = run(sfn, distributed({**reader, "ReaderConfig": {"InputType": "JSONL"}}, {"P": {"Type": "Pass", "End": True}}))
    assert (d["status"], d["error"]) == ("FAILED", "States.ItemReaderFailed")
    assert d["cause"].startswith("The object could not be read as JSONL: Expecting value")


def test_results_over_256_kib_without_a_writer_fail_the_map(sfn, bucket):
    # AWS: a Distributed Map's results are its output; past 256 KiB, export them with a ResultWriter.
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject",
                              "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                              "Parameters": {"Bucket": bucket, "Key": "rows.csv"}},
                             {"P": {"Type": "Pass", "End": True}}, MaxConcurrency=1000)
    d = run(sfn, definition)
    assert (d["status"], d["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert d["cause"] == ("The state/task 'M' returned a result with a size exceeding the maximum number of "
                          "bytes service limit.")
    # The results are checked as a task result: discarding them does not help (aws-cdk issue #24799) ...
    for discard in ({"ResultPath": None}, {"OutputPath": None}, {"ResultSelector": {"kept": 1}}):
        d = run(sfn, {**definition, "States": {"M": {**definition["States"]["M"], **discard}}})
        assert (d["status"], d["error"]) == ("FAILED", "States.DataLimitExceeded"), discard
    # ... and a Catch sees it, as it sees a task result that is too large.
    caught = {**{k: v for k, v in definition["States"]["M"].items() if k != "End"}, "Next": "Done",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done", "ResultPath": "$.error"}]}
    d = run(sfn, {"StartAt": "M", "States": {"M": caught, "Done": {"Type": "Pass", "End": True}}})
    assert d["status"] == "SUCCEEDED" and json.loads(d["output"])["error"]["Error"] == "States.DataLimitExceeded"


def test_results_past_256_kib_are_spooled_and_a_redrive_fails_the_same_way(bucket):
    from sfnlab.distributed import _MapResults

    kept = []
    original = _MapResults.keep

    def spy(self, index, result, failed, text=None):
        original(self, index, result, failed, text)
        kept.append(self)

    calls = [0]

    def echo(event, context):
        calls[0] += 1
        return event

    sfn = sfnlab.client(functions={"Echo": echo})
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject",
                              "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                              "Parameters": {"Bucket": bucket, "Key": "rows.csv"}},
                             {"T": {"Type": "Task", "Resource": "Echo", "End": True}}, MaxConcurrency=1000)
    arn = sfn.create_state_machine(name="too-big", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_MapResults, "keep", spy)
        ex = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert sfn.describe_execution(executionArn=ex)["error"] == "States.DataLimitExceeded"
    results = kept[-1]
    in_memory = [v for v in results.values() if v is not None]
    assert 0 < len(in_memory) < 10_000 and len(results._spool) == 10_000 - len(in_memory)
    assert results[9_999] == {"id": "9999", "amount": "99"} and results[0] == {"id": "0", "amount": "0"}
    # Every child succeeded: a redrive runs none of them again and fails as before.
    sfn.redrive_execution(executionArn=ex)
    d = sfn.describe_execution(executionArn=ex)
    assert (d["status"], d["error"], calls[0]) == ("FAILED", "States.DataLimitExceeded", 10_000)


def test_many_children_write_every_result_and_keep_a_bounded_few(sfn, bucket):
    definition = distributed(
        {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation":
                                                                        "FIRST_ROW", "MaxItems": 3000},
         "Parameters": {"Bucket": bucket, "Key": "rows.csv"}},
        UNLUCKY_13,
        MaxConcurrency=50, ToleratedFailureCount=30,
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix": "many"}})
    d = run(sfn, definition)
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    s3 = sfn.sfnlab.aws_client("s3")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=out["ResultWriterDetails"]["Key"])["Body"].read())

    def records(kind):
        [entry] = manifest["ResultFiles"][kind]
        body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
        assert entry["Size"] == len(body)
        return json.loads(body)

    succeeded, failed = records("SUCCEEDED"), records("FAILED")
    assert sorted(int(json.loads(r["Output"])["id"]) for r in succeeded) == [i for i in range(3000) if i % 100 != 13]
    assert len(failed) == 30 and {(r["Error"], r["Cause"]) for r in failed} == {("Unlucky", "13")}
    counts = sfn.describe_map_run(mapRunArn=out["MapRunArn"])["itemCounts"]
    assert (counts["total"], counts["succeeded"], counts["failed"], counts["resultsWritten"]) == (3000, 2970, 30, 3000)
    listed = sfn.list_executions(mapRunArn=out["MapRunArn"], maxResults=1000)["executions"]
    assert len(listed) == 1000  # the Map Run keeps its first 1,000 children in full
    assert {e["status"] for e in listed} == {"SUCCEEDED", "FAILED"}


def test_without_max_concurrency_at_most_10000_children_run_at_once(sfn, bucket):
    # 10,001 children that each wait 10 s: the last one starts when the first ones end (AWS's default).
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject",
                              "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "GIVEN",
                                               "CSVHeaders": ["id", "amount"], "MaxItems": 10_001},
                              "Parameters": {"Bucket": bucket, "Key": "rows.csv"}},
                             {"W": {"Type": "Wait", "Seconds": 10, "End": True}},
                             ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                                           "Parameters": {"Bucket": bucket, "Prefix": "wide"}})
    d = run(sfn, definition)
    assert d["status"] == "SUCCEEDED", d
    assert (d["stopDate"] - d["startDate"]).total_seconds() == 20


@pytest.mark.parametrize("writer", [True, False])
def test_redrive_runs_only_the_children_that_did_not_succeed(bucket, writer):
    calls: dict[int, int] = {}

    def flaky(event, context):
        calls[event["n"]] = calls.get(event["n"], 0) + 1
        if event["n"] == 3 and calls[3] == 1:
            raise RuntimeError("first try fails")
        return {"twice": event["n"] * 2}

    sfn = sfnlab.client(functions={"Flaky": flaky})
    extra = {"ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                              "Parameters": {"Bucket": bucket, "Prefix": "redrive"}}} if writer else {}
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                              "Parameters": {"Bucket": bucket, "Key": "items.json"}},
                             {"T": {"Type": "Task", "Resource": "Flaky", "End": True}}, MaxConcurrency=1, **extra)
    arn = sfn.create_state_machine(name="redrive", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert sfn.describe_execution(executionArn=ex)["status"] == "FAILED"
    assert calls == {0: 1, 1: 1, 2: 1, 3: 1}
    sfn.redrive_execution(executionArn=ex)
    d = sfn.describe_execution(executionArn=ex)
    assert d["status"] == "SUCCEEDED", d
    assert calls == {0: 1, 1: 1, 2: 1, 3: 2, 4: 1}
    expected = [{"twice": n * 2} for n in range(5)]
    if not writer:
        assert json.loads(d["output"]) == expected
        return
    s3 = sfn.sfnlab.aws_client("s3")
    manifest = manifest_of(s3, bucket, d)
    [entry] = manifest["ResultFiles"]["SUCCEEDED"]
    records = json.loads(s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read())
    assert sorted((json.loads(r["Output"]) for r in records), key=lambda o: o["twice"]) == expected
    assert manifest["ResultFiles"]["FAILED"] == []


# ---- children in worker processes: the same results and histories --------------------------------


def _everything(sfn, definition: dict, bucket: str) -> dict:
    """Every answer the client gives about one run of ``definition``, and what it wrote to S3."""
    from sfnlab.distributed import map_runs

    arn = sfn.create_state_machine(name="pooled", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=arn, input='{"tag": "t"}')["executionArn"]
    out = {"described": sfn.describe_execution(executionArn=ex),
           "history": sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"],
           "runs": sfn.list_map_runs(executionArn=ex)["mapRuns"]}
    run_arn = out["runs"][0]["mapRunArn"]
    out["map_run"] = sfn.describe_map_run(mapRunArn=run_arn)
    out["children"] = sfn.list_executions(mapRunArn=run_arn, maxResults=1000)["executions"]
    run = map_runs(sfn.sfnlab.runtime)[run_arn]
    out["child_histories"] = [(c.info, c.status, c.output, c.error, c.cause, c.start_time, c.stop_time, c.events,
                               c.records) for c in run.executions]
    out["records"] = [_comparable(r) for r in sfn.sfnlab._executions[ex].run.records]
    s3 = sfn.sfnlab.aws_client("s3")
    out["files"] = {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
                    for o in s3.list_objects_v2(Bucket=bucket, Prefix="pooled/").get("Contents", [])}
    return out, run.processes


def _comparable(record: dict) -> dict:
    """A state visit with its Map Run (compared on its own above) and redrive data as plain values."""
    from sfnlab.distributed import MapRun

    out = {k: v for k, v in record.items() if not isinstance(v, MapRun)}
    children = out.get("children")
    if children is not None and not isinstance(children, dict):  # kept compactly (see distributed.py)
        read = getattr(children, "record_text", children.__getitem__)  # a ResultWriter's: spooled records
        out["children"] = {i: read(i) for i in range(2500) if i in children}
    return out


def _pooled_definition(bucket: str, **map_fields) -> dict:
    definition = distributed(
        {"Resource": "arn:aws:states:::s3:getObject",
         "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 2500},
         "Parameters": {"Bucket": bucket, "Key": "rows.csv"}},
        {"Odd": {"Type": "Choice", "Choices": [{"Variable": "$.amount", "StringEquals": "13", "Next": "Bad"}],
                 "Default": "Ok"},
         "Bad": {"Type": "Fail", "Error": "Unlucky", "Cause": "13"},
         "Ok": {"Type": "Pass", "Parameters": {"id.$": "$.id", "at.$": "$$.State.EnteredTime",
                                               "name.$": "$$.Execution.Name"}, "End": True}},
        **map_fields)
    state = definition["States"]["M"]
    state.pop("End")
    state["Next"] = "After"
    state.setdefault("Catch", [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "After"}])
    definition["States"]["After"] = {"Type": "Pass", "Parameters": {"id.$": "States.UUID()"}, "End": True}
    return definition


WRITER = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "BUCKET", "Prefix": "pooled"}}


@pytest.mark.parametrize("fields", [
    {"ToleratedFailureCount": 30, "ResultWriter": WRITER},   # 25 failures tolerated, results to S3
    {"ToleratedFailureCount": 3, "ResultWriter": WRITER},    # the 4th failure stops the run (caught)
    {"ToleratedFailurePercentage": 5, "MaxConcurrency": 3,   # the results are the output (ItemSelector)
     "ItemSelector": {"i.$": "$$.Map.Item.Index", "amount.$": "$$.Map.Item.Value.amount", "id.$": "$.tag"},
     "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 300},
                    "Parameters": {"Bucket": "BUCKET", "Key": "rows.csv"}}},
])
def test_children_in_worker_processes_give_the_same_results_and_histories(bucket, fields):
    fields = json.loads(json.dumps(fields).replace("BUCKET", bucket))
    definition = _pooled_definition(bucket, **fields)
    alone, processes = _everything(sfnlab.client(start_time=1_750_000_000), definition, bucket)
    assert processes == 0
    pooled, processes = _everything(sfnlab.client(start_time=1_750_000_000, distributed_map_processes=2),
                                    definition, bucket)
    assert processes == 2
    assert pooled["described"]["status"] == "SUCCEEDED"
    for key in alone:
        assert pooled[key] == alone[key], key
    assert alone["child_histories"] and alone["records"]


def test_children_that_wait_stay_in_this_process(bucket):
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                              "Parameters": {"Bucket": bucket, "Key": "items.json"}},
                             {"W": {"Type": "Wait", "Seconds": 5, "Next": "P"}, "P": {"Type": "Pass", "End": True}})
    from sfnlab.distributed import map_runs

    sfn = sfnlab.client(distributed_map_processes=2)
    d = run(sfn, definition)
    assert json.loads(d["output"]) == [{"n": i} for i in range(5)]
    assert [r.processes for r in map_runs(sfn.sfnlab.runtime).values()] == [0]


def test_a_child_execution_is_described_with_its_map_run_and_history(sfn):
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "Double", "States": {"Double": {
                              "Type": "Pass", "Parameters": {"n.$": "States.MathAdd($, $)"}, "End": True}}}}}}
    arn = sfn.create_state_machine(name=f"dm-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input="[1, 2, 3]")["executionArn"]
    map_run = sfn.list_map_runs(executionArn=execution)["mapRuns"][0]["mapRunArn"]
    children = sfn.list_executions(mapRunArn=map_run)["executions"]
    described = [sfn.describe_execution(executionArn=c["executionArn"]) for c in children]
    assert sorted(json.loads(d["output"])["n"] for d in described) == [2, 4, 6]
    assert {d["mapRunArn"] for d in described} == {map_run}
    assert {d["stateMachineArn"] for d in described} == {arn + "/M"}
    history = sfn.get_execution_history(executionArn=children[0]["executionArn"])["events"]
    assert [e["type"] for e in history] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                            "ExecutionSucceeded"]
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn=children[0]["executionArn"][:-4] + "0000")
    # Its state machine: the Map Run's, running the ItemProcessor, with the parent's role.
    machine = sfn.describe_state_machine_for_execution(executionArn=children[0]["executionArn"])
    assert (machine["stateMachineArn"], machine["name"]) == (arn + "/M", arn.rsplit(":", 1)[1] + "/M")
    assert (machine["mapRunArn"], machine["label"], machine["roleArn"]) == (map_run, "M", ROLE)
    processor = definition["States"]["M"]["ItemProcessor"]
    assert json.loads(machine["definition"]) == {"StartAt": "Double", "States": processor["States"]}
    parent = sfn.describe_state_machine_for_execution(executionArn=execution)
    assert "mapRunArn" not in parent and json.loads(parent["definition"]) == definition


@pytest.mark.parametrize("extra, error, cause", [
    ({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                     "Parameters": {"Key": "items.json"}}},
     "States.ItemReaderFailed", 'Missing required parameter in input: "Bucket"'),
    ({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                     "Parameters": {"Bucket": "b", "Key": 3}}},
     "States.ItemReaderFailed", "Invalid type for parameter Key, value: 3, type: number, valid types: string"),
    ({"ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Prefix": "p"}}},
     "States.ItemReaderFailed", 'Missing required parameter in input: "Bucket"'),
    ({"ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Prefix": "out"}}},
     "States.ResultWriterFailed", 'Missing required parameter in input: "Bucket"'),
])
def test_a_reader_or_writer_without_its_bucket_fails_the_execution_not_python(sfn, bucket, extra, error, cause):
    reader = {"ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                             "Parameters": {"Bucket": bucket, "Key": "items.json"}}}
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, **reader, **extra,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}}
    d = run(sfn, definition)
    assert (d["status"], d["error"], d["cause"]) == ("FAILED", error, cause)


# ---- large result files: uploaded in bounded memory, split past AWS's size limit ---------------------


def _big_file(size: int):
    """A temporary file of ``size`` bytes that are not all alike (so a misplaced chunk would show)."""
    import tempfile

    out = tempfile.TemporaryFile()
    block = bytes(range(256)) * 4096  # 1 MiB
    for n in range(size // len(block)):
        out.write(block[n % 251:] + block[:n % 251])
    out.write(block[:size % len(block)])
    return out


def test_put_file_stores_what_the_plain_put_object_stores(sfn, bucket):
    import base64
    import hashlib
    import zlib

    from sfnlab.integrations.aws import PUT_FILE_PLAIN_UP_TO, put_file

    size = PUT_FILE_PLAIN_UP_TO + 3 * 1024 * 1024 + 17  # past the plain call's size, not a whole MiB
    s3 = sfn.sfnlab.aws_client("s3")  # validates the CRC32 of what it gets
    with _big_file(size) as body:
        put_file(sfn.sfnlab.services, bucket, "big/filled.bin", body, size)
        body.seek(0)
        s3.put_object(Bucket=bucket, Key="big/plain.bin", Body=body)
        body.seek(0)
        expected = body.read()
    heads = [s3.head_object(Bucket=bucket, Key=f"big/{name}.bin", ChecksumMode="ENABLED") for name in ("filled", "plain")]
    assert [(h["ContentLength"], h["ETag"], h["ChecksumCRC32"], h["ContentType"]) for h in heads] == \
        [(size, f'"{hashlib.md5(expected).hexdigest()}"', base64.b64encode(zlib.crc32(expected).to_bytes(4, "big"))
          .decode(), "binary/octet-stream")] * 2
    got = s3.get_object(Bucket=bucket, Key="big/filled.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == expected
    assert s3.list_objects_v2(Bucket=bucket, Prefix="big/filled")["Contents"][0]["Size"] == size


def test_put_file_falls_back_to_the_plain_call_when_moto_is_not_as_expected(sfn, bucket, monkeypatch):
    from sfnlab.integrations import aws

    monkeypatch.setattr(aws, "_local_s3_objects", lambda services: lambda bucket, key, version: object())
    size = aws.PUT_FILE_PLAIN_UP_TO + 1
    with _big_file(size) as body:
        aws.put_file(sfn.sfnlab.services, bucket, "big/fallback.bin", body, size)
        body.seek(0)
        expected = body.read()
    assert sfn.sfnlab.aws_client("s3").get_object(Bucket=bucket, Key="big/fallback.bin")["Body"].read() == expected


def _records_written(monkeypatch) -> list:
    """Each result file as put_file is handed it: (key, the bytes spooled for it)."""
    from sfnlab.integrations import aws

    written = []
    put_file = aws.put_file

    def spy(services, bucket, key, body, size):
        body.seek(0)
        written.append((key, body.read()))
        assert len(written[-1][1]) == size
        put_file(services, bucket, key, body, size)

    monkeypatch.setattr(aws, "put_file", spy)
    return written


def test_a_result_file_over_several_mib_is_uploaded_as_spooled(sfn, bucket, monkeypatch):
    from sfnlab.integrations.aws import PUT_FILE_PLAIN_UP_TO

    written = _records_written(monkeypatch)
    pad = "x" * 20_000
    definition = distributed(
        {"Resource": "arn:aws:states:::s3:getObject",
         "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 600},
         "Parameters": {"Bucket": bucket, "Key": "rows.csv"}},
        {"P": {"Type": "Pass", "Parameters": {"id.$": "$.id", "pad": pad}, "End": True}},
        MaxConcurrency=100,
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix": "large"}})
    d = run(sfn, definition)
    assert d["status"] == "SUCCEEDED", d
    s3 = sfn.sfnlab.aws_client("s3")
    manifest = manifest_of(s3, bucket, d)
    [entry] = manifest["ResultFiles"]["SUCCEEDED"]
    [(key, spooled)] = written
    assert key == entry["Key"] and key.endswith("/SUCCEEDED_0.json")
    assert entry["Size"] == len(spooled) > PUT_FILE_PLAIN_UP_TO
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == spooled
    records = json.loads(spooled)
    assert sorted(int(json.loads(r["Output"])["id"]) for r in records) == list(range(600))
    assert all(json.loads(r["Output"])["pad"] == pad for r in records)


def test_result_files_past_the_size_limit_continue_in_the_next_file(sfn, bucket, monkeypatch):
    from sfnlab.distributed import _ResultFiles

    monkeypatch.setattr(_ResultFiles, "FILE_LIMIT", 4000)  # 5 GB on AWS
    written = _records_written(monkeypatch)
    definition = distributed(
        {"Resource": "arn:aws:states:::s3:getObject",
         "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 40},
         "Parameters": {"Bucket": bucket, "Key": "rows.csv"}},
        UNLUCKY_13,
        MaxConcurrency=1, ToleratedFailureCount=1,
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix": "split"}})
    d = run(sfn, definition)
    assert d["status"] == "SUCCEEDED", d
    s3 = sfn.sfnlab.aws_client("s3")
    manifest = manifest_of(s3, bucket, d)
    succeeded = manifest["ResultFiles"]["SUCCEEDED"]
    assert len(succeeded) > 2 and [e["Key"].rsplit("/", 1)[1] for e in succeeded] == \
        [f"SUCCEEDED_{n}.json" for n in range(len(succeeded))]
    assert [e["Key"].rsplit("/", 1)[1] for e in manifest["ResultFiles"]["FAILED"]] == ["FAILED_0.json"]
    assert [(e["Key"], e["Size"]) for e in succeeded + manifest["ResultFiles"]["FAILED"]] == \
        [(key, len(body)) for key, body in written]
    records = []
    for entry in succeeded:
        body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
        assert len(body) <= 4000
        records += json.loads(body)
    # each file is as full as it can be: the next record would not have fitted
    first_of_next = [json.loads(s3.get_object(Bucket=bucket, Key=e["Key"])["Body"].read())[0] for e in succeeded[1:]]
    for entry, record in zip(succeeded, first_of_next):
        assert entry["Size"] + 1 + len(json.dumps(record, separators=(",", ":"))) > 4000
    assert [int(json.loads(r["Output"])["id"]) for r in records] == [i for i in range(40) if i != 13]


def test_spool_writes_an_array_in_parts_under_a_limit():
    import io

    from sfnlab.distributed import Spool

    values = [{"i": i, "s": "y" * (i % 7)} for i in range(30)] + [{"big": "z" * 200}, 1]
    spool = Spool(json.dumps(v, separators=(",", ":")) for v in values)
    parts, start = [], 0
    while start < len(spool):
        out = io.BytesIO()
        size, start = spool.write_array_part(out, start, 100)
        assert size == len(out.getvalue())
        parts.append(json.loads(out.getvalue()))
    assert [v for part in parts for v in part] == values
    sizes = [len(json.dumps(p, separators=(",", ":"))) for p in parts]
    assert all(s <= 100 for p, s in zip(parts, sizes) if len(p) > 1)
    assert [{"big": "z" * 200}] in parts  # a value larger than the limit gets a file of its own
    assert spool[5] == values[5] and spool[-1] == 1  # still read back by index afterwards
