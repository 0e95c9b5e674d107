"""Distributed Map: ItemReader (S3), ItemBatcher, child executions, ResultWriter (S3), Map Runs.

AWS guide, "Using Map state in Distributed mode", "ItemReader", "ItemBatcher", "ResultWriter".
The engine's Map state calls these hooks; each iteration runs as a child execution
(:func:`run_children`).

* ItemReader ``arn:aws:states:::s3:getObject`` reads one object: ``ReaderConfig.InputType`` JSON
  (an array), JSONL (one value a line) or CSV (``CSVHeaderLocation`` FIRST_ROW, or GIVEN with
  ``CSVHeaders``; every row becomes an object of strings); ``arn:aws:states:::s3:listObjectsV2``
  lists a bucket (``Key``, ``Etag``, ``LastModified``, ``Size``, ``StorageClass`` per object).
  ``MaxItems`` / ``MaxItemsPath`` keep the first N items.
* ItemBatcher groups items as ``{"Items": [...], "BatchInput": ...}`` under ``MaxItemsPerBatch``
  and ``MaxInputBytesPerBatch`` (and their ``...Path`` forms).
* ResultWriter ``arn:aws:states:::s3:putObject`` writes ``<Prefix>/<map run id>/manifest.json``
  and ``SUCCEEDED_0.json`` / ``FAILED_0.json`` / ``PENDING_0.json`` (``_1``, ``_2``, ... when a
  file would pass 5 GiB, as on AWS); the Map's result becomes
  ``{"MapRunArn": ..., "ResultWriterDetails": {"Bucket": ..., "Key": <manifest key>}}``.
* Without MaxConcurrency a Distributed Map runs up to 10,000 child executions at once, as on AWS.

Memory stays bounded whatever the item count (1,000,000 CSV rows: see ``bench/dmap.py``):

* CSV and JSONL objects are read as a stream; listObjectsV2 page by page. Items (and batches)
  go to a :class:`Spool`, one JSON text a line in a temporary file, and each child reads its
  own input back. Only a JSON InputType object is parsed whole (it is one JSON document).
* With a ResultWriter, each child's record goes to the spool of its result file when the child
  ends (in the order children end); the files are uploaded from the spools at the end, in
  bounded memory (:func:`sfnlab.integrations.aws.put_file`: moto's server alone would hold a
  file twice over).
  Without one, the results are the Map's output, which must fit in 256 KiB as on AWS (the state
  fails with ``States.DataLimitExceeded`` otherwise): past that size they go to a spool too.
* A Map Run keeps its first :attr:`MapRun.KEEP_CHILDREN` child executions in full (their
  histories, for ``ListExecutions(mapRunArn=...)``, and their state visits, for the drawings);
  its counts cover every child.

``sfnlab.client(distributed_map_processes=N)`` runs the children in N forked worker processes
when :func:`poolable` says the outcome is the same as in one process (results, histories, the
random source after the Map); otherwise, and by default, they run in this process.
"""
from __future__ import annotations

import csv
import io
import json
import tempfile
import uuid
from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Generator, Iterable, Iterator, cast

from ._json import json_type
from .clock import Join
from .errors import StatesError
from .history import to_json
from .paths import Scope

__all__ = ["read_items", "batch_items", "write_results", "run_children", "map_runs", "MapRun", "Spool", "poolable",
           "DEFAULT_CONCURRENCY"]

DEFAULT_CONCURRENCY = 10_000  # child executions at once when MaxConcurrency is 0 or absent (AWS guide)


