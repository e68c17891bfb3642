"""What every piece of a document reads: the problem, its program and derivation, how names and numbers print."""

from dataclasses import replace
from functools import cached_property

from sympy import Eq, Integer, Symbol

from ...derive.backprop import AdjointSymbol, derivation_of
from ...derive.graph import graph_of
from ...derive.program import has_arrays, program_of
from ...derive.sweep import matrix_form_of
from ...evaluate.scalar import too_large
from ...model.spec import LOSS
from ..blocks import Para, para
from ..formulas import latex_style, text, text_style
from ..maths import Joined, Set, StepRange, Typeset
from ..numbers import (
    DIGITS,
    Style,
)
from ..printing import TextPrinter, unicode_name
from ..render.latex_printer import SympropLatexPrinter, latex_name
from ..strings import STRINGS, phrase
from ..working import _STEP, Numbers, as_printed, half_unit, recomputed, substituted


def _sym(key: str) -> Symbol:
    return Symbol(key, real=True)


def _adj(key: str) -> AdjointSymbol:
    return AdjointSymbol(key)


SHOW_STEPS = 12  # a recurrent model longer than this is shown by its cell only


_t = Symbol("t", real=True)


SHOW_WORK_STEPS = 4  # a scalar cell this short shows the arithmetic of every step


MAX_STORY = 200  # local derivatives in all closed forms together; past it, the adjoint form


MAX_SHOWN = 300  # nodes of a closed form a document prints


MAX_EXPANDED = 200  # characters of a closed form written out beside the backward pass's nested one


MAX_FIGURE = 40  # vertices of a computational graph a document draws


def last_step(notation) -> Symbol:
    """The last step's letter: T, or τ as seed 004 writes it."""
    return Symbol("tau" if notation.last_step == "tau" else "T", real=True)


def forward_range(notation) -> StepRange:
    """t = 1, …, T in the notation's letter for the last step."""
    return StepRange(Integer(1), last_step(notation))


def backward_range(notation) -> dict:
    """t = T, …, 1, the next step, the last one, in the notation's letter for the last step."""
    last = last_step(notation)
    return {"range": StepRange(last, Integer(1)), "next": Joined((_t, Integer(1))), "last": Eq(_t, last)}


def _steps(problem) -> Eq:
    return Eq(last_step(problem.notation), Integer(problem.steps))


def _join(pieces: list, text_sep: str = " + ", latex_sep: str = " + ") -> Joined:
    return Joined(tuple(pieces), text_sep, latex_sep)


def _at_step(expr, t: int):
    """A cell formula at step t: h[t-1] becomes h[2] for t = 3."""
    subs = {}
    for s in expr.free_symbols:
        name = _STEP.sub(lambda m: f"[{t + int(m.group(1) or 0)}]", s.of if isinstance(s, AdjointSymbol) else s.name)
        subs[s] = AdjointSymbol(name) if isinstance(s, AdjointSymbol) else Symbol(name, real=True)
    return expr.xreplace(subs)


def _names(names: list[str], builder) -> Joined:
    sep = builder.word("list_separator")
    return Joined(tuple(_sym(n) for n in names), sep, sep)


def _letter_in(letter: str, lang: str) -> str:
    """The source's part letter in this document's alphabet: б) is b) in English."""
    own = STRINGS[lang]["letters"]
    if letter in own:
        return letter
    for other in STRINGS.values():
        if letter in other["letters"]:
            return own[other["letters"].index(letter)]
    return letter


MORE_DIGITS = 4  # decimals a worked line's numbers may carry beyond the document's, to reproduce


