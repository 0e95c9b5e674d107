"""The floor: the least a Python interpreter of these workloads has to do, as a plain loop.

``compile_floor(definition)`` turns a B1–B4 definition (and the B3 series) into nested closures
once, as sfnlab does at ``create_state_machine``; ``run(input)`` then runs it. Per state it does
what any interpreter of ASL in CPython must do at least: look the state up by name, dispatch
on its type, read the JsonPaths it uses (already split into keys, never parsed again), build
the new value (a new dict, the input never changed in place), take the Choice, and append one
history event (a dict with timestamp, type, id, previousEventId and a details dict holding
the state's name and its input or output) for every event AWS writes: ExecutionStarted,
``*StateEntered``/``*StateExited``, MapStateStarted, MapIterationStarted/Succeeded, ... So
it makes as many history events as sfnlab.

It does *not* do what AWS semantics add on top, which sfnlab must: JSON text of every input
and output in the history and its 256 KiB check, the context object, error handling
(Retry/Catch, States.Runtime for a missing path), records for the drawings, the int32 checks
of States.MathAdd, the 25,000-event limit, a scheduler for Map/Parallel (the floor runs
iterations and branches one after another). It supports only what the workloads use: Pass
with Parameters (constants, ``$.a.b`` paths, ``States.MathAdd``) and ResultPath, Choice with
one NumericLessThan or NumericGreaterThanEquals rule and a Default, Succeed, Map (ItemsPath,
ItemProcessor), Parallel, and OutputPath on Succeed.
"""
from __future__ import annotations

import re
from typing import Any, Callable

_MATH_ADD = re.compile(r"States\.MathAdd\((.*),(.*)\)$")
_COMPARE = {"NumericLessThan": lambda a, b: a < b, "NumericGreaterThanEquals": lambda a, b: a >= b}


def _keys(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.strip()[1:].split(".") if part)


def _reader(path: str) -> Callable[[Any], Any]:
    keys = _keys(path)

    def read(value: Any) -> Any:
        for key in keys:
            value = value[key]
        return value

    return read


def _argument(text: str) -> Callable[[Any], Any]:
    """A path or an integer literal (the workloads' States.MathAdd arguments)."""
    text = text.strip()
    if text.startswith("$"):
        return _reader(text)
    number = int(text)
    return lambda value: number


def _field(key: str, spec: Any) -> tuple[str, Callable[[Any], Any]]:
    if not key.endswith(".$"):
        return key, lambda value: spec
    m = _MATH_ADD.match(spec)
    if m:
        a, b = _argument(m.group(1)), _argument(m.group(2))
        return key[:-2], lambda value: a(value) + b(value)
    return key[:-2], _reader(spec)


def _template(parameters: dict) -> Callable[[Any], dict]:
    fields = [_field(k, v) for k, v in parameters.items()]
    return lambda value: {key: fn(value) for key, fn in fields}