class Spool:
    """JSON values written once, then read back by position: one JSON text a line in a temporary file.

    The file stays in memory up to :attr:`IN_MEMORY` bytes, then moves to disk; only the offset of
    each line (8 bytes) stays in memory. Reading in order (as a Map hands out its items) costs no seek.
    """

    IN_MEMORY = 8 * 1024 * 1024

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=self.IN_MEMORY, mode="w+b")
        self._offsets = array("q")
        self._end = 0
        self._at: int | None = None  # the index of the line the file position is at, when reading
        self._writing = False
        for text in texts:
            self.append_text(text)

    def append_text(self, text: str) -> None:
        """Add one value given as its JSON text (without a newline)."""
        data = text.encode() + b"\n"
        if not self._writing:
            self._file.seek(self._end)
            self._writing, self._at = True, None
        self._offsets.append(self._end)
        self._file.write(data)
        self._end += len(data)

    def append(self, value: Any) -> None:
        self.append_text(to_json(value))

    def __len__(self) -> int:
        return len(self._offsets)

    def text(self, index: int) -> str:
        """The JSON text of the value at ``index``."""
        if index < 0:
            index += len(self._offsets)
        if not 0 <= index < len(self._offsets):
            raise IndexError("spool index out of range")
        if self._at != index:
            self._file.seek(self._offsets[index])
            self._writing = False
        line = self._file.readline()
        self._at = index + 1
        return line[:-1].decode()

    def __getitem__(self, index: int) -> Any:
        return json.loads(self.text(index))

    def texts(self) -> Iterator[str]:
        for index in range(len(self._offsets)):
            yield self.text(index)

    def __iter__(self) -> Iterator[Any]:
        for text in self.texts():
            yield json.loads(text)

    def write_array(self, out) -> int:
        """Write the values as one compact JSON array to the binary file ``out``; return its size."""
        return self.write_array_part(out, 0, None)[0]

    def write_array_part(self, out, start: int, limit: int | None) -> tuple[int, int]:
        """Write the values from index ``start`` on as one compact JSON array to the binary file ``out``,
        ending before a value that would take the array past ``limit`` bytes (the first one is always
        written); return the array's size and the index of the first value not written."""
        size = out.write(b"[")
        if start < len(self._offsets):
            self._file.seek(self._offsets[start])
        self._writing, self._at = False, None
        index = start
        while index < len(self._offsets):
            text = self._file.readline()[:-1]
            if limit is not None and index > start and size + 1 + len(text) + 1 > limit:
                break
            size += out.write(text if index == start else b"," + text)
            index += 1
        return size + out.write(b"]"), index

    def close(self) -> None:
        self._file.close()

    def shown(self, limit: int = 1000) -> list | None:
        """The values as a list for a drawing or the data-flow stepper, when there are at most ``limit``."""
        return list(self) if len(self) <= limit else None

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
    child_names: tuple | None = field(default=None, repr=False)  # ARN parts every child shares
    processes: int = field(default=0, compare=False)  # worker processes the children ran in (0: this one)
    # The Map state's Label (its name by default) and the children's definition (its ItemProcessor),
    # for DescribeStateMachineForExecution of a child.
    label: str = ""
    child_definition: str = field(default="", repr=False)
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


def _s3_parameters(params: Any, required: tuple[str, ...], error: str) -> dict:
    """The parameters of an ItemReader's or ResultWriter's S3 call, checked.

    sfnlab's S3 client skips botocore's validation (it costs on every call), so a missing Bucket
    or Key would come out of botocore as a Python error. It is the States error of the reader or
    writer instead, in the words of botocore's validation (what AWS says here is not recorded).
    """
    if not isinstance(params, dict):
        raise StatesError(error, f"Invalid type for parameter input, value: {to_json(params)}, "
                                 f"type: {json_type(params)}, valid types: object")
    for name in required:
        if name not in params:
            raise StatesError(error, f'Missing required parameter in input: "{name}"')
        if not isinstance(params[name], str):
            raise StatesError(error, f"Invalid type for parameter {name}, value: {to_json(params[name])}, "
                                     f"type: {json_type(params[name])}, valid types: string")
    return params


def read_items(execution, state, value: Any, raw: Any, scope, frame) -> Generator[Any, Any, Any]:
    """The items an ItemReader reads, as a :class:`Spool` (read as a stream where the format allows)."""
    reader = dict(state.item_reader or {})
    resource = str(reader.get("Resource", ""))
    params = _evaluate(execution, state, reader.get("Arguments", reader.get("Parameters")), value, raw, scope,
                       "Arguments") or {}
    params = _s3_parameters(params, ("Bucket", "Key") if resource.endswith(":s3:getObject") else ("Bucket",),
                            "States.ItemReaderFailed")
    config = dict(reader.get("ReaderConfig") or {})
    max_items = _number(execution, state, config, "MaxItems", value, raw, scope)
    if isinstance(max_items, (int, float)) and not isinstance(max_items, bool) and max_items < 0:
        raise StatesError("States.ItemReaderFailed", "field MaxItems must be positive")
    headers = config.get("CSVHeaders")
    if str(config.get("CSVHeaderLocation", "")).upper() == "GIVEN" and isinstance(headers, list) \
            and len(set(map(str, headers))) != len(headers):
        raise StatesError("States.ItemReaderFailed", "CSV headers cannot contain duplicates.")
    s3 = _services(execution).client("s3", validate=False)
    limit = max_items if isinstance(max_items, int) and not isinstance(max_items, bool) and max_items > 0 else None
    from botocore.exceptions import ClientError

    spool = Spool()
    try:
        if resource.endswith(":s3:listObjectsV2"):
            _fill(spool, _list_objects(s3, params), limit)
        elif resource.endswith(":s3:getObject"):
            body = s3.get_object(**{k: v for k, v in params.items() if k in ("Bucket", "Key", "VersionId")})["Body"]
            try:
                _fill(spool, _parse(body, config), limit)
            finally:
                body.close()
        else:
            raise StatesError("States.ItemReaderFailed", f"The ItemReader resource {resource} is not supported")
    except ClientError as exc:
        spool.close()
        error = exc.response.get("Error", {})
        raise StatesError("States.ItemReaderFailed", f"{error.get('Message') or error.get('Code')} (Service: S3, "
                                                     f"Status Code: {exc.response['ResponseMetadata'].get('HTTPStatusCode')})")\
            from None
    except StatesError:
        spool.close()
        raise
    except (ValueError, csv.Error) as exc:  # a JSONL line that is not JSON, bytes that are not UTF-8, ...
        spool.close()
        raise StatesError("States.ItemReaderFailed", f"The object could not be read as {_input_type(config)}: "
                                                     f"{exc}") from None
    return spool
    yield  # pragma: no cover - makes this a generator


