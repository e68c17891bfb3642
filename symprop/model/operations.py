"""The operations of the array engine, one record each.

A record says everything about one operation of the expression trees
(``derive.program.Op``): its NumPy forward, its vector-Jacobian rule, its
PyTorch form, where its derivative is a convention (its kink), and how a
formula prints it.  The array engine, the derivation's algebra, the PyTorch
check and the printers read the records; ``tests/test_records.py`` walks
them, so a new operation is one record (and one line in docs/spec-format.md).

The forms take the node ``e`` (its ``shape``, ``extra`` and ``name``) and
the values of its inputs ``xs``; ``A`` is an algebra: the vector-Jacobian
rules build formulas with the symbolic one (``derive.rules.Symbolic``) and
numbers with NumPy's (``evaluate.arrays.NumPy``), the same rule for both.
A rule that needs an operation of its own (max_pool's ``unpool``) asks the
algebra for it by name, ``A.op(name, inputs, shape, extra)``, and that
operation is a record too, marked ``backward`` (only derivations build it).
"""

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import SympropError
from .functions import RULES


@dataclass(frozen=True)
class Operation:
    op: str  # its name in expression trees
    numpy: Callable  # numpy(A, e, xs) -> its value
    torch: Callable  # torch(t, e, xs) -> its value as a tensor (t: the torch module)
    printed: str  # how a formula writes it: "call" (name(args)), "function" (name(x[, axis])), "operator", "atom"
    vjp: Callable | None = None  # vjp(A, e, g, xs, out) -> the adjoint of each input
    name: str = ""  # the name a formula prints, if not op
    latex: str = ""  # its LaTeX name, if not \operatorname{name}
    kink: Callable | None = None  # kink(e, xs, out): whether the derivative here is a convention
    backward: bool = False  # built by derivations only (no vjp: nothing differentiates it)


OPERATIONS: dict[str, Operation] = {}


def _record(op: str, numpy, torch, printed: str = "call", **facets) -> None:
    OPERATIONS[op] = Operation(op, numpy, torch, printed, **facets)


def squash(v):
    """A 1x1 array counts as a scalar: a NumPy float64, so that division by
    zero and overflow follow NumPy (inf, nan) rather than raise."""
    if isinstance(v, np.ndarray):
        if v.shape == (1, 1) or v.ndim == 0:
            return np.float64(v.reshape(()))
        return v
    return np.float64(v)


def _matrix(v):
    return np.reshape(v, np.shape(v) or (1, 1))


def _tensor_squash(v):
    return v.reshape(()) if v.dim() == 2 and v.shape == (1, 1) else v


def _shapes(e) -> list:
    return [a.shape for a in e.args]


# Arithmetic ------------------------------------------------------------------------


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


def _torch_matmul(t, e, x):
    a, b = x
    return a * b if a.dim() == 0 or b.dim() == 0 else _tensor_squash(a @ b)


def _fn_kink(e, xs, out) -> bool:
    if e.name == "relu":
        return bool(np.any(np.asarray(xs[0]) == 0))
    rule = RULES.get(e.name)
    return rule is not None and rule.kink is not None and bool(np.any(rule.kink(*xs, *(e.extra or ()))))


_record("neg", lambda A, e, x: -x[0], lambda t, e, x: -x[0], "operator",
        vjp=lambda A, e, g, xs, out: [A.neg(g)])
_record("T", lambda A, e, x: A.T(x[0]), lambda t, e, x: x[0].T if x[0].dim() == 2 else x[0], "operator",
        vjp=lambda A, e, g, xs, out: [A.T(g)])
_record("add", lambda A, e, x: x[0] + x[1], lambda t, e, x: x[0] + x[1], "operator",
        vjp=lambda A, e, g, xs, out: [A.unbroadcast(g, s) for s in _shapes(e)])
_record("mul", lambda A, e, x: A.mul(x[0], x[1]), lambda t, e, x: _tensor_squash(x[0] * x[1]), "operator",
        vjp=_mul_rule)
_record("div", lambda A, e, x: x[0] / x[1], lambda t, e, x: x[0] / x[1], "operator", vjp=_div_rule)
_record("pow", lambda A, e, x: x[0] ** e.extra, lambda t, e, x: x[0] ** e.extra, "operator",
        vjp=lambda A, e, g, xs, out: [A.mul(g, A.mul(A.num(e.extra), A.power(xs[0], e.extra - 1)))])
