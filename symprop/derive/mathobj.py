"""Display-only SymPy objects for worked solutions.

They keep what SymPy would rearrange: a product in the order a derivation
writes it, a boxed shared factor, a partial derivative d(num)/d(den).  The
printers (text, LaTeX) know them; nothing computes with them.
"""

import sympy


class Product(sympy.Expr):
    """Factors in the given order: ∂L/∂ŷ · ∂ŷ/∂o₂ · ∂o₂/∂h₂."""

    def __new__(cls, *factors):
        return sympy.Expr.__new__(cls, *factors)


class Boxed(sympy.Expr):
    """A factor shared by several gradients: computed once by backprop."""

    def __new__(cls, inner):
        return sympy.Expr.__new__(cls, inner)


class Partial(sympy.Expr):
    """The local derivative d(num)/d(den) of one edge of the graph."""

    def __new__(cls, num, den):
        return sympy.Expr.__new__(cls, num, den)


class Sum(sympy.Expr):
    """Σ over a named index of a body: Σ_{t=1}^{T} body."""

    def __new__(cls, body, index, low, high):
        return sympy.Expr.__new__(cls, body, index, low, high)


class Verbatim(sympy.Symbol):
    """A symbol whose name is printed as it is (already typeset)."""
