"""Every colour, shape and font of the drawings, in one table.

``STYLE[element][variant]`` holds graphviz attributes, as pytransitions' ``style_attributes``:
an element's ``default`` is applied first, then the variant of the thing drawn (its state type,
edge kind or cluster kind), then, when an execution is overlaid, the variant of its outcome.
Change a drawing's look here and nowhere else.

Colours are chosen to stay apart for common colour blindness and on a projector; every outcome
is also written on the node in words, so colour is never the only signal.
"""
from __future__ import annotations

from typing import Final, Mapping

__all__ = ["STYLE", "FONT", "attributes", "LABEL_WIDTH"]

FONT: Final = "Helvetica"  # graphviz-pure's text metrics cover Helvetica/Arial
LABEL_WIDTH: Final = 34  # characters per line in edge and note labels before wrapping

STYLE: Final[Mapping[str, Mapping[str, Mapping[str, str]]]] = {
    "graph": {
        "default": {"rankdir": "TB", "fontname": FONT, "fontsize": "16", "nodesep": "0.45",
                    "ranksep": "0.5", "bgcolor": "white", "labelloc": "t", "pad": "0.4,0.2"},
    },
    "node": {
        "default": {"fontname": FONT, "fontsize": "14", "style": "filled", "penwidth": "1.5",
                    "margin": "0.15,0.06"},
        # state types (the definition view)
        "Task": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbeafe", "color": "#1e40af"},
        "Pass": {"shape": "box", "fillcolor": "#f3f4f6", "color": "#6b7280"},
        "Choice": {"shape": "diamond", "fillcolor": "#fef3c7", "color": "#b45309", "margin": "0.02"},
        "Wait": {"shape": "hexagon", "fillcolor": "#ede9fe", "color": "#6d28d9"},
        "Succeed": {"shape": "box", "style": "rounded,filled", "peripheries": "2", "fillcolor": "#dcfce7",
                    "color": "#15803d"},
        "Fail": {"shape": "octagon", "fillcolor": "#fee2e2", "color": "#b91c1c"},
        "Parallel": {"shape": "component", "fillcolor": "#e0f2fe", "color": "#0369a1"},
        "Map": {"shape": "box3d", "fillcolor": "#ccfbf1", "color": "#0f766e"},
        # markers
        "start": {"shape": "box", "style": "rounded,filled", "fillcolor": "#374151", "color": "#374151",
                  "fontcolor": "white", "fontsize": "13"},
        "end": {"shape": "box", "style": "rounded,filled", "fillcolor": "#374151", "color": "#374151",
                "fontcolor": "white", "fontsize": "13"},
        "join": {"shape": "circle", "width": "0.18", "height": "0.18", "fixedsize": "true", "label": "",
                 "fillcolor": "#9ca3af", "color": "#6b7280"},
        "note": {"shape": "note", "fillcolor": "#fff1f2", "color": "#be123c", "fontsize": "13",
                 "fontcolor": "#7f1d1d"},
        # execution overlay: outcome of the state's visits
        "unvisited": {"fillcolor": "white", "color": "#d1d5db", "fontcolor": "#9ca3af"},
        "succeeded": {"fillcolor": "#bbf7d0", "color": "#15803d", "penwidth": "2.5"},
        "failed": {"fillcolor": "#fecaca", "color": "#b91c1c", "penwidth": "3.5"},
        "caught": {"fillcolor": "#fed7aa", "color": "#c2410c", "penwidth": "3"},
        "aborted": {"fillcolor": "#e7e5e4", "color": "#57534e", "penwidth": "2.5", "style": "filled,dashed"},
        "running": {"fillcolor": "#bfdbfe", "color": "#1d4ed8", "penwidth": "3.5"},
        "retried": {"color": "#d97706", "penwidth": "3.5"},
        "focus": {"color": "#7c3aed", "penwidth": "5"},
    },
    "edge": {
        "default": {"fontname": FONT, "fontsize": "12", "color": "#4b5563", "fontcolor": "#1f2937",
                    "arrowsize": "0.8", "penwidth": "1.3"},
        "next": {},
        "start": {},
        "end": {},
        "choice": {"color": "#b45309", "fontcolor": "#78350f"},
        "default_choice": {"color": "#b45309", "fontcolor": "#78350f", "style": "bold"},
        "catch": {"style": "dashed", "color": "#c2410c", "fontcolor": "#9a3412"},
        "branch": {"color": "#6b7280", "arrowsize": "0.6"},
        "join": {"color": "#6b7280", "arrowsize": "0.6"},
        "note": {"style": "dashed", "color": "#be123c", "arrowhead": "none", "penwidth": "2"},
        # execution overlay
        "untaken": {"color": "#d1d5db", "fontcolor": "#9ca3af"},
        "taken": {"color": "#1d4ed8", "fontcolor": "#1e3a8a", "penwidth": "2.8"},
        "taken_catch": {"color": "#c2410c", "fontcolor": "#9a3412", "penwidth": "2.8"},
    },
    "cluster": {
        "default": {"fontname": FONT, "fontsize": "14", "style": "rounded,filled", "penwidth": "1.5",
                    "labeljust": "l", "margin": "12"},
        "Parallel": {"color": "#0369a1", "fillcolor": "#f0f9ff"},
        "Map": {"color": "#0f766e", "fillcolor": "#f0fdfa"},
        "Map_distributed": {"color": "#7e22ce", "fillcolor": "#faf5ff", "penwidth": "2.5"},
        "branch": {"color": "#94a3b8", "fillcolor": "white", "style": "rounded,dashed,filled", "fontsize": "12"},
        "processor": {"color": "#94a3b8", "fillcolor": "white", "style": "rounded,dashed,filled",
                      "fontsize": "12"},
        "unvisited": {"color": "#d1d5db", "fontcolor": "#9ca3af", "fillcolor": "#fafafa"},
        "succeeded": {"color": "#15803d"},
        "failed": {"color": "#b91c1c", "penwidth": "3"},
        "caught": {"color": "#c2410c", "penwidth": "2.5"},
        "aborted": {"color": "#57534e"},
        "running": {"color": "#1d4ed8", "penwidth": "3"},
        "retried": {"color": "#d97706", "penwidth": "3"},
        "focus": {"color": "#7c3aed", "penwidth": "4"},
    },
    # the timeline (SVG drawn by sfnlab.render._timeline): fill/stroke per segment kind
    "timeline": {
        "default": {"font": "Helvetica,Arial,sans-serif", "size": "13", "text": "#111827", "grid": "#e5e7eb",
                    "axis": "#6b7280", "label": "#374151"},
        "succeeded": {"fill": "#bbf7d0", "stroke": "#15803d"},
        "failed": {"fill": "#fecaca", "stroke": "#b91c1c"},
        "caught": {"fill": "#fed7aa", "stroke": "#c2410c"},
        "aborted": {"fill": "#e7e5e4", "stroke": "#57534e"},
        "running": {"fill": "#bfdbfe", "stroke": "#1d4ed8"},
        "wait": {"fill": "#ede9fe", "stroke": "#6d28d9"},
        "backoff": {"fill": "#fef3c7", "stroke": "#d97706", "dash": "4 3"},
        "iteration": {"fill": "none", "stroke": "#94a3b8", "dash": "3 2"},
    },
    # inline colours of label text (HTML-like labels), by role
    "text": {
        "default": {"color": "#374151"},
        "subtitle": {"color": "#4b5563", "size": "12"},
        "outcome": {"color": "#111827", "size": "12"},
        "number": {"color": "#1d4ed8"},
    },
}


def attributes(element: str, *variants: str | None, default: bool = True) -> dict[str, str]:
    """Merged attributes: ``default`` (unless ``default=False``) then each variant.

    Unknown or None variants add nothing.
    """
    table = STYLE[element]
    merged = dict(table.get("default", {})) if default else {}
    for variant in variants:
        if variant:
            merged.update(table.get(variant, {}))
    return merged
