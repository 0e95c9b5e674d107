"""Distributed Map at scale: wall time and peak RSS over 10,000 / 100,000 / 1,000,000 CSV rows.

Usage::

    python bench/dmap.py                                   # writer and nowriter, 10k, 100k, 1M rows
    python bench/dmap.py --rows 10000,100000 --variant writer --batch 100
    python bench/dmap.py --json out.json
    python bench/dmap.py --batch 1 --processes 2          # one child per row, children in 2 worker processes

Every measurement runs in a fresh Python process (this file with ``--child``), one at a time, so
that its peak RSS (``ru_maxrss``) belongs to that size alone. The child:

1. makes a ``sfnlab.client()`` and writes ``rows.csv`` (``id,amount`` and N rows) to a bucket of
   the local S3 (``client.sfnlab.aws_client("s3")``); the CSV text is dropped once uploaded;
2. runs one untimed warm-up execution (a 10-row map), so lazily loaded modules are not timed;
3. times ``start_execution`` .. ``describe_execution`` of a Distributed Map with ItemReader
   (CSV, FIRST_ROW), ItemBatcher (``MaxItemsPerBatch``, ``BatchInput``),
   ToleratedFailurePercentage 5 and (variant ``writer``) a ResultWriter. The batch whose first
   row has ``id`` "0" fails, every other batch succeeds with ``{"n": <items>, "src": ...}``;
4. checks the result: the Map Run's counts (total / succeeded / failed / resultsWritten), and with
   the writer, the manifest and every result file (records and their ``n`` add up to N rows);
   without the writer, the output array (or, when the results exceed 256 KiB, that the execution
   failed with ``States.DataLimitExceeded`` as AWS does).

The figures are printed as a Markdown table, with the time and memory ratio of each size to the
previous one (the target: 10x the rows costs at most 12x the time and memory). Peak RSS is the
whole process: sfnlab, and the local S3 server (moto, in a thread of the same process) that holds
the CSV and receives the result files. ``ru_maxrss`` of a process does not include its worker
processes (``--processes``); their peak is reported apart (``RUSAGE_CHILDREN``: the largest one).
"""
from __future__ import annotations

import argparse
import codecs
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any, Iterator

ROLE = "arn:aws:iam::123456789012:role/bench"
PAYLOAD_LIMIT = 256 * 1024


def peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def definition(bucket: str, batch: int, writer: bool) -> dict:
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
        "StartAt": "Check",
        "States": {
            "Check": {"Type": "Choice", "Default": "Count",
                      "Choices": [{"Variable": "$.Items[0].id", "StringEquals": "0", "Next": "Bad"}]},
            "Bad": {"Type": "Fail", "Error": "BadBatch", "Cause": "the first batch fails"},
            "Count": {"Type": "Pass", "End": True,
                      "Parameters": {"n.$": "States.ArrayLength($.Items)", "src.$": "$.BatchInput.src"}},
        },
    }
    state: dict[str, Any] = {
        "Type": "Map", "End": True, "MaxConcurrency": 1000, "ToleratedFailurePercentage": 5,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                       "Parameters": {"Bucket": bucket, "Key": "rows.csv"}},
        "ItemBatcher": {"MaxItemsPerBatch": batch, "BatchInput": {"src": "rows.csv"}},
        "ItemProcessor": processor,
    }
    if writer:
        state["ResultWriter"] = {"Resource": "arn:aws:states:::s3:putObject",
                                 "Parameters": {"Bucket": bucket, "Prefix": "out"}}
    return {"StartAt": "Map", "States": {"Map": state}}


def write_csv(s3: Any, bucket: str, key: str, rows: int) -> None:
    body = ("id,amount\n" + "".join(f"{i},{i % 100}\n" for i in range(rows))).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body)


