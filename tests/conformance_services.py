"""Replay the corpus cases that need AWS services (``needs``), setting up what each case names.

Not a test module: ``python tests/conformance_services.py`` prints how many of those cases sfnlab
answers as AWS did. Resources are made in sfnlab's local moto server from the case data: S3 objects
(``s3_objects``), and the SQS queues, SNS topics and DynamoDB tables named in the input. Cases that
wait for a callback or an activity worker, or name resources the data does not describe, are
skipped. The comparison is run.py's.
"""
from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "conformance"
MODELLED = {"sqs", "sns", "dynamodb", "s3", "events", "stepfunctions", "lambda"}


def load_runner():
    spec = importlib.util.spec_from_file_location("sfnlab_conformance_run", CORPUS / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Facts about the resources of a case that only the LocalStack test it comes from states (its
# ``provenance.test``; parameters stripped). Read from localstack/localstack, tests/aws/services/stepfunctions/:
#   * target state machines of nested ``states:startExecution`` calls: the test's ``create(...)`` of
#     ``BaseTemplate.BASE_PASS_RESULT`` (templates/base/statemachines/pass_result.json5) or
#     ``BASE_RAISE_FAILURE`` (raise_failure.json5);
#   * resources the test deletes before the execution (test_publish_base_error_topic_arn calls
#     ``sns.delete_topic`` on the topic it names);
#   * what the test needs that the case data does not carry (a skip, with the reason).
_PASS_RESULT = {"Comment": "BASE_PASS_RESULT", "StartAt": "State_1",
                "States": {"State_1": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}}}
_RAISE_FAILURE = {"Comment": "BASE_RAISE_FAILURE", "StartAt": "FailState",
                  "States": {"FailState": {"Type": "Fail", "Error": "SomeFailure",
                                           "Cause": "This state machines raises a 'SomeFailure' failure."}}}
FROM_TESTS = {
    "v2/callback/test_callback.py::TestCallback::test_start_execution_sync": {"target": _PASS_RESULT},
    "v2/callback/test_callback.py::TestCallback::test_start_execution_sync2": {"target": _PASS_RESULT},
    "v2/callback/test_callback.py::TestCallback::test_start_execution_sync_delegate_failure": {"target": _RAISE_FAILURE},
    "v2/callback/test_callback.py::TestCallback::test_start_execution_sync_delegate_timeout": {
        "skip": "the target runs a Lambda function that sleeps 60 s (TimeoutTemplates.LAMBDA_WAIT_60_SECONDS); "
                "the case data models no function that spends time"},
    "v2/callback/test_callback.py::TestCallback::test_sync_with_task_token": {
        "skip": "needs the test's worker state machine (CallbackTemplates.SQS_SUCCESS_ON_TASK_TOKEN) polling SQS "
                "and calling SendTaskSuccess; not described by the case data"},
    "v2/local_mocking/test_base_callbacks.py::TestBaseScenarios::test_sfn_start_execution_sync": {"target": _PASS_RESULT},
    "v2/services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_sfn_start_execution": {"target": _RAISE_FAILURE},
    "v2/services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_sfn_start_execution_implicit_json_serialisation": {
        "target": _PASS_RESULT},
    "v2/services/test_sfn_task_service.py::TestTaskServiceSfn::test_start_execution_input_json": {"target": _PASS_RESULT},
    "v2/services/test_sns_task_service.py::TestTaskServiceSns::test_publish_base_error_topic_arn": {"deleted": True},
    "v2/test_state/test_test_state_mock_scenarios.py::TestStateMockScenarios::test_send_sqs_message_success": {
        "skip": "the test passes TestState a mocked result that the case data does not carry "
                "(its QueueUrl 'queue_url' names no queue)"},
    "v2/test_state/test_test_state_mock_scenarios.py::TestStateMockScenarios::test_sfn_start_execution_success": {
        "skip": "the test passes TestState a mocked result that the case data does not carry "
                "(its target 'TargetStateMachine' is described nowhere)"},
}
# Names the LocalStack tests give to resources that must not exist (someNonexistentBucketName,
# no_such_sfn_test_table_..., /invalid_test_table_...): never created.
_MISSING = re.compile(r"(?i)no_?such|nonexistent|^/|invalid")


def test_facts(case: dict) -> dict:
    test = (case.get("provenance") or {}).get("test") or ""
    test = re.sub(r"\[.*\]$", "", test).replace("tests/aws/services/stepfunctions/", "")
    return FROM_TESTS.get(test, {})


def _strings_under(value, key: str) -> set:
    """Every string value of ``key`` anywhere in ``value``."""
    found = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k in (key, key + ".$") and isinstance(v, str) and not k.endswith(".$"):
                found.add(v)
            found |= _strings_under(v, key)
    elif isinstance(value, list):
        for v in value:
            found |= _strings_under(v, key)
    return found


def setup(sfn, case: dict) -> None:
    services = sfn.sfnlab
    facts = test_facts(case)
    text = json.dumps(case.get("input"))
    s3 = services.aws_client("s3")
    buckets = {obj["bucket"] for obj in case.get("s3_objects") or []}
    buckets |= _strings_under(case.get("input"), "Bucket") | _strings_under(case.get("definition"), "Bucket")
    for bucket in sorted(b for b in buckets if not _MISSING.search(b) and re.fullmatch(r"[a-z0-9][a-z0-9.-]{2,62}", b)):
        try:
            s3.create_bucket(Bucket=bucket)
        except Exception:  # noqa: BLE001 - already there (in us-east-1 S3 even answers 200 for it)
            pass
        # empty it: the local server is shared by all cases
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
        # Every S3 bucket encrypts new objects with SSE-S3 by default (since January 2023).
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    for obj in case.get("s3_objects") or []:
        s3.put_object(Bucket=obj["bucket"], Key=obj["key"], Body=obj["body"].encode())
    for name in set(re.findall(r"https://sqs\.[^/]+/\d+/([\w.-]+)", text)):
        attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
        services.aws_client("sqs").create_queue(QueueName=name, Attributes=attributes)
    for name in set(re.findall(r"arn:aws:sns:[^:]+:\d+:([\w.-]+)", text)):
        attributes = {"FifoTopic": "true"} if name.endswith(".fifo") else {}
        created = services.aws_client("sns").create_topic(Name=name, Attributes=attributes)
        if facts.get("deleted"):
            services.aws_client("sns").delete_topic(TopicArn=created["TopicArn"])
    for name in set(re.findall(r'"TableName": "([^"]+)"', text)):
        if _MISSING.search(name):
            continue
        ddb = services.aws_client("dynamodb")
        try:
            ddb.delete_table(TableName=name)
        except Exception:  # noqa: BLE001
            pass
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    if "target" in facts:
        named = text + json.dumps(case.get("definition"))
        for arn in set(re.findall(r"arn:aws:states:[^:]+:\d+:stateMachine:([\w-]+)", named)):
            if not _MISSING.search(arn):
                sfn.create_state_machine(name=arn, definition=json.dumps(facts["target"]),
                                         roleArn=(case.get("context") or {}).get("role_arn") or ROLE)


# ------------------------------------------------------------------------------------------------
# The recorder's replacements, applied to sfnlab's answer before run.py compares it (as run.py
# itself turns ISO timestamps into "date"):
#   * the case's own ``snapshot_transformers`` (JSONPath -> fixed text, e.g. $..output.StartDate ->
#     "start-date"); reference replacements became <token:N> wildcards and need nothing;
#   * LocalStack's ``TransformerUtility.stepfunctions_api()``, which its ``sfn_snapshot`` fixture
#     (tests/aws/services/stepfunctions/conftest.py) adds to every one of these tests:
#     $..SdkHttpMetadata.AllHttpHeaders.Date and $..SdkHttpMetadata.HttpHeaders.Date -> "date".
ROLE = "arn:aws:iam::111111111111:role/sfnlab-state-machine-role"
_STEPFUNCTIONS_API = [
    {"kind": "jsonpath", "jsonpath": "$..SdkHttpMetadata.AllHttpHeaders.Date", "replacement": "date", "reference": False},
    {"kind": "jsonpath", "jsonpath": "$..SdkHttpMetadata.HttpHeaders.Date", "replacement": "date", "reference": False},
]


def _replace_path(node, steps: list, replacement: str):
    """Replace what ``steps`` (("desc"|"child", key) pairs) reaches in ``node``; returns the new node."""
    if not steps:
        return replacement
    kind, key = steps[0]
    if isinstance(node, dict):
        out = dict(node)
        if key in out:
            out[key] = _replace_path(out[key], steps[1:], replacement)
        if kind == "desc":
            for k, v in out.items():
                if k != key or len(steps) > 1:
                    out[k] = _replace_path(v, steps, replacement) if k != key else out[k]
        return out
    if isinstance(node, list) and kind == "desc":
        return [_replace_path(v, steps, replacement) for v in node]
    return node


def _steps(jsonpath: str) -> list | None:
    if not jsonpath.startswith("$"):
        return None
    steps = []
    for sep, key in re.findall(r"(\.\.|\.)([^.\[\]]+)", jsonpath[1:]):
        steps.append(("desc" if sep == ".." else "child", key))
    return steps or None


def recorded_view(value, case: dict, root: str):
    """``value`` (the execution's output or JSON cause, found in the history under ``root``) as recorded."""
    node = {root: value}
    for rule in list(case.get("snapshot_transformers") or []) + _STEPFUNCTIONS_API:
        steps = _steps(rule.get("jsonpath", "")) if rule.get("kind") == "jsonpath" else None
        if steps and not rule.get("reference"):
            node = _replace_path(node, steps, rule["replacement"])
    return node[root]


# Values the recorder replaced by the header's (or field's) own name, e.g. "x-amzn-RequestId":
# "x-amzn-RequestId" where AWS sends ["<uuid>"] (502 times in the corpus; 52 other recordings keep the
# list). Nothing an engine answers can equal them; the replay counts such cases apart as "artefact".
_METADATA_KEYS = ("SdkHttpMetadata", "SdkResponseMetadata")
_TOKEN = re.compile(r"<[A-Za-z_][A-Za-z0-9_\-.:]*>")

# Fields AWS added to its answers after some recordings were made; such a recording cannot show
# them. Redrive (RedriveCount, RedriveStatus, RedriveStatusReason in DescribeExecution and so in
# .sync outputs and causes) came on 15 November 2023 (AWS guide, "Redriving executions").
_ADDED_LATER = [("2023-11-15", ("RedriveCount", "RedriveStatus", "RedriveStatusReason"))]


def _recorded_on(case: dict) -> str:
    day, month, year = ((case.get("provenance") or {}).get("recorded_date") or "99-99-9999")[:10].split("-")
    return f"{year}-{month}-{day}"


def _without_later_fields(value, case: dict):
    later = [k for since, keys in _ADDED_LATER if _recorded_on(case) < since for k in keys]
    if not later or not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if k not in later}


