"""An execution in virtual time, as an SVG Gantt chart drawn here (no plotting library).

One row per top-level state visit; a Task's row shows each attempt and the back-off before the
next (``2s``, ``4s``...), a Wait its wait. Below a Parallel state, one lane per branch; below a
Map state, one lane per concurrent slot (iterations packed into as many lanes as ran at once, so
``MaxConcurrency`` shows as the number of lanes).
"""
from __future__ import annotations

import html
import math
import pathlib
from dataclasses import dataclass, field
from typing import Any, Final, Mapping, Sequence, cast

from . import labels
from .overlay import OUTCOME_WORDS, records_of
from .style import STYLE

__all__ = ["Timeline", "timeline", "Row", "Segment"]

Record = Mapping[str, Any]
WIDTH: Final = 980
LABEL_COLUMN: Final = 230
ROW_HEIGHT: Final = 26
AXIS_HEIGHT: Final = 34
MIN_SEGMENT: Final = 4  # px: an instant (a Pass state) stays visible
MAX_ROWS: Final = 400


@dataclass(frozen=True)
class Segment:
    """A bar: ``start``/``end`` in seconds since the execution started."""

    start: float
    end: float
    kind: str  # a STYLE["timeline"] variant
    text: str = ""
    tip: str = ""


@dataclass(frozen=True)
class Row:
    label: str
    depth: int
    segments: tuple[Segment, ...] = field(default_factory=tuple)


def _kind(record: Record) -> str:
    return OUTCOME_WORDS.get(record.get("status", "SUCCEEDED"), "succeeded")


def _visit_segments(record: Record, t0: float, now: float) -> list[Segment]:
    start = record["entered_time"] - t0
    end = (cast(float, record.get("exited_time")) if record.get("exited_time") is not None else now) - t0
    attempts = record.get("attempts") or []
    if record.get("type") == "Wait":
        return [Segment(start, end, "wait" if _kind(record) == "succeeded" else _kind(record),
                        f"wait {end - start:g}s", f"{record['name']}: waited {end - start:g}s")]
    if len(attempts) <= 1:
        return [Segment(start, end, _kind(record), "", f"{record['name']}: {end - start:g}s, {_kind(record)}")]
    segments = []
    for number, attempt in enumerate(attempts, start=1):
        a_start = attempt["start"] - t0
        a_end = (attempt["end"] if attempt.get("end") is not None else now) - t0
        kind = "failed" if attempt.get("error") else _kind(record)
        tip = f"{record['name']} attempt {number}: {attempt.get('error') or 'ok'}"
        segments.append(Segment(a_start, a_end, kind, f"#{number}", tip))
        delay = attempt.get("delay")
        if delay:
            segments.insert(0, Segment(a_end, a_end + delay, "backoff", f"back-off {delay:g}s",
                                    f"back-off {delay:g}s before attempt {number + 1}"))
    return segments


def _children(records: Sequence[Record], parent: Record) -> dict[tuple, list[Record]]:
    """The records directly inside each branch / iteration of ``parent``, by scope."""
    scope = tuple(parent.get("scope", ()))
    groups: dict[tuple, list[Record]] = {}
    for record in records:
        inner = tuple(record.get("scope", ()))
        if len(inner) > len(scope) and inner[:len(scope)] == scope and inner[len(scope)][1] == parent["name"]:
            key = inner[:len(scope) + 1]
            groups.setdefault(key, []).append(record)
    return groups


def _span(group: Sequence[Record], t0: float, now: float) -> tuple[float, float]:
    start = min(r["entered_time"] for r in group) - t0
    end = max((cast(float, r.get("exited_time")) if r.get("exited_time") is not None else now) for r in group) - t0
    return start, end


def _lanes(records: Sequence[Record], parent: Record, depth: int, t0: float, now: float) -> list[Row]:
    groups = _children(records, parent)
    if not groups:
        return []
    rows: list[Row] = []
    if parent.get("type") == "Parallel":
        for key, group in sorted(groups.items(), key=lambda kv: kv[0][-1][2]):
            segments = [s for r in group if tuple(r.get("scope", ())) == key
                        for s in _named(_visit_segments(r, t0, now), r["name"])]
            rows.append(Row(f"branch {key[-1][2] + 1}", depth, tuple(segments)))
            for record in group:
                if tuple(record.get("scope", ())) == key and record.get("type") in ("Parallel", "Map"):
                    rows.extend(_lanes(records, record, depth + 1, t0, now))
        return rows
    # Map: pack iterations into as few lanes as ran at once. Overlap is judged on event ids, not
    # on time: iterations that take no virtual time still ran one after another or side by side.
    lane_ends: list[float] = []
    lanes: list[list[Segment]] = []
    for key, group in sorted(groups.items(), key=lambda kv: _events(kv[1])):
        first, last = _events(group)
        lane = next((i for i, end in enumerate(lane_ends) if end < first), None)
        if lane is None:
            lane_ends.append(last)
            lanes.append([])
            lane = len(lanes) - 1
        lane_ends[lane] = last
        start, end = _span(group, t0, now)
        index = key[-1][2]
        lanes[lane].append(Segment(start, end, "iteration", f"#{index}", f"iteration {index}: {end - start:g}s"))
        for record in group:
            if tuple(record.get("scope", ())) == key:
                lanes[lane].extend(_visit_segments(record, t0, now))
    label = f"{parent['name']} slot"
    return [Row(f"{label} {i + 1}", depth, tuple(segments)) for i, segments in enumerate(lanes)]


