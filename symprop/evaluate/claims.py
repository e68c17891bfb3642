"""A source's claims about formulas and structure, checked.

``formula_claims(problem, solution=None) -> list[FormulaClaim]`` checks every
``formula.grad.P``, ``formula.adjoint.NAME`` and ``through_time.P`` of the
spec's ``[expected]`` (grammar: ``model/claim_syntax.py``) and returns one
record a claim, in the spec's order.  ``numeric.solve`` puts them on the
solution (``Solution.formula_claims``); ``symprop check`` lists them.

How a formula is checked:

- with numbers (``[values]``, or ``solution``): the formula is evaluated with
  NumPy from the solution's values and adjoints (the first pass), at every
  step t for a claim about ``h[t]`` (the steps where every value it names
  exists: ``adjoint(h[t+1])`` leaves out t = T), and compared with symprop's
  own ∂L/∂… entry by entry;
- a scalar problem without numbers: symbolically, the values and adjoints in
  closed form (undefined functions stay symbolic): compared at random points
  (fixed seed; an undefined f taken as one generic function, sin(1.3z) +
  0.4z², and f′ as its derivative), and an agreement proved by
  ``sympy.simplify(claim − derived) == 0`` where the expression is small;
- a problem with vectors or matrices but no numbers: as with numbers, at
  random values (fixed seed).

A product whose shapes do not conform makes the claim WRONG, with the reason
"the product is not defined: (2×1)·(2×2)"; a formula whose value cannot have
the shape of the gradient is a SympropError naming the key, as is every
other bad input.
"""

import ast
import random
from dataclasses import dataclass

import numpy as np
import sympy

from ..derive.backprop import derivation_of
from ..derive.closed_form import ClosedForms, tree_size
from ..derive.program import Program, has_arrays, program_of
from ..derive.sweep import through_time
from ..errors import SympropError, printable
from ..model.claim_syntax import ADJOINT, DIAG, SUM_T, ClaimSpec
from ..model.functions import REDUCTIONS, RULES, numeric_namespace
from ..model.kinds import ClaimKind, Role
from ..model.operations import log_softmax, logsumexp, reduce, softmax, squash
from ..model.parse import MAX_EXPONENT, SOFTMAX, call_parameters
from ..model.spec import LOSS, Problem
from .arrays import Machine, NumPy
from .exact import at_numbers, rational
from .scalar import leaf_values

RTOL = 1e-8  # agreement asked of a formula, relative to the size of the numbers
RANDOM_POINTS = 5
MAX_SIMPLIFY = 600  # expression tree size above which simplify is not tried
MAX_SIMPLE_POWER = 8  # nor with a power higher than this (simplify would expand it)


@dataclass(frozen=True)
class FormulaClaim:
    """One claim about a formula or structure, checked.

    key: the spec's key after "expected." ("formula.grad.w3", "through_time.v");
    claimed: the formula text exactly as the spec gives it (or the boolean);
    ok: whether it agrees with symprop's derivation;
    reason: why not, in a few words ("differs in sign", "the product is not
    defined: (2×1)·(2×2)", "differs by a factor 2", "differs (by up to 0.3
    at t = 2)"), or how it agrees ("agrees symbolically");
    kind: "grad", "adjoint" or "through_time"; target: the parameter or value;
    step: the fixed step of a claim about h[3]; steps: the steps t a claim
    about h[t] was checked at; how: "symbolic", "values", "random values" or
    "structure"; part: the piece of the formula, as written, whose product (or
    sum …) is not defined ("" otherwise); why: the verdict as a word a document
    can put in any language ("agrees", "sign", "factor", "zero", "transpose",
    "not_defined", "not_finite", "differs"), detail: its one argument (the
    factor, or the two shapes that do not conform).
    """

    key: str
    claimed: str | bool
    ok: bool
    reason: str
    kind: str = ""
    target: str = ""
    step: int | None = None
    steps: tuple[int, ...] = ()
    how: str = ""
    part: str = ""  # the piece of the claimed text a "not defined" reason is about
    why: str = ""
    detail: str = ""

    def to_json(self) -> dict:
        return {"key": self.key, "claimed": self.claimed, "ok": self.ok, "reason": self.reason}


