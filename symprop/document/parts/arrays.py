"""The working of vectors and matrices: the first step's equations with their arrays written out.

A line whose arrays are small (``ARRAY_LIMIT`` rows and columns at most) and
whose operations are done by hand is printed with each array as its numbers,
as the books write a worked example:

    a₁ = b + W·h₀ + U·x₁ = (0.1, -0.1)ᵀ + [0.5, -0.3; 0.2, 0.4]·(0, 0)ᵀ + … = (0.2, -0.5)ᵀ

A larger line (or one too wide for the page) shows one entry instead, the
first, worked from the entry-by-entry engine's formula (a₁,₀ = …).  A loss
term whose target is one-hot reads its one entry: L₁ = -sum(y₁ ⊙ log(ŷ₁)) =
-log(ŷ₁,₀) = -log(0.37311) = 0.986.  As for a scalar line, the numbers put in
carry up to MORE_DIGITS more decimals, the fewest with which recomputing the
line from them gives every printed entry (``Base.reproducing``).  The backward
pass is worked the same way from the matrix form's formulas (``backward_arrays``).
"""


import numpy as np
import sympy

from ...derive.backprop import AdjointSymbol
from ...derive.ops import number_of
from ...derive.program import Op, leaves_of, walk
from ...evaluate.arrays import Machine
from ...model.functions import RULES
from ...model.spec import LOSS
from ..blocks import Para, Rows
from ..formulas import latex_style, text, text_style
from ..maths import Typeset, Unicode
from ..numbers import DIGITS, Number, paren
from ..render.document import LINE_WIDTH, break_formula
from ..render.latex_printer import width
from ..working import _STEP, _split, as_printed, given, half_unit
from .base import SHOW_STEPS, _at_step, _sym

ARRAY_LIMIT = 4  # an array of at most this many rows and columns is written out; of a larger one, an entry

MAX_ENTRY_OPS = 200  # operations of an entry's formula worked as an example (a row of 100 products)

# what a student computes by hand from arrays written out (and what a checker recomputes)
_BY_HAND = {"leaf", "at", "num", "neg", "T", "add", "mul", "div", "pow", "matmul"}
_HAND_FUNCTIONS = {"tanh", "sigmoid", "relu", "exp", "log", "sqrt", "sin", "cos"}
_AXIS_FUNCTIONS = {"softmax", "sum", "mean"}  # over a column, every entry, or along an axis


def _by_hand(expr: Op) -> bool:
    """Every operation of ``expr`` is one a student does on written-out arrays."""
    for e in walk(expr):
        if e.op in _BY_HAND:
            continue
        if e.op == "fn" and e.name in _HAND_FUNCTIONS and not e.extra and len(e.args) == 1:
            continue
        if e.op in _AXIS_FUNCTIONS and (isinstance(e.extra, int) or (
                e.extra is None and (e.op != "softmax" or (e.args[0].shape or (1, 1))[1] == 1))):
            continue
        return False
    return True


def _small(value) -> bool:
    return not isinstance(value, np.ndarray) or (value.ndim <= 2 and max(value.shape) <= ARRAY_LIMIT)


def _entries(number: Number) -> np.ndarray:
    """A number or an array as printed, as floats (0.65742 for 0.657397… at 5 decimals)."""
    def read(x) -> float:
        return float(sympy.Rational(number.write(x)))
    value = number.value
    if isinstance(value, np.ndarray):
        return np.array([read(x) for x in value.flat], dtype=float).reshape(value.shape)
    return np.float64(read(value))


def _half_units(number: Number, digits: int) -> np.ndarray:
    """How far a recomputed entry may be from the printed one: half a unit of
    the document's last decimal for a float (of its last printed digit for a
    small one, 7.51·10⁻³), nothing for an exact number."""
    value = number.value
    flat = value.flat if isinstance(value, np.ndarray) else [value]
    return np.array([0.0 if isinstance(x, sympy.Rational) else min(0.5 * 10.0 ** -digits, half_unit(number.write(x)))
                     for x in flat])


