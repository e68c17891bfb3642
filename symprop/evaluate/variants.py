"""Variants of a problem: the same network with new numbers, each with its answers.

Values are drawn on a grid (``[variants] step``, default 0.5) within bounds
(``[variants] w = [-1, 1]``, default [-2, 2], widened to hold the source's
own value), so that a class gets numbers people compute by hand.  A draw is
kept only when it is "nice": no kink met (relu, abs, max and min exactly at
their corner, where the derivative is a convention), no saturated tanh or
sigmoid (|argument| <= 3), every number finite, some gradient nonzero, and,
for a model whose numbers are rational (no transcendental function), every
answer exact in at most ``MAX_DECIMALS`` decimals, computed in rationals.
A value the source gives as 0 stays 0 (an unused x[0], a zero state), unless
[variants] zeros redraws it.
Random numbers come from ``random.Random(seed)``: the same seed gives the same
variants.
"""

import math
import random
from dataclasses import dataclass

import numpy as np
import sympy

from ..derive.graph import graph_of
from ..derive.program import program_of, walk
from ..errors import SympropError
from ..model.functions import RULES
from ..model.spec import Problem
from .arrays import Machine
from .exact import ExactPass, decimals, exact_pass
from .faults import NumericFault
from .numeric import step_of
from .scalar import leaf_values, too_large

MAX_DECIMALS = 4
DEFAULT_STEP = 0.5
DEFAULT_BOUND = 2.0
PROBABILITY_STEP = 0.1  # a probability is drawn from 0.1, …, 0.9 (or the step's grid when finer)
TRIES = 400  # draws per variant before the conditions are relaxed


@dataclass
class Variant:
    values: dict[str, object]  # as Problem.values: float, column/matrix array, list for a sequence
    answers: dict[str, object]  # claim key -> float, or an array (exact when ``exact`` is set)
    exact: ExactPass | None


def draw_variants(problem: Problem, count: int, seed: int) -> list[Variant]:
    if not 1 <= count <= 1000:
        raise SympropError("the number of variants must be from 1 to 1000", where=problem.origin)
    if not problem.values:
        raise SympropError("values: a problem without numbers has no variants", where=problem.origin)
    rng = random.Random(seed)
    machine = Machine(program_of(problem), problem.conventions.relu_grad_at_zero)
    rational = exact_pass(problem) is not None
    # kinks every draw meets (relu(0) at t = 1 from a zero state and a zero
    # input) are the problem's own, and allowed
    draws = [_corners(problem, _draw(problem, random.Random(seed * 7919 + k))) for k in range(20)]
    structural = set.intersection(*[d for d in draws if d is not None] or [set()])
    seen = {_fingerprint(problem.values)}
    found = []
    for number in range(1, count + 1):
        for attempt in range(3 * TRIES):
            values = _draw(problem, rng)
            key = _fingerprint(values)
            if key in seen:
                continue
            # at first every condition; then any decimals; at last kinks and saturation allowed
            variant = _judge(problem, machine, values, rational, exact=attempt < TRIES,
                             allowed=structural if attempt < 2 * TRIES else None)
            if variant is not None:
                seen.add(key)
                found.append(variant)
                break
        else:
            raise SympropError(f"variants: found no new values for variant {number} "
                               "(widen the bounds under [variants] or give a smaller step)", where=problem.origin)
    return found


def _grid(problem: Problem, name: str, original: float, role: str | None = None) -> tuple[int, int, float]:
    """The grid a value is drawn from, as (first, last, step): the nonzero
    multiples k·step for k from first to last (a positive value's above 0, a
    probability's between 0 and 1).  Never listed: a value of 1e9 makes a grid
    of billions of points, and a draw is one of them."""
    bounds = problem.variants.bounds if problem.variants else {}
    step = (problem.variants.step if problem.variants else None) or DEFAULT_STEP
    if role == "probability":
        step = min(step, PROBABILITY_STEP)
        low, high = step, 1 - step
    elif name in bounds:
        low, high = bounds[name]
    else:
        reach = max(DEFAULT_BOUND, math.ceil(abs(original) / step) * step)
        low, high = -reach, reach
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    if role == "positive":
        first = max(first, 1)
    if last - first + 1 - (first <= 0 <= last) < 1:
        raise SympropError(f"variants.{name}: no nonzero value with step {step} in [{low}, {high}]"
                           + (f" that is {role}" if role else ""), where=problem.origin)
    return first, last, step


