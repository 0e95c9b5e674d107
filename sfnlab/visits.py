"""A state visit: what an execution keeps of each state it entered, besides its AWS history.

The drawings, the data-flow stepper, timelines, exercises and TestState read these. A visit
reads like a read-mostly dict (``visit["status"]``, ``visit.get("attempts")``, ``dict(visit)``), which
is how it is documented and how the notebooks use it, but it is a small object with fixed slots:
an execution makes one per state it enters, and a dict of fifteen entries costs four times the
memory and a third more time to make, which a long chain of Pass states feels (issue 8).

The keys::

    name, type, scope            # scope: () at top level, else (("Map"|"Parallel", state, index), ...)
    entered_event, exited_event, entered_time, exited_time
    status                       # SUCCEEDED | FAILED | CAUGHT | RUNNING | ABORTED
    next, error, cause, caught_by
    inspection                   # stage values under TestState's inspectionData names
    attempts                     # Task/Parallel/Map: start, end, error, retry_index, delay
    variables_at_entry           # the variables the state started with (redrive)
    children, map_run            # Map and Parallel only, once known: results kept for redrive; a Distributed Map's run
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .distributed import MapRun

__all__ = ["Visit"]

_ALWAYS = ("name", "type", "scope", "entered_event", "exited_event", "entered_time", "exited_time", "status",
           "next", "error", "cause", "caught_by", "inspection", "attempts", "variables_at_entry")
_SOMETIMES = ("children", "map_run")  # keys only some visits have: absent until set
_KEYS = frozenset(_ALWAYS + _SOMETIMES)


class Visit(Mapping):
    """One state visit of an execution (see the module docstring for its keys)."""

    __slots__ = _ALWAYS + _SOMETIMES
    # The slots in _SOMETIMES, unset until a Map or Parallel sets them (annotations only: no class attribute).
    children: Any  # results by index: a dict, or a Distributed Map's own record of them
    map_run: MapRun

    def __init__(self, name: str, type: str, scope: tuple, entered_event: int, entered_time: float,
                 inspection: dict, attempts: list | tuple = (), variables_at_entry: Any = None) -> None:
        self.name = name
        self.type = type
        self.scope = scope
        self.entered_event = entered_event
        self.exited_event: int | None = None
        self.entered_time = entered_time
        self.exited_time: float | None = None
        self.status = "RUNNING"
        self.next: str | None = None
        self.error: str | None = None
        self.cause: str | None = None
        self.caught_by: int | None = None
        self.inspection = inspection
        self.attempts = attempts
        self.variables_at_entry = variables_at_entry

    # The Mapping protocol, over the slots that are set.
    def __getitem__(self, key: str) -> Any:
        if key not in _KEYS:
            raise KeyError(key)
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        yield from _ALWAYS
        for key in _SOMETIMES:
            if hasattr(self, key):
                yield key

    def __len__(self) -> int:
        return len(_ALWAYS) + sum(1 for key in _SOMETIMES if hasattr(self, key))

    def __contains__(self, key: object) -> bool:
        return key in _KEYS and hasattr(self, key)  # type: ignore[arg-type]

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default) if key in _KEYS else default

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in _KEYS:
            raise KeyError(f"a state visit has no {key!r}; its keys are {', '.join(_ALWAYS + _SOMETIMES)}")
        setattr(self, key, value)

    def update(self, **values: Any) -> None:
        for key, value in values.items():
            self[key] = value

    def copy(self, **changes: Any) -> Visit:
        """A shallow copy, with ``changes`` applied."""
        twin = Visit.__new__(Visit)
        for key in self:
            setattr(twin, key, getattr(self, key))
        twin.update(**changes)
        return twin

    def __repr__(self) -> str:
        return f"Visit({dict(self)!r})"