class Arrays:
    """The array working, as methods of the document's builder."""

    def machine(self) -> Machine:
        """The array engine's machine, to recompute a line from its numbers as printed."""
        if getattr(self, "_machine", None) is None:
            self._machine = Machine(self.program, self.problem.conventions.relu_grad_at_zero)
        return self._machine

    def all_values(self, step, machine: Machine) -> dict:
        """Every value a line reads at the first step: the leaves (a sequence's
        items x[0], x[1], …) and every line's value."""
        return {**machine.leaf_values(self.problem.first_values()), **step.leaves, **step.values, LOSS: step.loss}

    def loss_row(self, step, row: list) -> list:
        """The loss after the loop worked out with its numbers (or its arrays); else ``row``."""
        loss = self.program.loss
        if loss is None or loss.expr is None:
            return row
        if self.matrix is None:  # a scalar cell's loss after the loop: worked with its numbers
            node = self.graph.nodes[-1]
            return self.worked(row[0], node.expr, self.numbers(step), step.loss) if self.scalar else row
        rows = self.array_rows(step, [loss], None, lambda line: LOSS)
        return rows[0] if rows and len(rows[0]) > 2 else row

    def array_rows(self, step, lines, t: int | None, lhs_key) -> list:
        """A worked row (or one entry's) for each of ``lines`` at step ``t``;
        ``lhs_key(line)`` is the key of its value."""
        machine = self.machine()
        values = self.all_values(step, machine)
        rows = []
        for line in lines:
            key = lhs_key(line)
            value = values.get(key)
            if value is None:
                continue
            row = self.array_row(step, line, key, t, values, machine)
            if row is not None:
                rows.append(row)
                self.arrays_shown = True
                continue
            rows.append([_sym(key), self.result(value)])
            example = self.entry_row(step, line, key, t, value)
            if example is not None:
                rows.append(example)
                self.arrays_shown = True
        return rows

    def array_row(self, step, line, key: str, t, values: dict, machine: Machine) -> list | None:
        """key = formula = the formula with its arrays written out = value; None when an
        array is larger than ARRAY_LIMIT, an operation is not done by hand, the numbers
        do not reproduce or the line is wider than a page."""
        expr, value, lhs = line.expr, values[key], _sym(key)
        refs = list(leaves_of(expr))
        if not isinstance(value, np.ndarray) and not any(isinstance(values.get(machine.ref(e, t)), np.ndarray)
                                                        for e in refs):
            return None  # a scalar line: the entry-by-entry engine's
        if not _by_hand(expr) or not _small(value) or any(
                machine.ref(e, t) not in values or not _small(values[machine.ref(e, t)]) for e in refs):
            return None
        style = self.array_style(expr, t, value, values, machine)
        if style is None:
            return None
        formula = self.pre_at(expr, t)
        numbers = self.pre_numbers(expr, t, values, machine, style)
        latex = self.printers()[1]  # the width a line takes in LaTeX, measured here
        numbers_latex, latex_lhs = latex.doprint(numbers), latex.doprint(lhs)
        if width(numbers_latex) + width(latex_lhs) + 2 > LINE_WIDTH and not _breaks(numbers_latex):
            return None
        row = [lhs, formula]
        simpler = self.one_hot(step, line, lhs, t, value)
        return row + (simpler if simpler is not None else [numbers, self.result(value)])

    def sum_style(self, terms: list, total):
        """The style of the terms of a printed sum (L = L₁ + L₂ + L₃ = …): this document's,
        or up to MORE_DIGITS more decimals, the fewest with which they add up to the total."""
        target = as_printed(total, self.style)
        if target is None:
            return self.style
        number = self.result(total)
        room = half_unit(number.write(number.value)) + 1e-9 * abs(float(target))

        def reproduces(style):
            shown = [as_printed(x, style) for x in terms]
            return None if any(x is None for x in shown) else abs(float(sum(shown)) - float(target)) <= room

        return self.fewest_digits(reproduces) or self.style

    def entries_style(self, value, recompute):
        """The fewest decimals (``fewest_digits``) with which ``recompute(style)``, the value
        computed from numbers printed in that style (None: not printable so), gives every
        printed entry of ``value`` to half a unit of its last decimal; None if none."""
        printed = self.result(value)
        if not isinstance(printed, Number):
            return None
        target, room = _entries(printed).reshape(-1), _half_units(printed, self.style.digits or DIGITS)

        def reproduces(style):
            got = recompute(style)
            if got is None:
                return None
            got = np.asarray(got, dtype=float).reshape(-1)
            return got.shape == target.shape and bool(np.all(np.abs(got - target) <= room + 1e-9 * np.abs(target)))

        return self.fewest_digits(reproduces)

    def array_style(self, expr: Op, t, value, values: dict, machine: Machine):
        """The style of the arrays put into ``expr`` (``entries_style``)."""
        def recompute(style):
            shown = {}
            for e in leaves_of(expr):
                key = machine.ref(e, t)
                number = style.number(values[key])
                if not isinstance(number, Number):
                    return None
                shown[key] = _entries(number)
            with np.errstate(all="ignore"):
                return machine._eval(expr, t, shown, {})

        return self.entries_style(value, recompute)

    def pre_at(self, expr: Op, t) -> Typeset:
        """A line's formula at step ``t`` (h[t-1] as h₀ at t = 1)."""
        def at(printer_style):
            name = self.name_of(printer_style)
            return lambda key: name(key if t is None else _STEP.sub(
                lambda m: f"[{t + int(m.group(1) or 0)}]", key))
        notation = self.problem.notation
        return Typeset(lambda printer, latex: text(expr, at("latex" if latex else "text"), printer,
                                                   latex_style(notation) if latex else text_style(notation)))

    def pre_numbers(self, expr: Op, t, values: dict, machine: Machine, style) -> Typeset:
        """A line's formula with each name as its number or array, a transposed
        one as its transpose written out (xᵀ as [1, 2])."""
        shown: dict[str, Number] = {}

        def swap(e: Op) -> Op:
            if e.op in ("leaf", "at") or (e.op == "T" and e.args[0].op in ("leaf", "at")):
                leaf = e if e.op != "T" else e.args[0]
                v = values[machine.ref(leaf, t)]
                token = f"#{len(shown)}"
                as_given = given(machine.ref(leaf, t), self.problem.values)
                shown[token] = (style.number if as_given else style.column)(v.T if e.op == "T" and isinstance(v, np.ndarray) else v)
                return Op("leaf", (), e.shape, token)
            return e if not e.args else Op(e.op, tuple(swap(a) for a in e.args), e.shape, e.name, e.step, e.extra)

        return tokens_typeset(swap(expr), shown, self.problem.notation)

    def entry_row(self, step, line, key: str, t, value) -> list | None:
        """The first entry of a larger array worked as an example, from the
        entry-by-entry engine's formula, or without that engine (a problem too
        large for it) from the line's operations done by hand."""
        if not isinstance(value, np.ndarray) or value.ndim != 2:
            return None
        index = "[0]" if value.shape[1] == 1 else "[0][0]"
        if self.scalar:
            node = self.scalar_node(line, t)
            expr = None if node is None else node.expr if t is None else _at_step(node.expr, t)
            numbers = self.numbers(step, t)
        else:
            machine = self.machine()
            expr = _entry(line.expr, 0, 0, lambda e: machine.ref(e, t)) if _by_hand(line.expr) else None
            numbers = _Given(self.all_values(step, machine), self.problem.values)
        if (expr is None or not expr.free_symbols or expr.is_Symbol or sympy.count_ops(expr) > MAX_ENTRY_OPS
                or any(type(f).__name__ not in _HAND_FUNCTIONS for f in expr.atoms(sympy.Function))):
            return None  # nothing to work out, or no formula a student writes by hand
        return self.worked(_sym(key + index), expr, numbers, value.reshape(-1)[0])

    def scalar_node(self, line, t):
        """The entry-by-entry engine's node of a line's first entry (its only one for a scalar)."""
        name = line.key if t is None else f"{line.name}[t]"
        nodes = self.graph.cell.nodes if t is not None else self.graph.nodes
        return next((n for n in nodes if n.key == name and not any(n.entry)), None)

    def one_hot(self, step, line, lhs, t, value) -> list | None:
        """A scalar line (a loss term) whose target is one-hot, written as the entries
        it reads: [-log(ŷ₁,₀), -log(0.37311), value]; None when nothing drops out."""
        if isinstance(value, np.ndarray) or not self.scalar:
            return None
        node = self.scalar_node(line, t)
        if node is None:
            return None
        expr = node.expr if t is None else _at_step(node.expr, t)
        data = {s: self.given_entry(s) for s in expr.free_symbols}
        data = {s: v for s, v in data.items() if v in (0, 1)}
        if not data:
            return None
        simpler = expr.xreplace(data)
        if sympy.count_ops(simpler) >= sympy.count_ops(expr):
            return None
        return self.worked(lhs, simpler, self.numbers(step, t), value)[1:]

    def given_entry(self, symbol):
        """The given number of an input's entry (y[1][0]: the target's), as a SymPy
        integer when it is a whole one; None for what is no input."""
        head, entry = _split(symbol.name)
        leaf = self.program.leaves.get(head)
        if leaf is None or leaf.kind not in ("input", "sequence") or not entry:
            return None
        given = self.problem.first_values().get(head)
        if leaf.kind == "sequence":
            if not isinstance(given, list) or entry[0] >= len(given):
                return None
            given, entry = given[entry[0]], entry[1:]
        array = np.asarray(given, dtype=float)
        if array.ndim == 2 and len(entry) == 1:
            entry = (entry[0], 0)
        if array.ndim != len(entry):
            return None
        x = float(array[entry])
        return sympy.Integer(int(x)) if x == int(x) else None

    def first_step_working(self, step) -> list:
        """A recurrent model's first step worked out with its arrays, and each loss term."""
        program = self.program
        if not program.recurrent or self.matrix is None:
            return []
        rows = self.array_rows(step, program.cell, 1, lambda line: f"{line.key}[1]")
        loss = next((line for line in program.cell if line.key == LOSS), None)
        if loss is not None and self.problem.steps <= SHOW_STEPS:  # each loss term, as the table shows them
            for t in range(2, self.problem.steps + 1):
                rows += self.array_rows(step, [loss], t, lambda line, t=t: f"L[{t}]")
        if not rows:
            return []
        return [*self.limit_said(), self.p("first_step", t=sympy.Eq(_sym("t"), sympy.Integer(1))), Rows(rows)]

    def limit_said(self) -> list[Para]:
        """The limit of arrays written out, said once in a document."""
        if getattr(self, "limit_told", False):
            return []
        self.limit_told = True
        n = ARRAY_LIMIT
        return [self.p("arrays_limit", size=Unicode(f"{n}×{n}"))]


