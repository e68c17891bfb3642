"""Matrix-form backprop: the formulas people write, checked against the scalar engine.

The equations are read a second time, as matrix expressions (W.T @ x, not the
entries of the product), and swept backwards with a table of vector-Jacobian
rules, one line an operation, as in autograd's ``defvjp``:

    Z = A @ B     dA += G Bᵀ,  dB += Aᵀ G
    Z = f(A)      dA  = diag(f'(A)) G       (f' in terms of Z where that is textbook)
    Z = softmax(A), L = -sum(Y ⊙ log Z)  dA = Z − Y   (Y a distribution: Σ Y = 1)

An activation whose argument is an expression gets its own adjoint, the
layer's δ = diag(f'(z)) Wᵀ δ′.  For a recurrent cell the sweep runs on the
cell: what reaches ``h[t-1]`` is the step t+1 term of the recursion for h_t.

Every formula is evaluated with NumPy at the problem's values and compared
with the adjoints and gradients of the scalar engine (``verify``).
"""

import ast
from dataclasses import dataclass, field

import numpy as np
import sympy

from ..errors import SympropError
from ..model.functions import RULES, numeric_namespace
from ..model.parse import parse_syntax
from ..model.spec import LOSS
from .mathobj import Verbatim


class Unavailable(Exception):
    """The model uses something the matrix form does not cover."""


@dataclass(frozen=True)
class M:
    """A matrix-level expression.

    op: leaf (a named value), adj (dL/d a named value), delta (dL/d the
    argument of an activation), num, matmul, T, add, neg, mul, div, pow, fn,
    softmax, sum, mean, diag (of an elementwise derivative), ones.
    """

    op: str
    args: tuple = ()
    shape: tuple | None = None  # None: a scalar
    name: str = ""  # leaf/adj/delta: the quantity's name; fn: the function
    step: int | None = None  # leaf/adj/delta in a cell: offset from t
    extra: object = None  # num: the value; pow: the exponent; diag: (rule expr, x, y)


def _key(name: str, step: int | None) -> str:
    if step is None:
        return name
    return f"{name}[t]" if step == 0 else f"{name}[t{step:+d}]"


def scalar(value) -> M:
    return M("num", extra=value)


ONE = scalar(1)


def T(m: M) -> M:
    """The transpose, simplified: (Aᵀ)ᵀ = A, (AB)ᵀ = BᵀAᵀ, a scalar is its own."""
    if m.shape is None:
        return m
    if m.op == "T":
        return m.args[0]
    if m.op == "matmul":
        return matmul(T(m.args[1]), T(m.args[0]))
    return M("T", (m,), (m.shape[1], m.shape[0]))


def matmul(a: M, b: M) -> M:
    shape = ((a.shape or (1, 1))[0], (b.shape or (1, 1))[1])
    return M("matmul", (a, b), None if shape == (1, 1) else shape)


def mul(a: M, b: M) -> M:
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
    if a.op == "num" and b.op == "mul" and b.args[0].op == "num":
        return mul(scalar(_number(a.extra) * _number(b.args[0].extra)), b.args[1])
    if a.op == "neg":
        return neg(mul(a.args[0], b))
    if b.op == "neg":
        return neg(mul(a, b.args[0]))
    return M("mul", (a, b), _one(a.shape) or _one(b.shape))


def _number(v):
    if isinstance(v, sympy.Basic):
        return v
    return sympy.Integer(v) if isinstance(v, int) else sympy.Float(v)


def neg(a: M) -> M:
    return a.args[0] if a.op == "neg" else M("neg", (a,), a.shape)


def power(a: M, k) -> M:
    return a if k == 1 else M("pow", (a,), a.shape, extra=k)


def _is_zero(m: M) -> bool:
    return m.op == "num" and m.extra == 0


# Building matrix expressions from the equations -----------------------------------


