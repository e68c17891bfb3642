"""The entry-by-entry scalar engine's numbers: an independent check.

Every scalar node's line is lambdified (once per cell line for a recurrent
model) and run node by node; the reverse sweep multiplies each node's local
derivatives.  It checks the array engine on problems small enough to expand
(``MAX_SCALAR_NODES``), and is reported as skipped above that.

``lambdify(..., cse=True)`` is only ever called on SymPy objects the engine
built, never on text.
"""

import functools
from dataclasses import dataclass

import numpy as np
import sympy
from sympy import ImmutableMatrix, Symbol

from ..derive.backprop import Derivation, derivation_of
from ..derive.graph import Graph, Quantity, graph_of
from ..derive.program import Program, nd_values, size
from ..errors import SympropError
from ..model.functions import is_undefined, numeric_namespace, relu_prime
from ..model.kinds import Role
from .checks import Said
from .faults import LARGEST, NumericFault, Watch, gap

MAX_SCALAR_TERMS = 4_000  # the scalar engine expands every entry: small problems only


def scalar_terms(program: Program) -> int:
    """How many scalar terms the entry-by-entry engine would build: every
    entry of every operation, a matrix product counting its inner sums."""

    def work(e) -> int:
        inner = (e.args[0].shape or (1, 1))[1] if e.op == "matmul" else 1
        if e.op in ("softmax", "log_softmax"):  # every entry reads every entry, and SymPy differentiates each
            inner = 50 * size(e.shape)
        return size(e.shape) * inner + sum(work(a) for a in e.args)

    steps = program.steps or 0
    outside = program.before + program.after + ([program.loss] if program.loss.expr else [])
    return sum(work(line.expr) for line in outside) + steps * sum(work(line.expr) for line in program.cell)


def too_large(program: Program, what: str) -> str | None:
    """Why a check that expands every entry skips this program (None: it runs)."""
    if nd_values(program):
        return "values of three axes or more are checked by finite differences and PyTorch, not entry by entry"
    n = scalar_terms(program)
    return f"{n} scalar terms; {what} of up to {MAX_SCALAR_TERMS}" if n > MAX_SCALAR_TERMS else None


class LogSumExp(sympy.Function):
    """log(exp(a) + exp(b) + …), computed without overflow (numbers only)."""

    def _eval_is_extended_real(self):
        return True


def stable(expr):
    """softmax and log_softmax as the array engine computes them: log Σ exp(aᵢ)
    as LogSumExp(a…), 1/(Σ exp(aᵢ))ⁿ as exp(−n·LogSumExp(a…)), and the
    exponentials of a product as one, exp(a − LogSumExp(a…)); so large logits
    (800) give numbers, not inf/inf.  Only for lambdify: documents print the
    plain form."""
    if not isinstance(expr, sympy.Basic) or not expr.has(sympy.exp):
        return expr

    def sum_of_exps(e) -> bool:
        return e.is_Add and all(isinstance(t, sympy.exp) for t in e.args)

    def lse(e):
        return LogSumExp(*[t.args[0] for t in e.args])

    out = expr.replace(lambda x: isinstance(x, sympy.log) and sum_of_exps(x.args[0]), lambda x: lse(x.args[0]))
    out = out.replace(lambda x: x.is_Pow and x.exp.is_negative and sum_of_exps(x.base),
                      lambda x: sympy.exp(x.exp * lse(x.base)))
    return out.replace(
        lambda x: x.is_Mul and sum(isinstance(f, sympy.exp) for f in x.args) > 1,
        lambda x: sympy.Mul(*[f for f in x.args if not isinstance(f, sympy.exp)],
                            sympy.exp(sympy.Add(*[f.args[0] for f in x.args if isinstance(f, sympy.exp)]))))