def tokens_typeset(swapped: Op, shown: dict, notation) -> Typeset:
    """An expression whose leaves are tokens, each printed as its number (in brackets
    when negative); a token not shown ("#": an argument a derivative does not read) as nothing."""
    def as_text(token):
        n = shown.get(token)
        if n is None:
            return ""
        return n.text() if isinstance(n.value, np.ndarray) else paren(n.text())

    def as_latex(token):
        n = shown.get(token)
        if n is None:
            return ""
        return n.latex() if isinstance(n.value, np.ndarray) else paren(n.latex(), True)

    return Typeset(lambda printer, latex: text(swapped, as_latex if latex else as_text, printer,
                                               latex_style(notation) if latex else text_style(notation)))


def _breaks(latex: str) -> bool:
    """Whether a formula too wide for a line has a top-level + or - to break it at."""
    lines = break_formula(latex, LINE_WIDTH - 6, LINE_WIDTH - 7)
    return len(lines) > 1 and all(width(x) <= LINE_WIDTH - 4 for x in lines)


def _entry(e: Op, i: int, j: int, ref):
    """Entry (i, j) of an expression done by hand (``_by_hand``, without the
    reductions), in the names of the entries (W[0][1], h[0][1] for a column's):
    the first entry of a line too large for the entry-by-entry engine.  ``ref``
    gives a leaf's key at the step (h[t-1] is h[0] at t = 1); None for an
    operation it does not expand."""
    def of(arg: Op, r: int, c: int):
        rows, columns = arg.shape or (1, 1)  # an axis of 1 is repeated (NumPy's broadcasting)
        return _entry(arg, r if rows > 1 else 0, c if columns > 1 else 0, ref)

    op, args = e.op, e.args
    if op in ("leaf", "at", "adj", "delta"):  # a value's entry, or in a backward formula an adjoint's, a δ's
        key = ref(e)
        if e.shape is not None:
            key = f"{key}[{i}]" if e.shape[1] == 1 else f"{key}[{i}][{j}]"
        return AdjointSymbol(key) if op == "adj" else sympy.Symbol(("delta_" if op == "delta" else "") + key,
                                                                   real=True)
    if op == "num":
        return number_of(e.extra)
    parts = [of(a, j, i) if op == "T" else of(a, i, j) for a in args] if op != "matmul" else []
    if any(p is None for p in parts):
        return None
    if op == "T":
        return parts[0]
    if op == "neg":
        return -parts[0]
    if op == "add":  # the terms in the line's order (b₀ + w₀₀·h₀,₀ + … + w₀,₁₀·h₀,₁₀), as written
        return sympy.Add(*[t for p in parts for t in (p.args if p.is_Add else (p,))], evaluate=False)
    if op in ("mul", "div"):
        a, b = parts
        return a * b if op == "mul" else a / b
    if op == "pow":
        return parts[0] ** e.extra
    if op == "fn":
        return RULES[e.name].apply(parts[0])
    if op == "matmul":
        a, b = args
        terms = [(_entry(a, i, k, ref), _entry(b, k, j, ref)) for k in range((a.shape or (1, 1))[1])]
        if any(x is None or y is None for x, y in terms):
            return None
        return sympy.Add(*[x * y for x, y in terms], evaluate=False)
    return None


