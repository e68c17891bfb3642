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

from .errors import SympropError
from .functions import INTERNAL_RULES, RULES
from .graph import Graph, Node


class AdjointSymbol(Symbol):
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
    ``adjoints[n]`` is dL/dn as a sum over n's consumers, in ``AdjointSymbol``
    symbols; ``gradients[p]`` is dL/dp for each scalar parameter symbol.
    """

    graph: Graph
    local: dict[Symbol, dict[Symbol, sympy.Expr]]
    consumers: dict[Symbol, list[Symbol]]
    adjoint_symbol: dict[Symbol, sympy.Expr]  # 1 for the loss
    adjoints: dict[Symbol, sympy.Expr]
    gradients: dict[Symbol, sympy.Expr]


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
    if isinstance(expr, sympy.Function) and len(expr.args) == 1:
        (arg,) = expr.args
        return _rule(expr)(arg, out) * differentiate(arg, s)
    raise SympropError(f"no derivative rule for {type(expr).__name__}")


def _rule(expr: sympy.Function):
    func = type(expr)
    if hasattr(func, "prime"):  # an undefined activation f: f'
        return lambda x, y: func.prime(x)
    name = func.__name__
    rule = RULES.get(name) or INTERNAL_RULES.get(name)
    if rule is not None and rule.apply is func:
        return rule.derivative
    raise SympropError(f"no derivative rule for the function '{name}'")


def local_derivatives(node: Node) -> dict[Symbol, sympy.Expr]:
    """dn/dp for every symbol p in the node's line, in textbook form."""
    result = {}
    for parent in sorted(node.expr.free_symbols, key=lambda s: s.name):
        d = differentiate(node.expr, parent, node.symbol)
        result[parent] = sympy.factor_terms(d)  # 2*(f3 - y), not 2*f3 - 2*y
    return result


def backprop(graph: Graph) -> Derivation:
    local = {n.symbol: local_derivatives(n) for n in graph.nodes}
    consumers: dict[Symbol, list[Symbol]] = {}
    for n in graph.nodes:
        for parent in local[n.symbol]:
            consumers.setdefault(parent, []).append(n.symbol)
    adjoint_symbol = {
        n.symbol: sympy.S.One if n.symbol == graph.loss else AdjointSymbol(n.symbol.name)
        for n in graph.nodes
    }

    def accumulate(target: Symbol) -> sympy.Expr:
        return sympy.Add(
            *(adjoint_symbol[c] * local[c][target] for c in consumers.get(target, []))
        )

    adjoints = {n.symbol: accumulate(n.symbol) for n in reversed(graph.nodes) if n.symbol != graph.loss}
    gradients = {p: accumulate(p) for p in graph.param_symbols()}
    return Derivation(graph, local, consumers, adjoint_symbol, adjoints, gradients)
