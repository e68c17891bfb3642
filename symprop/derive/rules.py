"""Vector-Jacobian products: one line an operation, as data.

``VJP[op](A, e, g, xs, out)`` gives the adjoint of each input of the node
``e`` from its upstream adjoint ``g``, its inputs ``xs`` and its output
``out``, in the textbook form (dA += G Bᵀ, dB += Aᵀ G for a product;
f′ in terms of the output where that is how books write it).  ``A`` is an
algebra: ``Symbolic`` here builds the formulas a derivation prints; the
evaluate layer's NumPy algebra computes numbers with the same rules, so what
is printed is what is computed.  A missing rule fails loudly.
"""

import sympy

from ..model.functions import RULES, undefined_function
from . import program as P
from .program import Op


def _shapes(e: Op) -> list:
    return [a.shape for a in e.args]


def _mul_rule(A, e, g, xs, out):
    s = _shapes(e)
    return [A.unbroadcast(A.mul(g, xs[1]), s[0]), A.unbroadcast(A.mul(g, xs[0]), s[1])]


def _div_rule(A, e, g, xs, out):
    s = _shapes(e)
    a, b = xs
    return [A.unbroadcast(A.div(g, b), s[0]),
            A.unbroadcast(A.neg(A.div(A.mul(g, a), A.power(b, 2))), s[1])]


def _powv_rule(A, e, g, xs, out):
    a, b = xs
    return [A.mul(g, A.mul(b, A.powv(a, A.add(b, A.num(-1))))),
            A.unbroadcast(A.mul(g, A.mul(A.fn("log", a), out)), None)]


VJP = {
    "neg": lambda A, e, g, xs, out: [A.neg(g)],
    "T": lambda A, e, g, xs, out: [A.T(g)],
    "add": lambda A, e, g, xs, out: [A.unbroadcast(g, s) for s in _shapes(e)],
    "mul": _mul_rule,
    "div": _div_rule,
    "pow": lambda A, e, g, xs, out: [A.mul(g, A.mul(A.num(e.extra), A.power(xs[0], e.extra - 1)))],
    "powv": _powv_rule,
    "matmul": lambda A, e, g, xs, out: [A.matmul(g, A.T(xs[1])), A.matmul(A.T(xs[0]), g)],
    "fn": lambda A, e, g, xs, out: [
        A.unbroadcast(d, a.shape) for a, d in zip(e.args, A.activation(e, xs, out, g))],
    "softmax": lambda A, e, g, xs, out: [A.softmax_back(out, g, e.extra)],
    "log_softmax": lambda A, e, g, xs, out: [A.log_softmax_back(out, g, e.extra)],
    "sum": lambda A, e, g, xs, out: [A.spread(g, e.args[0].shape)],
    # d(A⁻¹) = −A⁻ᵀ G A⁻ᵀ; d det(A) = g·det(A)·A⁻ᵀ; d log det(A) = g·A⁻ᵀ; d tr(A) = g·I
    "reshape": lambda A, e, g, xs, out: [A.reshape(g, e.args[0].shape)],
    "pad": lambda A, e, g, xs, out: [A.unpad(g, e.extra, e.args[0].shape)],
    "inv": lambda A, e, g, xs, out: [A.neg(A.matmul(A.matmul(A.T(out), g), A.T(out)))],
    "det": lambda A, e, g, xs, out: [A.mul(A.mul(g, out), A.T(A.inv(xs[0], e.args[0].shape)))],
    "logdet": lambda A, e, g, xs, out: [A.mul(g, A.T(A.inv(xs[0], e.args[0].shape)))],
    "trace": lambda A, e, g, xs, out: [A.mul(g, A.eye(e.args[0].shape))],
    "amax": lambda A, e, g, xs, out: [_extreme_rule(A, e, g, xs[0], out)],
    "amin": lambda A, e, g, xs, out: [_extreme_rule(A, e, g, xs[0], out)],
    # g ⊙ softmax(x) along the axis, written exp(x − logsumexp(x)) as the books do
    "logsumexp": lambda A, e, g, xs, out: [A.mul(g, A.fn("exp", A.add(xs[0], A.neg(out))))],
    "mean": lambda A, e, g, xs, out: [
        A.spread(A.div(g, A.num(_count(e))), e.args[0].shape)],
    "concat": lambda A, e, g, xs, out: [
        A.rows(g, start, stop, a.shape) for a, (start, stop) in zip(e.args, _spans(e))],
    "index": lambda A, e, g, xs, out: [A.place(g, e.args[0].shape, e.extra)],
    "cmp": lambda A, e, g, xs, out: [A.spread(A.num(0), a.shape) for a in e.args],  # a constant
    "take": lambda A, e, g, xs, out: [A.scatter(g, e.args[0].shape, e.extra)],
    "onehot": lambda A, e, g, xs, out: [A.spread(A.num(0), e.args[0].shape)],  # labels are data
    # each window's adjoint to its largest entry (the first, at a tie, as PyTorch)
    "max_pool": lambda A, e, g, xs, out: [A.unpool(g, xs[0], e.extra, e.args[0].shape)],
    # dX = full_conv(G, K): each entry gathers K[a, b]·G[i − a, j − b]; dK = corr2d(X, G)
    "corr2d": lambda A, e, g, xs, out: [A.full_conv(g, xs[1], e.args[0].shape), A.corr2d(xs[0], g, e.args[1].shape)],
}


