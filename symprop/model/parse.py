"""The only way user text becomes SymPy.

``ast.parse(mode="eval")`` reads the text as Python syntax; a whitelist of node
types, names and functions then builds SymPy objects directly.  Nothing here
calls ``eval``, ``exec``, ``sympify`` or ``parse_expr``; a name is looked up in
the scope the caller gives, a function in the rule table.  Size, depth and
literal limits keep hostile text from taking time or memory.

A value is a SymPy scalar expression or an ``ImmutableMatrix`` of them (a list
is a column vector).  ``+ - * / **`` act entry by entry, a scalar combining
with every entry and a 1xm row or an nx1 column repeated to fit an nxm matrix
(NumPy's broadcasting of a row or a column); ``@`` is the matrix product; a
1x1 matrix counts as a scalar.  ``softmax``, ``log_softmax``, ``sum`` and
``mean`` take an optional axis (1: each row, 0: each column; the result keeps
two dimensions); ``concat`` stacks column vectors and scalars into one column
vector; ``max`` and ``min`` take two values (shaped as for ``+``), and
``leaky_relu``/``elu`` an optional literal number (slope, alpha).
"""

import ast
import functools
import keyword
import re
from dataclasses import dataclass
from typing import Protocol

import sympy
from sympy import ImmutableMatrix

from ..errors import SympropError
from .functions import (
    COMPOSED,
    LINALG,
    POOLING,
    REDUCTIONS,
    RULES,
    STACKING,
    built_in_names,
    heaviside,
)
from .functions import number as sympy_number
from .reading import MAX_AXES

MAX_TEXT = 10_000  # characters in one expression
MAX_DEPTH = 60  # nesting of the syntax tree
MAX_NODES = 2_000  # syntax tree nodes in one expression
MAX_LITERAL = 1e100  # absolute value of a number written in the text
MAX_EXPONENT = 1_000  # a numeric exponent
MAX_ENTRIES = 10_000  # entries of a matrix built while evaluating
SOFTMAX = ("softmax", "log_softmax")  # reductions that keep the shape and need a column without an axis

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
TIME = "t"
LOSS = "L"  # the loss, and its per-step values L[t]

Value = sympy.Expr | ImmutableMatrix


class Scope(Protocol):
    """What names mean while an expression is built."""

    recurrent: bool  # inside the [t] lines of a recurrent model

    def lookup(self, name: str) -> Value:
        """The value of a plain name; raise SympropError when there is none."""

    def is_sequence(self, name: str) -> bool:
        """Whether ``name[k]`` picks a time step rather than an entry."""

    def at_step(self, name: str, step: int, relative: bool) -> Value:
        """The value of ``name`` at step ``t + step`` (relative) or ``step``."""


@dataclass(frozen=True)
class Functions:
    """The callable names: the rule table plus the problem's undefined ones."""

    undefined: dict[str, type]

    def names(self) -> set[str]:
        return built_in_names() | set(self.undefined)


def shape_of(value: Value) -> tuple[int, int] | None:
    return value.shape if isinstance(value, ImmutableMatrix) else None


def describe_shape(value: Value) -> str:
    shape = shape_of(value)
    return "a scalar" if shape is None else f"{shape[0]}x{shape[1]}"


def as_scalar(value: Value) -> Value:
    """A 1x1 matrix counts as a scalar."""
    if isinstance(value, ImmutableMatrix) and value.shape == (1, 1):
        return value[0, 0]
    return value


def parse_expression(text: str, scope: Scope, functions: Functions) -> Value:
    """Build the SymPy value of ``text``; raise SympropError with one line."""
    tree = parse_syntax(text)
    return _Builder(scope, functions).build(tree.body)


def parse_syntax(text: str) -> ast.Expression:
    """Python syntax for one expression, within the size and depth limits: each
    text is parsed once, and every layer reads the same tree (which no reader
    changes; one that rewrites it works on its own copy)."""
    if not isinstance(text, str):
        raise SympropError("expected an expression as a string")
    return _parsed(text)