_record("powv", lambda A, e, x: x[0] ** x[1], lambda t, e, x: x[0] ** x[1], "operator", vjp=_powv_rule)
# dA += G Bᵀ, dB += Aᵀ G
_record("matmul", lambda A, e, x: A.matmul(x[0], x[1]), _torch_matmul, "operator",
        vjp=lambda A, e, g, xs, out: [A.matmul(g, A.T(xs[1])), A.matmul(A.T(xs[0]), g)])
_record("fn", lambda A, e, x: A.fn(e.name, *x, *(e.extra or ())),
        lambda t, e, x: RULES[e.name].torch(t)(*x, *(e.extra or ())), "function", kink=_fn_kink,
        vjp=lambda A, e, g, xs, out: [A.unbroadcast(d, a.shape) for a, d in zip(e.args, A.activation(e, xs, out, g))])


# Reductions along an axis (kept, size 1) or over every entry --------------------------


def reduce(fn, a, axis):
    if not isinstance(a, np.ndarray):
        return a
    if axis is None:
        return np.float64(fn(a))
    return squash(fn(a, axis=axis, keepdims=True))


def _sum(A, e, x):
    v = reduce(np.sum, x[0], e.extra)
    return np.reshape(v, e.shape) if isinstance(e.extra, tuple) else v  # an adjoint summed to its value's shape


