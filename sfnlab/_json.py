"""Small facts about JSON values shared by several modules."""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["GIVEN_AS_TEXT", "definition_json", "is_number", "json_type"]

GIVEN_AS_TEXT: Any = object()  # definition_json's second value for a definition given as text


def definition_json(definition: Any) -> tuple[str, Any]:
    """A definition as JSON text, and as plain JSON values when it was given as Python values.

    Text (``str``, or UTF-8 ``bytes``) comes back with :data:`GIVEN_AS_TEXT`: the caller parses it
    its own way. Values come back as they are when they are plain JSON; a mapping other than a
    dict, at any depth (a ``MappingProxyType``, a ``ChainMap``), becomes a dict. Raises
    ValueError with the reason for bytes that are not UTF-8 or values that are not JSON.
    """
    if isinstance(definition, (bytes, bytearray)):
        try:
            definition = bytes(definition).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"The definition is not UTF-8 text: {exc}") from None
    if isinstance(definition, str):
        return definition, GIVEN_AS_TEXT
    try:
        return json.dumps(definition), definition
    except TypeError:
        pass
    try:
        text = json.dumps(definition, default=_mapping_as_dict)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"The definition is not JSON: {exc}") from None
    return text, json.loads(text)


def _mapping_as_dict(value: Any) -> dict:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def is_number(value: Any) -> bool:
    """A JSON number: bool is an int in Python but never a number in JSON."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def json_type(value: Any) -> str:
    """The JSON type name of a value, as AWS's messages use it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")
