"""The backward pass of vectors and matrices worked out with its arrays.

Each line is a formula of the matrix form, as the document prints it, with
its arrays written out (at most ``ARRAY_LIMIT`` rows and columns each):

    ∇_h⁽³⁾ L = Vᵀ·∇_o⁽³⁾ L = [0.3, 0.7, -0.5; -0.2, 0.1, 0.4]·(0.323, -0.4579, 0.1349)ᵀ = (-0.2911, -0.0564)ᵀ
    ∇_c L = Σₜ ∇_o⁽ᵗ⁾ L = (-0.6269, 0.4293, 0.1977)ᵀ + (…)ᵀ + (…)ᵀ = (0.015, 0.5025, -0.5175)ᵀ

A recurrent model shows its first step back (t = T) and each parameter's
gradient, its sum over t written term by term (up to ``MAX_SUM_TERMS``); a
feed-forward one each layer's adjoint from the output back.  As in the
forward working, the numbers put in carry up to MORE_DIGITS more decimals, the
fewest with which recomputing the line gives every printed entry.
"""

from dataclasses import replace

import numpy as np
import sympy

from ...derive.program import Op, walk
from ...derive.sweep import FormulaKind
from ...evaluate.arrays import FormulaValues, Pass
from ..numbers import Number
from ..render.document import LINE_WIDTH
from ..render.latex_printer import width
from ..working import given
from .arrays import (
    _HAND_FUNCTIONS,
    MAX_ENTRY_OPS,
    _breaks,
    _by_hand,
    _entries,
    _entry,
    _Given,
    _small,
    tokens_typeset,
)
from .base import _adj

MAX_SUM_TERMS = 4  # a gradient summed over more steps than this is not written term by term

_NAMED = ("leaf", "at", "adj", "delta")  # what a line reads: a value, an adjoint, a δ


def _hand_formula(expr: Op) -> bool:
    """Every operation of a backward formula is one a student does on written-out arrays."""
    for e in walk(expr):
        if e.op in ("adj", "delta"):
            continue
        if e.op in ("diag", "deriv"):
            if any(type(f).__name__ not in _HAND_FUNCTIONS for f in e.extra[0].atoms(sympy.Function)):
                return False
            continue
        if not _by_hand(Op(e.op, tuple(Op("leaf", shape=a.shape) for a in e.args), e.shape, e.name, e.step, e.extra)):
            return False
    return True


