"""How each operation is written as code, for each target: NumPy, PyTorch, JAX.

``Expr`` is a piece of Python source with its precedence, so that a form
puts parentheses only where Python needs them.  ``FORMS[op](target, e, xs)``
gives the source of the operation ``e`` (an ``Op`` of ``derive.program``, or
one a vector-Jacobian rule asks for by name) of the inputs ``xs``; the
``Target`` says what differs between the libraries (``np.sum(a, axis=0,
keepdims=True)`` is ``torch.sum(a, dim=0, keepdim=True)``).  A form that
needs more than a call uses a helper function, whose source the generated
module carries (``HELPERS``); the helpers index and slice only, so one source
serves NumPy and JAX.  Every text here is made of generated names and
numbers (``repr`` of a float or an int), never of a spec's text.
"""

import re

import sympy
from sympy.printing.numpy import NumPyPrinter

from ..derive.ops import number_of, summed_axes
from ..errors import SympropError
from ..model.functions import RULES

ATOM, POWER, UNARY, PRODUCT, SUM, COMPARE = 100, 90, 80, 70, 60, 50
_NUMBER = re.compile(r"-?[0-9.]+(e[-+]?[0-9]+)?\Z")


class Expr:
    """Source text and the precedence of its outermost operator."""

    __slots__ = ("text", "prec")

    def __init__(self, text: str, prec: int = ATOM):
        self.text, self.prec = text, prec

    def at(self, prec: int) -> str:
        """The text, in parentheses when it binds less tightly than ``prec``."""
        return self.text if self.prec >= prec else f"({self.text})"

    def __repr__(self):
        return f"Expr({self.text!r})"


def call(name: str, *args) -> Expr:
    return Expr(f"{name}({', '.join(a.text if isinstance(a, Expr) else str(a) for a in args)})")


def binary(a: Expr, symbol: str, b: Expr, prec: int) -> Expr:
    """``a symbol b``, left-associative: the right operand in parentheses at equal precedence."""
    if symbol == "**":  # right-associative, and binds tighter than a unary minus on its left
        return Expr(f"{a.at(ATOM)} ** {b.at(UNARY)}", POWER)
    return Expr(f"{a.at(prec)} {symbol} {b.at(prec + 1)}", prec)


def plus(x: Expr, y: Expr) -> Expr:
    """x + y, and x - z for y = -z (a negation's text is "-" and an operand that binds tighter)."""
    if y.prec == UNARY and y.text.startswith("-"):
        return binary(x, "-", Expr(y.text[1:], UNARY), SUM)
    return binary(x, "+", y, SUM)


def number(v) -> Expr:
    v = float(v)
    return Expr(repr(v), ATOM if v >= 0 else UNARY)


def squashed(x: Expr) -> Expr:
    """A 1x1 result as a scalar, as the engine takes it."""
    return Expr(f"{x.at(ATOM)}.reshape(())")


def unsupported(target, what: str):
    raise SympropError(f"symprop codegen cannot write {what} for the {target.name} target yet")


# Targets -------------------------------------------------------------------------


class NumPyTarget:
    """NumPy: ``np``."""

    name, lib = "numpy", "np"
    header = "import numpy as np"

    def axis(self, axis) -> str:
        return f"axis={axis!r}, keepdims=True"

    def reduce(self, fn: str, a: Expr, axis) -> Expr:
        return call(f"{self.lib}.{fn}", a) if axis is None else call(f"{self.lib}.{fn}", a, self.axis(axis))

    def fn(self, name: str, args: list[Expr], params) -> Expr:
        form = FUNCTIONS.get(name)
        if form is None:
            unsupported(self, f"the function {name}")
        defaults = [d for _, d in RULES[name].parameters[len(params):]] if name in RULES else []
        return form(self, *args, *(number(p) for p in [*params, *defaults]))

    def array(self, text: str) -> str:
        return f"np.array({text})"

    def zeros(self, shape) -> str:
        return f"np.zeros({tuple(shape)!r})"

    def concat(self, parts: list[Expr]) -> Expr:
        return call(f"{self.lib}.concatenate",
                    "[" + ", ".join(call(f"{self.lib}.reshape", p, "(-1, 1)").text for p in parts) + "]")

    def pad(self, a: Expr, p: int, q: int) -> Expr:
        return call(f"{self.lib}.pad", a, f"[({p}, {p}), ({q}, {q})]")

    def onehot(self, y: Expr, classes: int) -> Expr:
        return Expr(f"{self.lib}.eye({classes})[{y.at(ATOM)}.reshape(-1).astype(int)]")

    def compare(self, a: Expr, symbol: str, b: Expr) -> Expr:
        return binary(Expr(f"({a.at(SUM)} {symbol} {b.at(SUM)})"), "*", number(1.0), PRODUCT)

    def logdet(self, a: Expr) -> Expr:
        return Expr(f"{self.lib}.linalg.slogdet({a.text})[1]")

    def conv2d(self, x: Expr, k: Expr, e) -> Expr:
        return call("_conv2d", x, k, *e.extra, repr(tuple(e.shape)))

    def max_pool(self, x: Expr, e) -> Expr:
        return call("_max_pool2d", x, *e.extra)


