"""AWS's JSONPath dialect: Paths, Reference Paths, ``$$`` (context) and ``$name`` (variables).

ASL spec, "Paths" and "Reference Paths"; AWS guide, "Using JSONPath paths".

* A **Path** starts with ``$`` (the state's input), ``$$`` (the context object) or ``$name``
  (a workflow variable). It may select several nodes (``[*]``, slices, filters, ``..``); such a
  path is *indefinite* and yields a list (``[]`` when nothing matches).
* A **Reference Path** names exactly one node with ``.name`` and ``[index]`` steps only. ResultPath
  and ItemsPath must be Reference Paths; ResultPath also writes through one.

Paths are compiled once (and cached) into :class:`Path` objects. Definite paths, the common
case, are a tuple of steps walked by a loop; indefinite ones go through jsonpath-ng's extended
parser, which handles filters and slices the way AWS's Jayway engine does for the cases that
matter (an empty list when nothing matches).
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Mapping, cast

from .errors import SfnlabError

__all__ = ["Scope", "Path", "PathNotFound", "compile_path", "compile_reference_path", "is_path"]


class Scope:
    """What a path can read: the state input (``$``), the context (``$$``), the variables (``$x``).

    The context may be given as a function that makes it (:meth:`deferred`): most states never
    read ``$$``, so the engine does not build it for them.
    """

    __slots__ = ("input", "variables", "_context", "_make_context")

    def __init__(self, input: Any, context: Mapping[str, Any] | None = None,
                 variables: Mapping[str, Any] | None = None,
                 make_context: Callable[[], Mapping[str, Any] | None] | None = None) -> None:
        self.input = input
        self.variables = variables
        self._context = context
        self._make_context = make_context

    @classmethod
    def deferred(cls, input: Any, make_context: Callable[[], Mapping[str, Any]],
                 variables: Mapping[str, Any] | None = None) -> "Scope":
        """A scope whose context is made by ``make_context()`` when first read."""
        return cls(input, None, variables, make_context)

    @property
    def context(self) -> Mapping[str, Any] | None:
        if self._make_context is not None:
            self._context = self._make_context()
            self._make_context = None
        return self._context

    @context.setter
    def context(self, value: Mapping[str, Any] | None) -> None:
        self._context = value
        self._make_context = None

    def with_input(self, value: Any) -> "Scope":
        """This scope with ``value`` as ``$`` (the same context and variables)."""
        if value is self.input:
            return self
        if self._make_context is None:
            return Scope(value, self._context, self.variables)
        return Scope(value, None, self.variables, self._context_now)  # both read one context

    def _context_now(self) -> Mapping[str, Any] | None:
        return self.context

    def __repr__(self) -> str:
        return f"Scope(input={self.input!r}, context={self.context!r}, variables={self.variables!r})"


class PathNotFound(SfnlabError):
    """A definite path selected nothing. ``detail`` is AWS's (Jayway's) wording of why."""

    def __init__(self, path: "Path", detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(f"Invalid path '{path.text}' : {detail}")


class VariableNotFound(PathNotFound):
    """A ``$name`` path named a variable that has not been assigned."""


# A definite step: a member name (str) or an array index (int).
Step = "str | int"

_NAME = r"[^\s.\[\]'\"()*@?,:$]+"
_STEP = re.compile(
    rf"""\.(?P<name>{_NAME})            # .name
       | \[\s*(?P<index>-?\d+)\s*\]    # [0]
       | \.?\[\s*'(?P<quoted>(?:[^'\\]|\\.)*)'\s*\]   # ['name'] or .['name']
       | \.?\[\s*"(?P<dquoted>(?:[^"\\]|\\.)*)"\s*\]  # ["name"]
    """,
    re.X,
)
_ROOT = re.compile(r"\$\$|\$(?P<var>[A-Za-z_][A-Za-z0-9_]*)?")


def _jayway(steps: tuple) -> str:
    """Render steps as Jayway prints a path: ``$['a'][0]``."""
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in steps)


@dataclass(frozen=True, eq=False)
class Path:
    """A compiled Path or Reference Path."""

    text: str
    root: str  # "input" | "context" | "variable"
    variable: str | None
    steps: tuple | None  # definite paths: member names and indexes; None when indefinite
    _expr: Any = field(default=None, repr=False)

    @property
    def definite(self) -> bool:
        return self.steps is not None

    @property
    def is_reference(self) -> bool:
        return self.steps is not None

    def _document(self, scope: Scope) -> Any:
        if self.root == "input":
            return scope.input
        if self.root == "context":
            return scope.context if scope.context is not None else {}
        variables = scope.variables or {}
        if self.variable not in variables:
            raise VariableNotFound(self, f"Variable '{self.variable}' is not defined")
        return variables[cast(str, self.variable)]  # a variable path names one

    def get(self, scope: Scope) -> Any:
        """The value this path selects in ``scope``; raises PathNotFound for a definite miss."""
        return self.select(scope.input if self.root == "input" else self._document(scope))

    def select(self, document: Any) -> Any:
        """Apply the path's steps to ``document`` (the root is ignored)."""
        steps = self.steps
        if steps is None:
            return [m.value for m in self._expr.find(document)]
        value = document
        # The common case first: member names, each found in an object.
        for step in steps:
            if step.__class__ is not str or not isinstance(value, dict) or step not in value:
                break
            value = value[step]
        else:
            return value
        return self._walk(document)

    def _walk(self, document: Any) -> Any:
        """Apply the steps one by one, with Jayway's message for the first one that finds nothing."""
        steps = cast(tuple, self.steps)  # only a definite path walks
        value = document
        last = len(steps) - 1
        for i, step in enumerate(steps):
            try:
                if isinstance(step, int):
                    if not isinstance(value, list):
                        raise KeyError
                    value = value[step]
                else:
                    if not isinstance(value, dict):
                        raise KeyError
                    value = value[step]
            except (KeyError, IndexError):
                where = _jayway(steps[: i + 1])
                raise PathNotFound(
                    self, f"No results for path: {where}" if i == last else f"Missing property in path {where}"
                ) from None
        return value

    def exists(self, scope: Scope) -> bool:
        """For ``IsPresent``: whether the path selects something."""
        try:
            value = self.get(scope)
        except PathNotFound:
            return False
        return self.definite or value != []

    def set(self, document: Any, value: Any) -> Any:
        """A copy of ``document`` with ``value`` written at this Reference Path (ResultPath).

        Missing objects on the way are created; raises ``ValueError`` when a step meets a value
        that is not an object (AWS: States.ResultPathMatchFailure).
        """
        steps = self.steps
        if not steps:
            return value
        if not isinstance(document, (dict, list)):
            raise ValueError(document)
        root = _shallow_copy(document)
        node = root
        for i, step in enumerate(steps):
            final = i == len(steps) - 1
            if isinstance(step, int):
                if not isinstance(node, list) or not -len(node) <= step < len(node):
                    raise ValueError(node)
                if final:
                    node[step] = value
                else:
                    node[step] = node = _shallow_copy(node[step])
                    if not isinstance(node, (dict, list)):
                        raise ValueError(node)
            else:
                if not isinstance(node, dict):
                    raise ValueError(node)
                if final:
                    node[step] = value
                else:
                    child = node.get(step)
                    child = {} if child is None and step not in node else _shallow_copy(child)
                    if not isinstance(child, (dict, list)):
                        raise ValueError(child)
                    node[step] = node = child
        return root

    def __str__(self) -> str:
        return self.text