class _Given:
    """The number of each entry's name (W[0][1], h[0][1]) among a pass's values,
    for the worked line of an entry (as ``working.Numbers``, without the entry-by-entry engine)."""

    def __init__(self, values: dict, given_values: dict, adjoints: dict | None = None):
        self.values, self.given_values, self.adjoints = values, given_values, adjoints

    def computed(self, symbol) -> bool:
        """Not a number the problem gives (W[0][1]) but one the pass computed (h[0][1], an adjoint's)."""
        return isinstance(symbol, AdjointSymbol) or not given(symbol.name, self.given_values)

    def of(self, symbol):
        if isinstance(symbol, AdjointSymbol):  # an adjoint's entry: ∂L/∂z[0] among the adjoints
            return _Given(self.adjoints, self.given_values).of(sympy.Symbol(symbol.of)) if self.adjoints is not None else None
        head, *indices = symbol.name.split("[")
        indices = [i.rstrip("]") for i in indices]
        for cut in range(len(indices), -1, -1):  # h[0][1]: the value h[0], its entry 1
            key = head + "".join(f"[{i}]" for i in indices[:cut])
            if key in self.values:
                try:
                    entry = tuple(int(i) for i in indices[cut:])
                except ValueError:
                    return None
                array = np.asarray(self.values[key], dtype=object)
                if array.ndim == 2 and len(entry) == 1:
                    entry = (entry[0], 0)
                if array.ndim != len(entry):
                    return None
                x = array[entry] if entry else array.reshape(-1)[0]
                return x if isinstance(x, sympy.Rational) else float(x)
        return None

    def known(self, expr) -> bool:
        return all(self.of(s) is not None for s in expr.free_symbols)
