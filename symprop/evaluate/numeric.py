"""Numbers: the worked solution's forward and backward passes (the array
engine), one gradient-descent step a batch, and every check of them: central
finite differences, the scalar engine on small problems, the printed matrix
formulas, and a source's claims.
"""

from dataclasses import dataclass, field, replace

import numpy as np
import sympy

from ..derive.program import Program, pass_work, program_of
from ..derive.sweep import FormulaKind, matrix_form_of
from ..errors import SympropError
from ..model.kinds import ClaimKind, Role
from ..model.spec import LOSS, Problem
from .arrays import FormulaValues, Machine, Pass
from .checks import Context, Result, ordered
from .claims import FormulaClaim, formula_claims
from .exact import ExactStep, exact_steps
from .expected import compare_claims
from .faults import LARGEST, NumericFault, Watch, finite, gap

FD_TOLERANCE = 1e-5  # relative agreement asked of finite differences
FD_ENTRIES = 40  # parameter entries the finite differences sample on a large problem
FD_STEPS = 20_000  # time steps the finite differences may run in all (two passes an entry or a direction)
MAX_JSON_NUMBERS = 1_000_000  # numbers in the JSON of a solution (about 25 MB)
FD_WORK = 400_000_000  # multiply-adds the finite differences may do in all (about a second of NumPy)


def to_json(value, matrix: bool = False, number=float):
    """A value as JSON and TOML hold it, each entry through ``number`` (float,
    or str for an exact "3/8"): a column vector as a flat list (unless
    ``matrix``), a matrix as rows, a sequence item by item."""
    if isinstance(value, list):
        return [to_json(v, matrix, number) for v in value]
    if isinstance(value, np.ndarray) and value.ndim > 2:  # nested as NumPy's tolist() nests it
        return [to_json(v, True, number) for v in value]
    if isinstance(value, np.ndarray | sympy.MatrixBase):
        rows = [[number(e) for e in row] for row in np.array(value, dtype=object).tolist()]
        return [row[0] for row in rows] if len(rows[0]) == 1 and not matrix else rows
    return number(value)


@dataclass
class Step:
    """One forward and backward pass at one set of values."""

    loss: float
    values: dict[str, object]
    adjoints: dict[str, object]
    gradients: dict[str, object]
    updated: dict[str, object] | None
    kinks: list[str]
    leaves: dict = field(default_factory=dict, repr=False)  # the leaf numbers it ran at


@dataclass
class Solution:
    problem: Problem
    steps: list[Step]
    checks: dict[str, Result]  # the checks that run with every solution, by name, in the registry's order
    expected: list[dict] | None = None  # the numeric claims: key, claimed, computed, ok
    formula_claims: list[FormulaClaim] = field(default_factory=list)  # formula.* and through_time.*
    final_loss: float | None = None  # after the last update, on the last step's values (when claimed)
    exact: list[ExactStep] | None = None  # the steps in rationals, when every number is rational and short

    @property
    def first(self) -> Step:
        return self.steps[0]

    def _params(self, table: dict, number=float) -> dict:
        return {k: to_json(v, k in self.problem.matrices, number) for k, v in table.items()}

    def _numbers(self, steps: list, number) -> dict:
        """The first step's numbers and the last update, each entry through ``number``."""
        first = steps[0]
        out = {
            "loss": number(first.loss),
            "values": {k: to_json(v, number=number) for k, v in first.values.items()},
            "adjoints": {k: to_json(v, number=number) for k, v in first.adjoints.items()},
            "gradients": self._params(first.gradients, number),
        }
        if first.updated is not None:
            out["updated"] = self._params(steps[-1].updated, number)
        return out

    def json_numbers(self) -> int:
        """How many numbers ``to_json`` would hold, counted from the arrays before any list is made."""
        def size(table) -> int:
            return sum(sum(map(np.size, v)) if isinstance(v, list) else int(np.size(v)) for v in (table or {}).values())

        first = self.first
        once = size(first.values) + size(first.adjoints) + size(first.gradients) + size(first.updated)
        history = sum(size(s.gradients) + size(s.updated) for s in self.steps) if len(self.steps) > 1 else 0
        return once * (2 if self.exact is not None else 1) + history

    def to_json(self) -> dict:
        count = self.json_numbers()
        if count > MAX_JSON_NUMBERS:
            raise SympropError(f"the JSON would hold {count} numbers (the limit is {MAX_JSON_NUMBERS}); the text, "
                               "LaTeX, MyST and Markdown documents show the problem", where=self.problem.origin)
        first = self.first
        out = {"title": self.problem.title, **self._numbers(self.steps, float)}
        if len(self.steps) > 1 or self.problem.training.batches:
            out["history"] = [
                {
                    "loss": float(s.loss),
                    "gradients": self._params(s.gradients),
                    "updated": self._params(s.updated),
                }
                for s in self.steps
            ]
        if first.kinks:
            out["kinks"] = {
                "nodes": first.kinks,
                "relu_grad_at_zero": self.problem.conventions.relu_grad_at_zero,
                "note": "relu' is evaluated exactly at 0 here: the derivative does not exist "
                "and the convention relu'(0) is used",
            }
        if self.exact is not None:
            out["exact"] = self._numbers(self.exact, str)  # "3/8", "-2"
        out["checks"] = {name: result.to_json() for name, result in self.checks.items()}
        if self.expected is not None or self.formula_claims:
            out["expected"] = (self.expected or []) + [c.to_json() for c in self.formula_claims]
        return out


