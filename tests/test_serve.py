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


def callback_machine(sfn, sqs, prefix: str) -> tuple[str, str]:
    """A new queue and a state machine that sends its task token there and waits: (queue URL, ARN)."""
    queue = sqs.create_queue(QueueName=f"{prefix}-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    definition = {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}}, "End": True}}}
    arn = sfn.create_state_machine(name=f"{prefix}-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    return queue, arn


def start_callback_execution(endpoint: str) -> tuple:
    sfn = boto("stepfunctions", endpoint)
    sqs = boto("sqs", endpoint)  # the same endpoint serves the other services too
    queue, arn = callback_machine(sfn, sqs, "cb")
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
    assert args.port == 0 and args.handler.__name__ == "cmd_serve" and args.max_connections == 100
    assert build_parser().parse_args(["serve", "--max-connections", "8"]).max_connections == 8
    for bad in ("0", "many"):
        refused = subprocess.run([sys.executable, "-m", "sfnlab", "serve", "--max-connections", bad],
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and "--max-connections" in refused.stderr, refused.stderr


# -- what AWS refuses before Step Functions sees a request ---------------------------------------

def raw_request(endpoint: str, head: bytes, body: bytes = b"", *, read_timeout: float = 30) -> tuple[int, dict, bytes]:
    """Send bytes as they are and read one answer: (status, headers, body)."""
    import socket
    from http.client import HTTPResponse

    host, port = endpoint.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        sock.sendall(head + body)
        reply = HTTPResponse(sock)
        reply.begin()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()


def post(endpoint: str, body: bytes, target: str = "AWSStepFunctions.ListStateMachines",
         extra: str = "") -> tuple[int, dict, bytes]:
    head = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: {target}\r\n"
            f"Content-Type: application/x-amz-json-1.0\r\n{extra}Content-Length: {len(body)}\r\n\r\n").encode()
    return raw_request(endpoint, head, body)


@pytest.mark.parametrize("body, target, code, message", [
    (b"{not json", "AWSStepFunctions.ListStateMachines", "com.amazon.coral.service#SerializationException", None),
    (b"[1, 2]", "AWSStepFunctions.ListStateMachines", "com.amazon.coral.service#SerializationException",
     "Start of list found where not expected."),
    (b'{"stateMachineArn": 5}', "AWSStepFunctions.StartExecution", "com.amazon.coral.service#SerializationException",
     "NUMBER_VALUE can not be converted to a String"),
    (b'{"maxResults": "ten"}', "AWSStepFunctions.ListStateMachines",
     "com.amazon.coral.service#SerializationException", "STRING_VALUE can not be converted to an Integer"),
    (b'{"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m", "name": {"a": 1}}',
     "AWSStepFunctions.StartExecution", "com.amazon.coral.service#SerializationException",
     "Start of structure or map found where not expected."),
    (b'{"tags": "x", "resourceArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}',
     "AWSStepFunctions.TagResource", "com.amazon.coral.service#SerializationException", "Expected list or null"),
    (b"{}", "AWSStepFunctions.StartExecution", "com.amazon.coral.validate#ValidationException",
     ("1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: "
      "Member must not be null")),
    (b'{"stateMachineArn": ""}', "AWSStepFunctions.StartExecution", "com.amazon.coral.validate#ValidationException",
     ("1 validation error detected: Value '' at 'stateMachineArn' failed to satisfy constraint: "
      "Member must have length greater than or equal to 1")),
    (b"{}", "AWSStepFunctions.NoSuchOperation", "com.amazon.coral.service#UnknownOperationException", None),
])
def test_malformed_requests_get_aws_errors(endpoint, body, target, code, message):
    status, _, answer = post(endpoint, body, target)
    expected = {"__type": code} if message is None else {"__type": code, "message": message}
    assert (status, json.loads(answer)) == (400, expected)


def test_a_body_over_the_limit_gets_413_as_on_aws(endpoint):
    status, headers, answer = post(endpoint, b'{"taskToken": "t", "output": "' + b"x" * 1_049_600 + b'"}',
                                   "AWSStepFunctions.SendTaskSuccess")
    assert status == 413 and answer == b"HTTP content length exceeded 1049600 bytes."
    assert headers["connection"] == "close"
    # A body just under the limit reaches the service, which refuses an output over 256 KiB.
    status, _, answer = post(endpoint, b'{"taskToken": "t", "output": "' + b"x" * 1_040_000 + b'"}',
                             "AWSStepFunctions.SendTaskSuccess")
    assert status == 400 and json.loads(answer)["__type"] == "com.amazon.coral.validate#ValidationException"
    assert "Member must have size less than or equal to 262144 bytes" in json.loads(answer)["message"]


def test_boto3_sees_the_413_as_a_client_error(endpoint):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        boto("stepfunctions", endpoint).send_task_success(taskToken="t", output='"' + "x" * 1_100_000 + '"')
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_framing_errors_close_the_connection(endpoint):
    start = b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\n"
    for head in (start + b"Content-Length: -4\r\n\r\n", start + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}"):
        status, headers, _ = raw_request(endpoint, head)
        assert status == 400 and headers["connection"] == "close"


def test_chunked_body_and_no_body(endpoint):
    head = (b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AWSStepFunctions.ListActivities\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    status, _, answer = raw_request(endpoint, head, b"1\r\n{\r\n1\r\n}\r\n0\r\n\r\n")
    assert status == 200 and "activities" in json.loads(answer)
    # No Content-Length and no chunks: HTTP/1.1 says there is no body, which reads as {}.
    status, _, answer = raw_request(endpoint, b"POST / HTTP/1.1\r\nHost: localhost\r\n"
                                              b"X-Amz-Target: AWSStepFunctions.ListActivities\r\n\r\n")
    assert status == 200 and "activities" in json.loads(answer)


def test_web_pages_and_rebound_names_are_refused_on_loopback(endpoint):
    status, _, answer = post(endpoint, b"{}", extra="Origin: https://attacker.example\r\n")
    assert status == 403 and "attacker.example" in json.loads(answer)["message"]
    head = (b"POST / HTTP/1.1\r\nHost: rebound.attacker.example:8083\r\n"
            b"X-Amz-Target: AWSStepFunctions.ListStateMachines\r\nContent-Length: 2\r\n\r\n{}")
    status, _, answer = raw_request(endpoint, head)
    assert status == 403 and "rebound.attacker.example" in json.loads(answer)["message"]
    # a page served from this machine (a local notebook) may call it
    assert post(endpoint, b"{}", extra="Origin: http://localhost:8888\r\n")[0] == 200


def test_a_silent_client_is_dropped_and_does_not_block_others():
    import socket

    server = make_server("127.0.0.1", 0, timeout=0.5)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    try:
        silent = socket.create_connection((host, port), timeout=30)
        silent.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AWSStepFunctions.ListActivities\r\n"
                       b"Content-Length: 100\r\n\r\n{")  # and then nothing
        assert boto("stepfunctions", f"http://{host}:{port}").list_activities()["activities"] == []
        assert silent.recv(1024) == b""  # the server gave up on it and closed the connection
        silent.close()
    finally:
        server.shutdown()
        server.server_close()


def test_connections_past_the_cap_wait_to_be_accepted_and_are_then_served():
    import socket

    server = make_server("127.0.0.1", 0, max_connections=2)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    handlers_before = threading.active_count()
    idle = [socket.create_connection((host, port), timeout=30) for _ in range(5)]
    try:
        deadline = time.monotonic() + 10
        while threading.active_count() - handlers_before < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # time enough to accept the other three, were there no cap
        assert threading.active_count() - handlers_before == 2  # one thread per served connection, no more
        answers: list = []
        asking = threading.Thread(target=lambda: answers.append(
            boto("stepfunctions", f"http://{host}:{port}").list_activities()["activities"]))
        asking.start()
        for sock in idle:  # as connections end, the waiting ones are accepted in turn
            sock.close()
        asking.join(timeout=60)
        assert answers == [[]]
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ValueError, match="at least 1"):
        make_server("127.0.0.1", 0, max_connections=0)


def test_is_loopback():
    from sfnlab.server import is_loopback

    assert all(map(is_loopback, ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost", "LOCALHOST"]))
    assert not any(map(is_loopback, ["0.0.0.0", "", "192.168.1.10", "::", "example.com", None]))


def run_serve(*args: str) -> tuple[str, str]:
    """Start `sfnlab serve`, read its announcement, stop it; (stdout line, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "sfnlab.cli", "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    return line, err


def test_serve_binds_loopback_by_default_and_warns_otherwise():
    line, err = run_serve()
    assert line.startswith("sfnlab: Step Functions API on http://127.0.0.1:") and "warning" not in err
    line, err = run_serve("--host", "0.0.0.0")
    assert "http://0.0.0.0:" in line and "warning: listening on 0.0.0.0, not loopback" in err


# -- many clients at once ------------------------------------------------------------------------

def test_concurrent_clients_lose_and_duplicate_no_execution(endpoint):
    """Threads start callback executions, retry each start, send the tokens back: all accounted for."""
    sfn = boto("stepfunctions", endpoint)
    definition = {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl.$": "$.queue", "MessageBody": {"token.$": "$$.Task.Token", "name.$": "$$.Execution.Name"}},
        "End": True}}}
    machine = sfn.create_state_machine(name=f"load-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]
    clients, each = 6, 5
    problems: list[str] = []
    started: dict[str, str] = {}

    def client(index: int) -> None:
        sfn, sqs = boto("stepfunctions", endpoint), boto("sqs", endpoint)  # a client per thread, as on 6 laptops
        queue = sqs.create_queue(QueueName=f"load-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        for i in range(each):
            name, text = f"t{index}-{i}", json.dumps({"queue": queue})
            arn = sfn.start_execution(stateMachineArn=machine, name=name, input=text)["executionArn"]
            if sfn.start_execution(stateMachineArn=machine, name=name, input=text)["executionArn"] != arn:
                problems.append(f"{name}: a retried start answered another execution")
            started[name] = arn
            message = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"][0]
            body = json.loads(message["Body"])
            if body["name"] != name:
                problems.append(f"{name}: got the token of {body['name']}")
            sfn.send_task_success(taskToken=body["token"], output=json.dumps({"name": name}))

    def guarded(index: int) -> None:
        try:
            client(index)
        except Exception as exc:  # reported below, with the others
            problems.append(f"client {index}: {exc!r}")

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == []
    listed = [e for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
              for e in page["executions"]]
    assert sorted(e["name"] for e in listed) == sorted(started) and len(started) == clients * each
    assert {e["status"] for e in listed} == {"SUCCEEDED"}
    for name, arn in started.items():
        assert json.loads(sfn.describe_execution(executionArn=arn)["output"]) == {"name": name}
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):  # closed now: a new start is refused
        sfn.start_execution(stateMachineArn=machine, name="t0-0", input=json.dumps({"queue": "q"}))


def test_a_bug_in_sfnlab_answers_500_and_the_server_keeps_serving(monkeypatch, capsys):
    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    endpoint = f"http://{host}:{port}"
    real = server.sfn.sfnlab.respond

    def respond(operation, params):
        if operation == "ListActivities":
            raise ZeroDivisionError("a bug")
        return real(operation, params)

    monkeypatch.setattr(server.sfn.sfnlab, "respond", respond)
    try:
        status, _, answer = post(endpoint, b"{}", "AWSStepFunctions.ListActivities")
        assert (status, json.loads(answer)) == (500, {"__type": "com.amazon.coral.service#InternalFailure"})
        assert "ZeroDivisionError: a bug" in capsys.readouterr().err  # the operator sees the traceback
        assert post(endpoint, b"{}")[0] == 200
    finally:
        server.shutdown()
        server.server_close()


def test_the_same_start_from_many_clients_at_once_makes_one_execution(endpoint):
    """Eight clients retry one StartExecution at the same moment: one execution, one token, one ARN."""
    sfn, sqs = boto("stepfunctions", endpoint), boto("sqs", endpoint)
    queue, machine = callback_machine(sfn, sqs, "race")
    clients = [boto("stepfunctions", endpoint) for _ in range(8)]
    barrier = threading.Barrier(len(clients))
    answers: list[str] = []

    def start(client) -> None:
        barrier.wait()
        try:
            answers.append(client.start_execution(stateMachineArn=machine, name="once", input="{}")["executionArn"])
        except Exception as exc:  # compared below: none is expected
            answers.append(repr(exc))

    threads = [threading.Thread(target=start, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [f"{machine.replace(':stateMachine:', ':execution:')}:once"] * len(clients)
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert len(messages) == 1  # the task ran once: one token sent