@functools.lru_cache(maxsize=4096)
def _parsed(text: str) -> ast.Expression:
    """``parse_syntax`` of a string, kept (an error is raised again each time)."""
    if not isinstance(text, str):
        raise SympropError("expected an expression as a string")
    if len(text) > MAX_TEXT:
        raise SympropError(f"expression is {len(text)} characters long (the limit is {MAX_TEXT})")
    if not text.strip():
        raise SympropError("empty expression")
    if "\n" in text.strip() or "\r" in text:
        raise SympropError("an expression must be on one line")
    if "#" in text:  # free text would reach the documents
        raise SympropError(f"a comment (#) is not allowed in an expression (column {text.index('#') + 1})")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        for m in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", text.strip()):
            if keyword.iskeyword(m.group()) and m.group() not in ("and", "or", "not", "if", "else"):
                raise SympropError(f"{keyword_message(m.group())} (column {m.start() + 1})") from None
        where = f" at column {e.offset}" if e.offset else ""
        raise SympropError(f"syntax error{where}: {e.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise SympropError(f"expression is nested too deeply (the limit is {MAX_DEPTH})") from None
    _check_size(tree)
    return tree


def keyword_message(name: str) -> str:
    """A Python keyword used as a name, and what to write instead."""
    instead = "lambda_ or lamda (both print λ)" if name == "lambda" else f"{name}_"
    return f"'{name}' is a Python keyword and cannot be a name: write {instead}"


def _check_size(tree: ast.AST) -> None:
    """Within MAX_NODES parts and MAX_DEPTH levels, where a chain such as
    ``a + b - c + d`` counts as one level (the builder walks it in a loop)."""
    count = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += isinstance(node, ast.expr)  # a part: a number, a name, an operation, a call
        if depth > MAX_DEPTH:
            raise SympropError(f"expression is nested too deeply (the limit is {MAX_DEPTH})")
        if count > MAX_NODES:
            raise SympropError(f"expression is too large (more than {MAX_NODES} parts)")
        for child in ast.iter_child_nodes(node):
            chained = isinstance(node, ast.BinOp) and child is node.left
            stack.append((child, depth if chained else depth + 1))


_ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Call, ast.Attribute,
    ast.Subscript, ast.Load, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult,
    ast.USub, ast.UAdd, ast.Compare, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Slice, ast.Tuple,
)


def check_syntax(text: str, function_names: set[str]) -> None:
    """Reject, before anything is built, every construct the builder would."""
    tree = parse_syntax(text)
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Eq | ast.NotEq):
            raise SympropError(f"{_describe(node)} is not allowed: compare with <, <=, > or >=")
        if not isinstance(node, _ALLOWED):
            raise SympropError(f"{_describe(node)} is not allowed{_column(node)}")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise SympropError(f"{_describe(node)} is not allowed{_column(node)}")
            if not abs(node.value) <= MAX_LITERAL:
                raise SympropError(f"number {_short(node.value)} is too large{_column(node)}")
        if isinstance(node, ast.Attribute) and node.attr != "T":
            raise SympropError(f"attribute '.{node.attr}' is not allowed (only .T){_column(node)}")
        if isinstance(node, ast.Compare) and len(node.ops) != 1:
            raise SympropError(f"a chain of comparisons is not allowed: compare two values at a time{_column(node)}")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise SympropError(f"only named functions can be called{_column(node)}")
            if node.func.id not in function_names:
                known = ", ".join(sorted(function_names))
                raise SympropError(
                    f"unknown function '{node.func.id}'{_column(node)} (known: {known})"
                )
            calls.append(node)
    for node in calls:  # after the walk, which names a keyword argument as not allowed
        check_call(node)


def names_in(text: str) -> set[str]:
    """Every plain name the expression mentions (not functions, not ``t``)."""
    tree = parse_syntax(text)
    callees = {
        n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - callees - {TIME}


def time_indexed_names(text: str) -> set[str]:
    """Names subscripted by an index that mentions ``t`` (``x[t]``, ``h[t-1]``)."""
    tree = parse_syntax(text)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            if any(isinstance(n, ast.Name) and n.id == TIME for n in ast.walk(node.slice)):
                found.add(node.value.id)
    return found


_BINARY = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.MatMult: "@",
}


_COMBINE = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}

FLOAT_MAX = 1.7976931348623157e308  # the largest float64


def constant_value(text: str, known: dict[str, sympy.Float]) -> sympy.Float | None:
    """The value of an expression made of numbers and of names in ``known``
    (constants of earlier lines), None when it depends on anything else.
    Every constant part must be a real float64: ``10**100**3``, ``log(-1)``
    or ``1/0`` is refused here, before any work, with the part named."""
    return _Folder(known).fold(parse_syntax(text).body)