class JaxTarget(NumPyTarget):
    """JAX: ``jnp`` (jax.numpy) in float64; the same forms and helpers as NumPy."""

    name, lib = "jax", "jnp"
    header = ("import jax\nimport jax.numpy as jnp\nfrom jax import lax\n\n"
              "jax.config.update(\"jax_enable_x64\", True)  # float64, as symprop computes")

    def array(self, text: str) -> str:
        return f"jnp.array({text})"

    def zeros(self, shape) -> str:
        return f"jnp.zeros({tuple(shape)!r})"


class TorchTarget(NumPyTarget):
    """PyTorch: ``torch`` in float64."""

    name, lib = "torch", "torch"
    header = "import torch\n\ntorch.set_default_dtype(torch.float64)  # float64, as symprop computes"

    def axis(self, axis) -> str:
        return f"dim={axis!r}, keepdim=True"

    def reduce(self, fn: str, a: Expr, axis) -> Expr:
        fn = {"max": "amax", "min": "amin"}.get(fn, fn)
        if axis is None and fn in ("amax", "amin", "logsumexp"):
            return call(f"torch.{fn}", Expr(f"{a.at(ATOM)}.reshape(-1)"), 0)
        return super().reduce(fn, a, axis)

    def array(self, text: str) -> str:
        return f"torch.tensor({text})"

    def zeros(self, shape) -> str:
        return f"torch.zeros({tuple(shape)!r})"

    def concat(self, parts: list[Expr]) -> Expr:
        return call("torch.cat", "[" + ", ".join(call("torch.reshape", p, "(-1, 1)").text for p in parts) + "]")

    def pad(self, a: Expr, p: int, q: int) -> Expr:
        return call("torch.nn.functional.pad", a, f"({q}, {q}, {p}, {p})")

    def onehot(self, y: Expr, classes: int) -> Expr:
        return Expr(f"torch.nn.functional.one_hot({y.at(ATOM)}.reshape(-1).long(), {classes}).to(torch.float64)")

    def logdet(self, a: Expr) -> Expr:
        return call("torch.logdet", a)

    def fn(self, name: str, args: list[Expr], params) -> Expr:
        """A number as an argument made a tensor: torch's functions take tensors."""
        args = [call("torch.tensor", a) if _NUMBER.match(a.text) else a for a in args]
        return super().fn(name, args, params)

    def conv2d(self, x: Expr, k: Expr, e) -> Expr:
        stride, padding = e.extra
        return call("torch.nn.functional.conv2d", x, k, f"stride={stride}", f"padding={padding}")

    def max_pool(self, x: Expr, e) -> Expr:
        k, stride = e.extra
        return call("_max_pool2d", x, k, stride)


TARGETS = {"numpy": NumPyTarget(), "torch": TorchTarget(), "jax": JaxTarget()}


# Functions of entries -------------------------------------------------------------


def _lib(fn: str):
    return lambda T, *xs: call(f"{T.lib}.{fn}", *xs)


def _sigmoid(T, x):
    if T.name == "torch":
        return call("torch.sigmoid", x)
    return binary(number(0.5), "*", Expr(f"(1.0 + {T.lib}.tanh({binary(number(0.5), '*', x, PRODUCT).text}))"),
                  PRODUCT)


def _softplus(T, x):
    if T.name == "torch":
        return call("torch.nn.functional.softplus", x, "beta=1.0", "threshold=37.0")
    return call(f"{T.lib}.logaddexp", number(0.0), x)


