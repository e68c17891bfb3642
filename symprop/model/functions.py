"""Activations as SymPy functions, with their derivative rules as data.

``RULES`` is the table a solution prints ("tanh'(z) = 1 - tanh(z)^2") and the
one the custom functions differentiate with: one line a function, each
derivative written in terms of the input ``x`` and the output ``y``, the
textbook form (sigma' = sigma(1 - sigma), tanh' = 1 - tanh^2).  SymPy's own
functions differentiate themselves; a test checks they agree with the table.
max and min take two inputs; leaky_relu and elu a literal parameter.  At a
kink the derivative is PyTorch's (written with the step H(x, h0), h0 at 0):
max and min split a tie half and half, abs'(0) = 0, leaky_relu'(0) = slope.
"""

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy
from sympy import Function
from sympy.core.function import AppliedUndef, ArgumentIndexError
from sympy.core.logic import fuzzy_and


class relu(Function):
    """max(x, 0). Its derivative is the indicator ``relu_prime``."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_number and x.is_extended_real:
            return x if x.is_nonnegative else sympy.S.Zero
        return None

    def fdiff(self, argindex=1):
        return RULES["relu"].derivative(self.args[0], self)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_nonnegative(self):
        if self.args[0].is_real:
            return True
        return None


class relu_prime(Function):
    """The indicator [x > 0]. Its value at exactly 0 is a convention
    (``[conventions] relu_grad_at_zero``), applied when numbers are computed,
    so it stays unevaluated at 0 here."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_number and x.is_extended_real and not x.is_zero:
            return sympy.S.One if x.is_positive else sympy.S.Zero
        return None

    def fdiff(self, argindex=1):
        return sympy.S.Zero

    def _eval_is_real(self):
        return True

    def _sympystr(self, printer):
        return f"relu'({printer._print(self.args[0])})"


class sigmoid(Function):
    """The logistic function 1 / (1 + exp(-x))."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sympy.S.Half
        return None

    def fdiff(self, argindex=1):
        return RULES["sigmoid"].derivative(self.args[0], self)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sympy.exp(-x))


class _Elementwise(Function):
    """A function of ``RULES`` entry by entry: its derivatives come from the
    table, its value at real numbers from ``value``."""

    @classmethod
    def eval(cls, *args):
        """Computed at floats; at exact numbers only when the value is exact
        (max(2, 3) = 3, while softplus(800) stays, to be computed stably)."""
        if all(a.is_Number for a in args):  # a number itself, not softplus(0) - 1: comparable
            value = cls.value(*args)
            if value.is_Rational or any(a.is_Float for a in args):
                return value
        return None

    def _eval_evalf(self, prec):
        args = [a.evalf(prec) for a in self.args]  # an exact 0 stays 0: made a Float
        args = [sympy.Float(a, precision=prec) if a.is_Number else a for a in args]
        return self.func(*args).evalf(prec) if all(a.is_Float for a in args) else None

    def fdiff(self, argindex=1):
        rule = RULES[type(self).__name__]
        if argindex > rule.inputs:  # a literal parameter (the slope) is no variable
            raise ArgumentIndexError(self, argindex)
        return rule.partials(self.args, self)[argindex - 1]

    def _eval_is_real(self):
        return fuzzy_and(a.is_real for a in self.args)


class softplus(_Elementwise):
    """log(1 + exp(x)), whose derivative is sigmoid(x)."""

    nargs = 1
    value = staticmethod(lambda x: sympy.log(1 + sympy.exp(x)))


class logsigmoid(_Elementwise):
    """log(sigmoid(x)) = -softplus(-x), whose derivative is sigmoid(-x)."""

    nargs = 1
    value = staticmethod(lambda x: -sympy.log(1 + sympy.exp(-x)))


class leaky_relu(_Elementwise):
    """x for x > 0, slope·x otherwise (the slope a number)."""

    nargs = 2
    value = staticmethod(lambda x, slope: x if x > 0 else slope * x)


class elu(_Elementwise):
    """x for x > 0, alpha·(exp(x) - 1) otherwise (alpha a number)."""

    nargs = 2
    value = staticmethod(lambda x, alpha: x if x > 0 else alpha * (sympy.exp(x) - 1))


class silu(_Elementwise):
    """x·sigmoid(x) (the swish), whose derivative is σ(x)(1 + x(1 − σ(x)))."""

    nargs = 1
    value = staticmethod(lambda x: x / (1 + sympy.exp(-x)))


class gelu(_Elementwise):
    """x·Φ(x), Φ the standard normal distribution function (PyTorch's gelu)."""

    nargs = 1
    value = staticmethod(lambda x: x * (1 + sympy.erf(x / sympy.sqrt(2))) / 2)


class gelu_tanh(_Elementwise):
    """The tanh approximation of gelu (PyTorch's gelu(x, approximate="tanh"))."""

    nargs = 1
    value = staticmethod(lambda x: x * (1 + sympy.tanh(_GELU_C * (x + _GELU_K * x**3))) / 2)


_GELU_C = sympy.sqrt(2 / sympy.pi)
_GELU_K = sympy.Rational(44715, 1_000_000)


def _gelu_tanh_prime(x):
    th = sympy.tanh(_GELU_C * (x + _GELU_K * x**3))
    return (1 + th) / 2 + x * (1 - th**2) * _GELU_C * (1 + 3 * _GELU_K * x**2) / 2


def _erf(x):
    return np.vectorize(math.erf, otypes=[float])(x)


def _gelu_tanh_numpy(x):
    c = math.sqrt(2 / math.pi)
    return 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x**3)))


