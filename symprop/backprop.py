"""The reverse sweep: one adjoint symbol per node, linear in the graph's size.

For each node ``n = expr(parents)`` the sweep takes the local derivatives
``dn/dp`` once (``sympy.diff`` of that one line, written in terms of the
node's own output where that is the textbook form: sigma' = o(1 - o)), then
accumulates ``dL/dp = sum over consumers c of dL/dc * dc/dp``, the "d" of
seed 001.  Nothing is expanded: the cost is one small ``diff`` per edge.
"""

from dataclasses import dataclass

import sympy
from sympy import Symbol

from .graph import Graph, Node


class Adjoint(Symbol):
    """dL/d(node): the symbol the sweep introduces for each node."""

    def __new__(cls, key: str):
        return super().__new__(cls, f"dL/d{key}", real=True)

    @property
    def of(self) -> str:
        return self.name[4:]


@dataclass
class Derivation:
    """The backprop derivation of a graph, in adjoint form.

    ``local[n][p]`` is dn/dp for each node n and each symbol p its line uses;
    ``adjoints[n]`` is dL/dn as a sum over n's consumers, in ``Adjoint``
    symbols; ``gradients[p]`` is dL/dp for each scalar parameter symbol.
    """

    graph: Graph
    local: dict[Symbol, dict[Symbol, sympy.Expr]]
    consumers: dict[Symbol, list[Symbol]]
    adjoint_symbol: dict[Symbol, sympy.Expr]  # 1 for the loss
    adjoints: dict[Symbol, sympy.Expr]
    gradients: dict[Symbol, sympy.Expr]


def local_derivatives(node: Node) -> dict[Symbol, sympy.Expr]:
    """dn/dp for every symbol p in the node's line, in textbook form."""
    expr = node.expr
    result = {}
    for parent in sorted(expr.free_symbols, key=lambda s: s.name):
        d = sympy.diff(expr, parent)
        if isinstance(expr, sympy.Function | sympy.Pow) and not expr.is_number:
            d = d.subs(expr, node.symbol)  # sigma(h)(1 - sigma(h)) -> o(1 - o)
        result[parent] = sympy.factor_terms(d)  # 2*(f3 - y), not 2*f3 - 2*y
    return result


def backprop(graph: Graph) -> Derivation:
    local = {n.symbol: local_derivatives(n) for n in graph.nodes}
    consumers: dict[Symbol, list[Symbol]] = {}
    for n in graph.nodes:
        for parent in local[n.symbol]:
            consumers.setdefault(parent, []).append(n.symbol)
    adjoint_symbol = {
        n.symbol: sympy.S.One if n.symbol == graph.loss else Adjoint(n.symbol.name)
        for n in graph.nodes
    }

    def accumulate(target: Symbol) -> sympy.Expr:
        return sympy.Add(
            *(adjoint_symbol[c] * local[c][target] for c in consumers.get(target, []))
        )

    adjoints = {n.symbol: accumulate(n.symbol) for n in reversed(graph.nodes) if n.symbol != graph.loss}
    gradients = {p: accumulate(p) for p in graph.param_symbols()}
    return Derivation(graph, local, consumers, adjoint_symbol, adjoints, gradients)