def _lambdify(args, expr, namespace, cache=None):
    """lambdify with the arguments renamed to plain identifiers a0, a1, ...

    Names like ``h[t-1]`` would make lambdify rename them itself, one
    substitution over the whole expression per argument (quadratic for a long
    sum).  Renamed, the neurons of one layer are the same expression, so a
    ``cache`` compiles each shape of line once.
    """
    plain = [Symbol(f"a{i}", real=True) for i in range(len(args))]
    rename = dict(zip(args, plain))
    if isinstance(expr, list):
        expr = [stable(e.xreplace(rename)) if isinstance(e, sympy.Basic) else e for e in expr]
        key = tuple(expr)
    else:
        expr = stable(expr.xreplace(rename))
        key = expr
    if cache is not None and (len(plain), key) in cache:
        return cache[(len(plain), key)]
    f = sympy.lambdify(plain, expr, modules=[{**namespace, "LogSumExp": _logsumexp}, "numpy"], cse=True)
    if cache is not None:
        cache[(len(plain), key)] = f
    return f


def _logsumexp(*xs):
    return functools.reduce(np.logaddexp, xs)


def _ordered(symbols) -> list[Symbol]:
    return sorted(symbols, key=lambda s: s.name)


@dataclass
class _Compiled:
    """A node's value and local derivatives as lambdified functions."""

    args: list[Symbol]
    value: object  # f(*args) -> node value
    parents: list[Symbol]
    local_args: list[Symbol]
    local: object  # f(*local_args) -> [d node / d parent for each parent]
    kink_args: object | None  # f(*local_args) -> [arguments of relu' in the line]


@dataclass
class _Step:
    """One node of the graph, pointing at its compiled functions."""

    symbol: Symbol
    compiled: _Compiled
    args: list  # the node's own symbols (or numbers) for compiled.args
    parents: list
    local_args: list
    key: str = ""  # the quantity, for messages: "z", "h[2]"
    step: int | None = None


def _linear(expr) -> dict | None:
    """{symbol: coefficient} (and {1: constant}) when expr is a weighted sum."""
    if not expr.is_Add or len(expr.args) < 32:
        return None
    terms = expr.as_coefficients_dict()
    if all(t == 1 or isinstance(t, Symbol) for t in terms):
        return {t: float(c) for t, c in terms.items()}
    return None


def _compile_linear(node, terms: dict) -> _Compiled:
    """A long weighted sum (the total of per-step losses): no lambdify, whose
    generated code would nest one level per term."""
    constant = terms.pop(1, 0.0)
    args = _ordered(terms)
    weights = [terms[a] for a in args]

    def value(*xs):
        return constant + sum(w * x for w, x in zip(weights, xs))

    return _Compiled(args, value, list(args), [], lambda: weights, None)


def _compile(node, local: dict, namespace, cache=None) -> _Compiled:
    terms = _linear(node.expr)
    if terms is not None:
        return _compile_linear(node, terms)
    args = _ordered(node.expr.free_symbols)
    parents = list(local)
    exprs = [local[p] for p in parents]
    local_args = _ordered(set(args) | {node.symbol})
    kinks = sorted({k.args[0] for e in exprs for k in e.atoms(relu_prime)}, key=sympy.default_sort_key)
    return _Compiled(
        args,
        _lambdify(args, node.expr, namespace, cache),
        parents,
        local_args,
        _lambdify(local_args, exprs, namespace, cache),
        _lambdify(local_args, kinks, namespace, cache) if kinks else None,
    )


