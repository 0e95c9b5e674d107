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


def setup(sfn, case: dict) -> None:
    services = sfn.sfnlab
    text = json.dumps(case.get("input"))
    for obj in case.get("s3_objects") or []:
        s3 = services.aws_client("s3")
        try:
            s3.create_bucket(Bucket=obj["bucket"])
        except Exception:  # noqa: BLE001 - already there
            pass
        s3.put_object(Bucket=obj["bucket"], Key=obj["key"], Body=obj["body"].encode())
    for name in set(re.findall(r"https://sqs\.[^/]+/\d+/([\w-]+)", text)):
        services.aws_client("sqs").create_queue(QueueName=name)
    for name in set(re.findall(r"arn:aws:sns:[^:]+:\d+:([\w-]+)", text)):
        services.aws_client("sns").create_topic(Name=name)
    for name in set(re.findall(r'"TableName": "([\w.-]+)"', text)):
        ddb = services.aws_client("dynamodb")
        try:
            ddb.delete_table(TableName=name)
        except Exception:  # noqa: BLE001
            pass
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")


def main() -> int:
    runner = load_runner()
    import sfnlab

    class Engine(runner.SfnlabEngine):
        case: dict = {}

        def client(self, functions):
            sfn = sfnlab.client(functions=functions)
            setup(sfn, self.case)
            return sfn

    engine = Engine()
    counts: Counter = Counter()
    failures = []
    for path in sorted((CORPUS / "cases").glob("*.json")):
        case = json.loads(path.read_text())
        needs = set(case.get("needs") or [])
        if not needs or not needs <= MODELLED or needs <= {"lambda"} or "unresolved-resource" in needs:
            continue
        if case["expected"]["status"] == "RUNNING":
            counts["skip"] += 1
            continue
        engine.case = case
        try:
            problem = runner.with_time_limit(20.0, lambda: runner.replay(engine, case, 1.0))
        except Exception as exc:  # noqa: BLE001
            problem = f"crashed: {type(exc).__name__}: {exc}"
        counts["pass" if problem is None else "fail"] += 1
        if problem is not None:
            failures.append((case["id"], problem))
    for cid, problem in failures[: int(sys.argv[1]) if len(sys.argv) > 1 else 0]:
        print(f"FAIL {cid}\n     {problem[:300]}")
    print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped (cases needing services)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
