"""The equations are the graph: one node per equation, a whole scalar, vector
or matrix, as an expression tree of operations (``Op``).

``program_of(problem)`` reads every line once (the parser's syntax tree, then
the same whitelist as the scalar engine) into a ``Program``: the lines before
a recurrent cell, the cell for a generic t, the lines after it, and the loss.
Shapes are inferred from the values (or ``model.shapes``) line by line, so
reading costs one pass over the equations whatever the sizes, steps or depth.

An ``Op`` refers to named values by ``leaf`` (``name`` and, in the cell, a
``step`` offset from t: ``h[t-1]`` is ``leaf(h, -1)``) or ``at`` (a fixed step:
``h[3]``).  The algebra at the bottom (``T``, ``matmul``, ``mul`` …) builds
simplified expressions; the vector-Jacobian rules (``rules.py``) and the
printers work on these trees.
"""

import ast
import math
from dataclasses import dataclass, field, replace

import numpy as np
import sympy

from ..errors import SympropError
from ..model.functions import COMPARISONS, COMPOSED, LINALG, REDUCTIONS, RULES, built_in_names
from ..model.parse import MAX_EXPONENT, SOFTMAX, TIME, call_parameters, check_call, parse_syntax
from ..model.spec import LOSS, Problem

Shape = tuple[int, int] | None


@dataclass(frozen=True)
class Op:
    """A node of an expression tree.

    op: leaf, at (a named value at a fixed step), num, neg, T, add, mul
    (elementwise; a scalar or a row/column broadcasts), div, pow (a constant
    exponent in ``extra``), powv (any exponent), matmul, fn (``name``: an
    activation of one input, or max/min of two; ``extra``: the literal
    parameters, as leaky_relu's slope, or None), softmax / log_softmax / sum /
    mean (``extra``: the axis or None), concat,
    index (``extra``: (i,) an entry of a vector, ("row", i), or (i, j)),
    ones; and for derivations: adj (dL/d a named value), delta (dL/d the
    argument of an activation), diag and deriv (an activation's derivative
    with respect to one input, ``args`` its inputs and its output, ``extra`` =
    (the derivative in SymPy, the symbols that stand for ``args``), as a
    diagonal matrix or entry by entry).
    """

    op: str
    args: tuple = ()
    shape: Shape = None
    name: str = ""
    step: int | None = None
    extra: object = None


def one(shape) -> Shape:
    """A 1x1 counts as a scalar."""
    return None if shape in (None, (1, 1)) else tuple(shape)


def size(shape: Shape) -> int:
    return 1 if shape is None else shape[0] * shape[1]


def describe(shape: Shape, flat: bool = False) -> str:
    if shape is None:
        return "a 1-d vector of 1" if flat else "a scalar"
    return f"a 1-d vector of {shape[0]}" if flat else f"{shape[0]}x{shape[1]}"


def step_key(name: str, step: int | None) -> str:
    """``h[t]``, ``h[t-1]`` for an offset from t; ``name`` without one."""
    if step is None:
        return name
    return f"{name}[t]" if step == 0 else f"{name}[t{step:+d}]"


# The algebra: simplified constructors ------------------------------------------


def scalar(value) -> Op:
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, sympy.Integer):
        value = int(value)
    return Op("num", extra=value)


ONE = scalar(1)
ZERO = scalar(0)


def is_zero(m: Op) -> bool:
    return m.op == "num" and m.extra == 0


def number_of(v):
    if isinstance(v, sympy.Basic):
        return v
    return sympy.Integer(v) if isinstance(v, int) else sympy.Float(v)


def T(m: Op) -> Op:
    """The transpose, simplified: (Aᵀ)ᵀ = A, (AB)ᵀ = BᵀAᵀ, a scalar is its own."""
    if m.shape is None:
        return m
    if m.op == "T":
        return m.args[0]
    if m.op == "matmul":
        return matmul(T(m.args[1]), T(m.args[0]))
    if m.op == "neg":
        return neg(T(m.args[0]))
    if m.op == "mul" and m.args[0].shape is None:  # (s·X)ᵀ = Xᵀ·s
        return mul(T(m.args[1]), m.args[0])
    return Op("T", (m,), (m.shape[1], m.shape[0]))