def _torch_or(torch_name: str, other):
    return lambda T, *a: call(torch_name, *a) if T.name == "torch" else other(T, *a)


def _where(T, condition: str, a: Expr, b: Expr) -> Expr:
    return call(f"{T.lib}.where", Expr(condition), a, b)


FUNCTIONS = {
    "tanh": _lib("tanh"), "exp": _lib("exp"), "log": _lib("log"), "sin": _lib("sin"), "cos": _lib("cos"),
    "sqrt": _lib("sqrt"), "abs": _lib("abs"), "max": _lib("maximum"), "min": _lib("minimum"),
    "relu": _torch_or("torch.relu", lambda T, x: call(f"{T.lib}.maximum", x, number(0.0))),
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "logsigmoid": lambda T, x: Expr(f"-{_softplus(T, Expr(f'-{x.at(UNARY)}', UNARY)).text}", UNARY),
    "silu": lambda T, x: binary(x, "*", _sigmoid(T, x), PRODUCT),
    "leaky_relu": lambda T, x, s: call("torch.nn.functional.leaky_relu", x, s) if T.name == "torch" else _where(T, f"{x.at(COMPARE + 1)} > 0", x, binary(s, "*", x, PRODUCT)),
    "elu": lambda T, x, a: call("torch.nn.functional.elu", x, a) if T.name == "torch" else _where(
        T, f"{x.at(COMPARE + 1)} > 0", x, binary(a, "*", call(f"{T.lib}.expm1", call(f"{T.lib}.minimum", x,
                                                                                      number(0.0))), PRODUCT)),
    "gelu_tanh": lambda T, x: call("_gelu_tanh", x),
    "gelu": _torch_or("torch.nn.functional.gelu", lambda T, x: call("_gelu", x)),
    "heaviside": lambda T, x, h: call(f"{T.lib}.heaviside", x, h) if T.name != "torch" else
    Expr(f"({x.at(COMPARE + 1)} > 0).to(torch.float64) + {h.at(PRODUCT)} * ({x.at(COMPARE + 1)} == 0).to(torch.float64)"
         f" + 0 * {x.at(PRODUCT + 1)}", SUM),
}


# Operations ------------------------------------------------------------------------


def _matmul(T, e, xs):
    a, b = xs
    if e.args and (e.args[0].shape is None or e.args[1].shape is None):
        return binary(a, "*", b, PRODUCT)
    out = binary(a, "@", b, PRODUCT)
    return squashed(out) if e.shape is None else out


def _reduction(fn: str):
    def form(T, e, xs):
        (a,), axis = xs, e.extra
        if e.args and e.args[0].shape is None:
            return a
        if isinstance(axis, tuple):  # an adjoint summed to its value's shape
            return Expr(f"{T.reduce(fn, a, axis).text}.reshape({tuple(e.shape)!r})")
        out = T.reduce(fn, a, axis)
        return squashed(out) if axis is not None and e.shape is None else out
    return form


def _softmax(name: str):
    def form(T, e, xs):
        axis = 0 if e.extra is None else e.extra
        if T.name == "torch":
            return call(f"torch.{name}", xs[0], f"dim={axis}")
        return call(f"_{name}", xs[0], axis)
    return form


def _index(T, e, xs):
    index = e.extra
    if index[0] == "row":
        return Expr(f"{xs[0].at(ATOM)}[{index[1]}:{index[1] + 1}, :]")
    return Expr(f"{xs[0].at(ATOM)}.reshape(-1)[{index[0]}]")


def _rows(T, e, xs):
    out = Expr(f"{xs[0].at(ATOM)}[{e.extra[0]}:{e.extra[1]}]")
    return squashed(out) if e.shape is None else out


def _transpose(T, e, xs):
    if e.args and e.args[0].shape is None:
        return xs[0]
    return Expr(f"{xs[0].at(ATOM)}.T")


def _only(target_name: str, form):
    def checked(T, e, xs):
        if T.name != target_name:
            unsupported(T, f"the operation {e.op}")
        return form(T, e, xs)
    return checked


def _part(T, e, xs):
    key, _ = e.extra
    out = Expr(f"{xs[0].at(ATOM)}[{_index_text(key)}].reshape({tuple(e.shape or ())!r})")
    return out


