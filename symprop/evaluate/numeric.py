"""Numbers: lambdified node functions, the forward and backward pass, one
gradient-descent step, central finite differences and a source's claims.

``lambdify(..., cse=True)`` is only ever called on SymPy objects the engine
built, never on text.
"""

import math
import re
from dataclasses import dataclass, field

import numpy as np
import sympy
from sympy import ImmutableMatrix, Symbol

from ..derive.backprop import Derivation, derivation_of
from ..derive.graph import Graph, Quantity
from ..derive.matrix_form import matrix_form, verify
from ..errors import SympropError
from ..model.functions import is_undefined, numeric_namespace, relu_prime
from ..model.spec import Problem

FD_TOLERANCE = 1e-5  # relative agreement asked of finite differences


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
        expr = [e.xreplace(rename) if isinstance(e, sympy.Basic) else e for e in expr]
        key = tuple(expr)
    else:
        expr = expr.xreplace(rename)
        key = expr
    if cache is not None and (len(plain), key) in cache:
        return cache[(len(plain), key)]
    f = sympy.lambdify(plain, expr, modules=[namespace, "numpy"], cse=True)
    if cache is not None:
        cache[(len(plain), key)] = f
    return f


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
                    _Step(node.symbol, compiled, compiled.args, compiled.parents, compiled.local_args)
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
                )
            )

    def forward(self, leaves: dict[Symbol, float]) -> dict[Symbol, float]:
        values = dict(leaves)
        with np.errstate(all="ignore"):  # a non-finite value is reported, not warned
            for s in self.steps:
                values[s.symbol] = float(s.compiled.value(*_fetch(values, s.args)))
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
        adjoint: dict[Symbol, float] = {self.graph.loss: 1.0}
        kinks = []
        with np.errstate(all="ignore"):
            self._sweep(values, adjoint, kinks)
        return adjoint, kinks

    def _sweep(self, values, adjoint, kinks) -> None:
        for s in reversed(self.steps):
            upstream = adjoint.get(s.symbol, 0.0)
            args = _fetch(values, s.local_args)
            if upstream != 0.0:
                for parent, d in zip(s.parents, s.compiled.local(*args)):
                    if parent.__class__ is not float:
                        adjoint[parent] = adjoint.get(parent, 0.0) + upstream * float(d)
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
        result[symbol] = float(given[entry if len(entry) == 2 else (entry[0], 0)]) if entry else given
    if missing:
        raise SympropError(
            f"no values for {', '.join(missing)} (give them under [values])",
            where=graph.problem.origin,
        )
    return result


def _shape_text(value) -> str:
    shape = getattr(value, "shape", None)
    return "scalar" if shape is None else f"{shape[0]}x{shape[1]}"


def gather(q: Quantity, numbers: dict[Symbol, float]):
    """A quantity's number: a float, or an array shaped like the quantity."""
    if isinstance(q.value, ImmutableMatrix):
        return np.array(
            [[_number(e, numbers) for e in row] for row in q.value.tolist()], dtype=float
        )
    return _number(q.value, numbers)


def _number(entry, numbers) -> float:
    if isinstance(entry, Symbol):
        return float(numbers.get(entry, 0.0))
    return float(entry)


def to_json(value, matrix: bool = False):
    """A float, a flat list for a column vector, nested lists for a matrix."""
    if isinstance(value, np.ndarray):
        if value.shape[1] == 1 and not matrix:
            return [float(v) for v in value[:, 0]]
        return [[float(v) for v in row] for row in value]
    return float(value)


@dataclass
class Step:
    """One forward and backward pass at one set of values."""

    loss: float
    values: dict[str, object]
    adjoints: dict[str, object]
    gradients: dict[str, object]
    updated: dict[str, object] | None
    kinks: list[str]
    leaves: dict = field(default_factory=dict, repr=False)  # the leaf numbers it ran at
    adjoint: dict = field(default_factory=dict, repr=False)  # dL/d(symbol) for every symbol