def matmul(a: Op, b: Op) -> Op:
    if is_zero(a) or is_zero(b):
        return ZERO
    if a.shape is None or b.shape is None:
        return mul(a, b)
    return Op("matmul", (a, b), one((a.shape[0], b.shape[1])))


def broadcast(a: Shape, b: Shape) -> Shape:
    """The shape of an elementwise result, by NumPy's rule: along each axis the
    sizes are equal or one of them is 1, which is repeated (a scalar, a 1xm
    row or an nx1 column fits an nxm matrix; a column and a row make a matrix)."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    if all(x == y or 1 in (x, y) for x, y in zip(a, b)):
        return (max(a[0], b[0]), max(a[1], b[1]))
    raise SympropError(f"needs operands of the same shape, got {describe(a)} and {describe(b)}; "
                       "only an axis of size 1 is repeated to fit (NumPy's broadcasting)")


def add(a: Op, b: Op) -> Op:
    if is_zero(a):
        return b
    if is_zero(b):
        return a
    return Op("add", (a, b), broadcast(a.shape, b.shape))


def sub(a: Op, b: Op) -> Op:
    return add(a, neg(b))


def neg(a: Op) -> Op:
    if is_zero(a):
        return a
    if a.op == "num":
        return scalar(-a.extra)
    return a.args[0] if a.op == "neg" else Op("neg", (a,), a.shape)


def mul(a: Op, b: Op) -> Op:
    if is_zero(a) or is_zero(b):
        return ZERO
    if a == ONE:
        return b
    if b == ONE:
        return a
    if a.op == "ones" and b.shape == a.shape:  # 𝟙 ⊙ B = B
        return b
    if b.op == "ones" and a.shape is not None and a.shape == b.shape:
        return a
    if a.op == "mul" and a.args[1].op == "ones" and a.args[0].shape is None and b.shape == a.shape:
        return mul(a.args[0], b)  # (s·𝟙) ⊙ B = s·B
    if a.op == "num" and b.op == "num":
        return scalar(number_of(a.extra) * number_of(b.extra))
    if a.op == "num" and b.op == "mul" and b.args[0].op == "num":
        return mul(scalar(number_of(a.extra) * number_of(b.args[0].extra)), b.args[1])
    if a.op == "neg":
        return neg(mul(a.args[0], b))
    if b.op == "neg":
        return neg(mul(a, b.args[0]))
    if b.op == "num" and a.op != "num":  # numbers first: 2·x
        return mul(b, a)
    return Op("mul", (a, b), broadcast(a.shape, b.shape))


def div(a: Op, b: Op) -> Op:
    if is_zero(a):
        return ZERO
    if b == ONE:
        return a
    if b.op == "num":  # a/2 = ½·a, so that numbers meet and fold
        return mul(scalar(sympy.Integer(1) / number_of(b.extra)), a)
    return Op("div", (a, b), broadcast(a.shape, b.shape))


def power(a: Op, k) -> Op:
    if k == 1:
        return a
    if k == 0:
        return ONE if a.shape is None else Op("ones", shape=a.shape)
    return Op("pow", (a,), a.shape, extra=k)


def ones(shape: Shape) -> Op:
    return ONE if shape is None else Op("ones", shape=shape)


def shift(m: Op, by: int) -> Op:
    """The same expression ``by`` steps later (h[t-1] -> h[t])."""
    if m.op in ("leaf", "adj", "delta") and m.step is not None:
        return Op(m.op, m.args, m.shape, m.name, m.step + by, m.extra)
    if not m.args:
        return m
    return Op(m.op, tuple(shift(a, by) for a in m.args), m.shape, m.name, m.step, m.extra)


def leaves_of(m: Op):
    """Every leaf and fixed-step reference in the tree."""
    stack = [m]
    while stack:
        e = stack.pop()
        if e.op in ("leaf", "at"):
            yield e
        stack.extend(e.args)


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
    kind: str  # "param", "input", "sequence", "initial"
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

    @property
    def params(self) -> list[Leaf]:
        return [self.leaves[p] for p in self.problem.params]


def has_arrays(program: Program) -> bool:
    """Whether any value is a vector or a matrix, a 1x1 given as a list
    included (else the scalar story is told)."""
    problem = program.problem
    given = [v for value in problem.values.values() for v in (value if isinstance(value, list) else [value])]
    return (any(line.shape is not None for line in program.lines())
            or any(leaf.shape is not None for leaf in program.leaves.values())
            or any(isinstance(v, np.ndarray) for v in given) or bool(problem.shapes))


MAX_OP_ENTRIES = 10_000_000  # entries of one operation's value (80 MB of float64): W @ W.T of a 10000x10 W
MAX_PASS_OPERATIONS = 150_000  # operations in one pass: time steps × the cell's operations
MAX_PASS_NUMBERS = 10_000_000  # numbers one pass computes: time steps × the cell's results (about 250 MB kept)
MAX_PASS_WORK = 200_000_000  # multiply-adds of one pass (a tenth of a second of NumPy): checks run several


def _work(op: "Op") -> int:
    """The multiply-adds of one operation: its entries, times the inner size
    of a product, the kernel of a correlation, the side of an inverse or a determinant."""
    entries = math.prod(op.shape or (1, 1))
    if op.op == "matmul":
        return entries * (op.args[0].shape or (1, 1))[1]
    if op.op == "corr2d":
        return entries * math.prod(op.args[1].shape or (1, 1))
    if op.op in ("inv", "det", "logdet"):
        return (op.args[0].shape or (1, 1))[0] ** 3
    return entries


def program_of(problem: Problem) -> Program:
    """The problem's program, read once."""
    if "program" not in problem._cache:
        problem._cache["program"] = _within_budget(_Reader(problem).read())
    return problem._cache["program"]


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