def _index_text(key) -> str:
    parts = key if isinstance(key, tuple) else (key,)
    if any(not isinstance(k, int | slice) or isinstance(k, bool) for k in parts):
        raise SympropError("symprop codegen writes basic indexing only (integers and slices)")
    def one(k):
        if isinstance(k, int):
            return str(k)
        return ":".join("" if v is None else str(int(v)) for v in (k.start, k.stop, k.step)).rstrip(":") or ":"
    return ", ".join(one(k) for k in parts) or "()"


FORMS = {
    "neg": lambda T, e, xs: Expr(f"-{xs[0].at(UNARY)}", UNARY),
    "T": _transpose,
    "add": lambda T, e, xs: plus(xs[0], xs[1]),
    "mul": lambda T, e, xs: binary(xs[0], "*", xs[1], PRODUCT),
    "div": lambda T, e, xs: binary(xs[0], "/", xs[1], PRODUCT),
    "pow": lambda T, e, xs: binary(xs[0], "**", number(e.extra) if isinstance(e.extra, float) else
                                   Expr(repr(int(e.extra)), ATOM if e.extra >= 0 else UNARY), POWER),
    "powv": lambda T, e, xs: binary(xs[0], "**", xs[1], POWER),
    "matmul": _matmul,
    "fn": lambda T, e, xs: T.fn(e.name, xs, e.extra or ()),
    "sum": _reduction("sum"), "mean": _reduction("mean"), "amax": _reduction("max"), "amin": _reduction("min"),
    "logsumexp": lambda T, e, xs: xs[0] if e.args[0].shape is None else (
        call("torch.logsumexp", xs[0], T.axis(e.extra)) if T.name == "torch" and e.extra is not None else
        T.reduce("logsumexp", xs[0], None) if T.name == "torch" else call("_logsumexp", xs[0], repr(e.extra))),
    "softmax": _softmax("softmax"), "log_softmax": _softmax("log_softmax"),
    "reshape": lambda T, e, xs: (squashed if e.shape is None else (lambda x: x))(
        Expr(f"{xs[0].at(ATOM)}.reshape({tuple(e.extra)!r})")),
    "permute": lambda T, e, xs: (call(f"{T.lib}.permute", xs[0], repr(tuple(e.extra))) if T.name == "torch"
                                 else call(f"{T.lib}.transpose", xs[0], repr(tuple(e.extra)))),
    "concat": lambda T, e, xs: T.concat(xs),
    "rows": _rows,
    "index": _index,
    "part": _part,
    "pad": lambda T, e, xs: T.pad(xs[0], *e.extra),
    "ones": lambda T, e, xs: call(f"{T.lib}.ones", repr(tuple(e.shape))),
    "eye": lambda T, e, xs: call(f"{T.lib}.eye", e.shape[0]),
    "inv": lambda T, e, xs: call(f"{T.lib}.linalg.inv", xs[0]),
    "det": lambda T, e, xs: call(f"{T.lib}.linalg.det", xs[0]),
    "logdet": lambda T, e, xs: T.logdet(xs[0]),
    "trace": lambda T, e, xs: call(f"{T.lib}.trace", xs[0]),
    "cmp": lambda T, e, xs: T.compare(xs[0], e.extra, xs[1]),
    "onehot": lambda T, e, xs: (squashed if e.shape is None else (lambda x: x))(T.onehot(xs[0], e.extra)),
    "corr2d": lambda T, e, xs: (squashed if e.shape is None else (lambda x: x))(call("_corr2d", *xs)),
    "conv2d": lambda T, e, xs: T.conv2d(xs[0], xs[1], e),
    "max_pool": lambda T, e, xs: T.max_pool(xs[0], e),
    "take": lambda T, e, xs: (squashed if e.shape is None else (lambda x: x))(
        call("_take", xs[0], repr(tuple(e.args[0].shape or (1, 1)) if e.args else (1, 1)), repr(tuple(e.extra[0])),
             repr(tuple(e.extra[1])))),
    # built by the vector-Jacobian rules only: the NumPy target writes the backward pass
    "full_conv": _only("numpy", lambda T, e, xs: call("_full_conv", *xs, repr(tuple(e.shape or (1, 1))))),
    "unpool": _only("numpy", lambda T, e, xs: call("_unpool", *xs, *e.extra)),
    "conv2d_input": _only("numpy", lambda T, e, xs: call("_conv2d_input", *xs, *e.extra, repr(tuple(e.shape)))),
    "conv2d_weight": _only("numpy", lambda T, e, xs: call("_conv2d_weight", *xs, *e.extra,
                                                           repr(tuple(e.shape)))),
    "scatter": _only("numpy", lambda T, e, xs: call("_scatter", xs[0], repr(tuple(e.shape or (1, 1))),
                                                     repr(tuple(e.extra[0])), repr(tuple(e.extra[1])))),
    "place": _only("numpy", lambda T, e, xs: call("_place", xs[0], repr(tuple(e.shape)), repr(tuple(e.extra)))),
    "unpart": _only("numpy", lambda T, e, xs: call("_unpart", xs[0], repr(tuple(e.shape)),
                                                   f"({_index_text(e.extra[0])},)"
                                                   if not isinstance(e.extra[0], tuple) else
                                                   f"({_index_text(e.extra[0])})")),
}


