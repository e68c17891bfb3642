"""The working of a worked solution: a formula with the numbers put in.

"∂L/∂ω₀ = ∂L/∂f₀·x = 2.2809·2.3 = 5.2461": the formula is printed as it
stands, and each symbol is printed as its number (in brackets when negative),
so the order of the factors is the formula's own.  An indicator such as
relu′(z) = [z > 0] is printed as its value, 0 or 1, as the sources do.
"""

import re

import numpy as np
import sympy
from sympy import Symbol
from sympy.printing.precedence import PRECEDENCE

from ..derive.backprop import AdjointSymbol
from ..model.keys import Key
from ..model.notation import DEFAULT
from .maths import Typeset
from .numbers import paren
from .printing import TextPrinter
from .render.latex_printer import SympropLatexPrinter

_STEP = re.compile(r"\[t([+-]\d+)?\]")


class Numbers:
    """The number of each symbol of a derivation, at one pass.

    ``at(t)`` gives the same for the symbols of the recurrent cell (h[t],
    h[t-1], dL/dh[t+1]) at step t.  A symbol without a number (a term from
    step T + 1) is None.
    """

    def __init__(self, graph, step, problem, t: int | None = None):
        self.graph, self.step, self.problem, self.t = graph, step, problem, t
        where = dict(graph.leaves)
        for n in graph.nodes:
            where[n.symbol] = (n.key, n.entry)
        self.where = where

    def at(self, t: int) -> "Numbers":
        other = Numbers.__new__(Numbers)
        other.__dict__.update(self.__dict__)
        other.t = t
        return other

    def _concrete(self, name: str) -> str:
        if self.t is None:
            return name
        return _STEP.sub(lambda m: f"[{self.t + int(m.group(1) or 0)}]", name)

    def of(self, symbol) -> "float | sympy.Rational | None":
        adjoint = isinstance(symbol, AdjointSymbol)
        name = self._concrete(symbol.of if adjoint else symbol.name)
        key, entry = self.where.get(Symbol(name, real=True), (name, ()))
        if adjoint:  # dL/d(node), or dL/d(parameter): a gradient
            table = self.step.adjoints if key in self.step.adjoints else self.step.gradients
        elif key in self.step.values:
            table = self.step.values
        elif key in self.step.leaves:
            table = self.step.leaves
        else:
            table = self.problem.values
        if key not in table:
            key, entry = _split(name)
            if key not in table:  # an entry of a step's value: h[0][1] is entry 1 of h[0]
                table = self.step.values
                key, entry = _split_at_step(name)
                if key not in table:
                    return None
        value = table[key]
        if isinstance(value, list):  # a sequence in [values]: entry 0 is the step
            if not entry or entry[0] >= len(value):
                return None
            value, entry = value[entry[0]], entry[1:]
        array = np.asarray(value)  # floats, or exact.py's rationals (dtype object)
        if entry:
            if array.ndim == 2 and len(entry) == 1:  # a column vector's entry i
                entry = (entry[0], 0)
            if array.ndim != len(entry):
                return None
            array = array[entry]
        if np.size(array) != 1:
            return None
        number = np.asarray(array).reshape(-1)[0]
        return number if isinstance(number, sympy.Rational) else float(number)

    def computed(self, symbol) -> bool:
        """The symbol's number is one the pass computed (a node's value, an adjoint, a
        gradient), not one the problem gives."""
        return isinstance(symbol, AdjointSymbol) or not given(self._concrete(symbol.name), self.problem.values)

    def known(self, expr) -> bool:
        """Every symbol of ``expr`` has a number."""
        return all(self.of(s) is not None for s in expr.free_symbols)


def given(name: str, values) -> bool:
    """``name`` (W, an entry W[0][1], a step's x[2]) is a number the problem gives in ``values``,
    not one a pass computes (h[1], h[0][1]); a worked line prints the first as written and the
    second with its decimals."""
    return Key.parse(name).name in values


def _split(name: str) -> tuple[str, tuple[int, ...]]:
    """"W[1][0]" -> ("W", (1, 0)); "h[2]" -> ("h[2]", ()) is tried first by the caller."""
    key = Key.parse(name)
    numbers = key.numbers()
    return (key.name, numbers) if numbers is not None else (name, ())


def _split_at_step(name: str) -> tuple[str, tuple[int, ...]]:
    """"h[0][1]" -> ("h[0]", (1,)): a sequence's value at a step, and its entry."""
    head, _, rest = name.partition("]")
    _, entry = _split("x" + rest)
    return (head + "]", entry) if rest and entry else (name, ())


def _indicator(inner, numbers: Numbers, at_zero: float) -> float | None:
    """A step's value at this pass (relu′(z), max's H(z − w)): 1 above 0, 0
    below, ``at_zero`` at 0; None when z has no number."""
    if not numbers.known(inner):
        return None
    return _step(float(inner.xreplace({s: numbers.of(s) for s in inner.free_symbols})), at_zero)


