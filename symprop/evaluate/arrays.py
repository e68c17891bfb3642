"""Numbers on whole arrays: the program's lines run with NumPy, forward and back.

The forward pass evaluates each line (each cell line at t = 1..T) on float64
arrays and keeps every intermediate; the backward pass runs the same
vector-Jacobian rules the derivation prints (``derive/rules.py``), with
``NumPy`` as the algebra, from the loss back.  Cost: one NumPy call per
operation per step, whatever the widths.  A scalar is a float; a 1x1 counts
as a scalar.

``evaluate_formula`` computes a printed formula (with its ∂L/∂… and δ
symbols) from the numbers, so every formula a document shows is checked.
"""

from dataclasses import dataclass, field

import numpy as np
import sympy

from ..derive.program import Op, Program, one, walk
from ..derive.rules import vjp
from ..derive.sweep import Formula
from ..errors import SympropError
from ..model.functions import RULES, numeric_namespace
from ..model.spec import LOSS
from .faults import Watch, finite, number

Number = float | np.ndarray


def squash(v) -> Number:
    """A 1x1 array counts as a scalar: a NumPy float64, so that division by
    zero and overflow follow NumPy (inf, nan) rather than raise."""
    if isinstance(v, np.ndarray):
        if v.shape == (1, 1) or v.ndim == 0:
            return np.float64(v.reshape(()))
        return v
    return np.float64(v)


