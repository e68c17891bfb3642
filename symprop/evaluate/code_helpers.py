"""The helper functions a generated module carries, as source text.

Each helper is written once, for NumPy; the JAX target takes the same text
with ``jnp`` for ``np`` (they slice and index only, never write in place),
and the PyTorch target has its own where its library differs.  A module
carries only the helpers its code calls (``helpers_for``).  The backward
helpers (``_full_conv``, ``_unpool``, ``_conv2d_input`` …) are NumPy's only:
the PyTorch and JAX targets differentiate with their own autograd.
"""

import inspect
import re

from ..model.operations import conv2d_input


def _as_helper(function) -> str:
    """A function of the interpreter, as a helper of the generated module (its name with a leading _)."""
    name = function.__name__
    return "\n" + inspect.getsource(function).replace(f"def {name}(", f"def _{name}(", 1)


_NUMPY = {
    "_array": '''
def _array(value, shape):
    """A given value (a number, a list, a list of lists) as float64 of the shape the model reads."""
    return np.asarray(value, dtype=float).reshape(shape)
''',
    "_number": '''
def _number(value):
    """A given number (or 1×1 array) as a float."""
    return float(np.reshape(value, ()))
''',
    "_like": '''
def _like(gradient, given):
    """A gradient in the shape its parameter was given in (a number for a number)."""
    if np.ndim(given) == 0:
        return float(gradient)
    return np.array(gradient, dtype=float).reshape(np.shape(given))
''',
    "_softmax": '''
def _softmax(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
''',
    "_log_softmax": '''
def _log_softmax(a, axis):
    shifted = a - np.max(a, axis=axis, keepdims=True)  # no overflow at large logits
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
''',
    "_logsumexp": '''
def _logsumexp(a, axis):
    """log Σ exp(a) over every entry (axis None) or along an axis (kept), the largest entry taken out first."""
    m = np.max(a, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    return out.reshape(()) if axis is None or out.size == 1 else out
''',
    "_erf": '''
def _erf(x):
    return np.vectorize(math.erf, otypes=[float])(x)
''',
    "_gelu": '''
def _gelu(x):
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))
''',
    "_gelu_tanh": '''
def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
''',
    "_corr2d": '''
def _corr2d(x, k):
    """d2l's corr2d: each output entry is a window of x times k, summed."""
    rows, cols = x.shape[0] - k.shape[0] + 1, x.shape[1] - k.shape[1] + 1
    out = 0.0
    for a in range(k.shape[0]):
        for b in range(k.shape[1]):
            out = out + k[a, b] * x[a:a + rows, b:b + cols]
    return out
''',
    "_full_conv": '''
def _full_conv(g, k, shape):
    """The adjoint of corr2d's input: each kernel entry sends g back to the window it met."""
    out = np.zeros(shape)
    for a in range(k.shape[0]):
        for b in range(k.shape[1]):
            out[a:a + g.shape[0], b:b + g.shape[1]] += k[a, b] * g
    return out
''',
    "_max_pool2d": '''
def _max_pool2d(x, k, stride):
    """The largest entry of each k×k window, windows stride apart (PyTorch's max_pool2d)."""
    rows, cols = (x.shape[-2] - k) // stride + 1, (x.shape[-1] - k) // stride + 1
    out = None
    for a in range(k):
        for b in range(k):
            window = x[..., a:a + stride * (rows - 1) + 1:stride, b:b + stride * (cols - 1) + 1:stride]
            out = window if out is None else np.maximum(out, window)
    return out
''',
    "_unpool": '''
def _unpool(g, x, k, stride):
    """The adjoint of max_pool2d: each window's adjoint to its largest entry (the first, at a tie)."""
    rows, cols = g.shape[-2], g.shape[-1]
    m = _max_pool2d(x, k, stride)
    out, taken = np.zeros(x.shape), np.zeros(g.shape, dtype=bool)
    for a in range(k):
        for b in range(k):
            at = (..., slice(a, a + stride * (rows - 1) + 1, stride), slice(b, b + stride * (cols - 1) + 1, stride))
            first = (x[at] == m) & ~taken
            out[at] += np.where(first, g, 0.0)
            taken |= first
    return out
''',
    "_conv2d": '''
def _conv2d(x, k, stride, padding, shape):
    """PyTorch's conv2d: Y[n, o, i, j] = Σ_cab Xpad[n, c, s·i + a, s·j + b]·K[o, c, a, b]."""
    images = x.reshape((-1,) + x.shape[-3:])
    images = np.pad(images, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    rows, cols = shape[-2], shape[-1]
    out = 0.0
    for a in range(k.shape[2]):
        for b in range(k.shape[3]):
            window = images[:, :, a:a + stride * (rows - 1) + 1:stride, b:b + stride * (cols - 1) + 1:stride]
            out = out + np.einsum("ncij,oc->noij", window, k[:, :, a, b])
    return out.reshape(shape)
''',
    "_conv2d_input": _as_helper(conv2d_input),  # the source of the function the interpreter runs
    "_conv2d_weight": '''
def _conv2d_weight(x, g, stride, padding, shape):
    """∂L/∂K of conv2d: ∂L/∂K[o, c, a, b] = Σ_nij Xpad[n, c, s·i + a, s·j + b]·G[n, o, i, j]."""
    images = x.reshape((-1,) + x.shape[-3:])
    images = np.pad(images, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    g = g.reshape((-1,) + g.shape[-3:])
    rows, cols = g.shape[2:]
    out = np.zeros(shape)
    for a in range(shape[2]):
        for b in range(shape[3]):
            window = images[:, :, a:a + stride * (rows - 1) + 1:stride, b:b + stride * (cols - 1) + 1:stride]
            out[:, :, a, b] = np.einsum("ncij,noij->oc", window, g)
    return out
''',
    "_take": '''
def _take(x, shape, rows, cols):
    """The entries of x (a matrix of this shape) in these rows and columns, rows × cols."""
    return x.reshape(shape)[np.array(rows)[:, None], np.array(cols)[None, :]]
''',
    "_scatter": '''
def _scatter(g, shape, rows, cols):
    """The adjoint of _take: g added into the rows and columns it took, zeros elsewhere."""
    out = np.zeros(shape)
    np.add.at(out, (np.array(rows)[:, None], np.array(cols)[None, :]), np.reshape(g, (len(rows), len(cols))))
    return out
''',
    "_place": '''
def _place(g, shape, index):
    """g in one entry (or row) of zeros."""
    out = np.zeros(shape)
    if index[0] == "row":
        out[index[1], :] = np.reshape(g, -1)
    elif shape[1] == 1:
        out[index[0], 0] = g
    else:
        out[0, index[0]] = g
    return out
''',
    "_unpart": '''
def _unpart(g, shape, index):
    """g in the entries a basic index took, zeros elsewhere."""
    out = np.zeros(shape)
    out[index] = np.reshape(g, out[index].shape)
    return out
''',
}