def walk(e: "Op"):
    """Every node of an expression tree, without recursion."""
    stack = [e]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(x.args)


def _value_shape(value) -> Shape:
    return value.shape if isinstance(value, np.ndarray) else None


class _Reader:
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

    def _leaf(self, name: str, kind: str, key: str | None = None, shape: Shape = None) -> Leaf:
        key = key or name
        if key not in self.program.leaves:
            self.program.leaves[key] = Leaf(key, name, kind, shape, name in self.problem.matrices)
        return self.program.leaves[key]

    def mark(self, e: Op, ndim: int) -> Op:
        """``e``, noted with its number of dimensions in NumPy's reading; a value
        larger than one operation may make is refused before any work."""
        if e.shape is not None and e.shape[0] * e.shape[1] > MAX_OP_ENTRIES:
            raise SympropError(f"a value of {e.shape[0]}x{e.shape[1]} = {e.shape[0] * e.shape[1]} entries "
                               f"(the limit for one operation is {MAX_OP_ENTRIES})")
        self.ndims[id(e)] = (e, ndim)
        return e

    def ndim(self, e: Op) -> int:
        return self.ndims[id(e)][1] if id(e) in self.ndims else 0

    def is_flat(self, e: Op) -> bool:
        """A 1-d array of more than one entry (kept as a column)."""
        return e.shape is not None and self.ndim(e) == 1

    def given_ndim(self, name: str, given) -> int:
        """A number is 0-d, a list 1-d, a list of lists (or 2-d shapes) 2-d."""
        if name in self.problem.matrices:
            return 2
        if isinstance(given, list):
            given = given[-1] if given else None
        return 1 if isinstance(given, np.ndarray) or name in self.problem.shapes else 0

    def name(self, name: str) -> Op:
        if name in self.current:
            key = self.current[name]
            return self.mark(Op("leaf", shape=self.program.shape_of(key), name=key), self.names_ndim[key])
        if name in self.sequences:
            raise SympropError(f"'{name}' changes with time; write {name}[t] or {name}[t-1]")
        if name in {e.target for e in self.problem.equations}:
            raise SympropError(f"'{name}' is used before it is assigned")
        kind = "param" if name in self.problem.params else "input"
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
        leaf = self._leaf(name, "sequence", shape=self._given_shape(name))
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
        kind = "initial" if name in self.problem.initial else "input"
        self._leaf(name, kind, key=f"{name}[0]", shape=shape)

    # Lines ----------------------------------------------------------------------

    def read(self) -> Program:
        problem, program = self.problem, self.program
        for name in problem.params:
            self._leaf(name, "param", shape=self._given_shape(name))
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
            tree = parse_syntax(text)
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
        inner = self.build(node.value)
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
        a, b = self.build(node.left), self.build(node.right)
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

    def outer_product(self, node: ast.Call) -> Op:
        """outer(a, b) = a bᵀ of two vectors (or scalars), a matrix, as NumPy's outer."""
        a, b = (self.build(x) for x in node.args)
        for x, arg in ((a, node.args[0]), (b, node.args[1])):
            if self.ndim(x) == 2:
                raise SympropError(f"outer() takes vectors, but {_snippet(arg)} is {describe(x.shape)}")
        self.rebuild[id(node)] = lambda n, _: ast.BinOp(n.args[0], ast.MatMult(), ast.Attribute(n.args[1], "T", ast.Load()))
        return self.mark(matmul(a, T(b)), 2)

    def corr2d(self, node: ast.Call) -> Op:
        """corr2d(X, K) as d2l's: Y[i, j] = Σ_ab X[i + a, j + b]·K[a, b] (stride 1, no
        padding), PyTorch's conv2d of one channel."""
        x, k = (self.build(a) for a in node.args)
        for v, arg in ((x, node.args[0]), (k, node.args[1])):
            if self.ndim(v) != 2:
                raise SympropError(f"corr2d() takes matrices (lists of lists), but {_snippet(arg)} is "
                                   f"{describe(v.shape, self.ndim(v) == 1)}")
        (h, w), (kh, kw) = x.shape or (1, 1), k.shape or (1, 1)
        if kh > h or kw > w:
            raise SympropError(f"corr2d(): a {kh}x{kw} kernel does not fit in {h}x{w}")
        return self.mark(Op("corr2d", (x, k), one((h - kh + 1, w - kw + 1))), 2)

    def reshape(self, node: ast.Call) -> Op:
        """NumPy's flatten and reshape, row by row (C order); a 1-d result is kept as a column."""
        name, x = node.func.id, self.build(node.args[0])
        sizes = [a.value for a in node.args[1:]]
        rows, cols = x.shape or (1, 1)
        if self.ndim(x) == 1:
            rows, cols = cols, rows  # a 1-d vector is one row of entries, in NumPy's order
        target = [rows * cols] if name == "flatten" else sizes
        if math.prod(target) != rows * cols:
            raise SympropError(f"cannot reshape {describe(x.shape, self.ndim(x) == 1)} into "
                               f"{'x'.join(map(str, target))}: the number of entries differs")
        shape = (target[0], 1) if len(target) == 1 else tuple(target)
        self.rebuild[id(node)] = lambda n, _: ast.Call(ast.Name("reshape", ast.Load()), [
            n.args[0], *(ast.Constant(v) for v in shape)], [])
        written = "flatten" if name == "flatten" else ", ".join(map(str, sizes))  # as the text prints it
        return self.mark(Op("reshape", (x,), one(shape), name=written, extra=shape), len(target))

    def conv2d(self, node: ast.Call) -> Op:
        """conv2d(X, K, stride, padding) as PyTorch's F.conv2d of one channel: corr2d of
        X padded with zeros, every stride-th entry (read, and printed, as that)."""
        x, k = (ast.unparse(a) for a in node.args[:2])
        stride, padding = [a.value for a in node.args[2:]] + [1, 0][len(node.args) - 2:]
        text = f"corr2d(pad({x}, {padding}), {k})" if padding else f"corr2d({x}, {k})"
        return self.read_as(node, f"({text})[::{stride}, ::{stride}]" if stride > 1 else text)

    def pad(self, node: ast.Call) -> Op:
        """NumPy's np.pad(X, p) with zeros: p on every side (a 1-d vector at both ends)."""
        x, p = self.build(node.args[0]), node.args[1].value
        rows, cols = x.shape or (1, 1)
        ndim = max(self.ndim(x), 1)
        q = p if ndim == 2 else 0  # a 1-d vector is kept as a column: only its rows grow
        self.rebuild[id(node)] = lambda n, _: ast.Call(ast.Name("pad", ast.Load()), [
            n.args[0], ast.Constant(p), ast.Constant(q)], [])
        return self.mark(Op("pad", (x,), one((rows + 2 * p, cols + 2 * q)), name=str(p), extra=(p, q)), ndim)

    def conv1d(self, node: ast.Call) -> Op:
        """conv1d(x, k) of two 1-d vectors: y[i] = Σ_a x[i + a]·k[a], PyTorch's conv1d of one channel."""
        x, k = (self.build(a) for a in node.args)
        for v, arg in ((x, node.args[0]), (k, node.args[1])):
            if self.ndim(v) != 1:
                raise SympropError(f"conv1d() takes vectors (lists), but {_snippet(arg)} is "
                                   f"{describe(v.shape, False)}")
        n, m = (x.shape or (1, 1))[0], (k.shape or (1, 1))[0]
        if m > n:
            raise SympropError(f"conv1d(): a kernel of {m} does not fit in a vector of {n}")
        self.rebuild[id(node)] = lambda c, _: ast.Call(ast.Name("corr2d", ast.Load()), c.args, [])
        return self.mark(Op("corr2d", (x, k), one((n - m + 1, 1)), name="conv1d"), 1)

    def linalg(self, node: ast.Call) -> Op:
        """inv, det, logdet and trace of a square matrix, as numpy.linalg."""
        name, a = node.func.id, self.build(node.args[0])
        if self.ndim(a) != 2 or (a.shape is not None and a.shape[0] != a.shape[1]):
            raise SympropError(f"{name}() takes a square matrix (a list of lists), but {_snippet(node.args[0])} "
                               f"is {describe(a.shape, self.ndim(a) == 1)}")
        if a.shape is None:  # a 1x1 matrix: its inverse 1/a, its determinant and trace a
            return self.read_as(node, {"inv": "1 / ({})", "logdet": "log({})"}.get(name, "{}").format(
                ast.unparse(node.args[0])))
        return self.mark(Op(name, (a,), a.shape if name == "inv" else None), 2 if name == "inv" else 0)

    def max_pool(self, node: ast.Call) -> Op:
        """max_pool2d(X, k[, stride]) as PyTorch's F.max_pool2d of one channel (stride k
        by default): the largest entry of each window; its gradient goes to that entry."""
        x = self.build(node.args[0])
        k = node.args[1].value
        stride = node.args[2].value if len(node.args) > 2 else k
        if self.ndim(x) != 2:
            raise SympropError(f"max_pool2d() takes a matrix (a list of lists), but {_snippet(node.args[0])} is "
                               f"{describe(x.shape, self.ndim(x) == 1)}")
        h, w = x.shape or (1, 1)
        if k > h or k > w:
            raise SympropError(f"max_pool2d(): a {k}x{k} window does not fit in {h}x{w}")
        shape = one(((h - k) // stride + 1, (w - k) // stride + 1))
        return self.mark(Op("max_pool", (x,), shape, extra=(k, stride)), 2)

    def compare(self, node: ast.Compare) -> Op:
        """``a < b`` (also <=, >, >=): 1 where it holds and 0 elsewhere, as
        NumPy's booleans count, a constant of the parameters (its derivative is 0)."""
        if len(node.ops) != 1:
            raise SympropError("a chain of comparisons is not allowed: compare two values at a time")
        kind = type(node.ops[0]).__name__
        if kind not in COMPARISONS:
            raise SympropError(f"a comparison is <, <=, > or >=, got {kind}")
        relation, h0 = COMPARISONS[kind]
        (a, b), shape, ndim = self.elementwise([self.build(node.left), self.build(node.comparators[0])],
                                               [node.left, node.comparators[0]], relation)

        def heaviside(n: ast.Compare, _) -> ast.AST:  # [a < b] = H(b - a) with H(0) = 0; [a <= b] with H(0) = 1
            left, right = n.left, n.comparators[0]
            d = ast.BinOp(right, ast.Sub(), left) if relation in ("<", "<=") else ast.BinOp(left, ast.Sub(), right)
            return ast.Call(ast.Name("heaviside", ast.Load()), [d, ast.Constant(h0)], [])

        self.rebuild[id(node)] = heaviside
        return self.mark(Op("cmp", (a, b), shape, extra=relation), ndim)

    def composed(self, node: ast.Call) -> Op:
        """A function that is its definition (var, std, norm): read as that text."""
        axis = check_call(node)
        return self.read_as(node, COMPOSED[node.func.id].format(
            x=ast.unparse(node.args[0]), y=ast.unparse(node.args[-1]), axis="" if axis is None else f", {axis}"))

    def read_as(self, node, text: str) -> Op:
        """``node`` read as ``text`` means (its definition), in the text both engines read."""
        body = parse_syntax(text).body
        self.rebuild[id(node)] = lambda n, columns: columns.visit(body)
        return self.build(body)

    def onehot(self, node: ast.Call) -> Op:
        """onehot(y, C): row i is 1 at column y_i (whole numbers from 0 to C − 1), as F.one_hot."""
        y, classes = self.build(node.args[0]), node.args[1].value
        if self.ndim(y) == 2:
            raise SympropError(f"onehot() takes labels as a list (1-d), but {_snippet(node.args[0])} is "
                               f"{describe(y.shape)}")
        return self.mark(Op("onehot", (y,), one(((y.shape or (1,))[0], classes)), extra=classes), 2)

    def cross_entropy(self, node: ast.Call) -> Op:
        """cross_entropy(Z, y) as PyTorch's F.cross_entropy: logits Z (a row per
        sample), integer labels y, the mean over the rows."""
        z_text, y_text = (ast.unparse(a) for a in node.args)
        z = self.build(node.args[0])
        if self.ndim(z) == 0:
            raise SympropError("cross_entropy() takes logits as a vector or a matrix (a row per sample)")
        if self.ndim(z) == 1:
            return self.read_as(node, f"-sum(log_softmax({z_text}) * onehot({y_text}, {z.shape[0]}))")
        classes = z.shape[1] if z.shape else 1
        return self.read_as(node, f"-mean(sum(log_softmax({z_text}, 1) * onehot({y_text}, {classes}), 1))")

    def no_range(self, node: ast.Call) -> Op:
        raise SympropError(f"{node.func.id}() picks the rows of a gather: write P[{node.func.id}(N), y]")

    def gather(self, node: ast.Subscript, value: Op) -> Op:
        """NumPy's P[range(N), y]: entry y_i of row i, a 1-d vector of N."""
        picks, labels = node.slice.elts
        count = picks.args[0].value if picks.args and isinstance(picks.args[0], ast.Constant) else None
        if self.ndim(value) != 2 or value.shape is None or count != value.shape[0]:
            raise SympropError(f"{_snippet(node)}: a gather takes every row of a matrix, "
                               f"P[range(N), y] with N its number of rows")
        text = f"sum({ast.unparse(node.value)} * onehot({ast.unparse(labels)}, {value.shape[1]}), 1)"
        return self.mark(replace(self.read_as(node, text)), 1)

    def where(self, node: ast.Call) -> Op:
        """NumPy's where(a < b, x, y): x where the comparison holds, y elsewhere,
        written m ⊙ x + (1 − m) ⊙ y; the gradient goes to the branch taken, as in PyTorch."""
        if not isinstance(node.args[0], ast.Compare):
            raise SympropError("where() takes a comparison first: where(a < b, x, y)")
        parts = [self.build(a) for a in node.args]
        ndim = max(self.ndim(p) for p in parts)
        (m, x, y), shape, _ = self.elementwise(parts, node.args, "where()")
        rest = Op("add", (ONE, Op("neg", (m,), m.shape)), m.shape)
        chosen = Op("mul", (m, x), broadcast(m.shape, x.shape))
        other = Op("mul", (rest, y), broadcast(m.shape, y.shape))
        self.rebuild[id(node)] = lambda n, _: ast.BinOp(
            ast.BinOp(n.args[0], ast.Mult(), n.args[1]), ast.Add(),
            ast.BinOp(ast.BinOp(ast.Constant(1), ast.Sub(), n.args[0]), ast.Mult(), n.args[2]))
        return self.mark(Op("add", (chosen, other), shape), ndim)

    def concat(self, parts: list[Op]) -> Op:
        for k, p in enumerate(parts, start=1):
            if p.shape is not None and p.shape[1] != 1:
                raise SympropError(f"concat() stacks column vectors and scalars, but argument {k} "
                                   f"is {describe(p.shape)}")
        rows = sum((p.shape or (1, 1))[0] for p in parts)
        return self.mark(Op("concat", tuple(parts), one((rows, 1))), 2 if max(map(self.ndim, parts)) == 2 else 1)

    def reduction(self, name: str, arg: Op, axis: int | None) -> Op:
        ndim = self.ndim(arg)
        if axis is not None and axis >= max(ndim, 1):  # NumPy takes axis 0 of a scalar
            what = "a scalar" if ndim == 0 else "a 1-d vector (its only axis is 0)"
            raise SympropError(f"{name}(): axis {axis} does not exist for {what}")
        if name in SOFTMAX:
            if axis is None and (arg.shape is None or arg.shape[1] != 1):
                raise SympropError(f"{name}() needs a column vector, got {describe(arg.shape)}")
            return self.mark(Op(name, (arg,), arg.shape, extra=axis), ndim)
        if arg.shape is None:  # a scalar, or one entry (NumPy's sum of a (1,) is 0-d, keepdims keeps it)
            return arg if ndim == 0 or axis is not None else Op(name, (arg,), None)
        if axis is None:
            return Op(name, (arg,), None)
        rows, cols = arg.shape
        return self.mark(Op(name, (arg,), one((rows, 1) if axis == 1 else (1, cols)), extra=axis), ndim)

    def subscript(self, node: ast.Subscript) -> Op:
        base = node.value
        if isinstance(base, ast.Name) and (base.id in self.sequences or base.id in self.cell_names):
            step, relative = self.index(node.slice, allow_time=True)
            if relative and not self.in_cell:
                raise SympropError("'t' can only be used in the [t] lines and a per-step loss")
            return self.at_step(base.id, step, relative)
        value = self.build(base)
        if isinstance(node.slice, ast.Tuple) and len(node.slice.elts) == 2 and isinstance(
                node.slice.elts[0], ast.Call) and getattr(node.slice.elts[0].func, "id", "") in ("range", "arange"):
            return self.gather(node, value)
        if isinstance(node.slice, ast.Tuple | ast.Slice):
            return self.take(node, value)
        i, _ = self.index(node.slice, allow_time=False)
        ndim = self.ndim(value)
        if ndim == 0:
            raise SympropError("cannot index a scalar")
        if value.shape is None:  # one entry: NumPy's (1,)[0] or (1, 1)[0]
            if i not in (0, -1):
                raise SympropError(f"index {i} is out of range for a value of one entry")
            return self.mark(replace(value), ndim - 1)
        rows, cols = value.shape
        if ndim == 1 or cols == 1:
            i = i + rows if i < 0 else i
            if not 0 <= i < rows:
                raise SympropError(f"index {i} is out of range for {describe(value.shape, ndim == 1)}")
            return self.mark(Op("index", (value,), None, extra=(i,)), ndim - 1)
        if i < 0:
            i += rows
        if rows == 1:  # NumPy: a 1xn row's [0] is the row itself, as a 1-d vector
            if i != 0:
                raise SympropError(f"index {i} is out of range for 1x{cols} (a row: [0] is the whole row, "
                                   f"[0][j] its entry j)")
            self.unwrap.add(id(node))
            self.wrap ^= {id(node)}
            return self.mark(T(value), 1)
        if not 0 <= i < rows:
            raise SympropError(f"row {i} is out of range for {rows}x{cols}")
        self.wrap ^= {id(node)}  # a row of a matrix is a 1-d vector: kept as a column
        return self.mark(T(Op("index", (value,), (1, cols), extra=("row", i))), 1)

    def take(self, node: ast.Subscript, value: Op) -> Op:
        """NumPy's basic indexing with slices: ``theta[1:]``, ``X[:, 0]``,
        ``W[1, 2]``, ``X[1:, ::2]``; an integer drops its axis, a slice keeps it."""
        ndim = self.ndim(value)
        keys = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if ndim == 0:
            raise SympropError("cannot index a scalar")
        if len(keys) > ndim:
            raise SympropError(f"too many indices: {_snippet(node.value)} has {ndim} dimension{'s' * (ndim > 1)}")
        rows, cols = value.shape or (1, 1)
        sizes = [rows] if ndim == 1 else [rows, cols]
        picks = [_picks(k, n) for k, n in zip(keys + [ast.Slice()] * (ndim - len(keys)), sizes)]
        kept = sum(isinstance(k, ast.Slice) for k in keys) + ndim - len(keys)
        taken = (picks[0][0], picks[1][0] if ndim == 2 else (0,))
        text = ast.unparse(node)[len(ast.unparse(node.value)):]
        out = Op("take", (value,), one((len(taken[0]), len(taken[1]))), name=text, extra=taken)
        self.rebuild[id(node)] = lambda n, _: ast.Subscript(n.value, ast.Tuple(
            [_slice_of(p) for p in taken], ast.Load()), ast.Load())
        if ndim == 2 and kept == 1 and not isinstance(keys[0], ast.Slice):  # X[i, a:b]: a row, kept as a column
            self.wrap ^= {id(node)}
            out = T(out)
        return self.mark(out, kept)

    def index(self, node, allow_time: bool) -> tuple[int, bool]:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and not allow_time:
            i, _ = self.index(node.operand, False)
            return -i, False
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value, False
        if isinstance(node, ast.Name) and node.id == TIME and allow_time:
            return 0, True
        if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub)
                and isinstance(node.left, ast.Name) and node.left.id == TIME and allow_time
                and isinstance(node.right, ast.Constant) and type(node.right.value) is int):
            return (node.right.value if isinstance(node.op, ast.Add) else -node.right.value), True
        raise SympropError("an index must be a whole number, t, or t-k")


