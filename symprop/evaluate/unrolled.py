"""The formulas through time of a scalar recurrent cell, evaluated with a
pass's numbers: the printed recursion (∂L/∂hₜ = … + ∂L/∂hₜ₊₁·…, from t = T
back), the sums over t of each gradient (∂L/∂w = Σₜ …) and, for a cell of one
state, ∂Lₜ/∂p written out term by term (Σₖ ∂Lₜ/∂hₜ·Πᵢ ∂hᵢ/∂hᵢ₋₁·∂⁺hₖ/∂p).

Each is the SymPy expression the document prints (``derive.bptt``), its
symbols given the numbers of the step it stands at; the recursion's
adjoints are its own, computed from t = T back, not the engine's.  They are
compared with the array engine: its adjoints, its gradients, and, for
∂Lₜ/∂p, its backward pass seeded with Lₜ alone (the gradient of that one
step's loss).  A cell of vectors prints its recursion and sums in matrix
form (the matrix-form check evaluates them); its ∂Lₜ/∂p written out is
evaluated here as products of Jacobians, entry by entry.  A cell of several
states does not write ∂Lₜ/∂p out (a product along one state would drop the
paths through the others), so there is nothing of it to evaluate.
"""

import re

import numpy as np
import sympy

from ..derive import ops as P
from ..derive.backprop import AdjointSymbol, derivation_of
from ..derive.bptt import BPTT, _same_step, bptt
from ..derive.program import has_arrays
from ..derive.sweep import through_time
from ..model.functions import numeric_namespace
from ..model.spec import LOSS
from .arrays import Machine, Pass
from .faults import gap
from .scalar import _lambdify, too_large

_AT_STEP = re.compile(r"^(\w+)\[t([+-]\d+)?\](.*)$")  # h[t-1], h[t+1][0]


def _key(name: str, t: int | None) -> str:
    """The key of a cell symbol at step t: h[t-1] at t = 3 is h[2]; a name without [t] is itself."""
    m = _AT_STEP.match(name)
    if m is None or t is None:
        return name
    return f"{m.group(1)}[{t + int(m.group(2) or 0)}]{m.group(3)}"


class _Numbers:
    """A printed expression's value at a step: cell symbols by step, adjoint
    symbols from the recursion evaluated so far (else the engine's: the lines
    outside the loop), relu′ with the problem's convention."""

    def __init__(self, machine: Machine, run: Pass):
        self.run = run
        problem = machine.program.problem
        self.namespace = numeric_namespace(problem.conventions.relu_grad_at_zero)
        self.initial = {f"{h}[0]": q for h, q in problem.initial_params.items()}
        self.adjoints: dict[str, float] = {}  # the recursion's own, by key
        self.compiled: dict = {}

    def value(self, symbol: sympy.Symbol, t: int | None) -> float:
        if isinstance(symbol, AdjointSymbol):
            key = _key(symbol.of, t)
            return self.adjoints.get(key, self.run.adjoints.get(key, 0.0))
        return _entry_value(self.run.values, self.initial, _key(symbol.name, t))

    def at(self, expr, t: int | None) -> float:
        if not isinstance(expr, sympy.Basic):  # a plain number
            return float(expr)
        symbols = sorted(expr.free_symbols, key=lambda s: s.name)
        if expr not in self.compiled:
            self.compiled[expr] = _lambdify(symbols, expr, self.namespace)
        with np.errstate(all="ignore"):
            return float(self.compiled[expr](*[self.value(s, t) for s in symbols]))


def _entry_value(values: dict, initial: dict, key: str) -> float:
    """The number a scalar symbol's key stands for: a whole value ("h[2]", "w"), or an entry
    of one ("h[2][0]" of the column h[2], "W[0][1]")."""
    base, index = key, []
    while base not in values and base not in initial and base.endswith("]") and "[" in base:
        cut = base.rindex("[")
        index.insert(0, int(base[cut + 1:-1]))
        base = base[:cut]
    v = np.asarray(values[initial.get(base, base)], dtype=float)
    if v.ndim == 0:  # a 1×1 value the engine keeps as a number
        return float(v)
    if v.ndim == 1 and len(index) == 2:  # an n×1 or 1×n value kept flat
        return float(v[index[0] if index[1] == 0 else index[1]])
    if v.ndim == 2 and len(index) == 1:  # a column (n, 1), or a row
        return float(v[index[0], 0] if v.shape[1] == 1 else v[0, index[0]])
    return float(v[tuple(index)])


