"""One graph type: a straight-line program of scalar nodes.

Each equation line becomes a named *quantity*; a vector or matrix quantity is
a SymPy matrix whose entries are scalar nodes, so the scalar engine is the
ground truth for every shape.  A reassigned name gets a fresh node (``z@1`` is
the first ``z`` when a later line assigns ``z`` again).

Recurrent lines (``h[t] = ...``) are built once, as a *cell* over symbols such
as ``h[t-1]`` and ``y[t]``, then unrolled into ``h[1]``, ``h[2]``, ... by
substitution.  Every unrolled node keeps its cell node and the binding of the
cell's symbols, so local derivatives and compiled numeric functions are made
once per cell node, not once per step.
"""

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy
from sympy import ImmutableMatrix, Symbol

from ..errors import SympropError
from ..model.functions import undefined_function
from ..model.kinds import Role
from ..model.parse import (
    Functions,
    Value,
    describe_shape,
    parse_expression,
    shape_of,
    time_indexed_names,
)
from ..model.spec import LOSS, Problem
from .program import program_of


@dataclass(frozen=True, eq=False)
class Node:
    """One scalar computed value: ``symbol = expr`` over earlier symbols.

    An unrolled recurrent node keeps its cell node and the binding of the
    cell's symbols at its step; its ``expr`` is substituted only when asked
    for (a document shows it), so numbers for long sequences never build it.
    """

    symbol: Symbol
    formula: sympy.Expr | None  # None for an unrolled node: see expr
    key: str  # the quantity it belongs to ("z", "h[2]", "L")
    entry: tuple[int, ...]  # its place in the quantity: (), (i,) or (i, j)
    line: int | None  # the equation line, None for the loss
    cell: "Node | None" = None  # the cell node an unrolled node instantiates
    binding: dict | None = None  # cell symbol -> this step's symbol or number
    step: int | None = None

    @cached_property
    def expr(self) -> sympy.Expr:
        if self.formula is not None:
            return self.formula
        return self.cell.expr.xreplace(self.binding)


@dataclass(frozen=True)
class Quantity:
    """A named value: a parameter, an input, or what an equation computes."""

    key: str  # "W", "h[2]", "z@1", "L[3]", "h[t-1]" in the cell
    name: str  # "W", "h", "z", "L"
    step: int | None
    kind: Role
    value: Value  # a symbol or a matrix of symbols (numbers for a given initial state)
    line: int | None = None

    @property
    def shape(self) -> tuple[int, int] | None:
        return shape_of(self.value)

    def symbols(self) -> list[Symbol]:
        entries = list(self.value) if isinstance(self.value, ImmutableMatrix) else [self.value]
        return [e for e in entries if isinstance(e, Symbol)]


@dataclass
class Cell:
    """The recurrent cell, derived once for a generic t."""

    nodes: list[Node] = field(default_factory=list)  # h[t], yhat[t], L[t]
    inputs: dict[Symbol, tuple[str, int]] = field(default_factory=dict)  # h[t-1] -> ("h", -1)
    quantities: dict[str, Quantity] = field(default_factory=dict)
    states: set[str] = field(default_factory=set)  # names read at an earlier step