def solve(problem: Problem, exact: bool = True) -> Solution:
    """Every step's numbers and every check that runs with every solution (the
    registry's, in its order); the exact pass too unless ``exact`` is False
    (--floats: floating point only, and no time spent on rationals)."""
    program = program_of(problem)
    machine = Machine(program, problem.conventions.relu_grad_at_zero)
    lr = problem.training.lr
    values = dict(problem.values)
    steps, runs = [], []
    for batch in problem.training.batches or [{}]:
        values.update(batch)
        run = machine.run(values)
        step = step_of(program, run, lr)
        steps.append(step)
        runs.append(run)
        if step.updated is not None:
            values.update(step.updated)
    solution = Solution(problem, steps, {})
    if exact:  # None on a problem too large for the scalar graph, or whose numbers are not rational
        solution.exact = exact_steps(problem, steps)
    context = Context(problem, solution=solution, machine=machine, run=runs[0])
    for check in ordered():
        result = check.run(context) if check.solving else None
        if result is not None:
            solution.checks[check.name] = result
    if problem.expected:
        if any(c.kind == ClaimKind.FINAL for c in problem.expected.values()):
            solution.final_loss = float(machine.loss_at(machine.leaf_values(values)))
        solution.expected = compare_claims(problem, solution)
    solution.formula_claims = formula_claims(problem, solution)
    return solution


def step_of(program: Program, run: Pass, lr: float | None) -> Step:
    """The numbers of one pass, by the names a solution shows."""
    computed = [line.key for line in program.before]
    computed += [k for k, leaf in program.leaves.items() if leaf.kind == Role.INITIAL]
    for t in range(1, (program.steps or 0) + 1):
        computed += [f"{line.key}[{t}]" for line in program.cell]
    computed += [line.key for line in program.after]
    values = {k: run.values[k] for k in computed}
    # + 0.0 turns a −0 (a zero derivative times a negative number) into 0
    adjoints = {k: run.adjoints.get(k, _zero(run.values[k])) + 0.0 for k in computed
                if program.leaves.get(k) is None and not k.startswith(f"{LOSS}[")}
    gradients = {p.key: run.adjoints.get(p.key, _zero(run.values[p.key])) + 0.0 for p in program.params}
    step = Step(loss=run.loss, values=values, adjoints=adjoints, gradients=gradients, updated=None,
                kinks=run.kinks, leaves={k: run.values[k] for k in program.leaves if k in run.values})
    if lr is not None:
        with Watch(program.problem.origin) as numbers:
            numbers.at("the gradient step")
            step.updated = {p.key: numbers.check(run.values[p.key] - lr * gradients[p.key],
                                                 lambda: ("overflow", f"updating {p.key}"))
                            for p in program.params}
    return step


def _zero(value):
    return np.zeros_like(value) if isinstance(value, np.ndarray) else 0.0


