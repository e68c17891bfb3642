"""Names and expressions as people write them: omega0 as ω₀, h[t-1] as h_{t-1}.

``display_name`` splits a symbol name into a base (Greek letters spelled out
become Greek) and subscripts; the text printer uses Unicode, the LaTeX
printer (``render/latex.py``) uses the same split.
"""

import re
import unicodedata

from sympy import Derivative, Heaviside, Mul, Subs, Symbol
from sympy.core.basic import _args_sortkey
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from ..derive.backprop import AdjointSymbol
from ..derive.mathobj import Verbatim
from ..model.functions import as_prime
from ..model.notation import DEFAULT, Notation
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
SUPERSCRIPT_TIME = str.maketrans("0123456789+-=()tkijn", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵗᵏⁱʲⁿ")

_NAME = re.compile(r"([A-Za-z]+?)(hat|bar|tilde)?_?([0-9]*)\Z")


def split_name(name: str, index_base: int = 0, sequences=frozenset()):
    """(base, accent, subscripts, version) of a symbol name.

    ``omega0`` -> ("omega", None, ["0"], None); ``yhat[2]`` -> ("y", "hat",
    ["2"], None); ``W[1][0]`` with index_base 1 -> ("W", None, ["21"], None);
    ``z@1`` -> ("z", None, [], "1").  For a name in ``sequences`` the first
    index is a time step, which ``index_base`` leaves alone.
    """
    base, accent, subs, time, version = name_parts(name, index_base, sequences)
    if time is not None:
        subs.insert(1 if subs and has_digits(name) else 0, time)
    return base, accent, subs, version


def has_digits(name: str) -> bool:
    """Whether the name itself carries a subscript (h1, x_in), before its indices."""
    head = name.split("@", 1)[0].split("[", 1)[0]
    m = _NAME.match(head)
    return bool(m.group(3)) if m else "_" in head


def name_parts(name: str, index_base: int = 0, sequences=frozenset()):
    """(base, accent, subscripts, time step, version): ``split_name`` with a
    sequence's time step apart, for a notation that writes it as h⁽ᵗ⁾."""
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
    time = indices.pop(0) if indices and head in sequences else None
    if indices:
        if index_base:
            indices = [str(int(i) + index_base) for i in indices]
        subs.append("".join(indices) if all(len(i) == 1 for i in indices) else ",".join(indices))
    return base, accent, subs, time, version


def adjoint_name(key: str, index_base: int = 0, sequences=frozenset(), notation: Notation = DEFAULT) -> str:
    """∂L/∂ of the value ``key`` names (∇ₓL in a notation that writes ∇)."""
    name = unicode_name(key, index_base, sequences, notation)
    return f"∇_{name} L" if notation.nabla else "∂L/∂" + name


def raised_time(text: str) -> str:
    """⁽ᵗ⁻¹⁾ for t-1; ^(…) when some character has no superscript form."""
    raised = text.replace(" ", "").translate(SUPERSCRIPT_TIME)
    return f"⁽{raised}⁾" if not any(ch.isascii() for ch in raised) else f"^({text})"


def unicode_name(name: str, index_base: int = 0, sequences=frozenset(), notation: Notation = DEFAULT) -> str:
    if name == "T" and notation.last_step == "tau":
        return "τ"
    sequences = frozenset(sequences) | {LOSS}
    base, accent, subs, time, version = name_parts(name, index_base, sequences)
    if time is not None and not notation.superscript:
        subs.insert(1 if subs and has_digits(name) else 0, time)
        time = None
    if (name.count("[") == 2 and name.split("[", 1)[0] not in sequences and len(base) == 1
            and notation.entries == "lowercase"):
        base = base.lower()  # the entries w₂₁ of a matrix W
    text = GREEK.get(base, base)
    if accent:
        text = unicodedata.normalize("NFC", text + HATS[accent])  # ŷ as one character
    if subs:
        joined = ",".join(subs)
        translated = joined.translate(SUBSCRIPT)
        text += translated if not translated.isascii() else f"_{joined}"
    if time is not None:
        text += raised_time(time)
    if version:
        text += _version(name, version, bool(subs), notation)
    return text


def is_update(name: str, notation: Notation) -> bool:
    """Whether ``w@k`` is the parameter w after k steps (not a reassigned z)."""
    return "@" in name and name.split("@", 1)[0].split("[", 1)[0] in notation.params


def _version(name: str, version: str, subscripted: bool, notation: Notation) -> str:
    """z⁽¹⁾ for a reassigned z; a parameter after k steps as the notation writes it."""
    if is_update(name, notation) and version.isdigit():
        if notation.updated == "prime" and int(version) <= 3:
            return "′" * int(version)
        if notation.updated == "subscript" and not subscripted:
            return version.translate(SUBSCRIPT)
    return f"⁽{version.translate(SUPERSCRIPT)}⁾"


def written_order(expr, written: frozenset):
    """A product with its named factors in the order the equations write them:
    w·hₜ₋₁ for w*h[t-1], where SymPy sorts them hₜ₋₁·w; other factors keep their places."""
    args = list(Mul.make_args(expr))
    slots = [i for i, a in enumerate(args) if isinstance(a, Symbol) and not isinstance(a, Verbatim)
             and not a.name.startswith("dL/d")]
    names = [args[i].name.split("@", 1)[0].split("[", 1)[0] for i in slots]
    order: list[int] = []  # each goes before the first placed one it is written before
    for k, name in enumerate(names):
        order.insert(next((j for j, placed in enumerate(order) if (name, names[placed]) in written), len(order)), k)
    if order == sorted(order):
        return expr
    original = list(args)
    for slot, k in zip(slots, order):
        args[slot] = original[slots[k]]
    return Mul(*args, evaluate=False)


def chain_order(expr):
    """A product of the backward pass in the chain rule's order, as a book writes it: the
    number in front, then the upstream ∂L/∂ŷ, then the local derivative (an indicator [z > 0],
    f′(z), or a factor of the node's own value, 1 - h²), then the rest (a weight, an input):
    ∂L/∂ŷₜ·[u·hₜ > 0]·hₜ where SymPy sorts hₜ·∂L/∂ŷₜ·[u·hₜ > 0]; a local derivative alone
    likewise, [u·hₜ > 0]·u.  Each kind keeps its order; a product with neither kind, one of
    matrices, or one not in SymPy's order (its maker's, a path of the graph) is left as it is."""
    args = list(Mul.make_args(expr))
    if not expr.is_commutative or args != sorted(args, key=_args_sortkey):
        return expr
    own = {a.of for a in args if isinstance(a, AdjointSymbol)}
    ranks = [_chain_rank(a, own) for a in args]
    order = sorted(range(len(args)), key=ranks.__getitem__)  # stable: each kind keeps its order
    if order == sorted(order) or not {1, 2} & set(ranks):
        return expr
    return Mul(*[args[k] for k in order], evaluate=False)


def _chain_rank(factor, own: set) -> int:
    """0 a number, 1 an adjoint, 2 a local derivative, 3 anything else."""
    if factor.is_Number:
        return 0
    if isinstance(factor, AdjointSymbol):
        return 1
    name = type(factor).__name__
    if isinstance(factor, Heaviside | Derivative | Subs) or name.endswith("_prime") or any(
            s.name in own for s in factor.free_symbols):
        return 2
    return 3


def nabla_in_brackets(printer, expr, wrap):
    """A product with each ∇ₓL that has factors after it in brackets, (∇ₓL)·x, as seed 004 writes it."""
    args = list(Mul.make_args(expr))
    inner = [k for k, a in enumerate(args[:-1]) if isinstance(a, Symbol) and a.name.startswith("dL/d")]
    printed = {k: printer._print(args[k]) for k in inner}
    printed = {k: s for k, s in printed.items() if s.endswith(" L")}  # not a number put in its place
    if not printed:
        return expr
    return Mul(*[Verbatim(wrap(printed[k])) if k in printed else a for k, a in enumerate(args)], evaluate=False)


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

    def __init__(self, index_base: int = 0, sequences=frozenset(), notation: Notation = DEFAULT):
        super().__init__({"order": "none"})
        self.index_base = index_base
        self.sequences = frozenset(sequences) | {LOSS}
        self.notation = notation

    def _as_ordered_terms(self, expr, order=None):
        return positive_first(super()._as_ordered_terms(expr, order=order))

    def _print_Symbol(self, expr):
        if isinstance(expr, Verbatim):
            return expr.name
        return unicode_name(expr.name, self.index_base, self.sequences, self.notation)

    def _print_AdjointSymbol(self, expr):
        return adjoint_name(expr.of, self.index_base, self.sequences, self.notation)

    def _print_Product(self, expr):
        return "*".join(product_parts(self, expr, lambda s: f"({s})"))

    def _print_Mul(self, expr):
        expr = chain_order(expr)
        if self.notation.written:
            expr = written_order(expr, self.notation.written)
        if self.notation.nabla:
            expr = nabla_in_brackets(self, expr, lambda s: f"({s})")
        return super()._print_Mul(expr)

    def parenthesize(self, item, level, strict=False):
        """(h⁽ᵗ⁾)² for a name that already carries a superscript, not h⁽ᵗ⁾²."""
        out = super().parenthesize(item, level, strict)
        if level >= PRECEDENCE["Pow"] and item.is_Symbol and out.endswith(("⁾", "′")):
            return f"({out})"
        return out

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
        if item.superscript:
            lt, ht, hi, hj, hk = (unicode_name(k, self.index_base, self.sequences, self.notation) for k in item.keys())
        else:
            lt, ht, hi, hj, hk = "Lₜ", f"{h}ₜ", f"{h}ᵢ", f"{h}ᵢ₋₁", f"{h}ₖ"
        return f"∂{lt}/∂p = Σ_(k=1..t) ∂{lt}/∂{ht} · (Π_(i=k+1..t) ∂{hi}/∂{hj}) · ∂⁺{hk}/∂p"

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


def text(expr, index_base: int = 0, sequences=frozenset(), notation: Notation = DEFAULT) -> str:
    return TextPrinter(index_base, sequences, notation).doprint(expr)
