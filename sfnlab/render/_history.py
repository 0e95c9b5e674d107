"""An execution's history as a readable table: event id, type, state, time since start, details.

Inputs and outputs (JSON text in the events, as on AWS) are pretty-printed, and long values are
folded behind a ``<details>`` so that a 200-event history still reads at a glance.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any, Final, Mapping, Sequence

from ..history import details_key
from . import labels
from ._html import CELL, HEAD, TABLE, folded, pretty

__all__ = ["HistoryTable", "HistoryRow", "history_table"]

_JSON_FIELDS: Final = frozenset({"input", "output", "parameters", "result", "assignedVariables"})
_SKIP_FIELDS: Final = frozenset({"inputDetails", "outputDetails", "assignedVariablesDetails"})
_TEXT_WIDTH: Final = 100  # characters of details in the text form


@dataclass(frozen=True)
class HistoryRow:
    id: int
    type: str
    state: str
    seconds: float  # since the execution started (virtual)
    details: Mapping[str, Any]


def _state_names(events: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    """The state each event belongs to, following ``previousEventId`` back to a StateEntered."""
    names: dict[int, str] = {}
    for event in events:
        key = details_key(event["type"])
        details = event.get(key, {}) if key else {}
        if event["type"].endswith(("StateEntered", "StateExited")) or "name" in details:
            names[event["id"]] = details.get("name", "")
        else:
            names[event["id"]] = names.get(event.get("previousEventId", 0), "")
    return names


def _parse(field: str, value: Any) -> Any:
    if field in _JSON_FIELDS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass(frozen=True)
class HistoryTable:
    """Displays as an HTML table in Jupyter; ``str()`` gives a fixed-width text table."""

    rows: tuple[HistoryRow, ...]
    max_rows: int = 500

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='{HEAD}'>{h}</th>" for h in ("id", "type", "state", "+s", "details"))
        body = []
        for row in self.rows[: self.max_rows]:
            cells = []
            for field, value in row.details.items():
                text = value if isinstance(value, str) else pretty(value)
                cells.append(f"<div><b>{html.escape(field)}</b> {folded(text)}</div>"
                             if "\n" in text or len(text) > 80 else
                             f"<div><b>{html.escape(field)}</b> <code>{html.escape(text)}</code></div>")
            body.append(f"<tr><td style='{CELL}'>{row.id}</td><td style='{CELL}'>{html.escape(row.type)}</td>"
                        f"<td style='{CELL}'>{html.escape(row.state)}</td><td style='{CELL}'>{row.seconds:g}</td>"
                        f"<td style='{CELL}'>{''.join(cells)}</td></tr>")
        if len(self.rows) > self.max_rows:
            body.append(f"<tr><td colspan=5 style='{CELL}'>… {len(self.rows) - self.max_rows} more events</td></tr>")
        return f"<table style='{TABLE}'><tr>{head}</tr>{''.join(body)}</table>"

    def __str__(self) -> str:
        out = []
        for row in self.rows[: self.max_rows]:
            details = ", ".join(f"{k}={labels.to_text(v) if not isinstance(v, str) else v}"
                                for k, v in row.details.items())
            out.append(f"{row.id:>5}  {row.type:<28} {row.state[:24]:<24} +{row.seconds:<8g} "
                       f"{labels.shorten(details, _TEXT_WIDTH)}")
        return "\n".join(out)


def history_table(execution: Any, *, max_rows: int = 500) -> HistoryTable:
    """The history of ``execution`` (its ``events``) as a :class:`HistoryTable`."""
    events = list(execution.events)
    start = getattr(execution, "start_time", None)
    if start is None:
        start = events[0]["timestamp"] if events else 0.0
    names = _state_names(events)
    rows = []
    for event in events:
        key = details_key(event["type"])
        raw = event.get(key, {}) if key else {}
        details = {k: _parse(k, v) for k, v in raw.items() if k not in _SKIP_FIELDS and k != "name"}
        rows.append(HistoryRow(event["id"], event["type"], names.get(event["id"], ""),
                               event["timestamp"] - start, details))
    return HistoryTable(tuple(rows), max_rows)
