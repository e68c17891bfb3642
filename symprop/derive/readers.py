"""How the reader of equations (``program._Reader``) reads the operations of
the courses (convolutions, pooling, shapes, linear algebra, labels, choices,
reductions) and NumPy's indexing: one method an operation, each checking its
arguments' shapes and building its ``Op``."""

import ast
import copy
import math
from dataclasses import replace

from ..errors import SympropError
from ..model.functions import COMPARISONS, COMPOSED
from ..model.parse import SOFTMAX, TIME, check_call, parse_syntax
from .ops import (
    ONE,
    Op,
    Shape,
    T,
    broadcast,
    describe,
    is_nd,
    kept,
    matmul,
    one,
    size,
)


class Operations:
    """The courses' operations, a method each (mixed into ``program._Reader``)."""

    def outer_product(self, node: ast.Call) -> Op:
        """outer(a, b) = a bᵀ of two vectors (or scalars), a matrix, as NumPy's outer."""
        a, b = (self.build(x) for x in node.args)
        for x, arg in ((a, node.args[0]), (b, node.args[1])):
            if self.ndim(x) >= 2:
                raise SympropError(f"outer() takes vectors, but {_snippet(arg)} is {describe(x.shape)}")
        self.rebuild[id(node)] = lambda n, _: ast.BinOp(n.args[0], ast.MatMult(), ast.Attribute(n.args[1], "T", ast.Load()))
        return self.mark(matmul(a, T(b)), 2)

    def corr2d(self, node: ast.Call) -> Op:
        """corr2d(X, K) as d2l's: Y[i, j] = Σ_ab X[i + a, j + b]·K[a, b] (stride 1, no
        padding), PyTorch's conv2d of one channel."""
        x, k = (self.build(a) for a in node.args)
        for v, arg in ((x, node.args[0]), (k, node.args[1])):
            if self.ndim(v) != 2:
                raise SympropError(f"corr2d() takes matrices (lists of lists), but {_snippet(arg)} is "
                                   f"{describe(v.shape, self.ndim(v) == 1)}")
        (h, w), (kh, kw) = x.shape or (1, 1), k.shape or (1, 1)
        if kh > h or kw > w:
            raise SympropError(f"corr2d(): a {kh}x{kw} kernel does not fit in {h}x{w}")
        return self.mark(Op("corr2d", (x, k), one((h - kh + 1, w - kw + 1))), 2)

    def reshape(self, node: ast.Call) -> Op:
        """NumPy's flatten and reshape, row by row (C order); a 1-d result is kept as a column."""
        name, x = node.func.id, self.build(node.args[0])
        sizes = [_integer(a) for a in node.args[1:]]
        n = size(x.shape)
        target = [n] if name == "flatten" else _sizes(sizes, n, describe(x.shape, self.ndim(x) == 1))
        shape = (target[0], 1) if len(target) == 1 else tuple(target)
        if not is_nd(x.shape) and len(target) <= 2:  # the entry-by-entry engine reads it with the sizes
            self.rebuild[id(node)] = lambda n, _: ast.Call(ast.Name("reshape", ast.Load()), [
                n.args[0], *(ast.Constant(v) for v in shape)], [])
        written = "flatten" if name == "flatten" else ", ".join(map(str, sizes))  # as the text prints it
        return self.mark(Op("reshape", (x,), one(shape), name=written, extra=shape), len(target))

    def transpose_axes(self, node: ast.Call) -> Op:
        """NumPy's transpose(X, axes): the axes in a new order (all reversed without
        them); of a matrix the transpose, of a 1-d vector the vector itself."""
        x, axes = self.build(node.args[0]), [_integer(a) for a in node.args[1:]]
        ndim = self.ndim(x)
        order = axes or list(range(ndim))[::-1]
        if sorted(order) != list(range(ndim)):
            raise SympropError(f"transpose(): the axes of {_snippet(node.args[0])} are 0 to {ndim - 1}, "
                               f"each once, got {', '.join(map(str, axes))}")
        if ndim <= 2:
            swap = order == [1, 0]
            self.rebuild[id(node)] = lambda n, _: ast.Attribute(n.args[0], "T", ast.Load()) if swap else n.args[0]
            return self.mark(T(x), 2) if swap else x
        shape = tuple(x.shape[k] for k in order)
        return self.mark(Op("permute", (x,), shape, extra=tuple(order)), ndim)

    def conv2d(self, node: ast.Call) -> Op:
        """conv2d(X, K, stride, padding) as PyTorch's F.conv2d: of one channel, corr2d
        of X padded with zeros, every stride-th entry (read, and printed, as that); of
        images N×C×H×W (or C×H×W) and kernels O×C×kh×kw, the operation itself."""
        stride, padding = [a.value for a in node.args[2:]] + [1, 0][len(node.args) - 2:]
        images = self.build(node.args[0])
        if is_nd(images.shape):
            return self.channels(node, images, self.build(node.args[1]), stride, padding)
        x, k = (ast.unparse(a) for a in node.args[:2])
        text = f"corr2d(pad({x}, {padding}), {k})" if padding else f"corr2d({x}, {k})"
        return self.read_as(node, f"({text})[::{stride}, ::{stride}]" if stride > 1 else text)

    def channels(self, node: ast.Call, x: Op, k: Op, stride: int, padding: int) -> Op:
        """conv2d of images with several channels: Y[n, o] = Σ_c corr2d(X[n, c], K[o, c])."""
        if self.ndim(k) != 4 or len(x.shape) > 4:
            raise SympropError(f"conv2d() of images takes X as N×C×H×W (or C×H×W) and K as O×C×kh×kw, but "
                               f"{_snippet(node.args[0])} is {describe(x.shape)} and {_snippet(node.args[1])} "
                               f"is {describe(k.shape, self.ndim(k) == 1)}")
        (*lead, c, h, w), (o, kc, kh, kw) = x.shape, k.shape
        if kc != c:
            raise SympropError(f"conv2d(): the kernel has {kc} input channels and the images {c}")
        h, w = h + 2 * padding, w + 2 * padding
        if kh > h or kw > w:
            raise SympropError(f"conv2d(): a {kh}x{kw} kernel does not fit in {h}x{w}")
        shape = (*lead, o, (h - kh) // stride + 1, (w - kw) // stride + 1)
        return self.mark(Op("conv2d", (x, k), shape, extra=(stride, padding)), len(shape))

    def pad(self, node: ast.Call) -> Op:
        """NumPy's np.pad(X, p) with zeros: p on every side (a 1-d vector at both ends)."""
        x, p = self.at_most_2d(self.build(node.args[0]), node.args[0], "pad()"), node.args[1].value
        rows, cols = x.shape or (1, 1)
        ndim = max(self.ndim(x), 1)
        q = p if ndim == 2 else 0  # a 1-d vector is kept as a column: only its rows grow
        self.rebuild[id(node)] = lambda n, _: ast.Call(ast.Name("pad", ast.Load()), [
            n.args[0], ast.Constant(p), ast.Constant(q)], [])
        return self.mark(Op("pad", (x,), one((rows + 2 * p, cols + 2 * q)), name=str(p), extra=(p, q)), ndim)

    def conv1d(self, node: ast.Call) -> Op:
        """conv1d(x, k) of two 1-d vectors: y[i] = Σ_a x[i + a]·k[a], PyTorch's conv1d of one channel."""
        x, k = (self.build(a) for a in node.args)
        for v, arg in ((x, node.args[0]), (k, node.args[1])):
            if self.ndim(v) != 1:
                raise SympropError(f"conv1d() takes vectors (lists), but {_snippet(arg)} is "
                                   f"{describe(v.shape, False)}")
        n, m = (x.shape or (1, 1))[0], (k.shape or (1, 1))[0]
        if m > n:
            raise SympropError(f"conv1d(): a kernel of {m} does not fit in a vector of {n}")
        self.rebuild[id(node)] = lambda c, _: ast.Call(ast.Name("corr2d", ast.Load()), c.args, [])
        return self.mark(Op("corr2d", (x, k), one((n - m + 1, 1)), name="conv1d"), 1)

    def linalg(self, node: ast.Call) -> Op:
        """inv, det, logdet and trace of a square matrix, as numpy.linalg."""
        name, a = node.func.id, self.build(node.args[0])
        if self.ndim(a) != 2 or (a.shape is not None and a.shape[0] != a.shape[1]):
            raise SympropError(f"{name}() takes a square matrix (a list of lists), but {_snippet(node.args[0])} "
                               f"is {describe(a.shape, self.ndim(a) == 1)}")
        if a.shape is None:  # a 1x1 matrix: its inverse 1/a, its determinant and trace a
            return self.read_as(node, {"inv": "1 / ({})", "logdet": "log({})"}.get(name, "{}").format(
                ast.unparse(node.args[0])))
        return self.mark(Op(name, (a,), a.shape if name == "inv" else None), 2 if name == "inv" else 0)

    def max_pool(self, node: ast.Call) -> Op:
        """max_pool2d(X, k[, stride]) as PyTorch's F.max_pool2d of one channel (stride k
        by default): the largest entry of each window; its gradient goes to that entry."""
        x = self.build(node.args[0])
        k = node.args[1].value
        stride = node.args[2].value if len(node.args) > 2 else k
        if self.ndim(x) < 2:
            raise SympropError(f"max_pool2d() takes a matrix (a list of lists) or images (…×H×W), but "
                               f"{_snippet(node.args[0])} is {describe(x.shape, self.ndim(x) == 1)}")
        *lead, h, w = x.shape or (1, 1)
        if k > h or k > w:
            raise SympropError(f"max_pool2d(): a {k}x{k} window does not fit in {h}x{w}")
        shape = one((*lead, (h - k) // stride + 1, (w - k) // stride + 1))
        return self.mark(Op("max_pool", (x,), shape, extra=(k, stride)), self.ndim(x))

    def compare(self, node: ast.Compare) -> Op:
        """``a < b`` (also <=, >, >=): 1 where it holds and 0 elsewhere, as
        NumPy's booleans count, a constant of the parameters (its derivative is 0)."""
        if len(node.ops) != 1:
            raise SympropError("a chain of comparisons is not allowed: compare two values at a time")
        kind = type(node.ops[0]).__name__
        if kind not in COMPARISONS:
            raise SympropError(f"a comparison is <, <=, > or >=, got {kind}")
        relation, h0 = COMPARISONS[kind]
        (a, b), shape, ndim = self.elementwise([self.build(node.left), self.build(node.comparators[0])],
                                               [node.left, node.comparators[0]], relation)

        def heaviside(n: ast.Compare, _) -> ast.AST:  # [a < b] = H(b - a) with H(0) = 0; [a <= b] with H(0) = 1
            left, right = n.left, n.comparators[0]
            d = ast.BinOp(right, ast.Sub(), left) if relation in ("<", "<=") else ast.BinOp(left, ast.Sub(), right)
            return ast.Call(ast.Name("heaviside", ast.Load()), [d, ast.Constant(h0)], [])

        self.rebuild[id(node)] = heaviside
        return self.mark(Op("cmp", (a, b), shape, extra=relation), ndim)

    def composed(self, node: ast.Call) -> Op:
        """A function that is its definition (var, std, norm): read as that text."""
        axis = check_call(node)
        return self.read_as(node, COMPOSED[node.func.id].format(
            x=ast.unparse(node.args[0]), y=ast.unparse(node.args[-1]), axis="" if axis is None else f", {axis}"))

    def read_as(self, node, text: str) -> Op:
        """``node`` read as ``text`` means (its definition), in the text both engines read."""
        body = copy.deepcopy(parse_syntax(text).body)  # the column reading rewrites it: not the shared tree
        self.rebuild[id(node)] = lambda n, columns: columns.visit(body)
        return self.build(body)

    def onehot(self, node: ast.Call) -> Op:
        """onehot(y, C): row i is 1 at column y_i (whole numbers from 0 to C − 1), as F.one_hot."""
        y, classes = self.build(node.args[0]), node.args[1].value
        if self.ndim(y) >= 2:
            raise SympropError(f"onehot() takes labels as a list (1-d), but {_snippet(node.args[0])} is "
                               f"{describe(y.shape)}")
        return self.mark(Op("onehot", (y,), one(((y.shape or (1,))[0], classes)), extra=classes), 2)

    def cross_entropy(self, node: ast.Call) -> Op:
        """cross_entropy(Z, y) as PyTorch's F.cross_entropy: logits Z (a row per
        sample), integer labels y, the mean over the rows."""
        z_text, y_text = (ast.unparse(a) for a in node.args)
        z = self.at_most_2d(self.build(node.args[0]), node.args[0], "cross_entropy()")
        if self.ndim(z) == 0:
            raise SympropError("cross_entropy() takes logits as a vector or a matrix (a row per sample)")
        if self.ndim(z) == 1:
            return self.read_as(node, f"-sum(log_softmax({z_text}) * onehot({y_text}, {z.shape[0]}))")
        classes = z.shape[1] if z.shape else 1
        return self.read_as(node, f"-mean(sum(log_softmax({z_text}, 1) * onehot({y_text}, {classes}), 1))")

    def no_range(self, node: ast.Call) -> Op:
        raise SympropError(f"{node.func.id}() picks the rows of a gather: write P[{node.func.id}(N), y]")

    def where(self, node: ast.Call) -> Op:
        """NumPy's where(a < b, x, y): x where the comparison holds, y elsewhere,
        written m ⊙ x + (1 − m) ⊙ y; the gradient goes to the branch taken, as in PyTorch."""
        if not isinstance(node.args[0], ast.Compare):
            raise SympropError("where() takes a comparison first: where(a < b, x, y)")
        parts = [self.build(a) for a in node.args]
        ndim = max(self.ndim(p) for p in parts)
        (m, x, y), shape, _ = self.elementwise(parts, node.args, "where()")
        rest = Op("add", (ONE, Op("neg", (m,), m.shape)), m.shape)
        chosen = Op("mul", (m, x), broadcast(m.shape, x.shape))
        other = Op("mul", (rest, y), broadcast(m.shape, y.shape))
        self.rebuild[id(node)] = lambda n, _: ast.BinOp(
            ast.BinOp(n.args[0], ast.Mult(), n.args[1]), ast.Add(),
            ast.BinOp(ast.BinOp(ast.Constant(1), ast.Sub(), n.args[0]), ast.Mult(), n.args[2]))
        return self.mark(Op("add", (chosen, other), shape), ndim)

    def concat(self, parts: list[Op]) -> Op:
        for k, p in enumerate(parts, start=1):
            if p.shape is not None and (is_nd(p.shape) or p.shape[1] != 1):
                raise SympropError(f"concat() stacks column vectors and scalars, but argument {k} "
                                   f"is {describe(p.shape)}")
        rows = sum((p.shape or (1, 1))[0] for p in parts)
        return self.mark(Op("concat", tuple(parts), one((rows, 1))), 2 if max(map(self.ndim, parts)) == 2 else 1)

    def reduction(self, name: str, arg: Op, axis: int | None) -> Op:
        ndim = self.ndim(arg)
        if axis is not None and axis >= max(ndim, 1):  # NumPy takes axis 0 of a scalar
            if ndim >= 2:
                raise SympropError(f"{name}: the axis must be {'0 or 1' if ndim == 2 else f'0 to {ndim - 1}'} "
                                   f"for a {ndim}-d value, got {axis}")
            what = "a scalar" if ndim == 0 else "a 1-d vector (its only axis is 0)"
            raise SympropError(f"{name}(): axis {axis} does not exist for {what}")
        if name in SOFTMAX:
            if axis is None and (arg.shape is None or len(arg.shape) > 2 or arg.shape[1] != 1):
                raise SympropError(f"{name}() needs a column vector, got {describe(arg.shape)}")
            return self.mark(Op(name, (arg,), arg.shape, extra=axis), ndim)
        if arg.shape is None:  # a scalar, or one entry (NumPy's sum of a (1,) is 0-d, keepdims keeps it)
            return arg if ndim == 0 or axis is not None else Op(name, (arg,), None)
        if axis is None:
            return Op(name, (arg,), None)
        return self.mark(Op(name, (arg,), kept(arg.shape, axis), extra=axis), ndim)


class Indexing:
    """NumPy's indexing and slicing, and the steps of a sequence (mixed into ``program._Reader``)."""

    def subscript(self, node: ast.Subscript) -> Op:
        base = node.value
        if isinstance(base, ast.Name) and (base.id in self.sequences or base.id in self.cell_names):
            step, relative = self.index(node.slice, allow_time=True)
            if relative and not self.in_cell:
                raise SympropError("'t' can only be used in the [t] lines and a per-step loss")
            return self.at_step(base.id, step, relative)
        value = self.build(base)
        if is_nd(value.shape):
            return self.part(node, value)
        if isinstance(node.slice, ast.Tuple) and len(node.slice.elts) == 2 and isinstance(
                node.slice.elts[0], ast.Call) and getattr(node.slice.elts[0].func, "id", "") in ("range", "arange"):
            return self.gather(node, value)
        if isinstance(node.slice, ast.Tuple | ast.Slice):
            return self.take(node, value)
        i, _ = self.index(node.slice, allow_time=False)
        ndim = self.ndim(value)
        if ndim == 0:
            raise SympropError("cannot index a scalar")
        if value.shape is None:  # one entry: NumPy's (1,)[0] or (1, 1)[0]
            if i not in (0, -1):
                raise SympropError(f"index {i} is out of range for a value of one entry")
            return self.mark(replace(value), ndim - 1)
        rows, cols = value.shape
        if ndim == 1 or cols == 1:
            i = i + rows if i < 0 else i
            if not 0 <= i < rows:
                raise SympropError(f"index {i} is out of range for {describe(value.shape, ndim == 1)}")
            return self.mark(Op("index", (value,), None, extra=(i,)), ndim - 1)
        if i < 0:
            i += rows
        if rows == 1:  # NumPy: a 1xn row's [0] is the row itself, as a 1-d vector
            if i != 0:
                raise SympropError(f"index {i} is out of range for 1x{cols} (a row: [0] is the whole row, "
                                   f"[0][j] its entry j)")
            self.unwrap.add(id(node))
            self.wrap ^= {id(node)}
            return self.mark(T(value), 1)
        if not 0 <= i < rows:
            raise SympropError(f"row {i} is out of range for {rows}x{cols}")
        self.wrap ^= {id(node)}  # a row of a matrix is a 1-d vector: kept as a column
        return self.mark(T(Op("index", (value,), (1, cols), extra=("row", i))), 1)

    def gather(self, node: ast.Subscript, value: Op) -> Op:
        """NumPy's P[range(N), y]: entry y_i of row i, a 1-d vector of N."""
        picks, labels = node.slice.elts
        count = picks.args[0].value if picks.args and isinstance(picks.args[0], ast.Constant) else None
        if self.ndim(value) != 2 or value.shape is None or count != value.shape[0]:
            raise SympropError(f"{_snippet(node)}: a gather takes every row of a matrix, "
                               f"P[range(N), y] with N its number of rows")
        text = f"sum({ast.unparse(node.value)} * onehot({ast.unparse(labels)}, {value.shape[1]}), 1)"
        return self.mark(replace(self.read_as(node, text)), 1)

    def part(self, node: ast.Subscript, value: Op) -> Op:
        """NumPy's basic indexing of an array of more axes: ``X[0]`` (the first image),
        ``X[:, 1]``, ``X[0, :, 1:3]``; an integer drops its axis, a slice keeps it."""
        keys = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if len(keys) > len(value.shape):
            raise SympropError(f"too many indices: {_snippet(node.value)} has {len(value.shape)} axes")
        key, shape = [], []
        for k, n in zip(keys, value.shape):
            picked, kept = _picks(k, n)
            if kept:
                step = picked[1] - picked[0] if len(picked) > 1 else 1
                key.append(slice(picked[0], None if picked[-1] + step < 0 else picked[-1] + step, step))
                shape.append(len(picked))
            else:
                key.append(picked[0])
        shape += value.shape[len(keys):]
        stored = one((shape[0], 1) if len(shape) == 1 else tuple(shape)) if shape else None
        text = ast.unparse(node)[len(ast.unparse(node.value)):]
        return self.mark(Op("part", (value,), stored, name=text, extra=(tuple(key), tuple(shape))), len(shape))

    def take(self, node: ast.Subscript, value: Op) -> Op:
        """NumPy's basic indexing with slices: ``theta[1:]``, ``X[:, 0]``,
        ``W[1, 2]``, ``X[1:, ::2]``; an integer drops its axis, a slice keeps it."""
        ndim = self.ndim(value)
        keys = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if ndim == 0:
            raise SympropError("cannot index a scalar")
        if len(keys) > ndim:
            raise SympropError(f"too many indices: {_snippet(node.value)} has {ndim} dimension{'s' * (ndim > 1)}")
        rows, cols = value.shape or (1, 1)
        sizes = [rows] if ndim == 1 else [rows, cols]
        picks = [_picks(k, n) for k, n in zip(keys + [ast.Slice()] * (ndim - len(keys)), sizes)]
        kept = sum(isinstance(k, ast.Slice) for k in keys) + ndim - len(keys)
        taken = (picks[0][0], picks[1][0] if ndim == 2 else (0,))
        text = ast.unparse(node)[len(ast.unparse(node.value)):]
        out = Op("take", (value,), one((len(taken[0]), len(taken[1]))), name=text, extra=taken)
        self.rebuild[id(node)] = lambda n, _: ast.Subscript(n.value, ast.Tuple(
            [_slice_of(p) for p in taken], ast.Load()), ast.Load())
        if ndim == 2 and kept == 1 and not isinstance(keys[0], ast.Slice):  # X[i, a:b]: a row, kept as a column
            self.wrap ^= {id(node)}
            out = T(out)
        return self.mark(out, kept)

    def index(self, node, allow_time: bool) -> tuple[int, bool]:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and not allow_time:
            i, _ = self.index(node.operand, False)
            return -i, False
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value, False
        if isinstance(node, ast.Name) and node.id == TIME and allow_time:
            return 0, True
        if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub)
                and isinstance(node.left, ast.Name) and node.left.id == TIME and allow_time
                and isinstance(node.right, ast.Constant) and type(node.right.value) is int):
            return (node.right.value if isinstance(node.op, ast.Add) else -node.right.value), True
        raise SympropError("an index must be a whole number, t, or t-k")


def _picks(key, n: int) -> tuple[tuple[int, ...], bool]:
    """The positions an index or a slice of literal integers picks along an
    axis of n, as Python counts them (negative from the end)."""
    if isinstance(key, ast.Slice):
        bounds = [None if part is None else _integer(part) for part in (key.lower, key.upper, key.step)]
        if bounds[2] == 0:
            raise SympropError("a slice step cannot be zero")
        picked = tuple(range(n)[slice(*bounds)])
        if not picked:
            raise SympropError(f"the slice {ast.unparse(key)} picks nothing of {n}")
        return picked, True
    i = _integer(key)
    if not -n <= i < n:
        raise SympropError(f"index {i} is out of range for an axis of {n}")
    return (i % n,), False


def _sizes(sizes: list[int], n: int, what: str) -> list[int]:
    """NumPy's reshape sizes, one of them -1 (as many as the rest leave)."""
    known = math.prod(v for v in sizes if v != -1)
    if sizes.count(-1) > 1 or (-1 in sizes and n % known):
        raise SympropError(f"cannot reshape {what} into {'x'.join(map(str, sizes))}: "
                           "at most one size is -1, and the others must divide the number of entries")
    target = [n // known if v == -1 else v for v in sizes]
    if math.prod(target) != n:
        raise SympropError(f"cannot reshape {what} into {'x'.join(map(str, sizes))}: the number of entries differs")
    return target


def _integer(node) -> int:
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1, node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sign * node.value
    raise SympropError(f"an index must be a whole number, got {_snippet(node)}")


def _slice_of(picked: tuple[int, ...]) -> ast.Slice:
    """Positions in even steps as a slice the scalar engine reads: 3:0:-1 is 3, 2, 1."""
    step = picked[1] - picked[0] if len(picked) > 1 else 1
    stop = picked[-1] + step
    number = lambda v: None if v is None else ast.Constant(v)  # noqa: E731
    return ast.Slice(number(picked[0]), number(None if stop < 0 else stop), number(step))


def _misaligned(what: str, node, n: int, shape: Shape) -> str:
    """Why a 1-d vector of n does not fit a 2-d operand, and both ways to write it."""
    b = _snippet(node)
    if shape == (n, 1):  # NumPy's n×n, a book's column
        fix = (f"give {b} as a column, [[1], [2]], or the column as a list" if isinstance(node, ast.Name)
               else f"give the column as a list (1-d), or the values {b} is made of as columns")
        return (f"'{what}': {b} is a 1-d vector of {n}, which NumPy lines up with the last axis, as a row, "
                f"so with the {n}x1 column it makes {n}x{n} entries where a book means a column: {fix}")
    fix = (f"for a column give {b} as a list of lists, one number a row: [[1], [2]]" if isinstance(node, ast.Name)
           else f"for a column give the values {b} is made of as lists of lists")
    return (f"'{what}': {b} is a 1-d vector of {n}, which NumPy lines up with the last axis, as a row "
            f"(1x{n}), and the other operand is {describe(shape)}; {fix}")


def _snippet(node) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 30 else text[:27] + "..."


def _mentions_time(node) -> bool:
    return any(isinstance(n, ast.Name) and n.id == TIME for n in ast.walk(node.slice))