class _Reader:
    """The whitelisted syntax again, now into matrix expressions."""

    def __init__(self, shapes: dict[str, tuple | None], current: dict[str, str], sequences):
        self.shapes = shapes  # key -> shape
        self.current = current  # plain name -> key of its newest value
        self.sequences = sequences

    def read(self, text: str) -> M:
        return self.build(parse_syntax(text).body)

    def leaf(self, name: str, step: int | None, absolute: int | None = None) -> M:
        key = f"{name}[{absolute}]" if absolute is not None else _key(name, step)
        if key not in self.shapes:
            raise Unavailable(f"no shape for {key}")
        return M("leaf", shape=self.shapes[key], name=name if absolute is None else key, step=step)

    def build(self, node) -> M:
        if isinstance(node, ast.Constant):
            return scalar(node.value)
        if isinstance(node, ast.Name):
            key = self.current.get(node.id, node.id)
            if key not in self.shapes:
                raise Unavailable(f"no shape for {key}")
            return M("leaf", shape=self.shapes[key], name=key)
        if isinstance(node, ast.UnaryOp):
            inner = self.build(node.operand)
            return neg(inner) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Attribute):  # .T
            return T(self.build(node.value))
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in self.sequences:
            index = node.slice
            if isinstance(index, ast.Constant):
                return self.leaf(node.value.id, None, absolute=index.value)
            if isinstance(index, ast.Name):
                return self.leaf(node.value.id, 0)
            offset = index.right.value * (1 if isinstance(index.op, ast.Add) else -1)
            return self.leaf(node.value.id, offset)
        if isinstance(node, ast.Subscript):
            raise Unavailable("entries picked by index")
        if isinstance(node, ast.Call):
            name = node.func.id
            arg = self.build(node.args[0])
            if name in ("sum", "mean"):
                return M(name, (arg,), None)
            if name == "softmax":
                return M("softmax", (arg,), arg.shape)
            if name not in RULES:
                raise Unavailable(f"the undefined function {name}")
            return M("fn", (arg,), arg.shape, name=name)
        if isinstance(node, ast.BinOp):
            a, b = self.build(node.left), self.build(node.right)
            if isinstance(node.op, ast.MatMult):
                return matmul(a, b)
            shape = _one(a.shape) or _one(b.shape)
            if isinstance(node.op, ast.Add):
                return M("add", (a, b), shape)
            if isinstance(node.op, ast.Sub):
                return M("add", (a, neg(b)), shape)
            if isinstance(node.op, ast.Mult):
                return mul(a, b)
            if isinstance(node.op, ast.Div):
                return M("div", (a, b), shape)
            if isinstance(node.op, ast.Pow):
                if b.op != "num":
                    raise Unavailable("a power with a non-constant exponent")
                return M("pow", (a,), a.shape, extra=b.extra)
        raise Unavailable(f"syntax {type(node).__name__}")


def _one(shape):
    """A 1x1 matrix counts as a scalar."""
    return None if shape in (None, (1, 1)) else shape


# The sweep ---------------------------------------------------------------------------


@dataclass
class Formula:
    """``target = expr``: an adjoint or a gradient in matrix form."""

    kind: str  # "adj" (dL/dQ), "delta" (dL/d activation argument) or "grad"
    name: str
    step: int | None
    expr: M
    note: str = ""


@dataclass
class MatrixForm:
    formulas: list[Formula] = field(default_factory=list)
    recurrent: bool = False
    states: list[str] = field(default_factory=list)
    equations: list[tuple[str, int | None, M]] = field(default_factory=list)  # as written
    loss: M | None = None


