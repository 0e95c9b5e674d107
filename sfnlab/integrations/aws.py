"""AWS service calls through boto3: optimized integrations and ``aws-sdk:<service>:<action>``.

Optimized integrations (AWS guide, "Integrating optimized services"):

* ``dynamodb:getItem|putItem|updateItem|deleteItem``, ``sns:publish``, ``sqs:sendMessage``:
  Parameters are the API's request (PascalCase); a JSON ``MessageBody`` / ``Message`` is sent as
  its JSON text. The result is the API's answer plus ``SdkHttpMetadata`` and
  ``SdkResponseMetadata``, as AWS's Java SDK v1 returns it. Errors are ``<Service>.<Exception>``
  (``DynamoDB.ConditionalCheckFailedException``, ``SQS.QueueDoesNotExistException``,
  ``SNS.NotFoundException``), or ``<Service>.Amazon<Service>Exception`` for an error the service
  model does not name, with AWS's cause text ``"<message> (Service: ...; Status Code: ...;
  Error Code: ...; Request ID: ...; Proxy: null)"``.
* ``events:putEvents``: a JSON ``Detail`` is sent as text; the result is ``{Entries,
  FailedEntryCount}``; a failed entry fails the task with ``EventBridge.FailedEntry`` whose cause
  is that result.

AWS SDK integrations (AWS guide, "AWS SDK service integrations"): any boto3 operation; the error
is ``<ServiceName>.<ErrorName>Exception`` in PascalCase (``S3.NoSuchKeyException``,
``DynamoDb.ResourceNotFoundException``), the result the API's answer without metadata.
"""
from __future__ import annotations

import base64
import itertools
import json
import re
import zlib
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Any

from ..errors import StatesError
from ..history import to_json

__all__ = ["call", "put_file", "sdk_error_prefix"]

# Optimized integrations: (service, api) -> (boto3 service, operation)
_OPTIMIZED = {
    ("dynamodb", "getItem"): ("dynamodb", "GetItem"),
    ("dynamodb", "putItem"): ("dynamodb", "PutItem"),
    ("dynamodb", "updateItem"): ("dynamodb", "UpdateItem"),
    ("dynamodb", "deleteItem"): ("dynamodb", "DeleteItem"),
    ("sns", "publish"): ("sns", "Publish"),
    ("sqs", "sendMessage"): ("sqs", "SendMessage"),
    ("events", "putEvents"): ("events", "PutEvents"),
}
# How AWS's Java SDK v1 names each service: error prefix, generic exception, "Service:" in causes.
_V1 = {
    "dynamodb": ("DynamoDB", "AmazonDynamoDBException", "AmazonDynamoDBv2"),
    "sns": ("SNS", "AmazonSNSException", "AmazonSNS"),
    "sqs": ("SQS", "AmazonSQSException", "AmazonSQS"),
    "events": ("EventBridge", "EventBridgeException", "AmazonEventBridge"),
}
# aws-sdk service names that differ from boto3's.
_SDK_SERVICES = {"sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs", "apigateway": "apigateway"}
# Java SDK v2 client names where PascalCase of boto3's service id is not enough.
_V2_NAMES = {"dynamodb": "DynamoDb", "stepfunctions": "Sfn", "events": "EventBridge", "secretsmanager": "SecretsManager"}