class heaviside(_Elementwise):
    """NumPy's heaviside(x, h0): 1 for x > 0, 0 for x < 0, h0 at 0; its
    derivative is 0 (a comparison, [x > 0], is one)."""

    nargs = 2
    value = staticmethod(lambda x, h0: sympy.S.One if x > 0 else (sympy.S.Zero if x < 0 else h0))


# max and min of two values, entry by entry: named as the spec calls them.
maximum = type("max", (_Elementwise,), {"nargs": 2, "value": staticmethod(lambda a, b: a if a >= b else b)})
minimum = type("min", (_Elementwise,), {"nargs": 2, "value": staticmethod(lambda a, b: a if a <= b else b)})


@dataclass(frozen=True)
class Rule:
    """A function of entries and its derivatives, as data.

    ``apply(*inputs, *parameters)`` builds it.  ``derivative(*inputs, y,
    *parameters)`` is d(out)/d(x) for one input x, written with the output y
    where books do; a pair (d out/d a, d out/d b) for two inputs.
    ``parameters``: literal numbers after the inputs, as (name, default).
    At a kink the derivative is PyTorch's: the step H(x, h0) is h0 at 0;
    ``kink(*inputs, *parameters)`` says, on NumPy numbers, where one is met
    (relu's kinks, whose value is a convention, are told apart by evaluate).
    """

    apply: Callable
    derivative: Callable
    inputs: int = 1
    parameters: tuple[tuple[str, float], ...] = ()
    kink: Callable | None = None
    torch: Callable | None = None  # torch module -> its function of (inputs, parameters)
    numpy: Callable | None = None  # its NumPy function, where SymPy's printer has none
    latex: str | None = None  # its name as books set it (else \operatorname{name})
    saturates: float | None = None  # |input| beyond which its gradient vanishes (variants avoid it)

    def arguments(self, args) -> list:
        """The arguments of a call, a missing parameter at its default."""
        missing = self.parameters[max(len(args) - self.inputs, 0):]
        return [*args, *(number(default) for _, default in missing)]

    def of(self, *args):
        """The function at these arguments (a missing parameter at its default)."""
        return self.apply(*self.arguments(args))

    def partials(self, args, y) -> list:
        """d(out)/d(each input) of a call with these arguments and output y."""
        args = self.arguments(args)
        d = self.derivative(*args[: self.inputs], y, *args[self.inputs:])
        return list(d) if self.inputs > 1 else [d]


def number(v) -> sympy.Number:
    """A number of the text (int or float) as SymPy's: 2 exact, 0.2 a Float."""
    return sympy.Integer(v) if isinstance(v, int) else sympy.Float(v)


def _step(x, at_zero):
    """H(x): 1 for x > 0, 0 for x < 0, ``at_zero`` at 0."""
    return sympy.Heaviside(x, at_zero)