class Floor:
    """One run's history (a list of event dicts) and the clock value its events carry."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.now = 1_700_000_000.0

    def event(self, kind: str, previous: int, details_key: str | None = None, details: dict | None = None) -> int:
        events = self.events
        event_id = len(events) + 1
        event = {"timestamp": self.now, "type": kind, "id": event_id, "previousEventId": previous}
        if details_key is not None:
            event[details_key] = details
        events.append(event)
        return event_id


def _graph(definition: dict) -> Callable[[Floor, Any, int], tuple[Any, int]]:
    """A graph (StartAt + States) as a function ``(floor, input, previous event) -> (output, previous)``."""
    states: dict[str, tuple] = {}
    for name, raw in definition["States"].items():
        kind = raw["Type"]
        nxt = None if raw.get("End") else raw.get("Next")
        if kind == "Pass":
            work = _pass(raw)
        elif kind == "Choice":
            work = _choice(raw)
        elif kind == "Succeed":
            work = _succeed(raw)
        elif kind == "Map":
            work = _map(name, raw)
        elif kind == "Parallel":
            work = _parallel(raw)
        else:
            raise ValueError(f"the floor does not run {kind} states")
        states[name] = (kind, kind + "StateEntered", kind + "StateExited", work, nxt)
    start = definition["StartAt"]

    def run(floor: Floor, value: Any, prev: int) -> tuple[Any, int]:
        name = start
        while name is not None:
            kind, entered, exited, work, nxt = states[name]
            prev = floor.event(entered, prev, "stateEnteredEventDetails", {"name": name, "input": value})
            if kind == "Choice":
                nxt = work(value)
            elif work is not None:
                value, prev = work(floor, value, prev)
            prev = floor.event(exited, prev, "stateExitedEventDetails", {"name": name, "output": value})
            name = nxt
        return value, prev

    return run


def _pass(raw: dict) -> Callable:
    parameters = _template(raw["Parameters"]) if "Parameters" in raw else None
    result_path = raw.get("ResultPath", "$")
    keys = _keys(result_path) if result_path else None

    def work(floor: Floor, value: Any, prev: int) -> tuple[Any, int]:
        result = parameters(value) if parameters is not None else value
        if keys is None:
            return value, prev
        if not keys:
            return result, prev
        merged = dict(value)  # ResultPath writes into a copy: the input is never changed in place
        node = merged
        for key in keys[:-1]:
            node[key] = node = dict(node.get(key) or {})
        node[keys[-1]] = result
        return merged, prev

    return work


def _succeed(raw: dict) -> Callable | None:
    if "OutputPath" not in raw:
        return None
    read = _reader(raw["OutputPath"])
    return lambda floor, value, prev: (read(value), prev)


def _choice(raw: dict) -> Callable[[Any], str]:
    rules = []
    for rule in raw["Choices"]:
        op = next(k for k in _COMPARE if k in rule)
        rules.append((_reader(rule["Variable"]), _COMPARE[op], rule[op], rule["Next"]))
    default = raw.get("Default")

    def choose(value: Any) -> str:
        for read, compare, against, nxt in rules:
            if compare(read(value), against):
                return nxt
        return default

    return choose


def _map(name: str, raw: dict) -> Callable:
    items_of = _reader(raw.get("ItemsPath", "$"))
    body = _graph(raw.get("ItemProcessor") or raw["Iterator"])

    def work(floor: Floor, value: Any, prev: int) -> tuple[Any, int]:
        items = items_of(value)
        prev = floor.event("MapStateStarted", prev, "mapStateStartedEventDetails", {"length": len(items)})
        results = []
        for index, item in enumerate(items):
            details = {"index": index, "name": name}
            prev = floor.event("MapIterationStarted", prev, "mapIterationStartedEventDetails", details)
            output, prev = body(floor, item, prev)
            results.append(output)
            prev = floor.event("MapIterationSucceeded", prev, "mapIterationSucceededEventDetails", details)
        prev = floor.event("MapStateSucceeded", prev)
        return results, prev

    return work


def _parallel(raw: dict) -> Callable:
    branches = [_graph(b) for b in raw["Branches"]]

    def work(floor: Floor, value: Any, prev: int) -> tuple[Any, int]:
        prev = floor.event("ParallelStateStarted", prev)
        results = []
        last = prev
        for branch in branches:
            output, end = branch(floor, value, prev)
            results.append(output)
            last = max(last, end)
        return results, floor.event("ParallelStateSucceeded", last)

    return work


def compile_floor(definition: dict) -> Callable[[Any], tuple[Any, list[dict]]]:
    """Compile once; the returned ``run(input)`` gives ``(output, history events)``."""
    graph = _graph(definition)

    def run(value: Any) -> tuple[Any, list[dict]]:
        floor = Floor()
        prev = floor.event("ExecutionStarted", 0, "executionStartedEventDetails", {"input": value})
        output, prev = graph(floor, value, 0)
        floor.event("ExecutionSucceeded", prev, "executionSucceededEventDetails", {"output": output})
        return output, floor.events

    return run