def _fill(spool: Spool, items: Iterable[Any], limit: int | None) -> None:
    """Spool the items, stopping after ``limit`` of them (the rest of the object is never read)."""
    if limit is None:
        for item in items:
            spool.append_text(to_json(item))
        return
    for count, item in enumerate(items, 1):
        spool.append_text(to_json(item))
        if count >= limit:
            return


def _list_objects(s3, params: dict) -> Iterator[dict]:
    request = {k: v for k, v in params.items() if k in ("Bucket", "Prefix", "Delimiter", "StartAfter")}
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(**request):
        for obj in page.get("Contents", []):
            yield {"Etag": obj.get("ETag"), "Key": obj["Key"],
                   "LastModified": int(obj["LastModified"].timestamp()) if hasattr(obj.get("LastModified"), "timestamp")
                   else obj.get("LastModified"), "Size": obj.get("Size"),
                   "StorageClass": obj.get("StorageClass", "STANDARD")}


_CSV_DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


def _input_type(config: dict) -> str:
    return str(config.get("InputType", "JSON")).upper()


def _parse(body, config: dict) -> Iterator[Any]:
    """The items of an S3 object's body (a binary stream), in order."""
    kind = _input_type(config)
    if kind == "JSON":
        # One JSON document: parsed whole (the standard library has no incremental parser).
        try:
            items = json.loads(body.read().decode("utf-8"))
        except ValueError as exc:
            raise StatesError("States.ItemReaderFailed", f"Attempting to map over non-iterable node: {exc}") from None
        if not isinstance(items, list):
            raise StatesError("States.ItemReaderFailed", "Attempting to map over non-iterable node.")
        return iter(items)
    if kind == "JSONL":
        return (json.loads(line) for line in io.TextIOWrapper(body, encoding="utf-8") if line.strip())
    if kind == "CSV":
        delimiter = _CSV_DELIMITERS.get(str(config.get("CSVDelimiter", "COMMA")).upper(), ",")
        # newline="" leaves line ends to the csv module (quoted fields may hold line breaks).
        rows = csv.reader(io.TextIOWrapper(body, encoding="utf-8", newline=""), delimiter=delimiter)
        if str(config.get("CSVHeaderLocation", "FIRST_ROW")).upper() == "GIVEN":
            headers = list(config.get("CSVHeaders") or [])
        else:
            headers = next(rows, [])
        return ({h: (row[i] if i < len(row) else "") for i, h in enumerate(headers)} for row in rows if row)
    raise StatesError("States.ItemReaderFailed", f"The InputType {kind} is not supported by sfnlab")


def batch_items(execution, state, items: Iterable[Any], value: Any, raw: Any, scope) -> Spool:
    """Group items as an ItemBatcher does: each batch is ``{"Items": [...], "BatchInput": ...}``.

    ``items`` is a list or a :class:`Spool`; the batches come back as a :class:`Spool`, built from
    the items' JSON texts without decoding them.
    """
    batcher = dict(state.item_batcher or {})
    size = _number(execution, state, batcher, "MaxItemsPerBatch", value, raw, scope)
    max_bytes = _number(execution, state, batcher, "MaxInputBytesPerBatch", value, raw, scope)
    if not isinstance(max_bytes, int) or max_bytes <= 0:
        max_bytes = None
    has_input = "BatchInput" in batcher
    batch_input = _evaluate(execution, state, batcher["BatchInput"], value, raw, scope, "BatchInput") \
        if has_input else None
    empty = to_json({"Items": [], "BatchInput": batch_input} if has_input else {"Items": []})
    head, tail = empty[:len('{"Items":[')], empty[len('{"Items":['):]  # tail: ']' + the rest
    overhead = len(empty.encode())
    texts = items.texts() if isinstance(items, Spool) else (to_json(item) for item in items)
    if not isinstance(size, int) or size <= 0:
        size = None  # one batch of everything (within MaxInputBytesPerBatch)
    out = Spool()
    current: list[str] = []
    current_bytes = overhead
    for text in texts:
        item_bytes = (len(text) if text.isascii() else len(text.encode())) + (1 if current else 0)
        full = (size is not None and len(current) >= size) or (max_bytes is not None and current
                                                                 and current_bytes + item_bytes > max_bytes)
        if full:
            out.append_text(head + ",".join(current) + tail)
            current, current_bytes = [], overhead
            item_bytes -= 1
        current.append(text)
        current_bytes += item_bytes
    if current:
        out.append_text(head + ",".join(current) + tail)
    if isinstance(items, Spool):
        items.close()  # the batches replace them
    return out