def softmax(a, axis):
    axis = 0 if axis is None else axis
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(a, axis):
    axis = 0 if axis is None else axis
    shifted = a - np.max(a, axis=axis, keepdims=True)  # no overflow at large logits
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def logsumexp(a, axis=None, keepdims=False):
    """log Σ exp(a), without overflow: the largest entry taken out first."""
    m = np.max(a, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    return out if keepdims else np.reshape(out, ()) if axis is None else np.squeeze(out, axis)


def _torch_reduce(name):
    def go(t, e, x):
        if x[0].dim() == 0:
            return x[0]
        fn = getattr(t, name)
        if e.extra is None:
            return fn(x[0].reshape(-1), 0) if name in ("amax", "amin", "logsumexp") else fn(x[0])
        return fn(x[0], dim=e.extra, keepdim=True)
    return go


def _count(e) -> int:
    """How many entries a mean averages."""
    return math.prod(e.args[0].shape or (1, 1)) // math.prod(e.shape or (1, 1))


def _extreme_rule(A, e, g, xs, out):
    """g to the entries equal to the largest (smallest), shared evenly: g ⊙ [x = m]/Σ[x = m]."""
    mask = A.op("cmp", (xs[0], out), e.args[0].shape, "==")
    return [A.mul(g, A.div(mask, A.op("sum", (mask,), e.shape, e.extra)))]


def _tie(e, xs, out) -> bool:
    """A tie for the largest (smallest): the gradient is shared, as torch.amax."""
    return bool(np.sum(np.asarray(xs[0]) == out) > (1 if e.extra is None else np.size(out)))


_record("sum", _sum, _torch_reduce("sum"), "function", vjp=lambda A, e, g, xs, out: [A.spread(g, e.args[0].shape)])
_record("mean", lambda A, e, x: reduce(np.mean, x[0], e.extra), _torch_reduce("mean"), "function",
        vjp=lambda A, e, g, xs, out: [A.spread(A.div(g, A.num(_count(e))), e.args[0].shape)])
_record("amax", lambda A, e, x: reduce(np.max, x[0], e.extra), _torch_reduce("amax"), "function",
        vjp=_extreme_rule, kink=_tie)
_record("amin", lambda A, e, x: reduce(np.min, x[0], e.extra), _torch_reduce("amin"), "function",
        vjp=_extreme_rule, kink=_tie)
# g ⊙ softmax(x) along the axis, written exp(x − logsumexp(x)) as the books do
_record("logsumexp", lambda A, e, x: reduce(logsumexp, x[0], e.extra), _torch_reduce("logsumexp"), "function",
        vjp=lambda A, e, g, xs, out: [A.mul(g, A.fn("exp", A.add(xs[0], A.neg(out))))])
_record("softmax", lambda A, e, x: softmax(x[0], e.extra),
        lambda t, e, x: t.softmax(x[0], dim=0 if e.extra is None else e.extra), "function",
        vjp=lambda A, e, g, xs, out: [A.softmax_back(out, g, e.extra)])
_record("log_softmax", lambda A, e, x: log_softmax(x[0], e.extra),
        lambda t, e, x: t.log_softmax(x[0], dim=0 if e.extra is None else e.extra), "function",
        vjp=lambda A, e, g, xs, out: [A.log_softmax_back(out, g, e.extra)])


# Shapes and pieces -----------------------------------------------------------------


def _spans(e) -> list[tuple[int, int]]:
    spans, start = [], 0
    for a in e.args:
        n = (a.shape or (1, 1))[0]
        spans.append((start, start + n))
        start += n
    return spans


def _index(a, index):
    if index[0] == "row":
        return a[index[1]:index[1] + 1, :]
    return np.float64(a.reshape(-1)[index[0]])


def _torch_index(t, e, x):
    if e.extra[0] == "row":
        return x[0][e.extra[1]:e.extra[1] + 1, :]
    return x[0].reshape(-1)[e.extra[0]]


def _place(A, e, x):
    """g in one entry (or row) of zeros of the value's shape."""
    out, index, g = np.zeros(e.shape), e.extra, x[0]
    if index[0] == "row":
        out[index[1], :] = np.reshape(g, -1)
    elif e.shape[1] == 1:
        out[index[0], 0] = g
    else:
        out[0, index[0]] = g
    return out


def _torch_place(t, e, x):
    out = t.zeros(e.shape, dtype=t.float64)
    index = e.extra
    if index[0] == "row":
        out[index[1], :] = x[0].reshape(-1)
    elif e.shape[1] == 1:
        out[index[0], 0] = x[0]
    else:
        out[0, index[0]] = x[0]
    return out


def _scatter(A, e, x):
    out, taken = np.zeros(e.shape or (1, 1)), e.extra
    np.add.at(out, np.ix_(*taken), np.reshape(x[0], (len(taken[0]), len(taken[1]))))
    return squash(out)


def _torch_scatter(t, e, x):
    out = t.zeros(e.shape or (1, 1), dtype=t.float64)
    rows, cols = (t.tensor(v) for v in e.extra)
    return _tensor_squash(out.index_put((rows[:, None], cols[None, :]), x[0].reshape(len(rows), len(cols)),
                                        accumulate=True))


_record("reshape", lambda A, e, x: squash(np.reshape(x[0], e.extra)),
        lambda t, e, x: _tensor_squash(x[0].reshape(e.extra)),
        vjp=lambda A, e, g, xs, out: [A.op("reshape", (g,), e.args[0].shape, e.args[0].shape or (1, 1))])
_record("permute", lambda A, e, x: np.transpose(x[0], e.extra), lambda t, e, x: x[0].permute(*e.extra),
        name="transpose", vjp=lambda A, e, g, xs, out: [A.op("permute", (g,), e.args[0].shape,
                                                            tuple(int(k) for k in np.argsort(e.extra)))])
_record("concat", lambda A, e, x: np.vstack([np.reshape(v, (-1, 1)) for v in x]),
        lambda t, e, x: t.cat([v.reshape(-1, 1) for v in x]), "function",
        vjp=lambda A, e, g, xs, out: [A.op("rows", (g,), a.shape, span) for a, span in zip(e.args, _spans(e))])
_record("rows", lambda A, e, x: squash(x[0][e.extra[0]:e.extra[1]]),
        lambda t, e, x: _tensor_squash(x[0][e.extra[0]:e.extra[1]]), "function", backward=True)
_record("index", lambda A, e, x: _index(x[0], e.extra), _torch_index, "function",
        vjp=lambda A, e, g, xs, out: [A.op("place", (g,), e.args[0].shape, e.extra)])
_record("place", _place, _torch_place, "function", backward=True)
_record("take", lambda A, e, x: squash(_matrix(x[0])[np.ix_(*e.extra)]),
        lambda t, e, x: _tensor_squash(x[0].reshape(x[0].shape or (1, 1))[t.tensor(e.extra[0])][
            :, t.tensor(e.extra[1])]),
        vjp=lambda A, e, g, xs, out: [A.op("scatter", (g,), e.args[0].shape, e.extra)])
_record("scatter", _scatter, _torch_scatter, name="place", backward=True)


def _part(A, e, x):
    key, _ = e.extra
    return squash(np.reshape(np.asarray(x[0])[key], e.shape or ()))


def _unpart(A, e, x):
    """g in the entries a part took, zeros elsewhere (basic indexing takes each entry once)."""
    key, shape = e.extra
    out = np.zeros(e.shape)
    out[key] = np.reshape(x[0], shape)
    return out


def _torch_unpart(t, e, x):
    key, shape = e.extra
    out = t.zeros(e.shape, dtype=t.float64)
    out[key] = x[0].reshape(shape)
    return out


# NumPy's basic indexing of an array of more axes (extra: the index, the part's own shape)
_record("part", _part, lambda t, e, x: _tensor_squash(x[0][e.extra[0]].reshape(e.shape or ())),
        vjp=lambda A, e, g, xs, out: [A.op("unpart", (g,), e.args[0].shape, e.extra)])
_record("unpart", _unpart, _torch_unpart, name="place", backward=True)
# The entries of g inside the margins a pad added: (g)[p:-p, q:-q]
_record("pad", lambda A, e, x: np.pad(_matrix(x[0]), [(e.extra[0],) * 2, (e.extra[1],) * 2]),
        lambda t, e, x: t.nn.functional.pad(x[0].reshape(x[0].shape or (1, 1)),
                                            (e.extra[1], e.extra[1], e.extra[0], e.extra[0])),
        vjp=lambda A, e, g, xs, out: [A.unpad(g, e.extra, e.args[0].shape)])
_record("ones", lambda A, e, x: np.ones(e.shape), lambda t, e, x: t.ones(e.shape, dtype=t.float64), "atom",
        backward=True)


# Linear algebra: d(A⁻¹) = −A⁻ᵀ G A⁻ᵀ; d det(A) = g·det(A)·A⁻ᵀ; d log det(A) = g·A⁻ᵀ; d tr(A) = g·I ------


def inverse(a):
    """numpy.linalg.inv, a singular matrix said in one line (its determinant 0)."""
    if not np.all(np.isfinite(a)) or np.linalg.cond(a) > 1e15:
        raise SympropError("inv() of a singular matrix (its determinant is 0, or nearly)")
    return np.linalg.inv(a)


def _logdet(a):
    sign, value = np.linalg.slogdet(a)
    if sign <= 0:
        raise SympropError(f"logdet() of a matrix whose determinant is {np.linalg.det(a):.4g}, not positive")
    return np.float64(value)


def _inverse_T(A, e, xs):
    return A.T(A.op("inv", (xs[0],), e.args[0].shape))


_record("inv", lambda A, e, x: inverse(x[0]), lambda t, e, x: t.linalg.inv(x[0]),
        vjp=lambda A, e, g, xs, out: [A.neg(A.matmul(A.matmul(A.T(out), g), A.T(out)))])
_record("det", lambda A, e, x: np.float64(np.linalg.det(x[0])), lambda t, e, x: t.linalg.det(x[0]), latex=r"\det",
        vjp=lambda A, e, g, xs, out: [A.mul(A.mul(g, out), _inverse_T(A, e, xs))])
_record("logdet", lambda A, e, x: _logdet(x[0]), lambda t, e, x: t.logdet(x[0]), name="log det",
        latex=r"\log\det", vjp=lambda A, e, g, xs, out: [A.mul(g, _inverse_T(A, e, xs))])
_record("trace", lambda A, e, x: np.float64(np.trace(x[0])), lambda t, e, x: t.trace(x[0]), name="tr",
        latex=r"\operatorname{tr}", vjp=lambda A, e, g, xs, out: [A.mul(g, A.op("eye", (), e.args[0].shape))])
_record("eye", lambda A, e, x: np.eye(e.shape[0]), lambda t, e, x: t.eye(e.shape[0], dtype=t.float64),
        backward=True)


# Comparisons and labels: constants of the parameters (their derivative is 0) ------------


_COMPARE = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal}


