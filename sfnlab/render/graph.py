"""A :class:`~sfnlab.render.model.Diagram` (and optionally an :class:`~.overlay.Overlay`) as a
``graphviz.Digraph``. All attributes come from :data:`sfnlab.render.style.STYLE`.
"""
from __future__ import annotations

import html
from typing import Sequence

import graphviz

from . import labels
from .model import Cluster, Diagram, Edge, Node
from .overlay import EdgeUse, Overlay
from .style import LABEL_WIDTH, STYLE, attributes

__all__ = ["to_digraph", "Drawing", "FAILURE_NOTE"]

FAILURE_NOTE = "__failure__"
_MAX_NUMBERS = 3
_OUTCOME_BORDER_WINS = frozenset({"failed", "caught", "aborted", "running"})  # an edge taken more often shows "×n" instead of its step numbers


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering keeps ``dot``'s warnings off the notebook.

    ``dot`` warns on stderr about every non-ASCII character it has no width table for (``×``,
    ``λ``, a state named ``Zahlung prüfen``); the drawing is right regardless, so rendering
    defaults to ``quiet=True``. Everything else is plain ``graphviz.Digraph``.
    """

    def pipe(self, format: str | None = None, renderer: str | None = None, formatter: str | None = None,
             neato_no_op: bool | int | None = None, quiet: bool = True, *, engine: str | None = None,
             encoding: str | None = None):  # type: ignore[override]
        return super().pipe(format, renderer, formatter, neato_no_op, quiet, engine=engine, encoding=encoding)

    def render(self, *args, quiet: bool = True, **kwargs):  # type: ignore[override]
        return super().render(*args, quiet=quiet, **kwargs)


def _font(text: str, role: str) -> str:
    style = STYLE["text"][role]
    size = f' point-size="{style["size"]}"' if "size" in style else ""
    return f'<font color="{style["color"]}"{size}>{html.escape(text)}</font>'


def _html(title: str, lines: Sequence[str], extra: Sequence[str] = (), *, align: str = "") -> str:
    parts = [f"<b>{html.escape(title)}</b>"] if title else []
    parts += [_font(line, "subtitle") for line in lines]
    parts += [f"<b>{_font(line, 'outcome')}</b>" for line in extra]
    if align:
        return "<" + "".join(f'{part}<br align="{align}"/>' for part in parts) + ">"
    return "<" + "<br/>".join(parts) + ">"


def _numbers(use: EdgeUse) -> str:
    """``3`` or ``2, 5`` (step numbers), or ``×12`` (a count) when there are many or none."""
    if not use.steps or len(use.steps) > _MAX_NUMBERS:
        return f"×{use.count}"
    return ", ".join(str(s) for s in use.steps)


def _node_outcome(node: Node, overlay: Overlay | None) -> tuple[list[str], list[str | None]]:
    """Extra label lines and style variants of a state node under an overlay."""
    if overlay is None or node.state is None:
        return [], []
    outcome = overlay.states.get(node.state)
    focus = "focus" if overlay.focus == node.state else None
    if outcome is None:
        return [], ["unvisited", focus]
    lines = [labels.shorten(outcome.summary(), 40)]
    group = overlay.groups.get(node.state)
    if group is not None and node.kind in ("Parallel", "Map"):
        # Iteration/branch counts sit in the state's own box: edges never cross a node's label,
        # while they do cross a cluster's.
        lines.append(group.summary())
    variants: list[str | None] = [outcome.outcome]
    if outcome.retries:
        lines.append(f"retried ×{outcome.retries}")
        # the amber "retried" border only where it hides no failure
        variants.insert(0 if outcome.outcome in _OUTCOME_BORDER_WINS else 1, "retried")
    variants.append(focus)
    if focus:
        lines.append("current step")
    return lines, variants


def _add_node(graph: graphviz.Digraph, node: Node, overlay: Overlay | None) -> None:
    if node.kind in ("start", "end", "join"):
        attrs = attributes("node", node.kind, default=False)
        if node.kind != "join":
            attrs["label"] = node.title
        if overlay is not None and node.kind == "join" and node.state not in overlay.states:
            attrs.update(STYLE["node"]["unvisited"])
        graph.node(node.id, **attrs)
        return
    extra, variants = _node_outcome(node, overlay)
    attrs = attributes("node", node.kind, *variants, default=False)
    attrs["label"] = _html(node.title, node.lines, extra)
    graph.node(node.id, **attrs)


def _cluster_label(cluster: Cluster, overlay: Overlay | None) -> str:
    kinds = {"Parallel": "Parallel", "Map": "Distributed Map" if cluster.distributed else "Map"}
    title = kinds.get(cluster.kind, cluster.title)
    return _html(title, cluster.lines, [], align="left")


def _cluster_variants(cluster: Cluster, overlay: Overlay | None) -> list[str | None]:
    variants: list[str | None] = [cluster.kind]
    if cluster.kind == "Map" and cluster.distributed:
        variants.append("Map_distributed")
    if overlay is not None and cluster.kind in ("Parallel", "Map"):
        outcome = overlay.states.get(cluster.state or "")
        variants.append(outcome.outcome if outcome else "unvisited")
        if outcome and outcome.retries:
            variants.append("retried")
        if overlay.focus == cluster.state:
            variants.append("focus")
    return variants


def _add_cluster(graph: graphviz.Digraph, cluster: Cluster, nodes: dict[str, Node], overlay: Overlay | None) -> None:
    with graph.subgraph(name=cluster.id) as sub:
        sub.attr(**attributes("cluster", *_cluster_variants(cluster, overlay)))
        sub.attr(label=_cluster_label(cluster, overlay))
        for node_id in cluster.nodes:
            _add_node(sub, nodes[node_id], overlay)
        for inner in cluster.clusters:
            _add_cluster(sub, inner, nodes, overlay)


def _edge_label(edge: Edge, use: EdgeUse | None) -> str | None:
    # No bold here: dot sizes label boxes with regular-weight metrics, so bold text would
    # overhang into a neighbouring label.
    text = labels.wrap(edge.label, LABEL_WIDTH, max_lines=3) if edge.label else []
    if not text and use is None:
        return None
    parts = [html.escape(line) for line in text]
    if use is not None:
        number = _font(_numbers(use), "number")
        parts = [f"{number}  {parts[0]}" if parts else number] + parts[1:]
    return "<" + "<br/>".join(parts) + " >"


def _add_edge(graph: graphviz.Digraph, edge: Edge, overlay: Overlay | None) -> None:
    use = overlay.edges.get(edge.key) if overlay is not None else None
    variants: list[str] = [edge.kind]
    if overlay is not None:
        variants.append(("taken_catch" if edge.kind == "catch" else "taken") if use else "untaken")
    attrs = attributes("edge", *variants, default=False)
    label = _edge_label(edge, use)
    if label:
        attrs["label"] = label
    graph.edge(edge.tail, edge.head, **attrs)


def _failure_note(graph: graphviz.Digraph, overlay: Overlay) -> None:
    failure = overlay.failure
    if failure is None:
        return
    lines = [f"Execution {failure.status}"]
    if failure.error:
        lines += [f"Error: {line}" if i == 0 else line
                  for i, line in enumerate(labels.wrap(failure.error, 40, max_lines=2))]
    if failure.cause:
        lines += [f"Cause: {line}" if i == 0 else line
                  for i, line in enumerate(labels.wrap(labels.cause_text(failure.cause), 44, max_lines=5))]
    attrs = attributes("node", "note", default=False)
    body = "<br/>".join(html.escape(line) for line in lines[1:])
    attrs["label"] = f"<<b>{html.escape(lines[0])}</b>" + (f"<br/>{body}" if body else "") + ">"
    graph.node(FAILURE_NOTE, **attrs)
    if failure.state is not None:
        graph.edge(failure.state, FAILURE_NOTE, **attributes("edge", "note", default=False))


def to_digraph(diagram: Diagram, overlay: Overlay | None = None, *, title: str | None = None,
               name: str = "state_machine") -> graphviz.Digraph:
    """The graphviz drawing of ``diagram``, with ``overlay``'s outcomes when given."""
    graph = Drawing(name=name, graph_attr=attributes("graph"), node_attr=attributes("node"),
                             edge_attr=attributes("edge"))
    caption = diagram.title if title is None else title
    if caption:
        # A plain, centred label: dot measures text with Helvetica's regular-weight metrics, and a
        # browser's sans font is often wider; a bold, left-anchored caption wider than the drawing
        # ran past the SVG's right edge and was cut off. Centred, any excess shares the padding.
        graph.attr(label=caption)
    nodes = {node.id: node for node in diagram.nodes}
    for node_id in diagram.top:
        _add_node(graph, nodes[node_id], overlay)
    for cluster in diagram.clusters:
        _add_cluster(graph, cluster, nodes, overlay)
    for edge in diagram.edges:
        _add_edge(graph, edge, overlay)
    if overlay is not None:
        _failure_note(graph, overlay)
    return graph