class _OnFirstUse(dict):
    """A rule's name -> its function, made by ``make`` when first asked for."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, name):
        self[name] = made = self.make(name)
        return made


def _rule_symbols(rule) -> tuple[list, list]:
    inputs = sympy.symbols("x" if rule.inputs == 1 else "a b", real=True, seq=True)
    return inputs, [sympy.Symbol(p, real=True) for p, _ in rule.parameters]


class NumPy:
    """The algebra of numbers: the vector-Jacobian rules evaluated with NumPy."""

    def __init__(self, relu_grad_at_zero: float = 0.0):
        self.namespace = numeric_namespace(relu_grad_at_zero)
        # each rule compiled when first used, over symbols for its inputs (and output) and its parameters:
        # apply[name](*inputs, *params), partials[name](*inputs, y, *params) -> [d out/d input]
        self.apply, self.partials, self._formulas = _OnFirstUse(self._apply), _OnFirstUse(self._partials), {}

    def _apply(self, name: str):
        rule = RULES[name]
        inputs, params = _rule_symbols(rule)
        return self.compile([*inputs, *params], rule.apply(*inputs, *params))

    def _partials(self, name: str):
        rule, y = RULES[name], sympy.Symbol("y", real=True)
        inputs, params = _rule_symbols(rule)
        return self.compile([*inputs, y, *params], rule.partials([*inputs, *params], y))

    def compile(self, symbols, expr):
        return sympy.lambdify(symbols, expr, modules=[self.namespace, "numpy"])

    def formula(self, d, symbols):
        """A derivative as a derivation prints it (``deriv``), made a function of its symbols."""
        key = (d, symbols)
        if key not in self._formulas:
            self._formulas[key] = self.compile(list(symbols), d)
        return self._formulas[key]

    @staticmethod
    def num(v) -> float:
        return np.float64(v)

    @staticmethod
    def is_zero(g) -> bool:
        return not isinstance(g, np.ndarray) and g == 0

    neg = staticmethod(lambda g: -g)
    mul = staticmethod(lambda a, b: squash(a * b) if _both_arrays(a, b) else a * b)
    div = staticmethod(lambda a, b: a / b)
    add = staticmethod(lambda a, b: a + b)
    power = staticmethod(lambda a, k: a ** k)
    powv = staticmethod(lambda a, b: a ** b)

    @staticmethod
    def T(a):
        return a.T if isinstance(a, np.ndarray) else a

    @staticmethod
    def matmul(a, b):
        if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
            return a * b
        return squash(a @ b)

    def fn(self, name, *args):
        return self.apply[name](*args)

    @staticmethod
    def unbroadcast(g, shape):
        if not isinstance(g, np.ndarray) or g.shape == shape:
            return g
        if shape is None:
            return np.float64(np.sum(g))
        if shape[0] == 1 and g.shape[0] != 1:
            g = np.sum(g, axis=0, keepdims=True)
        if shape[1] == 1 and g.shape[1] != 1:
            g = np.sum(g, axis=1, keepdims=True)
        return squash(g)

    def activation(self, e, xs, y, g):
        return [squash(d * g) for d in self.partials[e.name](*xs, y, *(e.extra or ()))]

    @staticmethod
    def softmax_back(z, g, axis):
        if axis is None:
            return z * (g - np.sum(z * g))
        return z * (g - np.sum(z * g, axis=axis, keepdims=True))

    @staticmethod
    def log_softmax_back(out, g, axis):
        if axis is None:
            return g - np.exp(out) * np.sum(g)
        return g - np.exp(out) * np.sum(g, axis=axis, keepdims=True)

    @staticmethod
    def spread(g, shape):
        if shape is None:
            return g
        return np.broadcast_to(g, shape).astype(float)

    @staticmethod
    def rows(g, start, stop, shape):
        return squash(g[start:stop]) if shape is None else g[start:stop]

    @staticmethod
    def unpad(g, margins, shape):
        (p, q), (rows, cols) = margins, shape or (1, 1)
        return squash(np.reshape(g, np.shape(g) or (1, 1))[p:p + rows, q:q + cols])

    @staticmethod
    def reshape(g, shape):
        return squash(np.reshape(g, shape or (1, 1)))

    @staticmethod
    def inv(x, shape):
        return _inverse(x)

    @staticmethod
    def eye(shape):
        return np.eye(shape[0])

    @staticmethod
    def equal(x, m, shape):
        return squash(np.equal(x, m).astype(float))

    @staticmethod
    def total(x, axis, shape):
        return _reduce(np.sum, x, axis)

    @staticmethod
    def corr2d(x, k, shape=None):
        x, k = np.reshape(x, np.shape(x) or (1, 1)), np.reshape(k, np.shape(k) or (1, 1))
        windows = np.lib.stride_tricks.sliding_window_view(x, k.shape)
        return squash(np.einsum("ijab,ab->ij", windows, k))

    @staticmethod
    def full_conv(g, k, shape):
        g, k = np.reshape(g, np.shape(g) or (1, 1)), np.reshape(k, np.shape(k) or (1, 1))
        out = np.zeros(shape or (1, 1))
        for a in range(k.shape[0]):
            for b in range(k.shape[1]):
                out[a:a + g.shape[0], b:b + g.shape[1]] += k[a, b] * g
        return squash(out)

    @staticmethod
    def unpool(g, x, sizes, shape):
        k, stride = sizes
        x, g = np.reshape(x, np.shape(x) or (1, 1)), np.reshape(g, np.shape(g) or (1, 1))
        out = np.zeros(x.shape)
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                window = x[i * stride:i * stride + k, j * stride:j * stride + k]
                a, b = np.unravel_index(np.argmax(window), window.shape)  # the first largest, as PyTorch
                out[i * stride + a, j * stride + b] += g[i, j]
        return squash(out)

    @staticmethod
    def scatter(g, shape, taken):
        out = np.zeros(shape or (1, 1))
        np.add.at(out, np.ix_(*taken), np.reshape(g, (len(taken[0]), len(taken[1]))))
        return squash(out)

    @staticmethod
    def place(g, shape, index):
        out = np.zeros(shape)
        if index[0] == "row":
            out[index[1], :] = np.reshape(g, -1)
        elif shape[1] == 1:
            out[index[0], 0] = g
        else:
            out[0, index[0]] = g
        return out


def _both_arrays(a, b) -> bool:
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray)


def _softmax(a, axis):
    axis = 0 if axis is None else axis
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(a, axis):
    axis = 0 if axis is None else axis
    shifted = a - np.max(a, axis=axis, keepdims=True)  # no overflow at large logits
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def logsumexp_stable(a, axis=None, keepdims=False):
    """log Σ exp(a), without overflow: the largest entry taken out first."""
    m = np.max(a, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    return out if keepdims else np.reshape(out, ()) if axis is None else np.squeeze(out, axis)


def _reduce(fn, a, axis):
    if not isinstance(a, np.ndarray):
        return a
    if axis is None:
        return np.float64(fn(a))
    return squash(fn(a, axis=axis, keepdims=True))


def _index(a, index):
    if index[0] == "row":
        return a[index[1]:index[1] + 1, :]
    return np.float64(a.reshape(-1)[index[0]])


def _inverse(a):
    """numpy.linalg.inv, a singular matrix said in one line (its determinant 0)."""
    if not np.all(np.isfinite(a)) or np.linalg.cond(a) > 1e15:
        raise SympropError("inv() of a singular matrix (its determinant is 0, or nearly)")
    return np.linalg.inv(a)


def _logdet(a):
    sign, value = np.linalg.slogdet(a)
    if sign <= 0:
        raise SympropError(f"logdet() of a matrix whose determinant is {np.linalg.det(a):.4g}, not positive")
    return np.float64(value)


def _windows(x, k: int, stride: int):
    """The k×k windows of x, ``stride`` apart: an array of windows[i, j, a, b]."""
    x = np.reshape(x, np.shape(x) or (1, 1))
    return np.lib.stride_tricks.sliding_window_view(x, (k, k))[::stride, ::stride]


def _max_pool(x, k: int, stride: int):
    return squash(_windows(x, k, stride).max(axis=(2, 3)))


def _pool_ties(x, k: int, stride: int) -> bool:
    """Whether a window has its largest entry twice (PyTorch's gradient takes the first)."""
    windows = _windows(x, k, stride)
    return bool(np.any((windows == windows.max(axis=(2, 3), keepdims=True)).sum(axis=(2, 3)) > 1))


def _onehot(labels, classes: int):
    ys = np.reshape(labels, -1)
    if np.any(ys != np.round(ys)) or np.any(ys < 0) or np.any(ys >= classes):
        bad = ys[(ys != np.round(ys)) | (ys < 0) | (ys >= classes)][0]
        raise SympropError(f"a class label must be a whole number from 0 to {classes - 1}, got {bad:g}")
    return squash(np.eye(classes)[ys.astype(int)])


_COMPARE = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal}