def formula_claims(problem: Problem, solution=None) -> list[FormulaClaim]:
    """Every formula and structure claim of the spec, checked (see the module).

    ``solution``: a ``numeric.Solution`` whose first pass gives the numbers;
    without one the numbers come from ``[values]`` (or random values, or none)."""
    if not problem.claims:
        return []
    world = None
    out = []
    for claim in problem.claims:
        try:
            if claim.kind == ClaimKind.THROUGH_TIME:
                out.append(_through_time(problem, claim))
                continue
            if world is None:
                world = _world(problem, solution)
            with np.errstate(all="ignore"):  # a claimed value that is not finite is a verdict, never a warning
                out.append(_formula(world, claim))
        except SympropError as e:
            message = str(e)[len(printable(e.where)) + 2:] if e.where else str(e)
            raise SympropError(f"expected.{claim.key}: {message}", where=problem.origin) from None
    return out


def random_values(program: Program, seed: int = 1) -> dict:
    """Numbers for every parameter and input, shaped as the model reads them."""
    rng = np.random.default_rng(seed)
    values: dict = {}

    def draw(shape):
        return rng.uniform(0.2, 0.9, shape) if shape else float(rng.uniform(0.2, 0.9))

    for key, leaf in program.leaves.items():
        if leaf.kind in (Role.PARAM, Role.INPUT) and key == leaf.name:
            values[key] = draw(leaf.shape)
        elif leaf.kind == Role.SEQUENCE:
            values[key] = [draw(leaf.shape) for _ in range(program.steps + 1)]
    return values


# Structure ----------------------------------------------------------------------------


def _through_time(problem: Problem, claim: ClaimSpec) -> FormulaClaim:
    found = {p.name: p for p in through_time(program_of(problem)) if not p.computed}[claim.target]
    p = claim.target
    if found.through_time:
        states = ", ".join(f"{s}[t]" for s in found.states)
        first = found.states[0]
        why = (f"{p} enters {states} at the same step, and {first}[t] depends on {p} also through "
               f"{first}[t-1]: the gradient sums back through time")
    else:
        why = f"{p} enters no hidden state at the same step: its gradient needs no sum back through time"
    ok = claim.claimed == found.through_time
    return FormulaClaim(claim.key, claim.claimed, ok, ("agrees: " if ok else "") + why,
                        "through_time", p, how="structure")


# Worlds: what names, adjoints and functions mean ------------------------------------------


class _NotDefined(Exception):
    """The formula has no value: a product (or sum …) of shapes that do not conform."""

    def __init__(self, reason: str, node: ast.AST | None = None, shapes: str = "", why: str = "not_defined"):
        super().__init__(reason)
        self.node = node
        self.shapes = shapes  # "(2×1)·(2×2)": the operands that do not conform
        self.why = why  # "product" for a matrix product, else "not_defined"


class _OutOfRange(Exception):
    """A step outside the sequence: the formula does not apply at this t."""


