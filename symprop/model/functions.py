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
    """An activation left symbolic (``functions = ["f"]``): f, printed with f'."""
    prime = type(
        f"{name}_prime",
        (Function,),
        {
            "nargs": 1,
            "fdiff": lambda self, argindex=1: sympy.Function(f"{name}_second")(self.args[0]),
            "_sympystr": lambda self, printer: f"{name}'({printer._print(self.args[0])})",
            "undefined_prime_of": name,
        },
    )
    return type(
        name,
        (Function,),
        {
            "nargs": 1,
            "fdiff": lambda self, argindex=1: prime(self.args[0]),
            "undefined_name": name,
            "prime": prime,
        },
    )


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