class _Folder:
    """Numbers as SymPy floats (whose exponent never overflows, so a huge
    constant is measured, not computed exactly), checked after each step."""

    def __init__(self, known: dict[str, sympy.Float]):
        self.known = known

    def fold(self, node: ast.AST) -> sympy.Float | None:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return sympy.Float(node.value)
        if isinstance(node, ast.Name):
            return self.known.get(node.id)
        if isinstance(node, ast.UnaryOp):
            value = self.fold(node.operand)
            return None if value is None else -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in RULES:
            rule = RULES[node.func.id]
            inputs = [self.fold(a) for a in node.args[: rule.inputs]]
            if len(inputs) != rule.inputs or None in inputs or len(node.args) > rule.inputs + len(rule.parameters):
                return None
            return self.check(rule.apply(*inputs, *call_parameters(node)), node)
        if isinstance(node, ast.BinOp):
            chain = []  # a left-nested chain in a loop, as the builder does
            while isinstance(node, ast.BinOp):
                chain.append(node)
                node = node.left
            value = self.fold(node)
            for link in reversed(chain):
                right = self.fold(link.right)
                op = _BINARY.get(type(link.op))
                if value is None or right is None or op not in _COMBINE:
                    value = None
                    continue
                try:
                    value = self.check(_COMBINE[op](value, right), link)
                except ZeroDivisionError:
                    raise SympropError(f"{_text(link)} divides by zero{_column(link)}") from None
            return value
        return None

    @staticmethod
    def check(value: sympy.Expr, node: ast.AST) -> sympy.Float:
        value = _real(sympy.N(value, 15), node)
        if abs(value) > FLOAT_MAX:
            raise SympropError(
                f"{_text(node)} is about {sympy.Float(value, 3)}, beyond float64 (at most 1.8e308){_column(node)}"
            )
        return value


