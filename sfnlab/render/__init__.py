"""Drawings of state machines and executions, the data-flow stepper, timelines and histories.

Draw a definition; the ``graphviz.Digraph`` displays itself (SVG) in Jupyter::

    >>> import sfnlab, sfnlab.render
    >>> sm = sfnlab.StateMachine({"StartAt": "Hello", "States": {
    ...     "Hello": {"Type": "Pass", "Next": "Done"}, "Done": {"Type": "Succeed"}}})
    >>> graph = sfnlab.render.draw(sm)
    >>> [line.strip() for line in graph.source.splitlines() if "->" in line][0]
    '__start__ -> Hello'

With an execution, the path it took is numbered and every visited state is coloured by outcome::

    >>> execution = sm.run({})
    >>> overlaid = sfnlab.render.draw(sm, execution)            # or draw(execution)

Also here: :func:`dataflow` (a state's value after each processing stage, in AWS TestState's
``inspectionData`` names), :func:`timeline` (virtual time: attempts, back-off, Map lanes),
:func:`history_table` and :func:`save` (PNG/SVG/DOT files). The pipeline is definition ->
:mod:`~sfnlab.render.model` (a frozen intermediate graph) -> :mod:`~sfnlab.render.graph`
(``graphviz.Digraph``), styled from the one table in :mod:`~sfnlab.render.style`.
"""
from __future__ import annotations

import pathlib
import re
from typing import Any, Iterable, Mapping

import graphviz

from .. import definition as d
from ._dot import bundled_dot, configure_dot
from .graph import to_digraph
from .model import Diagram, build
from ._dataflow import STAGES, DataFlow, dataflow
from ._history import HistoryTable, history_table
from ._timeline import Timeline, timeline
from .overlay import Overlay, overlay, records_of

__all__ = ["draw", "diagram", "save", "configure_dot", "bundled_dot", "dataflow", "timeline", "history_table",
           "DataFlow", "Timeline", "HistoryTable", "records_of", "STAGES"]

configure_dot()

SAVE_FORMATS: Mapping[str, str] = {".svg": "svg", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg",
                                   ".dot": "dot", ".gv": "dot", ".json": "json"}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PNG_DPI = 110  # a PNG is for a slide or a README: sharper than the 72 dpi default


def _machine(source: Any) -> d.Machine:
    """A compiled Machine from a Machine, a StateMachine/Execution (``.machine``) or a definition."""
    if isinstance(source, d.Machine):
        return source
    inner = getattr(source, "machine", None)
    if isinstance(inner, d.Machine):
        return inner
    if isinstance(source, (str, dict)):
        return d.load(source)
    raise TypeError(f"cannot draw {type(source).__name__}: pass a StateMachine, Execution, Machine or definition")


def diagram(machine: Any) -> Diagram:
    """The intermediate graph (nodes, edges, clusters) of a machine, before styling."""
    return build(_machine(machine))


def draw(machine: Any, execution: Any = None, *, focus: str | None = None,
         records: Iterable[Mapping[str, Any]] | None = None, title: str | None = None) -> graphviz.Digraph:
    """Draw a state machine, and the path an execution took through it.

    Args:
        machine: a :class:`~sfnlab.StateMachine`, an :class:`~sfnlab.Execution` (then its
            execution is overlaid), a compiled Machine, or a definition (dict or JSON text).
        execution: an execution of ``machine`` to overlay: states coloured by outcome, edges
            numbered in the order taken, Map/Parallel counts, the failing state's Error and Cause.
        focus: a state to highlight (the stepper's current state).
        records: state visits to overlay instead of ``execution.records`` (e.g. a prefix of them).
        title: the caption (default: the definition's Comment, plus the execution's outcome).

    Returns:
        A ``graphviz.Digraph``: it shows itself as SVG in Jupyter; ``.source`` is the DOT text.
    """
    if execution is None and hasattr(machine, "events") and hasattr(machine, "status"):
        execution = machine
    compiled = _machine(machine)
    built = build(compiled)
    layer: Overlay | None = None
    caption = title
    if execution is not None or records is not None:
        layer = overlay(built, execution, records=records, focus=focus)
        if title is None and execution is not None:
            caption = _execution_caption(built.title, execution)
    elif focus is not None:
        layer = Overlay(states={}, edges={}, focus=focus)
    return to_digraph(built, layer, title=caption)


def _execution_caption(comment: str, execution: Any) -> str:
    parts = [comment] if comment else []
    status = getattr(execution, "status", "")
    stop = getattr(execution, "stop_time", None)
    start = getattr(execution, "start_time", None)
    name = getattr(getattr(execution, "info", None), "name", None)
    if name and _UUID.match(name):
        name = None  # a generated name says nothing on a slide
    text = f"Execution {name}: {status}" if name else f"Execution {status}"
    if stop is not None and start is not None:
        text += f" after {stop - start:g}s (virtual)"
    parts.append(text)
    return " · ".join(parts)


def save(graph: graphviz.Digraph, path: str | pathlib.Path, *, dpi: int = PNG_DPI) -> pathlib.Path:
    """Write a drawing to ``path``; the format follows the suffix (.svg, .png, .jpg, .dot, .json)."""
    target = pathlib.Path(path)
    fmt = SAVE_FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ValueError(f"unknown file type {target.suffix!r}: must be one of {', '.join(SAVE_FORMATS)}")
    if fmt == "dot":
        target.write_text(graph.source)
        return target
    if fmt in ("png", "jpeg"):
        graph = graph.copy()
        graph.attr(dpi=str(dpi))
    target.write_bytes(graph.pipe(format=fmt))
    return target