class _Numbers:
    """Values and adjoints of one pass, as NumPy numbers."""

    symbolic = False

    def __init__(self, problem: Problem, values: dict, adjoints: dict, how: str):
        self.problem = problem
        self.values = values
        self.adjoints = adjoints
        self.how = how
        self.algebra = NumPy(problem.conventions.relu_grad_at_zero)
        self.steps = problem.steps or 0

    @staticmethod
    def number(c):
        return np.float64(c)

    def _key(self, name: str, step: int | None) -> str:
        key = name if step is None else f"{name}[{step}]"
        if key in self.values:
            return key
        if step is not None and (step <= 0 or step > self.steps):
            raise _OutOfRange(key)
        raise SympropError(f"no value for {key}")

    def value(self, name: str, step: int | None):
        if name == LOSS and step is None:
            return np.float64(self.values[LOSS])
        return self._flat(name, self.values[self._key(name, step)])

    def _flat(self, name: str, v):
        """A value the spec holds as a 1-d array is marked so (NumPy lines it up as a row)."""
        ndims = program_of(self.problem).ndims
        if ndims.get(name) == 1 and isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[1] == 1:
            return v.view(_Flat)
        return v

    def adjoint(self, name: str, step: int | None):
        if name == LOSS:
            return np.float64(1.0 if step is None or self.problem.reduce == "sum" else 1.0 / self.steps)
        key = self._key(name, step)
        g = self.adjoints.get(key)
        if g is None:
            v = self.values[key]
            return self._flat(name, np.zeros_like(v)) if isinstance(v, np.ndarray) else np.float64(0.0)
        return self._flat(name, g)

    def apply(self, f: str, *args):
        """f at its inputs, then its parameters (leaky_relu's slope; a missing one at its default)."""
        if f not in RULES:
            raise SympropError(f"'{f}' is left undefined (model.functions): there are no numbers for it")
        args = [float(a) if isinstance(a, sympy.Basic) else a for a in RULES[f].arguments(args)]
        with np.errstate(all="ignore"):
            return squash(self.algebra.apply[f](*args))

    def prime(self, f: str, x):
        y = self.apply(f, x)
        params = [float(p) for p in RULES[f].arguments([x])[1:]]
        with np.errstate(all="ignore"):
            d = self.algebra.partials[f](x, y, *params)[0] * np.ones_like(np.asarray(x, dtype=float))
        return squash(d)


class _Symbols:
    """Values and adjoints in closed form (a scalar problem without numbers)."""

    symbolic = True
    how = "symbolic"

    def __init__(self, problem: Problem):
        d = derivation_of(problem)
        self.problem = problem
        self.graph = d.graph
        self.forms = ClosedForms(d)
        self.steps = problem.steps or 0
        self.leaf_kinds = ("param", "input", "initial")

    @staticmethod
    def number(c):
        return sympy.Integer(c) if isinstance(c, int) else sympy.Float(c)

    def _quantity(self, name: str, step: int | None):
        key = name if step is None else f"{name}[{step}]"
        q = self.graph.quantities.get(key)
        if q is not None:
            return q
        if step is not None and (step <= 0 or step > self.steps):
            raise _OutOfRange(key)
        if name in self.problem.sequences and name not in {e.target for e in self.problem.equations}:
            return None  # an input at a step the model does not read
        raise SympropError(f"no value for {key}")

    def value(self, name: str, step: int | None):
        q = self._quantity(name, step)
        if q is None:
            return sympy.Symbol(f"{name}[{step}]", real=True)
        if isinstance(q.value, sympy.ImmutableMatrix):
            raise SympropError("symbolic claims are for scalar problems; give [values]")
        if q.kind in self.leaf_kinds:
            return q.value
        return self._closed(self.forms.of_value(q.value), q.key)

    def adjoint(self, name: str, step: int | None):
        q = self._quantity(name, step)
        if q is None or not isinstance(q.value, sympy.Symbol):
            return sympy.S.Zero
        return self._closed(self.forms.of_adjoint(q.value), f"∂L/∂{q.key}")

    def _closed(self, e, what: str):
        if e is None:
            raise SympropError(f"the closed form of {what} exceeds {self.forms.limit} terms: give [values] "
                               "to check the formula with numbers")
        return e

    def apply(self, f: str, *args):
        return RULES[f].of(*args) if f in RULES else self.graph.functions[f](*args)

    def prime(self, f: str, x):
        if f in RULES:
            return RULES[f].partials([x], RULES[f].of(x))[0]
        return self.graph.functions[f].prime(x)


