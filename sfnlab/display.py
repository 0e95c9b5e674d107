"""HTML views for Jupyter: an execution's outcome and history, a state machine's summary.

Plain HTML with inline styles (no scripts, no CDN), so it renders the same in JupyterLab,
VS Code and on a projector.
"""
from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from .history import details_key

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


def event_summary(event: dict) -> str:
    """One line describing an event's details (name, error, length...)."""
    key = details_key(event["type"])
    details = event.get(key, {}) if key else {}
    parts = []
    for field in ("name", "index", "length", "error", "cause", "resource"):
        if field in details:
            value = details[field]
            text = value if isinstance(value, str) else json.dumps(value)
            if len(text) > 80:
                text = text[:77] + "..."
            parts.append(f"{field}={text}")
    return ", ".join(parts)


def history_rows(execution: "Execution") -> list[tuple[int, float, str, str]]:
    """(id, seconds since start, type, summary) for every event."""
    start = execution.start_time
    return [(e["id"], e["timestamp"] - start, e["type"], event_summary(e)) for e in execution.events]


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
    rows = history_rows(execution)
    lines.append(f"<details><summary>History ({len(rows)} events)</summary><table style='{_TABLE}'>")
    lines.append(f"<tr><th style='{_CELL}'>id</th><th style='{_CELL}'>+s</th><th style='{_CELL}'>type</th>"
                 f"<th style='{_CELL}'>details</th></tr>")
    for event_id, offset, event_type, summary in rows[:max_events]:
        lines.append(f"<tr><td style='{_CELL}'>{event_id}</td><td style='{_CELL}'>{offset:g}</td>"
                     f"<td style='{_CELL}'>{html.escape(event_type)}</td><td style='{_CELL}'>{html.escape(summary)}</td></tr>")
    if len(rows) > max_events:
        lines.append(f"<tr><td colspan=4 style='{_CELL}'>… {len(rows) - max_events} more</td></tr>")
    lines.append("</table></details>")
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
    out = []
    for event_id, offset, event_type, summary in history_rows(execution):
        out.append(f"{event_id:>5}  +{offset:<10g} {event_type:<28} {summary}")
    return "\n".join(out)
