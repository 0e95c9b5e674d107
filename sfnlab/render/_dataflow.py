"""The data-flow stepper: a state visit's value after each processing stage.

Stage names are those of AWS TestState's ``inspectionData`` (``input``, ``afterInputPath``,
``afterParameters``, ``result``, ``afterResultSelector``, ``afterResultPath``, ``output``; in
JSONata ``afterArguments`` and ``variables``), and only the stages that ran are shown.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Final, Mapping

import graphviz

from . import labels
from ._html import CELL, HEAD, TABLE, folded, pretty
from .graph import Drawing
from .overlay import records_of
from .style import attributes

__all__ = ["DataFlow", "dataflow", "STAGES"]

# stage -> (the definition field that produced it, how to say what it did)
STAGES: Final[Mapping[str, tuple[str, str]]] = {
    "input": ("", "the state's raw input"),
    "afterInputPath": ("InputPath", "InputPath selects part of the input"),
    "afterItemsPath": ("ItemsPath", "ItemsPath selects the array to iterate over"),
    "afterParameters": ("Parameters", "Parameters builds the effective input"),
    "afterArguments": ("Arguments", "Arguments builds the effective input"),
    "variables": ("Assign", "variables after Assign"),
    "result": ("Resource", "the state's result"),
    "afterResultSelector": ("ResultSelector", "ResultSelector reshapes the result"),
    "afterResultPath": ("ResultPath", "ResultPath puts the result into the raw input"),
    "output": ("OutputPath", "OutputPath selects the output"),
}
# Which field produces "result", by state type (Task: its Resource).
_RESULT_FIELD: Final[Mapping[str, str]] = {"Pass": "Result", "Parallel": "Branches", "Map": "ItemProcessor",
                                           "Task": "Resource"}
_VALUE_WIDTH: Final = 26  # characters per line of a value inside a diagram box
_VALUE_LINES: Final = 6


@dataclass(frozen=True)
class Stage:
    """One row: the stage's name, the definition text that produced it, the value after it."""

    name: str
    field: str
    definition: Any
    value: Any


@dataclass(frozen=True)
class DataFlow:
    """One visit of a state, stage by stage. Displays as an HTML table in Jupyter."""

    state: str
    type: str
    visit: int
    visits: int
    stages: tuple[Stage, ...]
    record: Mapping[str, Any]

    def __getitem__(self, stage: str) -> Any:
        """The value after ``stage`` (an inspectionData name)."""
        for row in self.stages:
            if row.name == stage:
                return row.value
        raise KeyError(stage)

    @property
    def inspection(self) -> dict[str, Any]:
        """The stages as AWS TestState's ``inspectionData`` (values as JSON values)."""
        return {row.name: row.value for row in self.stages}

    def _caption(self) -> str:
        scope = "".join(f" · {kind} {owner} #{index}" for kind, owner, index in self.record.get("scope", ()))
        visit = f" (visit {self.visit + 1} of {self.visits})" if self.visits > 1 else ""
        status = self.record.get("status", "")
        return f"{self.state} · {self.type}{scope}{visit} · {status}"

    def _repr_html_(self) -> str:
        rows = []
        for row in self.stages:
            definition = "" if row.definition is None else labels.shorten(
                row.definition if isinstance(row.definition, str) else pretty(row.definition), 120)
            how = f"<b>{html.escape(row.field)}</b> <code>{html.escape(definition)}</code>" if row.field else ""
            rows.append(f"<tr><td style='{CELL}'><code>{html.escape(row.name)}</code></td>"
                        f"<td style='{CELL}'>{how}</td><td style='{CELL}'>{folded(pretty(row.value))}</td></tr>")
        error = ""
        if self.record.get("error"):
            error = (f"<div style='color:#b91c1c'><b>{html.escape(self.record['error'])}</b> "
                     f"{html.escape(labels.shorten(labels.cause_text(self.record.get('cause') or ''), 300))}</div>")
        return (f"<div><b>{html.escape(self._caption())}</b></div>{error}"
                f"<table style='{TABLE}'><tr><th style='{HEAD}'>stage</th><th style='{HEAD}'>by</th>"
                f"<th style='{HEAD}'>value</th></tr>{''.join(rows)}</table>")

    def diagram(self) -> graphviz.Digraph:
        """The stages left to right: one box per value, arrows labelled with the field applied."""
        graph = Drawing(name="dataflow", graph_attr={**attributes("graph"), "rankdir": "LR", "ranksep": "0.4"},
                        node_attr=attributes("node"), edge_attr=attributes("edge"))
        graph.attr(label=f"<<b>{html.escape(self._caption())}</b>>")
        previous = None
        for index, row in enumerate(self.stages):
            node_id = f"s{index}"
            lines = labels.wrap(labels.to_text(row.value), _VALUE_WIDTH, max_lines=_VALUE_LINES)
            value = "".join(f'{html.escape(line)}<br align="left"/>' for line in lines)
            graph.node(node_id, label=f"<<b>{html.escape(row.name)}</b><br/>{value}>",
                       **attributes("node", "Pass", default=False))
            if previous is not None:
                how = row.field
                if isinstance(row.definition, str):
                    shown = labels.resource_text(row.definition) if row.field == "Resource" else row.definition
                    how += "\n" + labels.shorten(shown, _VALUE_WIDTH)
                graph.edge(previous, node_id, label=how or " ", **attributes("edge", "next", default=False))
            previous = node_id
        return graph


def _stage_definition(raw: Mapping[str, Any], field: str) -> Any:
    return raw.get(field) if field else None


def dataflow(execution: Any, state_name: str, *, visit: int = 0) -> DataFlow:
    """The data flow of visit number ``visit`` (0-based) of ``state_name`` in ``execution``.

    Raises:
        KeyError: the state was never entered, or not that many times.
    """
    visits = [r for r in records_of(execution) if r["name"] == state_name]
    if not visits:
        raise KeyError(f"state {state_name!r} was not entered in this execution")
    if not -len(visits) <= visit < len(visits):
        raise KeyError(f"state {state_name!r} was entered {len(visits)} times; no visit {visit}")
    record = visits[visit]
    machine = getattr(execution, "machine", None)
    raw: Mapping[str, Any] = {}
    if machine is not None:
        try:
            raw = machine.state(state_name).raw
        except KeyError:
            raw = {}
    inspection: Mapping[str, Any] = record.get("inspection") or {}
    order = [name for name in STAGES if name in inspection] + [n for n in inspection if n not in STAGES]
    stages = []
    for name in order:
        field = STAGES.get(name, ("", ""))[0]
        if name == "result":
            field = _RESULT_FIELD.get(record.get("type", ""), "")
        if name == "afterParameters" and "ItemSelector" in raw:
            field = "ItemSelector"
        if name == "output" and "Output" in raw:
            field = "Output"
        stages.append(Stage(name, field, _stage_definition(raw, field), inspection[name]))
    return DataFlow(state_name, record.get("type", ""), visit % len(visits), len(visits), tuple(stages), record)