def form(T, e, xs: list[Expr]) -> Expr:
    """The source of the operation ``e`` on the inputs ``xs`` for the target ``T``."""
    make = FORMS.get(e.op)
    if make is None:
        unsupported(T, f"the operation {e.op}")
    return make(T, e, xs)


def unbroadcast(T, g: Expr, source, target) -> Expr:
    """An adjoint of shape ``source`` summed to ``target``: NumPy's broadcasting undone."""
    if source == target or source is None:
        return g
    if target is None:
        return call(f"{T.lib}.sum", g)
    axes = summed_axes(source, target)
    if not axes:
        return g
    summed = call(f"{T.lib}.sum", g, T.axis(axes[0] if len(axes) == 1 else axes))
    return summed if len(source) == len(target) else Expr(f"{summed.text}.reshape({tuple(target)!r})")


# Derivatives of functions, as SymPy expressions -> source --------------------------------


class _Printer(NumPyPrinter):
    """SymPy's NumPy printer, writing ``np.`` and the steps as ``np.heaviside``."""

    def __init__(self, relu_at_zero: float):
        super().__init__({"fully_qualified_modules": True})
        self.relu_at_zero = relu_at_zero

    def _module_format(self, fqn, register=True):
        return "np." + fqn.split(".")[-1] if fqn.startswith("numpy.") else fqn

    def _print_Heaviside(self, e):
        h0 = e.args[1] if len(e.args) > 1 else sympy.S.Half
        return f"np.heaviside({self._print(e.args[0])}, {float(h0)!r})"

    def _print_Pow(self, e, rational=False):
        if e.exp == -1:  # 1 / x, as books write log′
            base = self._print(e.base)
            return f"1 / {base}" if e.base.is_Symbol else f"1 / ({base})"
        return super()._print_Pow(e, rational)

    def _print_relu_prime(self, e):
        return f"np.heaviside({self._print(e.args[0])}, {float(self.relu_at_zero)!r})"

    def _print_sigmoid(self, e):
        return _sigmoid(TARGETS["numpy"], Expr(f"({self._print(e.args[0])})")).text

    def _print_erf(self, e):
        return f"_erf({self._print(e.args[0])})"


def derivative(expression, symbols, values: list[Expr], relu_at_zero: float) -> Expr:
    """A function's derivative (SymPy, in ``symbols``) written with ``values`` (atoms) in their place."""
    names = [sympy.Symbol(f"ARG{k}Q", real=True) for k in range(len(symbols))]
    if not isinstance(expression, sympy.Basic):
        expression = number_of(expression)
    text = _Printer(relu_at_zero).doprint(expression.xreplace(dict(zip(symbols, names))))
    for name, value in zip(names, values):
        text = text.replace(str(name), value.at(ATOM))
    return Expr(f"({text})")


def rule_partials(name: str, params):
    """d out/d each input of the function ``name`` as SymPy, and its symbols (inputs, then the output y)."""
    rule = RULES[name]
    inputs = sympy.symbols("x" if rule.inputs == 1 else "a b", real=True, seq=True)
    y = sympy.Symbol("y", real=True)
    return rule.partials([*inputs, *(number_of(p) for p in params)], y), (*inputs, y)