def _events(group: Sequence[Record]) -> tuple[float, float]:
    """First and last event id of an iteration (an unfinished one never ends)."""
    first = min(r["entered_event"] for r in group)
    last = max(math.inf if r.get("exited_event") is None else r["exited_event"] for r in group)
    return first, last


def _named(segments: list[Segment], name: str) -> list[Segment]:
    return [Segment(s.start, s.end, s.kind, s.text or name, s.tip) for s in segments]


def build_rows(records: Sequence[Record], t0: float, now: float) -> list[Row]:
    """Rows for the top-level visits, each followed by the lanes of its branches or iterations."""
    rows: list[Row] = []
    for record in records:
        if record.get("scope"):
            continue
        rows.append(Row(record["name"], 0, tuple(_visit_segments(record, t0, now))))
        if record.get("type") in ("Parallel", "Map"):
            rows.extend(_lanes(records, record, 1, t0, now))
    return rows[:MAX_ROWS]


def _tick_step(span: float) -> float:
    raw = span / 8
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


@dataclass(frozen=True)
class Timeline:
    """An SVG chart of an execution in virtual time. Displays itself in Jupyter; ``.svg`` is the text."""

    rows: tuple[Row, ...]
    duration: float
    title: str = ""

    @property
    def svg(self) -> str:
        look = STYLE["timeline"]
        base = look["default"]
        plot = WIDTH - LABEL_COLUMN - 20
        scale = plot / self.duration if self.duration > 0 else plot
        height = AXIS_HEIGHT + ROW_HEIGHT * len(self.rows) + 30
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
               f'viewBox="0 0 {WIDTH} {height}" font-family="{base["font"]}" font-size="{base["size"]}">',
               f'<rect width="{WIDTH}" height="{height}" fill="white"/>']
        if self.title:
            out.append(f'<text x="10" y="18" font-weight="bold" fill="{base["text"]}">{html.escape(self.title)}</text>')
        top = AXIS_HEIGHT
        step = _tick_step(self.duration) if self.duration > 0 else 1
        ticks = int(self.duration / step + 1e-9) + 1 if self.duration > 0 else 1
        for i in range(ticks):
            x = LABEL_COLUMN + i * step * scale
            out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 24}" stroke="{base["grid"]}"/>')
            out.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" fill="{base["axis"]}">'
                       f'{i * step:g}s</text>')
        for n, row in enumerate(self.rows):
            y = top + n * ROW_HEIGHT
            indent = 10 + 18 * row.depth
            colour = base["text"] if row.depth == 0 else base["label"]
            out.append(f'<text x="{indent}" y="{y + 17}" fill="{colour}">'
                       f'{html.escape(labels.shorten(row.label, 28 - 2 * row.depth))}</text>')
            for seg in row.segments:
                style = look[seg.kind]
                x = LABEL_COLUMN + seg.start * scale
                w = max(MIN_SEGMENT, (seg.end - seg.start) * scale)
                inset = 1 if seg.kind == "iteration" else 4
                dash = f' stroke-dasharray="{style["dash"]}"' if "dash" in style else ""
                out.append(f'<rect x="{x:.1f}" y="{y + inset}" width="{w:.1f}" height="{ROW_HEIGHT - 2 * inset}" '
                           f'rx="3" fill="{style["fill"]}" stroke="{style["stroke"]}"{dash}>'
                           f'<title>{html.escape(seg.tip)}</title></rect>')
                if seg.text and w >= 7 * len(seg.text) + 6:
                    out.append(f'<text x="{x + w / 2:.1f}" y="{y + 17}" text-anchor="middle" font-size="12" '
                               f'fill="{base["text"]}">{html.escape(seg.text)}</text>')
        out.append("</svg>")
        return "\n".join(out)

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | pathlib.Path) -> pathlib.Path:
        """Write the chart as an SVG file."""
        target = pathlib.Path(path)
        target.write_text(self.svg)
        return target


def timeline(execution: Any, *, records: Sequence[Record] | None = None, title: str | None = None) -> Timeline:
    """The timeline of ``execution`` (or of ``records``, state visits as in ``Execution.records``)."""
    visits = list(records) if records is not None else records_of(execution)
    t0 = getattr(execution, "start_time", None)
    if t0 is None:
        t0 = min((r["entered_time"] for r in visits), default=0.0)
    stop = getattr(execution, "stop_time", None)
    ends = [r["exited_time"] for r in visits if r.get("exited_time") is not None]
    ends += [a["end"] + (a.get("delay") or 0) for r in visits for a in r.get("attempts") or () if a.get("end")]
    now = max([stop or t0, *ends, *(r["entered_time"] for r in visits)], default=t0)
    rows = build_rows(visits, t0, now)
    status = getattr(execution, "status", "")
    caption = title if title is not None else f"Timeline (virtual time) · {status} after {now - t0:g}s".strip()
    return Timeline(tuple(rows), now - t0, caption)
