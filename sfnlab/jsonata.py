"""AWS's JSONata dialect (``QueryLanguage: "JSONata"``) over jsonata-python.

AWS guide, "Transforming data with JSONata in Step Functions". A field value that is a string
wrapped in ``{% ... %}`` is a JSONata expression; anywhere else in a JSON template it is a literal.
Expressions see:

* ``$states``: ``input`` (the state's input), ``context`` (the context object), ``result`` (the
  Task, Parallel or Map result, in Output and Assign), ``errorOutput`` (in a Catch);
* workflow variables by name (``$orderId``);
* AWS's added functions ``$partition``, ``$range``, ``$hash``, ``$random`` (seedable), ``$uuid``,
  ``$parse``; ``$now()`` and ``$millis()`` read the *virtual* clock; ``$eval`` is not available.

AWS runs JSONata 2.0.6: the 2.1 operators ``?:`` and ``??`` are refused when the definition is
loaded. An evaluation failure is ``States.QueryEvaluationError`` with AWS's cause texts; an
expression that yields nothing (undefined) fails too.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import jsonata as _jsonata
from jsonata.jexception import JException
from jsonata.regex_engine import default_regex_engine
from jsonata.utils import Utils

try:
    import resource as _resource  # Unix
except ImportError:  # pragma: no cover - Windows: no memory guard
    _resource = None  # type: ignore[assignment]  # the module or None, as for _regex below
try:
    import regex as _regex  # a backtracking engine that takes a timeout (a declared dependency)
except ImportError:  # pragma: no cover - then regex literals run on `re`, unbounded
    _regex = None

from ._json import json_type
from .errors import StatesError

__all__ = ["is_expression", "compile_jsonata", "JsonataTemplate", "JsonataExpression", "evaluation_error"]

_EXPRESSION = re.compile(r"^\{%(.*)%\}$", re.S)
_STRINGS = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_NULL = Utils.NULL_VALUE

# Bounds on one evaluation. AWS fails an expression nested deeper than about 100 evaluation
# levels (measured: a sum of 200 terms fails, non-tail recursion stops near depth 100) with
# JSONata's stack-overflow text; tail recursion runs in constant depth, so only a clock ends an
# endless one. AWS does not document its time bound: 10 seconds of a laptop's time is sfnlab's.
MAX_EVALUATION_DEPTH = 100
EVALUATION_SECONDS = 10.0
# AWS also bounds the memory an expression holds (measured: [1..873782] evaluates, [1..873783]
# fails; a string of 2**22 characters passes, 2**23 fails). sfnlab weighs each value an
# evaluation step returns, 8 bytes an array item and 1 a character, which fits both.
EVALUATION_BYTES = 873_782 * 8
# Results are weighed as they return; a library function that builds a huge value inside one
# call (grouping a range by a range) is stopped by the process's own growth instead: a laptop
# guard far above AWS's bound, read from the peak resident size (it only moves when memory does).
EVALUATION_GROWTH = 1 << 29  # 512 MiB
_STACK_OVERFLOW = ("Stack overflow error: Check for non-terminating recursive function. "
                   "Consider rewriting as tail-recursive.")
_TIMEOUT = "Expression evaluation timeout: Check for infinite loop"
_MEMORY = "Expression evaluation memory limit exceeded: Check for excessive memory usage"


class _BoundedPattern:
    """A JSONata regular expression whose every use gives up after EVALUATION_SECONDS.

    Python's engine backtracks: ``/(a+)+$/`` against 30 characters holds the process for minutes
    inside one call, where the evaluation clock cannot look. The ``regex`` engine takes a timeout.
    """

    __slots__ = ("_compiled",)

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled

    def _bounded(self, method: Callable, *args: Any) -> Any:
        try:
            return method(*args, timeout=EVALUATION_SECONDS)
        except TimeoutError:
            raise _Exceeded(_TIMEOUT) from None

    def search(self, string: str) -> Any:
        return self._bounded(self._compiled.search, string)

    def finditer(self, string: str) -> Any:
        return iter(self._bounded(lambda text, timeout: list(self._compiled.finditer(text, timeout=timeout)), string))

    def sub(self, repl: Any, string: str, count: int = 0) -> str:
        return self._bounded(self._compiled.sub, repl, string, count)

    def split(self, string: str, maxsplit: int = 0) -> list[str]:
        return self._bounded(self._compiled.split, string, maxsplit)


def _regex_engine(pattern: str, flags: Any) -> Any:
    """Regex literals compiled by ``regex`` (with timeouts) when installed, else by ``re``."""
    if _regex is None:
        return default_regex_engine(pattern, flags)
    options = (_regex.IGNORECASE if flags.case_insensitive else 0) | (_regex.MULTILINE if flags.multiline else 0)
    return _BoundedPattern(_regex.compile(pattern, options))


def _peak_resident_bytes() -> int:
    """The process's peak resident size in bytes (0 where the platform does not say)."""
    if _resource is None:
        return 0
    peak = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS counts bytes, Linux KiB


