"""Seed 001's story, for any chain of nodes: the closed-form gradients, the
factors they share (boxed), what backprop saves, and the algorithm with the
accumulated derivative d.

A *checkpoint* is a node a parameter feeds directly: there a gradient is
read off, dL/dp = d * dc/dp.  Between two checkpoints d takes one *segment*
of local derivatives.  A segment that two or more gradients contain is the
repeated work the seed puts in boxes; backprop multiplies it in once.
"""

from dataclasses import dataclass

import sympy
from sympy import Symbol

from ..derive.backprop import Derivation
from ..derive.closed_form import ClosedForms
from ..derive.mathobj import Boxed, Partial, Product

MAX_WRITTEN_OUT = 24  # nodes of an expression written out in place of its name


@dataclass
class Segment:
    edges: list[tuple[Symbol, Symbol]]  # (node, its parent) from the loss down
    value: sympy.Expr  # the product of the edges' local derivatives, in the path's order
    uses: int = 0  # how many gradients contain it


@dataclass
class Gradient:
    param: Symbol
    checkpoint: Symbol  # the node the parameter feeds
    segments: list[int]  # indices of the segments from the loss to the checkpoint
    last: sympy.Expr  # d checkpoint / d param


@dataclass
class Story:
    segments: list[Segment]
    gradients: list[Gradient]
    naive: int  # local derivatives multiplied when each gradient is computed on its own
    backprop: int  # the same when every segment is multiplied into d once
    depth: int  # checkpoints on the longest path

    def closed(self, g: Gradient, boxed: bool) -> sympy.Expr:
        """dL/dp as a product of segments, the shared ones boxed."""
        factors = []
        for i in g.segments:
            seg = self.segments[i]
            factors.append(Boxed(seg.value) if boxed and seg.uses > 1 else seg.value)
        factors.append(g.last)
        return Product(*[f for f in factors if f != 1])

    def chain(self, g: Gradient) -> sympy.Expr:
        """dL/dp as the chain of partial derivatives along its path."""
        edges = [e for i in g.segments for e in self.segments[i].edges]
        return Product(*[Partial(n, p) for n, p in edges], Partial(g.checkpoint, g.param))


def _chain(d: Derivation, nodes: set, params: list) -> dict | None:
    """The one node each node and parameter feeds; None when the graph is no chain."""
    if d.graph.cell is not None or len(nodes) > 200:
        return None
    consumer = {}
    for s in list(nodes) + params:
        users = list(d.consumers.get(s, []))
        if s == d.graph.loss:
            continue
        if len(users) != 1:
            return None
        consumer[s] = users[0]
    return consumer


def story(d: Derivation) -> Story | None:
    """The story of a chain: each node and each parameter feeds one node."""
    graph = d.graph
    nodes = {n.symbol for n in graph.nodes}
    params = graph.param_symbols()
    consumer = _chain(d, nodes, params)
    if consumer is None:
        return None
    forms = ClosedForms(d)
    keep = {p for p in d.local[graph.loss] if p in nodes}  # the prediction, as the seed keeps ŷ

    def value(node, parent):
        """The local derivative, with nodes written out while they stay short."""
        local = d.local[node][parent]
        subs = {}
        for s in local.free_symbols:
            if s in nodes and s not in keep:
                closed = forms.of_value(s)
                if closed is not None and forms.value_size[s] <= MAX_WRITTEN_OUT:
                    subs[s] = closed
        return local.xreplace(subs)

    checkpoints = {consumer[p] for p in params}
    path_cache: dict[Symbol, list[int]] = {}
    segments: list[Segment] = []
    segment_of: dict[tuple[Symbol, Symbol], int] = {}

    def segments_to(node: Symbol) -> list[int]:
        """Segments from the loss down to a checkpoint node."""
        if node in path_cache:
            return path_cache[node]
        edges, current = [], node
        while current != graph.loss:
            up = consumer[current]
            edges.append((up, current))
            current = up
            if current in checkpoints:
                break
        edges.reverse()
        above = segments_to(current) if current != graph.loss else []
        key = (edges[0][0], node)
        if key not in segment_of:
            locals_ = [value(n, p) for n, p in edges]  # in the path's order, each edge's own kept together
            product = locals_[0] if len(locals_) == 1 else Product(*locals_)
            segment_of[key] = len(segments)
            segments.append(Segment(edges, product))
        path_cache[node] = above + [segment_of[key]]
        return path_cache[node]

    gradients = []
    for p in params:
        c = consumer[p]
        gradients.append(Gradient(p, c, segments_to(c), value(c, p)))
    for g in gradients:
        for i in g.segments:
            segments[i].uses += 1
    naive = sum(sum(len(segments[i].edges) for i in g.segments) + 1 for g in gradients)
    backprop = sum(len(s.edges) for s in segments) + len(gradients)
    depth = max(len(g.segments) for g in gradients)
    return Story(segments, gradients, naive, backprop, depth)


@dataclass
class AlgorithmStep:
    kind: str  # "d": d = d * (segment), "grad": dL/dp = d * dc/dp
    target: Symbol | None
    chain: sympy.Expr  # in partial derivatives
    value: sympy.Expr  # in local derivatives, the forward-pass values kept


def algorithm(d: Derivation, s: Story) -> list[AlgorithmStep]:
    """Backprop with one accumulator d, as seed 001 (г) writes it."""
    steps = []
    done: set[int] = set()
    order = sorted(s.gradients, key=lambda g: len(g.segments))
    for g in order:
        for i in g.segments:
            if i in done:
                continue
            done.add(i)
            seg = s.segments[i]
            chain = Product(*[Partial(n, p) for n, p in seg.edges])
            local = Product(*[d.local[n][p] for n, p in seg.edges])
            steps.append(AlgorithmStep("d", None, chain, local))
        steps.append(AlgorithmStep("grad", g.param, Partial(g.checkpoint, g.param),
                                   d.local[g.checkpoint][g.param]))
    return steps