_TORCH = {
    "_array": '''
def _array(value, shape):
    """A given value (a number, a list, a list of lists, a tensor) as float64 of the shape the model reads."""
    if isinstance(value, list | tuple) and any(hasattr(v, "shape") for v in value):  # a sequence of arrays
        value = torch.stack([torch.as_tensor(v, dtype=torch.float64).reshape(-1) for v in value])
    return torch.as_tensor(value, dtype=torch.float64).reshape(shape)
''',
    "_like": '''
def _like(gradient, given):
    """A gradient in the shape its parameter was given in."""
    return gradient.reshape(torch.as_tensor(given).shape)
''',
    "_max_pool2d": '''
def _max_pool2d(x, k, stride):
    """PyTorch's max_pool2d of one channel or of images N×C×H×W."""
    if x.dim() >= 3:
        return torch.nn.functional.max_pool2d(x, k, stride)
    return torch.nn.functional.max_pool2d(x[None, None], k, stride)[0, 0]
''',
    "_corr2d": _NUMPY["_corr2d"],
    "_take": '''
def _take(x, shape, rows, cols):
    """The entries of x (a matrix of this shape) in these rows and columns, rows × cols."""
    return x.reshape(shape)[torch.tensor(rows)[:, None], torch.tensor(cols)[None, :]]
''',
    "_gelu_tanh": '''
def _gelu_tanh(x):
    return torch.nn.functional.gelu(x, approximate="tanh")
''',
}

_JAX_OWN = {
    "_array": '''
def _array(value, shape):
    """A given value (a number, a list, a list of lists, an array) as float64 of the shape the model reads."""
    return jnp.asarray(value, dtype=jnp.float64).reshape(shape)
''',
    "_like": '''
def _like(gradient, given):
    """A gradient in the shape its parameter was given in."""
    return gradient.reshape(jnp.shape(jnp.asarray(given)))
''',
    "_erf": '''
def _erf(x):
    return jax.scipy.special.erf(x)
''',
}

_CALLED = re.compile(r"\b(_[a-z][a-z0-9_]*)\(")


def helpers_for(target: str, code: str) -> str:
    """The helpers the code calls (and those they call), in a stable order, for the target."""
    table = {"numpy": _NUMPY, "torch": _TORCH, "jax": {**_NUMPY, **_JAX_OWN}}[target]
    wanted, todo = set(), set(_CALLED.findall(code))
    while todo:
        name = todo.pop()
        if name in table and name not in wanted:
            wanted.add(name)
            todo |= set(_CALLED.findall(table[name]))
    text = "".join(table[name] + "\n" for name in sorted(wanted))
    if target == "jax":
        text = re.sub(r"\bnp\.", "jnp.", text)
    return text


def needs_math(helpers: str) -> bool:
    return "math." in helpers