def _accept_name_artefacts(expected, actual, inside: bool = False):
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = dict(actual)
        for k, e in expected.items():
            if k not in out:
                continue
            if inside and isinstance(e, str) and e.lower() == k.lower():
                out[k] = e
            elif isinstance(e, str) and _TOKEN.fullmatch(e) and isinstance(out[k], (int, float)):
                out[k] = e  # a recorder token (``"<date>"``) stands for any value, numbers too
            else:
                out[k] = _accept_name_artefacts(e, out[k], inside or k in _METADATA_KEYS)
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        return [_accept_name_artefacts(e, a, inside) for e, a in zip(expected, actual)] + actual[len(expected):]
    return actual


# Fields the recording's own project leaves unverified (the case's ``localstack_skip_verify_paths``:
# LocalStack's ``skip_snapshot_verify`` marker on the test). In the cases needing services these are
# mostly ``$..SdkHttpMetadata`` / ``$..SdkResponseMetadata`` (HTTP headers and request ids, partly
# replaced by the recorder) and fields AWS added after the recording (``$..RedriveCount``). The
# replay reports apart how many failures differ only there; the strict count stays the headline.
def _without_unverified(value, case: dict):
    from jsonpath_ng.ext import parse

    for path in case.get("localstack_skip_verify_paths") or []:
        try:
            value = parse(path).filter(lambda _: True, value)
        except Exception:  # noqa: BLE001 - a path jsonpath-ng cannot read leaves the value as it is
            pass
    return value


