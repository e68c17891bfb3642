"""The equations are the graph: one node per equation, a whole scalar, vector
or matrix, as an expression tree of operations (``Op``).

``program_of(problem)`` reads every line once (the parser's syntax tree, then
the same whitelist as the scalar engine) into a ``Program``: the lines before
a recurrent cell, the cell for a generic t, the lines after it, and the loss.
Shapes are inferred from the values (or ``model.shapes``) line by line, so
reading costs one pass over the equations whatever the sizes, steps or depth.

An ``Op`` refers to named values by ``leaf`` (``name`` and, in the cell, a
``step`` offset from t: ``h[t-1]`` is ``leaf(h, -1)``) or ``at`` (a fixed step:
``h[3]``).  The trees and their algebra (``T``, ``matmul``, ``mul`` …, which
build simplified expressions) are in ``ops.py``, the reading of the courses'
operations and of indexing in ``readers.py``; the vector-Jacobian rules
(``model/operations.py``) and the printers work on these trees.
"""

import ast
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import SympropError
from ..model.functions import COMPOSED, LINALG, REDUCTIONS, RULES, built_in_names
from ..model.kinds import Role
from ..model.parse import MAX_EXPONENT, TIME, call_parameters, check_call, own_syntax, parse_syntax
from ..model.spec import LOSS, Problem
from .ops import (  # noqa: F401  (every layer imports the trees from here)
    Op,
    Shape,
    T,
    add,
    broadcast,
    describe,
    div,
    is_nd,
    kept,
    leaves_of,
    matmul,
    mul,
    neg,
    one,
    scalar,
    shift,
    size,
    step_key,
    walk,
)
from .readers import Indexing, Operations, _mentions_time, _misaligned, _snippet

# The program -------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """``key = expr``: one equation (or the loss).

    key: "z" (the newest z), "z@1" (an earlier one), a cell line's plain name
    ("h" stands for h[t]), or "L"."""

    key: str
    name: str
    expr: Op
    line: int | None  # the equation's line in model.equations; None for the loss

    @property
    def shape(self) -> Shape:
        return self.expr.shape


@dataclass(frozen=True)
class Leaf:
    """A value the equations read: a parameter, an input, an initial state."""

    key: str  # "W", "x" (a sequence: its items are x[0], x[1], …), "h[0]"
    name: str
    kind: Role  # PARAM, INPUT, SEQUENCE or INITIAL
    shape: Shape
    matrix: bool = False  # given as a list of lists (or 2-d shapes)


@dataclass
class Program:
    problem: Problem
    before: list[Line] = field(default_factory=list)
    cell: list[Line] = field(default_factory=list)  # for a generic t; a per-step loss is "L"
    after: list[Line] = field(default_factory=list)
    loss: Line | None = None  # the total; for a per-step loss, Σ_t L[t] (or the mean)
    leaves: dict[str, Leaf] = field(default_factory=dict)
    states: set[str] = field(default_factory=set)  # cell names read at an earlier step
    # each equation (by line; the loss as None) in the column reading that both
    # engines build: NumPy's 1-d vectors made explicit (``X + b.T``)
    texts: dict[int | None, str] = field(default_factory=dict)
    # an initial state given as a parameter (initial = { h = "h0" }): h[0] is the leaf h0
    aliases: dict[str, str] = field(default_factory=dict)
    # NumPy's ndim of each named value (line keys, cell names, leaves by name): a 1-d one is a column here
    ndims: dict[str, int] = field(default_factory=dict)

    @property
    def recurrent(self) -> bool:
        return bool(self.cell)

    @property
    def per_step_loss(self) -> bool:
        return any(line.key == LOSS for line in self.cell)

    @property
    def steps(self) -> int | None:
        return self.problem.steps

    def lines(self) -> list[Line]:
        loss = [self.loss] if self.loss is not None and self.loss.expr is not None else []
        return self.before + self.cell + self.after + loss

    def shape_of(self, key: str) -> Shape:
        for line in self.lines():
            if line.key == key:
                return line.shape
        return self.leaves[key].shape

    def cell_names(self) -> set[str]:
        return {line.name for line in self.cell}

    def loss_reads(self) -> set[str]:
        """The keys of every value the loss reads directly: ``yhat``, ``h[3]``,
        and a per-step loss's ``yhat[t]`` at every step t (parameters and inputs too)."""
        keys = set()
        if self.loss is not None and self.loss.expr is not None:
            keys |= {_read_key(e, None) for e in leaves_of(self.loss.expr)}
        for line in self.cell:
            if line.key == LOSS:
                keys |= {_read_key(e, t) for e in leaves_of(line.expr) for t in range(1, (self.steps or 0) + 1)}
        return keys

    @property
    def params(self) -> list[Leaf]:
        return [self.leaves[p] for p in self.problem.params]