def call(execution, service: str, api: str, params: Any) -> Any:
    """Run one request-response call; raise StatesError as AWS would name the failure."""
    if not isinstance(params, dict):
        params = {}
    if service == "aws-sdk":
        sdk_service, _, action = api.partition(":")
        return _call_sdk(execution, sdk_service, action, params)
    target = _OPTIMIZED.get((service, api))
    if target is None:
        raise StatesError("States.Runtime", f"The resource provided arn:aws:states:::{service}:{api} is not recognized. "
                                            "The value is not a valid resource ARN, or the resource is not available "
                                            "in this region.")
    boto_service, operation = target
    request = _optimized_request(service, api, params)
    client = _services(execution).client(boto_service, validate=False)
    if service == "sns" and str(request.get("TopicArn", "")).endswith(".fifo") and "MessageGroupId" not in request:
        refused = _client_error("InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for "
                                                    "FIFO topics", operation)
        refused.sfnlab_service_model = client.meta.service_model
        raise _v1_error(service, refused)
    if service == "events":
        result = _put_events(client, request, lambda exc: _v1_error(service, exc))
        if result.get("FailedEntryCount"):
            raise StatesError("EventBridge.FailedEntry", to_json(result))
        return result
    answer, raw = _send(client, operation, request, lambda exc: _v1_error(service, exc, request))
    answer = _as_asked(boto_service, request, answer)
    return _with_metadata(execution, boto_service, _plain(answer), raw, operation)


def _malformed_detail(entry: Any) -> bool:
    """EventBridge accepts a ``Detail`` only when it is the text of a JSON object."""
    if not isinstance(entry, dict) or not isinstance(entry.get("Detail"), str):
        return False
    try:
        return not isinstance(json.loads(entry["Detail"]), dict)
    except ValueError:
        return True


def _put_events(client, request: dict, name_error) -> dict:
    """PutEvents: entries with a malformed Detail fail on their own (``MalformedDetail``), the others are sent."""
    entries = request.get("Entries")
    if not isinstance(entries, list) or not any(_malformed_detail(e) for e in entries):
        answer, _ = _send(client, "PutEvents", request, name_error)
        return _plain(answer)
    good = [e for e in entries if not _malformed_detail(e)]
    sent: list = []
    failed = 0
    if good:
        answer, _ = _send(client, "PutEvents", {**request, "Entries": good}, name_error)
        answer = _plain(answer)
        sent = list(answer.get("Entries") or [])
        failed = int(answer.get("FailedEntryCount") or 0)
    out = []
    for entry in entries:
        if _malformed_detail(entry):
            out.append({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
            failed += 1
        else:
            out.append(sent.pop(0) if sent else {})
    return {"Entries": out, "FailedEntryCount": failed}


def _services(execution) -> Any:
    runtime = execution.runtime
    found = getattr(runtime, "services", None)
    if found is None:
        from ..services import Services

        found = runtime.services = Services(runtime.region, runtime.account)
    return found


def _optimized_request(service: str, api: str, params: dict) -> dict:
    request = dict(params)
    if service == "sqs" and request.get("MessageBody") is not None and not isinstance(request["MessageBody"], str):
        request["MessageBody"] = to_json(request["MessageBody"])
    if service == "sns" and request.get("Message") is not None and not isinstance(request["Message"], str):
        request["Message"] = to_json(request["Message"])
    if service == "events" and isinstance(request.get("Entries"), list):
        request["Entries"] = [
            {**e, "Detail": to_json(e["Detail"])} if isinstance(e, dict) and "Detail" in e
            and not isinstance(e["Detail"], str) else e for e in request["Entries"]]
    return request


def _send(client, operation: str, request: dict, name_error) -> tuple[dict, dict]:
    """Call ``operation``; returns (parsed answer, raw HTTP facts)."""
    from botocore.exceptions import ClientError, ParamValidationError

    method = getattr(client, _snake(client, operation))
    request = {k: v for k, v in request.items() if v is not None}  # the Java SDK sends no null member
    refused = _service_validation(client, operation, request)
    if refused is not None:
        refused.sfnlab_service_model = client.meta.service_model
        raise name_error(refused)
    try:
        answer = method(**request)
    except ClientError as exc:
        exc.sfnlab_service_model = client.meta.service_model
        raise name_error(exc) from None
    except ParamValidationError as exc:
        raise StatesError("States.Runtime", str(exc)) from None
    except (TypeError, ValueError, AttributeError) as exc:
        # A request botocore cannot even serialise (e.g. a null member): the service refuses it.
        refused = ClientError({"Error": {"Code": "ValidationException", "Message": f"1 validation error detected: {exc}"},
                               "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": ""}}, operation)
        refused.sfnlab_service_model = client.meta.service_model
        raise name_error(refused) from None
    return answer, {}


_DYNAMODB_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")


def _service_validation(client, operation: str, request: dict):
    """The request checks the service makes before anything else (the local server skips some).

    * JSON-protocol services (DynamoDB, ...): a missing required member is a ``ValidationException``
      "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must
      not be null"; DynamoDB also checks a table name against ``[a-zA-Z0-9_.-]+``.
    * SQS: a missing required parameter is ``MissingParameter`` "The request must contain the
      parameter MessageBody.".
    """

    model = client.meta.service_model
    try:
        shape = model.operation_model(operation).input_shape
    except Exception:  # noqa: BLE001 - unknown operation: botocore answers
        return None
    if shape is None:
        return None
    missing = [name for name in shape.required_members if name not in request]
    service = model.service_name
    if service == "sqs" and missing:
        return _client_error("MissingParameter", f"The request must contain the parameter {missing[0]}.", operation)
    if model.protocol not in ("json", "rest-json"):
        return None
    problems = [f"Value null at '{name[:1].lower() + name[1:]}' failed to satisfy constraint: Member must not be null"
                for name in missing]
    if service == "dynamodb":
        table = request.get("TableName")
        if isinstance(table, str) and not _DYNAMODB_TABLE_NAME.fullmatch(table):
            problems.append(f"Value '{table}' at 'tableName' failed to satisfy constraint: Member must satisfy "
                            "regular expression pattern: [a-zA-Z0-9_.-]+")
    if not problems:
        return None
    count = len(problems)
    return _client_error("ValidationException", f"{count} validation error{'s' if count > 1 else ''} detected: "
                                                + "; ".join(problems), operation)


def _client_error(code: str, message: str, operation: str, status: int = 400):
    import uuid

    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())}}, operation)