class _Sweep:
    def __init__(self, definitions: dict[tuple, M], params: set[str], recurrent: bool):
        self.definitions = definitions  # (name, step) -> defining expression
        self.params = params
        self.recurrent = recurrent
        self.contrib: dict[tuple, list[M]] = {}
        self.formulas: list[Formula] = []

    def push(self, target: M, g: M) -> None:
        """Send the adjoint g to a leaf (named value)."""
        if _is_zero(g):
            return
        step = target.step
        if self.recurrent and step is not None and step < 0:  # reaches the next step's cell
            g = _shift(g, -step)
            step = 0
        self.contrib.setdefault((target.name, step), []).append(_unbroadcast(g, target.shape))

    def total(self, name: str, step) -> M | None:
        parts = self.contrib.get((name, step), [])
        if not parts:
            return None
        result = parts[0]
        for p in parts[1:]:
            result = M("add", (result, p), result.shape)
        return result

    def back(self, e: M, g: M, owner: str, owner_step) -> None:
        """Propagate g, the adjoint of e, to the leaves of e."""
        op, a = e.op, e.args
        if op == "leaf":
            self.push(e, g)
        elif op == "num":
            return
        elif op == "neg":
            self.back(a[0], neg(g), owner, owner_step)
        elif op == "T":
            self.back(a[0], T(g), owner, owner_step)
        elif op == "add":
            self.back(a[0], g, owner, owner_step)
            self.back(a[1], g, owner, owner_step)
        elif op == "matmul":
            A, B = a
            self.back(A, matmul(g, T(B)), owner, owner_step)
            self.back(B, matmul(T(A), g), owner, owner_step)
        elif op == "mul":
            A, B = a
            self.back(A, mul(g, B), owner, owner_step)
            self.back(B, mul(g, A), owner, owner_step)
        elif op == "div":
            A, B = a
            self.back(A, M("div", (g, B), g.shape), owner, owner_step)
            self.back(B, neg(M("div", (mul(g, A), power(B, 2)), g.shape)), owner, owner_step)
        elif op == "pow":
            k = e.extra
            self.back(a[0], mul(g, mul(scalar(k), power(a[0], k - 1))), owner, owner_step)
        elif op in ("sum", "mean"):
            inner = a[0]
            n = _size(inner.shape)
            scale = g if op == "sum" else (
                scalar(sympy.Rational(1, n)) if g == ONE else M("div", (g, scalar(n)), None)
            )
            self.back(inner, mul(scale, M("ones", shape=inner.shape)), owner, owner_step)
        elif op == "fn":
            self.activation(e, g, owner, owner_step)
        elif op == "softmax":
            z = e if owner is None else M("leaf", shape=e.shape, name=owner, step=owner_step)
            inner = mul(z, M("add", (g, neg(matmul(T(z), g))), g.shape))
            self._through(a[0], inner, owner, owner_step)
        else:
            raise Unavailable(f"no matrix rule for {op}")

    def activation(self, e: M, g: M, owner, owner_step) -> None:
        rule = RULES[e.name]
        x, y = sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)
        arg = e.args[0]
        out = M("leaf", shape=e.shape, name=owner, step=owner_step) if owner else e
        d = rule.derivative(x, y)
        column = e.shape is not None and e.shape[1] == 1 and e.shape[0] > 1
        if column:  # the Jacobian of an elementwise map: diag(f')
            local = M("diag", (arg, out), e.shape, name=e.name, extra=(d, x, y))
            self._through(arg, matmul(local, g), owner, owner_step)
        else:  # a scalar, a row or a matrix: entry by entry, f' ⊙ G
            local = M("deriv", (arg, out), e.shape, name=e.name, extra=(d, x, y))
            self._through(arg, mul(local, g), owner, owner_step)

    def _through(self, arg: M, g: M, owner, owner_step) -> None:
        """Into an activation's argument: a leaf directly, an expression via δ."""
        if arg.op == "leaf" or owner is None:
            self.back(arg, g, None, None)
            return
        self.formulas.append(Formula("delta", owner, owner_step, g))
        self.back(arg, M("delta", shape=arg.shape, name=owner, step=owner_step), None, None)


def _t(shape):
    return None if shape is None else (shape[1], shape[0])


