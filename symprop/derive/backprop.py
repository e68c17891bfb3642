"""The reverse sweep: one adjoint symbol per node, linear in the graph's size.

For each node ``n = expr(parents)`` the sweep takes the local derivatives
``dn/dp`` once (``sympy.diff`` of that one line, written in terms of the
node's own output where that is the textbook form: sigma' = o(1 - o)), then
accumulates ``dL/dp = sum over consumers c of dL/dc * dc/dp``, the "d" of
seed 001.  Nothing is expanded: the cost is one small ``diff`` per edge.
"""

from functools import cached_property

import sympy
from sympy import Symbol

from ..errors import SympropError
from ..model.functions import INTERNAL_RULES, RULES
from .graph import Graph, Node, graph_of


class AdjointSymbol(Symbol):
    """dL/d(node): the symbol the sweep introduces for each node; ``of`` is
    the node's key, and the printers write it ∂L/∂… (``_print_AdjointSymbol``)."""

    def __new__(cls, key: str):
        symbol = super().__new__(cls, f"dL/d{key}", real=True)  # the name keeps the symbols apart
        symbol.of = key
        return symbol

    def __getnewargs_ex__(self):
        return (self.of,), {}


class Derivation:
    """The backprop derivation of a graph, in adjoint form.

    ``local[n][p]`` is dn/dp for each node n and each symbol p its line uses
    (for an unrolled recurrent node, the cell's derivative at that step);
    ``cell_local`` the same for the cell, derived once.  ``adjoints[n]`` is
    dL/dn as a sum over n's consumers, in ``AdjointSymbol``s;
    ``gradients[p]`` is dL/dp for each scalar parameter symbol.
    """

    def __init__(self, graph: Graph, local, cell_local, consumers):
        self.graph = graph
        self.local: dict[Symbol, dict[Symbol, sympy.Expr]] = local
        self.cell_local: dict[Symbol, dict[Symbol, sympy.Expr]] = cell_local
        self.consumers: dict[Symbol, list[Symbol]] = consumers
        self.adjoint_symbol = {
            n.symbol: sympy.S.One if n.symbol == graph.loss else AdjointSymbol(n.symbol.name)
            for n in graph.nodes
        }

    def accumulate(self, target: Symbol) -> sympy.Expr:
        """dL/d(target) = sum over its consumers c of dL/dc * dc/d(target)."""
        return sympy.Add(*(
            self.adjoint_symbol[c] * self.local[c][target] for c in self.consumers.get(target, [])
        ))

    @cached_property
    def adjoints(self) -> dict[Symbol, sympy.Expr]:
        loss = self.graph.loss
        return {n.symbol: self.accumulate(n.symbol) for n in reversed(self.graph.nodes) if n.symbol != loss}

    @cached_property
    def gradients(self) -> dict[Symbol, sympy.Expr]:
        return {p: self.accumulate(p) for p in self.graph.param_symbols()}


def differentiate(expr: sympy.Expr, s: Symbol, node: Symbol | None = None) -> sympy.Expr:
    """d expr / d s by the chain rule, each function's derivative taken from
    the rule table (``functions.RULES``).  When ``expr`` is one function
    applied to its argument and ``node`` is its symbol, the derivative is
    written in terms of the node's own value, the textbook form: o(1 - o)."""
    if s not in expr.free_symbols:
        return sympy.S.Zero
    if expr == s:
        return sympy.S.One
    if expr.is_Add:
        return sympy.Add(*(differentiate(a, s) for a in expr.args))
    if expr.is_Mul:
        args = expr.args
        return sympy.Add(*(
            sympy.Mul(*args[:i], differentiate(a, s), *args[i + 1:])
            for i, a in enumerate(args)
            if s in a.free_symbols
        ))
    out = node if node is not None else expr
    if expr.is_Pow:
        base, exp = expr.args
        if s not in exp.free_symbols:
            if exp == sympy.S.Half:
                return RULES["sqrt"].derivative(base, out) * differentiate(base, s)
            return exp * base ** (exp - 1) * differentiate(base, s)
        return expr * (differentiate(exp, s) * sympy.log(base) + exp * differentiate(base, s) / base)
    if isinstance(expr, sympy.Function):  # f(x), max(a, b), leaky_relu(x, slope)
        partials = _rule(expr)(expr.args, out)  # one a variable input; a literal parameter has none
        return sympy.Add(*(d * differentiate(a, s) for a, d in zip(expr.args, partials) if s in a.free_symbols))
    raise SympropError(f"no derivative rule for {type(expr).__name__}")


def _rule(expr: sympy.Function):
    """(arguments, output) -> the derivative with respect to each input."""
    func = type(expr)
    if hasattr(func, "prime"):  # an undefined activation f: f'
        return lambda args, y: [func.prime(args[0])]
    name = func.__name__
    rule = RULES.get(name) or INTERNAL_RULES.get(name)
    if rule is not None and rule.apply is func:
        return rule.partials
    raise SympropError(f"no derivative rule for the function '{name}'")


def local_derivatives(node: Node) -> dict[Symbol, sympy.Expr]:
    """dn/dp for every symbol p in the node's line, in textbook form."""
    expr = node.expr
    parts = {}  # a long sum: differentiate only the terms that hold p
    if expr.is_Add:
        for term in expr.args:
            for s in term.free_symbols:
                parts.setdefault(s, []).append(term)
    result = {}
    for parent in sorted(expr.free_symbols, key=lambda s: s.name):
        if parts:
            d = sympy.Add(*(differentiate(term, parent) for term in parts[parent]))
        else:
            d = differentiate(expr, parent, node.symbol)
        result[parent] = sympy.factor_terms(d) if d.is_Add else d  # 2*(f3 - y), not 2*f3 - 2*y
    return result


class _UnrolledLocal(dict):
    """Local derivatives of unrolled nodes, substituted from the cell's on demand."""

    def __init__(self, graph: Graph, cell_local):
        super().__init__()
        self.nodes = graph.node_by_symbol()
        self.cell_local = cell_local

    def __missing__(self, symbol: Symbol):
        n = self.nodes[symbol]
        mapped: dict[Symbol, sympy.Expr] = {}
        for parent, d in self.cell_local[n.cell.symbol].items():
            actual = n.binding.get(parent, parent)
            if isinstance(actual, Symbol):
                d = sympy.factor_terms(d.xreplace(n.binding))
                mapped[actual] = mapped[actual] + d if actual in mapped else d
        self[symbol] = mapped
        return mapped


def backprop(graph: Graph) -> Derivation:
    """Local derivatives of every node (of the cell once) and who consumes what."""
    cell_local = {n.symbol: local_derivatives(n) for n in graph.cell.nodes} if graph.cell else {}
    local = _UnrolledLocal(graph, cell_local)
    consumers: dict[Symbol, list[Symbol]] = {}
    for n in graph.nodes:
        if n.cell is None:
            local[n.symbol] = local_derivatives(n)
            parents = local[n.symbol]
        else:
            parents = {
                n.binding.get(p, p) for p in cell_local[n.cell.symbol]
            }
            parents = sorted((p for p in parents if isinstance(p, Symbol)), key=lambda s: s.name)
        for parent in parents:
            consumers.setdefault(parent, []).append(n.symbol)
    return Derivation(graph, local, cell_local, consumers)


def derivation_of(problem) -> Derivation:
    """The problem's derivation, built once."""
    if problem.built.derivation is None:
        problem.built.derivation = backprop(graph_of(problem))
    return problem.built.derivation
