"""Expression trees of the array engine: ``Op`` nodes with their shapes, and
the algebra that builds them simplified as people write them (Aᵀᵀ = A,
(AB)ᵀ = BᵀAᵀ, 0·X = 0, 1·X = X), with NumPy's broadcasting of shapes.

A shape is None for a scalar, (n, 1) for a 1-d vector (kept as a column) or a
column, (r, c) for a matrix, and the whole tuple for an array of more axes.
"""

import math
from dataclasses import dataclass

import sympy

from ..errors import SympropError

Shape = tuple[int, ...] | None  # None: a scalar; (n, 1): a 1-d vector or a column; (r, c); or N-d (3 axes or more)


@dataclass(frozen=True)
class Op:
    """A node of an expression tree.

    op: leaf, at (a named value at a fixed step), num, neg, T, add, mul
    (elementwise; a scalar or a row/column broadcasts), div, pow (a constant
    exponent in ``extra``), powv (any exponent), matmul, fn (``name``: an
    activation of one input, or max/min of two; ``extra``: the literal
    parameters, as leaky_relu's slope, or None), softmax / log_softmax / sum /
    mean (``extra``: the axis or None), concat,
    index (``extra``: (i,) an entry of a vector, ("row", i), or (i, j)),
    ones; and for derivations: adj (dL/d a named value), delta (dL/d the
    argument of an activation), diag and deriv (an activation's derivative
    with respect to one input, ``args`` its inputs and its output, ``extra`` =
    (the derivative in SymPy, the symbols that stand for ``args``), as a
    diagonal matrix or entry by entry).
    """

    op: str
    args: tuple = ()
    shape: Shape = None
    name: str = ""
    step: int | None = None
    extra: object = None


def one(shape) -> Shape:
    """A 1x1 counts as a scalar."""
    return None if shape in (None, (1, 1)) else tuple(shape)


def size(shape: Shape) -> int:
    return 1 if shape is None else math.prod(shape)


def is_nd(shape: Shape) -> bool:
    """An array of three axes or more (a batch of images N×C×H×W)."""
    return shape is not None and len(shape) > 2


def describe(shape: Shape, flat: bool = False) -> str:
    if shape is None:
        return "a 1-d vector of 1" if flat else "a scalar"
    return f"a 1-d vector of {shape[0]}" if flat else "x".join(map(str, shape))


def summed_axes(source: tuple, target: tuple) -> tuple[int, ...]:
    """The axes an adjoint of shape ``source`` is summed over to give one of shape
    ``target``, NumPy's broadcasting undone: the axes it put in front, and those
    where ``target`` has 1 repeated."""
    lead = len(source) - len(target)
    return tuple(range(lead)) + tuple(lead + k for k, n in enumerate(target) if n == 1 and source[lead + k] != 1)


def kept(shape: Shape, axis) -> Shape:
    """The shape of a reduction over ``axis`` (an int or a tuple) that keeps it, size 1."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    return one(tuple(1 if k in axes else n for k, n in enumerate(shape)))


def step_key(name: str, step: int | None) -> str:
    """``h[t]``, ``h[t-1]`` for an offset from t; ``name`` without one."""
    if step is None:
        return name
    return f"{name}[t]" if step == 0 else f"{name}[t{step:+d}]"


def scalar(value) -> Op:
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, sympy.Integer):
        value = int(value)
    return Op("num", extra=value)


ONE = scalar(1)


ZERO = scalar(0)


def is_zero(m: Op) -> bool:
    return m.op == "num" and m.extra == 0


def number_of(v):
    if isinstance(v, sympy.Basic):
        return v
    return sympy.Integer(v) if isinstance(v, int) else sympy.Float(v)


def T(m: Op) -> Op:
    """The transpose, simplified: (Aᵀ)ᵀ = A, (AB)ᵀ = BᵀAᵀ, a scalar is its own."""
    if m.shape is None:
        return m
    if m.op == "T":
        return m.args[0]
    if m.op == "matmul":
        return matmul(T(m.args[1]), T(m.args[0]))
    if m.op == "neg":
        return neg(T(m.args[0]))
    if m.op == "mul" and m.args[0].shape is None:  # (s·X)ᵀ = Xᵀ·s
        return mul(T(m.args[1]), m.args[0])
    return Op("T", (m,), (m.shape[1], m.shape[0]))


def matmul(a: Op, b: Op) -> Op:
    if is_zero(a) or is_zero(b):
        return ZERO
    if a.shape is None or b.shape is None:
        return mul(a, b)
    return Op("matmul", (a, b), one((a.shape[0], b.shape[1])))


def broadcast(a: Shape, b: Shape) -> Shape:
    """The shape of an elementwise result, by NumPy's rule: along each axis the
    sizes are equal or one of them is 1, which is repeated (a scalar, a 1xm
    row or an nx1 column fits an nxm matrix; a column and a row make a matrix)."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    n = max(len(a), len(b))
    wide_a, wide_b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)  # aligned at the last axis
    if all(x == y or 1 in (x, y) for x, y in zip(wide_a, wide_b)):
        return one(tuple(max(x, y) for x, y in zip(wide_a, wide_b)))
    raise SympropError(f"needs operands of the same shape, got {describe(a)} and {describe(b)}; "
                       "only an axis of size 1 is repeated to fit (NumPy's broadcasting)")