def _pick(rng: random.Random, grid: tuple[int, int, float]) -> float:
    """One point of the grid, each as likely (the k-th of the list it would be, 0 left out)."""
    first, last, step = grid
    k = first + rng.randrange(last - first + 1 - (first <= 0 <= last))
    return round((k + 1 if first <= 0 <= k else k) * step, 12)  # 0.6, not 6 × 0.1 = 0.6000000000000001


def _labels(problem: Problem) -> set[str]:
    """The values the model reads as class labels (onehot, cross_entropy, a
    gather): whole numbers, kept as the source gives them."""
    return {a.name for line in program_of(problem).lines() for e in walk(line.expr)
            if e.op == "onehot" for a in walk(e.args[0]) if a.op in ("leaf", "at")}


def _roles(problem: Problem) -> dict[str, str]:
    """What each value means, as [variants] says, and the obvious ones inferred:
    under softmax (or log_softmax) an input whose vectors (a matrix's rows) are
    one-hot, or sum to 1, is a one-hot label or a distribution."""
    given = problem.variants.roles if problem.variants else {}
    program = program_of(problem)
    inferred = {}
    if any(e.op in ("softmax", "log_softmax") for line in program.lines() for e in walk(line.expr)):
        for name, value in problem.values.items():
            units = [u for v in (value if isinstance(value, list) else [value]) if isinstance(v, np.ndarray)
                     and v.size > 1 and np.any(v) for u in _units(v)]
            if name in problem.params or not units or any(np.any(u < 0) or abs(u.sum() - 1) > 1e-9 for u in units):
                continue
            inferred[name] = "one-hot" if all(set(np.unique(u)) == {0.0, 1.0} for u in units) else "distribution"
    return {**inferred, **given}


def _units(value: np.ndarray) -> list[np.ndarray]:
    """The vectors a one-hot or distribution role is about: a column, or each row of a matrix."""
    return [value[:, 0]] if value.shape[1] == 1 else list(value)


def _unit(role: str, n: int, rng: random.Random) -> list[float]:
    """A one-hot vector of n, or a distribution of n positive decimals that sum to 1."""
    if role == "one-hot":
        hot = rng.randrange(n)
        return [1.0 if i == hot else 0.0 for i in range(n)]
    parts = 10 ** len(str(n))  # tenths for up to 9 entries, hundredths up to 99, …
    cuts = [0, *sorted(rng.sample(range(1, parts), n - 1)), parts]
    return [(b - a) / parts for a, b in zip(cuts, cuts[1:], strict=False)]


def _draw(problem: Problem, rng: random.Random) -> dict[str, object]:
    kept = _labels(problem)
    roles = _roles(problem)
    redraw = problem.variants.redraw if problem.variants else frozenset()

    def new(name, value):
        role = roles.get(name)
        if isinstance(value, np.ndarray) and role in ("one-hot", "distribution"):
            rows = [_unit(role, len(u), rng) if np.any(u) else [0.0] * len(u) for u in _units(value)]
            return np.array(rows, dtype=float).reshape(value.shape)  # a zero row stays zero
        if isinstance(value, np.ndarray):
            return np.array([new(name, float(v)) for v in value.ravel()], dtype=float).reshape(value.shape)
        if value == 0 and name not in redraw:  # a zero the source gives stays (unless [variants] zeros redraws it)
            return 0.0
        return _pick(rng, _grid(problem, name, value, role))

    return {name: value if name in kept else [new(name, v) for v in value] if isinstance(value, list)
            else new(name, value) for name, value in problem.values.items()}


