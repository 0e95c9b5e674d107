"""The pythonic surface for notebooks and scripts: ``StateMachine(definition).run(input)``.

It runs on the same engine as :func:`sfnlab.client`, without the boto3 ceremony::

    >>> import sfnlab
    >>> sm = sfnlab.StateMachine({
    ...     "StartAt": "Greet",
    ...     "States": {"Greet": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('Hello, {}!', $.name)"},
    ...                          "End": True}}})
    >>> execution = sm.run({"name": "Ada"})
    >>> execution.status, execution.output
    ('SUCCEEDED', {'greeting': 'Hello, Ada!'})

A StateMachine keeps one local account (clock, Lambda functions, random source) across runs, so
a second run starts where the virtual clock of the first one stopped.
"""
from __future__ import annotations

import json
import re
from pathlib import Path as FilePath
from typing import Any, Callable, Mapping

from .clock import VirtualClock
from .definition import Machine, load
from .engine import Execution, ExecutionInfo, Runtime, start
from .errors import DefinitionError, Diagnostic, InvalidExecutionInput
from .history import to_json
from .validation import MAX_DEPTH, MESSAGES, too_deep

__all__ = ["StateMachine", "Execution", "load_definition"]

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
_NAME = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$")


def load_definition(source: str | bytes | Mapping[str, Any] | FilePath) -> str | bytes | Mapping[str, Any]:
    """A definition given as a dict, JSON text, or a path to a ``.json``/``.asl.json`` file."""
    if isinstance(source, FilePath):
        return source.read_text()
    if isinstance(source, str) and not source.lstrip().startswith("{") and source.endswith(".json"):
        return FilePath(source).read_text()
    return source


class StateMachine:
    """A compiled state machine with its own local account.

    Args:
        definition: the ASL as a dict, JSON text, or a path to a JSON file.
        name: the state machine's name (it appears in ARNs and in ``$$.StateMachine.Name``).
        functions: Lambda functions by name, ``handler(event, context)``.
        runtime: share a :class:`~sfnlab.engine.Runtime` (clock, functions) with other machines.
        start_time: where the virtual clock starts (epoch seconds or a datetime); default now.
        seed: seed of the random source (jitter, States.UUID, States.MathRandom).
        type: "STANDARD" or "EXPRESS".

    Raises:
        DefinitionError: the definition is invalid (AWS's codes and locations in ``.diagnostics``).
    """

    def __init__(self, definition: str | bytes | Mapping[str, Any] | FilePath, *, name: str = "StateMachine",
                 functions: Mapping[str, Callable] | None = None, runtime: Runtime | None = None,
                 start_time: Any = None, seed: int | None = 0, type: str = "STANDARD",
                 role_arn: str | None = None) -> None:
        if not _NAME.match(name):
            raise ValueError(f"Invalid Name: '{name}'")
        self.machine: Machine = load(load_definition(definition))
        self.name = name
        self.type = type
        if runtime is None:
            runtime = Runtime(functions=dict(functions or {}), clock=VirtualClock(start_time), seed=seed,
                              region=DEFAULT_REGION, account=DEFAULT_ACCOUNT)
        elif functions:
            runtime.functions.update(functions)
        self.runtime = runtime
        self.arn = f"arn:aws:states:{runtime.region}:{runtime.account}:stateMachine:{name}"
        self.role_arn = role_arn or f"arn:aws:iam::{runtime.account}:role/StepFunctionsRole"
        self.executions: list[Execution] = []

    # -- properties -----------------------------------------------------------------------------
    @property
    def definition(self) -> Mapping[str, Any]:
        return self.machine.definition

    @property
    def states(self) -> list[str]:
        """Names of every state, nested ones included, in definition order."""
        return [s.name for s in self.machine.all_states()]

    # -- running --------------------------------------------------------------------------------
    def run(self, input: Any = None, *, name: str | None = None) -> Execution:
        """Start an execution and run it as far as it goes (to its end, or until it waits outside).

        Args:
            input: the execution input: a JSON value, or JSON text when ``input_is_text``.
            name: the execution name (default: a UUID from the seeded random source).
        """
        if input is None:
            input = {}
        try:
            input_text = to_json(input)
        except (TypeError, ValueError) as exc:
            raise InvalidExecutionInput(f"Invalid State Machine Execution Input: the input must be JSON data "
                                        f"(dict, list, str, int, float, bool or None): {exc}") from None
        except RecursionError:  # deeper than Python's encoder goes
            input_text = ""
        if not input_text or too_deep(input, input_text):
            raise InvalidExecutionInput(f"Invalid State Machine Execution Input: "
                                        f"'{MESSAGES['too_deep'].format(limit=MAX_DEPTH)}'")
        if name is None:
            name = _uuid(self.runtime)
        if not _NAME.match(name):
            raise ValueError(f"Invalid Name: '{name}'")
        info = ExecutionInfo(
            arn=f"arn:aws:states:{self.runtime.region}:{self.runtime.account}:execution:{self.name}:{name}",
            name=name,
            state_machine_arn=self.arn,
            state_machine_name=self.name,
            role_arn=self.role_arn,
            type=self.type,
        )
        execution = start(self.machine, self.runtime, info, json.loads(input_text), input_text)
        self.executions.append(execution)
        return execution

    def advance(self, seconds: float) -> None:
        """Move the virtual clock forward, firing timers (task-token timeouts, heartbeats)."""
        self.runtime.scheduler.advance(seconds)

    # -- display --------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<StateMachine {self.name}: {len(self.states)} states, StartAt={self.machine.graph.start_at!r}>"

    def draw(self, execution: Execution | None = None):
        """The drawing (a ``graphviz.Digraph``), with an execution's path when one is given."""
        from .render import draw

        return draw(self, execution)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        from .display import machine_html

        bundle = {"text/plain": repr(self), "text/html": machine_html(self)}
        try:
            bundle.update(self.draw()._repr_mimebundle_(include, exclude))
        except Exception:  # noqa: BLE001 - without dot, the table still shows
            pass
        return bundle


def _uuid(runtime: Runtime) -> str:
    import uuid

    return str(uuid.UUID(int=runtime.random.getrandbits(128), version=4))


def validate(definition: str | Mapping[str, Any] | FilePath) -> list[Diagnostic]:
    """AWS's static checks of a definition: an empty list when it is valid."""
    from .validation import validate as static_checks

    return static_checks(load_definition(definition))


__all__ += ["validate", "DefinitionError"]