def _label(state) -> str:
    return (state.raw.get("Label") if hasattr(state, "raw") else None) or state.name


def _map_run_arn(execution, state) -> str:
    info = execution.info
    machine = info.state_machine_arn.replace(":stateMachine:", ":mapRun:")
    label = _label(state)
    run_id = str(uuid.UUID(int=execution.runtime.random.getrandbits(128), version=4))
    return f"{machine}/{label}:{run_id}"


def start_map_run(execution, state, frame, length: int, max_concurrency: int = 0,
                  tolerance: tuple[int, float] | None = None) -> MapRun:
    """Create the Map Run and record ``MapRunStarted`` (the engine calls it after ``MapStateStarted``)."""
    run = MapRun(_map_run_arn(execution, state), execution.info.arn, execution.runtime.clock.now)
    run.label = _label(state)
    processor = state.raw.get("ItemProcessor") or state.raw.get("Iterator") or {}
    # The children's workflow: the ItemProcessor as a state machine of its own (unverified: what AWS
    # shows of a child's definition is not recorded; ProcessorConfig configures the parent's Map).
    run.child_definition = to_json({k: v for k, v in processor.items() if k != "ProcessorConfig"})
    run.max_concurrency = max_concurrency
    if tolerance is not None:
        run.tolerated_count, run.tolerated_percentage = tolerance
    run.counts["total"] = length
    run.counts["pending"] = length
    map_runs(execution.runtime)[run.arn] = run
    frame.prev = execution.history.add("MapRunStarted", frame.prev, {"mapRunArn": run.arn})
    return run


def _child_info(execution, state, run: MapRun):
    """The names of the next child execution (its name is drawn from the account's random source)."""
    from .engine import ExecutionInfo

    names = run.child_names
    if names is None:  # the same for every child of the run
        run_name = run.arn.split(":mapRun:", 1)[1].split(":", 1)[0]
        prefix = run.arn.split(":mapRun:", 1)[0]
        execution_type = (state.execution_type or "STANDARD").upper()
        kind = "express" if execution_type == "EXPRESS" else "execution"
        names = run.child_names = (f"{prefix}:{kind}:{run_name}:", f"{prefix}:stateMachine:{run_name}", run_name,
                                   execution_type)
    arn_prefix, machine_arn, run_name, execution_type = names
    name = str(uuid.UUID(int=execution.runtime.random.getrandbits(128), version=4))
    return ExecutionInfo(arn=arn_prefix + name, name=name, state_machine_arn=machine_arn,
                         state_machine_name=run_name, role_arn=execution.info.role_arn, type=execution_type)


def child_execution(execution, state, run: MapRun, index: int, value: Any, text: str | None = None, info=None):
    """The child workflow execution of one item (or batch) of a Distributed Map (``text``: its input's JSON)."""
    from .engine import Execution

    if info is None:
        info = _child_info(execution, state, run)
    child = Execution(execution.machine, execution.runtime, info, value, to_json(value) if text is None else text)
    child.map_run_arn = run.arn
    run.counts["pending"] -= 1
    run.counts["running"] += 1
    return child


def child_finished(run: MapRun, child) -> None:
    run.counts["running"] -= 1
    run.counts["succeeded" if child.status == "SUCCEEDED" else "failed"] += 1
    if len(run.executions) < run.KEEP_CHILDREN:
        run.executions.append(child)


def _child_counted(run: MapRun, status: str) -> None:
    """A child that ran in a worker process and that the Map Run does not keep: only its counts."""
    run.counts["pending"] -= 1
    run.counts["succeeded" if status == "SUCCEEDED" else "failed"] += 1


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


class _Succeeded:
    """The results of the children that succeeded, by item index, for a redrive (see Execution.redrive).

    With a ResultWriter the results are not the Map's output, so they are kept as the JSON texts
    of their records in the SUCCEEDED result file's spool, not in memory.
    """

    def __init__(self, records: Spool, size: int) -> None:
        self.records = records
        self._where = array("q", [-1]) * size  # item index -> position in ``records``

    def add(self, index: int, position: int) -> None:
        self._where[index] = position

    def __contains__(self, index: int) -> bool:
        return 0 <= index < len(self._where) and self._where[index] >= 0

    def record_text(self, index: int) -> str:
        return self.records.text(self._where[index])

    def __getitem__(self, index: int) -> Any:
        return json.loads(json.loads(self.record_text(index))["Output"])