def _world(problem: Problem, solution):
    program = program_of(problem)
    given = dict(problem.values)
    if problem.training.batches:
        given.update(problem.training.batches[0])
    if solution is not None:
        step = solution.first
        leaves = Machine(program, problem.conventions.relu_grad_at_zero).leaf_values(given)
        values = {**_claims_only(given, leaves), **leaves, **step.leaves, **step.values, LOSS: step.loss}
        return _Numbers(problem, values, {**step.adjoints, **step.gradients}, "values")
    if problem.values:
        values, how = given, "values"
    elif not has_arrays(program):
        return _Symbols(problem)
    elif problem.functions:
        raise SympropError("cannot be checked: the model has vectors or matrices and undefined functions, "
                           "so there are neither numbers nor scalar closed forms; give [values]")
    else:
        values, how = random_values(program), "random values"
    run = Machine(program, problem.conventions.relu_grad_at_zero).run(values)
    return _Numbers(problem, {**_claims_only(given, run.values), **run.values, LOSS: run.loss}, run.adjoints, how)


def _claims_only(given: dict, known: dict) -> dict:
    """The given values the model does not read (a formula claim may), as the
    array engine holds numbers: a 1x1 as a float."""
    return {k: (np.float64(v.reshape(-1)[0]) if v.size == 1 else v) if isinstance(v, np.ndarray) else np.float64(v)
            for k, v in given.items() if k not in known and not isinstance(v, list)}


# The formula's value ----------------------------------------------------------------------


def _shape(v):
    return v.shape if isinstance(v, np.ndarray) else None


def _show(shape) -> str:
    rows, cols = shape or (1, 1)
    return f"{rows}×{cols}"


_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_WHAT = {"+": "the sum", "-": "the difference", "*": "the elementwise product", "/": "the quotient",
         "**": "the power"}
_SIGN = {"+": "+", "-": "−", "*": "⊙", "/": "/", "**": "^"}


def _is_number(v) -> bool:
    return v.is_number if isinstance(v, sympy.Basic) else not isinstance(v, np.ndarray)


def _check_power(base, exponent) -> None:
    """As the equations' parser: a number as exponent at most MAX_EXPONENT, and no
    number power beyond 10**300 (SymPy would compute it exactly)."""
    if not _is_number(exponent):
        return
    e = complex(exponent)
    if e.imag or not abs(e.real) <= MAX_EXPONENT:
        raise SympropError(f"an exponent is out of range (at most {MAX_EXPONENT})")
    if _is_number(base) and not isinstance(base, np.ndarray):
        magnitude = abs(e.real) * float(np.log10(abs(complex(base)) + 2))
        if magnitude > 300:
            raise SympropError("a number in the formula is too large")


class _Flat(np.ndarray):
    """A value the spec holds as a 1-d array, kept as a column."""


def _numpy_aligned(a, b):
    """NumPy's broadcasting of a 1-d value against a matrix whose rows it fits:
    the 1-d value as a row.  A column of its length (what a function of it
    gives here) stays its equal."""
    def fits_as_row(flat, other) -> bool:
        return (isinstance(flat, _Flat) and isinstance(other, np.ndarray) and not isinstance(other, _Flat)
                and other.ndim == 2 and other.shape[1] == flat.shape[0] and other.shape != flat.shape)

    if fits_as_row(a, b):
        return np.asarray(a).T, b
    if fits_as_row(b, a):
        return a, np.asarray(b).T
    return a, b