class _Builder:
    def __init__(self, scope: Scope, functions: Functions):
        self.scope = scope
        self.functions = functions

    def build(self, node: ast.AST) -> Value:
        method = getattr(self, f"_build_{type(node).__name__}", None)
        if method is None:
            raise SympropError(f"{_describe(node)} is not allowed{_column(node)}")
        return method(node)

    # Leaves -----------------------------------------------------------------

    def _build_Constant(self, node: ast.Constant) -> Value:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SympropError(f"{_describe(node)} is not allowed{_column(node)}")
        if not abs(value) <= MAX_LITERAL:  # also catches inf and nan
            raise SympropError(f"number {_short(value)} is too large{_column(node)}")
        return sympy.Integer(value) if isinstance(value, int) else sympy.Float(value)

    def _build_Name(self, node: ast.Name) -> Value:
        if node.id == TIME:
            raise SympropError(f"'t' is the time index and can only be used inside [ ]{_column(node)}")
        if node.id in self.functions.names():
            raise SympropError(f"'{node.id}' is a function; call it as {node.id}(...){_column(node)}")
        if self.scope.is_sequence(node.id):
            raise SympropError(
                f"'{node.id}' changes with time; write {node.id}[t] or {node.id}[t-1]{_column(node)}"
            )
        return self.scope.lookup(node.id)

    # Operators --------------------------------------------------------------

    def _build_UnaryOp(self, node: ast.UnaryOp) -> Value:
        operand = self.build(node.operand)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise SympropError(f"operator {type(node.op).__name__} is not allowed{_column(node)}")

    def _build_BinOp(self, node: ast.BinOp) -> Value:
        chain = []  # a + b - c + d is ((a + b) - c) + d: built in a loop, not by recursion
        while isinstance(node, ast.BinOp):
            chain.append(node)
            node = node.left
        value = self.build(node)
        for link in reversed(chain):
            value = _real(self._binary(link, value, self.build(link.right)), link)
        return value

    def _binary(self, node: ast.BinOp, left: Value, right: Value) -> Value:
        op = _BINARY.get(type(node.op))
        if op is None:
            raise SympropError(f"operator {type(node.op).__name__} is not allowed{_column(node)}")
        if op == "@":
            return self._matmul(left, right, node)
        left, right = as_scalar(left), as_scalar(right)
        if op == "**":
            _check_power(left, right, node)
        combine = _COMBINE[op]
        ls, rs = shape_of(left), shape_of(right)
        if ls is None and rs is None:
            return combine(left, right)
        rows, cols = _broadcast(ls, rs, op, node)
        return ImmutableMatrix(
            rows, cols, lambda i, j: combine(_spread(left, i, j), _spread(right, i, j))
        )

    def _matmul(self, left: Value, right: Value, node: ast.AST) -> Value:
        # A scalar is a 1x1 matrix here too, so W @ h works for one hidden unit.
        left = left if isinstance(left, ImmutableMatrix) else ImmutableMatrix([[left]])
        right = right if isinstance(right, ImmutableMatrix) else ImmutableMatrix([[right]])
        ls, rs = left.shape, right.shape
        if ls[1] != rs[0]:
            raise SympropError(
                f"'@' cannot multiply {describe_shape(left)} by {describe_shape(right)}{_column(node)}"
            )
        _check_entries(ls[0] * rs[1] * ls[1], node)
        return as_scalar(ImmutableMatrix(left * right))

    # Calls, attributes, subscripts -------------------------------------------

    def _build_Call(self, node: ast.Call) -> Value:
        if not isinstance(node.func, ast.Name):
            raise SympropError(f"only named functions can be called{_column(node)}")
        name = node.func.id
        if name not in self.functions.names():
            known = ", ".join(sorted(self.functions.names()))
            raise SympropError(f"unknown function '{name}'{_column(node)} (known: {known})")
        axis = check_call(node)
        if name in STACKING:
            return self._concat(node)
        if name == "onehot":
            return self._onehot(self.build(node.args[0]), _literal(node.args[1]), node)
        if name == "corr2d":
            return self._corr2d(*(self.build(a) for a in node.args), node)
        if name in LINALG:
            return self._linalg(name, self.build(node.args[0]), node)
        if name == "pad":  # pad(X, rows, cols), the form a pad is read in (program.texts)
            m = self.build(node.args[0])
            m = m if isinstance(m, ImmutableMatrix) else ImmutableMatrix([[m]])
            p, q = (_literal(a) for a in node.args[1:3])
            return ImmutableMatrix(m.shape[0] + 2 * p, m.shape[1] + 2 * q, lambda i, j: m[i - p, j - q]
                                   if p <= i < m.shape[0] + p and q <= j < m.shape[1] + q else 0)
        if name == "reshape":
            m = self.build(node.args[0])
            m = m if isinstance(m, ImmutableMatrix) else ImmutableMatrix([[m]])
            sizes = [_literal(a) for a in node.args[1:]]
            return as_scalar(ImmutableMatrix(m.reshape(sizes[0], sizes[1] if len(sizes) > 1 else 1)))
        if name in POOLING:
            return self._max_pool(self.build(node.args[0]), [_literal(a) for a in node.args[1:]], node)
        if name in RULES and RULES[name].inputs == 2:
            return self._pairwise(name, node)
        arg = self.build(node.args[0])
        if name in REDUCTIONS:
            if axis is not None and axis > 1:  # entry by entry, values are scalars, vectors and matrices
                raise SympropError(f"{name}: the axis must be 0 or 1, got {axis}{_column(node.args[1])}")
            if axis is not None:
                return self._reduce_axis(name, arg, axis)
            return self._reduce(name, arg, node)
        if name in RULES:
            params = call_parameters(node)
            func = lambda v: RULES[name].apply(v, *params)  # noqa: E731
        else:
            func = self.functions.undefined[name]
        if isinstance(arg, ImmutableMatrix):
            return _real(arg.applyfunc(func), node)
        return _real(func(arg), node)

    def _pairwise(self, name: str, node: ast.Call) -> Value:
        """max(a, b), min(a, b): entry by entry, shaped as for ``+``."""
        func = RULES[name].apply
        a, b = (as_scalar(self.build(arg)) for arg in node.args)
        if shape_of(a) is None and shape_of(b) is None:
            return _real(func(a, b), node)
        rows, cols = _broadcast(shape_of(a), shape_of(b), f"{name}()", node)
        return _real(ImmutableMatrix(rows, cols, lambda i, j: func(_spread(a, i, j), _spread(b, i, j))), node)

    def _reduce(self, name: str, arg: Value, node: ast.AST) -> Value:
        if not isinstance(arg, ImmutableMatrix):
            if name in SOFTMAX:
                raise SympropError(f"{name}() needs a column vector, got a scalar{_column(node)}")
            return arg
        entries = list(arg)
        if name == "sum":
            return sympy.Add(*entries)
        if name == "logsumexp":
            return sympy.log(sympy.Add(*(sympy.exp(e) for e in entries)))
        if name in ("amax", "amin"):
            return _extreme(name, entries)
        if name == "mean":
            return sympy.Add(*entries) / len(entries)
        if arg.shape[1] != 1:
            raise SympropError(
                f"{name}() needs a column vector, got {describe_shape(arg)}{_column(node)}"
            )
        exps = [sympy.exp(e) for e in entries]
        total = sympy.Add(*exps)
        if name == "log_softmax":
            return ImmutableMatrix([e - sympy.log(total) for e in entries])
        return ImmutableMatrix([e / total for e in exps])

    def _reduce_axis(self, name: str, arg: Value, axis: int) -> Value:
        """NumPy's keepdims=True: axis 1 works on each row and gives a column,
        axis 0 on each column and gives a row; softmax keeps the shape."""
        z = arg if isinstance(arg, ImmutableMatrix) else ImmutableMatrix([[arg]])
        # softmax as without an axis: exp(z) over the sum of exp(z) along the line
        m = z.applyfunc(sympy.exp) if name in (*SOFTMAX, "logsumexp") else z
        rows, cols = m.shape
        lines = [m.row(i) for i in range(rows)] if axis == 1 else [m.col(j) for j in range(cols)]
        totals = [sympy.Add(*line) for line in lines]
        if name == "softmax":
            return as_scalar(
                ImmutableMatrix(rows, cols, lambda i, j: m[i, j] / totals[i if axis == 1 else j])
            )
        if name == "log_softmax":
            return as_scalar(
                ImmutableMatrix(rows, cols, lambda i, j: z[i, j] - sympy.log(totals[i if axis == 1 else j]))
            )
        if name == "mean":
            count = cols if axis == 1 else rows
            totals = [total / count for total in totals]
        if name == "logsumexp":
            totals = [sympy.log(total) for total in totals]
        if name in ("amax", "amin"):
            totals = [_extreme(name, list(line)) for line in lines]
        return as_scalar(ImmutableMatrix(totals) if axis == 1 else ImmutableMatrix([totals]))

    @staticmethod
    def _corr2d(x: Value, k: Value, node: ast.AST) -> Value:
        """Y[i, j] = Σ_ab X[i + a, j + b]·K[a, b], the window sliding one entry at a time."""
        x, k = (v if isinstance(v, ImmutableMatrix) else ImmutableMatrix([[v]]) for v in (x, k))
        (h, w), (kh, kw) = x.shape, k.shape
        if kh > h or kw > w:
            raise SympropError(f"corr2d(): a {kh}x{kw} kernel does not fit in {h}x{w}{_column(node)}")
        _check_entries((h - kh + 1) * (w - kw + 1) * kh * kw, node)
        return as_scalar(ImmutableMatrix(h - kh + 1, w - kw + 1, lambda i, j: sympy.Add(
            *(x[i + a, j + b] * k[a, b] for a in range(kh) for b in range(kw)))))

    @staticmethod
    def _linalg(name: str, a: Value, node: ast.AST) -> Value:
        m = a if isinstance(a, ImmutableMatrix) else ImmutableMatrix([[a]])
        if m.shape[0] != m.shape[1]:
            raise SympropError(f"{name}() takes a square matrix, got {describe_shape(a)}{_column(node)}")
        if name == "inv":
            return as_scalar(ImmutableMatrix(m.inv(method="LU")))
        if name == "trace":
            return m.trace()
        det = m.det(method="berkowitz")
        return sympy.log(det) if name == "logdet" else det

    @staticmethod
    def _max_pool(x: Value, sizes: list, node: ast.AST) -> Value:
        """The largest entry of each k×k window, windows ``stride`` apart."""
        k, stride = sizes[0], sizes[-1]
        x = x if isinstance(x, ImmutableMatrix) else ImmutableMatrix([[x]])
        (h, w) = x.shape
        if k > h or k > w:
            raise SympropError(f"max_pool2d(): a {k}x{k} window does not fit in {h}x{w}{_column(node)}")
        rows, cols = (h - k) // stride + 1, (w - k) // stride + 1
        _check_entries(rows * cols * k * k, node)

        def window(i, j):  # the first largest entry, as PyTorch: a later one wins only when larger
            entries = [x[i * stride + a, j * stride + b] for a in range(k) for b in range(k)]
            top = entries[0]
            for e in entries[1:]:
                larger = heaviside(e - top, 0)
                top = larger * e + (1 - larger) * top
            return top

        return as_scalar(ImmutableMatrix(rows, cols, window))

    @staticmethod
    def _onehot(labels: Value, classes: int, node: ast.AST) -> Value:
        """Row i is 1 at column y_i: [y_i = c] = H(y_i - c + 1/2) - H(y_i - c - 1/2) for whole y."""
        ys = list(labels) if isinstance(labels, ImmutableMatrix) else [labels]
        _check_entries(len(ys) * classes, node)
        half = sympy.Rational(1, 2)
        return as_scalar(ImmutableMatrix(len(ys), classes, lambda i, c: heaviside(ys[i] - c + half, 0)
                                         - heaviside(ys[i] - c - half, 0)))

    def _concat(self, node: ast.Call) -> Value:
        """Column vectors and scalars stacked, in order, into one column vector."""
        entries = []
        for number, arg_node in enumerate(node.args, start=1):
            value = self.build(arg_node)
            if isinstance(value, ImmutableMatrix):
                if value.shape[1] != 1:
                    raise SympropError(
                        f"concat() stacks column vectors and scalars, but argument {number} "
                        f"is {describe_shape(value)}{_column(arg_node)}"
                    )
                entries.extend(value)
            else:
                entries.append(value)
            _check_entries(len(entries), node)
        return ImmutableMatrix(entries)

    def _build_Attribute(self, node: ast.Attribute) -> Value:
        if node.attr != "T":
            raise SympropError(f"attribute '.{node.attr}' is not allowed (only .T){_column(node)}")
        value = self.build(node.value)
        return value.T if isinstance(value, ImmutableMatrix) else value

    def _build_Subscript(self, node: ast.Subscript) -> Value:
        base = node.value
        if isinstance(base, ast.Name) and self.scope.is_sequence(base.id):
            step, relative = self._index(node.slice, allow_time=True)
            return self.scope.at_step(base.id, step, relative)
        value = self.build(base)
        if isinstance(node.slice, ast.Tuple):
            return self._block(value, node)
        index, _ = self._index(node.slice, allow_time=False)
        shape = shape_of(value)
        if shape is None:
            raise SympropError(f"cannot index a scalar{_column(node)}")
        rows, cols = shape
        if cols == 1 or rows == 1:
            size = rows * cols
            if not 0 <= index < size:
                raise SympropError(f"index {index} is out of range for {rows}x{cols}{_column(node)}")
            return value[index]
        if not 0 <= index < rows:
            raise SympropError(f"row {index} is out of range for {rows}x{cols}{_column(node)}")
        return ImmutableMatrix(value.row(index))

    @staticmethod
    def _block(value: Value, node: ast.Subscript) -> Value:
        """``X[r0:r1:rs, c0:c1:cs]``, the form a slice is read in (program.texts): the block
        of those rows and columns, two dimensions kept."""
        m = value if isinstance(value, ImmutableMatrix) else ImmutableMatrix([[value]])
        picks = []
        for part, n in zip(node.slice.elts, m.shape):
            if not isinstance(part, ast.Slice):
                raise SympropError(f"a block is read as two slices{_column(node)}")
            bounds = [None if p is None else int(_literal(p)) for p in (part.lower, part.upper, part.step)]
            picks.append(list(range(n)[slice(*bounds)]))
        return as_scalar(m.extract(*picks))

    def _index(self, node: ast.AST, allow_time: bool) -> tuple[int, bool]:
        """An index and whether it is relative to t: ``3``, ``t``, ``t-1``."""
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value, False
        if isinstance(node, ast.Name) and node.id == TIME:
            self._check_time(node, allow_time)
            return 0, True
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Add | ast.Sub)
            and isinstance(node.left, ast.Name)
            and node.left.id == TIME
            and isinstance(node.right, ast.Constant)
            and type(node.right.value) is int
            and abs(node.right.value) <= 1_000
        ):
            self._check_time(node, allow_time)
            return (node.right.value if isinstance(node.op, ast.Add) else -node.right.value), True
        raise SympropError(f"an index must be a whole number, t, or t-k{_column(node)}")

    def _check_time(self, node: ast.AST, allow_time: bool) -> None:
        if not allow_time:
            raise SympropError(f"'t' can only index a name that changes with time{_column(node)}")
        if not self.scope.recurrent:
            raise SympropError(
                f"'t' can only be used in the [t] lines and a per-step loss{_column(node)}"
            )