def onehot(labels, classes: int):
    ys = np.reshape(labels, -1)
    if np.any(ys != np.round(ys)) or np.any(ys < 0) or np.any(ys >= classes):
        bad = ys[(ys != np.round(ys)) | (ys < 0) | (ys >= classes)][0]
        raise SympropError(f"a class label must be a whole number from 0 to {classes - 1}, got {bad:g}")
    return squash(np.eye(classes)[ys.astype(int)])


_record("cmp", lambda A, e, x: squash(_COMPARE[e.extra](x[0], x[1]).astype(float)),
        lambda t, e, x: getattr(t, {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq"}[e.extra])(
            x[0], x[1]).to(t.float64),
        vjp=lambda A, e, g, xs, out: [A.spread(A.num(0), a.shape) for a in e.args],
        # a tie: the step of the comparison, where differences jump
        kink=lambda e, xs, out: bool(np.any(np.asarray(xs[0]) == np.asarray(xs[1]))))
_record("onehot", lambda A, e, x: onehot(x[0], e.extra),
        lambda t, e, x: _tensor_squash(t.nn.functional.one_hot(x[0].detach().reshape(-1).long(), e.extra).to(
            t.float64)),
        vjp=lambda A, e, g, xs, out: [A.spread(A.num(0), e.args[0].shape)])  # labels are data


# Convolution and pooling -------------------------------------------------------------


def _windows(x, k: int, stride: int):
    """The k×k windows of the last two axes of x, ``stride`` apart: windows[…, i, j, a, b]."""
    x = _matrix(x)
    return np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(-2, -1))[..., ::stride, ::stride, :, :]


