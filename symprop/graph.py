"""One graph type: a straight-line program of scalar nodes.

Each equation line becomes a named *quantity*; a vector or matrix quantity is
a SymPy matrix whose entries are scalar nodes, so the scalar engine is the
ground truth for every shape.  Recurrent lines (``h[t] = ...``) are unrolled
into ``h[1]``, ``h[2]``, ...; a reassigned name gets a fresh node (``z@1`` is
the first ``z`` when a later line assigns ``z`` again).
"""

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import sympy
from sympy import ImmutableMatrix, Symbol

from .errors import SympropError
from .functions import undefined_function
from .parse import Functions, Value, describe_shape, parse_expression, shape_of, time_indexed_names
from .spec import LOSS, Problem


@dataclass(frozen=True)
class Node:
    """One scalar computed value: ``symbol = expr`` over earlier symbols."""

    symbol: Symbol
    expr: sympy.Expr
    key: str  # the quantity it belongs to ("z", "h[2]", "L")
    entry: tuple[int, ...]  # its place in the quantity: (), (i,) or (i, j)
    line: int | None  # the equation line, None for the loss


@dataclass(frozen=True)
class Quantity:
    """A named value: a parameter, an input, or what an equation computes."""

    key: str  # "W", "h[2]", "z@1", "L[3]"
    name: str  # "W", "h", "z", "L"
    step: int | None
    kind: str  # "param", "input", "initial", "node" or "loss"
    value: Value  # a symbol or a matrix of symbols (numbers for a given initial state)
    line: int | None = None

    @property
    def shape(self) -> tuple[int, int] | None:
        return shape_of(self.value)

    def symbols(self) -> list[Symbol]:
        entries = list(self.value) if isinstance(self.value, ImmutableMatrix) else [self.value]
        return [e for e in entries if isinstance(e, Symbol)]


@dataclass
class Graph:
    problem: Problem
    quantities: dict[str, Quantity] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    loss: Symbol | None = None
    functions: dict[str, type] = field(default_factory=dict)
    leaves: dict[Symbol, tuple[str, tuple[int, ...]]] = field(default_factory=dict)

    @property
    def params(self) -> list[Quantity]:
        return [self.quantities[p] for p in self.problem.params]

    def param_symbols(self) -> list[Symbol]:
        return [s for q in self.params for s in q.symbols()]

    def node_by_symbol(self) -> dict[Symbol, Node]:
        return {n.symbol: n for n in self.nodes}


def entry_key(key: str, entry: tuple[int, ...]) -> str:
    return key + "".join(f"[{i}]" for i in entry)


def matrix_of(key: str, shape: tuple[int, int] | None, make=None) -> Value:
    """A symbol, or a matrix of symbols named ``key[i]`` / ``key[i][j]``."""
    make = make or (lambda name: Symbol(name, real=True))
    if shape is None:
        return make(key)
    rows, cols = shape
    if cols == 1:
        return ImmutableMatrix(rows, 1, lambda i, j: make(entry_key(key, (i,))))
    return ImmutableMatrix(rows, cols, lambda i, j: make(entry_key(key, (i, j))))


def entries(value: Value) -> list[tuple[tuple[int, ...], sympy.Expr]]:
    """(entry index, entry) pairs, in the same order as ``matrix_of`` names them."""
    shape = shape_of(value)
    if shape is None:
        return [((), value)]
    rows, cols = shape
    if cols == 1:
        return [((i,), value[i, 0]) for i in range(rows)]
    return [((i, j), value[i, j]) for i in range(rows) for j in range(cols)]


def value_shape(value) -> tuple[int, int] | None:
    """The shape of a number from [values]: None for a scalar."""
    return value.shape if isinstance(value, np.ndarray) else None


class _Scope:
    """Names while the equations are built, in order."""

    def __init__(self, graph: Graph, assigned: set[str]):
        self.graph = graph
        self.problem = graph.problem
        self.assigned = assigned
        self.current: dict[str, Value] = {}  # the newest value of each plain name
        self.steps: dict[str, dict[int, Value]] = {}  # recurrent nodes by step
        self.time: int | None = None
        for name in self.problem.params:
            self._leaf(name, "param")

    def is_sequence(self, name: str) -> bool:
        return name in self.problem.sequences

    def lookup(self, name: str) -> Value:
        if name in self.current:
            return self.current[name]
        if name in self.assigned:
            raise SympropError(f"'{name}' is used before it is assigned")
        return self._leaf(name, "input")

    def at_step(self, name: str, step: int) -> Value:
        problem = self.problem
        if step < 0 or step > problem.steps:
            raise SympropError(f"{name}[{step}] is outside the steps 0..{problem.steps}")
        if name in self.assigned:  # a recurrent state or output
            known = self.steps.setdefault(name, {})
            if step in known:
                return known[step]
            if step == 0:
                known[0] = self._initial(name)
                return known[0]
            raise SympropError(f"'{name}[{step}]' is used before it is computed")
        key = f"{name}[{step}]"
        if key not in self.graph.quantities:
            given = problem.values.get(name)
            shape = problem.shapes.get(name)
            if given is not None and step < len(given):
                shape = value_shape(given[step])
            self._add_leaf(key, name, step, "input", shape)
        return self.graph.quantities[key].value

    def _initial(self, name: str) -> Value:
        key = f"{name}[0]"
        given = self.problem.initial.get(name)
        if given is None:  # a symbolic initial state: an input named h[0]
            return self._add_leaf(key, name, 0, "input", self.problem.shapes.get(name))
        value = (
            ImmutableMatrix(given.tolist())
            if isinstance(given, np.ndarray)
            else sympy.Float(given) if given != int(given) else sympy.Integer(int(given))
        )
        if isinstance(value, ImmutableMatrix):
            value = value.applyfunc(lambda v: sympy.Integer(int(v)) if v == int(v) else v)
        self.graph.quantities[key] = Quantity(key, name, 0, "initial", value)
        return value

    def _leaf(self, name: str, kind: str) -> Value:
        given = self.problem.values.get(name)
        shape = value_shape(given) if given is not None else self.problem.shapes.get(name)
        value = self._add_leaf(name, name, None, kind, shape)
        self.current[name] = value
        return value

    def _add_leaf(self, key, name, step, kind, shape) -> Value:
        value = matrix_of(key, shape)
        self.graph.quantities[key] = Quantity(key, name, step, kind, value)
        for entry, symbol in entries(value):
            self.graph.leaves[symbol] = (key, entry)
        return value


