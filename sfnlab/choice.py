"""Choice rules in JSONPath mode: comparison operators, ``And``/``Or``/``Not``, ``Is*`` tests.

ASL spec, "Choice Rules". A rule compares the value at ``Variable`` with a literal (``StringEquals``)
or with the value at another path (``StringEqualsPath``). A value of the wrong type never
matches: ``NumericEquals`` on a string is simply false. The ``...Path`` operators are generated
from the base table, never written twice.

Rules are compiled once into closures ``rule(scope) -> bool``.
"""
from __future__ import annotations

import math
import operator
from typing import Any, Callable

from ._json import is_number
from ._timestamps import parse_timestamp
from .errors import StatesError
from .paths import PathNotFound, Scope, compile_path

__all__ = ["compile_rule", "Rule", "OPERATORS", "TYPE_TESTS", "string_matches", "Wildcard"]

Rule = Callable[[Scope], bool]


_is_number = is_number


def _as_timestamp(value: Any) -> float | None:
    return parse_timestamp(value)


def string_matches(value: str, pattern: str) -> bool:
    """``StringMatches``: ``*`` matches any run of characters; ``\\*`` and ``\\\\`` are literal."""
    return Wildcard(pattern).matches(value)


class Wildcard:
    """A ``StringMatches`` pattern, matched in linear time (no regular expression, no backtracking).

    The pattern is cut at its unescaped ``*`` into literal pieces. The first piece must start the
    value and the last must end it; each piece between is taken at its leftmost place after the
    previous one. Leftmost is always safe, because a ``*`` can absorb whatever a later choice
    would have skipped, so a learner's ``"*" * 10000`` costs one pass, not an exponential search.
    """

    __slots__ = ("pieces",)

    def __init__(self, pattern: str) -> None:
        pieces, piece = [], []
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            if ch == "\\" and i + 1 < len(pattern):  # an escape: the next character is literal
                piece.append(pattern[i + 1])
                i += 2
                continue
            if ch == "*":
                pieces.append("".join(piece))
                piece = []
            else:
                piece.append(ch)
            i += 1
        pieces.append("".join(piece))
        self.pieces: tuple[str, ...] = tuple(pieces)  # one more than the number of stars

    def matches(self, value: str) -> bool:
        if len(self.pieces) == 1:  # no star: the whole value
            return value == self.pieces[0]
        first, *middle, last = self.pieces
        if len(value) < len(first) + len(last) or not value.startswith(first) or not value.endswith(last):
            return False
        position, end = len(first), len(value) - len(last)
        for piece in middle:
            found = value.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
        return True


# operator -> (convert a value to the comparable form or None when the type does not fit, compare)
_STRING = (lambda v: v if isinstance(v, str) else None)
_NUMBER = (lambda v: v if isinstance(v, (int, float)) and not isinstance(v, bool) else None)  # a JSON number
_BOOLEAN = (lambda v: v if isinstance(v, bool) else None)
_TIMESTAMP = _as_timestamp

OPERATORS: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Any], bool]]] = {
    "StringEquals": (_STRING, operator.eq),
    "StringLessThan": (_STRING, operator.lt),
    "StringGreaterThan": (_STRING, operator.gt),
    "StringLessThanEquals": (_STRING, operator.le),
    "StringGreaterThanEquals": (_STRING, operator.ge),
    "NumericEquals": (_NUMBER, operator.eq),
    "NumericLessThan": (_NUMBER, operator.lt),
    "NumericGreaterThan": (_NUMBER, operator.gt),
    "NumericLessThanEquals": (_NUMBER, operator.le),
    "NumericGreaterThanEquals": (_NUMBER, operator.ge),
    "BooleanEquals": (_BOOLEAN, operator.eq),
    "TimestampEquals": (_TIMESTAMP, operator.eq),
    "TimestampLessThan": (_TIMESTAMP, operator.lt),
    "TimestampGreaterThan": (_TIMESTAMP, operator.gt),
    "TimestampLessThanEquals": (_TIMESTAMP, operator.le),
    "TimestampGreaterThanEquals": (_TIMESTAMP, operator.ge),
}
# StringMatches takes a literal pattern only (there is no StringMatchesPath).
_MATCHES = "StringMatches"

# Is* tests: value -> bool. A missing path makes them false (IsPresent is handled apart).
TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda v: v is None,
    "IsString": lambda v: isinstance(v, str),
    "IsNumeric": lambda v: _is_number(v) and not (isinstance(v, float) and math.isnan(v)),
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsTimestamp": lambda v: parse_timestamp(v) is not None,
}

_MISSING = object()


def _reader(path_text: str, strict: bool) -> Callable[[Scope], Any]:
    path = compile_path(path_text)

    def read(scope: Scope) -> Any:
        try:
            return path.get(scope)
        except PathNotFound as exc:
            if strict:
                raise StatesError("States.Runtime", f"Invalid path '{path_text}': {exc.detail}") from None
            return _MISSING

    return read


def compile_rule(rule: dict) -> Rule:
    """Compile one Choice rule (top-level or nested in And/Or/Not) into ``rule(scope) -> bool``."""
    if "And" in rule:
        parts = [compile_rule(r) for r in rule["And"]]
        return lambda scope: all(p(scope) for p in parts)
    if "Or" in rule:
        parts = [compile_rule(r) for r in rule["Or"]]
        return lambda scope: any(p(scope) for p in parts)
    if "Not" in rule:
        inner = compile_rule(rule["Not"])
        return lambda scope: not inner(scope)

    variable = rule["Variable"]
    if "IsPresent" in rule:
        path = compile_path(variable)
        want = rule["IsPresent"]
        return lambda scope: path.exists(scope) == want
    for name, test in TYPE_TESTS.items():
        if name in rule:
            read = _reader(variable, strict=False)
            want = rule[name]
            return lambda scope, test=test: (v := read(scope)) is not _MISSING and test(v) == want  # type: ignore[misc]  # mypy infers no lambda with a default
    read = _reader(variable, strict=True)
    if _MATCHES in rule:
        pattern = Wildcard(rule[_MATCHES])
        return lambda scope: isinstance(v := read(scope), str) and pattern.matches(v)
    for name, (convert, compare) in OPERATORS.items():
        if name in rule:
            expected = convert(rule[name])
            return _compare_literal(read, convert, compare, expected)
        if name + "Path" in rule:
            other = _reader(rule[name + "Path"], strict=True)
            return _compare_paths(read, other, convert, compare)
    raise ValueError(f"no comparison operator in Choice rule {rule!r}")


def _compare_literal(read, convert, compare, expected) -> Rule:
    def rule(scope: Scope) -> bool:
        value = convert(read(scope))
        return value is not None and expected is not None and compare(value, expected)

    return rule


def _compare_paths(read, other, convert, compare) -> Rule:
    def rule(scope: Scope) -> bool:
        value = convert(read(scope))
        if value is None:
            return False
        against = convert(other(scope))
        return against is not None and compare(value, against)

    return rule