def _unpool(A, e, x):
    """Each window's adjoint to its largest entry (the first, at a tie, as PyTorch)."""
    g, x, (k, stride) = _matrix(x[0]), _matrix(x[1]), e.extra
    windows = _windows(x, k, stride)
    first = windows.reshape(*windows.shape[:-2], k * k).argmax(axis=-1)
    rows = np.arange(g.shape[-2])[:, None] * stride + first // k
    cols = np.arange(g.shape[-1])[None, :] * stride + first % k
    lead = np.indices(g.shape[:-2] + (1, 1))[:-2]
    out = np.zeros(x.shape)
    np.add.at(out, (*lead, rows, cols), g)
    return squash(out)


def _torch_image(t, v):
    """One channel of one image, or images as they are."""
    return v.reshape(1, 1, *(v.shape or (1, 1))) if v.dim() < 3 else v


def _torch_unimage(v, like):
    return _tensor_squash(v[0, 0]) if like.dim() < 3 else v


def _torch_pool(t, e, x):
    return _torch_unimage(t.nn.functional.max_pool2d(_torch_image(t, x[0]), e.extra[0], e.extra[1]), x[0])


def _torch_unpool(t, e, x):
    g, x0 = x
    images = _torch_image(t, x0.detach()).clone().requires_grad_(True)
    pooled = t.nn.functional.max_pool2d(images, e.extra[0], e.extra[1])
    (back,) = t.autograd.grad(pooled, images, g.reshape(pooled.shape))
    return _torch_unimage(back, x0)


def _ties(e, xs, out) -> bool:
    """A window with its largest entry twice (PyTorch's gradient takes the first)."""
    windows = _windows(xs[0], *e.extra)
    return bool(np.any((windows == windows.max(axis=(-2, -1), keepdims=True)).sum(axis=(-2, -1)) > 1))


def _corr2d(A, e, x):
    x, k = _matrix(x[0]), _matrix(x[1])
    windows = np.lib.stride_tricks.sliding_window_view(x, k.shape)
    return squash(np.einsum("ijab,ab->ij", windows, k))


def _full_conv(A, e, x):
    """The full convolution of g with k, the size of corr2d's input."""
    g, k = _matrix(x[0]), _matrix(x[1])
    out = np.zeros(e.shape or (1, 1))
    for a in range(k.shape[0]):
        for b in range(k.shape[1]):
            out[a:a + g.shape[0], b:b + g.shape[1]] += k[a, b] * g
    return squash(out)


def _torch_full_conv(t, e, x):
    g, k = (_torch_image(t, v) for v in x)
    return _tensor_squash(t.nn.functional.conv_transpose2d(g, k)[0, 0])


def _images(x):
    """Images as N×C×H×W (C×H×W is one image)."""
    return x.reshape((-1,) + x.shape[-3:])


