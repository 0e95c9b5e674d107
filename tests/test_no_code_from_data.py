"""No code execution from data: definitions, JSONata, inputs and quiz files are data, only data.

While hostile definitions run, every door from data to code or to the file system is watched:
``eval``, ``exec``, ``compile``, ``pickle``, ``marshal``, ``os.system``, ``subprocess``,
``importlib.import_module``, and every way to open a file. Each scenario runs once unwatched
first, so that modules sfnlab imports lazily are loaded before the watch begins (importing reads
files; that is Python, not data). Reading a quiz *file* is legitimate; what is checked is that
its content, once read, never reaches any of these doors.

ItemReader and ResultWriter may talk to S3 through the configured services only: the Distributed
Map scenario records which service clients are made and which local paths are opened.
"""
from __future__ import annotations

import builtins
import importlib
import io
import json
import marshal
import os
import pathlib
import pickle
import subprocess
import uuid

import pytest

import sfnlab
from sfnlab import DefinitionError, StateMachine

PAYLOAD = "__import__('os').system('touch /tmp/sfnlab-pwned')"
ROLE = "arn:aws:iam::123456789012:role/no-code"


class Reached(Exception):
    """A door was used. Recorded before it is raised, so nothing that catches it can hide it."""


DOORS = [
    (builtins, "eval"), (builtins, "exec"), (builtins, "compile"), (builtins, "open"), (io, "open"),
    (os, "open"), (os, "system"), (os, "popen"), (os, "remove"), (os, "unlink"),
    (pickle, "loads"), (pickle, "load"), (marshal, "loads"), (subprocess, "Popen"), (subprocess, "run"),
    (importlib, "import_module"),
    (pathlib.Path, "open"), (pathlib.Path, "read_text"), (pathlib.Path, "read_bytes"),
    (pathlib.Path, "write_text"), (pathlib.Path, "write_bytes"),
]


def run_watched(scenario):
    """``scenario()`` with every door closed; returns (its answer, the doors it tried).

    The doors are open again before anything is reported (pytest itself compiles and opens).
    """
    used: list[tuple[str, str]] = []
    saved = [(owner, attribute, getattr(owner, attribute)) for owner, attribute in DOORS]

    def door(name):
        def closed(*args, **kwargs):
            used.append((name, str(args[0])[:300] if args else ""))
            raise Reached(name)
        return closed

    for owner, attribute, _ in saved:
        setattr(owner, attribute, door(f"{getattr(owner, '__name__', owner)}.{attribute}"))
    try:
        answer = scenario()
    except Reached as exc:
        answer = exc
    finally:
        for owner, attribute, original in saved:
            setattr(owner, attribute, original)
    return answer, used


HOSTILE_DEFINITIONS = [
    # JSONPath: code-looking strings as results, templates, paths, intrinsic arguments, errors.
    {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": PAYLOAD, "ResultPath": "$.r", "Next": "Q"},
                                "Q": {"Type": "Pass", "Parameters": {
                                    "a.$": "$.code", "f.$": "States.Format('{}', $.code)",
                                    "j.$": "States.StringToJson($.json)", "h.$": "States.Hash($.code, 'SHA-256')",
                                    "b.$": "States.Base64Decode($.b64)", "__class__.$": "$"}, "Next": "C"},
                                "C": {"Type": "Choice", "Default": "F", "Choices": [
                                    {"Variable": "$.a", "StringMatches": "*__import__*", "Next": "F"}]},
                                "F": {"Type": "Fail", "ErrorPath": "$.a", "CausePath": "$.f"}}},
    # JSONata: $eval is refused; strings are strings; functions are values only inside JSONata.
    {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass", "Output": {
        "e": "{% $eval($states.input.code) %}"}, "End": True}}},
    {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass", "Output": {
        "s": "{% $string($states.input.code) %}", "m": "{% $match($states.input.code, /import/) %}",
        "p": "{% $parse($states.input.json) %}", "r": "{% $replace($states.input.code, 'os', 'x') %}",
        "f": "{% $string(function($x){ $x }) %}", "k": "{% $keys($states.input) %}"}, "End": True}}},
    {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass", "Output": {
        "x": "{% $states.input.code ~> $eval() %}"}, "End": True}}},
    # Resource names that are Python names, never looked up as Python callables.
    {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:eval",
                                      "End": True}}},
    {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                      "Parameters": {"FunctionName": "__import__", "Payload.$": "$"}, "End": True}}},
    {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "os.system", "End": True}}},
    {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:__class__",
                                      "End": True}}},
    {"StartAt": "T", "States": {"T": {"Type": "Task", "End": True,
                                      "Resource": "arn:aws:states:::aws-sdk:../../../../../etc/passwd:getObject"}}},
]
HOSTILE_INPUT = {"code": PAYLOAD, "json": json.dumps({"__reduce__": PAYLOAD}), "b64": "X19pbXBvcnRfXw=="}


BOTOCORE_DATA = os.path.join(os.path.dirname(importlib.import_module("botocore").__file__), "data")