def _as_asked(service: str, request: dict, answer: dict) -> dict:
    """Where the local server answers differently from AWS, answer as AWS does.

    DynamoDB reports ``ConsumedCapacity`` only when the request asks for it (the local server
    always does); S3 names the kind of a whole-object checksum it returns (``ChecksumType``); SNS
    gives every message published to a FIFO topic a ``SequenceNumber`` (moto 5 does not).
    """
    if not isinstance(answer, dict):
        return answer
    if service == "dynamodb" and "ConsumedCapacity" in answer \
            and request.get("ReturnConsumedCapacity") in (None, "NONE"):
        answer = {k: v for k, v in answer.items() if k != "ConsumedCapacity"}
    if service == "s3" and "ChecksumType" not in answer and any(k.startswith("Checksum") for k in answer) \
            and "ETag" in answer and "Body" not in answer:
        answer = {**answer, "ChecksumType": "FULL_OBJECT"}
    if service == "sns" and "MessageId" in answer and "SequenceNumber" not in answer \
            and str(request.get("TopicArn", "")).endswith(".fifo"):
        # "a large, non-consecutive number ... 128 bits" (SNS Publish API reference); 20 digits as AWS shows
        answer = {**answer, "SequenceNumber": str(10_000_000_000_000_000_000 + next(_SNS_SEQUENCE) * 1_000)}
    return answer


_SNS_SEQUENCE = itertools.count(1)


def _snake(client, operation: str) -> str:
    from botocore import xform_name

    return xform_name(operation)


def _exception_name(shape: str) -> str:
    return shape if shape.endswith("Exception") else shape + "Exception"