def build_graph(problem: Problem) -> Graph:
    """Parse every equation into SymPy and lay out the scalar nodes."""
    graph = Graph(problem)
    graph.functions = {name: undefined_function(name) for name in problem.functions}
    functions = Functions(graph.functions)
    assigned = {e.target for e in problem.equations}
    counts = Counter(e.target for e in problem.equations if not e.recurrent)
    seen: Counter = Counter()
    scope = _Scope(graph, assigned)

    def add(key, name, step, value, line):
        symbols = []
        for entry, expr in entries(value):
            symbol = Symbol(entry_key(key, entry), real=True)
            graph.nodes.append(Node(symbol, expr, key, entry, line))
            symbols.append(symbol)
        shape = shape_of(value)
        quantity_value = (
            symbols[0] if shape is None else ImmutableMatrix(shape[0], shape[1], symbols)
        )
        graph.quantities[key] = Quantity(key, name, step, "loss" if line is None else "node",
                                         quantity_value, line)
        return quantity_value

    def evaluate(text, place):
        try:
            return parse_expression(text, scope, functions)
        except SympropError as e:
            raise SympropError(f"{place}: {e}", where=problem.origin) from None

    before, recurrent, after = _blocks(problem)
    for name in {e.target for e in recurrent}:
        if counts[name] or sum(e.target == name for e in recurrent) > 1:
            raise SympropError(
                f"model.equations: the recurrent name '{name}' is assigned more than once",
                where=problem.origin,
            )

    def assign(eq):
        place = f"model.equations line {eq.line}"
        value = evaluate(eq.text, place)
        if eq.recurrent:
            key = f"{eq.target}[{scope.time}]"
            scope.steps.setdefault(eq.target, {})[scope.time] = add(
                key, eq.target, scope.time, value, eq.line
            )
            return
        seen[eq.target] += 1
        last = seen[eq.target] == counts[eq.target]
        key = eq.target if last else f"{eq.target}@{seen[eq.target]}"
        scope.current[eq.target] = add(key, eq.target, None, value, eq.line)

    for eq in before:
        assign(eq)
    if recurrent:
        for t in range(1, problem.steps + 1):
            scope.time = t
            for eq in recurrent:
                assign(eq)
        scope.time = None
    for eq in after:
        assign(eq)

    graph.loss = _loss(graph, scope, evaluate, add)
    return graph


def _blocks(problem: Problem):
    """The lines before the recurrent block, the block itself, and after it."""
    blocks = ([], [], [])
    phase = 0
    for eq in problem.equations:
        if eq.recurrent:
            if phase == 2:
                raise SympropError(
                    f"model.equations line {eq.line}: the [t] lines must stand together, "
                    "not split by lines without [t]",
                    where=problem.origin,
                )
            phase = 1
        elif phase == 1:
            phase = 2
        blocks[phase].append(eq)
    return blocks


def _loss(graph: Graph, scope: _Scope, evaluate, add) -> Symbol:
    problem = graph.problem

    per_step = bool(time_indexed_names(problem.loss))
    if not per_step:
        value = _scalar_loss(evaluate(problem.loss, "model.loss"), problem)
        return add(LOSS, LOSS, None, value, None)
    terms = []
    for t in range(1, problem.steps + 1):
        scope.time = t
        value = _scalar_loss(evaluate(problem.loss, "model.loss"), problem)
        terms.append(add(f"{LOSS}[{t}]", LOSS, t, value, None))
    scope.time = None
    total = sympy.Add(*terms)
    if problem.reduce == "mean":
        total = total / len(terms)
    return add(LOSS, LOSS, None, total, None)


def _scalar_loss(value: Value, problem: Problem) -> sympy.Expr:
    if isinstance(value, ImmutableMatrix):
        raise SympropError(
            f"model.loss: the loss must be a scalar, got {describe_shape(value)} "
            "(wrap it in sum() or mean())",
            where=problem.origin,
        )
    return value
