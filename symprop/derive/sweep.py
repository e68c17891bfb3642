"""The backward sweep of a program in matrix form: the formulas people write.

Each line ``key = expr`` is swept once, with its adjoint as a symbol
(∂L/∂key), through the vector-Jacobian rules of ``rules.py``; what reaches a
named value is one ``Term`` of that value's adjoint.  A recurrent cell is
swept once, for a generic t: what reaches ``h[t-1]`` is the step t+1 term of
∂L/∂hₜ (every step-t+1 quantity it multiplies by shifted with it, so gates
come out as fₜ₊₁ ⊙ …); it is absent at t = T.  A value read at a fixed step
(``h[3]`` after the loop, a loss at the last step) adds a term at that step
only; a value before the loop that the cell reads gets the sum over t.

An activation whose argument is an expression gets its own adjoint, the
layer's δ = diag(f′(z))·Wᵀ·δ′; softmax followed by cross-entropy is fused to
ŷ − y, as books write it.
"""

from dataclasses import dataclass, field
from enum import StrEnum

import sympy

from ..model.kinds import Role
from ..model.spec import LOSS
from . import ops as P
from .program import Op, Program, program_of
from .rules import Symbolic, vjp

FUSED_NOTE = "softmax_cross_entropy"  # a note key: the fused form holds for y that sums to 1


@dataclass(frozen=True)
class Term:
    """One term of an adjoint."""

    expr: Op
    later: int = 0  # the term comes from step t + later: absent when t + later > T
    each_t: bool = False  # from the cell into a value outside it: summed over t = 1..T
    at: int | None = None  # from a line that reads a fixed step: only at t = at


class FormulaKind(StrEnum):
    """What a printed matrix formula gives."""

    ADJ = "adj"  # the adjoint of a named value
    DELTA = "delta"  # the adjoint of the pre-activation inside a line (δ)
    GRAD = "grad"  # a parameter's gradient


@dataclass
class Formula:
    """``target = Σ terms``: an adjoint (adj), an activation's δ, or a gradient (grad)."""

    kind: "FormulaKind"
    name: str  # the line's key or the parameter
    step: int | None  # 0 for a cell value at a generic t, None outside the cell
    terms: list[Term]
    note: str = ""

    def target(self) -> Op:
        """The value this formula gives the adjoint of (at t, in the cell)."""
        return Op("leaf", name=self.name, step=self.step)

    @property
    def expr(self) -> Op:
        """The terms that hold at every t (or outside the cell), added up."""
        total = P.ZERO
        for term in self.terms:
            if term.at is None:
                total = P.add(total, term.expr)
        return total

    @property
    def fixed_steps(self) -> list[Term]:
        return [term for term in self.terms if term.at is not None]


@dataclass
class MatrixForm:
    """The derivation of a program in matrix form."""

    program: Program
    formulas: list[Formula] = field(default_factory=list)

    @property
    def recurrent(self) -> bool:
        return self.program.recurrent

    @property
    def states(self) -> list[str]:
        return sorted(self.program.states)

    @property
    def equations(self) -> list[tuple[str, int | None, Op]]:
        """The lines as written: (key, 0 in the cell or None, expression)."""
        p = self.program
        return ([(line.key, None, line.expr) for line in p.before]
                + [(line.key, 0, line.expr) for line in p.cell if line.key != LOSS]
                + [(line.key, None, line.expr) for line in p.after])

    @property
    def loss(self) -> Op:
        """The loss as written: per step (L[t]) for a per-step loss."""
        p = self.program
        return next(line.expr for line in p.cell if line.key == LOSS) if p.per_step_loss else p.loss.expr