def unverified_view(runner, case: dict) -> dict:
    """``case`` with the unverified fields taken out of its expected output and cause."""
    exp = dict(case["expected"])
    if "output_text" in exp:
        exp["output_text"] = json.dumps(_without_unverified(runner.parse_json(exp["output_text"]), case))
    for key in ("output", "cause"):
        if isinstance(exp.get(key), (dict, list)):
            exp[key] = _without_unverified(exp[key], case)
        elif key == "cause" and exp.get("cause_format") == "json" and isinstance(exp.get(key), str):
            exp[key] = _without_unverified(runner.parse_json(exp[key]), case)
    return {**case, "expected": exp}


def patch_runner(runner, artefacts: dict) -> None:
    """Make run.py's comparison see sfnlab's answer as the recorder would have saved it."""
    compare_output, compare_error = runner.compare_output, runner.compare_error

    def output(case, actual_text):
        if actual_text is None:
            return compare_output(case, actual_text)
        value = recorded_view(runner.parse_json(actual_text), case, "output")
        if artefacts.get("accept"):
            exp = case["expected"]
            expected = runner.parse_json(exp["output_text"]) if "output_text" in exp else exp.get("output")
            value = _accept_name_artefacts(expected, runner.normalise_value(value, case))
        if artefacts.get("unverified"):
            value = _without_unverified(value, case)
        if artefacts.get("later"):
            value = _without_later_fields(value, case)
        return compare_output(case, json.dumps(value))

    def error(case, err, cause):
        if case["expected"].get("cause_format") == "json" and isinstance(cause, str):
            parsed = runner.parse_json(cause)
            if isinstance(parsed, (dict, list)):
                parsed = recorded_view(parsed, case, "cause")
                if artefacts.get("unverified"):
                    parsed = _without_unverified(parsed, case)
                if artefacts.get("later"):
                    parsed = _without_later_fields(parsed, case)
                cause = json.dumps(parsed)
        return compare_error(case, err, cause)

    runner.compare_output, runner.compare_error = output, error