class _MapResults:
    """The results of a Distributed Map without a ResultWriter: its output, in item order.

    AWS checks that output as a task result: over 256 KiB the Map fails with
    ``States.DataLimitExceeded``, whatever its ResultSelector, ResultPath or OutputPath (an
    aws-cdk issue, #24799, shows ``ResultPath: null`` failing so). Its size is counted as the
    results come; once past the limit the rest go to a :class:`Spool` (a temporary file) instead
    of memory, as the output can no longer be anything but that failure. They are kept, not
    dropped, for a redrive, which starts from the results of the children that succeeded.
    """

    _MEMORY, _SPOOLED, _NONE = 0, 1, 2

    def __init__(self, n: int, limit: int) -> None:
        self.limit = limit
        self.size = 2  # "[" and "]"
        self._values: list[Any] = [None] * n
        self._succeeded = bytearray(n)
        self._spool: Spool | None = None
        self._line: array | None = None  # item index -> its line in the spool (-1: not there), past the limit

    @property
    def too_large(self) -> bool:
        return self.size > self.limit

    def keep(self, index: int, result: Any, failed: bool, text: str | None = None) -> None:
        """Keep the result of item ``index``; ``text``: its JSON text, when at hand."""
        if text is None:
            text = to_json(result)
        self.size += (len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))) \
            + (1 if self.size > 2 else 0)
        if not failed:
            self._succeeded[index] = 1
        if self.too_large:
            if self._spool is None:
                self._spool, self._line = Spool(), array("q", [-1]) * len(self._values)
            self._line[index] = len(self._spool)  # type: ignore[index]
            self._spool.append_text(text)
        else:
            self._values[index] = result

    def values(self) -> list:
        """The results as the Map's output (only while they fit: see :attr:`too_large`)."""
        return self._values

    # What a redrive reads: the results of the children that succeeded.
    def __contains__(self, index: int) -> bool:
        return 0 <= index < len(self._succeeded) and self._succeeded[index] == 1

    def __getitem__(self, index: int) -> Any:
        if index not in self:
            raise KeyError(index)
        line = -1 if self._line is None else self._line[index]
        return self._values[index] if line < 0 else self._spool[line]  # type: ignore[index]


class _ResultFiles:
    """The records of a ResultWriter's result files, spooled as the children end."""

    # "Step Functions supports individual result files of up to 5 GB. If a file size exceeds 5 GB,
    # Step Functions creates another file" (AWS guide, "ResultWriter"): SUCCEEDED_1.json, ...
    # 5 GiB: S3's largest single PutObject.
    FILE_LIMIT = 5 * 1024 ** 3

    def __init__(self, run: MapRun, size: int) -> None:
        self.run = run
        self.run_id = run.arn.rsplit(":", 1)[1]
        self.spools = {"SUCCEEDED": Spool(), "FAILED": Spool()}
        self.succeeded = _Succeeded(self.spools["SUCCEEDED"], size)
        self.count = 0

    def add(self, execution, index: int, result: Any, failed: bool, output_text: str | None = None) -> None:
        """Add the record of a child; ``output_text``: the JSON text of a successful ``result``, if at hand."""
        now = execution.runtime.clock.now
        record: dict[str, Any] = {
            "ExecutionArn": f"{self.run.arn.replace(':mapRun:', ':execution:')}:{index}",
            "Input": None, "InputDetails": {"Included": True},
            "Name": f"{self.run_id}:{index}",
            "StartDate": now, "StateMachineArn": self.run.arn, "StopDate": now, "RedriveCount": 0,
            "RedriveStatus": "NOT_REDRIVABLE",
        }
        if failed:
            record.update(Status="FAILED", Error=result.get("Error"), Cause=result.get("Cause"),
                          RedriveStatusReason="Execution is FAILED and cannot be redriven")
        else:
            record.update(Status="SUCCEEDED", Output=to_json(result) if output_text is None else output_text,
                          OutputDetails={"Included": True},
                          RedriveStatusReason="Execution is SUCCEEDED and cannot be redriven")
        self.add_text(index, to_json(record), failed)

    def add_text(self, index: int, text: str, failed: bool) -> None:
        spool = self.spools["FAILED" if failed else "SUCCEEDED"]
        if not failed:
            self.succeeded.add(index, len(spool))
        spool.append_text(text)
        self.count += 1

    def close(self) -> None:
        for spool in self.spools.values():
            spool.close()

    def write(self, execution, state, value: Any, raw: Any, scope) -> Generator[Any, Any, Any]:
        """Upload the result files and the manifest; the Map's result is where they were written."""
        writer = dict(state.result_writer or {})
        params = _evaluate(execution, state, writer.get("Arguments", writer.get("Parameters")), value, raw, scope,
                           "Arguments") or {}
        bucket = _s3_parameters(params, ("Bucket",), "States.ResultWriterFailed")["Bucket"]
        prefix = str(params.get("Prefix", "")).rstrip("/")
        base = f"{prefix}/{self.run_id}" if prefix else self.run_id
        services = _services(execution)
        s3 = services.client("s3", validate=False)
        from botocore.exceptions import ClientError

        from .integrations.aws import put_file

        files: dict[str, list] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
        try:
            for kind in ("SUCCEEDED", "FAILED"):
                spool, start = self.spools[kind], 0
                while start < len(spool):
                    key = f"{base}/{kind}_{len(files[kind])}.json"
                    # the array goes to a temporary file (on disk past a few MiB), uploaded in bounded memory
                    with tempfile.SpooledTemporaryFile(max_size=Spool.IN_MEMORY, mode="w+b") as body:
                        size, start = spool.write_array_part(body, start, self.FILE_LIMIT)
                        put_file(services, bucket, key, body, size)
                    files[kind].append({"Key": key, "Size": size})
            manifest = {"DestinationBucket": bucket, "MapRunArn": self.run.arn, "ResultFiles": files}
            s3.put_object(Bucket=bucket, Key=f"{base}/manifest.json", Body=to_json(manifest).encode())
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise StatesError("States.ResultWriterFailed", str(error.get("Message") or error.get("Code"))) from None
        self.run.counts.update(resultsWritten=self.count)
        return {"MapRunArn": self.run.arn, "ResultWriterDetails": {"Bucket": bucket, "Key": f"{base}/manifest.json"}}
        yield  # pragma: no cover - makes this a generator