def add(a: Op, b: Op) -> Op:
    if is_zero(a):
        return b
    if is_zero(b):
        return a
    return Op("add", (a, b), broadcast(a.shape, b.shape))


def sub(a: Op, b: Op) -> Op:
    return add(a, neg(b))


def neg(a: Op) -> Op:
    if is_zero(a):
        return a
    if a.op == "num":
        return scalar(-a.extra)
    return a.args[0] if a.op == "neg" else Op("neg", (a,), a.shape)


def mul(a: Op, b: Op) -> Op:
    if is_zero(a) or is_zero(b):
        return ZERO
    if a == ONE:
        return b
    if b == ONE:
        return a
    if a.op == "ones" and b.shape == a.shape:  # 𝟙 ⊙ B = B
        return b
    if b.op == "ones" and a.shape is not None and a.shape == b.shape:
        return a
    if a.op == "mul" and a.args[1].op == "ones" and a.args[0].shape is None and b.shape == a.shape:
        return mul(a.args[0], b)  # (s·𝟙) ⊙ B = s·B
    if a.op == "num" and b.op == "num":
        return scalar(number_of(a.extra) * number_of(b.extra))
    if a.op == "num" and b.op == "mul" and b.args[0].op == "num":
        return mul(scalar(number_of(a.extra) * number_of(b.args[0].extra)), b.args[1])
    if a.op == "neg":
        return neg(mul(a.args[0], b))
    if b.op == "neg":
        return neg(mul(a, b.args[0]))
    if b.op == "num" and a.op != "num":  # numbers first: 2·x
        return mul(b, a)
    return Op("mul", (a, b), broadcast(a.shape, b.shape))


def div(a: Op, b: Op) -> Op:
    if is_zero(a):
        return ZERO
    if b == ONE:
        return a
    if b.op == "num":  # a/2 = ½·a, so that numbers meet and fold
        return mul(scalar(sympy.Integer(1) / number_of(b.extra)), a)
    return Op("div", (a, b), broadcast(a.shape, b.shape))


def power(a: Op, k) -> Op:
    if k == 1:
        return a
    if k == 0:
        return ONE if a.shape is None else Op("ones", shape=a.shape)
    return Op("pow", (a,), a.shape, extra=k)


def ones(shape: Shape) -> Op:
    return ONE if shape is None else Op("ones", shape=shape)


def shift(m: Op, by: int) -> Op:
    """The same expression ``by`` steps later (h[t-1] -> h[t])."""
    if m.op in ("leaf", "adj", "delta") and m.step is not None:
        return Op(m.op, m.args, m.shape, m.name, m.step + by, m.extra)
    if not m.args:
        return m
    return Op(m.op, tuple(shift(a, by) for a in m.args), m.shape, m.name, m.step, m.extra)


def leaves_of(m: Op):
    """Every leaf and fixed-step reference in the tree."""
    stack = [m]
    while stack:
        e = stack.pop()
        if e.op in ("leaf", "at"):
            yield e
        stack.extend(e.args)


def walk(e: "Op"):
    """Every node of an expression tree, without recursion."""
    stack = [e]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(x.args)