# How each function that is neither a rule, a reduction nor of one argument reads:
# the numbers of arguments it takes, which of them are whole numbers written in
# the text (by position, with their least value), and how it is written.
_USAGE = {
    "where": ((3,), (), "where(a < b, x, y): a comparison and two values"),
    "outer": ((2,), (), "outer(a, b) of two vectors"),
    "corr2d": ((2,), (), "corr2d(X, K) of a matrix and a kernel"),
    "conv1d": ((2,), (), "conv1d(x, k) of a vector and a kernel"),
    "onehot": ((2,), {1: 1}, "onehot(y, C), C the number of classes, a whole number from 1"),
    "cross_entropy": ((2,), (), "cross_entropy(Z, y) of logits and integer labels"),
    "range": ((1,), {0: 1}, "range(N), N a whole number from 1"),
    "arange": ((1,), {0: 1}, "arange(N), N a whole number from 1"),
    "binary_cross_entropy_with_logits": ((2,), (), "binary_cross_entropy_with_logits(z, y) of logits and targets"),
    "max_pool2d": ((2, 3), {1: 1, 2: 1}, "max_pool2d(X, k) or max_pool2d(X, k, stride), k and the stride whole numbers"),
    "flatten": ((1,), (), "flatten(X)"),
    "reshape": (tuple(range(2, MAX_AXES + 2)), dict.fromkeys(range(1, MAX_AXES + 1), -1),
                "reshape(x, n), reshape(x, rows, cols) or reshape(X, N, C, H, W), the sizes whole numbers "
                "(one of them may be -1: as many as the others leave)"),
    "norm": ((1,), (), "norm(x), the Frobenius norm of every entry"),
    "transpose": (tuple(range(1, MAX_AXES + 2)), dict.fromkeys(range(1, MAX_AXES + 1), 0),
                  "transpose(X) or transpose(X, 0, 2, 1): every axis once, in the new order"),
    "pad": ((2, 3), {1: 0, 2: 0}, "pad(X, p): p zeros on every side, p a whole number"),
    "conv2d": ((2, 3, 4), {2: 1, 3: 0}, "conv2d(X, K), conv2d(X, K, stride) or conv2d(X, K, stride, padding)"),
    **{f: ((1,), (), f"{f}(A) of one square matrix") for f in LINALG},
}


