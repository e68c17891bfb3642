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

from ..derive.ops import summed_axes
from ..derive.program import Op, Program, describe, one, walk
from ..derive.rules import vjp
from ..derive.sweep import Formula
from ..errors import SympropError
from ..model.functions import RULES, numeric_namespace
from ..model.kinds import Role
from ..model.operations import OPERATIONS, squash
from ..model.spec import LOSS
from .faults import Watch, finite, number

Number = float | np.ndarray


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
        axes = summed_axes(g.shape, shape)
        return squash(np.reshape(np.sum(g, axis=axes, keepdims=True), shape)) if axes else g

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
    def unpad(g, margins, shape):
        (p, q), (rows, cols) = margins, shape or (1, 1)
        return squash(np.reshape(g, np.shape(g) or (1, 1))[p:p + rows, q:q + cols])

    def op(self, name, args, shape, extra=None, label=""):
        """An operation a vector-Jacobian rule asks for by name (unpool, full_conv …): its record's NumPy form."""
        return OPERATIONS[name].numpy(self, Op(name, (), shape, label, None, extra), list(args))


def _both_arrays(a, b) -> bool:
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray)


FORWARD = {name: record.numpy for name, record in OPERATIONS.items()}


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
        self.sequences = {k for k, leaf in program.leaves.items() if leaf.kind == Role.SEQUENCE}
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
            if leaf.kind == Role.INITIAL:
                out[key] = _number(problem.initial[leaf.name])
                continue
            given = values.get(leaf.name)
            if leaf.kind == Role.INPUT and key != leaf.name:  # a symbolic initial state h[0]
                given = values.get(key)
            if given is None:
                missing.append(key)
                continue
            if leaf.kind == Role.SEQUENCE:
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
            have, want = (describe(s) if s else "scalar" for s in (one(shape), leaf.shape))
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
            if isinstance(v, np.ndarray) and v.shape in ((1, 1), ()):  # np.where of scalars is 0-d
                v = np.float64(v.reshape(-1)[0])
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

    def backward(self, values, tapes, seed: dict | None = None) -> tuple[dict[str, Number], list[str], list[str]]:
        """Every adjoint of the loss; with ``seed`` ({"L[3]": 1.0}), of those
        per-step losses alone (a loss that is the sum of the steps')."""
        program = self.program
        adjoint: dict[str, Number] = {}
        kinks: list[str] = []
        corners: list[str] = []

        with Watch(program.problem.origin) as numbers:
            def push(key, g):
                adjoint[key] = adjoint[key] + g if key in adjoint else g
                if key in self.shown:
                    numbers.check_adjoint(key, adjoint[key])

            if seed is not None:
                adjoint.update(seed)
            elif program.loss.expr is not None:
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
            xs, kink = [tape[id(a)] for a in e.args], OPERATIONS[e.op].kink
            if kink is not None and kink(e, xs, tape[id(e)]):  # relu's kinks apart: a convention of their own
                met[0 if e.op == "fn" and e.name == "relu" else 1].append(key)
            for a, ga in zip(e.args, vjp(A, e, g, xs, tape[id(e)])):
                stack.append((a, ga))

    def run(self, values: dict) -> Pass:
        """The forward and backward pass at these values (``[values]`` form)."""
        leaves = self.leaf_values(values)
        numbers, tapes = self.forward(leaves)
        try:
            adjoint, kinks, corners = self.backward(numbers, tapes)
        except SympropError as e:  # a rule that refuses its numbers (the inverse of a singular matrix)
            raise e.located(self.program.problem.origin) from None
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