def run_one(sfn: Any, bucket: str, rows: int, batch: int, writer: bool) -> tuple[float, dict, str]:
    s3 = sfn.sfnlab.aws_client("s3")
    write_csv(s3, bucket, "rows.csv", rows)
    arn = sfn.create_state_machine(name=f"dmap-{rows}-{int(writer)}-{time.monotonic_ns()}", roleArn=ROLE,
                                   definition=json.dumps(definition(bucket, batch, writer)))["stateMachineArn"]
    started = time.perf_counter()
    ex = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    described = sfn.describe_execution(executionArn=ex)
    seconds = time.perf_counter() - started
    return seconds, described, ex


def records(body: Any) -> Iterator[Any]:
    """The values of a JSON array read as a stream (a result file of 1,000,000 records is ~640 MB)."""
    decoder, text, at = json.JSONDecoder(), "", 0
    utf8 = codecs.getincrementaldecoder("utf-8")()
    chunks = body.iter_chunks(1024 * 1024)
    ended = False
    while True:
        while at < len(text) and text[at] in "[], \n":
            at += 1
        try:
            if at == len(text):
                raise ValueError("more text needed")
            value, end = decoder.raw_decode(text, at)
        except ValueError:
            if ended:
                if text[at:].strip():
                    raise
                return
            chunk = next(chunks, None)
            ended = chunk is None
            text = text[at:] + utf8.decode(chunk or b"", final=ended)
            at = 0
            continue
        yield value
        at = end


def check(sfn: Any, bucket: str, rows: int, batch: int, writer: bool, described: dict, ex: str) -> list[str]:
    """What is wrong with the run (nothing: an empty list)."""
    wrong: list[str] = []
    batches = -(-rows // batch)
    runs = sfn.list_map_runs(executionArn=ex)["mapRuns"]
    if len(runs) != 1:
        return [f"{len(runs)} map runs"]
    counts = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["itemCounts"]
    expected_counts = {"total": batches, "succeeded": batches - 1, "failed": 1}
    for name, value in expected_counts.items():
        if counts.get(name) != value:
            wrong.append(f"itemCounts.{name} = {counts.get(name)}, expected {value}")
    if not writer:
        size = 1 + sum(len(json.dumps({"n": min(batch, rows - i * batch), "src": "rows.csv"},
                                      separators=(",", ":"))) + 1 for i in range(1, batches)) \
            + len('{"Error":"BadBatch","Cause":"the first batch fails"}')
        if size > PAYLOAD_LIMIT:
            if described["status"] != "FAILED" or described.get("error") != "States.DataLimitExceeded":
                wrong.append(f"results of {size} bytes: expected FAILED States.DataLimitExceeded, got "
                             f"{described['status']} {described.get('error')}")
            return wrong
        if described["status"] != "SUCCEEDED":
            return wrong + [f"status {described['status']} {described.get('error')}"]
        output = json.loads(described["output"])
        if len(output) != batches or output[0].get("Error") != "BadBatch" \
                or sum(o.get("n", 0) for o in output) != rows - min(batch, rows):
            wrong.append("output array")
        return wrong
    if described["status"] != "SUCCEEDED":
        return wrong + [f"status {described['status']} {described.get('error')}: {described.get('cause')}"]
    if counts.get("resultsWritten") != batches:
        wrong.append(f"itemCounts.resultsWritten = {counts.get('resultsWritten')}, expected {batches}")
    output = json.loads(described["output"])
    s3 = sfn.sfnlab.aws_client("s3")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=output["ResultWriterDetails"]["Key"])["Body"].read())
    seen = {"SUCCEEDED": 0, "FAILED": 0}
    items = 0
    for kind in seen:
        for entry in manifest["ResultFiles"].get(kind, []):
            answer = s3.get_object(Bucket=bucket, Key=entry["Key"])
            if answer["ContentLength"] != entry["Size"]:
                wrong.append(f"{entry['Key']}: {answer['ContentLength']} bytes, the manifest says {entry['Size']}")
            for record in records(answer["Body"]):
                seen[kind] += 1
                if record["Status"] == "SUCCEEDED":
                    items += json.loads(record["Output"])["n"]
    if seen != {"SUCCEEDED": batches - 1, "FAILED": 1}:
        wrong.append(f"result files hold {seen}")
    if items != rows - min(batch, rows):
        wrong.append(f"result files count {items} items")
    return wrong