FORWARD = {
    "neg": lambda A, e, x: -x[0],
    "T": lambda A, e, x: A.T(x[0]),
    "add": lambda A, e, x: x[0] + x[1],
    "mul": lambda A, e, x: A.mul(x[0], x[1]),
    "div": lambda A, e, x: x[0] / x[1],
    "pow": lambda A, e, x: x[0] ** e.extra,
    "powv": lambda A, e, x: x[0] ** x[1],
    "matmul": lambda A, e, x: A.matmul(x[0], x[1]),
    "fn": lambda A, e, x: A.fn(e.name, *x, *(e.extra or ())),
    "softmax": lambda A, e, x: _softmax(x[0], e.extra),
    "log_softmax": lambda A, e, x: _log_softmax(x[0], e.extra),
    "sum": lambda A, e, x: _reduce(np.sum, x[0], e.extra),
    "logsumexp": lambda A, e, x: _reduce(logsumexp_stable, x[0], e.extra),
    "reshape": lambda A, e, x: squash(np.reshape(x[0], e.extra)),
    "pad": lambda A, e, x: np.pad(np.reshape(x[0], np.shape(x[0]) or (1, 1)), [(e.extra[0],) * 2, (e.extra[1],) * 2]),
    "inv": lambda A, e, x: _inverse(x[0]),
    "det": lambda A, e, x: np.float64(np.linalg.det(x[0])),
    "logdet": lambda A, e, x: _logdet(x[0]),
    "trace": lambda A, e, x: np.float64(np.trace(x[0])),
    "eye": lambda A, e, x: np.eye(e.shape[0]),
    "amax": lambda A, e, x: _reduce(np.max, x[0], e.extra),
    "amin": lambda A, e, x: _reduce(np.min, x[0], e.extra),
    "mean": lambda A, e, x: _reduce(np.mean, x[0], e.extra),
    "concat": lambda A, e, x: np.vstack([np.reshape(v, (-1, 1)) for v in x]),
    "index": lambda A, e, x: _index(x[0], e.extra),
    "cmp": lambda A, e, x: squash(_COMPARE[e.extra](x[0], x[1]).astype(float)),
    "onehot": lambda A, e, x: _onehot(x[0], e.extra),
    "corr2d": lambda A, e, x: A.corr2d(x[0], x[1]),
    "max_pool": lambda A, e, x: _max_pool(x[0], *e.extra),
    "unpool": lambda A, e, x: A.unpool(x[0], x[1], e.extra, e.shape),
    "full_conv": lambda A, e, x: A.full_conv(x[0], x[1], e.shape),
    "take": lambda A, e, x: squash(np.reshape(x[0], np.shape(x[0]) or (1, 1))[np.ix_(*e.extra)]),
    "scatter": lambda A, e, x: A.scatter(x[0], e.shape, e.extra),
}