class _Exceeded(Exception):
    """An evaluation went past a bound; ``args[0]`` is the text AWS gives."""


class _Timebox:
    """Entry and exit callbacks of one evaluation (jsonata-python calls them around every node)."""

    __slots__ = ("depth", "steps", "deadline", "peak")

    def __init__(self) -> None:
        self.depth = 0
        self.steps = 0
        self.deadline = time.monotonic() + EVALUATION_SECONDS
        self.peak = _peak_resident_bytes()

    def enter(self, expr: Any, input: Any, env: Any) -> None:  # noqa: A002 - the library's name
        self.steps += 1
        if not self.steps & 127:  # the clock and the memory, now and then
            if time.monotonic() > self.deadline:
                raise _Exceeded(_TIMEOUT)
            if _peak_resident_bytes() - self.peak > EVALUATION_GROWTH:
                raise _Exceeded(_MEMORY)
        if env.is_parallel_call:  # siblings of one call share a level, as jsonata-js counts them
            return
        self.depth += 1
        if self.depth > MAX_EVALUATION_DEPTH:
            raise _Exceeded(_STACK_OVERFLOW)

    def leave(self, expr: Any, input: Any, env: Any, result: Any) -> None:
        if not env.is_parallel_call:
            self.depth -= 1
        if isinstance(result, str):
            size = len(result)
        elif isinstance(result, list):
            # A lazy range's len() counts one item too many (jsonata-python's RangeList).
            size = 8 * (result.b - result.a if isinstance(result, Utils.RangeList) else len(result))
        else:
            return
        if size > EVALUATION_BYTES:
            raise _Exceeded(_MEMORY)


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and _EXPRESSION.match(value) is not None


def evaluation_error(cause: str, location: str | None = None) -> StatesError:
    error = StatesError("States.QueryEvaluationError", cause)
    error.location = location  # type: ignore[attr-defined]
    return error


