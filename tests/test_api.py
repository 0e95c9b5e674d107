"""The boto3-compatible client (sfnlab.api) and the account backend (sfnlab.backend).

Expected codes and messages are AWS's own, as recorded from AWS (LocalStack's snapshot tests and
the conformance corpus). Execution shapes are checked against a small stand-in engine so that
they do not depend on the interpreter; the last tests run the real engine when it is there.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import botocore.exceptions
import pytest

import sfnlab
from sfnlab import api, backend as backend_module
from sfnlab.backend import Backend, check_constraints, is_valid_name

ROLE = "arn:aws:iam::123456789012:role/sfn"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
START = 1_700_000_000.0  # 2023-11-14T22:13:20Z
LATER = 1_750_000_000.0  # after RedriveExecution's launch


def text(definition: dict) -> str:
    return json.dumps(definition)


def error_of(excinfo: pytest.ExceptionInfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


@pytest.fixture
def sfn():
    return api.client(start_time=LATER, functions={"Noop": lambda event, context: None})


def machine(sfn: Any, name: str = "orders", definition: dict = PASS, **kw: Any) -> str:
    return sfn.create_state_machine(name=name, definition=text(definition), roleArn=ROLE, **kw)["stateMachineArn"]


WAIT_FOR_TOKEN = {"StartAt": "T", "States": {"T": {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "End": True,
    "Parameters": {"FunctionName": "Noop", "Payload": {"token.$": "$$.Task.Token"}}}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Oops", "Cause": "why"}}}


# ----------------------------------------------------------------------------------------------
# The client itself


def test_client_is_a_botocore_client_with_its_backend_attached(sfn: Any) -> None:
    assert type(sfn).__name__ == "SFN"
    assert isinstance(sfn.sfnlab, Backend)
    assert sfn.sfnlab.clock.now == LATER
    assert sfn.meta.region_name == "us-east-1"
    assert sfn.list_state_machines()["stateMachines"] == []


def test_each_client_is_a_fresh_account() -> None:
    a, b = api.client(), api.client(region="eu-west-1", account="111111111111")
    arn = machine(a)
    assert arn == "arn:aws:states:us-east-1:123456789012:stateMachine:orders"
    assert b.list_state_machines()["stateMachines"] == []
    assert machine(b) == "arn:aws:states:eu-west-1:111111111111:stateMachine:orders"


def test_environment_and_aws_files_cannot_break_or_redirect_the_client(monkeypatch, tmp_path) -> None:
    broken = tmp_path / "config"
    broken.write_text("[profile x\nthis is not ini")
    for name, value in {
        "AWS_PROFILE": "does-not-exist", "AWS_DEFAULT_PROFILE": "does-not-exist",
        "AWS_CONFIG_FILE": str(broken), "AWS_SHARED_CREDENTIALS_FILE": str(broken),
        "AWS_DATA_PATH": str(tmp_path), "AWS_DEFAULTS_MODE": "auto", "AWS_DEFAULT_REGION": "xx-nowhere-9",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "9",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(api, "_session", None)  # build the session again under this environment
    sfn = api.client()
    assert sfn.meta.region_name == "us-east-1"
    assert machine(sfn).startswith("arn:aws:states:us-east-1:")
    monkeypatch.setattr(api, "_session", None)


def test_botocore_validates_parameters_before_the_backend() -> None:
    with pytest.raises(botocore.exceptions.ParamValidationError):
        api.client().create_state_machine(name="x", definition=text(PASS))  # roleArn missing


def test_unknown_and_unimplemented_operations_answer_aws_errors(sfn: Any) -> None:
    status, body = sfn.sfnlab.respond("FlyToTheMoon", {})
    assert status == 400 and body == {"__type": "com.amazon.coral.service#UnknownOperationException"}
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sfn.list_state_machine_versions(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:x")
    code, message = error_of(excinfo)
    assert code == "UnsupportedOperation" and "ListStateMachineVersions" in message


def test_test_state_goes_through_the_client(sfn: Any) -> None:
    answer = sfn.test_state(definition=text({"Type": "Pass", "Result": {"ok": True}, "End": True}), roleArn=ROLE,
                            input="{}", inspectionLevel="DEBUG")
    assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", {"ok": True})
    assert json.loads(answer["inspectionData"]["input"]) == {}


# ----------------------------------------------------------------------------------------------
# State machines


def test_create_and_describe_have_aws_shapes(sfn: Any) -> None:
    created = sfn.create_state_machine(name="orders", definition=text(PASS), roleArn=ROLE)
    assert set(created) - {"ResponseMetadata"} == {"stateMachineArn", "creationDate"}
    assert created["creationDate"] == datetime.fromtimestamp(LATER, timezone.utc)
    described = sfn.describe_state_machine(stateMachineArn=created["stateMachineArn"])
    described.pop("ResponseMetadata")
    assert described == {
        "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:orders",
        "name": "orders", "status": "ACTIVE", "definition": text(PASS), "roleArn": ROLE, "type": "STANDARD",
        "creationDate": created["creationDate"],
        "loggingConfiguration": {"level": "OFF", "includeExecutionData": False},
        "tracingConfiguration": {"enabled": False},
    }


@pytest.mark.parametrize("name", ["a b", "x<y", "a/b", "a:b", "tab\there", "bell\x07", "del\x7f", "c1\x85", "q?", "$x"])
def test_names_aws_refuses(sfn: Any, name: str) -> None:
    with pytest.raises(sfn.exceptions.InvalidName) as excinfo:
        machine(sfn, name)
    assert error_of(excinfo) == ("InvalidName", f"Invalid Name: '{name}'")
    assert not is_valid_name(name)


@pytest.mark.parametrize("name", ["orders", "a-b_c.d", "café", "x" * 80, "UPPER(1)!@+=')"])
def test_names_aws_accepts(sfn: Any, name: str) -> None:
    assert machine(sfn, name).endswith(f":stateMachine:{name}")


def test_names_longer_than_80_fail_the_model_constraint(sfn: Any) -> None:
    long = "a" * 81
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        machine(sfn, long)
    assert error_of(excinfo) == ("ValidationException", f"1 validation error detected: Value '{long}' at 'name' "
                                 "failed to satisfy constraint: Member must have length less than or equal to 80")


def test_create_is_idempotent_on_name_and_configuration(sfn: Any) -> None:
    first = sfn.create_state_machine(name="orders", definition=text(PASS), roleArn=ROLE)
    sfn.sfnlab.advance_clock(60)
    again = sfn.create_state_machine(name="orders", definition=text(PASS), roleArn=ROLE + "-other",
                                     tags=[{"key": "k", "value": "v"}])
    assert again["stateMachineArn"] == first["stateMachineArn"]
    assert again["creationDate"] == first["creationDate"]
    # AWS ignores a different roleArn or tags on an idempotent create: nothing changed.
    assert sfn.describe_state_machine(stateMachineArn=first["stateMachineArn"])["roleArn"] == ROLE
    assert sfn.list_tags_for_resource(resourceArn=first["stateMachineArn"])["tags"] == []


@pytest.mark.parametrize("change", [
    {"definition": json.dumps(PASS, indent=2)},  # same machine, other text: AWS compares the text
    {"type": "EXPRESS"},
    {"loggingConfiguration": {"level": "ALL", "includeExecutionData": True}},
    {"tracingConfiguration": {"enabled": True}},
])
def test_create_with_the_same_name_and_other_configuration_already_exists(sfn: Any, change: dict) -> None:
    arn = machine(sfn)
    params = {"name": "orders", "definition": text(PASS), "roleArn": ROLE, **change}
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists) as excinfo:
        sfn.create_state_machine(**params)
    assert error_of(excinfo) == ("StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'")


def test_invalid_definition_raises_the_modelled_exception(sfn: Any) -> None:
    with pytest.raises(sfn.exceptions.InvalidDefinition) as excinfo:
        sfn.create_state_machine(name="bad", definition=text({"StartAt": "A"}), roleArn=ROLE)
    code, message = error_of(excinfo)
    assert code == "InvalidDefinition"
    assert message.startswith("Invalid State Machine Definition: '") and message.endswith("'")
    assert sfn.list_state_machines()["stateMachines"] == []


@pytest.mark.parametrize("arn, message", [
    ("not_a_valid_arn", "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'"),
    ("arn:aws:states:us-east-1:123456789012:execution:orders:x",
     "Invalid Arn: 'Resource type not valid in this context: execution'"),
])
def test_invalid_arns(sfn: Any, arn: str, message: str) -> None:
    with pytest.raises(sfn.exceptions.InvalidArn) as excinfo:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert error_of(excinfo) == ("InvalidArn", message)


def test_missing_state_machine(sfn: Any) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:nope"
    for call in (sfn.describe_state_machine, sfn.list_executions, sfn.start_execution):
        with pytest.raises(sfn.exceptions.StateMachineDoesNotExist) as excinfo:
            call(stateMachineArn=arn)
        assert error_of(excinfo)[1] == f"State Machine Does Not Exist: '{arn}'"


def test_delete_is_idempotent(sfn: Any) -> None:
    arn = machine(sfn)
    sfn.delete_state_machine(stateMachineArn=arn)
    sfn.delete_state_machine(stateMachineArn=arn)  # AWS answers 200 for a missing machine too
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=arn)
    assert sfn.list_state_machines()["stateMachines"] == []


def test_list_state_machines_pages_in_name_order(sfn: Any) -> None:
    names = [f"sm_{i}_x" for i in range(13)]
    for name in names:
        machine(sfn, name)
    first = sfn.list_state_machines(maxResults=10)
    assert [m["name"] for m in first["stateMachines"]] == sorted(names)[:10]
    assert set(first["stateMachines"][0]) == {"stateMachineArn", "name", "type", "creationDate"}
    second = sfn.list_state_machines(maxResults=10, nextToken=first["nextToken"])
    assert [m["name"] for m in second["stateMachines"]] == sorted(names)[10:]
    assert "nextToken" not in second
    pages = list(sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 5}))
    assert [len(p["stateMachines"]) for p in pages] == [5, 5, 3]


def test_pagination_errors(sfn: Any) -> None:
    machine(sfn)
    with pytest.raises(sfn.exceptions.InvalidToken) as excinfo:
        sfn.list_state_machines(nextToken="garbage!")
    assert error_of(excinfo) == ("InvalidToken", "Invalid Token: 'Invalid token'")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sfn.list_state_machines(maxResults=1001)
    assert error_of(excinfo) == ("ValidationException", "1 validation error detected: Value '1001' at 'maxResults' "
                                 "failed to satisfy constraint: Member must have value less than or equal to 1000")
    token = "t" * 1025
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sfn.list_state_machines(nextToken=token)
    assert error_of(excinfo)[1] == (f"1 validation error detected: Value '{token}' at 'nextToken' failed to "
                                    "satisfy constraint: Member must have length less than or equal to 1024")


def test_update_state_machine(sfn: Any) -> None:
    arn = machine(sfn)
    assert "revisionId" not in sfn.describe_state_machine(stateMachineArn=arn)
    sfn.sfnlab.advance_clock(5)
    changed = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": True}}}
    first = sfn.update_state_machine(stateMachineArn=arn, definition=text(changed))
    assert first["updateDate"] == datetime.fromtimestamp(LATER + 5, timezone.utc)
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["definition"] == text(changed) and described["revisionId"] == first["revisionId"]
    assert len(first["revisionId"]) == 36
    # The same parameters again keep the revision; a change makes a new one.
    assert sfn.update_state_machine(stateMachineArn=arn, definition=text(changed))["revisionId"] == first["revisionId"]
    assert sfn.update_state_machine(stateMachineArn=arn, roleArn=ROLE + "2")["revisionId"] != first["revisionId"]
    with pytest.raises(sfn.exceptions.MissingRequiredParameter) as excinfo:
        sfn.update_state_machine(stateMachineArn=arn)
    assert error_of(excinfo)[1] == ("Either the definition, the role ARN, the LoggingConfiguration, "
                                    "or the TracingConfiguration must be specified")
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.update_state_machine(stateMachineArn=arn, definition=text({"StartAt": "A"}))


def test_tags(sfn: Any) -> None:
    arn = machine(sfn, tags=[{"key": "team", "value": "a"}])
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "dev"}, {"key": "team", "value": "b"}])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "team", "value": "b"}, {"key": "env", "value": "dev"}]
    sfn.untag_resource(resourceArn=arn, tagKeys=["team", "absent"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "env", "value": "dev"}]
    missing = arn + "x"
    with pytest.raises(sfn.exceptions.ResourceNotFound) as excinfo:
        sfn.tag_resource(resourceArn=missing, tags=[])
    assert error_of(excinfo)[1] == f"Resource not found: '{missing}'"


def test_validate_state_machine_definition(sfn: Any) -> None:
    ok = sfn.validate_state_machine_definition(definition=text(PASS))
    assert (ok["result"], ok["diagnostics"], ok["truncated"]) == ("OK", [], False)
    bad = sfn.validate_state_machine_definition(definition=text({"StartAt": "A"}))
    assert bad["result"] == "FAIL" and bad["diagnostics"]
    assert {"severity", "code", "message"} <= set(bad["diagnostics"][0])
    one = sfn.validate_state_machine_definition(definition=text({"StartAt": "A"}), maxResults=1)
    assert len(one["diagnostics"]) == 1 and one["truncated"] == (len(bad["diagnostics"]) > 1)


# ----------------------------------------------------------------------------------------------
# Executions (stand-in engine)


def test_start_and_describe_execution(sfn: Any) -> None:
    arn = machine(sfn)
    started = sfn.start_execution(stateMachineArn=arn, name="run-1", input='{"a": 1}')
    assert started["executionArn"] == "arn:aws:states:us-east-1:123456789012:execution:orders:run-1"
    assert started["startDate"] == datetime.fromtimestamp(LATER, timezone.utc)
    described = sfn.describe_execution(executionArn=started["executionArn"])
    described.pop("ResponseMetadata")
    assert described == {
        "executionArn": started["executionArn"], "stateMachineArn": arn, "name": "run-1",
        "status": "SUCCEEDED", "startDate": started["startDate"], "stopDate": started["startDate"],
        "input": '{"a": 1}', "inputDetails": {"included": True},
        "output": '{"a":1}', "outputDetails": {"included": True},
        "redriveCount": 0, "redriveStatus": "NOT_REDRIVABLE",
        "redriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
    }


def test_failed_execution_is_redrivable_and_carries_error_and_cause(sfn: Any) -> None:
    ex = sfn.start_execution(stateMachineArn=machine(sfn, definition=FAIL))["executionArn"]
    d = sfn.describe_execution(executionArn=ex)
    assert (d["status"], d["error"], d["cause"], d["redriveStatus"]) == ("FAILED", "Oops", "why", "REDRIVABLE")
    assert "output" not in d and "redriveStatusReason" not in d
    sfn.sfnlab.advance_clock(15 * 24 * 3600)
    d = sfn.describe_execution(executionArn=ex)
    assert (d["redriveStatus"], d["redriveStatusReason"]) == ("NOT_REDRIVABLE", "Execution redrivable period exceeded")


def test_default_name_and_input() -> None:
    names = []
    for _ in range(2):
        sfn = api.client(seed=7)
        ex = sfn.start_execution(stateMachineArn=machine(sfn))["executionArn"]
        d = sfn.describe_execution(executionArn=ex)
        assert d["input"] == "{}" and len(d["name"]) == 36 and d["name"][14] == "4"
        names.append(d["name"])
    assert names[0] == names[1]  # the account's seeded random source names executions


@pytest.mark.parametrize("given, reason", [  # AWS's answers, from the conformance corpus
    ("not some json", "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token "
                      "'null', 'true' or 'false')"),
    ("{'not': 'json'", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"),
    ("", "Invalid execution input."),
])
def test_invalid_execution_input(sfn: Any, given: str, reason: str) -> None:
    with pytest.raises(sfn.exceptions.InvalidExecutionInput) as excinfo:
        sfn.start_execution(stateMachineArn=machine(sfn), input=given)
    assert error_of(excinfo)[1] == f"Invalid State Machine Execution Input: '{reason}'"


@pytest.mark.parametrize("given", ["1", '"text"', "null", "[1, 2]"])
def test_any_json_value_is_valid_input(sfn: Any, given: str) -> None:
    sfn.start_execution(stateMachineArn=machine(sfn), input=given)


def test_start_execution_checks_in_aws_order(sfn: Any) -> None:
    arn = machine(sfn)
    missing = arn + "-missing"
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):  # before the name and the input
        sfn.start_execution(stateMachineArn=missing, name="a b", input="{")
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.start_execution(stateMachineArn=arn, name="a b", input="{}")
    large = '"' + "é" * 131_072 + '"'  # 262,146 bytes in UTF-8, fewer characters than that
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sfn.start_execution(stateMachineArn=arn, name="n", input=large)
    assert error_of(excinfo) == ("ValidationException", "1 validation error detected: Value at 'input' failed to "
                                 "satisfy constraint: Member must have size less than or equal to 262144 bytes in "
                                 "UTF-8 encoding")


def test_execution_names_are_unique_unless_restarted_while_running(sfn: Any) -> None:
    done = machine(sfn)
    ex = sfn.start_execution(stateMachineArn=done, name="same")["executionArn"]
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists) as excinfo:
        sfn.start_execution(stateMachineArn=done, name="same")
    assert error_of(excinfo)[1] == f"Execution Already Exists: '{ex}'"

    waiting = machine(sfn, "waiting", WAIT_FOR_TOKEN)
    first = sfn.start_execution(stateMachineArn=waiting, name="same", input="{}")
    sfn.sfnlab.advance_clock(1)
    again = sfn.start_execution(stateMachineArn=waiting, name="same", input="{}")
    assert (again["executionArn"], again["startDate"]) == (first["executionArn"], first["startDate"])
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=waiting, name="same", input='{"x": 1}')


def test_missing_and_misaddressed_executions(sfn: Any) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:execution:orders:nope"
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist) as excinfo:
        sfn.describe_execution(executionArn=missing)
    assert error_of(excinfo)[1] == f"Execution Does Not Exist: '{missing}'"
    with pytest.raises(sfn.exceptions.InvalidArn) as excinfo:
        sfn.get_execution_history(executionArn=machine(sfn))
    assert error_of(excinfo)[1] == "Invalid Arn: 'Resource type not valid in this context: stateMachine'"


def test_list_executions(sfn: Any) -> None:
    arn = machine(sfn)
    waiting = machine(sfn, "waiting", WAIT_FOR_TOKEN)
    for i in range(13):
        sfn.start_execution(stateMachineArn=arn, name=f"e{i}")
    sfn.start_execution(stateMachineArn=waiting, name="w")
    page = sfn.list_executions(stateMachineArn=arn, maxResults=10)
    assert [e["name"] for e in page["executions"]] == [f"e{i}" for i in range(12, 2, -1)]  # newest first
    assert set(page["executions"][0]) == {"executionArn", "stateMachineArn", "name", "status", "startDate",
                                          "stopDate", "redriveCount"}
    rest = sfn.list_executions(stateMachineArn=arn, maxResults=10, nextToken=page["nextToken"])
    assert [e["name"] for e in rest["executions"]] == ["e2", "e1", "e0"] and "nextToken" not in rest
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"] == []
    running = sfn.list_executions(stateMachineArn=waiting, statusFilter="RUNNING")["executions"]
    assert [e["name"] for e in running] == ["w"]
    with pytest.raises(sfn.exceptions.InvalidToken):  # a token is bound to its state machine
        sfn.list_executions(stateMachineArn=waiting, nextToken=page["nextToken"])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sfn.list_executions(stateMachineArn=arn, statusFilter="succeeded")
    assert error_of(excinfo)[1] == (
        "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy constraint: Member must "
        "satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]")


def test_stop_execution(sfn: Any) -> None:
    ex = sfn.start_execution(stateMachineArn=machine(sfn, definition=WAIT_FOR_TOKEN))["executionArn"]
    assert sfn.describe_execution(executionArn=ex)["status"] == "RUNNING"
    assert "stopDate" not in sfn.describe_execution(executionArn=ex)
    sfn.sfnlab.advance_clock(30)
    stopped = sfn.stop_execution(executionArn=ex, error="Manual", cause="by hand")
    assert stopped["stopDate"] == datetime.fromtimestamp(LATER + 30, timezone.utc)
    d = sfn.describe_execution(executionArn=ex)
    assert (d["status"], d["error"], d["cause"]) == ("ABORTED", "Manual", "by hand")
    sfn.sfnlab.advance_clock(30)
    assert sfn.stop_execution(executionArn=ex)["stopDate"] == stopped["stopDate"]  # closed: nothing changes


def test_advance_clock_fires_timers(sfn: Any) -> None:
    timed = {"StartAt": "T", "States": {"T": {**WAIT_FOR_TOKEN["States"]["T"], "TimeoutSeconds": 60}}}
    ex = sfn.start_execution(stateMachineArn=machine(sfn, definition=timed))["executionArn"]
    assert sfn.sfnlab.advance_clock(59) == LATER + 59
    assert sfn.describe_execution(executionArn=ex)["status"] == "RUNNING"
    sfn.sfnlab.advance_clock(1)
    d = sfn.describe_execution(executionArn=ex)
    assert (d["status"], d["error"], d["stopDate"]) == ("FAILED", "States.Timeout", datetime.fromtimestamp(
        LATER + 60, timezone.utc))
    with pytest.raises(ValueError):
        sfn.sfnlab.advance_clock(-1)


def test_get_execution_history(sfn: Any) -> None:
    ex = sfn.start_execution(stateMachineArn=machine(sfn), input='{"a": 1}')["executionArn"]
    full = sfn.get_execution_history(executionArn=ex)["events"]
    assert [e["type"] for e in full] == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert full[0]["timestamp"] == datetime.fromtimestamp(LATER, timezone.utc)
    assert full[0]["executionStartedEventDetails"]["input"] == '{"a": 1}'
    backwards = sfn.get_execution_history(executionArn=ex, reverseOrder=True)["events"]
    assert [e["id"] for e in backwards] == [4, 3, 2, 1]
    page = sfn.get_execution_history(executionArn=ex, maxResults=3)
    assert [e["id"] for e in page["events"]] == [1, 2, 3]
    assert [e["id"] for e in sfn.get_execution_history(executionArn=ex, maxResults=3, nextToken=page["nextToken"])[
        "events"]] == [4]
    with pytest.raises(sfn.exceptions.InvalidToken):  # the token was for the other direction
        sfn.get_execution_history(executionArn=ex, reverseOrder=True, nextToken=page["nextToken"])
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=ex, PaginationConfig={"PageSize": 1})
    assert [e["id"] for p in pages for e in p["events"]] == [1, 2, 3, 4]
    lean = sfn.get_execution_history(executionArn=ex, includeExecutionData=False)["events"]
    assert lean[0]["executionStartedEventDetails"] == {"roleArn": ROLE}
    assert lean[2]["stateExitedEventDetails"] == {"name": "P"}


def test_describe_state_machine_for_execution_keeps_the_definition_it_ran(sfn: Any) -> None:
    arn = machine(sfn)
    ex = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=text(FAIL))
    d = sfn.describe_state_machine_for_execution(executionArn=ex)
    d.pop("ResponseMetadata")
    assert d == {"stateMachineArn": arn, "name": "orders", "definition": text(PASS), "roleArn": ROLE,
                 "updateDate": datetime.fromtimestamp(LATER, timezone.utc),
                 "loggingConfiguration": {"level": "OFF", "includeExecutionData": False},
                 "tracingConfiguration": {"enabled": False}}


def test_express_executions(sfn: Any) -> None:
    arn = machine(sfn, "fast", type="EXPRESS")
    ex = sfn.start_execution(stateMachineArn=arn, name="x")["executionArn"]
    assert ex.startswith("arn:aws:states:us-east-1:123456789012:express:fast:x:") and len(ex.rsplit(":", 1)[1]) == 36
    sfn.start_execution(stateMachineArn=arn, name="x")  # Express names need not be unique
    for call in (sfn.describe_execution, sfn.get_execution_history, sfn.stop_execution):
        with pytest.raises(sfn.exceptions.InvalidArn) as excinfo:
            call(executionArn=ex)
        assert error_of(excinfo)[1] == "Invalid Arn: 'Resource type not valid in this context: express'"
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported) as excinfo:
        sfn.list_executions(stateMachineArn=arn)
    assert error_of(excinfo)[1] == "This operation is not supported by this type of state machine"
    assert sfn.sfnlab.execution(ex).status == "SUCCEEDED"  # sfnlab itself can still look


def test_start_sync_execution(sfn: Any) -> None:
    arn = machine(sfn, "fast", type="EXPRESS")
    r = sfn.start_sync_execution(stateMachineArn=arn, name="s", input='{"k": "v"}')
    r.pop("ResponseMetadata")
    assert r.pop("executionArn").startswith("arn:aws:states:us-east-1:123456789012:express:fast:s:")
    when = datetime.fromtimestamp(LATER, timezone.utc)
    assert r == {"stateMachineArn": arn, "name": "s", "status": "SUCCEEDED", "startDate": when, "stopDate": when,
                 "input": '{"k": "v"}', "inputDetails": {"included": True}, "output": '{"k":"v"}',
                 "outputDetails": {"included": True},
                 "billingDetails": {"billedDurationInMilliseconds": 100, "billedMemoryUsedInMB": 64}}
    failed = sfn.start_sync_execution(stateMachineArn=machine(sfn, "f", FAIL, type="EXPRESS"))
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Oops", "why")
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        sfn.start_sync_execution(stateMachineArn=machine(sfn))


# ----------------------------------------------------------------------------------------------
# Model constraints


def test_several_constraint_violations_are_reported_together() -> None:
    op = api.service_model().operation_model("StopExecution")
    with pytest.raises(backend_module.ApiError) as excinfo:
        check_constraints(op, {"executionArn": "a" * 257, "error": "e" * 257})
    assert excinfo.value.message == (
        f"2 validation errors detected: Value '{'a' * 257}' at 'executionArn' failed to satisfy constraint: Member "
        "must have length less than or equal to 256; Value at 'error' failed to satisfy constraint: Member must "
        "have length less than or equal to 256")


def test_nested_members_are_numbered_from_one() -> None:
    op = api.service_model().operation_model("TagResource")
    with pytest.raises(backend_module.ApiError) as excinfo:
        check_constraints(op, {"resourceArn": "arn", "tags": [{"key": "k", "value": "v"}, {"key": "k" * 129}]})
    assert "at 'tags.2.member.key'" in excinfo.value.message


# ----------------------------------------------------------------------------------------------
# With the real engine (skipped until sfnlab.engine.start exists)


def real_engine_ready() -> bool:
    sfn = api.client()
    try:
        sfn.start_execution(stateMachineArn=machine(sfn))
    except NotImplementedError:
        return False
    return True


@pytest.mark.skipif(not real_engine_ready(), reason="sfnlab.engine.start is not written yet")
def test_real_engine_pass_machine_round_trip() -> None:
    sfn = api.client(start_time=LATER)
    result = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}}}
    ex = sfn.start_execution(stateMachineArn=machine(sfn, definition=result), name="n")["executionArn"]
    d = sfn.describe_execution(executionArn=ex)
    assert (d["status"], json.loads(d["output"])) == ("SUCCEEDED", {"Arg1": "argument1"})
    events = sfn.get_execution_history(executionArn=ex)["events"]
    assert [e["type"] for e in events] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                           "ExecutionSucceeded"]
    assert isinstance(events[0]["timestamp"], datetime)


def test_account_comes_from_the_first_execution_role_unless_given():
    sfn = sfnlab.client()
    arn = sfn.create_state_machine(name="m", definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
                                   roleArn="arn:aws:iam::111122223333:role/r")["stateMachineArn"]
    assert arn == "arn:aws:states:us-east-1:111122223333:stateMachine:m"
    fixed = sfnlab.client(account="444455556666")
    arn = fixed.create_state_machine(name="m", definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
                                     roleArn="arn:aws:iam::111122223333:role/r")["stateMachineArn"]
    assert ":444455556666:" in arn


def test_redrive_execution_through_the_client():
    attempts = {"n": 0}

    def flaky(event, context):
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise RuntimeError("first try fails")
        return {"ok": True}

    sfn = sfnlab.client(functions={"Flaky": flaky})
    arn = sfn.create_state_machine(name="r", roleArn="arn:aws:iam::123456789012:role/r", definition=json.dumps(
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "Flaky", "End": True}}}))["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert sfn.describe_execution(executionArn=ex)["redriveStatus"] == "REDRIVABLE"
    sfn.redrive_execution(executionArn=ex)
    described = sfn.describe_execution(executionArn=ex)
    assert (described["status"], described["redriveCount"]) == ("SUCCEEDED", 1)
    assert described["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
    with pytest.raises(sfn.exceptions.ExecutionNotRedrivable):
        sfn.redrive_execution(executionArn=ex)
    types = [e["type"] for e in sfn.get_execution_history(executionArn=ex)["events"]]
    assert "ExecutionRedriven" in types and types[-1] == "ExecutionSucceeded"