def check_call(node: ast.Call) -> int | None:
    """Check the arguments of a call to a known function (every reader of the
    language asks here); return the axis of a reduction (None without one).
    An axis is the literal 0 or 1; a parameter (slope, alpha) a literal number."""
    name = node.func.id
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise SympropError(f"{name}() takes plain arguments, without names{_column(node)}")
    rule = RULES.get(name)
    if rule is not None and (rule.inputs > 1 or rule.parameters):
        _check_rule(node, rule)
    elif name in _USAGE:
        _check_usage(node)
    elif name in STACKING:
        if len(node.args) < 2:
            raise SympropError(f"{name}() stacks two or more column vectors or scalars{_column(node)}")
    elif name in REDUCTIONS or name in COMPOSED:
        return _reduction_axis(node)
    elif len(node.args) != 1:
        raise SympropError(f"{name}() takes exactly one argument{_column(node)}")
    return None


def _check_rule(node: ast.Call, rule) -> None:
    """A function of entries with several inputs or literal parameters (leaky_relu's slope)."""
    name, args = node.func.id, node.args
    optional = "".join(f" and an optional {what} (a number)" for what, _ in rule.parameters)
    if not rule.inputs <= len(args) <= rule.inputs + len(rule.parameters):
        count = "two arguments" if rule.inputs == 2 else "one argument"
        raise SympropError(f"{name}() takes {count}{optional}{_column(node)}")
    for (what, _), arg in zip(rule.parameters, args[rule.inputs:]):
        if _literal(arg) is None:
            raise SympropError(f"{name}: the {what} must be a number, got {_text(arg)}{_column(arg)}")