@dataclass
class Solution:
    problem: Problem
    steps: list[Step]
    checks: dict
    expected: list[dict] | None = None

    @property
    def first(self) -> Step:
        return self.steps[0]

    def _params(self, table: dict) -> dict:
        return {k: to_json(v, k in self.problem.matrices) for k, v in table.items()}

    def to_json(self) -> dict:
        first = self.first
        out = {
            "title": self.problem.title,
            "loss": float(first.loss),
            "values": {k: to_json(v) for k, v in first.values.items()},
            "adjoints": {k: to_json(v) for k, v in first.adjoints.items()},
            "gradients": self._params(first.gradients),
        }
        if first.updated is not None:
            out["updated"] = self._params(self.steps[-1].updated)
        if len(self.steps) > 1 or self.problem.training.batches:
            out["history"] = [
                {
                    "loss": float(s.loss),
                    "gradients": self._params(s.gradients),
                    "updated": self._params(s.updated),
                }
                for s in self.steps
            ]
        if first.kinks:
            out["kinks"] = {
                "nodes": first.kinks,
                "relu_grad_at_zero": self.problem.conventions.relu_grad_at_zero,
                "note": "relu' is evaluated exactly at 0 here: the derivative does not exist "
                "and the convention relu'(0) is used",
            }
        out["checks"] = self.checks
        if self.expected is not None:
            out["expected"] = self.expected
        return out


def solve(problem: Problem) -> Solution:
    derivation = derivation_of(problem)
    graph = derivation.graph
    evaluator = Evaluator(derivation, problem.conventions.relu_grad_at_zero)
    lr = problem.training.lr
    values = dict(problem.values)
    steps = []
    for batch in problem.training.batches or [{}]:
        values.update(batch)
        step = _step(graph, evaluator, values, lr)
        steps.append(step)
        if step.updated is not None:
            values.update(step.updated)
    checks = {"finite_differences": finite_differences(evaluator, steps[0])}
    solution = Solution(problem, steps, checks)
    form = matrix_form(graph)
    if form is not None:
        checks["matrix_form"] = verify(form, solution)
    if problem.expected:
        solution.expected = compare_claims(problem, solution)
    return solution


def _step(graph: Graph, evaluator: Evaluator, values: dict, lr: float | None) -> Step:
    leaves = leaf_values(graph, values)
    numbers = evaluator.forward(leaves)
    loss = numbers[graph.loss]
    if not math.isfinite(loss) or not all(math.isfinite(v) for v in numbers.values()):
        bad = next(
            (n.key for n in graph.nodes if not math.isfinite(numbers[n.symbol])), "the loss"
        )
        raise SympropError(
            f"the forward pass gives a value that is not finite at {bad} "
            "(log or sqrt of a negative number, division by zero or overflow?)",
            where=graph.problem.origin,
        )
    adjoint, kinks = evaluator.backward(numbers)
    computed = [q for q in graph.quantities.values() if q.kind in ("node", "initial", "loss")]
    result = Step(
        loss=loss,
        values={q.key: gather(q, numbers) for q in computed if q.key != "L"},
        adjoints={q.key: gather(q, adjoint) for q in computed if q.kind == "node"},
        gradients={q.name: gather(q, adjoint) for q in graph.params},
        updated=None,
        kinks=[k.name for k in kinks],
        leaves=leaves,
        adjoint=adjoint,
    )
    if lr is not None:
        result.updated = {
            q.name: gather(q, leaves) - lr * result.gradients[q.name] for q in graph.params
        }
    return result


