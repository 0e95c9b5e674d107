"""Jupyter widgets: :class:`Stepper` walks through an execution state visit by state visit.

It shows the machine's drawing with the current state highlighted and that visit's data flow
(values after each stage, in AWS TestState's ``inspectionData`` names). All behaviour is in
plain methods (:meth:`Stepper.next`, :meth:`Stepper.previous`, :meth:`Stepper.go`), so it is
testable without a browser: the buttons and the dropdown only call them.
"""
from __future__ import annotations

import html
from typing import Any, Mapping

import graphviz
import ipywidgets as widgets

from .render import dataflow, draw, records_of

__all__ = ["Stepper"]


def _svg(graph: graphviz.Digraph) -> str:
    """The drawing as inline SVG; its DOT source when no ``dot`` program can be run."""
    try:
        return graph.pipe(format="svg", encoding="utf-8")
    except (graphviz.ExecutableNotFound, graphviz.CalledProcessError) as exc:
        return (f"<p><i>cannot run dot ({html.escape(type(exc).__name__)}); DOT source:</i></p>"
                f"<pre>{html.escape(graph.source)}</pre>")


class Stepper:
    """Step through an execution's state visits: Previous / Next buttons and a jump-to dropdown.

    Attributes:
        index: the current visit (0-based, into :attr:`records`).
        records: the execution's state visits in the order they were entered.
    """

    def __init__(self, execution: Any, *, index: int = 0) -> None:
        self.execution = execution
        self.records = records_of(execution)
        self.index = 0
        self.previous_button = widgets.Button(description="◀ Previous", layout=widgets.Layout(width="120px"))
        self.next_button = widgets.Button(description="Next ▶", layout=widgets.Layout(width="120px"))
        self.dropdown = widgets.Dropdown(options=self._options(), description="Visit",
                                         layout=widgets.Layout(width="420px"))
        self.position = widgets.HTML()
        self.graph_view = widgets.HTML()
        self.flow_view = widgets.HTML()
        self.previous_button.on_click(lambda _: self.previous())
        self.next_button.on_click(lambda _: self.next())
        self.dropdown.observe(self._on_dropdown, names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.previous_button, self.next_button, self.dropdown, self.position]),
            widgets.HBox([self.graph_view, self.flow_view]),
        ])
        self.go(index)

    def _options(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        options = []
        for i, record in enumerate(self.records):
            counts[record["name"]] = counts.get(record["name"], 0) + 1
            scope = "".join(f" [{owner} #{index}]" for _, owner, index in record.get("scope", ()))
            options.append((f"{i + 1}. {record['name']}{scope} ({record.get('status', '').lower()})", i))
        return options

    # -- behaviour --------------------------------------------------------------------------
    @property
    def current(self) -> Mapping[str, Any]:
        """The current state visit (a record)."""
        return self.records[self.index]

    def _visit_number(self) -> int:
        """Which visit of its state the current record is (for :func:`sfnlab.render.dataflow`)."""
        name = self.current["name"]
        return sum(1 for r in self.records[: self.index] if r["name"] == name)

    def go(self, index: int) -> None:
        """Show visit ``index`` (clamped to the first/last visit)."""
        if not self.records:
            self.position.value = "<i>no state was entered</i>"
            return
        self.index = max(0, min(index, len(self.records) - 1))
        if self.dropdown.value != self.index:
            self.dropdown.value = self.index
        self.previous_button.disabled = self.index == 0
        self.next_button.disabled = self.index == len(self.records) - 1
        self.position.value = f"<b>{self.index + 1}</b> / {len(self.records)}"
        self.graph_view.value = _svg(self.graph())
        self.flow_view.value = self.flow()._repr_html_()

    def next(self) -> None:
        """Move to the next state visit."""
        self.go(self.index + 1)

    def previous(self) -> None:
        """Move to the previous state visit."""
        self.go(self.index - 1)

    def graph(self) -> graphviz.Digraph:
        """The drawing with the visits so far overlaid and the current state highlighted."""
        last = self.index == len(self.records) - 1
        return draw(self.execution, self.execution, focus=self.current["name"],
                    records=None if last else self.records[: self.index + 1])

    def flow(self):
        """The data flow of the current visit."""
        return dataflow(self.execution, self.current["name"], visit=self._visit_number())

    def _on_dropdown(self, change: dict) -> None:
        if change["new"] is not None and change["new"] != self.index:
            self.go(change["new"])

    # -- display ----------------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        return f"<Stepper visit {self.index + 1}/{len(self.records)}: {self.current['name'] if self.records else '-'}>"