@dataclass
class Graph:
    problem: Problem
    quantities: dict[str, Quantity] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    loss: Symbol | None = None
    functions: dict[str, type] = field(default_factory=dict)
    leaves: dict[Symbol, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    cell: Cell | None = None

    @property
    def params(self) -> list[Quantity]:
        return [self.quantities[p] for p in self.problem.params]

    def param_symbols(self) -> list[Symbol]:
        return [s for q in self.params for s in q.symbols()]

    def node_by_symbol(self) -> dict[Symbol, Node]:
        return {n.symbol: n for n in self.nodes}


def entry_key(key: str, entry: tuple[int, ...]) -> str:
    return key + "".join(f"[{i}]" for i in entry)


def matrix_of(key: str, shape: tuple[int, int] | None, matrix: bool = False) -> Value:
    """A symbol, or a matrix of symbols named ``key[i]`` (a column vector) or
    ``key[i][j]`` (a matrix, or a column given as a list of lists)."""
    if shape is None:
        return Symbol(key, real=True)
    rows, cols = shape
    if cols == 1 and not matrix:
        return ImmutableMatrix(rows, 1, lambda i, j: Symbol(entry_key(key, (i,)), real=True))
    return ImmutableMatrix(rows, cols, lambda i, j: Symbol(entry_key(key, (i, j)), real=True))


def entries(value: Value, matrix: bool = False) -> list[tuple[tuple[int, ...], sympy.Expr]]:
    """(entry index, entry) pairs, in the same order as ``matrix_of`` names them."""
    shape = shape_of(value)
    if shape is None:
        return [((), value)]
    rows, cols = shape
    if cols == 1 and not matrix:
        return [((i,), value[i, 0]) for i in range(rows)]
    return [((i, j), value[i, j]) for i in range(rows) for j in range(cols)]


def value_shape(value) -> tuple[int, int] | None:
    """The shape of a number from [values]: None for a scalar."""
    return value.shape if isinstance(value, np.ndarray) else None


def _offset_key(name: str, offset: int) -> str:
    return f"{name}[t]" if offset == 0 else f"{name}[t{offset:+d}]"


def _constant(value) -> Value:
    def number(v):
        v = float(v)
        return sympy.Integer(int(v)) if v == int(v) else sympy.Float(v)

    if isinstance(value, np.ndarray):
        return ImmutableMatrix(value.shape[0], value.shape[1], lambda i, j: number(value[i, j]))
    return number(value)


class _Scope:
    """What names mean while the equations are built, in order."""

    def __init__(self, graph: Graph, assigned: set[str], recurrent_names: set[str]):
        self.graph = graph
        self.problem = graph.problem
        self.assigned = assigned
        self.recurrent_names = recurrent_names
        self.current: dict[str, Value] = {}  # the newest value of each plain name
        self.steps: dict[str, dict[int, Value]] = {}  # recurrent quantities by step
        self.recurrent = False  # building the cell (or the per-step loss)
        self.in_cell: dict[str, Value] = {}  # cell quantities at offset 0
        for name in self.problem.params:
            self._leaf(name, Role.PARAM)

    def is_sequence(self, name: str) -> bool:
        return name in self.problem.sequences

    def lookup(self, name: str) -> Value:
        if name in self.current:
            return self.current[name]
        if name in self.assigned:
            raise SympropError(f"'{name}' is used before it is assigned")
        return self._leaf(name, Role.INPUT)

    def at_step(self, name: str, step: int, relative: bool) -> Value:
        if relative:
            return self._cell_input(name, step)
        return self.concrete(name, step)

    # Concrete steps -----------------------------------------------------------

    def concrete(self, name: str, step: int) -> Value:
        """``name`` at step ``step`` of the unrolled model."""
        steps = self.problem.steps
        if step < 0 or step > steps:
            raise SympropError(f"{name}[{step}] is outside the steps 0..{steps}")
        if name in self.recurrent_names:
            known = self.steps.setdefault(name, {})
            if step not in known:
                if step != 0:
                    raise SympropError(f"'{name}[{step}]' is used before it is computed")
                known[0] = self._initial(name)
            return known[step]
        key = f"{name}[{step}]"
        if key not in self.graph.quantities:
            self._add_leaf(key, name, step, Role.INPUT, self._input_shape(name, step))
        return self.graph.quantities[key].value

    def _input_shape(self, name: str, step: int):
        given = self.problem.values.get(name)
        if given is not None and given:
            return value_shape(given[min(step, len(given) - 1)])
        return self.problem.shapes.get(name)

    def _initial(self, name: str) -> Value:
        key = f"{name}[0]"
        if name in self.problem.initial_params:  # h[0] is the parameter h0
            return self.graph.quantities[self.problem.initial_params[name]].value
        given = self.problem.initial.get(name)
        if given is None:  # a symbolic initial state: an input named h[0]
            return self._add_leaf(key, name, 0, Role.INPUT, self.problem.shapes.get(name))
        value = _constant(given)
        if isinstance(value, ImmutableMatrix) and value.shape == (1, 1):
            value = value[0, 0]
        self.graph.quantities[key] = Quantity(key, name, 0, Role.INITIAL, value)
        return value

    # The cell ------------------------------------------------------------------

    def _cell_input(self, name: str, offset: int) -> Value:
        cell = self.graph.cell
        if name in self.recurrent_names:
            if offset > 0 or (offset == 0 and name not in self.in_cell):
                raise SympropError(f"'{_offset_key(name, offset)}' is used before it is computed")
            if offset == 0:
                return self.in_cell[name]
            cell.states.add(name)
            shape = self._state_shape(name)
        else:
            shape = self._input_shape(name, 0)
        key = _offset_key(name, offset)
        if key not in cell.quantities:
            value = matrix_of(key, shape)
            cell.quantities[key] = Quantity(key, name, offset, Role.INPUT, value)
            for _, symbol in entries(value):
                cell.inputs[symbol] = (name, offset)
        return cell.quantities[key].value

    def _state_shape(self, name: str):
        if name in self.problem.initial_params:
            given = self.problem.values.get(self.problem.initial_params[name])
            return None if given is None or value_shape(given) == (1, 1) else value_shape(given)
        given = self.problem.initial.get(name)
        shape = value_shape(given) if given is not None else self.problem.shapes.get(name)
        return None if shape == (1, 1) else shape  # a 1x1 state counts as a scalar

    # Leaves ---------------------------------------------------------------------

    def _leaf(self, name: str, kind: str) -> Value:
        given = self.problem.values.get(name)
        shape = value_shape(given) if given is not None else self.problem.shapes.get(name)
        value = self._add_leaf(name, name, None, kind, shape)
        self.current[name] = value
        return value

    def _add_leaf(self, key, name, step, kind, shape) -> Value:
        matrix = name in self.problem.matrices
        value = matrix_of(key, shape, matrix)
        self.graph.quantities[key] = Quantity(key, name, step, kind, value)
        for entry, symbol in entries(value, matrix):
            self.graph.leaves[symbol] = (key, entry)
        return value


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


class _Builder:
    def __init__(self, problem: Problem):
        self.problem = problem
        self.texts = program_of(problem).texts
        self.graph = Graph(problem)
        self.graph.functions = {name: undefined_function(name) for name in problem.functions}
        self.functions = Functions(self.graph.functions)
        self.before, self.recurrent, self.after = _blocks(problem)
        recurrent_names = {e.target for e in self.recurrent}
        self.per_step_loss = bool(time_indexed_names(problem.loss))
        if self.per_step_loss:
            recurrent_names.add(LOSS)
        self.scope = _Scope(self.graph, {e.target for e in problem.equations}, recurrent_names)
        self.counts = Counter(e.target for e in problem.equations if not e.recurrent)
        self.seen: Counter = Counter()
        for name in {e.target for e in self.recurrent}:
            if self.counts[name] or sum(e.target == name for e in self.recurrent) > 1:
                raise self.error("model.equations", f"the recurrent name '{name}' is assigned more than once")

    def error(self, place: str, message: str) -> SympropError:
        return SympropError(f"{place}: {message}", where=self.problem.origin)

    def evaluate(self, text: str, place: str, line: int | None) -> Value:
        """An equation's value, read as the array engine reads it: in the
        column form of its NumPy meaning (``program.texts``)."""
        try:
            return parse_expression(self.texts.get(line, text), self.scope, self.functions)
        except SympropError as e:
            raise self.error(place, str(e)) from None

    def add(self, key, name, step, value, line, kind=Role.NODE) -> Value:
        symbols = []
        for entry, expr in entries(value):
            symbol = Symbol(entry_key(key, entry), real=True)
            self.graph.nodes.append(Node(symbol, expr, key, entry, line, step=step))
            symbols.append(symbol)
        return self._record(self.graph.quantities, key, name, step, value, symbols, line, kind)

    @staticmethod
    def _record(table, key, name, step, value, symbols, line, kind) -> Value:
        shape = shape_of(value)
        quantity = symbols[0] if shape is None else ImmutableMatrix(shape[0], shape[1], symbols)
        table[key] = Quantity(key, name, step, kind, quantity, line)
        return quantity

    def build(self) -> Graph:
        for eq in self.before:
            self.assign(eq)
        if self.recurrent:
            self.build_cell()
            for t in range(1, self.problem.steps + 1):
                self.unroll(t)
        for eq in self.after:
            self.assign(eq)
        self.graph.loss = self.total_loss()
        return self.graph

    def assign(self, eq) -> None:
        value = self.evaluate(eq.text, f"model.equations line {eq.line}", eq.line)
        self.seen[eq.target] += 1
        last = self.seen[eq.target] == self.counts[eq.target]
        key = eq.target if last else f"{eq.target}@{self.seen[eq.target]}"
        self.scope.current[eq.target] = self.add(key, eq.target, None, value, eq.line)

    # The recurrent cell, once for a generic t -------------------------------------

    def build_cell(self) -> None:
        cell = self.graph.cell = Cell()
        self.scope.recurrent = True
        lines = [(eq.target, eq.text, f"model.equations line {eq.line}", eq.line) for eq in self.recurrent]
        if self.per_step_loss:
            lines.append((LOSS, self.problem.loss, "model.loss", None))
        for name, text, place, line in lines:
            value = self.evaluate(text, place, line)
            if name == LOSS:
                value = self.scalar_loss(value)
            key = _offset_key(name, 0)
            symbols = []
            for entry, expr in entries(value):
                symbol = Symbol(entry_key(key, entry), real=True)
                cell.nodes.append(Node(symbol, expr, key, entry, line))
                symbols.append(symbol)
            kind = Role.LOSS if name == LOSS else Role.NODE
            self.scope.in_cell[name] = self._record(
                cell.quantities, key, name, 0, value, symbols, line, kind
            )
        self.scope.recurrent = False
        for name in cell.states:
            made = cell.quantities[_offset_key(name, 0)]
            for key, q in cell.quantities.items():
                if q.name == name and q.kind == Role.INPUT and _one(q.shape) != _one(made.shape):
                    raise self.error(
                        "model.equations",
                        f"{name}[t] is {describe_shape(made.value)} but {key} was taken as "
                        f"{describe_shape(q.value)}: give model.initial or model.shapes for '{name}'",
                    )

    def unroll(self, t: int) -> None:
        cell = self.graph.cell
        binding: dict[Symbol, object] = {}
        for key, q in cell.quantities.items():
            if q.kind != Role.INPUT:
                continue
            try:
                value = self.scope.concrete(q.name, t + q.step)
            except SympropError as e:
                raise self.error("model.equations", f"at t = {t}: {e}") from None
            if _one(shape_of(value)) != _one(q.shape):
                raise self.error(
                    "model.equations",
                    f"{q.name}[{t + q.step}] is {describe_shape(value)} but the cell uses {key} "
                    f"as {describe_shape(q.value)}",
                )
            for entry, symbol in entries(q.value):
                binding[symbol] = _entry_of(value, entry)
        made: dict[str, list] = {}
        for node in cell.nodes:
            name = cell.quantities[node.key].name
            key = f"{name}[{t}]"
            symbol = Symbol(entry_key(key, node.entry), real=True)
            binding[node.symbol] = symbol
            self.graph.nodes.append(
                Node(symbol, None, key, node.entry, node.line, cell=node, binding=binding, step=t)
            )
            made.setdefault(name, []).append(symbol)
        for q in cell.quantities.values():
            if q.step == 0 and q.kind in (Role.NODE, Role.LOSS):
                shape = q.shape
                symbols = made[q.name]
                value = symbols[0] if shape is None else ImmutableMatrix(shape[0], shape[1], symbols)
                step_key = f"{q.name}[{t}]"
                self.graph.quantities[step_key] = Quantity(step_key, q.name, t, q.kind, value, q.line)
                self.scope.steps.setdefault(q.name, {})[t] = value

    # The loss ----------------------------------------------------------------------

    def scalar_loss(self, value: Value) -> sympy.Expr:
        if isinstance(value, ImmutableMatrix):
            raise self.error(
                "model.loss",
                f"the loss must be a scalar, got {describe_shape(value)} (wrap it in sum() or mean())",
            )
        return value

    def total_loss(self) -> Symbol:
        if not self.per_step_loss:
            value = self.scalar_loss(self.evaluate(self.problem.loss, "model.loss", None))
            return self.add(LOSS, LOSS, None, value, None, "loss")
        terms = [self.graph.quantities[f"{LOSS}[{t}]"].value for t in range(1, self.problem.steps + 1)]
        total = sympy.Add(*terms)
        if self.problem.reduce == "mean":
            total = total / len(terms)
        return self.add(LOSS, LOSS, None, total, None, "loss")


def _one(shape):
    """A 1x1 matrix counts as a scalar."""
    return None if shape == (1, 1) else shape


def _entry_of(value: Value, entry: tuple[int, ...]):
    if not entry or not isinstance(value, ImmutableMatrix):
        return value
    return value[entry[0], 0] if len(entry) == 1 else value[entry[0], entry[1]]


def build_graph(problem: Problem) -> Graph:
    """Parse every equation into SymPy and lay out the scalar nodes."""
    return _Builder(problem).build()


def graph_of(problem: Problem) -> Graph:
    """The problem's graph, built once."""
    if problem.built.graph is None:
        problem.built.graph = build_graph(problem)
    return problem.built.graph