def _check_usage(node: ast.Call) -> None:
    """An operation whose whole-number arguments (sizes, strides, axes) are literals."""
    name, args = node.func.id, node.args
    counts, whole, usage = _USAGE[name]

    def bad(k: int, least: int) -> bool:
        value = _literal(args[k])
        return type(value) is not int or value < least or (least == -1 and value == 0)  # a size: -1 or ≥ 1

    if len(args) not in counts or any(bad(k, least) for k, least in dict(whole).items() if k < len(args)):
        raise SympropError(f"{name}() is written {usage}{_column(node)}")


def _reduction_axis(node: ast.Call) -> int | None:
    """The axis of a reduction (sum(X, 0)), None without one."""
    name, args = node.func.id, node.args
    if len(args) not in (1, 2):
        raise SympropError(f"{name}() takes one argument and an optional axis, 0 or 1{_column(node)}")
    if len(args) == 1:
        return None
    axis = args[1]
    if isinstance(axis, ast.Constant) and type(axis.value) is int and 0 <= axis.value < MAX_AXES:
        return axis.value
    given = ast.unparse(axis)
    given = given if len(given) <= 30 else given[:27] + "..."
    raise SympropError(f"{name}: the axis must be 0 or 1 (up to {MAX_AXES - 1} for an array of more axes), "
                       f"got {given}{_column(axis)}")


