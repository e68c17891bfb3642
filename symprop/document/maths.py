"""Mathematics a document holds that is not a SymPy expression.

A document keeps mathematics, not printed strings: SymPy expressions, numbers
(``numbers.Number``) and the objects below.  Each renderer's printer turns
them into text at the end, by SymPy's lookup of ``_print_<Class>`` (the text
printer in ``printing.py``, the LaTeX printer in ``render/latex_printer.py``),
so a renderer prints them with its own index base, sequences and notation.
"""

from collections.abc import Callable
from dataclasses import dataclass


class Maths:
    """Mathematics that the printers set (each class has a ``_print_<Class>`` in both)."""


@dataclass(frozen=True)
class PowerOfTen(Maths):
    """10ᵏ: the bound of a rounding-size difference."""

    exponent: int


@dataclass(frozen=True)
class Shape(Maths):
    """An array shown by its shape, (3×4): too large to print entry by entry."""

    dims: tuple[int, ...]


@dataclass(frozen=True)
class Written(Maths):
    """A number as a spec writes it ("0.001", "1e-07"): 1·10⁻⁷ when printed."""

    text: str


@dataclass(frozen=True)
class Tolerance(Maths):
    """A claim's tolerance: ±0.001, ±0.1 %, or ±(0.001 + 0.1 %); each part as written, or None."""

    absolute: str | None
    percent: str | None


@dataclass(frozen=True)
class Code(Maths):
    """A spec's own text (a key, a formula as typed), in typewriter type."""

    text: str


@dataclass(frozen=True)
class FunctionName(Maths):
    """A function's name as mathematics: tanh, \\operatorname{softplus}."""

    name: str


@dataclass(frozen=True)
class Applied(Maths):
    """A named function at a point, f(z), or its derivative f′(z), kept as written."""

    function: str
    argument: str
    prime: bool = False


@dataclass(frozen=True)
class Order(Maths):
    """O(·) of a cost: O(T), O(m²)."""

    of: object  # a SymPy expression


@dataclass(frozen=True)
class StepRange(Maths):
    """The steps a pass runs over: t = 1, …, T forward, t = T, …, 1 backward."""

    first: object  # a SymPy expression: 1 or T
    last: object


@dataclass(frozen=True)
class Joined(Maths):
    """Pieces in the order given (SymPy's Add would sort them), with a separator in each printing."""

    items: tuple
    text_sep: str = " + "
    latex_sep: str = " + "


@dataclass(frozen=True)
class Set(Maths):
    """A SymPy expression set as one finished piece (in LaTeX its brackets tidied, as a number's)."""

    expr: object


@dataclass(frozen=True, eq=False)
class Typeset(Maths):
    """Mathematics a builder's own printer sets when the document is printed (a
    matrix-form formula, a worked line): ``make(printer, latex)`` gives its
    text with the renderer's printer."""

    make: Callable[[object, bool], str]


@dataclass(frozen=True)
class Relation(Maths):
    """lhs = rhs, either side a SymPy expression, a number or mathematics above."""

    lhs: object
    rhs: object


@dataclass(frozen=True)
class Unicode(Maths):
    """Mathematics written in Unicode (a product of shapes 3×1 · 1×3, a factor 2); in
    LaTeX × · ⊙ − become \\times, \\cdot, \\odot and -."""

    text: str


@dataclass(frozen=True)
class PlusPartial(Maths):
    """∂⁺num/∂den: the derivative through the direct edge only (the earlier state held fixed)."""

    num: object  # SymPy symbols
    den: object


@dataclass(frozen=True)
class UnrolledSum(Maths):
    """The unrolled gradient of one state: ∂Lₜ/∂p = Σₖ ∂Lₜ/∂hₜ (Π ∂hᵢ/∂hᵢ₋₁) ∂⁺hₖ/∂p."""

    state: str


def printed(item, printer, latex: bool) -> str:
    """Any piece of mathematics with ``printer``: a document's number prints itself, the rest the printer prints."""
    if hasattr(item, "latex") and callable(item.latex):  # numbers.Number (SymPy has a Number of its own)
        return item.latex() if latex else item.text()
    return printer.doprint(item)