def _size(shape) -> int:
    return 1 if shape is None else shape[0] * shape[1]


def _unbroadcast(g: M, shape) -> M:
    """A scalar that was combined with every entry gets the sum of them."""
    if shape is None and g.shape is not None:
        return M("sum", (g,), None)
    return g


def _shift(m: M, by: int) -> M:
    """The same expression ``by`` steps later (h[t-1] -> h[t])."""
    if m.op in ("leaf", "adj", "delta") and m.step is not None:
        return M(m.op, m.args, m.shape, m.name, m.step + by, m.extra)
    if not m.args:
        return m
    return M(m.op, tuple(_shift(a, by) for a in m.args), m.shape, m.name, m.step, m.extra)


def _cross_entropy(loss: M, definitions) -> tuple[M, M] | None:
    """-sum(Y * log(Z)) with Z = softmax(A): (the argument A, Y)."""
    if loss.op != "neg" or loss.args[0].op != "sum":
        return None
    prod = loss.args[0].args[0]
    if prod.op != "mul":
        return None
    for y, lg in (prod.args, prod.args[::-1]):
        if lg.op == "fn" and lg.name == "log" and lg.args[0].op == "leaf":
            z = lg.args[0]
            defining = definitions.get((z.name, z.step))
            if defining is not None and defining.op == "softmax":
                return z, y
    return None


def matrix_form(graph) -> MatrixForm | None:
    """The matrix-form derivation, or None for an all-scalar model."""
    quantities = graph.cell.quantities if graph.cell else {}
    shapes = {k: q.shape for k, q in {**graph.quantities, **quantities}.items()}
    if all(s is None for s in shapes.values()):
        return None
    try:
        return _derive(graph, shapes)
    except Unavailable:
        return None


def _derive(graph, shapes) -> MatrixForm:
    problem = graph.problem
    recurrent = graph.cell is not None
    current: dict[str, str] = {}
    reader = _Reader(shapes, current, problem.sequences)
    equations = []  # (name, step, expr)
    counts: dict[str, int] = {}
    for eq in problem.equations:
        counts[eq.target] = counts.get(eq.target, 0) + 1
    seen: dict[str, int] = {}
    for eq in problem.equations:
        expr = reader.read(eq.text)
        if eq.recurrent:
            equations.append((eq.target, 0, expr))
            continue
        seen[eq.target] = seen.get(eq.target, 0) + 1
        key = eq.target if seen[eq.target] == counts[eq.target] else f"{eq.target}@{seen[eq.target]}"
        current[eq.target] = key
        equations.append((key, None, expr))
    if recurrent and any(eq.recurrent is False for eq in problem.equations):
        raise Unavailable("lines outside the recurrent cell")
    per_step = recurrent and any(q.name == LOSS for q in graph.cell.quantities.values())
    loss = reader.read(problem.loss)
    if recurrent and not per_step:
        raise Unavailable("a loss on one step only")
    definitions = {(n, s): e for n, s, e in equations}
    sweep = _Sweep(definitions, set(problem.params), recurrent)
    form = MatrixForm(recurrent=recurrent, states=sorted(graph.cell.states) if recurrent else [],
                      equations=equations, loss=loss)

    weight = ONE if problem.reduce == "sum" or not per_step else scalar(sympy.Rational(1, problem.steps))
    fused = _cross_entropy(loss, definitions)
    skip, notes = set(), {}
    if fused is not None:
        z, y = fused
        skip.add((z.name, z.step))
        arg = definitions[(z.name, z.step)].args[0]
        g = mul(weight, M("add", (z, neg(y)), z.shape))
        note = "softmax with cross-entropy, for y that sums to 1"
        if arg.op == "leaf":
            sweep.contrib.setdefault((arg.name, arg.step), []).append(g)
            notes[(arg.name, arg.step)] = note
        else:
            sweep.formulas.append(Formula("delta", z.name, z.step, g, note))
            sweep.back(arg, M("delta", shape=arg.shape, name=z.name, step=z.step), None, None)
    else:
        sweep.back(loss, weight, None, None)

    # Every adjoint is sent as a symbol, so the order of the sweep does not
    # matter; only which values reach the loss at all (a fixpoint, since a
    # state may be reached from the next step only).
    live: set[tuple] = set()
    while True:
        grew = False
        for name, step, expr in reversed(equations):
            if (name, step) in live or (name, step) in skip or (name, step) not in sweep.contrib:
                continue
            live.add((name, step))
            grew = True
            sweep.back(expr, M("adj", shape=expr.shape, name=name, step=step), name, step)
        if not grew:
            break
    deltas = {(f.name, f.step): f for f in sweep.formulas}
    for name, step, _ in reversed(equations):
        if (name, step) in live:
            total = sweep.total(name, step)
            form.formulas.append(Formula("adj", name, step, total, notes.get((name, step), "")))
        if (name, step) in deltas:
            form.formulas.append(deltas[(name, step)])
    for p in problem.params:
        total = sweep.total(p, None)
        form.formulas.append(Formula("grad", p, None, total if total is not None else scalar(0)))
    return form


