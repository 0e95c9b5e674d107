"""The intrinsic functions of JSONPath states: ``States.Format(...)`` and the other 17.

AWS guide, "Intrinsic functions for JSONPath states"; ASL spec, "Intrinsic Functions".

A call is written in a ``.$`` field (``"greeting.$": "States.Format('Hi {}', $.name)"``). Its
arguments are string literals in single quotes, numbers, ``true``/``false``/``null``, Paths
(``$.x``, ``$$.Execution.Id``, ``$var``) and nested calls (at most 10 levels deep). Inside a
string literal the characters ``'``, ``{``, ``}`` and ``\\`` are reserved: ``\\'``, ``\\{``,
``\\}`` and ``\\\\`` write them; any other backslash makes the definition invalid.

:func:`compile_intrinsic` parses the text once (a bad call raises :class:`IntrinsicSyntaxError`,
which the definition checks turn into SCHEMA_VALIDATION_FAILED); :meth:`IntrinsicCall.evaluate`
runs it against a :class:`~sfnlab.paths.Scope`.

What AWS does at run time, as observed (the conformance corpus and published AWS probes):

* Bad arguments (wrong count, wrong JSON type, out of range) fail the execution with
  ``States.Runtime`` and the text ``Invalid arguments in States.<Name>``. That error is not
  ``States.IntrinsicFailure`` and ``States.ALL`` does not catch it. The engine puts AWS's
  ``An error occurred while executing the state '<s>' (entered at the event id #<n>). `` in
  front, as it does for every States.Runtime of a state. The error name is :data:`FAILURE_ERROR`.
* A path argument that selects nothing raises :class:`~sfnlab.paths.PathNotFound` unchanged: AWS
  reports it like any other Parameters path ("The JSONPath '$.x' specified for the field ...").
* Numbers: ``MathAdd`` rounds half up (``Math.round``); ``ArrayPartition``, ``ArrayRange``,
  ``ArrayGetItem`` and ``MathRandom`` truncate toward zero.
* Values are turned into text the way AWS's Java runtime prints them: objects ``{a=1, b=[x]}``,
  arrays ``[1, 2]``, strings unquoted, ``null``, floats like Java ``Double.toString`` (``1.0``,
  ``1.0E10``). ``States.Format`` and ``States.ArrayContains`` both use that text.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Union, cast

from ._json import json_type as _json_type
from .errors import StatesError
from .paths import Path, Scope, compile_path

__all__ = [
    "FAILURE_ERROR",
    "FUNCTIONS",
    "IntrinsicCall",
    "IntrinsicSyntaxError",
    "Literal",
    "PathArgument",
    "compact_json",
    "compile_intrinsic",
    "is_intrinsic",
    "java_text",
]

#: The error AWS raises when an intrinsic gets arguments it cannot use.
FAILURE_ERROR = "States.Runtime"

MAX_NESTING = 10  # "You can nest up to 10 intrinsic functions within a field."
MAX_RANGE_ITEMS = 1000  # States.ArrayRange
MAX_INPUT_CHARS = 10_000  # States.Base64Encode / Base64Decode / Hash
INT32 = (-(2**31), 2**31 - 1)  # States.MathAdd works on 32-bit integers
HASH_ALGORITHMS: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-1": hashlib.sha1,
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}
_ESCAPABLE = "'{}\\"


class IntrinsicSyntaxError(ValueError):
    """Text that is not a valid intrinsic call (AWS refuses the definition).

    Attributes:
        text: the whole call text.
        position: index in ``text`` where the problem was found.
        reason: what is wrong there.
    """

    def __init__(self, text: str, position: int, reason: str) -> None:
        self.text = text
        self.position = position
        self.reason = reason
        super().__init__(f"{reason} at position {position} in {text!r}")


# ----------------------------------------------------------------------------------------------
# The call tree


@dataclass(frozen=True)
class Literal:
    """A literal argument. ``raw`` is its source text (for strings: with escapes, no quotes)."""

    value: Any
    raw: str

    def evaluate(self, scope: Scope, rng: random.Random) -> Any:
        return self.value

    def __str__(self) -> str:
        return f"'{self.raw}'" if isinstance(self.value, str) else self.raw


@dataclass(frozen=True)
class PathArgument:
    """A Path argument (``$.x``, ``$$.Execution.Id``, ``$var``)."""

    path: Path

    def evaluate(self, scope: Scope, rng: random.Random) -> Any:
        return self.path.get(scope)  # PathNotFound propagates: AWS reports it as States.Runtime

    def __str__(self) -> str:
        return self.path.text.strip()


Argument = Union[Literal, PathArgument, "IntrinsicCall"]


@dataclass(frozen=True)
class IntrinsicCall:
    """A parsed call such as ``States.Format('{}', $.x)``; nested calls are IntrinsicCalls too."""

    name: str
    args: tuple[Argument, ...]
    text: str = field(default="", compare=False)

    def evaluate(self, scope: Scope, rng: random.Random) -> Any:
        """Evaluate the call.

        Args:
            scope: what paths read (state input, context object, variables).
            rng: the execution's seeded random source (States.UUID, unseeded States.MathRandom).

        Returns:
            The JSON value the function produces.

        Raises:
            StatesError: ``FAILURE_ERROR`` with ``Invalid arguments in <name>``.
            PathNotFound: a path argument selected nothing.
        """
        plan = self.__dict__.get("_plan") or self._make_plan()
        function, arity_ok, literal_template = plan
        values = [arg.evaluate(scope, rng) for arg in self.args]
        if not arity_ok:  # AWS accepts the definition and fails the execution
            raise _invalid(self.name)
        if literal_template:
            # States.Format must still see the escapes of a literal template (\{ is not a placeholder).
            values[0] = _Template(cast(Literal, self.args[0]).raw)
        return function(self.name, values, rng)

    def evaluator(self) -> Callable[[Scope, random.Random], Any]:
        """:meth:`evaluate` as one function, with the plan and the arguments' evaluators bound once.

        For call sites evaluated many times (payload templates); it computes the same value.
        """
        function, arity_ok, literal_template = self.__dict__.get("_plan") or self._make_plan()
        if not arity_ok or literal_template:  # rare: the general path says why, or keeps the escapes
            return self.evaluate
        name = self.name
        args = tuple(a.evaluator() if isinstance(a, IntrinsicCall) else a.evaluate for a in self.args)

        def evaluate(scope: Scope, rng: random.Random) -> Any:
            return function(name, [arg(scope, rng) for arg in args], rng)

        return evaluate

    def _make_plan(self) -> tuple:
        """What evaluation needs, worked out once per call site: function, arity check, template."""
        spec = FUNCTIONS[self.name]
        low, high = spec.arity
        n = len(self.args)
        literal_template = bool(spec.template and n and isinstance(self.args[0], Literal)
                                and isinstance(self.args[0].value, str))
        plan = (spec.function, low <= n and (high is None or n <= high), literal_template)
        object.__setattr__(self, "_plan", plan)  # frozen dataclass: a private cache, not a field
        return plan

    @property
    def depth(self) -> int:
        """How deeply calls nest: 1 for a call without nested calls."""
        return 1 + max((a.depth for a in self.args if isinstance(a, IntrinsicCall)), default=0)

    def __str__(self) -> str:
        return f"{self.name}({', '.join(map(str, self.args))})"

    def __repr__(self) -> str:
        return f"IntrinsicCall({str(self)!r})"


# ----------------------------------------------------------------------------------------------
# Parsing


def is_intrinsic(text: object) -> bool:
    """Whether a ``.$`` value is meant as an intrinsic call (a string starting with ``States.``)."""
    return isinstance(text, str) and text.startswith("States.")


@lru_cache(maxsize=4096)
def compile_intrinsic(text: str) -> IntrinsicCall:
    """Parse an intrinsic call once.

    Args:
        text: the value of a ``.$`` field, e.g. ``"States.Array($.a, 'b', 3)"``.

    Returns:
        The call tree.

    Raises:
        IntrinsicSyntaxError: malformed text, an unknown function, a bad escape or literal, an
            invalid path, or calls nested more than 10 deep. (A wrong number of arguments is
            not among them: AWS accepts the definition and fails the execution.)

    Example:
        >>> call = compile_intrinsic("States.Format('Hello {}', $.name)")
        >>> call.evaluate(Scope({"name": "Ada"}), random.Random(0))
        'Hello Ada'
    """
    parser = _Parser(text)
    call = parser.call()
    parser.skip_space()
    if parser.pos != len(text):
        raise parser.error("unexpected text after the call")
    return call


_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_KEYWORDS = {"true": True, "false": False, "null": None}
_KEYWORD = re.compile(r"(true|false|null)(?![A-Za-z0-9_$.])")


class _Parser:
    """A recursive-descent parser over the call text (grammar: call := NAME '(' [arg (',' arg)*] ')')."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0  # calls open at the current position

    def error(self, reason: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(self.text, self.pos, reason)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def call(self) -> IntrinsicCall:
        # Refuse deep nesting while parsing: 10,000 nested calls must not exhaust Python's stack.
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise IntrinsicSyntaxError(self.text, 0, f"intrinsic functions nested more than {MAX_NESTING} deep")
        call = self._call()
        self.depth -= 1
        return call

    def _call(self) -> IntrinsicCall:
        start = self.pos
        m = _NAME.match(self.text, self.pos)
        if not m:
            raise self.error("expected an intrinsic function name")
        name = m.group(0)
        if name not in FUNCTIONS:
            raise self.error(f"unknown intrinsic function {name}")
        self.pos = m.end()
        if self.peek() != "(":
            raise self.error("expected '('")
        self.pos += 1
        args: list[Argument] = []
        self.skip_space()
        if self.peek() == ")":
            self.pos += 1
            return IntrinsicCall(name, (), self.text[start:self.pos])
        while True:
            self.skip_space()
            args.append(self.argument())
            self.skip_space()
            ch = self.peek()
            self.pos += 1
            if ch == ")":
                return IntrinsicCall(name, tuple(args), self.text[start:self.pos])
            if ch != ",":
                self.pos -= 1
                raise self.error("expected ',' or ')'")

    def argument(self) -> Argument:
        ch = self.peek()
        if ch == "'":
            return self.string()
        if ch == "$":
            return self.path()
        if self.text.startswith("States.", self.pos):
            return self.call()
        m = _NUMBER.match(self.text, self.pos)
        if m and not re.match(r"[A-Za-z0-9_.]", self.text[m.end():m.end() + 1]):
            self.pos = m.end()
            raw = m.group(0)
            number = float(raw) if any(c in raw for c in ".eE") else int(raw)
            return Literal(number, raw)
        m = _KEYWORD.match(self.text, self.pos)
        if m:
            self.pos = m.end()
            return Literal(_KEYWORDS[m.group(1)], m.group(1))
        raise self.error("expected an argument (a 'string', number, true, false, null, path or call)")

    def string(self) -> Literal:
        self.pos += 1  # the opening quote
        start = self.pos
        chars: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "'":
                raw = self.text[start:self.pos]
                self.pos += 1
                return Literal("".join(chars), raw)
            if ch == "\\":
                nxt = self.text[self.pos + 1:self.pos + 2]
                if not nxt or nxt not in _ESCAPABLE:
                    raise self.error("only \\', \\{, \\} and \\\\ may be escaped in a string literal")
                chars.append(nxt)
                self.pos += 2
                continue
            chars.append(ch)
            self.pos += 1
        raise self.error("unterminated string literal")

    def path(self) -> PathArgument:
        # A path runs to the ',' or ')' that is not inside brackets, parentheses or quotes.
        start = self.pos
        brackets = parens = 0
        quote = ""
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if quote:
                if ch == "\\":
                    self.pos += 1
                elif ch == quote:
                    quote = ""
            elif ch in "'\"" and brackets:
                quote = ch
            elif ch == "[":
                brackets += 1
            elif ch == "]":
                brackets -= 1
            elif ch == "(":
                parens += 1
            elif ch == ")":
                if not parens and not brackets:
                    break
                parens -= 1
            elif ch == "," and not parens and not brackets:
                break
            self.pos += 1
        text = self.text[start:self.pos].rstrip()
        try:
            return PathArgument(compile_path(text))
        except ValueError:
            self.pos = start
            raise self.error(f"invalid path {text!r}") from None


# ----------------------------------------------------------------------------------------------
# Values as AWS's Java runtime prints them


def java_text(value: Any) -> str:
    """``value`` as AWS writes it into a string (States.Format): ``{a=1, b=[x, null]}``."""
    return _TEXT[_json_type(value)](value)


def _java_double(x: float) -> str:
    """A float as Java's ``Double.toString`` prints it: ``1.0``, ``0.001``, ``1.0E10``, ``1.5E-4``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        text = repr(x)  # Python's shortest repr is plain decimal in this range
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(abs(x))).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) - 1 + int(exponent)
    return f"{'-' if x < 0 else ''}{ds[0]}.{ds[1:] or '0'}E{power}"




def _number_text(value: int | float) -> str:
    return _java_double(value) if isinstance(value, float) else str(value)


_TEXT: dict[str, Callable[[Any], str]] = {
    "null": lambda v: "null",
    "boolean": lambda v: "true" if v else "false",
    "number": _number_text,
    "string": lambda v: v,
    "array": lambda v: "[" + ", ".join(map(java_text, v)) + "]",
    "object": lambda v: "{" + ", ".join(f"{k}={java_text(x)}" for k, x in v.items()) + "}",
}

_JSON: dict[str, Callable[[Any], str]] = {
    "null": lambda v: "null",
    "boolean": lambda v: "true" if v else "false",
    "number": _number_text,
    "string": lambda v: json.dumps(v, ensure_ascii=False),
    "array": lambda v: "[" + ",".join(map(compact_json, v)) + "]",
    "object": lambda v: "{" + ",".join(f"{_JSON['string'](k)}:{compact_json(x)}" for k, x in v.items()) + "}",
}


def compact_json(value: Any) -> str:
    """``value`` as compact JSON text, no spaces, numbers as Java prints them (JsonToString)."""
    return _JSON[_json_type(value)](value)


def _strict_key(value: Any) -> Any:
    """A hashable key equal only for equal JSON values of the same type (1 and 1.0 differ)."""
    kind = _json_type(value)
    if kind == "array":
        return (kind, tuple(map(_strict_key, value)))
    if kind == "object":
        return (kind, frozenset((k, _strict_key(v)) for k, v in value.items()))
    return (kind, type(value).__name__, value)


# ----------------------------------------------------------------------------------------------
# The functions: one registry, arity checked centrally in IntrinsicCall.evaluate


@dataclass(frozen=True)
class _Spec:
    function: Callable[[str, list[Any], random.Random], Any]
    arity: tuple[int, int | None]
    template: bool = False  # first argument is a States.Format template


FUNCTIONS: dict[str, _Spec] = {}


def _intrinsic(name: str, low: int, high: int | None, *, template: bool = False) -> Callable:
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        FUNCTIONS[name] = _Spec(function, (low, high), template)
        return function

    return register


def _invalid(name: str) -> StatesError:
    return StatesError.of(FAILURE_ERROR, f"Invalid arguments in {name}")


def _is_number(value: Any) -> bool:
    # An int is always finite; math.isfinite would overflow on one with 400 digits.
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and math.isfinite(value))


def _truncated(name: str, value: Any) -> int:
    """A number argument truncated toward zero (ArrayPartition, ArrayRange, ArrayGetItem, MathRandom)."""
    if not _is_number(value):
        raise _invalid(name)
    return int(value)


def _array(name: str, value: Any) -> list:
    if not isinstance(value, list):
        raise _invalid(name)
    return value


def _string(name: str, value: Any, limit: int | None = None) -> str:
    if not isinstance(value, str) or (limit is not None and len(value) > limit):
        raise _invalid(name)
    return value


@dataclass(frozen=True)
class _Template:
    """A literal States.Format template, still written with its escapes."""

    raw: str


def _template_parts(name: str, text: str) -> list[str | None]:
    """Split a Format template into text pieces and ``None`` for each ``{}``."""
    parts: list[str | None] = []
    piece: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPABLE:
            piece.append(text[i + 1])
            i += 2
        elif ch == "{" and text[i + 1:i + 2] == "}":
            parts += ["".join(piece), None]
            piece = []
            i += 2
        elif ch in "{}":
            raise _invalid(name)  # a lone brace: AWS fails the execution
        else:
            piece.append(ch)
            i += 1
    parts.append("".join(piece))
    return parts


@_intrinsic("States.Format", 1, None, template=True)
def _format(name: str, args: list[Any], rng: random.Random) -> str:
    """``States.Format(template, v1, ...)``: each ``{}`` takes the next value, as text."""
    template, values = args[0], args[1:]
    raw = template.raw if isinstance(template, _Template) else _string(name, template)
    parts = _template_parts(name, raw)
    if parts.count(None) != len(values):
        raise _invalid(name)
    supply = iter(values)
    return "".join(java_text(next(supply)) if part is None else part for part in parts)


@_intrinsic("States.StringToJson", 1, 1)
def _string_to_json(name: str, args: list[Any], rng: random.Random) -> Any:
    """``States.StringToJson(text)``: parse JSON text; blank text gives null."""
    text = _string(name, args[0])
    if not text.strip():
        return None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        raise _invalid(name) from None


def _reject_constant(token: str) -> Any:
    raise ValueError(token)  # NaN and Infinity are not JSON


@_intrinsic("States.JsonToString", 1, 1)
def _json_to_string(name: str, args: list[Any], rng: random.Random) -> str:
    """``States.JsonToString(value)``: compact JSON text."""
    return compact_json(args[0])


@_intrinsic("States.Array", 0, None)
def _array_of(name: str, args: list[Any], rng: random.Random) -> list:
    """``States.Array(v1, ...)``: the values, in order, as an array."""
    return list(args)


@_intrinsic("States.ArrayPartition", 2, 2)
def _array_partition(name: str, args: list[Any], rng: random.Random) -> list:
    """``States.ArrayPartition(array, size)``: chunks of ``size``; the last may be shorter."""
    array, size = _array(name, args[0]), _truncated(name, args[1])
    if size <= 0:
        raise _invalid(name)
    return [array[i:i + size] for i in range(0, len(array), size)]


@_intrinsic("States.ArrayContains", 2, 2)
def _array_contains(name: str, args: list[Any], rng: random.Random) -> bool:
    """``States.ArrayContains(array, value)``.

    AWS compares the printed text of the values: object key order matters, and the string
    ``"true"`` matches ``true`` (observed on AWS).
    """
    wanted = java_text(args[1])
    return any(java_text(item) == wanted for item in _array(name, args[0]))


@_intrinsic("States.ArrayRange", 3, 3)
def _array_range(name: str, args: list[Any], rng: random.Random) -> list:
    """``States.ArrayRange(first, last, step)``: ``last`` included; at most 1,000 items."""
    first, last, step = (_truncated(name, a) for a in args)
    if step == 0:
        raise _invalid(name)
    count = max(0, (last - first) // step + 1)
    if count > MAX_RANGE_ITEMS:
        raise _invalid(name)
    return [first + i * step for i in range(count)]


@_intrinsic("States.ArrayGetItem", 2, 2)
def _array_get_item(name: str, args: list[Any], rng: random.Random) -> Any:
    """``States.ArrayGetItem(array, index)``; on AWS any index of an empty array gives null."""
    array, index = _array(name, args[0]), _truncated(name, args[1])
    if index < 0 or (array and index >= len(array)):
        raise _invalid(name)
    return array[index] if array else None


@_intrinsic("States.ArrayLength", 1, 1)
def _array_length(name: str, args: list[Any], rng: random.Random) -> int:
    """``States.ArrayLength(array)``."""
    return len(_array(name, args[0]))


@_intrinsic("States.ArrayUnique", 1, 1)
def _array_unique(name: str, args: list[Any], rng: random.Random) -> list:
    """``States.ArrayUnique(array)``: first occurrences, in order."""
    seen: set = set()
    out = []
    for item in _array(name, args[0]):
        key = _strict_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


@_intrinsic("States.Base64Encode", 1, 1)
def _base64_encode(name: str, args: list[Any], rng: random.Random) -> str:
    """``States.Base64Encode(text)``: UTF-8, standard alphabet, padded; input ≤ 10,000 characters."""
    text = _string(name, args[0], MAX_INPUT_CHARS)
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


_BASE64_ALPHABET = re.compile(r"[^A-Za-z0-9+/\-_]")


@_intrinsic("States.Base64Decode", 1, 1)
def _base64_decode(name: str, args: list[Any], rng: random.Random) -> str:
    """``States.Base64Decode(text)``: input ≤ 10,000 characters.

    AWS decodes leniently (observed: ``'abc'``, ``' YWJjZA== '`` and ``'!!!invalid!!!'`` all
    decode): characters outside the alphabet are skipped, the first ``=`` ends the data and
    missing padding is tolerated. Bytes that are not UTF-8 become U+FFFD.
    """
    text = _string(name, args[0], MAX_INPUT_CHARS)
    data = _BASE64_ALPHABET.sub("", text.split("=", 1)[0]).replace("-", "+").replace("_", "/")
    data = data[: len(data) - len(data) % 4] if len(data) % 4 == 1 else data
    try:
        raw = base64.b64decode(data + "=" * (-len(data) % 4))
    except binascii.Error:
        raise _invalid(name) from None
    return raw.decode("utf-8", "replace")


@_intrinsic("States.Hash", 2, 2)
def _hash(name: str, args: list[Any], rng: random.Random) -> str:
    """``States.Hash(data, algorithm)``: lowercase hex of MD5, SHA-1, SHA-256, SHA-384 or SHA-512.

    AWS also hashes a non-string ``data`` (observed), here as its printed text.
    """
    data, algorithm = args
    text = data if isinstance(data, str) else java_text(data)
    if len(text) > MAX_INPUT_CHARS or not isinstance(algorithm, str) or algorithm not in HASH_ALGORITHMS:
        raise _invalid(name)
    return HASH_ALGORITHMS[algorithm](text.encode("utf-8", "surrogatepass")).hexdigest()


@_intrinsic("States.JsonMerge", 3, 3)
def _json_merge(name: str, args: list[Any], rng: random.Random) -> dict:
    """``States.JsonMerge(a, b, false)``: shallow merge, ``b`` wins; only ``false`` is allowed."""
    first, second, deep = args
    if not isinstance(first, dict) or not isinstance(second, dict) or deep is not False:
        raise _invalid(name)
    return {**first, **second}


@_intrinsic("States.MathRandom", 2, 3)
def _math_random(name: str, args: list[Any], rng: random.Random) -> int:
    """``States.MathRandom(start, end[, seed])``: an integer, ``start`` ≤ n < ``end``.

    With a seed the value depends only on the seed (a fresh generator); without one it comes from
    the execution's seeded source.
    """
    start, end = _truncated(name, args[0]), _truncated(name, args[1])
    if start >= end:
        raise _invalid(name)
    source = random.Random(_truncated(name, args[2])) if len(args) == 3 else rng
    return source.randrange(start, end)


def _java_round(name: str, value: Any) -> int:
    """Java's ``Math.round``: half rounds up (2.5 -> 3, -2.5 -> -2); the result must be an int32."""
    if value.__class__ is int and INT32[0] <= value <= INT32[1]:  # the common case, quickly (not bool)
        return value
    if not _is_number(value):
        raise _invalid(name)
    rounded = math.floor(value + 0.5) if isinstance(value, float) else value
    if not INT32[0] <= rounded <= INT32[1]:
        raise _invalid(name)
    return rounded


@_intrinsic("States.MathAdd", 2, 2)
def _math_add(name: str, args: list[Any], rng: random.Random) -> int:
    """``States.MathAdd(a, b)``: each rounded to an integer, then added; int32 only."""
    total = _java_round(name, args[0]) + _java_round(name, args[1])
    if not INT32[0] <= total <= INT32[1]:
        raise _invalid(name)
    return total


@_intrinsic("States.StringSplit", 2, 2)
def _string_split(name: str, args: list[Any], rng: random.Random) -> list[str]:
    """``States.StringSplit(text, delimiters)``: every character of ``delimiters`` splits; empty pieces go."""
    text, delimiters = _string(name, args[0]), _string(name, args[1])
    if not delimiters:
        return [text] if text else []
    pieces = re.split("[" + re.escape(delimiters) + "]", text)
    return [piece for piece in pieces if piece]


@_intrinsic("States.UUID", 0, 0)
def _uuid(name: str, args: list[Any], rng: random.Random) -> str:
    """``States.UUID()``: a version 4 UUID drawn from the execution's seeded random source."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
