"""Back-substitution into closed form, with a size guard.

The adjoint form is always small; the closed form of a deep network is not
(it repeats each layer's expression in every gradient below it), so the
substitution estimates the size of every result first and stops, with a
clear message, before building anything larger than ``MAX_TERMS``.
"""

import sympy
from sympy import ImmutableMatrix, Symbol

from ..errors import SympropError
from .backprop import Derivation
from .graph import Quantity

MAX_TERMS = 5_000  # nodes of the expression tree of one closed form
TOO_LARGE = 10**9


MAX_DEPTH = 150  # nesting of one closed form: SymPy's printers and xreplace recurse on it


def tree_size(expr: sympy.Basic) -> int:
    return sum(1 for _ in sympy.preorder_traversal(expr))


def tree_depth(expr: sympy.Basic) -> int:
    """The nesting of an expression tree, without recursion."""
    deepest, stack = 0, [(expr, 1)]
    while stack:
        e, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((a, depth + 1) for a in e.args)
    return deepest


class ClosedForms:
    """Closed forms of node values, adjoints and gradients, built on demand."""

    def __init__(self, derivation: Derivation, limit: int = MAX_TERMS):
        self.d = derivation
        self.limit = limit
        self.nodes = {n.symbol: n for n in derivation.graph.nodes}
        self.value: dict[Symbol, sympy.Expr] = {}
        self.value_size: dict[Symbol, int] = {}
        self.value_depth: dict[Symbol, int] = {}
        self.adjoint: dict[Symbol, sympy.Expr] = {}
        self.adjoint_size: dict[Symbol, int] = {}

    def _substitute(self, expr: sympy.Expr) -> tuple[sympy.Expr | None, int]:
        """expr with every node symbol replaced by its closed form, and its size."""
        symbols = [s for s in expr.free_symbols if s in self.nodes]
        self._values_up_to(symbols)
        if any(self.value[s] is None for s in symbols):
            return None, TOO_LARGE
        if tree_depth(expr) + max((self.value_depth[s] for s in symbols), default=0) > MAX_DEPTH:
            return None, TOO_LARGE  # tanh(w·tanh(w·…)) of 600 lines is small but too deep to print
        size = tree_size(expr) + sum(expr.count(s) * (self.value_size[s] - 1) for s in symbols)
        if size > self.limit:
            return None, size
        return expr.xreplace({s: self.value[s] for s in symbols}), size

    def _values_up_to(self, symbols) -> None:
        missing = [s for s in symbols if s not in self.value]
        if not missing:
            return
        for n in self.d.graph.nodes:  # in order, so parents come first
            if n.symbol not in self.value:
                self.value[n.symbol], self.value_size[n.symbol] = self._substitute(n.expr)
                self.value_depth[n.symbol] = tree_depth(n.expr) + max(
                    (self.value_depth.get(s, 0) for s in n.expr.free_symbols if s in self.nodes), default=0)
            if all(s in self.value for s in missing):
                return

    def of_value(self, symbol: Symbol) -> sympy.Expr | None:
        """The closed form of a node's value, or None past the size limit."""
        self._values_up_to([symbol])
        return self.value[symbol]

    def of_adjoint(self, symbol: Symbol) -> sympy.Expr | None:
        """dL/d(node) or dL/d(param) in closed form, or None past the limit."""
        if not self.adjoint:
            loss = self.d.graph.loss
            self.adjoint[loss], self.adjoint_size[loss] = sympy.S.One, 1
            for n in reversed(self.d.graph.nodes):  # consumers come first
                if n.symbol != loss:
                    self._accumulate(n.symbol)
        if symbol not in self.adjoint:
            self._accumulate(symbol)
        return self.adjoint[symbol]

    def _accumulate(self, symbol: Symbol) -> None:
        terms, size = [], 0
        for c in self.d.consumers.get(symbol, []):
            upstream = self.adjoint[c]
            local, local_size = (
                self._substitute(self.d.local[c][symbol]) if upstream is not None else (None, 0)
            )
            size += local_size + self.adjoint_size[c]
            if local is None or size > self.limit:
                self.adjoint[symbol], self.adjoint_size[symbol] = None, TOO_LARGE
                return
            terms.append(upstream * local)
        self.adjoint[symbol], self.adjoint_size[symbol] = sympy.Add(*terms), size

    def of_quantity_gradient(self, q: Quantity):
        if isinstance(q.value, ImmutableMatrix):
            parts = q.value.applyfunc(self.of_adjoint)
            return None if any(p is None for p in parts) else parts
        return self.of_adjoint(q.value)


def closed_gradients(derivation: Derivation) -> dict:
    """{param name: closed form} (a matrix for a matrix parameter)."""
    forms = ClosedForms(derivation)
    result = {}
    for q in derivation.graph.params:
        g = forms.of_quantity_gradient(q)
        if g is None:
            raise SympropError(
                f"the closed form of dL/d{q.name} would have more than {forms.limit} terms; "
                "use the adjoint form (symprop derive) instead",
                where=derivation.graph.problem.origin,
            )
        result[q.name] = g
    return result