class _Tally:
    """How many numbers were compared, the largest gap, and where it was."""

    def __init__(self):
        self.compared, self.worst, self.where = 0, 0.0, None

    def add(self, where: str, mine: float, engine) -> None:
        err = gap(np.asarray([mine], dtype=float), np.asarray([float(engine)], dtype=float))
        self.compared += 1
        if err > self.worst or self.where is None:
            self.worst, self.where = err, where


def unrolled_params(b: BPTT) -> list:
    """The parameters whose ∂Lₜ/∂p the document writes out term by term (one
    scalar state, its immediate derivative known), or none."""
    if len(b.states) != 1 or b.states[0] not in b.transition:
        return []
    state = b.states[0]
    return [p for p in b.params if p.through_time and not p.computed and state in p.states and state in p.immediate]


def recursion(b: BPTT, numbers: _Numbers, tally: _Tally) -> None:
    """∂L/∂nₜ for every cell node from t = T back, as printed, against the engine's adjoints."""
    state_node = {f"{s}[t]": s for s in b.states}
    for t in range(b.steps, 0, -1):
        for r in b.recursions:
            value = numbers.at(r.same_step, t)
            if t < b.steps:
                value += numbers.at(r.next_step, t)
            elif r.node.name in state_node and state_node[r.node.name] in b.final:
                value += numbers.at(b.final[state_node[r.node.name]], None)
            key = _key(r.node.name, t)
            numbers.adjoints[key] = value
            tally.add(f"dL/d{key}", value, numbers.run.adjoints.get(key, 0.0))


def sum_over_steps(b: BPTT, numbers: _Numbers, p) -> float:
    """∂L/∂p = Σₜ (the summand) + (the lines outside the loop; h₀'s step back from h₁), with the recursion's adjoints."""
    outside = numbers.at(p.outside, None) + numbers.at(p.start, None)
    return sum(numbers.at(p.adjoint_form, t) for t in range(1, b.steps + 1)) + outside


def sums(b: BPTT, numbers: _Numbers, tally: _Tally) -> None:
    """Each sum over t, against the engine's gradient."""
    for p in b.params:
        tally.add(f"dL/d{p.name}", sum_over_steps(b, numbers, p), numbers.run.adjoints.get(p.name, 0.0))


def unrolled_sum(b: BPTT, numbers: _Numbers, t: int, p, upstream: float | None = None) -> float:
    """∂Lₜ/∂p = Σₖ ∂Lₜ/∂hₜ·Πᵢ₌ₖ₊₁..ₜ ∂hᵢ/∂hᵢ₋₁·∂⁺hₖ/∂p, each factor at its step
    (``upstream``: ∂L/∂h_T of a loss after the loop, in place of ∂Lₜ/∂hₜ)."""
    state = b.states[0]
    upstream = numbers.at(b.step_loss_grad[state], t) if upstream is None else upstream
    value = 0.0
    for k in range(1, t + 1):
        chain = upstream
        for i in range(t, k, -1):
            chain *= numbers.at(b.transition[state], i)
        value += chain * numbers.at(p.immediate[state], k)
    return value


def read_after(program) -> set[str]:
    """The names the lines after the loop and a loss after it read."""
    lines = [line.expr for line in program.after] + ([program.loss.expr] if program.loss.expr is not None else [])
    return {ref.name for e in lines for ref in P.leaves_of(e)}


def unrolled(b: BPTT, machine: Machine, numbers: _Numbers, tally: _Tally) -> list[str]:
    """∂Lₜ/∂p written out for every t, against the engine's backward pass
    seeded with Lₜ alone; a loss after the loop, at t = T with the printed
    recursion's ∂L/∂h_T, against the gradient of a parameter the lines after
    the loop do not read.  The parameters compared."""
    params, state, program = unrolled_params(b), b.states[0] if b.states else None, machine.program
    if program.loss.expr is not None or state not in b.step_loss_grad:
        params = [p for p in params if p.name not in read_after(program)]
        upstream = numbers.adjoints.get(f"{state}[{b.steps}]")
        for p in params if upstream is not None else []:
            value = unrolled_sum(b, numbers, b.steps, p, upstream)
            tally.add(f"dL[{b.steps}]/d{p.name}", value, numbers.run.adjoints.get(p.name, 0.0))
        return [p.name for p in params] if upstream is not None else []
    values, tapes = machine.forward(numbers.run.leaves)
    for t in range(1, b.steps + 1):
        engine, _, _ = machine.backward(values, tapes, seed={f"{LOSS}[{t}]": 1.0})
        for p in params:
            tally.add(f"dL[{t}]/d{p.name}", unrolled_sum(b, numbers, t, p), engine.get(p.name, 0.0))
    return [p.name for p in params]