def child(rows: int, batch: int, writer: bool, processes: int) -> dict:
    import sfnlab

    baseline = peak_rss_kib()
    sfn = sfnlab.client(distributed_map_processes=processes)
    bucket = "dmap-bench"
    sfn.sfnlab.aws_client("s3").create_bucket(Bucket=bucket)
    run_one(sfn, bucket, 10, batch, writer)  # warm-up: imports, the local S3 server
    warm = peak_rss_kib()
    seconds, described, ex = run_one(sfn, bucket, rows, batch, writer)
    peak = peak_rss_kib()
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    wrong = check(sfn, bucket, rows, batch, writer, described, ex)
    return {"rows": rows, "batch": batch, "processes": processes, "variant": "writer" if writer else "nowriter",
            "seconds": seconds,
            "status": described["status"], "error": described.get("error"), "baseline_kib": baseline,
            "warm_kib": warm, "peak_kib": peak, "workers_peak_kib": workers, "wrong": wrong}


def measure(rows: int, batch: int, writer: bool, limit: float, processes: int) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", str(rows), "--batch", str(batch),
           "--variant", "writer" if writer else "nowriter", "--processes", str(processes)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"rows": rows, "variant": "writer" if writer else "nowriter", "crashed": f"killed after {limit:.0f} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"rows": rows, "variant": "writer" if writer else "nowriter",
                "crashed": " | ".join(tail) or f"exit {proc.returncode}"}
    return json.loads(lines[-1])


def table(results: list[dict]) -> str:
    lines = ["| variant | rows | children | processes | status | wall time | peak RSS | time ×prev | RSS ×prev | check |",
             "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |"]
    previous: dict[str, dict] = {}
    for r in results:
        if "crashed" in r:
            lines.append(f"| {r['variant']} | {r['rows']:,} | | | CRASHED | | | | | {r['crashed']} |")
            continue
        before = previous.get(r["variant"])
        time_ratio = f"{r['seconds'] / before['seconds']:.1f}" if before else ""
        rss_ratio = f"{r['peak_kib'] / before['peak_kib']:.2f}" if before else ""
        status = r["status"] + (f" ({r['error']})" if r.get("error") else "")
        workers = f" (+ {r['workers_peak_kib'] / 1024:.0f} MiB each)" if r.get("processes") else ""
        lines.append(f"| {r['variant']} | {r['rows']:,} | {-(-r['rows'] // r['batch']):,} | {r.get('processes', 0)} | "
                     f"{status} | {r['seconds']:.2f} s | {r['peak_kib'] / 1024:.0f} MiB{workers} | {time_ratio} | "
                     f"{rss_ratio} | "
                     f"{'ok' if not r['wrong'] else 'WRONG: ' + '; '.join(r['wrong'])} |")
        previous[r["variant"]] = r
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="10000,100000,1000000", help="comma-separated row counts")
    parser.add_argument("--batch", type=int, default=100, help="ItemBatcher MaxItemsPerBatch")
    parser.add_argument("--variant", choices=("writer", "nowriter", "both"), default="both")
    parser.add_argument("--processes", type=int, default=0,
                        help="sfnlab.client(distributed_map_processes=N): children in N worker processes")
    parser.add_argument("--limit", type=float, default=600.0, help="seconds allowed per measurement process")
    parser.add_argument("--json", help="also write the measurements here")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        result = child(args.child, args.batch, args.variant == "writer", args.processes)
        print(json.dumps(result), flush=True)
        os._exit(0)  # the local S3 server thread must not keep the process alive
    variants = ("writer", "nowriter") if args.variant == "both" else (args.variant,)
    results = []
    for variant in variants:
        for rows in (int(r) for r in args.rows.split(",")):
            print(f"{variant} {rows:,} rows ...", file=sys.stderr, flush=True)
            result = measure(rows, args.batch, variant == "writer", args.limit, args.processes)
            print(f"  {json.dumps(result)}", file=sys.stderr, flush=True)
            results.append(result)
    print(table(results))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)


if __name__ == "__main__":
    main()