class Base:
    def __init__(self, problem, lang: str | None, audience: str, style: Style):
        self.problem = problem
        self.lang = lang or problem.lang
        self.audience = audience
        self.style = style
        self.program = program_of(problem)
        self.matrix = matrix_form_of(problem) if has_arrays(self.program) else None
        # The entry-by-entry engine shows scalar closed forms; a large matrix
        # problem is told from the program alone.
        self.scalar = self.matrix is None or not too_large(self.program, "the scalar engine shows problems")
        self.shown = frozenset()  # the pieces the parts print (``Questions.parts``), for the appendix
        self.carried = ""  # "now" once a worked line's numbers carry more decimals, "said" once told

    @cached_property
    def derivation(self):
        return derivation_of(self.problem)

    @cached_property
    def graph(self):
        return graph_of(self.problem)

    def num(self, value):
        """A number as this document prints it (--digits, exact, --fractions)."""
        return self.style.number(value)

    def p(self, key: str, **math) -> Para:
        return para(self.lang, key, **math)

    def word(self, key: str) -> str:
        return phrase(self.lang, key)

    def name_of(self, printer_style: str):
        seq = self.problem.sequences | {LOSS}
        base, notation = self.problem.conventions.index_base, self.problem.notation
        if printer_style == "latex":
            return lambda key: latex_name(key, base, seq, notation)
        return lambda key: unicode_name(key, base, seq, notation)

    @property
    def lr_name(self) -> str:
        """The learning rate's symbol: eta (η), or the notation's letter (γ in seed 000)."""
        return self.problem.notation.learning_rate

    def before_step(self, name: str, k: int) -> Symbol:
        """The weight a k-th step starts from: w, or w₀ where the notation writes w₁ after it."""
        return _sym(f"{name}@{k - 1}") if self.problem.notation.updated == "subscript" else _sym(name)

    def printers(self) -> tuple:
        """The text and the LaTeX printer of this problem's names and notation."""
        base, seq, notation = self.problem.conventions.index_base, self.problem.sequences, self.problem.notation
        return TextPrinter(base, seq, notation), SympropLatexPrinter(base, seq, notation)

    def pre_matrix(self, m) -> Typeset:
        """A matrix-form formula, set by the formula printer with the renderer's printer."""
        notation = self.problem.notation
        return Typeset(lambda printer, latex: text(m, self.name_of("latex" if latex else "text"), printer,
                                                   latex_style(notation) if latex else text_style(notation)))

    def pre(self, expr) -> Set:
        """An expression set as one finished piece (SymPy's order kept inside a sum of pieces)."""
        return Set(expr)

    def joined(self, terms) -> Joined:
        """Terms in the order given (SymPy's Add would sort them)."""
        return _join([self.pre(t) for t in terms])

    def numbers(self, step, t: int | None = None):
        n = Numbers(self.graph, step, self.problem)
        return n if t is None else n.at(t)

    def worked(self, lhs, expr, numbers, value) -> list:
        """lhs = formula = the formula with numbers = value (the middle ones when they say something).
        The numbers put in carry as many decimals as make the line reproduce: recomputed
        from them, the formula gives the printed value (to half a unit of its last digit)."""
        row = [lhs]
        if expr is not None and expr != lhs:
            row.append(expr)
            if numbers is not None:
                style = self.reproducing(expr, numbers, value) if value is not None else self.style
                middle = substituted(expr, numbers, style, self.problem)
                if middle is not None:
                    row.append(middle)
        if value is not None:
            row.append(self.result(value))
        return row

    def result(self, value):
        """A computed value as a worked line ends in it: a float with this document's decimals,
        trailing zeros kept (0.0100, (0.4840, 0.4875)ᵀ), as books print a column of results."""
        return self.style.column(value)

    def reproducing(self, expr, numbers, value, strict: bool = False) -> Style | None:
        """The style of the numbers put into ``expr``: this document's, or up to
        MORE_DIGITS more decimals, the fewest with which the line reproduces; when
        none does, this document's (None if ``strict``)."""
        fallback = None if strict else self.style
        printed = as_printed(value, self.style)
        if printed is None:
            return fallback
        number = self.result(value)
        room = half_unit(number.write(number.value)) + 1e-9 * abs(float(printed))
        at_zero = self.problem.conventions.relu_grad_at_zero

        def reproduces(style):
            got = recomputed(expr, numbers, style, at_zero)
            return None if got is None else abs(got - float(printed)) <= room

        return self.fewest_digits(reproduces) or fallback

    def fewest_digits(self, reproduces) -> Style | None:
        """This document's style, or up to MORE_DIGITS more decimals: the fewest with which
        ``reproduces(style)`` is true (None from it: the line cannot be recomputed, none is
        tried further); None if none.  Carrying more is said once in the document."""
        for extra in range(MORE_DIGITS + 1):
            style = replace(self.style, digits=(self.style.digits or DIGITS) + extra)
            found = reproduces(style)
            if found is None:
                return None
            if found:
                if extra and not self.carried:
                    self.carried = "now"
                return style
        return None