def _torch_softplus(torch):
    # linear above 37, where log(1 + exp(x)) = x in float64 (torch's default, 20, is not)
    return lambda x: torch.nn.functional.softplus(x, beta=1.0, threshold=37.0)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # stable for large |x|


RULES: dict[str, Rule] = {
    "relu": Rule(relu, lambda x, y: relu_prime(x), torch=lambda t: t.relu,
                 numpy=lambda x: np.maximum(x, 0.0)),
    "sigmoid": Rule(sigmoid, lambda x, y: y * (1 - y), torch=lambda t: t.sigmoid, numpy=_sigmoid,
                    saturates=3.0),
    "tanh": Rule(sympy.tanh, lambda x, y: 1 - y**2, torch=lambda t: t.tanh, saturates=3.0),
    "exp": Rule(sympy.exp, lambda x, y: y, torch=lambda t: t.exp),
    "log": Rule(sympy.log, lambda x, y: 1 / x, torch=lambda t: t.log),
    "sin": Rule(sympy.sin, lambda x, y: sympy.cos(x), torch=lambda t: t.sin),
    "cos": Rule(sympy.cos, lambda x, y: -sympy.sin(x), torch=lambda t: t.cos),
    "sqrt": Rule(sympy.sqrt, lambda x, y: 1 / (2 * y), torch=lambda t: t.sqrt),
    "abs": Rule(sympy.Abs, lambda x, y: sympy.sign(x), kink=lambda x: x == 0,  # sign(0) = 0
                torch=lambda t: t.abs),
    "softplus": Rule(softplus, lambda x, y: sigmoid(x), torch=_torch_softplus,
                     numpy=lambda x: np.logaddexp(0.0, x), latex=r"\operatorname{softplus}"),  # no overflow
    "logsigmoid": Rule(logsigmoid, lambda x, y: sigmoid(-x), torch=lambda t: t.nn.functional.logsigmoid,
                       numpy=lambda x: -np.logaddexp(0.0, -x), latex=r"\log\sigma"),
    "leaky_relu": Rule(leaky_relu, lambda x, y, slope: _step(x, 0) + slope * _step(-x, 1),
                       parameters=(("slope", 0.01),), kink=lambda x, slope: (x == 0) & (slope != 1),
                       torch=lambda t: t.nn.functional.leaky_relu,
                       numpy=lambda x, slope: np.where(x > 0, x, slope * x), latex=r"\operatorname{LeakyReLU}"),
    "elu": Rule(elu, lambda x, y, alpha: _step(x, 0) + (y + alpha) * _step(-x, 1),
                parameters=(("alpha", 1),), kink=lambda x, alpha: (x == 0) & (alpha != 1),
                torch=lambda t: t.nn.functional.elu,
                numpy=lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))),
                latex=r"\operatorname{ELU}"),
    "silu": Rule(silu, lambda x, y: sigmoid(x) * (1 + x * (1 - sigmoid(x))), torch=lambda t: t.nn.functional.silu,
                 numpy=lambda x: x * _sigmoid(x), latex=r"\operatorname{SiLU}"),
    "gelu": Rule(gelu, lambda x, y: (1 + sympy.erf(x / sympy.sqrt(2))) / 2
                 + x * sympy.exp(-x**2 / 2) / sympy.sqrt(2 * sympy.pi),
                 torch=lambda t: t.nn.functional.gelu, numpy=lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
                 latex=r"\operatorname{GELU}"),
    "gelu_tanh": Rule(gelu_tanh, lambda x, y: _gelu_tanh_prime(x),
                      torch=lambda t: lambda x: t.nn.functional.gelu(x, approximate="tanh"),
                      numpy=_gelu_tanh_numpy, latex=r"\operatorname{GELU}_{\tanh}"),
    "heaviside": Rule(heaviside, lambda x, y, h0: sympy.S.Zero, parameters=(("h0", 0.5),),
                      kink=lambda x, h0: x == 0, numpy=np.heaviside, latex=r"H",
                      torch=lambda t: lambda x, h0: (x > 0).to(x.dtype) + h0 * (x == 0).to(x.dtype) + 0 * x),
    # a tie (a = b) splits the gradient half and half, as torch.maximum does
    "max": Rule(maximum, lambda a, b, y: (_step(a - b, sympy.S.Half), _step(b - a, sympy.S.Half)), inputs=2,
                kink=lambda a, b: a == b, torch=lambda t: t.maximum, numpy=np.maximum, latex=r"\max"),
    "min": Rule(minimum, lambda a, b, y: (_step(b - a, sympy.S.Half), _step(a - b, sympy.S.Half)), inputs=2,
                kink=lambda a, b: a == b, torch=lambda t: t.minimum, numpy=np.minimum, latex=r"\min"),
}