class _Evaluator:
    """A claim's syntax tree (checked by claim_syntax) evaluated in a world at step t."""

    def __init__(self, world, t: int | None):
        self.world = world
        self.t = t
        self.sequences = world.problem.sequences

    def ev(self, node: ast.AST):
        w = self.world
        if isinstance(node, ast.Expression):
            return self.ev(node.body)
        if isinstance(node, ast.Constant):
            return w.number(node.value)
        if isinstance(node, ast.Name):
            return w.value(node.id, None)
        if isinstance(node, ast.UnaryOp):
            v = self.ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Attribute):
            v = self.ev(node.value)
            return np.asarray(v).T if isinstance(v, np.ndarray) else v
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise SympropError(f"syntax '{type(node).__name__}' is not allowed")  # claim_syntax rejects it first

    def step(self, node: ast.AST) -> int:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.t
        k = node.right.value
        return self.t + k if isinstance(node.op, ast.Add) else self.t - k

    def subscript(self, node: ast.Subscript):
        base = node.value
        if isinstance(base, ast.Name) and base.id in self.sequences:
            return self.world.value(base.id, self.step(node.slice))
        v = self.ev(base)
        i = node.slice.value
        shape = _shape(v)
        if shape is None:
            raise SympropError("cannot index a scalar")
        rows, cols = shape
        if 1 in shape:
            if not i < rows * cols:
                raise SympropError(f"index {i} is out of range for {rows}x{cols}")
            return np.float64(v.reshape(-1)[i])
        if not i < rows:
            raise SympropError(f"row {i} is out of range for {rows}x{cols}")
        return v[i:i + 1, :]

    def binary(self, node: ast.BinOp):
        a, b = self.ev(node.left), self.ev(node.right)
        if isinstance(node.op, ast.MatMult):
            sa, sb = _shape(a), _shape(b)
            if (sa or (1, 1))[1] != (sb or (1, 1))[0]:
                shapes = f"({_show(sa)})·({_show(sb)})"
                raise _NotDefined(f"the product is not defined: {shapes}", node, shapes, "product")
            if sa is None or sb is None:
                return a * b
            return squash(a @ b)
        op = _OPS[type(node.op)]
        a, b = _numpy_aligned(a, b)
        sa, sb = _shape(a), _shape(b)
        if sa is not None and sb is not None and sa != sb and not (
            (sa[0] == sb[0] and 1 in (sa[1], sb[1])) or (sa[1] == sb[1] and 1 in (sa[0], sb[0]))
        ):
            shapes = f"({_show(sa)}) {_SIGN[op]} ({_show(sb)})"
            raise _NotDefined(f"{_WHAT[op]} is not defined: {shapes}", node, shapes)
        if op == "**":
            if sb is not None:
                raise _NotDefined(f"the power is not defined: an exponent of {_show(sb)}")
            _check_power(a, b)
        with np.errstate(all="ignore"):
            result = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
                      "**": lambda: a ** b}[op]()
        return squash(result) if isinstance(result, np.ndarray) else result

    def call(self, node: ast.Call):
        w = self.world
        func = node.func
        if isinstance(func, ast.Call):  # D(f)(z)
            return w.prime(func.args[0].id, self.ev(node.args[0]))
        name = func.id
        if name == ADJOINT:
            arg = node.args[0]
            if isinstance(arg, ast.Subscript):
                return w.adjoint(arg.value.id, self.step(arg.slice))
            return w.adjoint(arg.id, None)
        if name == SUM_T:
            total = None
            for s in range(1, w.steps + 1):
                try:
                    term = _Evaluator(w, s).ev(node.args[0])
                except _OutOfRange as e:
                    raise SympropError(f"sum_t(): {e} is outside the steps at t = {s}") from None
                total = term if total is None else self.add(total, term)
            return total
        if name in RULES:  # its inputs, then the literal parameters (slope, alpha)
            inputs = [self.ev(a) for a in node.args[: RULES[name].inputs]]
            return w.apply(name, *inputs, *call_parameters(node))
        v = self.ev(node.args[0])
        if name == DIAG:
            shape = _shape(v)
            if shape is None:
                return v
            if 1 not in shape:
                raise _NotDefined(f"diag() is not defined for a {_show(shape)} matrix: it takes a vector")
            return np.diagflat(v)
        if name in REDUCTIONS:
            return self.reduce(name, v, node.args[1].value if len(node.args) == 2 else None)
        if name == "concat":
            parts = [v] + [self.ev(a) for a in node.args[1:]]
            for p in parts:
                if _shape(p) is not None and _shape(p)[1] != 1:
                    raise _NotDefined(f"concat() is not defined for a {_show(_shape(p))} matrix")
            if self.world.symbolic:
                raise SympropError("concat() needs numbers; give [values]")
            return np.vstack([np.reshape(p, (-1, 1)) for p in parts])
        return w.apply(name, v)

    @staticmethod
    def add(a, b):
        sa, sb = _shape(a), _shape(b)
        if sa != sb:
            shapes = f"({_show(sa)}) + ({_show(sb)})"
            raise _NotDefined(f"the sum over t is not defined: {shapes}", shapes=shapes)
        return a + b

    def reduce(self, name: str, v, axis):
        if not isinstance(v, np.ndarray):
            if name in SOFTMAX:
                raise _NotDefined(f"{name}() is not defined for a scalar")
            return v
        if name in SOFTMAX:
            if axis is None and v.shape[1] != 1:
                raise _NotDefined(f"{name}() is not defined for a {_show(v.shape)} matrix")
            return squash((log_softmax if name == "log_softmax" else softmax)(v, axis))
        fn = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min, "logsumexp": logsumexp}[name]
        return reduce(fn, v, axis)