def spread(groups: list[list], limit: int) -> list:
    """Every item of the groups when they hold at most ``limit``; else about
    ``limit`` spread evenly over the groups (one at least from each), drawn
    with a fixed seed, in order."""
    if sum(len(g) for g in groups) <= limit:
        return [x for g in groups for x in g]
    rng = np.random.default_rng(0)
    share = max(1, limit // len(groups))
    return [g[i] for g in groups for i in sorted(rng.choice(len(g), size=min(share, len(g)), replace=False))]


def _entries(leaves: dict, keys: list[str]) -> list[list[tuple[str, tuple]]]:
    """Each parameter's entries, (key, index) with () for a scalar."""
    groups = []
    for key in keys:
        shape = leaves[key].shape if isinstance(leaves[key], np.ndarray) else ()
        groups.append([(key, idx) for idx in np.ndindex(*shape)] if shape else [(key, ())])
    return groups


@dataclass
class _Probe:
    """One central difference of the loss: a parameter moved by ``h`` along
    ``direction`` (one entry's, or a random one), against ``expected``, the
    gradient's entry or its projection on the direction."""

    name: str  # "W[0][1]" for an entry, "W" for a direction
    key: str
    h: float
    direction: object  # an index tuple (an entry; () for a scalar), or an array like the parameter's
    expected: float

    def moved(self, base, sign: int):
        if isinstance(self.direction, np.ndarray):
            return base + (sign * self.h) * self.direction
        if not self.direction:
            return np.float64(float(base) + sign * self.h)
        arr = np.array(base, dtype=float)
        arr[self.direction] = float(base[self.direction]) + sign * self.h
        return arr


def _probes(program: Program, run: Pass) -> tuple[list[_Probe], dict]:
    """The central differences to take, and what the report says of their choice.

    Every entry on a small problem, FD_ENTRIES spread over the parameters on
    a large one.  On a sequence too long for that within FD_STEPS steps: one
    random direction of each parameter that has more than one entry (every
    entry enters its projection), each scalar parameter, then single
    entries while steps are left."""
    leaves, steps = run.leaves, program.steps or 1
    keys = [p.key for p in program.params]
    total = sum(int(np.size(leaves[k])) for k in keys)
    gradient = {k: np.asarray(run.adjoints.get(k, 0.0), dtype=float) for k in keys}
    budget = min(FD_STEPS // (2 * steps),  # central differences the steps allow, and the work
                 FD_WORK // (2 * max(1, pass_work(program))))
    directed = [k for k in keys if np.size(leaves[k]) > 1]
    probes, note = [], {}
    if not directed or budget >= min(FD_ENTRIES, total):
        sample = spread(_entries(leaves, keys), min(FD_ENTRIES, budget))
    else:
        rng = np.random.default_rng(0)
        for key in directed:
            v = rng.standard_normal(np.shape(leaves[key]))
            v /= np.max(np.abs(v))  # each entry moves by at most h
            h = 1e-6 * max(1.0, float(np.max(np.abs(leaves[key]))))
            probes.append(_Probe(key, key, h, v, float(np.sum(gradient[key] * v))))
        note["directions"] = tuple(directed)
        sample = [(k, ()) for k in keys if k not in directed]
        left = budget - len(probes) - len(sample)
        sample += spread(_entries(leaves, directed), left) if left >= len(directed) else []
    for key, idx in sample:
        x = float(leaves[key][idx]) if idx else float(leaves[key])
        expected = float(gradient[key][idx]) if idx else float(gradient[key])
        probes.append(_Probe(key + "".join(f"[{i}]" for i in idx), key, 1e-6 * max(1.0, abs(x)), idx, expected))
    if len(sample) < total:
        note["sampled"] = (len(sample), total)
    return probes, note


def _roundoff(losses: list[float], h: float, steps: int | None) -> float:
    """What rounding alone may put into a central difference: the loss's
    last bits over 2h, grown by a sum over ``steps`` terms (a random walk)."""
    return 32 * np.finfo(float).eps * max(map(abs, losses)) * np.sqrt(steps or 1) / (2 * h)


FD_SHRINK = (1, 10, 100, 1000)  # a difference that disagrees is taken again at steps this much smaller


def _central(machine: Machine, leaves: dict, probe: "_Probe") -> tuple[float, float, bool, str]:
    """One central difference: its value, its gap to the gradient, whether it
    agrees (within the tolerance and the round-off of its step), and why the
    loss was not finite a step away ("" when it was)."""
    losses = []
    for sign in (1, -1):
        moved = dict(leaves)
        moved[probe.key] = probe.moved(leaves[probe.key], sign)
        try:
            losses.append(machine.loss_at(moved))
        except NumericFault as e:
            return np.nan, LARGEST, False, f"the loss at {probe.name} {'+-'[sign < 0]} {probe.h:.1e}: {e.message}"
    with np.errstate(all="ignore"):
        fd = (losses[0] - losses[1]) / (2 * probe.h)
    g = probe.expected
    err = gap(fd, g)  # the largest float when fd is not finite
    return fd, err, finite(fd) and err <= FD_TOLERANCE * max(1.0, abs(g), abs(fd)) + _roundoff(
        losses, probe.h, machine.program.steps), ""


def finite_differences(machine: Machine, run: Pass) -> dict:
    """Central differences of the loss for parameter entries (all, or a
    sample), or on a long sequence along random directions (``_probes``).

    An entry where the loss a step h away is not finite (the parameter at the
    edge of the model's domain) fails, whatever the kinks, with the reason
    under "not_finite".  The fields of ``checks.finite_differences.FiniteDifferences``."""
    program = machine.program
    leaves = run.leaves
    probes, note = _probes(program, run)
    errors, relative, failures, not_finite = [], [], [], {}
    per_param: dict[str, list] = {p.key: [] for p in program.params}
    for probe in probes:
        name, g, before = probe.name, probe.expected, None
        for shrink in FD_SHRINK:  # a steep loss: the same difference at smaller steps
            fd, err, ok, why = _central(machine, leaves, replace(probe, h=probe.h / shrink))
            # a smaller step counts only where the gap shrank with it, as truncation's h² does
            # (a wrong gradient's gap stays)
            ok = ok and (before is None or err * 10 <= before)
            if ok or why:
                break
            before = err
        errors.append(err)
        relative.append(err / max(1.0, abs(g)))
        per_param[probe.key].append((err, err / max(1.0, abs(g))))
        if why or not finite(fd):
            not_finite[name] = why or "the finite difference is not finite"
            failures.append(name)
        elif not ok:
            failures.append(name)
    report = {
        "max_abs_error": max(errors, default=0.0),
        "max_rel_error": max(relative, default=0.0),
        "passed": not not_finite and (not failures or bool(run.kinks or run.corners)),
        "params": {k: {"max_abs_error": max((a for a, _ in v), default=0.0),
                       "max_rel_error": max((r for _, r in v), default=0.0)} for k, v in per_param.items()},
        **note,
    }
    if failures:
        report["disagree"] = failures
    if not_finite:
        report["not_finite"] = not_finite
    if run.kinks or run.corners:
        report["kinks"] = list(dict.fromkeys(run.kinks + run.corners))
    return report


def verify(problem: Problem, machine: Machine, run: Pass) -> dict:
    """Every printed matrix formula, evaluated, against the engine's adjoints:
    the fields of ``checks.Compared``."""
    form = matrix_form_of(problem)
    values = FormulaValues(machine, run)
    worst, compared = 0.0, 0
    steps = machine.program.steps or 0

    def check(f, t):
        nonlocal worst, compared
        value = values.formula(f, t)
        key = machine.ref(f.target(), t)
        if f.kind == FormulaKind.DELTA:
            values.deltas[key] = value
            return
        engine = run.adjoints.get(key)
        if engine is None:
            engine = _zero(run.values.get(key, value))
        worst = max(worst, _diff(value, engine))
        compared += 1

    cell = [f for f in form.formulas if f.step is not None]
    with np.errstate(all="ignore"):
        for t in range(steps, 0, -1):
            for f in cell:
                check(f, t)
        for f in form.formulas:
            if f.step is None:
                check(f, None)
    scale = max([1.0] + [float(np.max(np.abs(np.asarray(g)))) for g in run.adjoints.values()])
    return {"compared": compared, "max_abs_error": worst, "passed": worst <= 1e-9 * scale}


def _diff(a, b) -> float:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.size != b.size:
        raise SympropError(f"matrix form: shape {a.shape} where the engine has {b.shape}")
    return gap(a.reshape(-1), b.reshape(-1))