def _extreme_rule(A, e: Op, g, x, out):
    """g to the entries equal to the largest (smallest), shared evenly: g ⊙ [x = m]/Σ[x = m]."""
    mask = A.equal(x, out, e.args[0].shape)
    return A.mul(g, A.div(mask, A.total(mask, e.extra, e.shape)))


def _count(e: Op) -> int:
    """How many entries a mean averages."""
    rows, cols = e.args[0].shape or (1, 1)
    return {None: rows * cols, 0: rows, 1: cols}[e.extra]


def _spans(e: Op) -> list[tuple[int, int]]:
    spans, start = [], 0
    for a in e.args:
        n = (a.shape or (1, 1))[0]
        spans.append((start, start + n))
        start += n
    return spans


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
        if shape[0] == 1 and g.shape[0] != 1:
            return Op("sum", (g,), P.one((1, g.shape[1])), extra=0)
        if shape[1] == 1 and g.shape[1] != 1:
            return Op("sum", (g,), P.one((g.shape[0], 1)), extra=1)
        return g

    @staticmethod
    def activation(e: Op, xs: tuple, y: Op, g: Op) -> list[Op]:
        """g through the function e, for each input: diag(f′(z))·g for one
        column vector, f′(z) ⊙ g (∂max/∂a ⊙ g …) otherwise."""
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
                out.append(P.mul(Op("deriv", (*xs, y), e.shape, name=name, extra=extra), g))
        return out

    @staticmethod
    def softmax_back(z: Op, g: Op, axis) -> Op:
        if axis is None:
            return P.mul(z, P.sub(g, P.matmul(P.T(z), g)))
        inner = Op("sum", (P.mul(z, g),), P.one((z.shape[0], 1) if axis == 1 else (1, z.shape[1])), extra=axis)
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
            total = Op("sum", (g,), P.one((g.shape[0], 1) if axis == 1 else (1, g.shape[1])), extra=axis)
        return P.sub(g, P.mul(p, total))

    @staticmethod
    def spread(g: Op, shape) -> Op:
        return P.mul(g, P.ones(shape))

    @staticmethod
    def rows(g: Op, start: int, stop: int, shape) -> Op:
        return Op("rows", (g,), shape, extra=(start, stop))

    @staticmethod
    def place(g: Op, shape, index) -> Op:
        return Op("place", (g,), shape, extra=index)

    @staticmethod
    def unpad(g: Op, margins, shape) -> Op:
        """The entries of g inside the margins a pad added: (g)[p:-p, q:-q]."""
        (p, q), (rows, cols) = margins, shape or (1, 1)
        written = f"[{p}:-{p}, {q}:-{q}]" if q else f"[{p}:-{p}]"
        return Op("take", (g,), shape, name=written, extra=(tuple(range(p, p + rows)), tuple(range(q, q + cols))))

    @staticmethod
    def reshape(g: Op, shape) -> Op:
        return Op("reshape", (g,), shape, extra=shape or (1, 1))

    @staticmethod
    def inv(x: Op, shape) -> Op:
        return Op("inv", (x,), shape)

    @staticmethod
    def eye(shape) -> Op:
        return Op("eye", shape=shape)

    @staticmethod
    def equal(x: Op, m: Op, shape) -> Op:
        return Op("cmp", (x, m), shape, extra="==")

    @staticmethod
    def total(x: Op, axis, shape) -> Op:
        return Op("sum", (x,), shape, extra=axis)

    @staticmethod
    def corr2d(x: Op, k: Op, shape) -> Op:
        return Op("corr2d", (x, k), shape)

    @staticmethod
    def full_conv(g: Op, k: Op, shape) -> Op:
        """The full convolution of g with k, the size of corr2d's input."""
        return Op("full_conv", (g, k), shape)

    @staticmethod
    def unpool(g: Op, x: Op, sizes, shape) -> Op:
        """g at the largest entry of each window of x, zeros elsewhere."""
        return Op("unpool", (g, x), shape, extra=sizes)

    @staticmethod
    def scatter(g: Op, shape, taken) -> Op:
        """g in the entries a slice took, zeros elsewhere."""
        return Op("scatter", (g,), shape, extra=taken)