def _to_jsonata(value: Any) -> Any:
    """JSON null must reach JSONata as its null, not as 'undefined'."""
    if value is None:
        return _NULL
    if isinstance(value, dict):
        return {k: _to_jsonata(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_jsonata(v) for v in value]
    return value


def _from_jsonata(value: Any) -> Any:
    """Back to plain JSON values: JSONata null -> None, sequences -> plain lists."""
    if value is _NULL:
        return None
    if isinstance(value, dict):
        return {k: _from_jsonata(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_from_jsonata(v) for v in value if v is not None]
    return value


# Parser messages as AWS's JSONata 2.0.6 words them: tokens in JSON quotes, no error code.
_PARSER_MESSAGES = {
    "S0202": "Expected {expected}, got {token}",
    "S0203": "Expected {expected} before end of expression",
    "S0204": "Unknown operator: {token}",
    "S0211": "The symbol {token} cannot be used as a unary operator",
}


def syntax_problem(text: str) -> str | None:
    """AWS's INVALID_JSONATA_EXPRESSION message for an expression, or None when it parses."""
    without_strings = _STRINGS.sub("''", text)
    if "??" in without_strings:
        # 2.0.6 reads `a ?? b` as a condition whose branch starts with `?`.
        return _PARSER_MESSAGES["S0211"].format(token=json.dumps("?"))
    if "?:" in without_strings:
        return _PARSER_MESSAGES["S0211"].format(token=json.dumps(":"))
    try:
        _parse(text)
    except JException as exc:
        template = _PARSER_MESSAGES.get(exc.error)
        if template is not None:
            return template.format(expected=json.dumps(str(exc.expected)), token=json.dumps(str(exc.current)))
        return _message(exc)
    except _Unparsable as exc:
        return str(exc)
    return None


class _Unparsable(ValueError):
    """The parser failed with a Python error rather than a JSONata one (a bad regex, deep nesting)."""


def _parse(text: str) -> Any:
    """The compiled expression. Raises JException, or _Unparsable for any other parser failure:
    the parser is a library reading a learner's text, and its own Python errors must not escape."""
    try:
        return _jsonata.Jsonata(text, _regex_engine)
    except JException:
        raise
    except RecursionError:
        raise _Unparsable("The expression is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - e.g. re.error or IndexError from a regex literal
        raise _Unparsable(f"Invalid expression: {exc}") from None


def top_level_references(text: str) -> list[str]:
    """Names an expression reads from the (absent) context item, e.g. ``phone`` in ``phone.mobile``.

    AWS evaluates JSONata with no context item, so it refuses such expressions when the definition
    is created (UNSUPPORTED_JSONATA_EXPRESSION). Names inside predicates and later path steps are
    relative to the data the path reached, and are fine.
    """
    try:
        ast = _parse(text).ast
    except (JException, _Unparsable):
        return []
    found: list[str] = []
    _walk_references(ast, True, found)
    return list(dict.fromkeys(found))


_CHILDREN = ("lhs", "rhs", "expression", "condition", "then", "else_", "procedure", "body", "group")
_CHILD_LISTS = ("arguments", "expressions")


def _walk_references(node: Any, top: bool, found: list[str]) -> None:
    if isinstance(node, (list, tuple)):
        for item in node:
            _walk_references(item, top, found)
        return
    if not hasattr(node, "type"):
        return
    kind = getattr(node, "type", None)
    if kind == "name":
        if top:
            found.append(str(node.value))
        return
    if kind == "path":
        steps = getattr(node, "steps", None) or []
        for index, step in enumerate(steps):
            if index == 0:
                _walk_references(step, top, found)
            else:
                _walk_step(step, found)
        return
    for attr in _CHILDREN:
        child = getattr(node, attr, None)
        if child is not None:
            _walk_references(child, top, found)
    for attr in _CHILD_LISTS:
        children = getattr(node, attr, None)
        if children:
            _walk_references(list(children), top, found)
    pairs = getattr(node, "lhs_object", None)
    if pairs:
        for pair in pairs:
            _walk_references(list(pair), top, found)
    if kind == "unary" and isinstance(getattr(node, "expressions", None), list):
        _walk_references(node.expressions, top, found)
    for attr in ("stages", "predicate"):
        stages = getattr(node, attr, None)
        if stages:
            for stage in stages:
                _walk_step(stage, found)


def _walk_step(step: Any, found: list[str]) -> None:
    """Inside a later path step or a predicate, names are relative; only variables' data counts."""
    # Nested absolute references (e.g. a function call with top-level arguments) cannot occur
    # here without a leading variable, so there is nothing to report.
    return


class JsonataExpression:
    """One compiled ``{% ... %}`` expression."""

    __slots__ = ("source", "text", "_compiled")

    def __init__(self, source: str) -> None:
        self.source = source
        m = _EXPRESSION.match(source)
        self.text = (m.group(1) if m else source).strip()
        problem = syntax_problem(self.text)
        if problem is not None:
            raise ValueError(problem)
        try:
            self._compiled = _parse(self.text)
        except (JException, _Unparsable) as exc:
            raise ValueError(f"Invalid JSONata expression '{self.text}': {exc}") from None
        self._compiled.set_output_convert_nulls(False)

    def evaluate(self, env: "Environment", field: str) -> Any:
        bindings = env.bindings()
        box = _Timebox()
        bindings["__evaluate_entry"], bindings["__evaluate_exit"] = box.enter, box.leave
        try:
            # AWS evaluates with no context item: data comes only from $states and variables.
            value = self._compiled.evaluate(None, bindings)
        except _Exceeded as exc:
            raise evaluation_error(
                f"The JSONata expression '{self.text}' specified for the field '{field}' threw an error during "
                f"evaluation: {exc.args[0]}", field) from None
        except JException as exc:
            raise evaluation_error(
                f"The JSONata expression '{self.text}' specified for the field '{field}' threw an error during "
                f"evaluation. {exc.error}: {_message(exc)}", field) from None
        except StatesError as exc:
            if getattr(exc, "location", None) is None:
                exc.location = field  # type: ignore[attr-defined]
            raise
        except RecursionError:
            raise evaluation_error(
                f"The JSONata expression '{self.text}' specified for the field '{field}' threw an error during "
                f"evaluation: {_STACK_OVERFLOW}", field) from None
        except (ValueError, TypeError, ZeroDivisionError, OverflowError, AttributeError, IndexError, KeyError,
                MemoryError) as exc:
            raise evaluation_error(
                f"The JSONata expression '{self.text}' specified for the field '{field}' threw an error during "
                f"evaluation. {exc}", field) from None
        if value is None:
            raise evaluation_error(
                f"The JSONata expression '{self.text}' specified for the field '{field}' returned nothing (undefined).",
                field)
        if not _is_data(value):
            raise evaluation_error(
                f"The JSONata expression '{self.text}' specified for the field '{field}' returned an unsupported "
                "result type.", field)
        return _from_jsonata(value)

    def __repr__(self) -> str:
        return f"JsonataExpression({self.source!r})"


_DATA_TYPES = (str, int, float, bool, dict, list, type(None), type(_NULL))


def _is_data(value: Any) -> bool:
    """Whether a JSONata result is JSON data (a function or a regex is not)."""
    if isinstance(value, dict):
        return all(_is_data(v) for v in value.values())
    if isinstance(value, list):
        return all(_is_data(v) for v in value)
    return isinstance(value, _DATA_TYPES)


def _message(exc: JException) -> str:
    text = str(exc)
    prefix = f"{exc.error} "
    return text[len(prefix):] if text.startswith(prefix) else text


class JsonataTemplate:
    """A JSON template whose ``{% %}`` strings are expressions (Arguments, Output, Assign, ...)."""

    __slots__ = ("source", "_evaluate")

    def __init__(self, source: Any, field: str) -> None:
        self.source = source
        self._evaluate = _compile(source, field)

    def evaluate(self, env: "Environment") -> Any:
        return self._evaluate(env)

    def __repr__(self) -> str:
        return f"JsonataTemplate({json.dumps(self.source)[:60]})"


def _compile(source: Any, field: str) -> Callable[["Environment"], Any]:
    if isinstance(source, str) and _EXPRESSION.match(source):
        expression = JsonataExpression(source)
        return lambda env: expression.evaluate(env, field)
    if isinstance(source, dict):
        parts = [(key, _compile(value, f"{field}/{key}")) for key, value in source.items()]
        return lambda env: {key: fn(env) for key, fn in parts}
    if isinstance(source, list):
        items = [_compile(v, field) for v in source]
        return lambda env: [fn(env) for fn in items]
    return lambda env: source


def compile_jsonata(source: Any, field: str) -> JsonataTemplate:
    """Compile a JSONata-mode field (a template or one expression). Raises ValueError when invalid."""
    return JsonataTemplate(source, field)


# ----------------------------------------------------------------------------------------------
# The environment an expression runs in


class Environment:
    """``$states`` and the variables for one evaluation."""

    __slots__ = ("states", "variables", "rng", "now", "_bindings")

    def __init__(self, states: dict, variables: Mapping[str, Any] | None, rng: random.Random, now: float) -> None:
        self.states = states
        self.variables = variables or {}
        self.rng = rng
        self.now = now
        self._bindings: dict | None = None

    @property
    def input_document(self) -> Any:
        return _to_jsonata(self.states.get("input"))

    def bindings(self) -> dict:
        if self._bindings is None:
            bindings = {name: _to_jsonata(value) for name, value in self.variables.items()}
            bindings["states"] = _to_jsonata(self.states)
            bindings.update(_aws_functions(self.rng, self.now))
            self._bindings = bindings
        return self._bindings


def _aws_functions(rng: random.Random, now: float) -> dict:
    lam = _jsonata.Jsonata.JLambda
    stamp = datetime.fromtimestamp(now, tz=timezone.utc)

    def partition(array: Any, size: Any) -> Any:
        if not isinstance(array, list) or not _is_int(size) or size <= 0:
            raise evaluation_error("The $partition function requires an array and a positive integer size")
        return [list(array[i:i + int(size)]) for i in range(0, len(array), int(size))]

    def range_(start: Any, end: Any, step: Any = 1) -> Any:
        if not all(_is_int(v) for v in (start, end, step)) or step == 0:
            raise evaluation_error("The $range function requires integer start, end and a non-zero step")
        items = range(int(start), int(end) + (1 if step > 0 else -1), int(step))
        if len(items) > 1000:  # measured before any item is made: $range(0, 1e9) must not fill memory
            raise evaluation_error("The $range function cannot produce more than 1000 items")
        sequence = Utils.create_sequence()
        sequence.extend(items)
        return sequence

    def hash_(data: Any, algorithm: Any = "SHA-256") -> Any:
        name = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}.get(algorithm)
        if name is None or not isinstance(data, str):
            raise evaluation_error("The $hash function requires a string and one of MD5, SHA-1, SHA-256, SHA-384, SHA-512")
        return hashlib.new(name, data.encode()).hexdigest()

    def random_(seed: Any = None) -> float:
        source = rng if seed is None else random.Random(seed)
        return source.random()

    def uuid_() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def parse(text: Any) -> Any:
        if not isinstance(text, str):
            raise evaluation_error("The $parse function requires a string")
        try:
            return _to_jsonata(json.loads(text))
        except ValueError as exc:
            raise evaluation_error(f"The $parse function could not parse the string: {exc}") from None

    def no_eval(*args: Any) -> Any:
        raise evaluation_error("The $eval function is not supported; use $parse")

    millis = int(now * 1000)
    return {
        "partition": lam(partition),
        "range": lam(range_),
        "hash": lam(hash_),
        "random": lam(random_),
        "uuid": lam(uuid_),
        "parse": lam(parse),
        "eval": lam(no_eval),
        "now": lam(lambda *a: stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"),
        "millis": lam(lambda *a: millis),
    }


def _is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())




__all__ += ["Environment", "json_type"]