# Functions SymPy may produce by itself while simplifying (sqrt(x**2) is
# Abs(x) for a real x); they have rules but cannot be called in a spec.
INTERNAL_RULES: dict[str, Rule] = {
    "Abs": Rule(sympy.Abs, lambda x, y: sympy.sign(x)),
    "sign": Rule(sympy.sign, lambda x, y: sympy.S.Zero),
}

# Functions of a whole vector or matrix rather than of each entry; an optional
# second argument, a literal 0 or 1, is the axis (1: along each row).
# logsumexp: log Σ exp, computed stably; amax and amin: NumPy's largest and smallest entry (over
# an axis, kept), the gradient shared evenly by the entries that tie, as torch.amax
REDUCTIONS = ("softmax", "log_softmax", "sum", "mean", "logsumexp", "amax", "amin")

# Functions that stack several values into one column vector.
STACKING = ("concat",)

# Products of two vectors that are not entry by entry: outer(a, b) = a bᵀ.
# corr2d(X, K): d2l's two-dimensional cross-correlation (PyTorch's conv2d); conv1d(x, k) its
# one-dimensional case (PyTorch's conv1d of one channel)
PRODUCTS = ("outer", "corr2d", "conv1d")

# pad(X, p): NumPy's np.pad with zeros, p on every side; conv2d(X, K, stride, padding):
# PyTorch's F.conv2d of one channel, read as corr2d of the padded X, every stride-th entry
PADDING = ("pad", "conv2d")

# flatten(X): the entries row by row as a 1-d vector; reshape(x, n) and reshape(x, r, c), NumPy's order;
# transpose(X, 0, 2, 1): NumPy's transpose of any axes (every axis reversed without them)
SHAPING = ("flatten", "reshape", "transpose")

# max_pool2d(X, k) and max_pool2d(X, k, s): PyTorch's F.max_pool2d of one channel
# (windows k×k, stride s, k by default); d2l's pool2d is the stride 1.
POOLING = ("max_pool2d",)

# Functions of a square matrix, as numpy.linalg (and torch.linalg) compute them:
# the inverse, the determinant, log det (of a matrix with a positive determinant)
# and the trace.
LINALG = ("inv", "det", "logdet", "trace")

# where(a < b, x, y): NumPy's choice entry by entry, by a comparison.
SELECTIONS = ("where",)

# The comparisons where() and products with a mask take: name, NumPy's operator, h0
# of heaviside(right - left, h0) (1 where equality counts), as a book prints it.
COMPARISONS = {"Lt": ("<", 0), "LtE": ("<=", 1), "Gt": (">", 0), "GtE": (">=", 1)}


# Functions that are their definition in other functions (x the argument, the
# axis as written): population variance and standard deviation, as the batch
# norm papers and CS231n, and the Frobenius norm.  Printed as the definition.
COMPOSED = {
    "var": "mean(({x} - mean({x}{axis}))**2{axis})",
    "std": "sqrt(mean(({x} - mean({x}{axis}))**2{axis}))",
    "norm": "sqrt(sum(({x})**2))",
    # PyTorch's F.binary_cross_entropy_with_logits(z, y): -[y log σ(z) + (1 - y) log(1 - σ(z))], the mean
    "binary_cross_entropy_with_logits": "mean(softplus({x}) - ({y}) * ({x}))",
}


# Integer class labels: onehot(y, C) (PyTorch's F.one_hot), cross_entropy(Z, y)
# (F.cross_entropy: the mean over a batch of rows), and range(N) in a gather
# P[range(N), y] (NumPy's integer-array indexing).
LABELS = ("onehot", "cross_entropy", "range", "arange")


