"""Load `sfnlab serve` from many clients at once and account for every execution.

Usage::

    python bench/load.py [--clients 8] [--executions 25] [--json out.json]

It starts ``sfnlab serve --port 0`` (loopback) in a subprocess, then ``--clients`` client
processes, each with its own boto3 client (``endpoint_url``), work through ``--executions``
executions of two Standard state machines, alternating:

* **callback**: one Task ``arn:aws:states:::sqs:sendMessage.waitForTaskToken`` that sends its task
  token to the client's own SQS queue (served by the same endpoint); the client receives the
  message, deletes it, and answers ``SendTaskSuccess`` with the token;
* **plain**: three Pass states.

Every ``StartExecution`` is sent twice with the same name and input (a client retrying after a
lost answer): on AWS a Standard execution is idempotent by name, so both must answer the same
ARN. Each execution must then be described ``SUCCEEDED`` with the output it was given.

At the end ``ListExecutions`` must list exactly the names started (none lost, none twice), all
``SUCCEEDED``, and a third start of a finished execution must be ``ExecutionAlreadyExists``.
botocore's own retries are off, so every failed call is seen and counted.

Printed: executions per second (executions completed / wall time of the client phase) and the
latency percentiles of each operation, measured in the clients (network + server).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/sfnlab-load"
CALLBACK = {"StartAt": "Ask", "States": {"Ask": {
    "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    "Parameters": {"QueueUrl.$": "$.queue", "MessageBody": {"token.$": "$$.Task.Token", "name.$": "$$.Execution.Name"}},
    "End": True}}}
PLAIN = {"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Parameters": {"n.$": "$.n", "step": 1}, "Next": "B"},
    "B": {"Type": "Pass", "Parameters": {"n.$": "$.n", "step": 2}, "Next": "C"},
    "C": {"Type": "Pass", "End": True}}}


def boto(service: str, endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                        config=Config(retries={"total_max_attempts": 1}, read_timeout=120, connect_timeout=30))


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "sfnlab.cli", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    found = re.search(r"http://[\w.:\[\]]+", line)
    if not found:
        proc.kill()
        raise SystemExit(f"sfnlab serve did not start: {line!r}")
    return proc, found.group(0)


class Timer:
    """Latencies of each operation, in milliseconds."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}

    def call(self, operation: str, fn: Any, /, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(**kwargs)
        finally:
            self.samples.setdefault(operation, []).append((time.perf_counter() - started) * 1000)


def client_run(args: tuple) -> dict:
    """One client: its executions, what it saw, and its latencies."""
    endpoint, index, count, callback_arn, plain_arn, queue = args
    sfn, sqs = boto("stepfunctions", endpoint), boto("sqs", endpoint)
    timer = Timer()
    started: dict[str, str] = {}  # name -> ARN
    errors: list[str] = []
    for i in range(count):
        kind = "callback" if i % 2 == 0 else "plain"
        name = f"c{index:03d}-{i:04d}-{kind}"
        try:
            if kind == "callback":
                arn_of_machine, payload = callback_arn, {"queue": queue, "n": i}
            else:
                arn_of_machine, payload = plain_arn, {"n": i}
            text = json.dumps(payload)
            first = timer.call("StartExecution", sfn.start_execution, stateMachineArn=arn_of_machine, name=name,
                               input=text)["executionArn"]
            # A retried start: the same answer while the execution runs (the callback one waits for
            # its token); ExecutionAlreadyExists once it has finished (the Pass chain ends at once).
            try:
                again = timer.call("StartExecution (retry)", sfn.start_execution, stateMachineArn=arn_of_machine,
                                   name=name, input=text)["executionArn"]
                if kind != "callback" or again != first:
                    errors.append(f"{name}: a repeated start answered {again} (first {first})")
            except sfn.exceptions.ExecutionAlreadyExists:
                if kind == "callback":
                    errors.append(f"{name}: a repeated start of a running execution answered ExecutionAlreadyExists")
            started[name] = first
            expected: Any = {"n": i, "step": 2}
            if kind == "callback":
                messages = timer.call("sqs ReceiveMessage", sqs.receive_message, QueueUrl=queue,
                                      WaitTimeSeconds=5).get("Messages", [])
                if len(messages) != 1:
                    errors.append(f"{name}: {len(messages)} task tokens in the queue, expected 1")
                    continue
                body = json.loads(messages[0]["Body"])
                if body["name"] != name:
                    errors.append(f"{name}: the queue held the token of {body['name']}")
                timer.call("sqs DeleteMessage", sqs.delete_message, QueueUrl=queue,
                           ReceiptHandle=messages[0]["ReceiptHandle"])
                expected = {"approved": name}
                timer.call("SendTaskSuccess", sfn.send_task_success, taskToken=body["token"],
                           output=json.dumps(expected))
            described = timer.call("DescribeExecution", sfn.describe_execution, executionArn=first)
            if described["status"] != "SUCCEEDED" or json.loads(described.get("output", "null")) != expected:
                errors.append(f"{name}: {described['status']} with output {described.get('output')}")
        except Exception as exc:  # counted, not fatal: the point is to see every failure
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
    return {"started": started, "errors": errors, "samples": timer.samples}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def list_names(sfn: Any, machine_arn: str) -> list[tuple[str, str]]:
    out = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine_arn):
        out += [(e["name"], e["status"]) for e in page["executions"]]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="client processes at once (default 8)")
    parser.add_argument("--executions", type=int, default=25, help="executions per client (default 25)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)

    server, endpoint = start_server()
    try:
        sfn, sqs = boto("stepfunctions", endpoint), boto("sqs", endpoint)
        callback_arn = sfn.create_state_machine(name="load-callback", definition=json.dumps(CALLBACK),
                                                roleArn=ROLE)["stateMachineArn"]
        plain_arn = sfn.create_state_machine(name="load-plain", definition=json.dumps(PLAIN),
                                             roleArn=ROLE)["stateMachineArn"]
        queues = [sqs.create_queue(QueueName=f"load-{i:03d}")["QueueUrl"] for i in range(args.clients)]
        warm_up(sfn, sqs)
        jobs = [(endpoint, i, args.executions, callback_arn, plain_arn, queues[i]) for i in range(args.clients)]
        with multiprocessing.get_context("spawn").Pool(args.clients) as pool:
            pool.map(_warm, range(args.clients))  # import boto3 in every worker before the clock starts
            began = time.perf_counter()
            results = pool.map(client_run, jobs)
            wall = time.perf_counter() - began

        errors = [e for r in results for e in r["errors"]]
        started = {name: arn for r in results for name, arn in r["started"].items()}
        listed = list_names(sfn, callback_arn) + list_names(sfn, plain_arn)
        names = [n for n, _ in listed]
        if len(names) != len(set(names)):
            errors.append(f"ListExecutions lists {len(names) - len(set(names))} executions twice")
        if set(names) != set(started):
            errors.append(f"ListExecutions lists {len(set(names))} executions, {len(started)} were started "
                          f"(missing {sorted(set(started) - set(names))[:5]}, extra {sorted(set(names) - set(started))[:5]})")
        not_done = [n for n, status in listed if status != "SUCCEEDED"]
        if not_done:
            errors.append(f"{len(not_done)} executions did not succeed, e.g. {not_done[:3]}")
        if started:
            name, arn = next(iter(started.items()))
            try:
                sfn.start_execution(stateMachineArn=arn.rsplit(":", 1)[0].replace(":execution:", ":stateMachine:"),
                                    name=name, input="{}")
                errors.append(f"starting the finished {name} again did not answer ExecutionAlreadyExists")
            except sfn.exceptions.ExecutionAlreadyExists:
                pass
    finally:
        server.terminate()
        server.wait(timeout=30)

    samples: dict[str, list[float]] = {}
    for r in results:
        for op, values in r["samples"].items():
            samples.setdefault(op, []).extend(values)
    expected_total = args.clients * args.executions
    figures = {
        "clients": args.clients, "executions_per_client": args.executions, "executions_expected": expected_total,
        "executions_started": len(started), "executions_listed": len(names), "wall_seconds": round(wall, 3),
        "executions_per_second": round(len(started) / wall, 1),
        "requests": sum(len(v) for v in samples.values()),
        "requests_per_second": round(sum(len(v) for v in samples.values()) / wall, 1),
        "latency_ms": {op: {"count": len(v), "p50": round(percentile(v, 50), 2), "p90": round(percentile(v, 90), 2),
                            "p99": round(percentile(v, 99), 2), "max": round(max(v), 2),
                            "mean": round(statistics.fmean(v), 2)} for op, v in sorted(samples.items())},
        "errors": errors,
        "python": platform.python_version(), "cpus": os.cpu_count(),
    }
    print(f"sfnlab serve under load: {args.clients} clients x {args.executions} executions "
          f"(half SQS .waitForTaskToken callbacks, half Pass chains), Python {figures['python']}, "
          f"{figures['cpus']} CPUs\n")
    print(f"executions: {len(started)} started of {expected_total}, {len(names)} listed, "
          f"{len(errors)} errors")
    print(f"wall time {wall:.2f} s: {figures['executions_per_second']} executions/s, "
          f"{figures['requests_per_second']} requests/s\n")
    print("| operation | calls | p50 ms | p90 ms | p99 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for op, f in figures["latency_ms"].items():
        print(f"| {op} | {f['count']} | {f['p50']} | {f['p90']} | {f['p99']} | {f['max']} |")
    for line in errors[:20]:
        print(f"ERROR {line}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=2)
    return 1 if errors or len(started) != expected_total else 0


def warm_up(sfn: Any, sqs: Any) -> None:
    """One callback execution of a machine of its own, untimed: the server's first calls start its
    local AWS services and its SQS client."""
    queue = sqs.create_queue(QueueName="load-warm-up")["QueueUrl"]
    arn = sfn.create_state_machine(name="load-warm-up", definition=json.dumps(CALLBACK), roleArn=ROLE)["stateMachineArn"]
    sfn.start_execution(stateMachineArn=arn, input=json.dumps({"queue": queue, "n": 0}))
    message = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"][0]
    sfn.send_task_success(taskToken=json.loads(message["Body"])["token"], output="{}")


def _warm(_: int) -> None:
    import boto3  # noqa: F401


if __name__ == "__main__":
    sys.exit(main())