def _read_key(e: Op, t: int | None) -> str:
    """A leaf's key at step ``t`` of a cell (``leaf(h, -1)`` at t = 3 is ``h[2]``), a fixed step's ``h[3]``."""
    if e.op == "at":
        return f"{e.name}[{e.step}]"
    return e.name if e.step is None or t is None else f"{e.name}[{t + e.step}]"


def has_arrays(program: Program) -> bool:
    """Whether any value is a vector or a matrix, a 1x1 given as a list
    included (else the scalar story is told)."""
    problem = program.problem
    given = [v for value in problem.values.values() for v in (value if isinstance(value, list) else [value])]
    return (any(line.shape is not None for line in program.lines())
            or any(leaf.shape is not None for leaf in program.leaves.values())
            or any(isinstance(v, np.ndarray) for v in given) or bool(problem.shapes))


def nd_values(program: Program) -> bool:
    """Whether any value has three axes or more (the entry-by-entry engine reads
    scalars, vectors and matrices)."""
    return any(is_nd(line.shape) for line in program.lines()) or any(
        is_nd(leaf.shape) for leaf in program.leaves.values()) or any(
        is_nd(op.shape) for line in program.lines() + [program.loss] if line.expr is not None for op in walk(line.expr))


MAX_OP_ENTRIES = 10_000_000  # entries of one operation's value (80 MB of float64): W @ W.T of a 10000x10 W
MAX_PASS_OPERATIONS = 150_000  # operations in one pass: time steps × the cell's operations
MAX_PASS_NUMBERS = 10_000_000  # numbers one pass computes: time steps × the cell's results (about 250 MB kept)
MAX_PASS_WORK = 200_000_000  # multiply-adds of one pass (a tenth of a second of NumPy): checks run several


def _work(op: "Op") -> int:
    """The multiply-adds of one operation: its entries, times the inner size
    of a product, the kernel of a correlation or a convolution, the side of an inverse or a determinant."""
    entries = math.prod(op.shape or (1, 1))
    if op.op == "matmul":
        return entries * (op.args[0].shape or (1, 1))[1]
    if op.op == "corr2d":
        return entries * math.prod(op.args[1].shape or (1, 1))
    if op.op == "conv2d":  # each output entry: the kernel's C×kh×kw
        return entries * math.prod(op.args[1].shape[1:])
    if op.op in ("inv", "det", "logdet"):
        return (op.args[0].shape or (1, 1))[0] ** 3
    return entries


def program_of(problem: Problem) -> Program:
    """The problem's program, read once."""
    if problem.built.program is None:
        problem.built.program = _within_budget(_Reader(problem).read())
    return problem.built.program


def pass_work(program: Program) -> int:
    """The multiply-adds of one forward pass, from the shapes alone."""
    in_cell = {id(line) for line in program.cell}
    once = [op for line in program.lines() if id(line) not in in_cell for op in walk(line.expr)]
    cell = [op for line in program.cell for op in walk(line.expr)]
    return sum(map(_work, once)) + (program.steps or 0) * sum(map(_work, cell))