def _picks(key, n: int) -> tuple[tuple[int, ...], bool]:
    """The positions an index or a slice of literal integers picks along an
    axis of n, as Python counts them (negative from the end)."""
    if isinstance(key, ast.Slice):
        bounds = [None if part is None else _integer(part) for part in (key.lower, key.upper, key.step)]
        if bounds[2] == 0:
            raise SympropError("a slice step cannot be zero")
        picked = tuple(range(n)[slice(*bounds)])
        if not picked:
            raise SympropError(f"the slice {ast.unparse(key)} picks nothing of {n}")
        return picked, True
    i = _integer(key)
    if not -n <= i < n:
        raise SympropError(f"index {i} is out of range for an axis of {n}")
    return (i % n,), False


def _integer(node) -> int:
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1, node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sign * node.value
    raise SympropError(f"an index must be a whole number, got {_snippet(node)}")


def _slice_of(picked: tuple[int, ...]) -> ast.Slice:
    """Positions in even steps as a slice the scalar engine reads: 3:0:-1 is 3, 2, 1."""
    step = picked[1] - picked[0] if len(picked) > 1 else 1
    stop = picked[-1] + step
    number = lambda v: None if v is None else ast.Constant(v)  # noqa: E731
    return ast.Slice(number(picked[0]), number(None if stop < 0 else stop), number(step))


