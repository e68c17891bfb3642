"""Exact numbers: the scalar graph swept with SymPy rationals.

Inputs as written (0.1 is 1/10, not the float nearest it) and a model
without transcendental functions (+ - * /, integer powers, relu, max, min,
abs, …) give every value, adjoint and gradient as a rational number, as a
book prints it: 0.375, or 3/8.  A model whose numbers are not rational
(tanh, exp, a square root) has no exact pass: ``exact_pass`` returns None
and the floating-point numbers stand.  Small problems only: the sweep works
entry by entry (``MAX_EXACT_NODES``).
"""

from dataclasses import dataclass, field

import numpy as np
import sympy
from sympy import Rational, Symbol

from ..derive.backprop import derivation_of
from ..derive.graph import Graph, graph_of
from ..derive.program import program_of
from ..model.functions import relu_prime
from ..model.kinds import Role
from .faults import gap
from .scalar import gather, leaf_values, too_large

MAX_EXACT_NODES = 2_000
MAX_EXACT_DECIMALS = 10  # an exact decimal longer than this is not "short"
SHORT_DENOMINATOR = 1_000  # nor a fraction such as 1/3 with a larger denominator


@dataclass
class ExactStep:
    """One step's numbers in rationals, by the keys ``numeric.Step`` has: a
    number a Rational, an array a NumPy array of them (dtype object)."""

    loss: Rational
    values: dict[str, object]
    adjoints: dict[str, object]
    gradients: dict[str, object]
    updated: dict[str, object] | None
    kinks: list[str] = field(default_factory=list)
    leaves: dict = field(default_factory=dict, repr=False)


@dataclass
class ExactPass:
    """One forward and backward pass in rationals: every symbol's number and adjoint."""

    graph: Graph
    known: dict[Symbol, Rational]
    adjoint: dict[Symbol, Rational]
    lr: Rational | None

    @property
    def loss(self) -> Rational:
        return self.known[self.graph.loss]

    def value(self, key: str):
        return gather(self.graph.quantities[key], self.known, rational, object)

    def gradient(self, key: str):
        return gather(self.graph.quantities[key], self.adjoint, rational, object)

    @property
    def values(self) -> dict[str, object]:
        return {q.key: self.value(q.key) for q in self.graph.quantities.values() if q.kind == Role.NODE}

    @property
    def gradients(self) -> dict[str, object]:
        return {q.name: self.gradient(q.key) for q in self.graph.params}

    @property
    def updated(self) -> dict[str, object] | None:
        if self.lr is None:
            return None
        return {q.name: self.value(q.key) - self.lr * self.gradient(q.key) for q in self.graph.params}

    def like(self, step) -> ExactStep | None:
        """The numbers of a ``numeric.Step``, key for key; None when the scalar
        graph does not name one of them."""
        table = self.graph.quantities
        if any(k not in table for k in [*step.values, *step.adjoints, *step.gradients, *step.leaves]):
            return None
        return ExactStep(
            loss=self.loss, values={k: self.value(k) for k in step.values},
            adjoints={k: self.gradient(k) for k in step.adjoints},
            gradients={k: self.gradient(k) for k in step.gradients},
            updated=self.updated if step.updated is not None else None,
            kinks=list(step.kinks), leaves={k: self.value(k) for k in step.leaves})


def rational(x) -> Rational:
    """A number as written: the shortest decimal that gives the float (a
    Rational stays as it is)."""
    return x if isinstance(x, Rational) else Rational(repr(float(x)))


MAX_EXACT_BITS = 20_000  # bits of one exact number (about 6,000 digits): beyond them the floats stand


def _bits(v) -> int:
    return int(v.p).bit_length() + int(v.q).bit_length() if v.is_Rational else 0


def _evaluate(expr, known: dict):
    """``expr`` at the known numbers, each sum, product and power measured
    before it is done: None when its exact value could pass MAX_EXACT_BITS
    ((w + 1)**1000 then **1000, or a product of products of products, is left
    to the floats before the work, not after)."""
    if expr in known:
        return known[expr]
    if not expr.args:
        return expr
    args = [_evaluate(a, known) for a in expr.args]
    if any(a is None for a in args):
        return None
    if isinstance(expr, sympy.Pow) and args[0].is_Rational:
        if not args[1].is_Rational or abs(args[1]) * _bits(args[0]) > MAX_EXACT_BITS:
            return None  # w**x at w = 10^100, x = 800, or a fractional power of a long number
    elif isinstance(expr, sympy.Add | sympy.Mul) and all(a.is_Rational for a in args):
        total = args[0]
        for a in args[1:]:  # one operation at a time, each measured first
            if _bits(total) + _bits(a) + 1 > MAX_EXACT_BITS:
                return None
            total = total + a if isinstance(expr, sympy.Add) else total * a
        return total
    return expr.func(*args)