def _literal(node: ast.AST) -> int | float | None:
    """A number written in the text (``0.2``, ``-0.1``), None for anything else."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign, node = (-1 if isinstance(node.op, ast.USub) else 1), node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float) and abs(node.value) <= MAX_LITERAL:
        return sign * node.value
    return None


def call_parameters(node: ast.Call) -> tuple[sympy.Number, ...]:
    """The literal parameters of a call to a rule (leaky_relu's slope), a
    missing one at its default, as SymPy numbers (checked by ``check_call``)."""
    rule = RULES[node.func.id]
    given = [_literal(a) for a in node.args[rule.inputs:]]
    defaults = [default for _, default in rule.parameters[len(given):]]
    return tuple(sympy_number(v) for v in given + defaults)


def _broadcast(ls: tuple[int, int] | None, rs: tuple[int, int] | None, op: str, node) -> tuple[int, int]:
    """The shape of an entrywise result by NumPy's rule: along each axis equal
    sizes, or a size 1 repeated to fit (a column and a row make a matrix)."""
    if ls is None or rs is None or ls == rs:
        return ls or rs
    if all(x == y or 1 in (x, y) for x, y in zip(ls, rs)):
        return max(ls[0], rs[0]), max(ls[1], rs[1])
    raise SympropError(
        f"'{op}' needs operands of the same shape, got {ls[0]}x{ls[1]} and {rs[0]}x{rs[1]}; only "
        f"an axis of size 1 is repeated to fit (NumPy's broadcasting){_column(node)}"
    )


def _extreme(name: str, entries: list) -> sympy.Expr:
    """The largest (amax) or smallest (amin) of the entries, as max/min of pairs."""
    rule = RULES["max" if name == "amax" else "min"]
    top = entries[0]
    for e in entries[1:]:
        top = rule.apply(top, e)
    return top


def _spread(value: Value, i: int, j: int) -> sympy.Expr:
    """Entry (i, j) of ``value`` repeated along its dimensions of size 1."""
    if not isinstance(value, ImmutableMatrix):
        return value
    rows, cols = value.shape
    return value[i if rows > 1 else 0, j if cols > 1 else 0]


def _check_power(base: Value, exponent: Value, node: ast.AST) -> None:
    if isinstance(exponent, ImmutableMatrix):
        raise SympropError(f"an exponent must be a scalar{_column(node)}")
    if exponent.is_number:
        if not exponent.is_real or abs(float(exponent)) > MAX_EXPONENT:
            raise SympropError(
                f"exponent {_short(exponent)} is out of range (at most {MAX_EXPONENT}){_column(node)}"
            )
    if not isinstance(base, ImmutableMatrix) and base.is_number and exponent.is_number:
        magnitude = abs(float(exponent)) * float(sympy.log(abs(base) + 2, 10))
        if magnitude > 300:
            raise SympropError(f"number {_short(base)}**{_short(exponent)} is too large{_column(node)}")


_NOT_REAL = (sympy.zoo, sympy.oo, -sympy.oo, sympy.nan, sympy.I)


def _real(value: Value, node: ast.AST) -> Value:
    """Refuse a constant part that is infinite or not a real number, such as
    ``0**-1``, ``log(-1)`` or ``(-8)**0.5``: float64 has no value for it."""
    if value.has(*_NOT_REAL):
        text = _text(node)
        infinite = value.has(sympy.zoo, sympy.oo, -sympy.oo)
        why = "is infinite (a division by zero?)" if infinite else "is not a real number"
        raise SympropError(f"{text} {why}{_column(node)}")
    return value


def _check_entries(count: int, node: ast.AST) -> None:
    if count > MAX_ENTRIES:
        raise SympropError(f"result would have too many terms ({count}){_column(node)}")


def _describe(node: ast.AST) -> str:
    kinds = {
        "Lambda": "lambda",
        "keyword": "a keyword argument",
        "ListComp": "a comprehension",
        "GeneratorExp": "a comprehension",
        "SetComp": "a comprehension",
        "DictComp": "a comprehension",
        "JoinedStr": "an f-string",
        "Compare": "a comparison",
        "Eq": "'=='",
        "NotEq": "'!='",
        "BoolOp": "'and'/'or'",
        "IfExp": "'if'",
        "NamedExpr": "':='",
        "Starred": "'*' unpacking",
        "Await": "'await'",
        "Yield": "'yield'",
    }
    name = type(node).__name__
    if name == "Constant":
        return f"constant {_short(node.value)}"
    return kinds.get(name, f"syntax '{name}'")


def _short(value) -> str:
    if isinstance(value, int) and value.bit_length() > 1000:
        return "(a huge number)"
    text = repr(value) if isinstance(value, str | bytes) else str(value)
    return text if len(text) <= 30 else text[:27] + "..."


def _text(node: ast.AST) -> str:
    """A part of an expression as the message quotes it."""
    return _short(ast.unparse(node).replace(" ** ", "**"))


def _column(node: ast.AST) -> str:
    col = getattr(node, "col_offset", None)
    return f" (column {col + 1})" if col is not None else ""