def _misaligned(what: str, node, n: int, shape: Shape) -> str:
    """Why a 1-d vector of n does not fit a 2-d operand, and both ways to write it."""
    b = _snippet(node)
    if shape == (n, 1):  # NumPy's n×n, a book's column
        fix = (f"give {b} as a column, [[1], [2]], or the column as a list" if isinstance(node, ast.Name)
               else f"give the column as a list (1-d), or the values {b} is made of as columns")
        return (f"'{what}': {b} is a 1-d vector of {n}, which NumPy lines up with the last axis, as a row, "
                f"so with the {n}x1 column it makes {n}x{n} entries where a book means a column: {fix}")
    fix = (f"for a column give {b} as a list of lists, one number a row: [[1], [2]]" if isinstance(node, ast.Name)
           else f"for a column give the values {b} is made of as lists of lists")
    return (f"'{what}': {b} is a 1-d vector of {n}, which NumPy lines up with the last axis, as a row "
            f"(1x{n}), and the other operand is {describe(shape)}; {fix}")


def _snippet(node) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 30 else text[:27] + "..."


# The functions the reader builds with a method of its own, by name.
_READERS = {
    "outer": _Reader.outer_product, "corr2d": _Reader.corr2d, "conv1d": _Reader.conv1d, "conv2d": _Reader.conv2d,
    "pad": _Reader.pad, "max_pool2d": _Reader.max_pool, "flatten": _Reader.reshape, "reshape": _Reader.reshape,
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


def _mentions_time(node) -> bool:
    return any(isinstance(n, ast.Name) and n.id == TIME for n in ast.walk(node.slice))