# Comparing -------------------------------------------------------------------------------


def _formula(world, claim: ClaimSpec) -> FormulaClaim:
    tree = claim.tree()
    if claim.each_step:
        steps = list(range(1, world.steps + 1))
    else:
        steps = [claim.step]
    pairs, checked = [], []
    for t in steps:
        try:
            claimed = _Evaluator(world, t).ev(tree)
            right = world.adjoint(claim.target, t if claim.each_step else claim.step)
        except _OutOfRange:
            if claim.each_step:
                continue
            raise
        except _NotDefined as e:
            part = ast.get_source_segment(claim.claimed.strip(), e.node) or "" if e.node is not None else ""
            return _record(claim, False, str(e), world, checked, part, e.why, e.shapes)
        pairs.append((t, claimed, right))
        checked.append(t)
    if not pairs:
        raise SympropError(f"refers to steps outside 1..{world.steps} at every t")
    if not world.symbolic:
        pairs = _exact_pairs(world.problem, claim, tree, checked) or pairs
    if world.symbolic:
        why, detail, reason = _compare_symbols(world, pairs, claim.each_step)
    else:
        why, detail, reason = _compare_numbers(claim, pairs)
    ok = why == "agrees"
    where = ""
    if claim.each_step and ok:
        where = f", t = {_steps_text(checked)}"
    if ok:
        reason = reason + where if reason != "agrees" else "agrees" + _how(world) + where
    return _record(claim, ok, reason, world, checked, why=why, detail=detail)


def _exact_pairs(problem: Problem, claim: ClaimSpec, tree, steps: list) -> list | None:
    """(t, claimed, right) of each step from the closed forms at the spec's
    values read exactly (0.1 as 1/10), so that no rounding decides: the terms
    of (w + x + y)**40 − (w + x + y)**40 cancel before any float is made.
    For a scalar problem without undefined functions; None when a number is
    not real, too long (MAX_EXACT_BITS) or the closed forms are too large."""
    if problem.functions or has_arrays(program_of(problem)):
        return None
    given = problem.first_values()
    at_zero = rational(problem.conventions.relu_grad_at_zero)
    try:
        world = _Symbols(problem)
        known = {s: rational(v) for s, v in leaf_values(world.graph, given).items()}
        pairs = []
        for t in steps:
            c = at_numbers(_expr(_Evaluator(world, t).ev(tree)), known, at_zero)
            r = at_numbers(_expr(world.adjoint(claim.target, t if claim.each_step else claim.step)), known, at_zero)
            if c is None or r is None or not (c.is_number and r.is_number):
                return None
            c, r = sympy.N(c, 30), sympy.N(r, 30)
            if not (c.is_real and r.is_real and c.is_finite and r.is_finite):
                return None
            pairs.append((t, np.float64(float(c)), np.float64(float(r))))
    except (SympropError, _OutOfRange, _NotDefined, TypeError, ValueError, ZeroDivisionError):
        return None
    return pairs


def _how(world) -> str:
    return {"symbolic": " symbolically", "values": " at the spec's values",
            "random values": " at random values"}[world.how]


