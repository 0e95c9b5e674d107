"""The `sfnlab run` and `sfnlab validate` commands: output, exit status, and clean usage errors."""
from __future__ import annotations

import json

import pytest

from sfnlab import cli

ORDER = {
    "StartAt": "Validate",
    "States": {
        "Validate": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123:function:ValidateOrder", "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 60, "Next": "Stock"},
        "Stock": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
                  "Parameters": {"TableName": "Stock", "Key": {"id": {"S.$": "$.id"}}}, "ResultPath": "$.stock",
                  "End": True},
    },
}


@pytest.fixture
def files(tmp_path):
    definition = tmp_path / "order.json"
    definition.write_text(json.dumps(ORDER))
    functions = tmp_path / "fns.py"
    functions.write_text("def ValidateOrder(event, context):\n    return {**event, 'valid': True}\n"
                         "def _helper():\n    pass\n")
    setup = tmp_path / "setup.py"
    setup.write_text(
        "def setup(aws_client):\n"
        "    ddb = aws_client('dynamodb')\n"
        "    ddb.create_table(TableName='Stock', KeySchema=[{'AttributeName': 'id', 'KeyType': 'HASH'}],\n"
        "                     AttributeDefinitions=[{'AttributeName': 'id', 'AttributeType': 'S'}],\n"
        "                     BillingMode='PAY_PER_REQUEST')\n"
        "    ddb.put_item(TableName='Stock', Item={'id': {'S': 'cli-1'}, 'n': {'N': '3'}})\n")
    return definition, functions, setup


def test_run_prints_outcome_and_history(files, capsys):
    definition, functions, setup = files
    code = cli.main(["run", str(definition), "--input", '{"id": "cli-1"}', "-f", str(functions),
                     "--setup", str(setup)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("status: SUCCEEDED\n")
    assert '"valid": true' in out and '"n": {"N": "3"}' in out
    assert "virtual time: 60 s" in out
    assert "WaitStateExited" in out


def test_run_json_and_failure_exit_status(files, capsys):
    definition, functions, _ = files
    missing = json.loads(definition.read_text())
    missing["States"]["Stock"]["Parameters"]["TableName"] = "NeverCreated"
    definition.write_text(json.dumps(missing))
    code = cli.main(["run", str(definition), "--input", '{"id": "none"}', "-f", str(functions), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1  # no setup created that table
    assert (result["status"], result["error"]) == ("FAILED", "DynamoDB.ResourceNotFoundException")


def test_validate_prints_aws_diagnostics_and_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}}))
    assert cli.main(["validate", str(bad)]) == 1
    assert "MISSING_TRANSITION_TARGET at /States/A/Next: Missing 'Next' target: Nope" in capsys.readouterr().out
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}))
    assert cli.main(["validate", str(good)]) == 0


@pytest.mark.parametrize("argv, message", [
    (["run", "/no/such/file.json"], "cannot read /no/such/file.json"),
    (["run", "{definition}", "--input", "{not json"], "--input is not valid JSON"),
    (["run", "{definition}", "--setup", "/no/setup.py"], "cannot read /no/setup.py"),
])
def test_usage_errors_exit_2_without_a_traceback(files, capsys, argv, message):
    definition, _, _ = files
    argv = [a.replace("{definition}", str(definition)) for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
