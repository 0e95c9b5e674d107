"""Distributed Map: ItemReader (S3), ItemBatcher, ResultWriter (S3), Map Runs.

AWS guide, "Using Map state in Distributed mode", "ItemReader", "ItemBatcher", "ResultWriter".
The engine calls these hooks from its Map state; iterations themselves run in the engine like
inline ones.

* ItemReader ``arn:aws:states:::s3:getObject`` reads one object: ``ReaderConfig.InputType`` JSON
  (an array), JSONL (one value a line) or CSV (``CSVHeaderLocation`` FIRST_ROW, or GIVEN with
  ``CSVHeaders``; every row becomes an object of strings); ``arn:aws:states:::s3:listObjectsV2``
  lists a bucket (``Key``, ``Etag``, ``LastModified``, ``Size``, ``StorageClass`` per object).
  ``MaxItems`` / ``MaxItemsPath`` keep the first N items.
* ItemBatcher groups items as ``{"Items": [...], "BatchInput": ...}`` under ``MaxItemsPerBatch``
  and ``MaxInputBytesPerBatch`` (and their ``...Path`` forms).
* ResultWriter ``arn:aws:states:::s3:putObject`` writes ``<Prefix>/<map run id>/manifest.json``
  and ``SUCCEEDED_0.json`` / ``FAILED_0.json`` / ``PENDING_0.json``; the Map's result becomes
  ``{"MapRunArn": ..., "ResultWriterDetails": {"Bucket": ..., "Key": <manifest key>}}``.

Items are read with one S3 call and parsed in memory: 100,000 CSV rows take about a second.
"""
from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Generator

from .errors import StatesError
from .history import to_json
from .paths import Scope

__all__ = ["read_items", "batch_items", "write_results", "map_runs", "MapRun"]


@dataclass
class MapRun:
    """What DescribeMapRun shows of one Distributed Map run."""

    arn: str
    execution_arn: str
    start: float
    max_concurrency: int = 0
    tolerated_count: int = 0
    tolerated_percentage: float = 0.0
    status: str = "RUNNING"
    stop: float | None = None
    counts: dict = field(default_factory=lambda: {"pending": 0, "running": 0, "succeeded": 0, "failed": 0,
                                                   "timedOut": 0, "aborted": 0, "total": 0,
                                                   "resultsWritten": 0})
    # The child executions, for ListExecutions(mapRunArn=...). Only the first KEEP_CHILDREN are kept
    # in full, so that a run over 100,000 items stays small in memory; counts cover them all.
    executions: list = field(default_factory=list)
    KEEP_CHILDREN = 1000

    def describe(self) -> dict:
        out = {
            "mapRunArn": self.arn,
            "executionArn": self.execution_arn,
            "status": self.status,
            "startDate": round(self.start, 3),
            "maxConcurrency": self.max_concurrency,
            "toleratedFailurePercentage": self.tolerated_percentage,
            "toleratedFailureCount": self.tolerated_count,
            "itemCounts": dict(self.counts),
            "executionCounts": dict(self.counts),
            "redriveCount": 0,
        }
        if self.stop is not None:
            out["stopDate"] = round(self.stop, 3)
        return out

    def summary(self) -> dict:
        out = {"executionArn": self.execution_arn, "mapRunArn": self.arn, "stateMachineArn": self.arn.rsplit(":", 1)[0]
               .replace(":mapRun:", ":stateMachine:"), "startDate": round(self.start, 3)}
        if self.stop is not None:
            out["stopDate"] = round(self.stop, 3)
        return out


def map_runs(runtime) -> dict[str, MapRun]:
    found = getattr(runtime, "map_runs", None)
    if found is None:
        found = runtime.map_runs = {}
    return found


def _services(execution):
    from .integrations.aws import _services as services

    return services(execution)


def _evaluate(execution, state, template: Any, value: Any, raw: Any, scope: Scope, field_name: str) -> Any:
    """A Parameters/Arguments-like field of ItemReader/ItemBatcher/ResultWriter."""
    if template is None:
        return None
    if state.is_jsonata:
        from .jsonata import compile_jsonata

        return compile_jsonata(template, field_name).evaluate(execution._env(scope, raw))
    from .payload import compile_template

    return compile_template(template).evaluate(Scope(value, scope.context, scope.variables), execution.runtime.random)