def _from_data(used: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The doors tried, less botocore reading its own service models (library data, chosen by
    botocore from its list of known services, never a path taken from the definition)."""
    return [(door, path) for door, path in used
            if not (door == "builtins.open" and os.path.normpath(path).startswith(BOTOCORE_DATA + os.sep))]


def _run(definition):
    try:
        execution = StateMachine(definition).run(HOSTILE_INPUT)
    except DefinitionError as refused:
        return ("refused", refused.diagnostics[0].code)
    return (execution.status, execution.error)


@pytest.mark.parametrize("definition", HOSTILE_DEFINITIONS, ids=range(len(HOSTILE_DEFINITIONS)))
def test_hostile_definitions_and_inputs_reach_no_door(definition):
    first = _run(definition)  # unwatched: lazy imports happen here
    answer, used = run_watched(lambda: _run(definition))
    assert _from_data(used) == []
    assert answer == first


def test_jsonata_eval_is_refused_with_a_states_error():
    execution = StateMachine(HOSTILE_DEFINITIONS[1]).run(HOSTILE_INPUT)
    assert (execution.status, execution.error) == ("FAILED", "States.QueryEvaluationError")
    assert "$eval" in execution.cause


def test_a_python_name_as_a_resource_is_not_a_python_function():
    execution = StateMachine(HOSTILE_DEFINITIONS[4]).run(HOSTILE_INPUT)
    assert execution.status == "FAILED"
    assert execution.error != "States.ALL" and "eval" not in str(execution.output)


def test_definitions_through_the_client_reach_no_door():
    def scenario():
        sfn = sfnlab.client()
        outcomes = []
        for index, definition in enumerate(HOSTILE_DEFINITIONS):
            text = json.dumps(definition)
            sfn.validate_state_machine_definition(definition=text)
            arn = sfn.create_state_machine(name=f"h{index}", definition=text, roleArn=ROLE)["stateMachineArn"]
            run = sfn.start_execution(stateMachineArn=arn, input=json.dumps(HOSTILE_INPUT))["executionArn"]
            outcomes.append(sfn.describe_execution(executionArn=run)["status"])
            sfn.get_execution_history(executionArn=run)
        return outcomes

    first = scenario()
    answer, used = run_watched(scenario)
    assert _from_data(used) == []
    assert answer == first


QUIZ = {
    "title": "hostile",
    "questions": [{
        "id": "hostile-proof",
        "domain": "1 Development with AWS Services",
        "task": "1.1 Develop code for applications hosted on AWS",
        "topic": "io-processing",
        "type": "predict-output",
        "stem": f"A Task's function returns `{PAYLOAD}` under the key `code`. What is the state output?",
        "options": [{"id": "a", "value": PAYLOAD, "feedback": f"Right: {PAYLOAD} is only text."},
                    {"id": "b", "value": {"__reduce__": PAYLOAD}, "feedback": "A dict is not what comes out."},
                    {"id": "c", "value": "sfnlab-pwned", "feedback": "Nothing runs the text it carries."},
                    {"id": "d", "value": None, "feedback": "The selector finds the field, so not null."}],
        "answer": ["a"],
        "explanation": f"Data is data: {PAYLOAD} travels as a string.",
        "references": {"notebook": "07-input-output#resultpath",
                       "aws": [{"title": "Processing input and output in Step Functions"}]},
        "difficulty": "easy",
        "proof": {
            "machine": {"StartAt": "T", "States": {"T": {
                "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Run", "End": True,
                "ResultSelector": {"v.$": "$.code"}, "OutputPath": "$.v"}}},
            "functions": {"Run": {"kind": "return", "value": {"code": PAYLOAD}}},
            "input": {"code": PAYLOAD},
            "check": "output",
        },
    }],
}


def test_a_quiz_file_is_read_and_its_content_reaches_no_door(tmp_path):
    from sfnlab.quiz.grading import grade
    from sfnlab.quiz.model import QuizFormatError, load_questions
    from sfnlab.quiz.proof import check_question

    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(QUIZ))
    try:
        questions = load_questions(path)  # reading the file is the one legitimate door
    except QuizFormatError as refused:  # the schema may refuse it: then nothing of it runs at all
        pytest.skip(f"the quiz schema refuses the hostile quiz: {refused}")

    def scenario():
        question = questions[0]
        correct, observations = check_question(question)
        return sorted(correct), grade(question, ["a"]).correct

    first = scenario()
    answer, used = run_watched(scenario)
    assert used == []
    assert answer == first
    assert first[0] == ["a"]  # the proof ran: the payload is a string the machine passed along


def test_item_reader_and_result_writer_talk_to_s3_only(monkeypatch):
    from sfnlab import services

    sfn = sfnlab.client()
    bucket = f"nocode-{uuid.uuid4().hex[:8]}"
    s3 = sfn.sfnlab.aws_client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="items.json", Body=json.dumps([{"code": PAYLOAD}, {"code": "x"}]).encode())

    made: list[str] = []
    opened: list[str] = []
    original_client = services.Services.client
    original_open = builtins.open

    def spy_client(self, service, *args, **kwargs):
        made.append(service)
        return original_client(self, service, *args, **kwargs)

    def spy_open(file, *args, **kwargs):
        opened.append(str(file))
        return original_open(file, *args, **kwargs)

    monkeypatch.setattr(services.Services, "client", spy_client)
    monkeypatch.setattr(builtins, "open", spy_open)

    def distributed(key: str) -> dict:
        return {"StartAt": "M", "States": {"M": {
            "Type": "Map", "End": True,
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                           "Parameters": {"Bucket": bucket, "Key": key}},
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                             "Parameters": {"Bucket": bucket, "Prefix": "../../../tmp/sfnlab-out"}},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                              "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}}

    statuses = []
    for key in ("items.json", "/etc/passwd", "../../../etc/passwd", "file:///etc/passwd"):
        arn = sfn.create_state_machine(name=f"dm-{uuid.uuid4().hex[:8]}", definition=json.dumps(distributed(key)),
                                       roleArn=ROLE)["stateMachineArn"]
        run = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        statuses.append(sfn.describe_execution(executionArn=run)["status"])
    assert statuses[0] == "SUCCEEDED"
    assert statuses[1:] == ["FAILED"] * 3  # no such S3 keys: S3 said so; no local file was read
    assert set(made) <= {"s3"}
    assert not [path for path in opened if "passwd" in path or "sfnlab-out" in path]
    assert not os.path.exists("/tmp/sfnlab-out")
