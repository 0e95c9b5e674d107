"""Payload templates: Parameters, ResultSelector, ItemSelector, Assign (JSONPath mode).

ASL spec, "Payload Templates". A template is any JSON value. In an object, a key ending in
``.$`` is evaluated: its value is a Path (``$.x``, ``$$.Map.Item.Value``, ``$var``) or an
intrinsic call (``States.Format(...)``), and the key loses its ``.$`` suffix. Everything else is
copied literally, including strings that look like paths but sit under a plain key.

Templates are compiled once, at definition load, into a tree of small closures; evaluating one
walks no strings and parses nothing.
"""
from __future__ import annotations

import json
import random
from functools import lru_cache
from typing import Any, Callable

from .errors import StatesError
from .intrinsics import compile_intrinsic, is_intrinsic
from .paths import PathNotFound, Scope, compile_path

__all__ = ["Template", "compile_template", "FieldFailure"]

Evaluator = Callable[[Scope, random.Random], Any]


class FieldFailure(StatesError):
    """A ``.$`` field whose path selected nothing (AWS reports it as States.Runtime)."""

    def __init__(self, key: str, path_text: str, document: Any) -> None:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        super().__init__(
            "States.Runtime",
            f"The JSONPath '{path_text}' specified for the field '{key}' could not be found in the input '{text}'",
        )
        self.key = key
        self.path_text = path_text


class Template:
    """A compiled payload template; ``evaluate(scope, rng)`` returns a fresh JSON value.

    An object (the usual template) keeps its fields in the template itself, so evaluating it
    reaches them in one step (see the note above :func:`_compile`); any other value is a compiled
    function.
    """

    __slots__ = ("source", "_fields", "_function")

    def __init__(self, source: Any) -> None:
        self.source = source
        if isinstance(source, dict):
            self._fields: tuple | None = tuple(_compile_field(key, value) for key, value in source.items())
            self._function: Evaluator | None = None
        else:
            self._fields, self._function = None, _compile(source)

    def evaluate(self, scope: Scope, rng: random.Random) -> Any:
        fields = self._fields
        if fields is None:
            return self._function(scope, rng)  # type: ignore[misc]
        if len(fields) == 1:  # common, and a one-entry dict needs no comprehension
            (key, fn, value), = fields
            return {key: value if fn is None else fn(scope, rng)}
        return {key: value if fn is None else fn(scope, rng) for key, fn, value in fields}

    def __repr__(self) -> str:
        return f"Template({json.dumps(self.source)[:60]})"


def compile_template(source: Any) -> Template:
    """Compile a payload template. Raises ValueError for a ``.$`` value that is not a path or call."""
    return Template(source)


# An object template is a tuple of fields ``(key, evaluator, None)`` or, for a literal scalar,
# ``(key, None, value)``, copied without a call, kept in its Template. A field that recurs across
# states (the same key and path, or key and literal) is one shared tuple. A long definition is
# walked once per run, one state after the other, so the fewer objects a state's template is made
# of, the fewer of them are fetched from memory when the definition no longer fits the CPU caches
# (issue 8).
def _compile(source: Any) -> Evaluator:
    if isinstance(source, dict):
        return Template(source).evaluate
    if isinstance(source, list):
        items = [_compile(v) for v in source]
        return lambda scope, rng: [fn(scope, rng) for fn in items]
    # Literal scalars are immutable, so they can be shared.
    return lambda scope, rng: source


def _compile_field(key: str, value: Any) -> tuple[str, Evaluator | None, Any]:
    if not key.endswith(".$"):
        if value is None or isinstance(value, (str, int)):  # bool is an int
            return _literal_field(key, value)
        if isinstance(value, float):  # not cached: -0.0 == 0.0, yet they are other JSON
            return key, None, value
        return key, _compile(value), None
    if not isinstance(value, str):
        raise ValueError(f"The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call")
    return _evaluated_field(key, value)


@lru_cache(maxsize=4096, typed=True)  # typed: 1 and True are equal keys, but other JSON
def _literal_field(key: str, value: Any) -> tuple[str, None, Any]:
    return key, None, value


@lru_cache(maxsize=4096)
def _evaluated_field(key: str, text: str) -> tuple[str, Evaluator, None]:
    return key[:-2], compile_expression(key, text), None


@lru_cache(maxsize=4096)
def compile_expression(key: str, text: str) -> Evaluator:
    """Compile the string value of a ``.$`` field: an intrinsic call or a Path.

    Cached: the evaluator depends only on the key and the text, and a long definition often
    repeats the same field in many states, which then share one small function.
    """
    if is_intrinsic(text):
        return compile_intrinsic(text).evaluator()
    path = compile_path(text)

    def evaluate_path(scope: Scope, rng: random.Random) -> Any:
        try:
            return path.get(scope)
        except PathNotFound:
            document = {"input": scope.input, "context": scope.context}.get(path.root, scope.input)
            raise FieldFailure(key, text, document) from None

    return evaluate_path
