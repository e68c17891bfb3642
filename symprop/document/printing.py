"""Names and expressions as people write them: omega0 as ω₀, h[t-1] as h_{t-1}.

``display_name`` splits a symbol name into a base (Greek letters spelled out
become Greek) and subscripts; the text printer uses Unicode, the LaTeX
printer (``render/latex.py``) uses the same split.
"""

import re
import unicodedata

from sympy.printing.str import StrPrinter

from ..derive.mathobj import Verbatim
from ..model.functions import as_prime
from ..model.spec import LOSS
from .maths import Maths, printed
from .numbers import _sci_text

GREEK = {
    name: chr(code)
    for name, code in [
        ("alpha", 0x3B1), ("beta", 0x3B2), ("gamma", 0x3B3), ("delta", 0x3B4),
        ("epsilon", 0x3B5), ("zeta", 0x3B6), ("eta", 0x3B7), ("theta", 0x3B8),
        ("iota", 0x3B9), ("kappa", 0x3BA), ("lambda", 0x3BB), ("lamda", 0x3BB),
        ("mu", 0x3BC), ("nu", 0x3BD), ("xi", 0x3BE), ("pi", 0x3C0), ("rho", 0x3C1),
        ("sigma", 0x3C3), ("tau", 0x3C4), ("upsilon", 0x3C5), ("phi", 0x3C6),
        ("chi", 0x3C7), ("psi", 0x3C8), ("omega", 0x3C9),
    ]
}
HATS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303"}
SUBSCRIPT = str.maketrans("0123456789+-=()t,", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₜ,")
SUPERSCRIPT = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")
_SUPERSCRIPT_SIGNED = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")

_NAME = re.compile(r"([A-Za-z]+?)(hat|bar|tilde)?_?([0-9]*)\Z")


def split_name(name: str, index_base: int = 0, sequences=frozenset()):
    """(base, accent, subscripts, version) of a symbol name.

    ``omega0`` -> ("omega", None, ["0"], None); ``yhat[2]`` -> ("y", "hat",
    ["2"], None); ``W[1][0]`` with index_base 1 -> ("W", None, ["21"], None);
    ``z@1`` -> ("z", None, [], "1").  For a name in ``sequences`` the first
    index is a time step, which ``index_base`` leaves alone.
    """
    version = None
    if "@" in name:
        name, version = name.split("@", 1)
    head, *indices = name.split("[")
    indices = [i.rstrip("]") for i in indices]
    m = _NAME.match(head)
    if m:
        base, accent, digits = m.group(1), m.group(2), m.group(3)
    else:
        base, accent, digits = head, None, ""
        if "_" in head:
            base, digits = head.split("_", 1)
    subs = [digits] if digits else []
    if indices and head in sequences:
        subs.append(indices.pop(0))
    if indices:
        if index_base:
            indices = [str(int(i) + index_base) for i in indices]
        subs.append("".join(indices) if all(len(i) == 1 for i in indices) else ",".join(indices))
    return base, accent, subs, version


def adjoint_name(key: str, index_base: int = 0, sequences=frozenset()) -> str:
    """∂L/∂ of the value ``key`` names."""
    return "∂L/∂" + unicode_name(key, index_base, sequences)


def unicode_name(name: str, index_base: int = 0, sequences=frozenset()) -> str:
    sequences = frozenset(sequences) | {LOSS}
    base, accent, subs, version = split_name(name, index_base, sequences)
    if name.count("[") == 2 and name.split("[", 1)[0] not in sequences and len(base) == 1:
        base = base.lower()  # the entries w₂₁ of a matrix W
    text = GREEK.get(base, base)
    if accent:
        text = unicodedata.normalize("NFC", text + HATS[accent])  # ŷ as one character
    if subs:
        joined = ",".join(subs)
        translated = joined.translate(SUBSCRIPT)
        text += translated if not translated.isascii() else f"_{joined}"
    if version:
        text += f"⁽{version.translate(SUPERSCRIPT)}⁾"
    return text


def product_parts(printer, expr, wrap) -> list[str]:
    """The factors of a Product, a sum or a later negative one in brackets."""
    parts = []
    for f in expr.args:
        s = printer._print(f)
        if f.is_Add or (f.could_extract_minus_sign() and parts):
            s = wrap(s)
        parts.append(s)
    return parts


def step_bracket(expr) -> tuple | None:
    """The step H(x, h0) as an Iverson bracket, (x, relation): [x > 0] for h0 = 0,
    [x ≥ 0] for h0 = 1, and [u < 0], [u ≤ 0] for x = -u; None for h0 = ½ (H(x))."""
    x, at_zero = expr.args
    if at_zero not in (0, 1):
        return None
    flip = x.could_extract_minus_sign()
    return (-x if flip else x), {(0, False): ">", (1, False): "≥", (0, True): "<", (1, True): "≤"}[
        (int(at_zero), flip)]


def positive_first(terms: list) -> list:
    """ŷ - y rather than -y + ŷ: terms without a minus sign first, else as given."""
    return [t for t in terms if not t.could_extract_minus_sign()] + [
        t for t in terms if t.could_extract_minus_sign()
    ]


class PrimeNotation:
    """f'(u) for SymPy's form of an undefined activation's derivative
    (``Derivative``/``Subs``, as ``gradients()`` gives it); each printer says
    how a call looks (``primed``)."""

    def _print_Derivative(self, expr):
        prime = as_prime(expr)
        if prime is None:
            return super()._print_Derivative(expr)
        name, order, at = prime
        return self.primed(name + "'" * order, self._print(at))

    def _print_Subs(self, expr):
        return self._print_Derivative(expr) if as_prime(expr) else super()._print_Subs(expr)


class TextPrinter(PrimeNotation, StrPrinter):
    """One-line Unicode: ω₀·x, f'(h₁), and relu'(z) as the indicator [z > 0]."""

    printmethod = "_symprop_text"  # not _sympystr: that one is for plain sstr (JSON)

    def __init__(self, index_base: int = 0, sequences=frozenset()):
        super().__init__({"order": "none"})
        self.index_base = index_base
        self.sequences = frozenset(sequences) | {LOSS}

    def _as_ordered_terms(self, expr, order=None):
        return positive_first(super()._as_ordered_terms(expr, order=order))

    def _print_Symbol(self, expr):
        if isinstance(expr, Verbatim):
            return expr.name
        return unicode_name(expr.name, self.index_base, self.sequences)

    def _print_AdjointSymbol(self, expr):
        return adjoint_name(expr.of, self.index_base, self.sequences)

    def _print_Product(self, expr):
        return "*".join(product_parts(self, expr, lambda s: f"({s})"))

    def _print_Equality(self, expr):
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    # The document's mathematics that is not SymPy's (maths.py) ------------------------

    def _print_PowerOfTen(self, item):
        return "10" + str(item.exponent).translate(_SUPERSCRIPT_SIGNED)

    def _print_Shape(self, item):
        return "(" + "×".join(map(str, item.dims)) + ")"

    def _print_Written(self, item):
        return _sci_text(item.text)

    def _print_Tolerance(self, item):
        parts = [_sci_text(item.absolute)] if item.absolute else []
        parts += [_sci_text(item.percent) + " %"] if item.percent else []
        return f"±{parts[0]}" if len(parts) == 1 else f"±({' + '.join(parts)})"

    def _print_Code(self, item):
        return item.text

    def _print_FunctionName(self, item):
        return item.name

    def _print_Applied(self, item):
        return f"{item.function}{'′' if item.prime else ''}({item.argument})"

    def _print_Order(self, item):
        return f"O({self.doprint(item.of)})"

    def _print_StepRange(self, item):
        return f"t = {self.doprint(item.first)}, …, {self.doprint(item.last)}"

    def _print_Joined(self, item):
        return item.text_sep.join(printed(x, self, False) for x in item.items)

    def _print_Set(self, item):
        return self.doprint(item.expr)

    def _print_Typeset(self, item):
        return item.make(self, False)

    def _print_Relation(self, item):
        return f"{printed(item.lhs, self, False)} = {printed(item.rhs, self, False)}"

    def _print_Unicode(self, item):
        return item.text

    def _print_PlusPartial(self, item):
        return f"∂⁺{self.doprint(item.num)}/∂{self.doprint(item.den)}"

    def _print_UnrolledSum(self, item):
        h = item.state
        return f"∂Lₜ/∂p = Σ_(k=1..t) ∂Lₜ/∂{h}ₜ · (Π_(i=k+1..t) ∂{h}ᵢ/∂{h}ᵢ₋₁) · ∂⁺{h}ₖ/∂p"

    def _print_ImmutableDenseMatrix(self, expr):
        if expr.shape[1] == 1:
            return "(" + ", ".join(self._print(e) for e in expr) + ")ᵀ"
        return "[" + "; ".join(", ".join(self._print(e) for e in row) for row in expr.tolist()) + "]"

    def _print_Boxed(self, expr):
        return "[" + self._print(expr.args[0]) + "]"

    def _print_Partial(self, expr):
        num, den = (self._print(a) for a in expr.args)
        return f"∂{num}/∂{den}"

    def _print_Sum(self, expr):
        body, index, low, high = expr.args
        return f"Σ_({self._print(index)}={self._print(low)}..{self._print(high)}) {self._print(body)}"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Heaviside(self, expr):
        bracket = step_bracket(expr)
        if bracket is None:
            return f"H({self._print(expr.args[0])})"
        return f"[{self._print(bracket[0])} {bracket[1]} 0]"

    def _print_Function(self, expr):
        name = type(expr).__name__
        if name == "relu_prime":
            return f"[{self._print(expr.args[0])} > 0]"
        if name.endswith("_prime"):
            name = name[: -len("_prime")] + "'"
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    def primed(self, name: str, at: str) -> str:
        return f"{name}({at})"

    def doprint(self, expr):
        if isinstance(expr, Maths):  # its pieces are printed through doprint, its own text kept as it is
            return self._print(expr)
        out = super().doprint(expr).replace("**", "^").replace("*", "·")
        return re.sub(r"\^2(?![0-9])", "²", out)


def text(expr, index_base: int = 0, sequences=frozenset()) -> str:
    return TextPrinter(index_base, sequences).doprint(expr)