def _steps_text(steps: list[int]) -> str:
    if len(steps) > 2 and steps == list(range(steps[0], steps[-1] + 1)):
        return f"{steps[0]}..{steps[-1]}"
    return ", ".join(str(s) for s in steps)


def _record(claim: ClaimSpec, ok: bool, reason: str, world, checked, part: str = "", why: str = "",
            detail: str = "") -> FormulaClaim:
    return FormulaClaim(claim.key, claim.claimed, ok, reason, claim.kind, claim.target, claim.step,
                        tuple(checked) if claim.each_step else (), world.how, part, why, detail)


def _at(t) -> str:
    return "" if t is None else f" at t = {t}"


# What a claim's verdict says, in English (check's report and JSON); documents
# word the same verdicts in their own language.
REASONS = {"agrees": "agrees", "sign": "differs in sign", "zero": "is 0", "factor": "differs by a factor {detail}",
           "transpose": "is the transpose", "not_finite": "is not finite"}


def _verdict(c, r, tol: float) -> tuple[str, str]:
    """(why, detail) for claimed and right numbers: equal, opposite, a multiple, or different."""
    if np.max(np.abs(c - r)) <= tol:
        return "agrees", ""
    if np.max(np.abs(c + r)) <= tol:
        return "sign", ""
    mask = np.abs(r) > tol
    if np.any(mask):
        k = float(np.median(c[mask] / r[mask]))
        if np.max(np.abs(c - k * r)) <= tol * max(1.0, abs(k)):
            return ("zero", "") if k == 0 else ("factor", _nice(k))
    return "differs", ""


def _compare_numbers(claim: ClaimSpec, pairs) -> tuple[str, str, str]:
    """(why, detail, reason): whether the claimed numbers are the derived ones."""
    what = f"∂L/∂{claim.target}" + ("[t]" if claim.each_step else f"[{claim.step}]" if claim.step else "")
    note = ""
    cs, rs = [], []
    for _t, c, r in pairs:
        sc, sr = _shape(c), _shape(r)
        if sc != sr:
            if sr is not None and sc == (sr[1], sr[0]):
                c, note = c.T, " (compared as the transpose)"
            else:
                raise SympropError(f"the formula gives {_show(sc)} but {what} is {_show(sr)}: it cannot be "
                                   f"this {'gradient' if claim.kind == ClaimKind.GRAD else 'adjoint'}")
        cs.append(np.asarray(c, dtype=float).reshape(-1))
        rs.append(np.asarray(r, dtype=float).reshape(-1))
    c, r = np.concatenate(cs), np.concatenate(rs)
    if not np.all(np.isfinite(c)):
        return "not_finite", "", "is not finite at the values" + note
    tol = RTOL * max(1.0, float(np.max(np.abs(r))), float(np.max(np.abs(c))))
    why, detail = _verdict(c, r, tol)
    if why == "agrees":
        return why, "", "agrees, written as the transpose" if note else "agrees"
    if why in ("factor", "differs") and all(_shape(rr) and rr.shape[0] == rr.shape[1] > 1
                                            and np.allclose(cc.T, rr, rtol=0, atol=tol) for _, cc, rr in pairs):
        return "transpose", "", REASONS["transpose"]
    if why != "differs":
        return why, detail, REASONS[why].format(detail=detail) + note
    if np.max(np.abs(r)) <= tol:
        return why, "", "differs: the derivative is 0" + note
    worst, t = max(((float(np.max(np.abs(cc - rr))), t) for (t, _, _), cc, rr in zip(pairs, cs, rs)),
                   key=lambda x: x[0])
    return why, "", f"differs (by up to {worst:.3g}{_at(t) if claim.each_step else ''})" + note


def _compare_symbols(world: _Symbols, pairs, each_step: bool) -> tuple[str, str, str]:
    """The first disagreement; else "agrees" when simplify showed every step's
    agreement, and how it agrees when some step agreed only at random points."""
    weakest = "agrees"
    for t, c, r in pairs:
        why, detail, reason = _compare_exprs(world, c, r)
        if why != "agrees":
            return why, detail, reason + (_at(t) if each_step else "")
        if reason != "agrees":
            weakest = reason
    return "agrees", "", weakest