class BackwardArrays:
    """The backward working with arrays, as methods of the document's builder."""

    def formula_numbers(self, step) -> FormulaValues:
        """The numbers of the matrix formulas' symbols at the first step, δ included."""
        machine = self.machine()
        numbers = FormulaValues(machine, Pass(float(step.loss), self.all_values(step, machine), step.adjoints))
        steps = self.program.steps or 0
        with np.errstate(all="ignore"):
            for f in self.matrix.formulas:
                if f.kind == FormulaKind.DELTA:
                    for t in (range(steps, 0, -1) if f.step is not None else [None]):
                        numbers.deltas[machine.ref(f.target(), t)] = numbers.formula(f, t)
        return numbers

    def backward_rows(self, step) -> dict[str, list]:
        """The worked rows of each adjoint and δ of the matrix form (a recurrent one's
        at t = T), by key; what has none is left out."""
        if self.matrix is None:
            return {}
        numbers, machine = self.formula_numbers(step), self.machine()
        T = self.program.steps if self.program.recurrent else None
        rows = {}
        for f in self.matrix.formulas:
            if f.kind == FormulaKind.GRAD or (f.step is None) == (T is not None):
                continue
            # at t = T the terms from step T + 1 are absent; a term of one step only, at T, is there
            terms = [term for term in f.terms if term.at in (None, T) and not term.each_t and term.later <= 0]
            if not terms:
                continue
            target = Op(f.kind, name=f.name, step=f.step)
            key = machine.ref(target, T)
            value = numbers.get(target, T) if f.kind == FormulaKind.DELTA else step.adjoints.get(key)
            if value is None:
                continue
            expr = _added([term.expr for term in terms])
            adjoint = key if f.kind == FormulaKind.ADJ else None
            worked = self.worked_arrays([self.pre_at(target, T), self.pre_at(expr, T)], [(expr, T)], value, numbers,
                                        adjoint)
            if worked is not None:
                rows[("δ" if f.kind == FormulaKind.DELTA else "") + key] = worked
        return rows

    def gradient_rows(self, step) -> dict[str, list]:
        """The worked rows of each parameter's gradient, by name: Σₜ written term by term."""
        if self.matrix is None:
            return {}
        numbers = self.formula_numbers(step)
        steps = self.program.steps or 0
        rows = {}
        for f in self.matrix.formulas:
            value = step.gradients.get(f.name)
            if f.kind != FormulaKind.GRAD or value is None or not f.terms:
                continue
            pairs = [(term.expr, t) for term in f.terms for t in (range(1, steps + 1) if term.each_t else [None])]
            if any(term.each_t for term in f.terms) and steps > MAX_SUM_TERMS:
                continue
            formula = self.formula_rows(replace(self.matrix, formulas=[f])).rows[0][1]  # as the matrix form's
            worked = self.worked_arrays([_adj(f.name), formula], pairs, value, numbers, f.name)
            if worked is not None:
                rows[f.name] = worked
        return rows

    def worked_arrays(self, printed: list, pairs: list, value, numbers: FormulaValues, key=None) -> list | None:
        """[printed + [the terms (expr at t) with their arrays written out, value]]; with an
        array larger than ARRAY_LIMIT, the line and its first entry worked (of the adjoint or
        gradient ``key``); None when an operation is not done by hand, the numbers do not
        reproduce or the line is wider than a page."""
        machine = self.machine()
        refs = {(e.op, machine.ref(e, t)): numbers.get(e, t) for expr, t in pairs for e in _read(expr)}
        if not all(_hand_formula(expr) for expr, _ in pairs):
            return None
        if not _small(value) or not all(_small(v) for v in refs.values()):
            entry = self.entry_back(key, pairs, value, numbers) if key is not None else None
            return None if entry is None else [[*printed, self.result(value)], entry]
        if len(pairs) == 1 and pairs[0][0].op in _NAMED:  # ∇_b L = δ_b: nothing to work out
            return None
        style = self.backward_style(pairs, refs, value, numbers)
        if style is None:
            return None
        shown: dict[str, Number] = {}
        swapped = _added([self.swap(expr, t, style, shown, numbers) for expr, t in pairs])
        typeset = tokens_typeset(swapped, shown, self.problem.notation)
        latex = self.printers()[1]
        numbers_latex, lhs_latex = latex.doprint(typeset), latex.doprint(printed[0])
        if width(numbers_latex) + width(lhs_latex) + 2 > LINE_WIDTH and not _breaks(numbers_latex):
            return None
        self.arrays_shown = True
        return [[*printed, typeset, self.result(value)]]

    def entry_back(self, key: str, pairs: list, value, numbers: FormulaValues) -> list | None:
        """The first entry of a larger adjoint or gradient worked from the formula's
        entries: ∂L/∂W₀₀ = ∂L/∂z₀·x₀ + … = value; None for a formula it does not expand."""
        if not isinstance(value, np.ndarray) or value.ndim != 2:
            return None
        machine = self.machine()
        terms = [_entry(expr, 0, 0, lambda e, t=t: machine.ref(e, t)) for expr, t in pairs]
        if any(x is None for x in terms):
            return None
        expr = sympy.Add(*terms, evaluate=False)
        if not expr.free_symbols or sympy.count_ops(expr) > MAX_ENTRY_OPS or any(
                type(f).__name__ not in _HAND_FUNCTIONS for f in expr.atoms(sympy.Function)):
            return None
        index = "[0]" if value.shape[1] == 1 else "[0][0]"
        values = {**numbers.run.values, **{f"delta_{k}": v for k, v in numbers.deltas.items()}}  # δ_z[0]: delta_z[0]
        given, first = _Given(values, self.problem.values, numbers.run.adjoints), value.reshape(-1)[0]
        if not given.known(expr) or self.reproducing(expr, given, first, strict=True) is None:
            return None  # a number too small to carry the decimals it takes (7.05·10⁻³ at any --digits)
        self.arrays_shown = True
        return self.worked(_adj(key + index), expr, given, first)

    def backward_style(self, pairs: list, refs: dict, value, numbers: FormulaValues):
        """The style of the arrays put into the terms (``entries_style``)."""
        machine = self.machine()
        kind = {"leaf": "values", "at": "values", "adj": "adjoints", "delta": "deltas"}

        def recompute(style):
            shown = {k: style.number(v) for k, v in refs.items()}
            if not all(isinstance(n, Number) for n in shown.values()):
                return None
            # what the formula reads and does not print (a gate's input, in σ′ = σ·(1 - σ)) as it is
            tables = {"values": dict(numbers.run.values), "adjoints": dict(numbers.run.adjoints),
                      "deltas": dict(numbers.deltas)}
            for (op, key), n in shown.items():
                tables[kind[op]][key] = _entries(n)
            rounded = FormulaValues(machine, Pass(0.0, tables["values"], tables["adjoints"]))
            rounded.deltas = tables["deltas"]
            with np.errstate(all="ignore"):
                return sum(np.asarray(rounded.get(expr, t), dtype=float) for expr, t in pairs)

        return self.entries_style(value, recompute)

    def swap(self, e: Op, t, style, shown: dict, numbers: FormulaValues) -> Op:
        """``e`` at step t with each value, adjoint or δ (or its transpose) as a token for its number."""
        if e.op in _NAMED or (e.op == "T" and e.args[0].op in _NAMED):
            inner = e if e.op != "T" else e.args[0]
            v = numbers.get(inner, t)
            token = f"#{len(shown)}"
            as_given = inner.op in ("leaf", "at") and given(self.machine().ref(inner, t), self.problem.values)
            shown[token] = (style.number if as_given else style.column)(
                v.T if e.op == "T" and isinstance(v, np.ndarray) else v)
            return Op("leaf", (), e.shape, token)
        if not e.args:
            return e
        args = tuple(self.swap(a, t, style, shown, numbers) if used else Op("leaf", (), a.shape, "#")
                     for a, used in zip(e.args, _used(e)))
        return Op(e.op, args, e.shape, e.name, e.step, e.extra)


def _used(e: Op) -> list[bool]:
    """Which arguments of ``e`` its printed form shows: of an activation's derivative,
    those its formula reads (σ′ reads the output alone)."""
    if e.op not in ("diag", "deriv"):
        return [True] * len(e.args)
    d, symbols = e.extra
    return [s in d.free_symbols for s in symbols]


def _read(e: Op):
    """The values, adjoints and δ a formula prints."""
    if e.op in _NAMED:
        yield e
    for a, u in zip(e.args, _used(e)):
        if u:
            yield from _read(a)


def _added(exprs: list[Op]) -> Op:
    """The terms added in the order given."""
    total = exprs[0]
    for e in exprs[1:]:
        total = Op("add", (total, e), total.shape or e.shape)
    return total