def _is_failure(result: Any) -> bool:
    # The engine hands tolerated failures over as {"Error", "Cause"} objects.
    return isinstance(result, dict) and set(result) in ({"Error"}, {"Error", "Cause"})


def write_results(execution, state, results: list, value: Any, raw: Any, scope, frame) -> Generator[Any, Any, Any]:
    """A ResultWriter on a Map whose results are a list (an inline Map): write them as AWS does."""
    run = frame.record.get("map_run") or MapRun(_map_run_arn(execution, state), execution.info.arn,
                                                execution.runtime.clock.now)
    map_runs(execution.runtime)[run.arn] = run
    files = _ResultFiles(run, len(results))
    try:
        for index, result in enumerate(results):
            files.add(execution, index, result, _is_failure(result))
        return (yield from files.write(execution, state, value, raw, scope))
    finally:
        files.close()


def run_children(execution, state, value: Any, raw: Any, items, limit: int, scope, frame,
                 tolerance: tuple[int, float] | None) -> Generator[Any, Any, Any]:
    """Run every item (or batch) as a child execution of the Map Run; return the Map's result.

    ``items`` is a list or a :class:`Spool`. At most ``limit`` children run at once
    (:data:`DEFAULT_CONCURRENCY` when 0). A failed child's result is ``{"Error", "Cause"}`` while
    the failures stay within ``tolerance``; past it the Map fails with
    ``States.ExceedToleratedFailureThreshold``.
    """
    run: MapRun = frame.record["map_run"]
    n = len(items)
    files = _ResultFiles(run, n) if state.result_writer is not None else None
    from .engine import PAYLOAD_LIMIT  # engine imports this module

    results = _MapResults(n, PAYLOAD_LIMIT) if files is None else None
    previous = execution._previous_results(state, frame)
    # What a redrive needs: the results of the children that succeeded.
    frame.record["children"] = files.succeeded if files is not None else results
    processor = state.processor
    plain = state.item_selector is None and isinstance(items, Spool)
    failure: list[StatesError] = []
    failed_count = [0]
    next_index = [0]
    child_index = [0]  # children ended so far

    def over_threshold() -> bool:
        if tolerance is None:
            return failed_count[0] > 0
        count, percentage = tolerance
        return failed_count[0] > count and 100.0 * failed_count[0] / n > percentage

    def keep(index: int, result: Any, failed: bool, output_text: str | None = None) -> None:
        if files is not None:
            files.add(execution, index, result, failed, output_text)
        else:
            cast(_MapResults, results).keep(index, result, failed, output_text)  # files is None: results is not

    def adopt(child, index: int) -> None:
        # The drawings show the state visits of the children the Map Run keeps (each visit holds its
        # input and output: all of them would grow with the item count).
        if child_index[0] < MapRun.KEEP_CHILDREN:
            execution._adopt_records(child, frame, state, index)
        child_index[0] += 1

    def item(index: int) -> tuple[Any, str | None]:
        """The input of the child of ``index`` and, when at hand, its JSON text."""
        if plain:  # the item is the input: its JSON text is in the spool already
            text = items.text(index)
            return json.loads(text), text
        return execution._item_input(state, value, raw, items, index, scope, frame), None

    def failed_result(exc: StatesError) -> dict:
        return {"Error": exc.error, "Cause": exc.cause} if exc.cause is not None else {"Error": exc.error}

    def worker() -> Generator[Any, Any, Any]:
        while not failure and next_index[0] < n:
            index = next_index[0]
            next_index[0] += 1
            if index in previous:  # redrive: this child succeeded last time
                if files is not None and isinstance(previous, _Succeeded):
                    files.add_text(index, previous.record_text(index), False)
                else:
                    keep(index, previous[index], False)
                continue
            iteration_input, text = item(index)
            child = child_execution(execution, state, run, index, iteration_input, text)
            try:
                result = yield from child.run_as_child(processor, iteration_input)
            except StatesError as exc:
                child_finished(run, child)
                adopt(child, index)
                failed_count[0] += 1
                if over_threshold():
                    failure.append(exc)
                    return
                keep(index, failed_result(exc), True)
                continue
            child_finished(run, child)
            adopt(child, index)
            keep(index, result, False)

    def pooled_worker(processes: int) -> Generator[Any, Any, Any]:
        """What ``worker`` does, with the children run in worker processes.

        Only for children that never wait and never draw from the random source (see
        :func:`poolable`): in this process they would run one after another in item order, so
        names are drawn here in that order, and the outcomes are taken in that order too.
        """
        rng = execution.runtime.random
        chunk_size = max(1, min(POOL_CHUNK, -(-n // (processes * 4))))
        pool = _Pool(processes, execution, processor, run)
        window: deque = deque()  # (first index, random state before it, pending outcomes)
        prepared = [0]  # children whose input and name are drawn
        stopped: list[BaseException] = []  # an error met while preparing a child (e.g. its ItemSelector)

        def submit() -> None:
            first, before = prepared[0], rng.getstate()
            chunk: list[tuple[Any, ...]] = []
            while prepared[0] < n and len(chunk) < chunk_size:
                index = prepared[0]
                try:
                    iteration_input, text = (None, items.text(index)) if plain else item(index)
                    info = _child_info(execution, state, run)
                except Exception as exc:  # noqa: BLE001 - raised below, after the children before it
                    stopped.append(exc)
                    break
                prepared[0] += 1
                # A plain item travels as its JSON text: cheaper to send than the value.
                chunk.append((index, info, iteration_input, text, index < MapRun.KEEP_CHILDREN))
            window.append((first, before, chunk, pool.submit(chunk)))

        def replay(first: int, before: Any, last: int) -> None:
            # The children after ``last`` never start: the random source is left as they found it.
            rng.setstate(before)
            for index in range(first, last + 1):
                item(index)
                _child_info(execution, state, run)

        try:
            while window or (prepared[0] < n and not stopped):
                while len(window) < 2 * processes and prepared[0] < n and not stopped:
                    submit()
                first, before, chunk, pending = window.popleft()
                for (index, info, iteration_input, text, _), outcome in zip(chunk, pool.outcomes(pending)):
                    next_index[0] = index + 1
                    status, output_text, exc, detail = outcome
                    if detail is not None:
                        if iteration_input is None and text is not None:
                            iteration_input = json.loads(text)
                        child = child_execution(execution, state, run, index, iteration_input, text, info)
                        _restore_child(child, execution, status, output_text, exc, detail)
                        child_finished(run, child)
                        adopt(child, index)
                    else:
                        _child_counted(run, status)
                        child_index[0] += 1
                    if exc is not None:
                        failed_count[0] += 1
                        if over_threshold():
                            failure.append(exc)
                            replay(first, before, index)
                            return
                        keep(index, failed_result(exc), True)
                    elif files is not None:  # the record holds the output's text as it is
                        keep(index, None, False, output_text)
                    else:
                        keep(index, json.loads(output_text), False, output_text)
            if stopped:
                raise stopped[0]
        finally:
            pool.close(pending for _, _, _, pending in window)
        return
        yield  # pragma: no cover - a line of control, like ``worker``

    def idle() -> Generator[Any, Any, Any]:
        # The other lines of control the in-process run would have: they find no item left.
        return
        yield  # pragma: no cover

    try:
        if n:
            workers = min(limit if limit > 0 else DEFAULT_CONCURRENCY, n)
            processes = _processes(execution, state, n, previous)
            run.processes = processes
            lines = [pooled_worker(processes) if processes and i == 0 else idle() if processes else worker()
                     for i in range(workers)]
            tasks = [execution._spawn(line, f"{state.name}/worker{i}") for i, line in enumerate(lines)]
            yield Join(tuple(tasks), fail_fast=False)
            from .engine import raise_map_failure  # engine imports this module

            raise_map_failure(tasks, failure, tolerance)
        if results is not None:
            if results.too_large:  # checked as a task result is: Retry and Catch see it
                raise StatesError("States.DataLimitExceeded", f"The state/task '{state.name}' returned a result "
                                  "with a size exceeding the maximum number of bytes service limit.")
            return results.values()
        files = cast(_ResultFiles, files)  # results is None: files is not
        written = yield from files.write(execution, state, value, raw, scope)
        frame.record["children"] = {}  # a Map that succeeded is never redriven
        files.close()
        return written
    finally:
        if isinstance(items, Spool):
            items.close()
        if files is not None:
            files.spools["FAILED"].close()  # SUCCEEDED stays open while a redrive may need it




# ---- child executions in worker processes (optional) ----------------------------------------------

# States that never wait and call nothing outside their execution.
_POOLED_TYPES = frozenset({"Pass", "Choice", "Succeed", "Fail"})
# What draws from the account's random source inside such states.
_RANDOM_MARKS = ("States.UUID", "$random", "$uuid")
POOL_CHUNK = 500  # children handed to a worker process at a time, at most
POOL_WAIT = 600.0  # seconds a chunk may take before the run gives up on the worker processes


def poolable(state) -> bool:
    """Whether the children of a Distributed Map can run in worker processes with the same outcome.

    Their processor must hold only Pass, Choice, Succeed and Fail states that draw nothing from
    the random source (no ``States.UUID``, JSONata ``$random()``/``$uuid()``): such children never
    wait, so in one process they run one after another in item order, and a worker process can
    run them from the same start time. Tasks, Waits, Parallel and Map states run in this process:
    a function called in another process would not change this process's objects, and request
    ids, task tokens and retry jitter come from the account's random source.
    """
    processor = state.processor
    if processor is None or any(s.type.value not in _POOLED_TYPES for s in processor.states.values()):
        return False
    text = to_json(state.raw.get("ItemProcessor", state.raw.get("Iterator")))
    return not any(mark in text for mark in _RANDOM_MARKS)


def _processes(execution, state, n: int, previous: Any) -> int:
    """How many worker processes run this Map's children (0: this process)."""
    import multiprocessing

    wanted = getattr(execution.runtime, "distributed_map_processes", 0) or 0
    if wanted <= 0 or n < 2 or previous or execution.test_mode is not None or not poolable(state) \
            or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    return min(wanted, n)


class _NoRandom:
    """The random source of a worker process: poolable children never draw from it."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("a child run in a worker process drew from the random source")


_JOB: dict | None = None  # what the worker processes inherit when they are forked


def _run_chunk(chunk: list) -> list:
    """In a worker process: run the children of ``chunk``; their outcomes, in the same order."""
    from .engine import Execution

    job = cast(dict, _JOB)  # set in the parent before the workers were forked
    runtime = job["runtime"]
    outcomes = []
    for _index, info, value, text, full in chunk:
        if text is not None:
            value = json.loads(text)
        runtime.clock.now = job["start"]  # every child starts when the Map's children start
        child = Execution(job["machine"], runtime, info, value, to_json(value) if text is None else text)
        child.map_run_arn = job["run_arn"]
        line = child.run_as_child(job["processor"], value)
        output_text = failure = None
        try:
            line.send(None)
        except StopIteration as end:
            output_text = to_json(end.value)
        except StatesError as exc:
            failure = exc
        else:  # pragma: no cover - poolable() admits no state that waits
            raise RuntimeError("a child run in a worker process waited")
        detail = None
        if full:  # a child the Map Run keeps: its history and state visits too
            child.history.clock = None
            detail = (child.history, child.records, child.start_time, child.stop_time)
        outcomes.append((child.status, output_text, failure, detail))
    return outcomes


class _Pool:
    """Worker processes forked from this one, so they share the machine without pickling it."""

    def __init__(self, processes: int, execution, processor, run: MapRun) -> None:
        import multiprocessing

        from .clock import VirtualClock
        from .engine import Runtime

        global _JOB
        source = execution.runtime
        runtime = Runtime(functions={}, clock=VirtualClock(source.clock.now), region=source.region,
                          account=source.account)
        runtime.random = _NoRandom()  # type: ignore[assignment]  # a stand-in that refuses every draw
        _JOB = {"runtime": runtime, "start": source.clock.now, "machine": execution.machine,
                "processor": processor, "run_arn": run.arn}
        try:
            self._pool = multiprocessing.get_context("fork").Pool(processes)
        finally:
            _JOB = None

    def submit(self, chunk: list):
        return self._pool.apply_async(_run_chunk, (chunk,))

    def outcomes(self, pending) -> list:
        import multiprocessing

        try:
            return pending.get(POOL_WAIT)
        except multiprocessing.TimeoutError:
            raise RuntimeError(f"a worker process ran {POOL_CHUNK} child executions for more than {POOL_WAIT} s: "
                               "run without distributed_map_processes") from None

    def close(self, pending: Iterable = ()) -> None:
        """Wait for the chunks still running, then let the workers end.

        ``Pool.terminate`` while workers are passing results can leave a queue's lock held by a
        killed worker, and the next put waits forever; the chunks in flight are few (two per
        process), and their children change nothing here.
        """
        stuck = False
        for outcome in pending:
            outcome.wait(POOL_WAIT)
            stuck = stuck or not outcome.ready()
        if stuck:  # pragma: no cover - a worker that never answers: nothing is left to pass
            self._pool.terminate()
        else:
            self._pool.close()
        self._pool.join()


def _restore_child(child, execution, status: str, output_text: str | None, failure: StatesError | None,
                   detail: tuple) -> None:
    """Give a child made in this process what its run in a worker process left."""
    history, records, start, stop = detail
    history.clock = execution.runtime.clock
    child.history, child.records, child.start_time, child.stop_time = history, records, start, stop
    child.status = status
    if failure is None:
        child.output = json.loads(cast(str, output_text))  # a child that did not fail has one
    else:
        child.error, child.cause = failure.error, failure.cause
