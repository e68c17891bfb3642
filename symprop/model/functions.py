"""Activations as SymPy functions, with their derivative rules as data.

``RULES`` is the table a solution prints ("tanh'(z) = 1 - tanh(z)^2") and the
one the custom functions differentiate with: one line a function, each
derivative written in terms of the input ``x`` and the output ``y``, the
textbook form (sigma' = sigma(1 - sigma), tanh' = 1 - tanh^2).  SymPy's own
functions differentiate themselves; a test checks they agree with the table.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy
from sympy import Function
from sympy.core.function import AppliedUndef


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


@dataclass(frozen=True)
class Rule:
    """An elementwise function and its derivative d(out)/d(x) as ``(x, out)``."""

    apply: Callable
    derivative: Callable


RULES: dict[str, Rule] = {
    "relu": Rule(relu, lambda x, y: relu_prime(x)),
    "sigmoid": Rule(sigmoid, lambda x, y: y * (1 - y)),
    "tanh": Rule(sympy.tanh, lambda x, y: 1 - y**2),
    "exp": Rule(sympy.exp, lambda x, y: y),
    "log": Rule(sympy.log, lambda x, y: 1 / x),
    "sin": Rule(sympy.sin, lambda x, y: sympy.cos(x)),
    "cos": Rule(sympy.cos, lambda x, y: -sympy.sin(x)),
    "sqrt": Rule(sympy.sqrt, lambda x, y: 1 / (2 * y)),
}

# Functions SymPy may produce by itself while simplifying (sqrt(x**2) is
# Abs(x) for a real x); they have rules but cannot be called in a spec.
INTERNAL_RULES: dict[str, Rule] = {
    "Abs": Rule(sympy.Abs, lambda x, y: sympy.sign(x)),
    "sign": Rule(sympy.sign, lambda x, y: sympy.S.Zero),
}

# Functions of a whole vector or matrix rather than of each entry; an optional
# second argument, a literal 0 or 1, is the axis (1: along each row).
REDUCTIONS = ("softmax", "sum", "mean")

# Functions that stack several values into one column vector.
STACKING = ("concat",)


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
            "undefined_prime_of": name,
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

    return expr.replace(lambda e: hasattr(type(e), "undefined_order"), swap)


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
    return hasattr(func, "undefined_name") or hasattr(func, "undefined_prime_of")


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # stable for large |x|


def numeric_namespace(relu_grad_at_zero: float) -> dict:
    """How lambdify computes the functions SymPy does not know."""

    def _relu_prime(x):
        return np.where(x > 0, 1.0, np.where(x < 0, 0.0, relu_grad_at_zero))

    return {
        "relu": lambda x: np.maximum(x, 0.0),
        "relu_prime": _relu_prime,
        "sigmoid": _sigmoid,
    }
