"""What an execution did, in the terms of the drawing: per-state outcomes and numbered edges.

Built from ``Execution.records`` (one :class:`~sfnlab.visits.Visit` per state visit, read like a
dict, in the order the states were entered; see :func:`records_of`). Nothing here knows graphviz.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from .. import definition as d
from .model import START, Diagram, EdgeKey

__all__ = ["Overlay", "EdgeUse", "StateOutcome", "GroupOutcome", "Failure", "overlay", "records_of", "OUTCOME_PRIORITY"]

Record = Mapping[str, Any]

# record status -> the style variant and word used for it
OUTCOME_WORDS: Mapping[str, str] = {
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "CAUGHT": "caught",
    "ABORTED": "aborted",
    "RUNNING": "running",
}
# When a state was visited several times, the outcome shown is the most urgent one.
OUTCOME_PRIORITY: tuple[str, ...] = ("running", "failed", "aborted", "caught", "succeeded")


def records_of(execution: Any) -> list[Mapping[str, Any]]:
    """The state visits of an execution (``Execution.records``)."""
    records = getattr(execution, "records", None)
    if records is None:
        raise TypeError("this execution has no .records (state visits); sfnlab's engine records them")
    return list(records)


@dataclass(frozen=True)
class StateOutcome:
    """How the visits of one state went."""

    name: str
    visits: int
    counts: Mapping[str, int]  # outcome word -> number of visits
    retries: int = 0
    caught: tuple[str, ...] = ()  # errors caught by this state's Catch
    errors: tuple[str, ...] = ()  # errors it failed with

    @property
    def outcome(self) -> str:
        return next((word for word in OUTCOME_PRIORITY if self.counts.get(word)), "succeeded")

    def summary(self) -> str:
        """``succeeded``, ``caught PaymentDeclined``, ``×5: 4 succeeded, 1 failed``."""
        if self.visits == 1:
            word = self.outcome
            extra = {"caught": self.caught, "failed": self.errors}.get(word, ())
            return f"{word} {', '.join(extra)}".strip()
        parts = [f"{self.counts[w]} {w}" for w in reversed(OUTCOME_PRIORITY) if self.counts.get(w)]
        return f"×{self.visits}: " + ", ".join(parts)


@dataclass(frozen=True)
class GroupOutcome:
    """Map iterations or Parallel branches of one state, by outcome."""

    name: str
    unit: str  # "iteration" | "branch"
    counts: Mapping[str, int]

    def summary(self) -> str:
        total = sum(self.counts.values())
        unit = self.unit if total == 1 else ("branches" if self.unit == "branch" else "iterations")
        parts = [f"{self.counts[w]} {w}" for w in reversed(OUTCOME_PRIORITY) if self.counts.get(w)]
        return f"{total} {unit}: " + ", ".join(parts)


@dataclass(frozen=True)
class EdgeUse:
    """How an edge was used: its step numbers, or only a count inside Map iterations.

    Inside a Map's item processor the iterations interleave, so numbering their moves would
    tell nothing: those edges are counted (``×5``), and the numbering outside goes on 1, 2, 3.
    """

    steps: tuple[int, ...] = ()
    count: int = 0


@dataclass(frozen=True)
class Failure:
    """Where a failed (timed out, aborted) execution stopped, and why."""

    state: str | None
    status: str
    error: str | None
    cause: str | None


@dataclass(frozen=True)
class Overlay:
    """An execution projected on a :class:`~sfnlab.render.model.Diagram`."""

    states: Mapping[str, StateOutcome]
    edges: Mapping[EdgeKey, EdgeUse]
    groups: Mapping[str, GroupOutcome] = field(default_factory=dict)
    failure: Failure | None = None
    status: str = "SUCCEEDED"
    focus: str | None = None


def _word(record: Record) -> str:
    return OUTCOME_WORDS.get(record.get("status", "SUCCEEDED"), "succeeded")


def _out_key(record: Record, state: d.State | None) -> EdgeKey | None:
    """The edge a finished visit left by (None: it did not leave, or left the graph)."""
    name = record["name"]
    target = record.get("next")
    if record.get("status") == "CAUGHT":
        index = record.get("caught_by")
        if index is None and state is not None:
            index = next((i for i, c in enumerate(getattr(state, "catch", ())) if c.next == target), None)
        return (name, "catch", index) if index is not None else None
    if record.get("status", "SUCCEEDED") != "SUCCEEDED":
        return None
    if target is None:
        return (name, "end")
    if isinstance(state, d.ChoiceState):
        index = next((i for i, b in enumerate(state.choices) if b.next == target), None)
        return (name, "choice", index) if index is not None else (name, "default")
    return (name, "next")


def _entry_key(scope: tuple) -> EdgeKey:
    if not scope:
        return (START,)
    kind, owner, index = scope[-1]
    return (owner, "branch", index if kind == "Parallel" else 0)


def _in_map(scope: tuple) -> bool:
    return any(part[0] == "Map" for part in scope)


def _steps(records: Sequence[Record], states: Mapping[str, d.State]) -> dict[EdgeKey, EdgeUse]:
    """Edges taken: numbered in the order taken, or counted inside Map iterations."""
    moves: list[tuple[int, int, EdgeKey, bool]] = []  # (event id, tie-breaker, edge, counted only)
    last: dict[tuple, Record] = {}
    for order, record in enumerate(records):
        scope = tuple(record.get("scope", ()))
        counted = _in_map(scope)
        previous = last.get(scope)
        entered = record.get("entered_event", order)
        if previous is None or previous.get("next") is None:
            moves.append((entered, order, _entry_key(scope), counted))
        else:
            key = _out_key(previous, states.get(previous["name"]))
            if key is not None:
                moves.append((entered, order, key, counted))
        last[scope] = record
        if record.get("next") is None and record.get("status", "SUCCEEDED") == "SUCCEEDED" \
                and record.get("exited_event") is not None:
            moves.append((record["exited_event"], order, (record["name"], "end"), counted))
    moves.sort(key=lambda m: (m[0], m[1]))
    steps: dict[EdgeKey, list[int]] = {}
    counts: Counter = Counter()
    step = 0
    for _, _, key, counted in moves:
        counts[key] += 1
        if not counted:
            step += 1
            steps.setdefault(key, []).append(step)
    return {key: EdgeUse(tuple(steps.get(key, ())), n) for key, n in counts.items()}


def _state_outcomes(records: Sequence[Record]) -> dict[str, StateOutcome]:
    by_name: dict[str, list[Record]] = {}
    for record in records:
        by_name.setdefault(record["name"], []).append(record)
    outcomes = {}
    for name, visits in by_name.items():
        counts = Counter(_word(r) for r in visits)
        retries = sum(sum(1 for a in r.get("attempts") or () if a.get("retry_index") is not None) for r in visits)
        caught = tuple(dict.fromkeys(r["error"] for r in visits if r.get("status") == "CAUGHT" and r.get("error")))
        errors = tuple(dict.fromkeys(r["error"] for r in visits if r.get("status") == "FAILED" and r.get("error")))
        outcomes[name] = StateOutcome(name, len(visits), dict(counts), retries, caught, errors)
    return outcomes


def _groups(records: Sequence[Record]) -> dict[str, GroupOutcome]:
    """Outcome of each Map iteration / Parallel branch: that of the last state entered in it."""
    last_in_scope: dict[tuple, Record] = {}
    for record in records:
        scope = tuple(record.get("scope", ()))
        if scope:
            last_in_scope[scope] = record
    counts: dict[str, Counter] = {}
    units: dict[str, str] = {}
    for scope, record in last_in_scope.items():
        kind, owner, _ = scope[-1]
        word = _word(record)
        if word == "succeeded" and record.get("next") is not None:
            word = "running" if record.get("exited_event") is None else word
        counts.setdefault(owner, Counter())[word] += 1
        units[owner] = "branch" if kind == "Parallel" else "iteration"
    return {owner: GroupOutcome(owner, units[owner], dict(c)) for owner, c in counts.items()}


def _failure(execution: Any, records: Sequence[Record]) -> Failure | None:
    status = getattr(execution, "status", "SUCCEEDED")
    if status in ("SUCCEEDED", "RUNNING"):
        return None
    error, cause = getattr(execution, "error", None), getattr(execution, "cause", None)
    failed = [r for r in records if r.get("status") in ("FAILED", "ABORTED", "RUNNING")]
    origin = next((r for r in reversed(failed) if not r.get("scope")), None)
    while origin is not None:
        inside = tuple(origin.get("scope", ()))
        children = [r for r in failed if r.get("status") == "FAILED"
                    and len(r.get("scope", ())) == len(inside) + 1
                    and tuple(r["scope"][:len(inside)]) == inside and r["scope"][-1][1] == origin["name"]]
        if not children:
            break
        origin = next((r for r in children if r.get("error") == error), children[0])
    return Failure(origin["name"] if origin else None, status, error, cause)


def overlay(diagram: Diagram, execution: Any, *, records: Iterable[Record] | None = None,
            focus: str | None = None) -> Overlay:
    """Project ``execution`` (its records, unless ``records`` is given) onto ``diagram``."""
    visits = list(records) if records is not None else records_of(execution)
    return Overlay(
        states=_state_outcomes(visits),
        edges=_steps(visits, diagram.states),
        groups=_groups(visits),
        # a prefix of the visits (the stepper) has not failed yet
        failure=_failure(execution, visits) if records is None else None,
        status=getattr(execution, "status", "SUCCEEDED"),
        focus=focus,
    )