def main() -> int:
    runner = load_runner()
    artefacts: dict = {}
    patch_runner(runner, artefacts)
    import sfnlab

    class Engine(runner.SfnlabEngine):
        case: dict = {}

        def client(self, functions):
            # The corpus was recorded in account 111111111111: its queues, topics and tables live there.
            sfn = sfnlab.client(functions=functions, account="111111111111")
            setup(sfn, self.case)
            return sfn

    engine = Engine()
    counts: Counter = Counter()
    failures, skipped, artefact_only, unverified_only, later_only = [], [], [], [], []
    for path in sorted((CORPUS / "cases").glob("*.json")):
        case = json.loads(path.read_text())
        needs = set(case.get("needs") or [])
        if not needs or not needs <= MODELLED or needs <= {"lambda"} or "unresolved-resource" in needs:
            continue
        if case["expected"]["status"] == "RUNNING":
            counts["skip"] += 1
            skipped.append((case["id"], "AWS never finished this execution"))
            continue
        if "skip" in test_facts(case):
            counts["skip"] += 1
            skipped.append((case["id"], test_facts(case)["skip"]))
            continue
        engine.case = case

        def attempt():
            try:
                return runner.with_time_limit(20.0, lambda: runner.replay(engine, case, 1.0))
            except Exception as exc:  # noqa: BLE001
                return f"crashed: {type(exc).__name__}: {exc}"

        artefacts.update(accept=False, unverified=False, later=False)
        problem = attempt()
        # A failure is counted apart when one relaxation alone (tried in this order) makes it pass.
        for flag, apart in (("accept", artefact_only), ("later", later_only), ("unverified", unverified_only)):
            if problem is None:
                break
            artefacts[flag] = True
            strict_case = case
            if flag == "unverified":
                case = engine.case = unverified_view(runner, case)
            passed = attempt() is None
            artefacts[flag], case = False, strict_case
            engine.case = case
            if passed:
                apart.append((case["id"], problem))
                break
        counts["pass" if problem is None else "fail"] += 1
        if problem is not None:
            failures.append((case["id"], problem))
    shown = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    artefact_ids = {cid for cid, _ in artefact_only + unverified_only + later_only}
    for cid, problem in [f for f in failures if f[0] not in artefact_ids][:shown]:
        print(f"FAIL {cid}\n     {problem[:300]}")
    if shown:
        for cid, problem in artefact_only:
            print(f"ARTEFACT {cid}\n     {problem[:300]}")
        for cid, problem in later_only:
            print(f"ADDED-LATER-ONLY {cid}\n     {problem[:300]}")
        for cid, problem in unverified_only:
            print(f"UNVERIFIED-ONLY {cid}\n     {problem[:300]}")
        for cid, reason in skipped:
            print(f"SKIP {cid}\n     {reason}")
    print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped (cases needing services); "
          f"{len(artefact_only)} of the failures differ only in values the recorder replaced by their own name, "
          f"{len(later_only)} more only in fields AWS added after the recording (redrive, 2023-11-15), "
          f"{len(unverified_only)} more only in fields the recording's project leaves unverified "
          f"(localstack_skip_verify_paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