@dataclass
class Pass:
    """One forward and backward pass."""

    loss: float
    values: dict[str, Number]  # by key: "z", "h[2]", "L[1]", "h[0]"; leaves too
    adjoints: dict[str, Number]  # ∂L/∂key for every line instance and parameter
    kinks: list[str] = field(default_factory=list)  # instances where relu′ is taken at exactly 0
    # instances where another function is taken at its kink (max at a tie, abs at 0 …): PyTorch's value
    corners: list[str] = field(default_factory=list)
    leaves: dict[str, Number] = field(default_factory=dict)  # the leaf numbers it ran at


class Machine:
    """A program made ready for numbers: lines in order, each with how its
    names resolve at its step."""

    def __init__(self, program: Program, relu_grad_at_zero: float = 0.0):
        self.program = program
        self.algebra = NumPy(relu_grad_at_zero)
        problem = program.problem
        for line in program.lines():
            for e in walk(line.expr):
                if e.op == "fn" and e.name not in RULES:
                    raise SympropError(
                        f"the activation '{e.name}' is left undefined (model.functions), "
                        "so there are no numbers to compute; use derive for the symbolic solution",
                        where=problem.origin,
                    )
        self.instances: list[tuple[str, Op, int | None]] = []  # (key, expr, t)
        for line in program.before:
            self.instances.append((line.key, line.expr, None))
        for t in range(1, (program.steps or 0) + 1):
            for line in program.cell:
                self.instances.append((f"{line.key}[{t}]", line.expr, t))
        for line in program.after:
            self.instances.append((line.key, line.expr, None))
        self.cell = program.cell_names()
        self.sequences = {k for k, leaf in program.leaves.items() if leaf.kind == "sequence"}
        # the adjoints a solution shows, which must be finite: not those of inputs
        self.shown = {key for key, _, _ in self.instances} | {p.key for p in program.params}

    # Names --------------------------------------------------------------------

    def ref(self, e: Op, t: int | None) -> str:
        """The key of the value a leaf or a fixed-step reference stands for
        (h[0] is h0 when the initial state is that parameter)."""
        if e.op == "at":
            key = f"{e.name}[{e.step}]"
        elif e.step is None:
            return e.name
        else:
            key = f"{e.name}[{t + e.step}]"
        return self.program.aliases.get(key, key)

    def leaf_values(self, values: dict) -> dict[str, Number]:
        """A number for every leaf, checked against the shape the program reads."""
        program, problem = self.program, self.program.problem
        out: dict[str, Number] = {}
        missing = []
        for key, leaf in program.leaves.items():
            if leaf.kind == "initial":
                out[key] = _number(problem.initial[leaf.name])
                continue
            given = values.get(leaf.name)
            if leaf.kind == "input" and key != leaf.name:  # a symbolic initial state h[0]
                given = values.get(key)
            if given is None:
                missing.append(key)
                continue
            if leaf.kind == "sequence":
                if not isinstance(given, list):
                    raise SympropError(f"values.{leaf.name}: changes with time: give a list indexed by t",
                                       where=problem.origin)
                for t, item in enumerate(given):
                    out[f"{key}[{t}]"] = self._checked(leaf, _number(item), f"values.{leaf.name}[{t}]")
                continue
            out[key] = self._checked(leaf, _number(given), f"values.{leaf.name}")
        if missing:
            raise SympropError(f"no values for {', '.join(missing)} (give them under [values])",
                               where=problem.origin)
        return out

    def _checked(self, leaf, value: Number, where: str) -> Number:
        shape = value.shape if isinstance(value, np.ndarray) else None
        if one(shape) != leaf.shape:
            have = "scalar" if shape is None else f"{shape[0]}x{shape[1]}"
            want = "scalar" if leaf.shape is None else f"{leaf.shape[0]}x{leaf.shape[1]}"
            raise SympropError(f"{where}: has shape {have} but the model uses {want}",
                               where=self.program.problem.origin)
        return value

    # Passes ---------------------------------------------------------------------

    def forward(self, leaves: dict[str, Number]):
        """Every line's value, and each line's intermediate values for the way
        back; a value that is not a finite real number stops with a NumericFault."""
        values = dict(leaves)
        tapes = []
        with Watch(self.program.problem.origin) as numbers:
            for key, expr, t in self.instances:
                numbers.at(key, t)
                tape: dict[int, Number] = {}
                values[key] = numbers.check(self._named(key, expr, t, values, tape),
                                            lambda: self.explain(expr, t, tape))
                tapes.append(tape)
            numbers.at(LOSS)
            tape = {}
            values[LOSS] = numbers.check(self._loss(values, tape), lambda: self.explain(self.program.loss.expr,
                                                                                        None, tape))
        return values, tapes

    def _named(self, key: str, expr: Op, t, values, tape) -> Number:
        """A line's value; a number an operation refuses (a singular matrix, a label
        that is no class) is said with the line's name and the file."""
        try:
            return self._eval(expr, t, values, tape)
        except SympropError as e:
            raise (e if e.where else SympropError(f"{key}: {e}", where=self.program.problem.origin)) from None

    def _loss(self, values, tape) -> Number:
        program = self.program
        if program.loss.expr is not None:
            return self._named(LOSS, program.loss.expr, None, values, tape)
        total = sum(values[f"{LOSS}[{t}]"] for t in range(1, program.steps + 1))
        return total / program.steps if program.problem.reduce == "mean" else total

    def _eval(self, e: Op, t, values, tape) -> Number:
        op = e.op
        if op in ("leaf", "at"):
            key = self.ref(e, t)
            if key not in values:
                raise SympropError(f"no value for {key} (give it under [values])",
                                   where=self.program.problem.origin)
            v = values[key]
        elif op == "num":
            v = np.float64(e.extra)
        else:
            v = FORWARD[op](self.algebra, e, [self._eval(a, t, values, tape) for a in e.args])
            if isinstance(v, np.ndarray) and v.shape == (1, 1):
                v = np.float64(v[0, 0])
        tape[id(e)] = v
        return v

    def explain(self, e: Op | None, t, tape) -> tuple[str | None, str]:
        """(cause, detail) of the first operation in e whose arguments are
        finite and whose value is not; (None, "") leaves the cause to the flags."""
        if e is None:
            return None, ""
        for a in e.args:
            found = self.explain(a, t, tape)
            if found[0]:
                return found
        if not e.args or finite(tape[id(e)]):
            return None, ""
        return self._why(e, t, [tape[id(a)] for a in e.args], tape[id(e)])

    def _why(self, e: Op, t, xs, v) -> tuple[str, str]:
        op = e.op
        if op not in ("add", "mul", "div", "pow", "powv", "fn") and not (
                op == "matmul" and min(np.ndim(x) for x in xs) == 0):
            return "overflow", f"in {_WHAT.get(op, op)}"
        bad = int(np.argmin(np.isfinite(v).reshape(-1))) if np.ndim(v) else 0
        a = [np.broadcast_to(x, np.shape(v)).reshape(-1)[bad] if np.ndim(v) else x for x in xs]
        if op == "fn":
            name = {"sqrt": "square root"}.get(e.name, e.name)
            if e.name in ("log", "sqrt") and a[0] < 0:
                return "not a real number", f"{name} of {number(a[0])}"
            if e.name == "log" and a[0] == 0:
                return "not finite", "log of 0"
            return "overflow", f"{name} of {number(a[0])}"
        if op == "div" and a[1] == 0:
            under = e.args[1]
            return "division by zero", (f"{self.ref(under, t)} = 0" if under.op in ("leaf", "at")
                                        else f"{number(a[0])} / 0")
        if op in ("pow", "powv"):
            base, k = a[0], e.extra if op == "pow" else a[1]
            if base < 0 and k != int(k):
                return "not a real number", f"negative base {number(base)} to the fractional power {number(k)}"
            if base == 0 and k < 0:
                return "division by zero", f"0 to the power {number(k)}"
            return "overflow", f"{number(base)} to the power {number(k)}"
        return "overflow", f"{number(a[0])} {_SIGN[op]} {number(a[1])}"

    def backward(self, values, tapes) -> tuple[dict[str, Number], list[str], list[str]]:
        program = self.program
        adjoint: dict[str, Number] = {}
        kinks: list[str] = []
        corners: list[str] = []

        with Watch(program.problem.origin) as numbers:
            def push(key, g):
                adjoint[key] = adjoint[key] + g if key in adjoint else g
                if key in self.shown:
                    numbers.check_adjoint(key, adjoint[key])

            if program.loss.expr is not None:
                numbers.at(LOSS, backward=True)
                tape: dict[int, Number] = {}
                self._eval(program.loss.expr, None, values, tape)
                self._back(program.loss.expr, 1.0, None, tape, push, (kinks, corners), LOSS)
            else:
                w = 1.0 / program.steps if program.problem.reduce == "mean" else 1.0
                for t in range(1, program.steps + 1):
                    adjoint[f"{LOSS}[{t}]"] = w
            for (key, expr, t), tape in zip(reversed(self.instances), reversed(tapes)):
                g = adjoint.get(key)
                if g is None:
                    continue
                numbers.at(key, t, backward=True)
                self._back(expr, g, t, tape, push, (kinks, corners), key)
        return adjoint, kinks, corners

    def _back(self, root: Op, g, t, tape, push, met, key) -> None:
        """The adjoints of the leaves of root; ``met``: (relu's kinks, other kinks) found, by key."""
        A = self.algebra
        stack = [(root, g)]
        while stack:
            e, g = stack.pop()
            if e.op in ("leaf", "at"):
                push(self.ref(e, t), A.unbroadcast(g, e.shape) if isinstance(g, np.ndarray) else g)
                continue
            if e.op == "num":
                continue
            xs = [tape[id(a)] for a in e.args]
            if e.op == "fn" and e.name == "relu" and np.any(np.asarray(xs[0]) == 0):
                met[0].append(key)
            elif e.op == "fn" and e.name in RULES and RULES[e.name].kink is not None:
                if np.any(RULES[e.name].kink(*xs, *(e.extra or ()))):
                    met[1].append(key)
            elif e.op in ("amax", "amin") and np.sum(np.asarray(xs[0]) == tape[id(e)]) > (
                    1 if e.extra is None else np.size(tape[id(e)])):
                met[1].append(key)  # a tie for the largest: the gradient is shared, as torch.amax
            elif e.op == "max_pool" and _pool_ties(xs[0], *e.extra):
                met[1].append(key)  # a tie in a window: the gradient is PyTorch's, the first entry's
            elif e.op == "cmp" and np.any(np.asarray(xs[0]) == np.asarray(xs[1])):
                met[1].append(key)  # a tie: the step of the comparison, where differences jump
            for a, ga in zip(e.args, vjp(A, e, g, xs, tape[id(e)])):
                stack.append((a, ga))

    def run(self, values: dict) -> Pass:
        """The forward and backward pass at these values (``[values]`` form)."""
        leaves = self.leaf_values(values)
        numbers, tapes = self.forward(leaves)
        adjoint, kinks, corners = self.backward(numbers, tapes)
        return Pass(float(numbers[LOSS]), numbers, adjoint, kinks=list(dict.fromkeys(kinks)), leaves=leaves,
                    corners=list(dict.fromkeys(corners)))

    def loss_at(self, leaves: dict[str, Number]) -> float:
        values, _ = self.forward(leaves)
        return values[LOSS]


