"""What AWS's JSON 1.0 front end refuses before Step Functions sees a request.

An SDK checks types, required members and minimums on the client, so :mod:`sfnlab.api` never
sends a request that fails them; a raw HTTP client (curl, a hand-written script, a fuzzer) can.
AWS answers those requests as follows, and :mod:`sfnlab.server` does the same:

* A body over 1,049,600 bytes: HTTP 413 with the plain-text body
  ``HTTP content length exceeded 1049600 bytes.`` and ``Connection: close`` (observed from
  SendTaskSuccess, aws/aws-sdk-js-v3#4184). The documented quota is "1 MB per request".
* A body that is not JSON: HTTP 400 ``{"__type":"com.amazon.coral.service#SerializationException"}``
  with no message.
* A member of the wrong JSON type: HTTP 400 ``SerializationException`` whose message names the
  mismatch, e.g. ``NUMBER_VALUE can not be converted to a String``, ``Expected list or null``,
  ``Start of structure or map found where not expected.`` (messages observed from AWS's JSON
  services; those for integers, longs and booleans follow the same pattern).
* A missing required member or a value under its minimum: ``ValidationException`` in the
  "N validation errors detected: Value null at 'x' failed to satisfy constraint: Member must not
  be null" form the backend uses for maximums.
"""
from __future__ import annotations

from typing import Any

from .backend import ApiError

__all__ = ["MAX_BODY_BYTES", "TOO_LARGE_TEXT", "check_request", "decode_body"]

MAX_BODY_BYTES = 1_049_600
TOO_LARGE_TEXT = f"HTTP content length exceeded {MAX_BODY_BYTES} bytes."

_CORAL_SERVICE = "com.amazon.coral.service"
_CORAL_VALIDATE = "com.amazon.coral.validate"

# The Java type each model type is read into; it names the target in AWS's messages.
_JAVA_NAMES = {"string": "a String", "integer": "an Integer", "long": "a Long", "boolean": "a Boolean",
               "float": "a Float", "double": "a Double", "timestamp": "a Date"}


def _serialization_error(message: str | None) -> ApiError:
    return ApiError("SerializationException", message, namespace=_CORAL_SERVICE)


def decode_body(body: bytes) -> dict:
    """The JSON object of a request body; an empty body is ``{}``.

    Raises:
        ApiError: ``SerializationException`` when the body is not JSON, or not a JSON object.
    """
    import json

    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise _serialization_error(None) from None
    mismatch = _type_mismatch("structure", value)
    if mismatch is not None:
        raise _serialization_error(mismatch)
    return value


def _token(value: Any) -> str:
    """The JSON token name AWS's parser reports for a scalar."""
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    return "NUMBER_VALUE"


def _type_mismatch(kind: str, value: Any) -> str | None:
    """AWS's message when ``value`` cannot be read as a ``kind`` member, else None."""
    if kind in ("structure", "map"):
        if isinstance(value, dict):
            return None
        return "Start of list found where not expected." if isinstance(value, list) else "Expected null"
    if kind == "list":
        return None if isinstance(value, list) else "Expected list or null"
    if isinstance(value, dict):
        return "Start of structure or map found where not expected."
    if isinstance(value, list):
        return "Start of list found where not expected."
    accepted = {
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "long": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "double": isinstance(value, (int, float)) and not isinstance(value, bool),
        "timestamp": isinstance(value, (int, float, str)) and not isinstance(value, bool),
    }.get(kind, True)
    return None if accepted else f"{_token(value)} can not be converted to {_JAVA_NAMES.get(kind, kind)}"


def _under_minimum(shape: Any, value: Any) -> str | None:
    low = shape.metadata.get("min")
    if low is None:
        return None
    if isinstance(value, (str, list)) and len(value) < low:
        return f"have length greater than or equal to {low}"
    if shape.type_name in ("integer", "long") and value < low:
        return f"have value greater than or equal to {low}"
    return None


def _walk(shape: Any, value: Any, where: str, problems: list[str]) -> None:
    mismatch = _type_mismatch(shape.type_name, value)
    if mismatch is not None:
        raise _serialization_error(mismatch)
    constraint = _under_minimum(shape, value)
    if constraint is not None:
        shown = "" if shape.metadata.get("sensitive") else f" '{value}'"
        problems.append(f"Value{shown} at '{where}' failed to satisfy constraint: Member must {constraint}")
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            path = f"{where}.{name}" if where else name
            if value.get(name) is None:
                if name in shape.required_members:
                    problems.append(f"Value null at '{path}' failed to satisfy constraint: Member must not be null")
                continue
            _walk(member, value[name], path, problems)
    elif shape.type_name == "list":
        for index, item in enumerate(value, 1):  # AWS numbers list members from 1
            if item is not None:
                _walk(shape.member, item, f"{where}.{index}.member", problems)
    elif shape.type_name == "map":
        for key, item in value.items():
            if item is not None:
                _walk(shape.value, item, f"{where}.{key}", problems)


def check_request(operation_model: Any, params: dict) -> None:
    """Refuse what an SDK would have refused: wrong types, missing members, values under a minimum.

    Raises:
        ApiError: ``SerializationException`` for the first member of the wrong type, else
            ``ValidationException`` listing every missing member and minimum violated.
    """
    shape = operation_model.input_shape
    if shape is None:
        return
    problems: list[str] = []
    _walk(shape, params, "", problems)
    if problems:
        noun = "error" if len(problems) == 1 else "errors"
        raise ApiError("ValidationException", f"{len(problems)} validation {noun} detected: " + "; ".join(problems),
                       namespace=_CORAL_VALIDATE)
