"""Errors, as two branches that mirror the Amazon States Language.

* :class:`DefinitionError`: a definition AWS would refuse (``InvalidDefinition``). It carries
  :class:`Diagnostic` records with AWS's codes (``SCHEMA_VALIDATION_FAILED``,
  ``MISSING_TRANSITION_TARGET``, ...) and JSON-Pointer locations (``/States/Charge/Retry/0``).
* :class:`StatesError`: a failure while an execution runs. ``.error`` is the exact ASL error name
  (``States.Timeout``, or a name a Task raised such as ``Lambda.Unknown``) and ``.cause`` the
  text AWS would record. One subclass per ``States.*`` name, declared from one table, so callers
  can ``except sfnlab.errors.NoChoiceMatched``.

The error-name matching rules of Retry and Catch (``States.ALL``, ``States.TaskFailed``) live in
:func:`matches`; ``States.ALL`` is matching logic, not a class.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterable


class SfnlabError(Exception):
    """Root of every error sfnlab raises on purpose."""


# ----------------------------------------------------------------------------------------------
# Definition time


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a definition, shaped like ValidateStateMachineDefinition's diagnostics."""

    code: str
    message: str
    location: str | None = None
    severity: str = "ERROR"

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" + (f" at {self.location}" if self.location else "")

    def as_dict(self) -> dict:
        out = {"severity": self.severity, "code": self.code, "message": self.message}
        if self.location is not None:
            out["location"] = self.location
        return out


class DefinitionError(SfnlabError, ValueError):
    """A state machine definition that AWS would refuse with ``InvalidDefinition``.

    The message joins the diagnostics as AWS does:
    ``Invalid State Machine Definition: 'CODE: message at /loc, CODE: message at null'`` (a
    diagnostic without a location reads ``at null``). A Map Label error is the exception: AWS
    answers with its raw text alone (``Error=ValueError Args=[...] in definition '...'.``).
    """

    # Codes whose message AWS returns as the whole InvalidDefinition text, unwrapped.
    RAW_CODES: ClassVar[frozenset[str]] = frozenset({"INVALID_LABEL_NAME"})

    def __init__(self, diagnostics: Iterable[Diagnostic] | str) -> None:
        if isinstance(diagnostics, str):
            self.diagnostics: tuple[Diagnostic, ...] = ()
            self.message = diagnostics
        else:
            self.diagnostics = tuple(diagnostics)
            raw = [d for d in self.diagnostics if d.code in self.RAW_CODES]
            if raw:
                self.message = raw[0].message
            else:
                self.message = "Invalid State Machine Definition: '" + ", ".join(
                    f"{d.code}: {d.message} at {d.location if d.location is not None else 'null'}"
                    for d in self.diagnostics
                ) + "'"
        super().__init__(self.message)


class InvalidExecutionInput(SfnlabError, ValueError):
    """An execution input that is not JSON (the API's InvalidExecutionInput)."""


# ----------------------------------------------------------------------------------------------
# Run time


class StatesError(SfnlabError):
    """A failure inside an execution: ``error`` is the ASL error name, ``cause`` its text."""

    name: ClassVar[str | None] = None

    def __init__(self, error: str | None = None, cause: str | None = None) -> None:
        self.error = error if error is not None else self.name
        self.cause = cause
        super().__init__(f"{self.error}: {cause}" if cause else str(self.error))

    @staticmethod
    def of(error: str, cause: str | None = None) -> "StatesError":
        """The most specific subclass for ``error`` (a plain StatesError for user-defined names)."""
        return BY_NAME.get(error, StatesError)(error, cause)


# The predefined error names of the ASL specification and AWS's error-handling page.
_PREDEFINED = {
    "States.Timeout": "StatesTimeout",
    "States.HeartbeatTimeout": "HeartbeatTimeout",
    "States.TaskFailed": "TaskFailed",
    "States.Permissions": "Permissions",
    "States.ResultPathMatchFailure": "ResultPathMatchFailure",
    "States.ParameterPathFailure": "ParameterPathFailure",
    "States.BranchFailed": "BranchFailed",
    "States.NoChoiceMatched": "NoChoiceMatched",
    "States.IntrinsicFailure": "IntrinsicFailure",
    "States.ExceedToleratedFailureThreshold": "ExceedToleratedFailureThreshold",
    "States.ItemReaderFailed": "ItemReaderFailed",
    "States.ResultWriterFailed": "ResultWriterFailed",
    "States.Runtime": "StatesRuntime",
    "States.DataLimitExceeded": "DataLimitExceeded",
    "States.QueryEvaluationError": "QueryEvaluationError",
    "States.Http.Socket": "HttpSocket",
}

BY_NAME: dict[str, type[StatesError]] = {}
for _error_name, _class_name in _PREDEFINED.items():
    BY_NAME[_error_name] = type(
        _class_name, (StatesError,), {"name": _error_name, "__doc__": f"The ASL error ``{_error_name}``.",
                                     "__module__": __name__}
    )
    globals()[_class_name] = BY_NAME[_error_name]

PREDEFINED_ERRORS = frozenset(_PREDEFINED) | {"States.ALL"}

# States.Runtime is never retried or caught, not even when named (recorded AWS behaviour). The
# docs also say States.ALL misses States.DataLimitExceeded, but AWS does catch a task result that
# is too large with States.ALL; an oversized *state output* is terminal and never reaches Catch.
_NOT_MATCHED_BY_ALL = frozenset({"States.Runtime"})


def matches(error_equals: Iterable[str], error: str | None) -> bool:
    """Whether a Retrier's or Catcher's ``ErrorEquals`` matches ``error``.

    ``States.ALL`` matches every error but States.Runtime; ``States.TaskFailed`` matches any
    error except ``States.Timeout`` and States.Runtime; ``States.Timeout`` also matches
    ``States.HeartbeatTimeout``; any other name matches itself only.
    States.Runtime matches nothing.
    """
    if error in _NOT_MATCHED_BY_ALL:
        return False
    if error is None:  # a failure without a name (SendTaskFailure with no error): only States.ALL
        return "States.ALL" in error_equals
    for name in error_equals:
        if name == error:
            return True
        # AWS: States.Timeout covers "ran longer than TimeoutSeconds, or failed to send a heartbeat".
        if name == "States.Timeout" and error == "States.HeartbeatTimeout":
            return True
        if name == "States.ALL" and error not in _NOT_MATCHED_BY_ALL:
            return True
        if name == "States.TaskFailed" and error not in _NOT_MATCHED_BY_ALL and error != "States.Timeout":
            return True
    return False