class _Sweep:
    def __init__(self, program: Program):
        self.program = program
        self.cell_names = program.cell_names()
        self.terms: dict[tuple[str, bool], list[Term]] = {}
        self.notes: dict[tuple[str, bool], str] = {}
        self.deltas: dict[tuple[str, bool], Formula] = {}

    def push(self, ref: Op, g: Op, from_cell: bool, note: str = "") -> None:
        """Send the adjoint g to the named value ``ref`` refers to."""
        if P.is_zero(g):
            return
        if ref.op == "at":
            if ref.name in self.cell_names and ref.step > 0:
                self._add((ref.name, True), Term(g, at=ref.step), note)
            return
        if ref.step is None:
            leaf = self.program.leaves.get(ref.name)
            if leaf is None or leaf.kind == Role.PARAM:
                self._add((ref.name, False), Term(g, each_t=from_cell), note)
            return
        if ref.name in self.cell_names:
            later = -ref.step
            self._add((ref.name, True), Term(P.shift(g, later), later=later), note)

    def _add(self, key, term: Term, note: str) -> None:
        self.terms.setdefault(key, []).append(term)
        if note:
            self.notes[key] = note

    def walk(self, e: Op, g: Op, owner: Op | None, from_cell: bool) -> None:
        """Propagate g, the adjoint of e, to the named values e reads.

        ``owner`` is the line's own value when e is the whole right side, so a
        derivative is written in terms of the output (1 − h², not 1 − tanh²(a))."""
        if e.op in ("leaf", "at"):
            self.push(e, g, from_cell)
            return
        if e.op in ("num", "ones"):
            return
        out = owner if owner is not None else e
        for a, ga in zip(e.args, vjp(Symbolic, e, g, e.args, out)):
            if P.is_zero(ga):
                continue
            if owner is not None and e.op in ("fn", "softmax", "log_softmax") and len(e.args) == 1 \
                    and a.op not in ("leaf", "at", "num"):
                ga = self.delta(owner, ga, a.shape)
            self.walk(a, ga, None, from_cell)

    def delta(self, owner: Op, g: Op, shape, note: str = "") -> Op:
        """Name the adjoint of an activation's argument: δ of the line."""
        key = (owner.name, owner.step is not None)
        self.deltas[key] = Formula(FormulaKind.DELTA, owner.name, owner.step, [Term(g)], note)
        return Op("delta", shape=shape, name=owner.name, step=owner.step)


def _cross_entropy(loss: Op, lines: dict) -> tuple[Op, Op, Op] | None:
    """``-sum(Y ⊙ log Z)`` (times a number) with ``Z = softmax(A)``: (Z, Y, the number)."""
    scale = P.ONE
    if loss.op == "div" and loss.args[1].op == "num":
        scale, loss = Op("num", extra=sympy.Rational(1) / P.number_of(loss.args[1].extra)), loss.args[0]
    elif loss.op == "mul" and loss.args[0].op == "num":
        scale, loss = loss.args[0], loss.args[1]
    if loss.op != "neg" or loss.args[0].op != "sum" or loss.args[0].extra is not None:
        return None
    prod = loss.args[0].args[0]
    if prod.op != "mul":
        return None
    for y, lg in (prod.args, prod.args[::-1]):
        if lg.op == "fn" and lg.name == "log" and lg.args[0].op == "leaf":
            z = lg.args[0]
            defining = lines.get((z.name, z.step is not None))
            if defining is not None and defining.expr.op == "softmax" and z.step in (None, 0):
                return z, y, scale
    return None


def _readers(program: Program, key: str) -> int:
    return sum(1 for line in program.lines() for ref in P.leaves_of(line.expr) if ref.name == key)