def _simplified(e):
    """simplify(e), or None when e is too large (or has too high a power) to try."""
    if tree_size(e) > MAX_SIMPLIFY or any(
        p.exp.is_number and abs(p.exp) > MAX_SIMPLE_POWER for p in e.atoms(sympy.Pow)
    ):
        return None
    return sympy.simplify(e)


def _compare_exprs(world: _Symbols, c, r) -> tuple[str, str, str]:
    """Numbers at random points decide (a generic f for an undefined one);
    simplify proves an agreement and words a difference when it can."""
    c, r = _expr(c), _expr(r)
    if c.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        return "not_finite", "", REASONS["not_finite"]
    points = _random_points(world, c, r)
    if points is None:
        diff = _simplified(c - r)
        if diff == 0:
            return "agrees", "", "agrees"
        if _simplified(c + r) == 0:
            return "sign", "", REASONS["sign"]
        return "differs", "", "differs" + (f": claimed − right = {diff}" if diff is not None and len(str(diff)) <= 120
                                           else "")
    a, b = points
    tol = RTOL * max(1.0, float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    why, detail = _verdict(a, b, tol)
    if why == "agrees":
        if _simplified(c - r) == 0:
            return why, "", "agrees"
        return why, "", f"agrees at {len(a)} random points (simplify could not show it)"
    if why != "differs":
        return why, detail, REASONS[why].format(detail=detail)
    diff = _simplified(c - r)
    if diff is not None and len(str(diff)) <= 120:
        return why, "", f"differs: claimed − right = {diff}"
    return why, "", f"differs (by up to {float(np.max(np.abs(a - b))):.3g} at random points)"


def _nice(k: float) -> str:
    q = sympy.Rational(k).limit_denominator(1000)
    return str(q) if abs(float(q) - k) <= 1e-9 * max(1.0, abs(k)) else f"{k:.6g}"


def _expr(v):
    return v if isinstance(v, sympy.Basic) else sympy.Float(float(v))


def _generic(a):
    """A function with no special relation to its derivative, for an undefined f."""
    return sympy.sin(sympy.Rational(13, 10) * a) + sympy.Rational(2, 5) * a**2


def _generic_prime(a):
    return sympy.Rational(13, 10) * sympy.cos(sympy.Rational(13, 10) * a) + sympy.Rational(4, 5) * a


def _random_points(world: _Symbols, c, r) -> tuple[np.ndarray, np.ndarray] | None:
    """c and r at RANDOM_POINTS random points where both are finite (None: no such
    point), every undefined f taken as the same generic function."""
    for f in world.graph.functions.values():
        c, r = c.replace(f, _generic), r.replace(f, _generic)
        c, r = c.replace(f.prime, _generic_prime), r.replace(f.prime, _generic_prime)
    leaves = sorted(c.free_symbols | r.free_symbols, key=str)
    namespace = numeric_namespace(world.problem.conventions.relu_grad_at_zero)
    try:
        fc = sympy.lambdify(leaves, c, modules=[namespace, "numpy"])
        fr = sympy.lambdify(leaves, r, modules=[namespace, "numpy"])
    except (KeyError, TypeError, NameError, SyntaxError):
        return None
    rng = random.Random(0)
    a, b = [], []
    with np.errstate(all="ignore"):
        for _ in range(RANDOM_POINTS * 10):
            point = [rng.uniform(0.1, 1.0) for _ in leaves]
            try:
                x, y = complex(fc(*point)), complex(fr(*point))
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                continue
            if x.imag or y.imag or not (np.isfinite(x.real) and np.isfinite(y.real)):
                continue
            a.append(x.real)
            b.append(y.real)
            if len(a) == RANDOM_POINTS:
                break
    return (np.array(a), np.array(b)) if a else None