_WHAT = {"matmul": "a matrix product", "sum": "a sum", "mean": "a mean", "softmax": "softmax",
         "log_softmax": "log_softmax"}
_SIGN = {"add": "+", "mul": "*", "matmul": "*", "div": "/"}


def _number(v) -> Number:
    if isinstance(v, np.ndarray):
        return np.float64(v[0, 0]) if v.shape == (1, 1) else v.astype(float)
    return np.float64(v)


# Formulas --------------------------------------------------------------------------


class FormulaValues:
    """Numbers for the symbols of printed formulas: named values, adjoints, δ."""

    def __init__(self, machine: Machine, run: Pass):
        self.machine = machine
        self.run = run
        self.deltas: dict[str, Number] = {}

    def get(self, m: Op, t) -> Number:
        A = self.machine.algebra
        if m.op in ("leaf", "at"):
            return self.run.values[self.machine.ref(m, t)]
        if m.op == "adj":
            return self.run.adjoints.get(self.machine.ref(m, t), _zeros(m.shape))
        if m.op == "delta":
            return self.deltas.get(self.machine.ref(m, t), _zeros(m.shape))
        if m.op == "num":
            return np.float64(m.extra)
        if m.op == "ones":
            return np.ones(m.shape)
        if m.op == "deriv":
            return squash(self.derivative(m, t))
        if m.op == "diag":  # alone, as a matrix; in a product, as the scaling it is
            return np.diagflat(self.derivative(m, t))
        if m.op == "matmul" and any(a.op == "diag" for a in m.args):
            left, right = m.args
            if left.op == "diag" and right.op == "diag":
                return np.diagflat(self.derivative(left, t) * self.derivative(right, t))
            if left.op == "diag":
                return squash(self.derivative(left, t).reshape(-1, 1) * self.get(right, t))
            return squash(self.get(left, t) * self.derivative(right, t).reshape(1, -1))
        if m.op == "T" and m.args[0].op == "diag":
            return self.get(m.args[0], t)
        if m.op == "rows":
            start, stop = m.extra
            return A.rows(self.get(m.args[0], t), start, stop, m.shape)
        if m.op == "place":
            return A.place(self.get(m.args[0], t), m.shape, m.extra)
        return squash(FORWARD[m.op](A, m, [self.get(a, t) for a in m.args]))

    def derivative(self, m: Op, t) -> np.ndarray:
        """f'(z) entry by entry, for diag(f'(z)) or f'(z) in a formula."""
        d, symbols = m.extra
        args = [self.get(a, t) for a in m.args]  # the inputs, then the output
        value = self.machine.algebra.formula(d, symbols)(*args)
        return value * np.ones(np.broadcast_shapes(*(np.shape(a) for a in args)))

    def formula(self, f: Formula, t) -> Number:
        """The value of a formula at step t (None outside the cell)."""
        total = 0.0
        steps = self.machine.program.steps
        for term in f.terms:
            if term.at is not None:
                if t != term.at:
                    continue
            elif t is not None and t + term.later > steps:
                continue
            if term.each_t:
                for s in range(1, steps + 1):
                    total = total + self.get(term.expr, s)
            else:
                total = total + self.get(term.expr, t)
        return squash(total) if isinstance(total, np.ndarray) else total


def _zeros(shape):
    return 0.0 if shape is None else np.zeros(shape)