def _v1_error(service: str, exc, request: dict | None = None) -> StatesError:
    prefix, generic, cause_service = _V1[service]
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "")).rpartition(".")[2] or "Unknown"
    message = error.get("Message", "")
    if service == "sns" and code == "NotFound" and (request or {}).get("TopicArn"):
        message = "Topic does not exist"  # AWS's words when the TopicArn names no topic
    shape = _shape_from_model(exc, code)
    name = f"{prefix}.{_exception_name(shape)}" if shape else f"{prefix}.{generic}"
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
    request_id = exc.response.get("ResponseMetadata", {}).get("RequestId", "")
    wire_code = "NotFound" if shape == "NotFoundException" and service == "sns" else code
    cause = (f"{message} (Service: {cause_service}; Status Code: {status}; Error Code: {wire_code}; "
             f"Request ID: {request_id}; Proxy: null)")
    return StatesError(name, cause)


def _shape_from_model(exc, code: str) -> str | None:
    """The modelled error shape behind an error answer (botocore's model names them)."""
    model = getattr(exc, "sfnlab_service_model", None)
    if model is None:
        return None
    error = exc.response.get("Error", {})
    wanted = {code, str(error.get("Code", "")), str(error.get("QueryErrorCode", ""))} - {""}
    for shape in model.error_shapes:
        if shape.name in wanted or (shape.metadata.get("error") or {}).get("code") in wanted:
            return shape.name
    return None


def sdk_error_prefix(boto_service: str, service_id: str) -> str:
    """The Java SDK v2 client name AWS uses as the error prefix of an aws-sdk integration."""
    if boto_service in _V2_NAMES:
        return _V2_NAMES[boto_service]
    words = service_id.replace("-", " ").split()
    return "".join(w if not w.isupper() or len(w) <= 2 else w.capitalize() for w in words)


def _call_sdk(execution, sdk_service: str, action: str, params: dict) -> Any:
    boto_service = _SDK_SERVICES.get(sdk_service, sdk_service)
    try:
        client = _services(execution).client(boto_service, validate=False)
    except Exception:  # noqa: BLE001 - an unknown service name
        raise StatesError("States.Runtime", f"The resource provided arn:aws:states:::aws-sdk:{sdk_service}:{action} "
                                            "is not recognized.") from None
    model = client.meta.service_model
    operation = next((op for op in model.operation_names if op.lower() == action.lower()), None)
    if operation is None:
        raise StatesError("States.Runtime", f"The resource provided arn:aws:states:::aws-sdk:{sdk_service}:{action} "
                                            "is not recognized.")
    prefix = sdk_error_prefix(boto_service, model.service_id)
    request = _sdk_request(model.operation_model(operation), params)

    def name_error(exc) -> StatesError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "")).rpartition(".")[2] or "Unknown"
        shape = _shape_from_model(exc, code)
        name = f"{prefix}.{_exception_name(shape)}" if shape else f"{prefix}.{prefix}Exception"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        request_id = exc.response.get("ResponseMetadata", {}).get("RequestId", "")
        message = error.get("Message") or code
        if boto_service == "s3":
            # S3's exceptions name the extended request id (x-amz-id-2) and no attempt count.
            meta = exc.response.get("ResponseMetadata", {})
            extended = meta.get("HostId") or (meta.get("HTTPHeaders") or {}).get("x-amz-id-2") \
                or _extended_id(execution.runtime.random)
            return StatesError(name, f"{message} (Service: {prefix}, Status Code: {status}, Request ID: {request_id}, "
                                     f"Extended Request ID: {extended})")
        return StatesError(name, f"{message} (Service: {prefix}, Status Code: {status}, Request ID: {request_id}) "
                                 "(SDK Attempt Count: 1)")

    answer, _ = _send(client, operation, request, name_error)
    return _plain(_as_asked(boto_service, request, answer))


def _extended_id(rng) -> str:
    return base64.b64encode(rng.getrandbits(456).to_bytes(57, "big")).decode()


