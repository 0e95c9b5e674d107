"""Small facts about JSON values shared by several modules."""
from __future__ import annotations

from typing import Any

__all__ = ["json_type", "is_number"]


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