def finite_differences(evaluator: Evaluator, step: Step) -> dict:
    """Central differences of the loss for every scalar parameter entry.

    All 2P perturbed forward passes run at once, as columns of one array, so
    the check costs one vectorised pass instead of 2P passes.
    """
    graph = evaluator.graph
    symbols = graph.param_symbols()
    leaves, adjoint = step.leaves, step.adjoint
    steps = np.array([1e-6 * max(1.0, abs(leaves[s])) for s in symbols])
    batch = {k: np.full(2 * len(symbols), v, dtype=float) for k, v in leaves.items()}
    for i, s in enumerate(symbols):
        batch[s][2 * i] += steps[i]
        batch[s][2 * i + 1] -= steps[i]
    losses = evaluator.forward_batch(batch)
    fd = (losses[0::2] - losses[1::2]) / (2 * steps)
    grads = np.array([adjoint.get(s, 0.0) for s in symbols])
    errors = np.abs(fd - grads)
    relative = errors / np.maximum(1.0, np.abs(grads))
    scale = np.maximum(1.0, np.maximum(np.abs(grads), np.abs(fd)))
    failures = [s.name for s, bad in zip(symbols, errors > FD_TOLERANCE * scale) if bad]
    per_param, start = {}, 0
    for q in graph.params:
        n = len(q.symbols())
        per_param[q.name] = {
            "max_abs_error": float(errors[start:start + n].max(initial=0.0)),
            "max_rel_error": float(relative[start:start + n].max(initial=0.0)),
        }
        start += n
    report = {
        "max_abs_error": float(errors.max(initial=0.0)),
        "max_rel_error": float(relative.max(initial=0.0)),
        "passed": not failures or bool(step.kinks),
        "params": per_param,
    }
    if failures:
        report["disagree"] = failures
    if step.kinks:
        report["kinks"] = step.kinks
    return report


_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_]*)((?:\[\d+\])*)\Z")


def lookup(problem: Problem, table: dict, name_and_index: str, what: str):
    """The number a claim key names: ``h[3]`` (a step), ``W[1][0]`` (an entry)."""
    m = _KEY.match(name_and_index)
    name, indices = m.group(1), [int(i) for i in re.findall(r"\d+", m.group(2))]
    key = name
    if name in problem.sequences or name == "L":
        if indices:
            key = f"{name}[{indices.pop(0)}]"
    if key not in table:
        raise SympropError(f"expected.{what}.{name_and_index}: no {what} named {key!r}",
                           where=problem.origin)
    value = table[key]
    if not indices:
        return value
    if not isinstance(value, np.ndarray):
        raise SympropError(f"expected.{what}.{name_and_index}: {key} is a scalar", where=problem.origin)
    try:
        if value.shape[1] == 1 and len(indices) == 1:
            return float(value[indices[0], 0])
        if len(indices) == 2:
            return float(value[indices[0], indices[1]])
        return value[indices[0]]
    except IndexError:
        raise SympropError(
            f"expected.{what}.{name_and_index}: index out of range for {key} "
            f"({value.shape[0]}x{value.shape[1]})",
            where=problem.origin,
        ) from None


def compare_claims(problem: Problem, solution: Solution) -> list[dict]:
    first, last = solution.first, solution.steps[-1]
    tables = {
        "value": {**first.values, "L": first.loss},
        "adjoint": first.adjoints,
        "grad": first.gradients,
        "updated": last.updated or {},
    }
    rows = []
    for key, claimed in problem.expected.items():
        if key == "loss":
            computed = first.loss
        else:
            what, rest = key.split(".", 1)
            if what == "updated" and last.updated is None:
                raise SympropError(f"expected.{key}: needs training.lr", where=problem.origin)
            computed = lookup(problem, tables[what], rest, what)
        claimed_arr, computed_arr = np.asarray(claimed, float), np.asarray(computed, float)
        if claimed_arr.size != computed_arr.size:
            raise SympropError(
                f"expected.{key}: claims {claimed_arr.size} numbers but {computed_arr.size} are computed",
                where=problem.origin,
            )
        ok = bool(np.all(np.abs(claimed_arr.ravel() - computed_arr.ravel()) <= problem.tolerance))
        rows.append({"key": key, "claimed": to_json(claimed), "computed": to_json(computed), "ok": ok})
    return rows