def _sdk_request(operation_model, params: dict) -> dict:
    """Blob members given as text are sent as their UTF-8 bytes; JSON objects as JSON text."""
    shape = operation_model.input_shape
    if shape is None:
        return dict(params)
    out = {}
    for key, value in params.items():
        member = shape.members.get(key)
        if member is not None and member.type_name == "blob" and not isinstance(value, bytes):
            # any JSON value, text included, is sent as its JSON text (S3 PutObject of "text data" stores
            # "\"text data\"": the recorded ETag is that text's MD5)
            value = to_json(value)
        elif member is not None and member.type_name == "string" and isinstance(value, (dict, list)):
            value = to_json(value)
        out[key] = value
    return out


def _plain(value: Any) -> Any:
    """A boto3 answer as JSON: no ResponseMetadata, datetimes as ISO text, bodies as text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(bytes(value)).decode()
    if hasattr(value, "read"):  # a StreamingBody (S3 GetObject's Body)
        return _plain(value.read())
    return value


def _wire_length(service: str, operation: str, answer: dict, request_id: str, raw: dict) -> int:
    """The Content-Length AWS would send: its JSON or XML body for this answer."""
    if service == "sns" and operation == "Publish":
        body = ('<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">\n  <PublishResult>\n'
                f"    <MessageId>{answer.get('MessageId', '')}</MessageId>\n")
        if "SequenceNumber" in answer:
            body += f"    <SequenceNumber>{answer['SequenceNumber']}</SequenceNumber>\n"
        body += (f"  </PublishResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n"
                 "  </ResponseMetadata>\n</PublishResponse>\n")
        return len(body.encode())
    if service == "states" and "ExecutionArn" in answer:
        # StartExecution's JSON body: {"executionArn":"...","startDate":1.699999999123E9} (Java's double text).
        body = json.dumps({"executionArn": answer["ExecutionArn"]}, separators=(",", ":"))[:-1]
        return len(body.encode()) + len(',"startDate":}') + len(_java_double(answer.get("StartDate", 0) / 1000))
    return len(json.dumps(answer, separators=(",", ":")).encode())


def _java_double(value: float) -> str:
    """``Double.toString``: plain below 10^7, else computerized scientific notation (1.699999999123E9)."""
    value = float(value)
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        return f"{mantissa if '.' in mantissa else mantissa + '.0'}E{int(exp)}"
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    digits = (whole + frac).rstrip("0") or "0"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{len(whole) - 1}"


def _with_metadata(execution, service: str, answer: dict, raw: dict, operation: str) -> dict:
    """Add ``SdkHttpMetadata`` / ``SdkResponseMetadata`` as the optimized integrations return them."""
    request_id = _request_id(execution)
    length = str(_wire_length(service, operation, answer, request_id, raw))
    date = formatdate(execution.runtime.clock.now, usegmt=True)
    content_type = "text/xml" if service == "sns" else "application/x-amz-json-1.0"
    if service == "dynamodb":
        crc = str(zlib.crc32(json.dumps(answer, separators=(",", ":")).encode()))
        all_headers = {"Server": ["Server"], "Connection": ["keep-alive"], "x-amzn-RequestId": [request_id],
                       "x-amz-crc32": [crc], "Content-Length": [length], "Date": [date],
                       "Content-Type": [content_type]}
    else:
        all_headers = {"x-amzn-RequestId": [request_id], "connection": ["keep-alive"], "Content-Length": [length],
                       "Date": [date], "Content-Type": [content_type]}
    return {
        **answer,
        "SdkHttpMetadata": {
            "AllHttpHeaders": all_headers,
            "HttpHeaders": {k: v[0] for k, v in all_headers.items()},
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }


def with_metadata(execution, service: str, answer: dict) -> dict:
    """The metadata wrapping for answers made in-process (``states:startExecution``)."""
    return _with_metadata(execution, service, answer, {}, "")


def _request_id(execution) -> str:
    """A request id from a seeded stream of its own (so States.UUID values do not shift)."""
    import random
    import uuid

    runtime = execution.runtime
    rng = getattr(runtime, "integration_ids", None)
    if rng is None:
        rng = runtime.integration_ids = random.Random(f"sfnlab-integrations-{runtime.seed}")
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# ---- PutObject of a large file (a Distributed Map's result files) --------------------------------

PUT_FILE_PLAIN_UP_TO = 8 * 1024 * 1024  # bytes: a file up to this size is sent by the plain PutObject call
_FILL_CHUNK = 1024 * 1024


def put_file(services, bucket: str, key: str, body, size: int) -> None:
    """PutObject ``bucket``/``key`` with the ``size`` bytes of the binary file ``body``, in bounded memory.

    The plain call, ``put_object(Body=body)``, streams the file out of this process, but sfnlab's
    local moto server (a thread of this process) reads a request body whole (werkzeug builds it in
    a ``bytearray``, then copies it to ``bytes``) and copies it once more into the stored object
    (moto's ``FakeKey`` writes it to an in-memory buffer before that buffer moves to disk): a
    640 MB file took over 1 GiB at its peak. A multipart upload does not help: moto joins the
    parts in memory on CompleteMultipartUpload.

    So a file over :data:`PUT_FILE_PLAIN_UP_TO` sent to that server is written in two steps: the
    plain call with an empty body creates the object (the server checks the bucket and applies
    versioning, ACL, encryption as for any PutObject), then :func:`_fill_local_object` copies the
    file into moto's stored object a MiB at a time. Against AWS or another endpoint, or when moto's
    stored objects are not as that function expects, the file goes through the plain call.
    One difference remains: an S3 event notification of the bucket reports the empty object.
    """
    s3 = services.client("s3", validate=False)
    stored_object = _local_s3_objects(services) if size > PUT_FILE_PLAIN_UP_TO else None
    if stored_object is not None:
        # CRC32, botocore's default, named so that the checksum _fill_local_object computes is that one
        answer = s3.put_object(Bucket=bucket, Key=key, Body=b"", ChecksumAlgorithm="CRC32")
        stored = stored_object(bucket, key, answer.get("VersionId"))
        if stored is not None and _fill_local_object(stored, body):
            return
    body.seek(0)
    s3.put_object(Bucket=bucket, Key=key, Body=body)


def _local_s3_objects(services):
    """A function ``(bucket, key, version id) -> moto's stored object``, when ``services`` reach the
    local moto server and it runs in this process; otherwise None."""
    from ..services import LocalAws

    if not services.local or not LocalAws.in_this_process():
        return None
    try:
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        backend = s3_backends[services.account][get_partition(services.region)]
    except Exception:  # noqa: BLE001 - another moto layout: the plain call
        return None

    def stored_object(bucket: str, key: str, version: str | None):
        try:
            return backend.get_object(bucket, key, version_id=version)
        except Exception:  # noqa: BLE001
            return None

    return stored_object


def _fill_local_object(stored, body) -> bool:
    """Copy the binary file ``body`` into moto's empty stored object ``stored``; False if it is not as expected.

    The shim over moto's internals (moto 5: ``FakeKey``): the content is its ``_value_buffer``
    (a SpooledTemporaryFile, so it moves to disk past a few MiB), its size ``contentsize``; its
    ``_etag`` (the MD5) is reset, for moto to compute from the buffer when asked; its CRC32
    ``checksum_value`` is computed here as the content goes by.
    """
    buffer: Any = getattr(stored, "_value_buffer", None)  # checked below before use
    lock = getattr(stored, "lock", None)
    if not all(hasattr(buffer, name) for name in ("seek", "truncate", "write")) or lock is None \
            or getattr(stored, "contentsize", None) != 0 or not hasattr(stored, "_etag") \
            or getattr(stored, "checksum_algorithm", None) != "CRC32":
        return False
    body.seek(0)
    crc, size = 0, 0
    with lock:
        buffer.seek(0)
        buffer.truncate()
        while chunk := body.read(_FILL_CHUNK):
            buffer.write(chunk)
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
        stored.contentsize = size
        stored._etag = None
        stored.checksum_value = base64.b64encode(crc.to_bytes(4, "big")).decode()
    return True