# Numbers ----------------------------------------------------------------------------


class _Numbers:
    def __init__(self, problem, step, relu0: float):
        self.problem = problem
        self.values = {**step.values}
        for name, v in problem.values.items():
            if name in problem.sequences:
                for t, item in enumerate(v):
                    self.values[f"{name}[{t}]"] = item
            else:
                self.values[name] = v
        self.namespace = numeric_namespace(relu0)
        self.adjoints: dict[str, object] = {}

    def key(self, m: M, t: int | None) -> str:
        if m.step is None or t is None:
            return m.name
        return f"{m.name}[{t + m.step}]"

    def get(self, m: M, t) -> np.ndarray | float:
        if m.op == "leaf":
            return _as_array(self.values[self.key(m, t)])
        if m.op in ("adj", "delta"):
            k = ("δ" if m.op == "delta" else "") + self.key(m, t)
            return self.adjoints.get(k, np.zeros(m.shape) if m.shape else 0.0)
        if m.op == "num":
            return float(m.extra)
        a = [self.get(x, t) for x in m.args] if m.op not in ("diag", "deriv") else None
        if m.op == "neg":
            return -a[0]
        if m.op == "T":
            return np.transpose(a[0]) if isinstance(a[0], np.ndarray) else a[0]
        if m.op == "add":
            return a[0] + a[1]
        if m.op == "matmul":
            r = np.atleast_2d(a[0]) @ np.atleast_2d(a[1])
            return float(r[0, 0]) if r.shape == (1, 1) else r
        if m.op == "mul":
            return _scalarize(a[0]) * _scalarize(a[1])
        if m.op == "div":
            return _scalarize(a[0]) / _scalarize(a[1])
        if m.op == "pow":
            return _scalarize(a[0]) ** m.extra
        if m.op == "sum":
            return float(np.sum(a[0]))
        if m.op == "mean":
            return float(np.mean(a[0]))
        if m.op == "ones":
            return np.ones(m.shape)
        if m.op == "fn":
            return self._apply(m.name, a[0])
        if m.op == "softmax":
            e = np.exp(a[0] - np.max(a[0]))
            return e / e.sum()
        if m.op in ("diag", "deriv"):
            d, x, y = m.extra
            f = sympy.lambdify((x, y), d, modules=[self.namespace, "numpy"])
            xs, ys = self.get(m.args[0], t), self.get(m.args[1], t)
            values = np.asarray(f(xs, ys), dtype=float) * np.ones_like(np.asarray(xs, dtype=float))
            if m.op == "diag":
                return np.diagflat(values)
            return float(values) if values.ndim == 0 else values
        raise Unavailable(m.op)

    def _apply(self, name, x):
        z = sympy.Symbol("z", real=True)
        f = sympy.lambdify(z, RULES[name].apply(z), modules=[self.namespace, "numpy"])
        return f(x)