def _patches(x, kernel_shape, stride: int, padding: int):
    """The windows of the padded images a kernel meets: patches[n, c, i, j, a, b]."""
    x = np.pad(_images(x), [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    windows = np.lib.stride_tricks.sliding_window_view(x, kernel_shape[-2:], axis=(2, 3))
    return windows[:, :, ::stride, ::stride]


def _conv2d(A, e, x):
    """Y[n, o, i, j] = Σ_cab Xpad[n, c, s·i + a, s·j + b]·K[o, c, a, b], PyTorch's F.conv2d."""
    images, k = x
    return np.einsum("ncijab,ocab->noij", _patches(images, k.shape, *e.extra), k).reshape(e.shape)


def conv2d_input(g, k, stride, padding, shape):
    """∂L/∂X of conv2d: each kernel entry K[o, c, a, b] sends G[n, o, i, j] back to Xpad[n, c, s·i + a, s·j + b].
    A plain function of arrays: the generated module of ``symprop codegen`` carries its source."""
    c, h, w = shape[-3:]
    g = g.reshape((-1,) + g.shape[-3:])
    out = np.zeros((g.shape[0], c, h + 2 * padding, w + 2 * padding))
    rows, cols = g.shape[2:]
    for a in range(k.shape[2]):
        for b in range(k.shape[3]):
            out[:, :, a:a + stride * (rows - 1) + 1:stride, b:b + stride * (cols - 1) + 1:stride] += np.einsum(
                "noij,oc->ncij", g, k[:, :, a, b])
    return out[:, :, padding:padding + h, padding:padding + w].reshape(shape)


def _conv2d_input(A, e, x):
    g, k = x
    return conv2d_input(g, k, *e.extra, e.shape)


def _conv2d_weight(A, e, x):
    """∂L/∂K[o, c, a, b] = Σ_nij Xpad[n, c, s·i + a, s·j + b]·G[n, o, i, j]."""
    images, g = x
    return np.einsum("ncijab,noij->ocab", _patches(images, e.shape, *e.extra[:2]), _images(g))


def _batched(v):
    return v if v.dim() == 4 else v.unsqueeze(0)


def _torch_conv2d_input(t, e, x):
    g, k = x
    size = (1,) * (4 - len(e.shape)) + tuple(e.shape)
    return t.nn.grad.conv2d_input(size, k, _batched(g), e.extra[0], e.extra[1]).reshape(e.shape)


def _torch_conv2d_weight(t, e, x):
    images, g = x
    return t.nn.grad.conv2d_weight(_batched(images), tuple(e.shape), _batched(g), e.extra[0], e.extra[1])


_record("max_pool", lambda A, e, x: squash(_windows(x[0], *e.extra).max(axis=(-2, -1))), _torch_pool,
        name="max_pool2d", kink=_ties, vjp=lambda A, e, g, xs, out: [A.op("unpool", (g, xs[0]), e.args[0].shape,
                                                                          e.extra)])
_record("unpool", _unpool, _torch_unpool, backward=True)
# dX = full_conv(G, K): each entry gathers K[a, b]·G[i − a, j − b]; dK = corr2d(X, G)
_record("corr2d", _corr2d, lambda t, e, x: _tensor_squash(t.nn.functional.conv2d(
    _torch_image(t, x[0]), _torch_image(t, x[1]))[0, 0]),
        vjp=lambda A, e, g, xs, out: [A.op("full_conv", (g, xs[1]), e.args[0].shape),
                                      A.op("corr2d", (xs[0], g), e.args[1].shape)])
_record("full_conv", _full_conv, _torch_full_conv, backward=True)
_record("conv2d", _conv2d, lambda t, e, x: t.nn.functional.conv2d(x[0], x[1], stride=e.extra[0],
                                                                  padding=e.extra[1]),
        vjp=lambda A, e, g, xs, out: [A.op("conv2d_input", (g, xs[1]), e.args[0].shape, e.extra),
                                      A.op("conv2d_weight", (xs[0], g), e.args[1].shape, e.extra)])
# PyTorch's names for the two adjoints of conv2d (torch.nn.grad.conv2d_input is conv_transpose2d)
_record("conv2d_input", _conv2d_input, _torch_conv2d_input, name="conv_transpose2d", backward=True)
_record("conv2d_weight", _conv2d_weight, _torch_conv2d_weight, backward=True)