def _step(z, at_zero: float) -> float:
    """relu′(z), the indicator [z > 0], with ``at_zero`` at 0 (the convention)."""
    return 1.0 if z > 0 else 0.0 if z < 0 else float(at_zero)


class _WithNumbers:
    """A printer that prints each symbol with a number as that number, and relu′ as 0 or 1."""

    latex = False

    def __init__(self, numbers, style, relu_at_zero, index_base, sequences, notation=DEFAULT):
        super().__init__(index_base, sequences, notation)
        self.numbers, self.style, self.relu_at_zero = numbers, style, relu_at_zero

    def _shown(self, value, computed: bool = False) -> str:
        """A number inside a formula, in brackets when negative; a computed one with its
        decimals, trailing zeros kept (0.0100), as the line that computed it ends."""
        n = self.style.column(value) if computed else self.style.number(value)
        return paren(n.latex() if self.latex else n.text(), self.latex)

    def parenthesize(self, item, level, *args, **kwargs):
        """A fraction in text in brackets as a factor or a power's base
        (3/8·2 would read as 3/16), not as a term or an argument."""
        out = super().parenthesize(item, level, *args, **kwargs)
        if not self.latex and level >= PRECEDENCE["Mul"] and re.fullmatch(r"\d+/\d+", out):
            return f"({out})"
        return out

    def _print_Symbol(self, expr, *args, **kwargs):
        value = self.numbers.of(expr)
        if value is None:
            return super()._print_Symbol(expr, *args, **kwargs)
        return self._shown(value, self.numbers.computed(expr))

    def _print_AdjointSymbol(self, expr, *args, **kwargs):
        value = self.numbers.of(expr)
        return super()._print_AdjointSymbol(expr, *args, **kwargs) if value is None else self._shown(value, True)

    def _print_Function(self, expr, *args, **kwargs):
        if type(expr).__name__ == "relu_prime":
            value = _indicator(expr.args[0], self.numbers, self.relu_at_zero)
            if value is not None:
                return self._shown(value)
        return super()._print_Function(expr, *args, **kwargs)

    def _print_Heaviside(self, expr, *args, **kwargs):
        """A step (max's H(z − w), leaky_relu's [z > 0]) as its value, 0, ½ or 1."""
        inner, at_zero = expr.args
        value = _indicator(inner, self.numbers, at_zero)
        return super()._print_Heaviside(expr, *args, **kwargs) if value is None else self._shown(value)


class _TextNumbers(_WithNumbers, TextPrinter):
    pass


class _LatexNumbers(_WithNumbers, SympropLatexPrinter):
    latex = True


def substituted(expr, numbers: Numbers, style, problem) -> Typeset | None:
    """``expr`` with every symbol printed as its number; None when one has none,
    or when there is nothing to put in (a lone symbol or a number)."""
    if not isinstance(expr, sympy.Basic) or not expr.free_symbols or isinstance(expr, Symbol):
        return None
    if not numbers.known(expr):
        return None
    base, seq = problem.conventions.index_base, problem.sequences
    at_zero = problem.conventions.relu_grad_at_zero
    return Typeset(lambda _, latex: (_LatexNumbers if latex else _TextNumbers)(
        numbers, style, at_zero, base, seq, problem.notation).doprint(expr))


def as_printed(value, style) -> sympy.Rational | None:
    """A number as a student reads it off the page: rounded as ``style``
    prints it (0.6574 for 0.657397…), exactly; None for what is no plain number."""
    number = style.number(value)
    if not hasattr(number, "write"):
        return None
    text = number.write(number.value)
    try:
        return sympy.Rational(text)
    except (TypeError, ValueError):
        return None


def recomputed(expr, numbers: Numbers, style, at_zero: float) -> float | None:
    """``expr`` computed from its numbers as printed, as a student recomputes a
    worked line; None when a number is missing or the result is no real number."""
    subs = {}
    for s in expr.free_symbols:
        v = numbers.of(s)
        shown = None if v is None else as_printed(v, style)
        if shown is None:
            return None
        subs[s] = shown
    out = expr.xreplace(subs).replace(
        lambda e: type(e).__name__ == "relu_prime",
        lambda e: sympy.Float(_step(e.args[0], at_zero)))
    try:
        value = complex(out.evalf(30))
    except (TypeError, ValueError):
        return None
    return value.real if value.imag == 0 and np.isfinite(value.real) else None


def half_unit(text: str) -> float:
    """Half a unit in the last printed digit of a number's text (0.00005 for
    2.3723, 5e-9 for 1.2e-07); 0 for an exact fraction."""
    if "/" in text:
        return 0.0
    mantissa, _, exponent = text.partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)