def _within_budget(program: Program) -> Program:
    """A recurrent model's pass, estimated before it runs: refused when its
    steps × operations (the cost of a pass) or steps × numbers (its memory)
    exceed the budget."""
    cell = [op for line in program.cell for op in walk(line.expr) if op.op not in ("leaf", "at", "num")]
    work = pass_work(program)
    if work > MAX_PASS_WORK:
        raise SympropError(f"model.equations: a pass takes about {work:.3g} multiply-adds (the limit is "
                           f"{MAX_PASS_WORK:.0e})", where=program.problem.origin)
    if not program.recurrent:
        return program
    ops, numbers, steps = cell, sum(math.prod(op.shape or (1, 1)) for op in cell), program.steps
    for count, limit, what in ((len(ops), MAX_PASS_OPERATIONS, "operations"),
                               (numbers, MAX_PASS_NUMBERS, "numbers")):
        if steps * count > limit:
            raise SympropError(
                f"model.steps: {steps} steps of a cell of {count} {what} make {steps * count} {what} "
                f"in a pass (the limit is {limit})", where=program.problem.origin)
    return program


def _value_shape(value) -> Shape:
    return value.shape if isinstance(value, np.ndarray) else None


class _Reader(Operations, Indexing):
    """The equations, line by line, into expression trees with shapes."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.program = Program(problem)
        self.functions = built_in_names() | set(problem.functions)
        self.current: dict[str, str] = {}  # plain name -> key of its newest value
        self.in_cell = False
        self.cell_shapes: dict[str, Shape] = {}  # cell names computed so far
        self.cell_names = {e.target for e in problem.equations if e.recurrent}
        self.sequences = problem.sequences
        self.place = "model.equations"
        # NumPy's ndim of each Op built (a 1-d array is kept as a column), by
        # identity: the same tree may be a matrix's transpose or a row read as 1-d
        self.ndims: dict[int, tuple[Op, int]] = {}
        self.names_ndim: dict[str, int] = {}  # of line keys and cell names
        self.unwrap: set[int] = set()  # syntax nodes (by id) replaced by their .value
        self.wrap: set[int] = set()  # syntax nodes (by id) transposed (.T)
        self.free_T: int | None = None  # the x.T that is the left operand of an @
        self.rebuild: dict[int, object] = {}  # syntax nodes (by id) written anew: outer(a, b) as a @ b.T

    def error(self, message: str) -> SympropError:
        return SympropError(f"{self.place}: {message}", where=self.problem.origin)

    # Names ----------------------------------------------------------------------

    def _given_shape(self, name: str) -> Shape:
        given = self.problem.values.get(name)
        if name in self.sequences and isinstance(given, list) and given:
            return one(_value_shape(given[-1]))
        if given is not None and not isinstance(given, list):
            return one(_value_shape(given))
        shape = self.problem.shapes.get(name)
        return one(shape)

    def _leaf(self, name: str, kind: Role, key: str | None = None, shape: Shape = None) -> Leaf:
        key = key or name
        if key not in self.program.leaves:
            self.program.leaves[key] = Leaf(key, name, kind, shape, name in self.problem.matrices)
        return self.program.leaves[key]

    def mark(self, e: Op, ndim: int) -> Op:
        """``e``, noted with its number of dimensions in NumPy's reading; a value
        larger than one operation may make is refused before any work."""
        if size(e.shape) > MAX_OP_ENTRIES:
            raise SympropError(f"a value of {describe(e.shape)} = {size(e.shape)} entries "
                               f"(the limit for one operation is {MAX_OP_ENTRIES})")
        self.ndims[id(e)] = (e, ndim)
        return e

    def ndim(self, e: Op) -> int:
        return self.ndims[id(e)][1] if id(e) in self.ndims else 0

    def at_most_2d(self, e: Op, node, what: str) -> Op:
        """``e``, refused when it has three axes or more, for ``what`` takes
        vectors and matrices only."""
        if is_nd(e.shape):
            raise SympropError(
                f"{what} takes scalars, vectors and matrices, but {_snippet(node)} is {self.ndim(e)}-d "
                f"({describe(e.shape)}); an array of more axes goes through elementwise operations, "
                f"sum/mean, conv2d, max_pool2d, indexing, transpose and reshape (reshape(X, N, -1) makes "
                f"a matrix of it)")
        return e

    def is_flat(self, e: Op) -> bool:
        """A 1-d array of more than one entry (kept as a column)."""
        return e.shape is not None and self.ndim(e) == 1

    def given_ndim(self, name: str, given) -> int:
        """A number is 0-d, a list 1-d, a list of lists (or 2-d shapes) 2-d, an
        array of more axes (nested deeper, or from a file) as it is."""
        if isinstance(given, list):
            given = given[-1] if given else None
        if is_nd(getattr(given, "shape", None)) or is_nd(self.problem.shapes.get(name)):
            return len(given.shape if isinstance(given, np.ndarray) else self.problem.shapes[name])
        if name in self.problem.matrices:
            return 2
        return 1 if isinstance(given, np.ndarray) or name in self.problem.shapes else 0

    def name(self, name: str) -> Op:
        if name in self.current:
            key = self.current[name]
            return self.mark(Op("leaf", shape=self.program.shape_of(key), name=key), self.names_ndim[key])
        if name in self.sequences:
            raise SympropError(f"'{name}' changes with time; write {name}[t] or {name}[t-1]")
        if name in {e.target for e in self.problem.equations}:
            raise SympropError(f"'{name}' is used before it is assigned")
        kind = Role.PARAM if name in self.problem.params else Role.INPUT
        leaf = self._leaf(name, kind, shape=self._given_shape(name))
        return self.mark(Op("leaf", shape=leaf.shape, name=name), self.given_ndim(name, self.problem.values.get(name)))

    def state_shape(self, name: str) -> Shape:
        if name in self.problem.initial_params:
            return self._given_shape(self.problem.initial_params[name])
        given = self.problem.initial.get(name)
        if given is not None:
            return one(_value_shape(given))
        return one(self.problem.shapes.get(name))

    def at_step(self, name: str, step: int, relative: bool) -> Op:
        steps = self.problem.steps
        if name in self.cell_names:
            if relative:
                if step > 0 or (step == 0 and name not in self.cell_shapes):
                    raise SympropError(f"'{step_key(name, step)}' is used before it is computed")
                if step == 0:
                    return self.mark(Op("leaf", shape=self.cell_shapes[name], name=name, step=0),
                                     self.names_ndim[name])
                self.program.states.add(name)
                shape = self.state_shape(name)
                self._initial(name, shape)
                return self.mark(Op("leaf", shape=shape, name=name, step=step), self.state_ndim(name))
            if not 0 <= step <= steps:
                raise SympropError(f"{name}[{step}] is outside the steps 0..{steps}")
            if self.in_cell:
                raise SympropError(f"'{name}[{step}]' is used before it is computed")
            if step == 0:
                shape = self.state_shape(name)
                self._initial(name, shape)
                ndim = self.state_ndim(name)
            else:
                shape, ndim = self.cell_shapes[name], self.names_ndim[name]
            return self.mark(Op("at", shape=shape, name=name, step=step), ndim)
        # a sequence input
        if not relative and not 0 <= step <= steps:
            raise SympropError(f"{name}[{step}] is outside the steps 0..{steps}")
        leaf = self._leaf(name, Role.SEQUENCE, shape=self._given_shape(name))
        return self.mark(Op("leaf" if relative else "at", shape=leaf.shape, name=name, step=step),
                         self.given_ndim(name, self.problem.values.get(name)))

    def state_ndim(self, name: str) -> int:
        if name in self.problem.initial_params:
            param = self.problem.initial_params[name]
            return self.given_ndim(param, self.problem.values.get(param))
        return self.given_ndim(name, self.problem.initial.get(name))

    def _initial(self, name: str, shape: Shape) -> None:
        if name in self.problem.initial_params:  # h[0] is the parameter h0
            self.program.aliases[f"{name}[0]"] = self.problem.initial_params[name]
            return
        kind = Role.INITIAL if name in self.problem.initial else Role.INPUT
        self._leaf(name, kind, key=f"{name}[0]", shape=shape)

    # Lines ----------------------------------------------------------------------

    def read(self) -> Program:
        problem, program = self.problem, self.program
        for name in problem.params:
            self._leaf(name, Role.PARAM, shape=self._given_shape(name))
        counts: dict[str, int] = {}
        for eq in problem.equations:
            counts[eq.target] = counts.get(eq.target, 0) + 1
        per_step = any(isinstance(n, ast.Subscript) and _mentions_time(n)
                       for n in ast.walk(parse_syntax(problem.loss)))
        seen: dict[str, int] = {}
        phase = "before"
        for eq in problem.equations:
            self.place = f"model.equations line {eq.line}"
            if eq.recurrent:
                if phase == "after":
                    raise self.error("the [t] lines must stand together, not split by lines without [t]")
                phase = "cell"
                self.in_cell = True
                expr = self.expression(eq.text, eq.line)
                self.cell_shapes[eq.target] = expr.shape
                self.names_ndim[eq.target] = self.ndim(expr)
                program.cell.append(Line(eq.target, eq.target, expr, eq.line))
                continue
            if phase == "cell":
                phase = "after"
                self.finish_cell()
            self.in_cell = False
            expr = self.expression(eq.text, eq.line)
            seen[eq.target] = seen.get(eq.target, 0) + 1
            key = eq.target if seen[eq.target] == counts[eq.target] else f"{eq.target}@{seen[eq.target]}"
            self.names_ndim[key] = self.ndim(expr)
            (program.after if phase == "after" else program.before).append(Line(key, eq.target, expr, eq.line))
            self.current[eq.target] = key
        if phase == "cell":
            self.finish_cell()
        self.place = "model.loss"
        if per_step:
            self.in_cell = True
            expr = self.scalar_loss(self.expression(problem.loss, None))
            program.cell.append(Line(LOSS, LOSS, expr, None))
            self.cell_shapes[LOSS] = None
            program.loss = Line(LOSS, LOSS, None, None)
        else:
            self.in_cell = False
            program.loss = Line(LOSS, LOSS, self.scalar_loss(self.expression(problem.loss, None)), None)
        leaves = {leaf.name: self.given_ndim(leaf.name, problem.values.get(leaf.name)) for leaf in program.leaves.values()}
        program.ndims = {**leaves, **{s: self.state_ndim(s) for s in program.states}, **self.names_ndim}
        return program

    def finish_cell(self) -> None:
        for name in self.program.states:
            made, taken = self.cell_shapes.get(name), self.state_shape(name)
            ndim, taken_ndim = self.names_ndim[name], self.state_ndim(name)
            if made != taken or (made is not None and ndim != taken_ndim):
                raise SympropError(
                    f"model.equations: {name}[t] is {describe(made, ndim == 1)} but {name}[t-1] was taken as "
                    f"{describe(taken, taken_ndim == 1)}: give model.initial or model.shapes for '{name}'",
                    where=self.problem.origin,
                )

    def scalar_loss(self, value: Op) -> Op:
        if value.shape is not None:
            raise self.error(f"the loss must be a scalar, got {describe(value.shape)} "
                             "(wrap it in sum() or mean())")
        return value

    def expression(self, text: str, line: int | None) -> Op:
        """One equation's tree; its column reading goes to ``program.texts``."""
        self.unwrap, self.wrap, self.rebuild = set(), set(), {}
        try:
            tree = own_syntax(text)  # the column reading below rewrites it: not the shared tree
            expr = self.build(tree.body)
        except SympropError as e:
            raise self.error(str(e)) from None
        self.program.texts[line] = ast.unparse(_Columns(self.unwrap, self.wrap, self.rebuild).visit(tree))
        return expr

    # Syntax -----------------------------------------------------------------------

    def build(self, node) -> Op:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise SympropError(f"constant {node.value!r} is not allowed")
            return scalar(node.value)
        if isinstance(node, ast.Name):
            if node.id == TIME:
                raise SympropError("'t' is the time index and can only be used inside [ ]")
            if node.id in self.functions:
                raise SympropError(f"'{node.id}' is a function; call it as {node.id}(...)")
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp):
            inner = self.build(node.operand)
            if isinstance(node.op, ast.USub):
                return self.mark(Op("neg", (inner,), inner.shape), self.ndim(inner))
            if isinstance(node.op, ast.UAdd):
                return inner
        if isinstance(node, ast.Attribute) and node.attr == "T":
            return self.transpose(node)
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self.call(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        raise SympropError(f"syntax '{type(node).__name__}' is not allowed")

    def transpose(self, node: ast.Attribute) -> Op:
        """``.T``; NumPy leaves a 1-d vector as it is, which agrees with a book
        only as the left operand of ``@`` (xᵀW, xᵀy): elsewhere it is refused."""
        inner = self.at_most_2d(self.build(node.value), node.value, "'.T'")
        if inner.shape is None:
            return inner
        if not self.is_flat(inner):
            return self.mark(Op("T", (inner,), (inner.shape[1], inner.shape[0])), 2)
        if id(node) != self.free_T:
            x = _snippet(node.value)
            raise SympropError(
                f"'{x}.T': {x} is a 1-d vector, which NumPy leaves as it is when transposed (so a @ {x}.T "
                f"is the inner product, not a book's outer product a {x}ᵀ); write outer(a, {x}) for the outer "
                f"product, or give {x} as a list of lists: [[1], [2]] is a column, [[1, 2]] a row")
        self.unwrap.add(id(node))
        return inner

    def align(self, parts: list[Op], nodes: list, what: str) -> list[Op]:
        """NumPy's broadcasting of 1-d vectors against 2-d values: a 1-d vector
        lines up with the last axis, as a row (``X + b`` is X + 𝟙bᵀ).  Against
        an n×1 column a 1-d vector of n would make an n×n matrix, where a book
        means a column: refused."""
        if max(self.ndim(p) for p in parts) < 2:
            return parts
        if max(self.ndim(p) for p in parts) > 2:  # NumPy's rule along every axis: a 1-d vector is a row
            self.wrap ^= {id(node) for p, node in zip(parts, nodes) if self.is_flat(p)}
            return [T(p) if self.is_flat(p) else p for p in parts]
        out = []
        for p, node in zip(parts, nodes):
            if not self.is_flat(p):
                out.append(p)
                continue
            n = p.shape[0]
            for m in parts:
                if self.ndim(m) == 2 and m.shape is not None and (m.shape[1] != n or m.shape == (n, 1)):
                    if m.shape[1] == 1 and m.shape[0] != n:
                        continue  # NumPy's m×n, which no book reads otherwise
                    raise SympropError(_misaligned(what, node, n, m.shape))
            self.wrap ^= {id(node)}
            out.append(T(p))
        return out

    def elementwise(self, parts: list[Op], nodes: list, what: str) -> tuple[list[Op], Shape, int]:
        """The operands aligned as NumPy does, the result's shape and ndim."""
        ndim = max(self.ndim(p) for p in parts)
        parts = self.align(parts, nodes, what)
        shape = parts[0].shape
        for p in parts[1:]:
            try:
                shape = broadcast(shape, p.shape)
            except SympropError as e:
                raise SympropError(f"'{what}' {e}") from None
        return parts, shape, ndim

    def binary(self, node: ast.BinOp) -> Op:
        if isinstance(node.op, ast.MatMult):
            return self.matmul(node)
        a, b = self.build(node.left), self.build(node.right)
        symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}.get(type(node.op))
        if symbol is None:
            raise SympropError(f"operator {type(node.op).__name__} is not allowed")
        if symbol == "**":
            return self.mark(self.power_of(a, b), self.ndim(a))
        (a, b), shape, ndim = self.elementwise([a, b], [node.left, node.right], symbol)
        if symbol == "-":
            return self.mark(Op("add", (a, self.mark(Op("neg", (b,), b.shape), self.ndim(b))), shape), ndim)
        return self.mark(Op({"+": "add", "*": "mul", "/": "div"}[symbol], (a, b), shape), ndim)

    def power_of(self, a: Op, b: Op) -> Op:
        if b.shape is not None:
            raise SympropError("an exponent must be a scalar")
        if b.op == "num" or (b.op == "neg" and b.args[0].op == "num"):
            k = b.extra if b.op == "num" else -b.args[0].extra
            if abs(k) > MAX_EXPONENT:
                raise SympropError(f"exponent {k} is out of range (at most {MAX_EXPONENT})")
            if a.op == "num":  # a constant: folded, as the source means a number
                if a.extra != 0 and abs(k) * math.log10(abs(a.extra) + 1) > 300:
                    raise SympropError(f"number {a.extra}**{k} is too large")
                if isinstance(a.extra, int) and isinstance(k, int) and k >= 0:
                    return scalar(a.extra ** k)
            return Op("pow", (a,), a.shape, extra=k)
        return Op("powv", (a, b), a.shape)

    def matmul(self, node: ast.BinOp) -> Op:
        """``@`` as NumPy's matmul: a 1-d vector on the left is a row, on the
        right a column, and the result of either is 1-d (Wx, xᵀW, xᵀy)."""
        if isinstance(node.left, ast.Attribute) and node.left.attr == "T":
            self.free_T = id(node.left)
        a = self.at_most_2d(self.build(node.left), node.left, "'@'")
        b = self.at_most_2d(self.build(node.right), node.right, "'@'")
        da, db = self.ndim(a), self.ndim(b)
        if 0 in (da, db):
            raise SympropError(f"'@' multiplies vectors and matrices, but {_snippet(node.right if db == 0 else node.left)} "
                               f"is a scalar: write * for a product with a number")
        fa, fb = da == 1, db == 1
        ra, ca = (1, (a.shape or (1,))[0]) if fa else (a.shape or (1, 1))
        rb, cb = b.shape or (1, 1)
        if ca != rb:
            raise SympropError(f"'@' cannot multiply {describe(a.shape, fa)} by {describe(b.shape, fb)}"
                               if fa or fb else f"'@' cannot multiply {ra}x{ca} by {rb}x{cb}")
        ndim = 2 if da == db == 2 else (0 if da == db == 1 else 1)
        if not fa:
            return self.mark(matmul(a, b), ndim)
        self.wrap ^= {id(node.left)}
        row = matmul(T(a), b)
        if fb or row.shape is None:
            return self.mark(row, ndim)
        self.wrap ^= {id(node)}
        return self.mark(T(row), ndim)

    def call(self, node: ast.Call) -> Op:
        name = node.func.id
        if name not in self.functions:
            raise SympropError(f"unknown function '{name}'")
        axis = check_call(node)  # the arguments, as the spec's reader checked them
        args = node.args
        if name == "concat":
            return self.concat([self.build(a) for a in args])
        if name in _READERS:  # the courses' operations: one method each, by name
            return _READERS[name](self, node)
        if name in REDUCTIONS:
            return self.reduction(name, self.build(args[0]), axis)
        rule = RULES.get(name)
        count = rule.inputs if rule else 1
        inputs, shape, ndim = self.elementwise([self.build(a) for a in args[:count]], args[:count], f"{name}()")
        params = tuple(int(p) if p.is_Integer else float(p) for p in call_parameters(node)) if rule and rule.parameters else None
        return self.mark(Op("fn", tuple(inputs), shape, name=name, extra=params), ndim)