def _shallow_copy(value: Any) -> Any:
    # JSON objects and arrays are plain dicts and lists: their own copy() is what copy.copy
    # would call, without its dispatch.
    cls = value.__class__
    return value.copy() if cls is dict or cls is list else copy.copy(value)


def is_path(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("$")


# Jayway's path functions (`$.items.length()`). AWS accepts them in a Path's syntax, but its engine
# finds nothing there when the state runs: `"Jobs.$": "$.Jobs.sum()"` fails with "The JSONPath
# '$.Jobs.sum()' specified for the field 'Jobs.$' could not be found in the input '...'" (AWS re:Post,
# "AWS StepFunctions: sum() function returns error about not finding path"). A Reference Path may not
# use them at all (AWS guide, "Paths").
PATH_FUNCTION = re.compile(r"\.(?:min|max|avg|stddev|length|sum|keys|concat|append|first|last|index)\(\s*\)\s*$")


class _PathFunction:
    """Stands for the expression of a Path ending in a Jayway function: it never finds anything."""

    def __init__(self, text: str) -> None:
        self.text = text

    def find(self, document: Any) -> list:
        raise PathNotFound(self, "Functions such as length() aren't supported")  # type: ignore[arg-type]


@lru_cache(maxsize=4096)
def compile_path(text: str) -> Path:
    """Compile a Path (``$``, ``$$``, ``$var``; definite or not). Raises ValueError when invalid."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise ValueError(f"not a JSONPath: {text!r}")
    stripped = text.strip()
    function = PATH_FUNCTION.search(stripped)
    if function is not None and function.start() > 0:
        base = compile_path(stripped[:function.start()])  # the rest must be a valid Path
        return Path(text, base.root, base.variable, None, _PathFunction(text))
    m = cast("re.Match[str]", _ROOT.match(stripped))  # the text starts with "$"
    root = "context" if m.group(0) == "$$" else ("variable" if m.group("var") else "input")
    variable = m.group("var")
    rest = stripped[m.end():]
    steps = _definite_steps(rest)
    if steps is not None:
        return Path(text, root, variable, steps)
    return Path(text, root, variable, None, _parse_indefinite("$" + rest))


@lru_cache(maxsize=4096)
def compile_reference_path(text: str) -> Path:
    """Compile a Reference Path (one node; ``.`` and ``[]`` steps only). Raises ValueError."""
    path = compile_path(text)
    if not path.definite:
        raise ValueError(f"not a Reference Path: {text!r}")
    return path


def _definite_steps(rest: str) -> tuple | None:
    steps: list = []
    pos = 0
    while pos < len(rest):
        m = _STEP.match(rest, pos)
        if not m:
            return None
        if m.group("name") is not None:
            steps.append(m.group("name"))
        elif m.group("index") is not None:
            steps.append(int(m.group("index")))
        elif m.group("quoted") is not None:
            # Inside ['...'] only \' is an escape; any other backslash is kept (Jayway).
            steps.append(m.group("quoted").replace("\\'", "'"))
        else:
            steps.append(m.group("dquoted").replace('\\"', '"'))
        pos = m.end()
    return tuple(steps)


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def _parse_indefinite(text: str) -> Any:
    from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
    from jsonpath_ng.ext import parse

    # AWS accepts `.['name']`; jsonpath-ng wants `['name']`.
    normalised = re.sub(r"\.(?=\[)", "", text)
    if "=~" in _QUOTED.sub("", normalised):
        # jsonpath-ng would hand the pattern to Python's backtracking `re`: `=~ "(a+)+$"` takes a
        # minute on 30 characters. AWS's regex filter is Jayway's `=~ /.../`, not parsed here either.
        raise ValueError(f"invalid JSONPath {text!r}: regular-expression filters (=~) are not supported")
    try:
        return parse(normalised)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:  # jsonpath-ng raises bare Exceptions too
        raise ValueError(f"invalid JSONPath {text!r}: {exc}") from None