def _fingerprint(values: dict) -> tuple:
    def flat(v):
        if isinstance(v, list):
            return tuple(flat(x) for x in v)
        return tuple(np.ravel(v).tolist()) if isinstance(v, np.ndarray) else float(v)

    return tuple((name, flat(v)) for name, v in sorted(values.items()))


def _judge(problem: Problem, machine: Machine, values: dict, rational: bool, exact: bool,
           allowed: set[str] | None) -> Variant | None:
    """The variant these values make, or None when they are not nice."""
    try:
        run = machine.run(values)
    except (NumericFault, SympropError):  # not finite, or no answer at all (a singular matrix)
        return None
    grads = [np.ravel(run.adjoints.get(p.key, 0.0)) for p in machine.program.params]
    if not any(np.any(g != 0) for g in grads):
        return None
    if allowed is not None:
        corners = _corners(problem, values, run)
        if corners is None or not corners <= allowed:
            return None
    leaves = machine.program.leaves
    result = exact_pass(problem, values) if rational else None  # a draw keeps the shapes: one graph
    if result is not None:
        answers = _claims(result.loss, result.values, result.gradients, result.updated, leaves)
        if exact and any(decimals(v) is None or decimals(v) > MAX_DECIMALS
                         for a in answers.values() for v in _entries(a)):
            return None
        return Variant(values, answers, result)
    if rational and exact:
        return None
    step = step_of(machine.program, run, problem.training.lr)
    return Variant(values, _claims(float(step.loss), step.values, step.gradients, step.updated, leaves), None)


def _corners(problem: Problem, values: dict, run=None) -> set[str] | None:
    """Where a kink is met (relu, abs, max, min at their corner), looked at
    entry by entry on the scalar graph; None when a tanh or a sigmoid is
    saturated; a problem too large for the scalar graph (or of values with more
    axes) is looked at by the array engine's pass (``run``, when it was made),
    operation by operation (None when it has no numbers)."""
    if too_large(program_of(problem), "the scalar graph holds problems"):
        if run is None:
            try:
                run = Machine(program_of(problem), problem.conventions.relu_grad_at_zero).run(values)
            except (NumericFault, SympropError):
                return None
        return {f"{key}:relu" for key in run.kinks} | {f"{key}:kink" for key in run.corners}
    graph = graph_of(problem)
    known = {s: sympy.Float(v) for s, v in leaf_values(graph, values).items()}
    rules = {rule.apply: rule for rule in RULES.values() if rule.kink is not None}
    saturating = {name: rule.saturates for name, rule in RULES.items() if rule.saturates}
    found = set()
    for n in graph.nodes:
        for f in n.expr.atoms(sympy.Function):
            name = type(f).__name__
            if name == "relu" or type(f) in rules or name in saturating:
                x = [complex(a.xreplace(known)) for a in f.args]
                if any(v.imag for v in x):
                    return None  # not a real number here: not a nice draw
                x = [v.real for v in x]
                if name in saturating and abs(x[0]) > saturating[name]:
                    return None
                if (name == "relu" and x[0] == 0) or (type(f) in rules and bool(rules[type(f)].kink(*x))):
                    found.add(f"{n.key}:{f}")
        value = complex(n.expr.xreplace(known))
        if value.imag:
            return None
        known[n.symbol] = sympy.Float(value.real)
    return found


def _claims(loss, values: dict, gradients: dict, updated: dict | None, leaves) -> dict[str, object]:
    """The answers by claim key (loss, value.*, grad.*, updated.*) from one
    step's numbers, floats (``numeric.step_of``) or rationals (``ExactPass``):
    every computed value but a per-step loss and an earlier version."""
    out = {"loss": loss}
    out.update({f"value.{k}": v for k, v in values.items()
                if k not in leaves and "@" not in k and not k.startswith("L[")})
    out.update({f"grad.{k}": v for k, v in gradients.items()})
    out.update({f"updated.{k}": v for k, v in (updated or {}).items()})
    return out


def _entries(value) -> list:
    return list(np.ravel(value)) if isinstance(value, np.ndarray) else [value]