def _rationals(expr):
    """Floats in an equation (``f / 2.0``) as the decimals written."""
    floats = expr.atoms(sympy.Float)
    return expr.xreplace({f: rational(f) for f in floats}) if floats else expr


def at_numbers(expr, known: dict, relu_at_zero: Rational):
    """``expr`` at the known numbers, its floats read as the decimals written and
    relu'(0) as the convention: a Rational, an exact number such as tanh(1/2),
    or None when a step would pass MAX_EXACT_BITS."""
    v = _evaluate(_rationals(expr), known)
    if v is not None and v.has(relu_prime):
        v = v.replace(relu_prime, lambda x: relu_at_zero if x == 0 else relu_prime(x))
    return v


def exact_pass(problem, values: dict | None = None) -> ExactPass | None:
    """The pass in rationals at ``values`` (the problem's own by default; a
    value may be a Rational, or an array of them), or None when a number is
    not rational (a transcendental function) or the problem is too large."""
    if too_large(program_of(problem), "the exact pass is for problems"):
        return None
    graph = graph_of(problem)
    if len(graph.nodes) > MAX_EXACT_NODES:
        return None
    derivation = derivation_of(problem)
    at_zero = rational(problem.conventions.relu_grad_at_zero)
    known: dict[Symbol, Rational] = {
        s: rational(v) for s, v in leaf_values(graph, problem.values if values is None else values).items()}

    def number(expr) -> Rational | None:
        v = at_numbers(expr, known, at_zero)
        return v if v is not None and v.is_Rational else None

    for n in graph.nodes:
        v = number(n.expr)
        if v is None:
            return None
        known[n.symbol] = v
    adjoint: dict[Symbol, Rational] = {graph.loss: sympy.S.One}
    for n in reversed(graph.nodes):
        upstream = adjoint.get(n.symbol, 0)
        if upstream == 0:
            continue
        for parent, d in derivation.local[n.symbol].items():
            dv = number(d)
            if dv is None:
                return None
            if _bits(upstream) + _bits(dv) + _bits(sympy.Rational(adjoint.get(parent, 0))) + 1 > MAX_EXACT_BITS:
                return None
            adjoint[parent] = adjoint.get(parent, 0) + upstream * dv
    lr = problem.training.lr
    return ExactPass(graph, known, adjoint, None if lr is None else rational(lr))


def exact_steps(problem, steps: list) -> list[ExactStep] | None:
    """The steps of a worked solution (``numeric.Step``s, batch by batch) in
    rationals, each update feeding the next exactly; None when a number is
    not rational or not short (``short``): then the floats stand."""
    values = dict(problem.values)
    out = []
    for batch, step in zip(problem.training.batches or [{}], steps, strict=False):
        values.update(batch)
        run = exact_pass(problem, values)
        exact = run.like(step) if run is not None else None
        if exact is None or not all(short(e) for e in _numbers(exact)):
            return None
        out.append(exact)
        if exact.updated is not None:
            values.update(exact.updated)
    return out


def _numbers(step):
    """Every number of a step (an ``ExactStep`` or a ``numeric.Step``), in one order."""
    for table in (step.values, step.adjoints, step.gradients, step.updated or {}):
        for v in table.values():
            yield from np.ravel(v) if isinstance(v, np.ndarray) else [v]
    yield step.loss


def agreement(steps: list, exact: list[ExactStep]) -> dict:
    """The floating-point steps against the exact ones: how many numbers, the
    largest difference, and whether it is a rounding error's size: the fields
    of ``checks.Compared``."""
    ours = [float(x) for s in steps for x in _numbers(s)]
    theirs = [float(x) for e in exact for x in _numbers(e)]
    worst = gap(ours, theirs)
    scale = max([1.0] + [abs(x) for x in theirs])
    return {"compared": len(theirs), "max_abs_error": worst, "passed": worst <= 1e-9 * scale}


def decimals(value: Rational) -> int | None:
    """How many decimals print ``value`` exactly (3/8: 3), None when no
    finite number does (1/3)."""
    q = int(value.q)
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    return max(twos, fives) if q == 1 else None


def short(value: Rational) -> bool:
    """A number a book prints exactly: 0.375 (at most ``MAX_EXACT_DECIMALS``
    decimals) or 1/3 (a small denominator)."""
    places = decimals(value)
    return places <= MAX_EXACT_DECIMALS if places is not None else value.q <= SHORT_DENOMINATOR
