"""Vector-Jacobian products: each operation's rule, from its record.

``VJP[op](A, e, g, xs, out)`` (``model/operations.py``) gives the adjoint of each input of the node
``e`` from its upstream adjoint ``g``, its inputs ``xs`` and its output
``out``, in the textbook form (dA += G Bᵀ, dB += Aᵀ G for a product;
f′ in terms of the output where that is how books write it).  ``A`` is an
algebra: ``Symbolic`` here builds the formulas a derivation prints; the
evaluate layer's NumPy algebra computes numbers with the same rules, so what
is printed is what is computed.  A missing rule fails loudly.
"""

import sympy

from ..model.functions import RULES, undefined_function
from ..model.operations import OPERATIONS
from . import ops as P
from .program import Op

VJP = {name: record.vjp for name, record in OPERATIONS.items() if record.vjp is not None}


def vjp(A, e: Op, g, xs, out) -> list:
    rule = VJP.get(e.op)
    if rule is None:
        raise KeyError(f"no vector-Jacobian rule for {e.op!r}")
    return rule(A, e, g, xs, out)


class Symbolic:
    """The algebra of formulas: builds ``Op`` trees, simplified as people write them."""

    neg = staticmethod(P.neg)
    T = staticmethod(P.T)
    mul = staticmethod(P.mul)
    div = staticmethod(P.div)
    add = staticmethod(P.add)
    power = staticmethod(P.power)
    matmul = staticmethod(P.matmul)
    is_zero = staticmethod(P.is_zero)

    @staticmethod
    def num(v) -> Op:
        return P.scalar(v)

    @staticmethod
    def powv(a, b) -> Op:
        return Op("powv", (a, b), a.shape)

    @staticmethod
    def fn(name, a) -> Op:
        return Op("fn", (a,), a.shape, name=name)

    @staticmethod
    def unbroadcast(g: Op, shape) -> Op:
        """A value spread over more entries gets the sum of their adjoints."""
        if g.shape == shape or g.shape is None:
            return g
        if shape is None:
            return Op("sum", (g,), None)
        axes = P.summed_axes(g.shape, shape)
        if len(axes) == 1 and len(g.shape) == len(shape) == 2:  # a matrix's rows or columns: sum(G, 0)
            return Op("sum", (g,), shape, extra=axes[0])
        return Op("sum", (g,), shape, extra=axes) if axes else g

    @staticmethod
    def activation(e: Op, xs: tuple, y: Op, g: Op) -> list[Op]:
        """g through the function e, for each input: diag(f′(z))·g for one
        column vector, g ⊙ f′(z) (g ⊙ ∂max/∂a …) otherwise, upstream first as the chain rule reads."""
        name, ys = e.name, sympy.Symbol("y", real=True)
        rule = RULES.get(name)
        names = ("x",) if rule is None or rule.inputs == 1 else ("a", "b")
        symbols = tuple(sympy.Symbol(s, real=True) for s in names)
        if rule is None:
            partials = [undefined_function(name).prime(symbols[0])]
        else:
            partials = rule.partials([*symbols, *(P.number_of(p) for p in e.extra or ())], ys)
        x = xs[0]
        out = []
        for d in partials:
            extra = (d, (*symbols, ys))
            if len(xs) == 1 and x.shape is not None and x.shape[1] == 1 and x.shape[0] > 1:  # the Jacobian diag(f′)
                out.append(P.matmul(Op("diag", (x, y), x.shape, name=name, extra=extra), g))
            else:
                out.append(P.mul(g, Op("deriv", (*xs, y), e.shape, name=name, extra=extra)))  # the chain's order
        return out

    @staticmethod
    def softmax_back(z: Op, g: Op, axis) -> Op:
        if axis is None:
            return P.mul(z, P.sub(g, P.matmul(P.T(z), g)))
        inner = Op("sum", (P.mul(z, g),), P.kept(z.shape, axis), extra=axis)
        return P.mul(z, P.sub(g, inner))

    @staticmethod
    def log_softmax_back(out: Op, g: Op, axis) -> Op:
        """g − softmax(z)·sum(g) along the axis; softmax(z) is exp of the output."""
        if out.op == "log_softmax":
            p = Op("softmax", out.args, out.shape, extra=out.extra)
        else:
            p = Op("fn", (out,), out.shape, name="exp")
        if axis is None:
            total = Op("sum", (g,), None)
        else:
            total = Op("sum", (g,), P.kept(g.shape, axis), extra=axis)
        return P.sub(g, P.mul(p, total))

    @staticmethod
    def spread(g: Op, shape) -> Op:
        return P.mul(g, P.ones(shape))

    @staticmethod
    def unpad(g: Op, margins, shape) -> Op:
        """The entries of g inside the margins a pad added: (g)[p:-p, q:-q]."""
        (p, q), (rows, cols) = margins, shape or (1, 1)
        written = f"[{p}:-{p}, {q}:-{q}]" if q else f"[{p}:-{p}]"
        return Op("take", (g,), shape, name=written, extra=(tuple(range(p, p + rows)), tuple(range(q, q + cols))))

    @staticmethod
    def op(name: str, args, shape, extra=None, label: str = "") -> Op:
        """An operation a rule asks for by name (unpool, full_conv …), as a node of the formula."""
        return Op(name, tuple(args), shape, name=label, extra=extra)