def _as_array(v):
    return v if not isinstance(v, np.ndarray) else v.astype(float)


def _scalarize(v):
    if isinstance(v, np.ndarray) and v.shape == (1, 1):
        return float(v[0, 0])
    return v


def verify(form: MatrixForm, solution) -> dict:
    """Evaluate every matrix formula and compare with the scalar engine."""
    problem = solution.problem
    step = solution.first
    n = _Numbers(problem, step, problem.conventions.relu_grad_at_zero)
    worst, compared = 0.0, 0
    steps = range(problem.steps, 0, -1) if form.recurrent else [None]
    grads: dict[str, object] = {}
    for t in steps:
        for f in form.formulas:
            if f.kind == "grad":
                continue
            value = n.get(f.expr, t)
            key = n.key(M("leaf", name=f.name, step=f.step), t)
            n.adjoints[("δ" if f.kind == "delta" else "") + key] = value
            if f.kind == "adj" and key in step.adjoints:
                worst = max(worst, _diff(value, step.adjoints[key]))
                compared += 1
        for f in form.formulas:
            if f.kind == "grad":
                v = n.get(f.expr, t)
                grads[f.name] = grads[f.name] + v if f.name in grads else v
    for name, v in grads.items():
        worst = max(worst, _diff(v, step.gradients[name]))
        compared += 1
    scale = max(1.0, max(float(np.max(np.abs(np.asarray(g)))) for g in step.gradients.values()))
    return {"compared": compared, "max_abs_error": worst, "passed": worst <= 1e-9 * scale}


def _diff(a, b) -> float:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.size != b.size:
        raise SympropError(f"matrix form: shape {a.shape} where the scalar engine has {b.shape}")
    return float(np.max(np.abs(a.reshape(-1) - b.reshape(-1)))) if a.size else 0.0


# Text ---------------------------------------------------------------------------------


def _named(m: M, name_of) -> str:
    key = m.name if m.step is None else _key(m.name, m.step)
    return name_of(key)


_PRECEDENCE = {"add": 1, "neg": 1, "mul": 2, "matmul": 2, "div": 2}

TEXT = {
    "adj": "∂L/∂{}", "delta": "δ_{}", "T": "{}ᵀ", "dot": "·", "had": " ⊙ ", "ones": "𝟙",
    "open": "(", "close": ")", "diag": "diag({})", "pow": "{}^{}", "div": "{}/{}",
    "grad": "∇_{} L", "sum": "Σₜ ",
}
LATEX = {
    "adj": r"\frac{{\partial L}}{{\partial {}}}", "delta": r"\delta_{{{}}}", "T": r"{}^{{\top}}",
    "dot": " ", "had": r" \odot ", "ones": r"\mathbf{1}", "open": r"\left(", "close": r"\right)",
    "diag": r"\operatorname{{diag}}\left({}\right)", "pow": "{}^{{{}}}", "div": r"\frac{{{}}}{{{}}}",
    "grad": r"\nabla_{{{}}} L", "sum": r"\sum_{t} ",
}