class Evaluator:
    """Numbers for every node: each line (each cell line of a recurrent model)
    is lambdified once and then called node by node, step by step."""

    def __init__(self, derivation: Derivation, relu_grad_at_zero: float):
        self.derivation = derivation
        self.graph = derivation.graph
        namespace = numeric_namespace(relu_grad_at_zero)
        _check_defined(self.graph)
        cell = {}
        if self.graph.cell:
            cell = {
                n.symbol: _compile(n, derivation.cell_local[n.symbol], namespace)
                for n in self.graph.cell.nodes
            }
        self.steps = []
        cache: dict = {}
        for node in self.graph.nodes:
            if node.cell is None:
                compiled = _compile(node, derivation.local[node.symbol], namespace, cache)
                self.steps.append(
                    _Step(node.symbol, compiled, compiled.args, compiled.parents, compiled.local_args, node.key)
                )
                continue
            compiled = cell[node.cell.symbol]
            bind = [_bound(node.binding, a) for a in compiled.args]
            self.steps.append(
                _Step(
                    node.symbol,
                    compiled,
                    bind,
                    [_bound(node.binding, p) for p in compiled.parents],
                    [_bound(node.binding, a) for a in compiled.local_args],
                    node.key,
                    node.step,
                )
            )

    def forward(self, leaves: dict[Symbol, float]) -> dict[Symbol, np.float64]:
        """Every node's number, in float64 with NumPy's semantics (1/0 is inf,
        not ZeroDivisionError); a value that is not finite stops with a NumericFault."""
        values = {k: np.float64(v) for k, v in leaves.items()}
        with Watch(self.graph.problem.origin) as numbers:
            for s in self.steps:
                numbers.at(s.key, s.step)
                values[s.symbol] = np.float64(numbers.check(s.compiled.value(*_fetch(values, s.args))))
        return values

    def forward_batch(self, leaves: dict[Symbol, np.ndarray]) -> np.ndarray:
        """The loss for many leaf values at once (arrays of one length)."""
        values = dict(leaves)
        with np.errstate(all="ignore"):
            for s in self.steps:
                values[s.symbol] = np.asarray(s.compiled.value(*_fetch(values, s.args)), dtype=float)
        return np.broadcast_to(values[self.graph.loss], next(iter(leaves.values())).shape)

    def backward(self, values: dict[Symbol, float]):
        """Adjoints of every node and symbol, and the kinks met on the way."""
        adjoint: dict[Symbol, float] = {self.graph.loss: np.float64(1.0)}
        kinks = []
        with Watch(self.graph.problem.origin) as numbers:
            self._sweep(values, adjoint, kinks, numbers)
        return adjoint, kinks

    def _sweep(self, values, adjoint, kinks, numbers) -> None:
        graph = self.graph
        shown = {n.symbol: n.key for n in graph.nodes}  # not the inputs' adjoints
        shown.update({p: graph.leaves[p][0] for p in graph.param_symbols()})
        for s in reversed(self.steps):
            numbers.at(s.key, s.step, backward=True)
            upstream = adjoint.get(s.symbol, 0.0)
            args = _fetch(values, s.local_args)
            if upstream != 0.0:
                for parent, d in zip(s.parents, s.compiled.local(*args)):
                    if parent.__class__ is not float:
                        adjoint[parent] = adjoint.get(parent, 0.0) + upstream * np.float64(d)
                        if parent in shown:
                            numbers.check_adjoint(shown[parent], adjoint[parent])
            kink = s.compiled.kink_args
            if kink is not None and any(float(a) == 0.0 for a in kink(*args)):
                kinks.append(s.symbol)

    def loss(self, leaves: dict[Symbol, float]) -> float:
        return self.forward(leaves)[self.graph.loss]


def _bound(binding: dict, symbol: Symbol):
    """The step's symbol for a cell symbol, or a float for a constant."""
    value = binding.get(symbol, symbol)
    return value if isinstance(value, Symbol) else float(value)


def _fetch(values: dict, items: list) -> list:
    return [values[a] if a.__class__ is not float else a for a in items]


def _check_defined(graph: Graph) -> None:
    cell = graph.cell.nodes if graph.cell else []
    for node in [n for n in graph.nodes if n.cell is None] + cell:
        for f in node.expr.atoms(sympy.Function):
            if is_undefined(type(f)):
                raise SympropError(
                    f"the activation '{type(f).__name__}' is left undefined (model.functions), "
                    "so there are no numbers to compute; use derive for the symbolic solution",
                    where=graph.problem.origin,
                )