# The functions the reader builds with a method of its own, by name.
_READERS = {
    "outer": _Reader.outer_product, "corr2d": _Reader.corr2d, "conv1d": _Reader.conv1d, "conv2d": _Reader.conv2d,
    "pad": _Reader.pad, "max_pool2d": _Reader.max_pool, "flatten": _Reader.reshape, "reshape": _Reader.reshape,
    "transpose": _Reader.transpose_axes,
    **dict.fromkeys(LINALG, _Reader.linalg), **dict.fromkeys(COMPOSED, _Reader.composed),
    "where": _Reader.where, "onehot": _Reader.onehot, "cross_entropy": _Reader.cross_entropy,
    "range": _Reader.no_range, "arange": _Reader.no_range,
}


class _Columns(ast.NodeTransformer):
    """The text in the column reading: the nodes the reader noted become their
    operand (x.T of a 1-d x is x) or are transposed (b → b.T)."""

    def __init__(self, unwrap: set[int], wrap: set[int], rebuild: dict):
        self.unwrap, self.wrap, self.rebuild = unwrap, wrap, rebuild

    def visit(self, node):
        key = id(node)
        node = self.generic_visit(node)
        if key in self.rebuild:
            node = self.rebuild[key](node, self)
        if key in self.unwrap:
            node = node.value
        if key in self.wrap:
            node = ast.Attribute(node, "T", ast.Load())
        return node