def _number(execution, state, config: dict, name: str, value: Any, raw: Any, scope: Scope) -> Any:
    if f"{name}Path" in config:
        from .paths import compile_path

        found = compile_path(config[f"{name}Path"]).get(Scope(value, scope.context, scope.variables))
        if isinstance(found, str) and found.strip().isdigit():
            found = int(found)
        return found
    found = config.get(name)
    if state.is_jsonata and isinstance(found, str):
        return _evaluate(execution, state, found, value, raw, scope, name)
    return found


def read_items(execution, state, value: Any, raw: Any, scope, frame) -> Generator:
    """The items an ItemReader reads (a list)."""
    reader = dict(state.item_reader or {})
    resource = str(reader.get("Resource", ""))
    params = _evaluate(execution, state, reader.get("Arguments", reader.get("Parameters")), value, raw, scope,
                       "Arguments") or {}
    config = dict(reader.get("ReaderConfig") or {})
    max_items = _number(execution, state, config, "MaxItems", value, raw, scope)
    if isinstance(max_items, (int, float)) and not isinstance(max_items, bool) and max_items < 0:
        raise StatesError("States.ItemReaderFailed", "field MaxItems must be positive")
    headers = config.get("CSVHeaders")
    if str(config.get("CSVHeaderLocation", "")).upper() == "GIVEN" and isinstance(headers, list) \
            and len(set(map(str, headers))) != len(headers):
        raise StatesError("States.ItemReaderFailed", "CSV headers cannot contain duplicates.")
    s3 = _services(execution).client("s3", validate=False)
    from botocore.exceptions import ClientError

    try:
        if resource.endswith(":s3:listObjectsV2"):
            items = _list_objects(s3, params, max_items)
        elif resource.endswith(":s3:getObject"):
            body = s3.get_object(**{k: v for k, v in params.items() if k in ("Bucket", "Key", "VersionId")})["Body"].read()
            items = _parse(body.decode("utf-8"), config, max_items)
        else:
            raise StatesError("States.ItemReaderFailed", f"The ItemReader resource {resource} is not supported")
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise StatesError("States.ItemReaderFailed", f"{error.get('Message') or error.get('Code')} (Service: S3, "
                                                     f"Status Code: {exc.response['ResponseMetadata'].get('HTTPStatusCode')})")\
            from None
    return items
    yield  # pragma: no cover - makes this a generator


def _limit(items: list, max_items: Any) -> list:
    if isinstance(max_items, int) and not isinstance(max_items, bool) and max_items > 0:
        return items[:max_items]
    return items


def _list_objects(s3, params: dict, max_items: Any) -> list:
    items: list = []
    request = {k: v for k, v in params.items() if k in ("Bucket", "Prefix", "Delimiter", "StartAfter")}
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(**request):
        for obj in page.get("Contents", []):
            items.append({"Etag": obj.get("ETag"), "Key": obj["Key"],
                          "LastModified": int(obj["LastModified"].timestamp()) if hasattr(obj.get("LastModified"), "timestamp")
                          else obj.get("LastModified"), "Size": obj.get("Size"),
                          "StorageClass": obj.get("StorageClass", "STANDARD")})
    return _limit(items, max_items)


def _parse(text: str, config: dict, max_items: Any) -> list:
    kind = str(config.get("InputType", "JSON")).upper()
    if kind == "JSON":
        try:
            items = json.loads(text)
        except ValueError as exc:
            raise StatesError("States.ItemReaderFailed", f"Attempting to map over non-iterable node: {exc}") from None
        if not isinstance(items, list):
            raise StatesError("States.ItemReaderFailed", "Attempting to map over non-iterable node.")
        return _limit(items, max_items)
    if kind == "JSONL":
        return _limit([json.loads(line) for line in text.splitlines() if line.strip()], max_items)
    if kind == "CSV":
        delimiter = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}.get(
            str(config.get("CSVDelimiter", "COMMA")).upper(), ",")
        rows = csv.reader(io.StringIO(text), delimiter=delimiter)
        if str(config.get("CSVHeaderLocation", "FIRST_ROW")).upper() == "GIVEN":
            headers = list(config.get("CSVHeaders") or [])
        else:
            headers = next(rows, [])
        items = []
        limit = max_items if isinstance(max_items, int) and max_items > 0 else None
        for row in rows:
            if not row:
                continue
            items.append({h: (row[i] if i < len(row) else "") for i, h in enumerate(headers)})
            if limit is not None and len(items) >= limit:
                break
        return items
    raise StatesError("States.ItemReaderFailed", f"The InputType {kind} is not supported by sfnlab")


