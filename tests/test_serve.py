"""`sfnlab serve`: the AWS CLI and boto3 with endpoint_url complete a callback round trip."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest

from sfnlab.server import make_server

ROLE = "arn:aws:iam::123456789012:role/sfn"


@pytest.fixture(scope="module")
def endpoint():
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}"
    server.shutdown()
    server.server_close()


def boto(service: str, endpoint: str):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def aws_cli() -> list[str] | None:
    found = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    return [found] if found else None


def start_callback_execution(endpoint: str) -> tuple:
    sfn = boto("stepfunctions", endpoint)
    sqs = boto("sqs", endpoint)  # the same endpoint serves the other services too
    queue = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    definition = {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}}, "End": True}}}
    arn = sfn.create_state_machine(name=f"cb-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    assert sfn.describe_execution(executionArn=ex)["status"] == "RUNNING"
    token = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])["token"]
    return sfn, ex, token


def test_boto3_with_endpoint_url(endpoint):
    sfn, ex, token = start_callback_execution(endpoint)
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    d = sfn.describe_execution(executionArn=ex)
    assert d["status"] == "SUCCEEDED" and json.loads(d["output"]) == {"approved": True}
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_success(taskToken="nope", output="{}")


@pytest.mark.skipif(aws_cli() is None, reason="the awscli package is not installed")
def test_aws_cli_send_task_success(endpoint):
    sfn, ex, token = start_callback_execution(endpoint)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    started = time.perf_counter()
    done = subprocess.run(aws_cli() + ["stepfunctions", "--endpoint-url", endpoint, "send-task-success",
                                       "--task-token", token, "--task-output", '{"by": "cli"}'],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert time.perf_counter() - started < 60
    described = subprocess.run(aws_cli() + ["stepfunctions", "--endpoint-url", endpoint, "describe-execution",
                                            "--execution-arn", ex], capture_output=True, text=True, env=env,
                               timeout=60)
    assert json.loads(described.stdout)["status"] == "SUCCEEDED"
    assert json.loads(json.loads(described.stdout)["output"]) == {"by": "cli"}


def test_serve_subcommand_is_registered():
    from sfnlab.cli import build_parser

    args = build_parser().parse_args(["serve", "--port", "0"])
    assert args.port == 0 and args.handler.__name__ == "cmd_serve"