def _vector_forms(derivation, state: str, params) -> tuple:
    """∂hₜ/∂hₜ₋₁ (a matrix), ∂Lₜ/∂hₜ (a row, None without a loss at each step) and
    ∂⁺hₜ/∂p (entries of h by entries of p) of a cell of vectors, entry by entry."""
    cell, local = derivation.graph.cell, derivation.cell_local
    name_of = {n.symbol: cell.quantities[n.key].name for n in cell.nodes}
    rows = [n.symbol for n in cell.nodes if name_of[n.symbol] == state]
    before = [x for x, (name, off) in cell.inputs.items() if name == state and off == -1]
    losses = [n.symbol for n in cell.nodes if name_of[n.symbol] == LOSS]
    jacobian = [[_same_step(cell, local, x).get(r, 0) for x in before] for r in rows]
    step_loss = [_same_step(cell, local, r).get(losses[0], 0) for r in rows] if losses else None
    by_name = {q.name: q for q in derivation.graph.params}
    immediate = {}
    for p in params:
        columns = [_same_step(cell, local, e) for e in by_name[p].symbols()]
        immediate[p] = [[d.get(r, 0) for d in columns] for r in rows]
    return jacobian, step_loss, immediate


def vector_unrolled(problem, machine: Machine, run: Pass) -> dict | None:
    """∂Lₜ/∂p written out for a cell of one vector state, Σₖ ∂Lₜ/∂hₜ·Πᵢ ∂hᵢ/∂hᵢ₋₁·∂⁺hₖ/∂p as
    products of matrices, entry by entry, against the engine seeded with Lₜ alone (a loss
    after the loop: at t = T, against the gradient, for a parameter the lines after the loop
    do not read); None where the document does not write it out (several states)."""
    program = machine.program
    params = [p.name for p in through_time(program) if p.through_time and not p.computed]
    if len(program.states) != 1 or not params or too_large(program, "entry by entry"):
        return None
    state = sorted(program.states)[0]
    if program.loss.expr is not None:
        params = [p for p in params if p not in read_after(program)]
    jacobian, step_loss, immediate = _vector_forms(derivation_of(problem), state, params)
    numbers, tally = _Numbers(machine, run), _Tally()

    def at(table, t):
        return np.array([[numbers.at(e, t) for e in row] for row in table], dtype=float)

    values, tapes = machine.forward(run.leaves)
    steps = range(1, program.steps + 1) if step_loss is not None else [program.steps]
    with np.errstate(all="ignore"):
        for t in steps:
            if step_loss is not None:
                engine, _, _ = machine.backward(values, tapes, seed={f"{LOSS}[{t}]": 1.0})
                upstream = at([step_loss], t)
            else:
                engine = run.adjoints
                upstream = np.asarray(run.adjoints[f"{state}[{t}]"], dtype=float).reshape(1, -1)
            for p in params:
                value, chain = 0.0, upstream
                for k in range(t, 0, -1):
                    value = value + chain @ at(immediate[p], k)
                    chain = chain @ at(jacobian, k)
                ours = value.reshape(-1)
                theirs = np.asarray(engine.get(p, np.zeros_like(ours)), dtype=float).reshape(-1)
                for i, (a, b) in enumerate(zip(ours, theirs)):
                    tally.add(f"dL[{t}]/d{p}[{i}]", a, b)
    scale = max([1.0] + [float(np.max(np.abs(np.asarray(g)))) for g in run.adjoints.values()])
    return {"compared": tally.compared, "max_abs_error": tally.worst, "passed": tally.worst <= 1e-9 * scale,
            "sums": (), "unrolled": tuple(params), "steps": program.steps, "worst": tally.where,
            "last_step_only": step_loss is None}


def through_time_agreement(problem, machine: Machine, run: Pass) -> dict | None:
    """The fields of ``checks.unrolled_form.UnrolledForm``; None when the
    problem has no scalar recurrent cell (the matrix form checks vectors)."""
    program = machine.program
    if not program.recurrent:
        return None
    if has_arrays(program):
        return vector_unrolled(problem, machine, run)
    b = bptt(derivation_of(problem))
    if b is None:
        return None
    numbers, tally = _Numbers(machine, run), _Tally()
    with np.errstate(all="ignore"):
        recursion(b, numbers, tally)
        sums(b, numbers, tally)
        params = unrolled(b, machine, numbers, tally)
    scale = max([1.0] + [abs(float(g)) for g in run.adjoints.values()])
    return {"compared": tally.compared, "max_abs_error": tally.worst, "passed": tally.worst <= 1e-9 * scale,
            "sums": tuple(p.name for p in b.params), "unrolled": tuple(params),
            "steps": b.steps, "worst": tally.where,
            "last_step_only": bool(params) and (program.loss.expr is not None or b.states[0] not in b.step_loss_grad)}
