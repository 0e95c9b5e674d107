"""The intermediate graph: a definition as nodes, edges and clusters, before any styling.

:func:`build` walks a compiled :class:`~sfnlab.definition.Machine` and returns a frozen
:class:`Diagram`. Nothing here knows graphviz: :mod:`sfnlab.render.graph` turns a Diagram (plus
an optional execution overlay) into a ``graphviz.Digraph``.

Shape of the drawing:

* one node per state (id = the state's name: names are unique machine-wide), a ``Start`` and an
  ``End`` marker at the top level;
* a Parallel or Map state is a cluster holding a head node (the state), one inner cluster per
  branch (or the item processor), and a small join node where the branches meet: edges leave
  the state from its join node;
* every edge has a ``key`` saying which part of the definition it stands for, e.g.
  ``("IsBig", "choice", 0)``, ``("IsBig", "default")``, ``("Pay", "catch", 1)``, so that an
  execution overlay can find the edge a transition took.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from .. import definition as d
from . import labels

__all__ = ["Node", "Edge", "Cluster", "Diagram", "build", "START", "END", "exit_id", "join_id"]

START = "__start__"
END = "__end__"
EdgeKey = tuple


def join_id(state_name: str) -> str:
    """Id of the join node of a Parallel or Map state."""
    return f"{state_name}__join"


def exit_id(state: d.State) -> str:
    """The node edges leave ``state`` from: its join node for Parallel/Map, else the state itself."""
    return join_id(state.name) if isinstance(state, (d.ParallelState, d.MapState)) else state.name


@dataclass(frozen=True)
class Node:
    """A box in the drawing. ``kind``: a state type (``"Task"``...) or ``start``/``end``/``join``."""

    id: str
    kind: str
    title: str
    lines: tuple[str, ...] = ()
    state: str | None = None  # the state this node stands for


@dataclass(frozen=True)
class Edge:
    """An arrow. ``kind``: next, start, end, choice, default_choice, catch, branch, join."""

    tail: str
    head: str
    kind: str
    key: EdgeKey
    label: str = ""


@dataclass(frozen=True)
class Cluster:
    """A box around nodes. ``kind``: Parallel, Map, branch, processor."""

    id: str
    kind: str
    title: str
    lines: tuple[str, ...] = ()
    state: str | None = None
    distributed: bool = False
    nodes: tuple[str, ...] = ()
    clusters: tuple["Cluster", ...] = ()


@dataclass(frozen=True)
class Diagram:
    """A whole drawing: the top-level node ids, all nodes and edges, the top-level clusters."""

    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    top: tuple[str, ...]
    clusters: tuple[Cluster, ...] = ()
    states: dict = field(default_factory=dict, compare=False, repr=False)

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def edge(self, key: EdgeKey) -> Edge:
        return next(e for e in self.edges if e.key == key)

    def walk_clusters(self) -> Iterator[Cluster]:
        stack = list(self.clusters)
        while stack:
            cluster = stack.pop(0)
            yield cluster
            stack.extend(cluster.clusters)


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.states: dict[str, d.State] = {}

    def graph(self, graph: d.Graph, exit_node: str | None, top: bool) -> tuple[list[str], list[Cluster]]:
        """Nodes and clusters of one Graph; edges to ``exit_node`` from its terminal states."""
        node_ids: list[str] = []
        clusters: list[Cluster] = []
        for state in graph.states.values():
            self.states[state.name] = state
            if isinstance(state, (d.ParallelState, d.MapState)):
                clusters.append(self.container(state))
            else:
                self.nodes.append(Node(state.name, state.type.value, state.name, _state_lines(state), state.name))
                node_ids.append(state.name)
            self.transitions(state, exit_node, top)
        return node_ids, clusters

    def transitions(self, state: d.State, exit_node: str | None, top: bool) -> None:
        tail = exit_id(state)
        name = state.name
        if isinstance(state, d.ChoiceState):
            for index, branch in enumerate(state.choices):
                self.edges.append(Edge(tail, branch.next, "choice", (name, "choice", index),
                                       labels.rule_text(branch.raw)))
            if state.default is not None:
                self.edges.append(Edge(tail, state.default, "default_choice", (name, "default"), "Default"))
        elif state.next is not None and not state.end:
            self.edges.append(Edge(tail, state.next, "next", (name, "next")))
        terminal = state.end or isinstance(state, d.SucceedState) or (top and isinstance(state, d.FailState))
        if terminal and exit_node is not None:
            self.edges.append(Edge(tail, exit_node, "end" if top else "join", (name, "end")))
        for index, catcher in enumerate(getattr(state, "catch", ())):
            self.edges.append(Edge(tail, catcher.next, "catch", (name, "catch", index), labels.catch_text(catcher)))

    def container(self, state: d.ParallelState | d.MapState) -> Cluster:
        join = join_id(state.name)
        self.nodes.append(Node(state.name, state.type.value, state.name, _state_lines(state), state.name))
        self.nodes.append(Node(join, "join", "", (), state.name))
        if isinstance(state, d.ParallelState):
            graphs = [(f"Branch {i + 1}", "branch", g) for i, g in enumerate(state.branches)]
        else:
            graphs = [("Item processor", "processor", state.processor)] if state.processor else []
        inner: list[Cluster] = []
        for index, (title, kind, graph) in enumerate(graphs):
            node_ids, clusters = self.graph(graph, join, top=False)
            self.edges.append(Edge(state.name, graph.start_at, "branch", (state.name, "branch", index)))
            inner.append(Cluster(f"cluster_{state.name}__{index}", kind, title, (), state.name,
                                 nodes=tuple(node_ids), clusters=tuple(clusters)))
        distributed = isinstance(state, d.MapState) and state.mode == "DISTRIBUTED"
        return Cluster(f"cluster_{state.name}", state.type.value, state.name, (), state.name, distributed,
                       nodes=(state.name, join), clusters=tuple(inner))


def _state_lines(state: d.State) -> tuple[str, ...]:
    """Subtitle lines of a state node: its type and what it does, its Retry entries."""
    lines: list[str] = []
    describe = _DESCRIBE.get(state.type.value)
    detail = describe(state) if describe else ""
    lines.append(f"{state.type.value} · {detail}" if detail else state.type.value)
    for retrier in getattr(state, "retry", ()):
        lines.extend(labels.wrap(labels.retry_text(retrier), 34, max_lines=2))
    return tuple(lines)


def _describe_map(state: d.MapState) -> str:
    parts = []
    if state.mode == "DISTRIBUTED":
        parts.append("Distributed")
    if state.max_concurrency:
        parts.append(f"max {state.max_concurrency} at once")
    elif state.max_concurrency_path is not None:
        parts.append(f"max {state.raw.get('MaxConcurrencyPath')} at once")
    return ", ".join(parts)


def _describe_fail(state: d.FailState) -> str:
    return labels.shorten(state.error or state.raw.get("ErrorPath") or "", 30)


_DESCRIBE = {
    "Task": lambda s: labels.shorten(labels.resource_text(s.resource), 34),
    "Wait": lambda s: labels.shorten(labels.wait_text(s.raw), 34),
    "Fail": _describe_fail,
    "Map": _describe_map,
    "Parallel": lambda s: f"{len(s.branches)} branches",
}


def build(machine: d.Machine) -> Diagram:
    """The intermediate graph of a compiled machine."""
    builder = _Builder()
    builder.nodes.append(Node(START, "start", "Start"))
    node_ids, clusters = builder.graph(machine.graph, END, top=True)
    builder.nodes.append(Node(END, "end", "End"))
    builder.edges.insert(0, Edge(START, machine.graph.start_at, "start", ("__start__",)))
    return Diagram(
        title=machine.comment or "",
        nodes=tuple(builder.nodes),
        edges=tuple(builder.edges),
        top=(START, *node_ids, END),
        clusters=tuple(clusters),
        states=builder.states,
    )
