"""Exact numbers: the scalar graph swept with SymPy rationals.

Inputs as written (0.1 is 1/10, not the float nearest it) and a model
without transcendental functions (+ - * /, integer powers, relu, max, min,
abs, …) give every value, adjoint and gradient as a rational number, as a
book prints it: 0.375, or 3/8.  A model whose numbers are not rational
(tanh, exp, a square root) has no exact pass: ``exact_pass`` returns None
and the floating-point numbers stand.  Small problems only: the sweep works
entry by entry (``MAX_EXACT_NODES``).
"""

from dataclasses import dataclass

import numpy as np
import sympy
from sympy import ImmutableMatrix, Rational, Symbol

from ..derive.backprop import derivation_of
from ..derive.graph import graph_of
from ..model.functions import relu_prime
from .scalar import leaf_values

MAX_EXACT_NODES = 2_000


@dataclass
class ExactPass:
    """One forward and backward pass in rationals, by key as ``Pass`` has them."""

    loss: Rational
    values: dict[str, object]  # "z", "h[2]": a Rational or an ImmutableMatrix of them
    gradients: dict[str, object]
    updated: dict[str, object] | None


def rational(x) -> Rational:
    """A number as written: the shortest decimal that gives the float."""
    return Rational(repr(float(x)))


def _rationals(expr):
    """Floats in an equation (``f / 2.0``) as the decimals written."""
    floats = expr.atoms(sympy.Float)
    return expr.xreplace({f: rational(f) for f in floats}) if floats else expr


def exact_pass(problem, values: dict | None = None) -> ExactPass | None:
    """The first step in rationals, or None when a number is not rational
    (a transcendental function) or the problem is too large."""
    graph = graph_of(problem)
    if len(graph.nodes) > MAX_EXACT_NODES:
        return None
    derivation = derivation_of(problem)
    at_zero = rational(problem.conventions.relu_grad_at_zero)
    known: dict[Symbol, Rational] = {
        s: rational(v) for s, v in leaf_values(graph, problem.values if values is None else values).items()}

    def number(expr) -> Rational | None:
        v = _rationals(expr).xreplace(known)
        if v.has(relu_prime):
            v = v.replace(relu_prime, lambda x: at_zero if x == 0 else relu_prime(x))
        return v if v.is_Rational else None

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
            adjoint[parent] = adjoint.get(parent, 0) + upstream * dv

    def gather(q, table):
        if isinstance(q.value, ImmutableMatrix):
            return q.value.applyfunc(lambda e: table.get(e, 0) if isinstance(e, Symbol) else rational(e))
        return table.get(q.value, 0) if isinstance(q.value, Symbol) else rational(q.value)

    nodes = {q.key: gather(q, known) for q in graph.quantities.values() if q.kind == "node"}
    gradients = {q.name: gather(q, adjoint) for q in graph.params}
    updated = None
    if problem.training.lr is not None:
        lr = rational(problem.training.lr)
        updated = {q.name: gather(q, known) - lr * gradients[q.name] for q in graph.params}
    return ExactPass(known[graph.loss], nodes, gradients, updated)


def as_float(value):
    """A Rational as a float, a matrix of them as a float array."""
    if isinstance(value, ImmutableMatrix):
        return np.array(value.tolist(), dtype=float)
    return float(value)


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