def batch_items(execution, state, items: list, value: Any, raw: Any, scope) -> list:
    """Group items as an ItemBatcher does: each batch is ``{"Items": [...], "BatchInput": ...}``."""
    batcher = dict(state.item_batcher or {})
    size = _number(execution, state, batcher, "MaxItemsPerBatch", value, raw, scope)
    max_bytes = _number(execution, state, batcher, "MaxInputBytesPerBatch", value, raw, scope)
    if not isinstance(size, int) or size <= 0:
        size = len(items) or 1
    batch_input = None
    if "BatchInput" in batcher:
        batch_input = _evaluate(execution, state, batcher["BatchInput"], value, raw, scope, "BatchInput")
    overhead = len(to_json({"Items": [], "BatchInput": batch_input} if "BatchInput" in batcher else {"Items": []}))
    batches = []
    current: list = []
    current_bytes = overhead
    for item in items:
        item_bytes = len(to_json(item).encode()) + (1 if current else 0)
        full = len(current) >= size or (isinstance(max_bytes, int) and max_bytes > 0 and current
                                        and current_bytes + item_bytes > max_bytes)
        if full:
            batches.append(current)
            current, current_bytes = [], overhead
            item_bytes -= 1
        current.append(item)
        current_bytes += item_bytes
    if current:
        batches.append(current)
    out = []
    for chunk in batches:
        batch: dict[str, Any] = {"Items": chunk}
        if "BatchInput" in batcher:
            batch["BatchInput"] = batch_input
        out.append(batch)
    return out


def _map_run_arn(execution, state) -> str:
    info = execution.info
    machine = info.state_machine_arn.replace(":stateMachine:", ":mapRun:")
    label = (state.raw.get("Label") if hasattr(state, "raw") else None) or state.name
    run_id = str(uuid.UUID(int=execution.runtime.random.getrandbits(128), version=4))
    return f"{machine}/{label}:{run_id}"


def start_map_run(execution, state, frame, length: int, max_concurrency: int = 0,
                  tolerance: tuple[int, float] | None = None) -> MapRun:
    """Create the Map Run and record ``MapRunStarted`` (the engine calls it after ``MapStateStarted``)."""
    run = MapRun(_map_run_arn(execution, state), execution.info.arn, execution.runtime.clock.now)
    run.max_concurrency = max_concurrency
    if tolerance is not None:
        run.tolerated_count, run.tolerated_percentage = tolerance
    run.counts["total"] = length
    run.counts["pending"] = length
    map_runs(execution.runtime)[run.arn] = run
    frame.prev = execution.history.add("MapRunStarted", frame.prev, {"mapRunArn": run.arn})
    return run


def child_execution(execution, state, run: MapRun, index: int, value: Any):
    """The child workflow execution of one item (or batch) of a Distributed Map."""
    from .engine import Execution, ExecutionInfo

    run_name, run_id = run.arn.split(":mapRun:", 1)[1].split(":", 1)
    name = str(uuid.UUID(int=execution.runtime.random.getrandbits(128), version=4))
    execution_type = (state.execution_type or "STANDARD").upper()
    prefix = run.arn.split(":mapRun:", 1)[0]
    kind = "express" if execution_type == "EXPRESS" else "execution"
    info = ExecutionInfo(
        arn=f"{prefix}:{kind}:{run_name}:{name}",
        name=name,
        state_machine_arn=f"{prefix}:stateMachine:{run_name}",
        state_machine_name=run_name,
        role_arn=execution.info.role_arn,
        type=execution_type,
    )
    child = Execution(execution.machine, execution.runtime, info, value, to_json(value))
    child.map_run_arn = run.arn
    run.counts["pending"] -= 1
    run.counts["running"] += 1
    return child