def leaf_values(graph: Graph, values: dict[str, object]) -> dict[Symbol, float]:
    """A number for every leaf symbol, or an error naming all that are missing."""
    result, missing = {}, []
    for symbol, (key, entry) in graph.leaves.items():
        q = graph.quantities[key]
        given = values.get(q.name)
        if given is not None and q.step is not None:
            given = given[q.step] if q.step < len(given) else None
        if given is None:
            if key not in missing:
                missing.append(key)
            continue
        if isinstance(given, np.ndarray) != bool(entry) or (
            isinstance(given, np.ndarray) and given.shape != q.shape
        ):
            raise SympropError(
                f"values.{q.name}: has shape {_shape_text(given)} but the model uses "
                f"{_shape_text(q.value)}",
                where=graph.problem.origin,
            )
        value = given[entry if len(entry) == 2 else (entry[0], 0)] if entry else given
        result[symbol] = value if isinstance(value, sympy.Rational) else float(value)  # exact.py's stay exact
    if missing:
        raise SympropError(
            f"no values for {', '.join(missing)} (give them under [values])",
            where=graph.problem.origin,
        )
    return result


def _shape_text(value) -> str:
    shape = getattr(value, "shape", None)
    return "scalar" if shape is None else f"{shape[0]}x{shape[1]}"


def gather(q: Quantity, numbers: dict, convert=float, dtype=float):
    """A quantity's number: a float (or ``convert``'s number, a Rational), or
    an array of them shaped like the quantity; a symbol without one is 0."""

    def number(entry):
        return convert(numbers.get(entry, 0) if isinstance(entry, Symbol) else entry)

    if isinstance(q.value, ImmutableMatrix):
        return np.array([[number(e) for e in row] for row in q.value.tolist()], dtype=dtype)
    return number(q.value)


def oversize(program: Program) -> Said | None:
    """Why a check that expands every entry skips this program, in a check's
    words (its "too_large" phrase, or the languages' "check_nd"); None: it runs."""
    if nd_values(program):
        return Said("check_nd")
    n = scalar_terms(program)
    return Said("too_large", n=n, most=MAX_SCALAR_TERMS) if n > MAX_SCALAR_TERMS else None


def scalar_check(problem, program: Program, values: dict, gradients: dict, adjoints: dict) -> dict:
    """The gradients and adjoints of the array engine against the scalar
    engine's: the fields of ``checks.scalar_engine.Compared``."""
    skipped = oversize(program)
    if skipped:
        return {"skipped": skipped, "passed": True}
    graph = graph_of(problem)
    evaluator = Evaluator(derivation_of(problem), problem.conventions.relu_grad_at_zero)
    try:
        numbers = evaluator.forward(leaf_values(graph, values))
        adjoint, _ = evaluator.backward(numbers)
    except NumericFault as e:  # where the array engine's numbers are finite
        return {"compared": 0, "max_abs_error": LARGEST, "passed": False, "not_finite": e.message}
    worst, compared = 0.0, 0
    theirs = {q.name: gather(q, adjoint) for q in graph.params}
    theirs.update({q.key: gather(q, adjoint) for q in graph.quantities.values() if q.kind == Role.NODE})
    ours = {**adjoints, **gradients}
    for key, value in theirs.items():
        if key in ours:
            a, b = np.asarray(ours[key], dtype=float), np.asarray(value, dtype=float)
            if a.size != b.size:
                raise SympropError(f"the array engine gives {key} {a.shape} where the scalar engine has {b.shape}")
            worst = max(worst, gap(a.reshape(-1), b.reshape(-1)))
            compared += 1
    scale = max([1.0] + [float(np.max(np.abs(np.asarray(g, dtype=float)))) for g in gradients.values()])
    return {"compared": compared, "max_abs_error": worst, "passed": worst <= 1e-9 * scale}
