"""HTML views for Jupyter: an execution's outcome and history, a state machine's summary.

Plain HTML with inline styles (no scripts, no CDN), so it renders the same in JupyterLab,
VS Code and on a projector.
"""
from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:  # pragma: no cover
    from .engine import Execution
    from .machine import StateMachine

STATUS_COLOURS = {
    "SUCCEEDED": "#2e7d32",
    "FAILED": "#c62828",
    "TIMED_OUT": "#ef6c00",
    "ABORTED": "#6d4c41",
    "RUNNING": "#1565c0",
}

_TABLE = "border-collapse:collapse;font-family:monospace;font-size:12px"
_CELL = "border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top"


def _pretty(value: Any, limit: int = 2000) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    if len(text) > limit:
        text = text[:limit] + "\n…"
    return html.escape(text)


def _badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#555")
    return (f'<span style="background:{colour};color:white;padding:1px 8px;border-radius:8px;'
            f'font-weight:bold">{html.escape(status)}</span>')


def drawing_svg(source: Any, execution: Any = None) -> str:
    """The drawing as inline SVG, or "" when no ``dot`` program can be found."""
    try:
        from .render import draw

        return draw(source, execution).pipe(format="svg", encoding="utf-8")
    except Exception:  # noqa: BLE001 - a missing or failing dot must not break a notebook's display
        return ""


def execution_html(execution: "Execution", *, max_events: int = 200, drawing: bool = True) -> str:
    lines = [f"<div><b>Execution</b> <code>{html.escape(execution.info.name)}</code> {_badge(execution.status)}"]
    if execution.stop_time is not None:
        lines.append(f" <span style='color:#666'>{execution.stop_time - execution.start_time:g} s of virtual time, "
                     f"{len(execution.events)} events</span>")
    lines.append("</div>")
    if execution.status == "SUCCEEDED":
        lines.append(f"<div><b>Output</b><pre style='margin:2px 0'>{_pretty(execution.output)}</pre></div>")
    elif execution.error is not None or execution.cause is not None:
        lines.append(f"<div><b>Error</b> <code>{html.escape(str(execution.error))}</code></div>")
        if execution.cause:
            lines.append(f"<div><b>Cause</b><pre style='margin:2px 0;white-space:pre-wrap'>"
                         f"{html.escape(execution.cause[:2000])}</pre></div>")
    if drawing:
        svg = drawing_svg(execution.machine, execution)
        if svg:
            lines.append(f"<div style='max-width:100%;overflow:auto'>{svg[svg.find('<svg'):]}</div>")
    from .render import history_table

    table = history_table(execution, max_rows=max_events)
    lines.append(f"<details><summary>History ({len(table.rows)} events)</summary>{table._repr_html_()}</details>")
    return "\n".join(lines)


def machine_html(machine: "StateMachine") -> str:
    states = machine.machine.all_states()
    rows = "".join(
        f"<tr><td style='{_CELL}'>{html.escape(s.name)}</td><td style='{_CELL}'>{s.type.value}</td>"
        f"<td style='{_CELL}'>{html.escape(str(s.next or ('End' if s.end else '')))}</td></tr>"
        for s in states
    )
    return (f"<div><b>State machine</b> <code>{html.escape(machine.name)}</code>, StartAt "
            f"<code>{html.escape(machine.machine.graph.start_at)}</code></div>"
            f"<table style='{_TABLE}'><tr><th style='{_CELL}'>state</th><th style='{_CELL}'>type</th>"
            f"<th style='{_CELL}'>next</th></tr>{rows}</table>")


def history_text(execution: "Execution") -> str:
    """A compact, fixed-width history for terminals (the CLI prints this)."""
    from .render import history_table

    return str(history_table(execution, max_rows=len(execution.events)))