def matrix_form(program: Program) -> MatrixForm:
    """Sweep every line of the program once, from the loss back."""
    s = _Sweep(program)
    cell = {line.key for line in program.cell}
    lines = {(line.key, line.key in cell): line for line in program.lines()}
    form = MatrixForm(program)
    per_step = program.per_step_loss
    steps = program.steps or 1
    weight = P.scalar(sympy.Rational(1, steps)) if per_step and program.problem.reduce == "mean" else P.ONE
    loss_line = lines[(LOSS, per_step)]
    skip = set()
    fused = _cross_entropy(loss_line.expr, lines)
    if fused is not None and _readers(program, fused[0].name) == 1:
        z, y, scale = fused
        z_line = lines[(z.name, z.step is not None)]
        skip.add((z.name, z.step is not None))
        g = P.mul(P.mul(weight, scale), P.sub(z, y))
        arg = z_line.expr.args[0]
        if arg.op in ("leaf", "at"):
            s.push(arg, g, per_step, FUSED_NOTE)
        else:
            owner = Op("leaf", shape=z.shape, name=z.name, step=z.step)
            s.walk(arg, s.delta(owner, g, arg.shape, FUSED_NOTE), None, per_step)
    else:
        s.walk(loss_line.expr, weight, None, per_step)
    skip.add((LOSS, per_step))

    # Every adjoint is sent as a symbol, so the order of the sweep does not
    # matter; only which values reach the loss at all (a fixpoint: a state
    # may be reached from the next step only).
    order = list(reversed(program.before + program.cell + program.after))
    live: set = set()
    grew = True
    while grew:
        grew = False
        for line in order:
            key = (line.key, line.key in cell)
            if key in live or key in skip or key not in s.terms:
                continue
            live.add(key)
            grew = True
            owner = Op("leaf", shape=line.shape, name=line.key, step=0 if key[1] else None)
            root = Op("adj", shape=line.shape, name=line.key, step=owner.step)
            s.walk(line.expr, root, owner, key[1])
    for line in order:
        key = (line.key, line.key in cell)
        if key in live:
            form.formulas.append(Formula(FormulaKind.ADJ, line.key, 0 if key[1] else None, s.terms[key],
                                         s.notes.get(key, "")))
        if key in s.deltas:
            form.formulas.append(s.deltas[key])
    starts = {p: h for h, p in program.problem.initial_params.items()}
    for p in program.problem.params:
        terms = s.terms.get((p, False), [])
        if p in starts:  # h0 = h[0]: the terms of ∂L/∂h[t] from step t + 1, at t = 0
            terms = [Term(_at_step(term.expr, 0)) for term in s.terms.get((starts[p], True), [])
                     if term.later > 0 and term.at is None and not term.each_t]
        form.formulas.append(Formula(FormulaKind.GRAD, p, None, terms))
    return form


def _at_step(m: Op, t: int) -> Op:
    """A cell expression at a fixed step: h[t+1] at t = 0 is h[1]."""
    if m.op == "leaf" and m.step is not None:
        return Op("at", (), m.shape, m.name, t + m.step, m.extra)
    if m.op in ("adj", "delta") and m.step is not None:
        return Op(m.op, m.args, m.shape, f"{m.name}[{t + m.step}]", None, m.extra)
    if not m.args:
        return m
    return Op(m.op, tuple(_at_step(a, t) for a in m.args), m.shape, m.name, m.step, m.extra)


def matrix_form_of(problem) -> MatrixForm:
    """The problem's matrix-form derivation, swept once."""
    if problem.built.matrix_form is None:
        problem.built.matrix_form = matrix_form(program_of(problem))
    return problem.built.matrix_form


@dataclass(frozen=True)
class ThroughTime:
    """Whether a parameter (or a value computed before the loop) enters a
    hidden state at the same step, so that its gradient needs the sum back
    through time."""

    name: str
    states: list[str]  # the states it enters
    computed: bool = False  # a value computed before the loop, not a parameter

    @property
    def through_time(self) -> bool:
        return bool(self.states)


def through_time(program: Program) -> list[ThroughTime]:
    """For each parameter, then each value before the loop the cell reads."""
    cell_names = program.cell_names()
    same_step: dict[str, set[str]] = {}  # cell line -> the plain names it depends on at step t
    read_by_cell: list[str] = []
    for line in program.cell:
        names: set[str] = set()
        for ref in P.leaves_of(line.expr):
            if ref.op == "leaf" and ref.step == 0 and ref.name in cell_names:
                names |= same_step.get(ref.name, set())
            elif ref.op == "leaf" and ref.step is None:
                names.add(ref.name)
                if ref.name not in read_by_cell:
                    read_by_cell.append(ref.name)
        same_step[line.key] = names
    states = sorted(program.states)

    def entered(name: str) -> set[str]:
        return {s for s in states if name in same_step.get(s, set())}

    upstream: dict[str, set[str]] = {}  # a value before the loop -> the names it depends on
    for line in program.before:
        names = set()
        for ref in P.leaves_of(line.expr):
            names |= {ref.name} | upstream.get(ref.name, set())
        upstream[line.key] = names
    feeding = [line.key for line in program.before if line.key in read_by_cell]
    out = []
    for p in program.problem.params:
        via = set().union(*(entered(b) for b in feeding if p in upstream[b]))
        out.append(ThroughTime(p, sorted(entered(p) | via)))
    out += [ThroughTime(b, sorted(entered(b)), computed=True) for b in feeding]
    return out