def child_finished(run: MapRun, child) -> None:
    run.counts["running"] -= 1
    run.counts["succeeded" if child.status == "SUCCEEDED" else "failed"] += 1
    if len(run.executions) < run.KEEP_CHILDREN:
        run.executions.append(child)


def finish_map_run(execution, run: MapRun, frame, error: StatesError | None) -> None:
    """Record ``MapRunSucceeded`` or ``MapRunFailed`` (before ``MapStateSucceeded/Failed``)."""
    run.stop = execution.runtime.clock.now
    run.counts.update(pending=0, running=0)
    if error is None:
        run.status = "SUCCEEDED"
        frame.prev = execution.history.add("MapRunSucceeded", frame.prev)
    else:
        run.status = "FAILED"
        details = {"error": error.error}
        if error.cause is not None:
            details["cause"] = error.cause
        frame.prev = execution.history.add("MapRunFailed", frame.prev, details)


def _is_failure(result: Any) -> bool:
    # The engine hands tolerated failures over as {"Error", "Cause"} objects.
    return isinstance(result, dict) and set(result) in ({"Error"}, {"Error", "Cause"})


def write_results(execution, state, results: list, value: Any, raw: Any, scope, frame) -> Generator:
    """Write the results to S3 as AWS does; the Map result is where they were written."""
    writer = dict(state.result_writer or {})
    params = _evaluate(execution, state, writer.get("Arguments", writer.get("Parameters")), value, raw, scope,
                       "Arguments") or {}
    run = frame.record.get("map_run") or MapRun(_map_run_arn(execution, state), execution.info.arn,
                                                execution.runtime.clock.now)
    map_runs(execution.runtime)[run.arn] = run
    statuses = frame.record.get("iteration_status") or []
    bucket = params.get("Bucket")
    prefix = str(params.get("Prefix", "")).rstrip("/")
    run_id = run.arn.rsplit(":", 1)[1]
    base = f"{prefix}/{run_id}" if prefix else run_id
    s3 = _services(execution).client("s3", validate=False)
    now = execution.runtime.clock.now
    succeeded, failed = [], []
    for index, result in enumerate(results):
        record = {
            "ExecutionArn": f"{run.arn.replace(':mapRun:', ':execution:')}:{index}",
            "Input": None, "InputDetails": {"Included": True},
            "Name": f"{run_id}:{index}",
            "StartDate": now, "StateMachineArn": run.arn, "StopDate": now, "RedriveCount": 0,
            "RedriveStatus": "NOT_REDRIVABLE",
        }
        failed_item = statuses[index] == "FAILED" if index < len(statuses) and statuses[index] else _is_failure(result)
        if failed_item:
            record.update(Status="FAILED", Error=result.get("Error"), Cause=result.get("Cause"),
                          RedriveStatusReason="Execution is FAILED and cannot be redriven")
            failed.append(record)
        else:
            record.update(Status="SUCCEEDED", Output=to_json(result), OutputDetails={"Included": True},
                          RedriveStatusReason="Execution is SUCCEEDED and cannot be redriven")
            succeeded.append(record)
    from botocore.exceptions import ClientError

    files: dict[str, list] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    try:
        for kind, records in (("SUCCEEDED", succeeded), ("FAILED", failed)):
            if not records:
                continue
            key = f"{base}/{kind}_0.json"
            body = to_json(records).encode()
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[kind].append({"Key": key, "Size": len(body)})
        manifest = {"DestinationBucket": bucket, "MapRunArn": run.arn, "ResultFiles": files}
        s3.put_object(Bucket=bucket, Key=f"{base}/manifest.json", Body=to_json(manifest).encode())
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise StatesError("States.ResultWriterFailed", str(error.get("Message") or error.get("Code"))) from None
    run.counts.update(resultsWritten=len(results))
    return {"MapRunArn": run.arn, "ResultWriterDetails": {"Bucket": bucket, "Key": f"{base}/manifest.json"}}
    yield  # pragma: no cover