def built_in_names() -> set[str]:
    """Every function a spec may call by name."""
    return (set(RULES) | set(REDUCTIONS) | set(STACKING) | set(PRODUCTS) | set(SELECTIONS) | set(COMPOSED)
            | set(LABELS) | set(POOLING) | set(LINALG) | set(SHAPING) | set(PADDING))


def undefined_function(name: str) -> type:
    """An activation left symbolic (``functions = ["f"]``): f, printed with f'.

    Inside symprop f, f' and f'' are classes of their own (so rules and
    printers know them); ``plain`` turns them into SymPy's ``Function('f')``
    and its ``Derivative``/``Subs`` for users."""
    second = type(f"{name}_second", (Function,), {"nargs": 1, "undefined_order": (name, 2)})
    prime = type(
        f"{name}_prime",
        (Function,),
        {
            "nargs": 1,
            "fdiff": lambda self, argindex=1: second(self.args[0]),
            "_sympystr": lambda self, printer: f"{name}'({printer._print(self.args[0])})",
            "undefined_order": (name, 1),
        },
    )
    return type(
        name,
        (Function,),
        {
            "nargs": 1,
            "fdiff": lambda self, argindex=1: prime(self.args[0]),
            "undefined_name": name,
            "undefined_order": (name, 0),
            "prime": prime,
        },
    )


def plain(expr):
    """``expr`` in SymPy's own terms, as a user's ``sympy.symbols('w x')`` and
    ``sympy.diff`` write it: symbols without assumptions, an undefined
    activation f as ``sympy.Function('f')``, f'(u) as ``Derivative(f(u), u)``
    for a symbol u and ``Subs(Derivative(f(ξ), ξ), ξ, u)`` otherwise; so
    ``subs(f, Lambda(…))`` and comparing with ``sympy.diff`` work.  A matrix
    is converted entry by entry."""
    if isinstance(expr, sympy.MatrixBase):
        return expr.applyfunc(plain)
    expr = expr.xreplace({s: sympy.Symbol(s.name) for s in expr.free_symbols})

    def swap(e):
        name, order = type(e).undefined_order
        f, (u,) = sympy.Function(name), e.args
        if order == 0:
            return f(u)
        if isinstance(u, sympy.Symbol):
            return sympy.Derivative(f(u), (u, order))
        xi = sympy.Dummy("xi")
        return sympy.Subs(sympy.Derivative(f(xi), (xi, order)), xi, u)

    return expr.replace(lambda e: is_undefined(type(e)), swap)


def as_prime(expr) -> tuple[str, int, object] | None:
    """(f, n, u) when ``expr`` is ``plain``'s form of the n-th derivative of an
    undefined function f at u; printers show it as f'(u)."""
    derivative, at = expr, None
    if isinstance(expr, sympy.Subs) and len(expr.variables) == 1:
        derivative, at = expr.expr, expr.variables[0]
    if not isinstance(derivative, sympy.Derivative) or len(derivative.variable_count) != 1:
        return None
    (v, n), f = derivative.variable_count[0], derivative.expr
    if not isinstance(f, AppliedUndef) or f.args != (v,) or at not in (None, v):
        return None
    return type(f).__name__, int(n), v if at is None else expr.point[0]


def internal_names(undefined: list[str]) -> set[str]:
    """Names symprop gives functions of its own (derivatives, SymPy's
    helpers): a quantity of that name would clash with them."""
    own = set(numeric_namespace(0.0)) - set(RULES)
    derivatives = {f"{f}_{suffix}" for f in undefined for suffix in ("prime", "second")}
    return own | set(INTERNAL_RULES) | derivatives


def is_undefined(func) -> bool:
    """f, f' or f'' of an activation left undefined (``functions``)."""
    return hasattr(func, "undefined_order")


def numeric_namespace(relu_grad_at_zero: float) -> dict:
    """How lambdify computes the functions SymPy does not know (each rule's
    ``numpy``), and relu's derivative with its convention at 0."""

    def _relu_prime(x):
        return np.where(x > 0, 1.0, np.where(x < 0, 0.0, relu_grad_at_zero))

    return {"relu_prime": _relu_prime, "erf": _erf,
            **{name: r.numpy for name, r in RULES.items() if r.numpy is not None}}