def text(m: M, name_of, printer, style: dict = TEXT) -> str:
    """One line: Vᵀ·∂L/∂oₜ, diag(1 - hₜ²)·∂L/∂hₜ, x·δ_zᵀ (or the LaTeX of it)."""

    def go(child: M) -> str:
        return text(child, name_of, printer, style)

    def wrap(child: M, parent: str) -> str:
        s = go(child)
        if _PRECEDENCE.get(child.op, 3) < _PRECEDENCE.get(parent, 3) or (
            parent in ("T", "pow") and child.op not in ("leaf", "adj", "delta", "num", "fn", "ones")
        ):
            return f"{style['open']}{s}{style['close']}"
        return s

    op, a = m.op, m.args
    if op == "leaf":
        return _named(m, name_of)
    if op in ("adj", "delta"):
        return style[op].format(_named(m, name_of))
    if op == "num":
        v = m.extra
        if float(v) == int(v):
            return str(int(v))
        if isinstance(v, sympy.Rational) and style is LATEX:
            return rf"\frac{{{v.p}}}{{{v.q}}}"
        return str(v)
    if op == "ones":
        return style["ones"]
    if op == "T":
        return style["T"].format(wrap(a[0], "T"))
    if op == "neg":
        return "-" + wrap(a[0], "mul")
    if op == "add":
        right = a[1]
        if right.op == "neg":
            return f"{go(a[0])} - {wrap(right.args[0], 'mul')}"
        return f"{go(a[0])} + {go(right)}"
    if op == "matmul":
        return f"{wrap(a[0], 'matmul')}{style['dot']}{wrap(a[1], 'matmul')}"
    if op == "mul":
        sign = style["dot"] if a[0].shape is None or a[1].shape is None else style["had"]
        return f"{wrap(a[0], 'mul')}{sign}{wrap(a[1], 'mul')}"
    if op == "div":
        return style["div"].format(wrap(a[0], "mul"), wrap(a[1], "T"))
    if op == "pow":
        if style is TEXT and m.extra == 2:
            return wrap(a[0], "pow") + "²"
        return style["pow"].format(wrap(a[0], "pow"), m.extra)
    if op in ("sum", "mean", "softmax", "fn"):
        name = m.name if op == "fn" else op
        inner = go(a[0])
        if style is LATEX:
            return rf"\operatorname{{{name}}}\left({inner}\right)"
        return f"{name}({inner})"
    if op in ("diag", "deriv"):
        d, x, y = m.extra
        pieces = {x: Verbatim(wrap(a[0], "T")), y: Verbatim(wrap(a[1], "T"))}
        inner = printer.doprint(d.xreplace(pieces))
        if op == "diag":
            return style["diag"].format(inner)
        return f"{style['open']}{inner}{style['close']}" if d.is_Add else inner
    raise Unavailable(op)


def _inline(m: M, single: dict) -> M:
    """Replace each adjoint that has a one-term formula by that formula."""
    key = (m.name, 0 if m.step is not None else None)
    if m.op == "adj" and key in single:
        return _shift(single[key], m.step) if m.step else single[key]
    if not m.args or m.op in ("diag", "deriv"):
        return m
    return M(m.op, tuple(_inline(a, single) for a in m.args), m.shape, m.name, m.step, m.extra)


def inlined(form: MatrixForm, f: Formula) -> M:
    """A formula with one-term adjoints written out: the layer's
    δ = diag(f'(z))·Wᵀ·δ′, and for a state the textbook recursion."""
    single = {
        (g.name, g.step): g.expr
        for g in form.formulas
        if g.kind == "adj" and g.expr.op != "add" and g is not f and not g.note
    }
    return _inline(f.expr, single)


def formula_rows(form: MatrixForm, name_of, printer, style: dict = TEXT) -> list[tuple[str, list[str], str]]:
    """(left side, [right sides], note) for every formula, as text or LaTeX."""
    rows = []
    for f in form.formulas:
        rhs = text(f.expr, name_of, printer, style)
        if f.kind == "grad":
            total = style["sum"] if form.recurrent else ""
            rows.append((style["grad"].format(name_of(f.name)), [total + rhs], ""))
            continue
        lhs = text(M(f.kind, name=f.name, step=f.step), name_of, printer, style)
        sides = [rhs]
        if f.kind == "delta" or f.name in form.states:
            written = text(inlined(form, f), name_of, printer, style)
            if written != rhs:
                sides.append(written)
        rows.append((lhs, sides, f.note))
    return rows
