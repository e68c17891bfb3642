"""``symprop check``: every number against an independent computation.

- every check of the registry (``checks/``) that ``--against`` chooses: those
  that run with every solution (finite differences, the scalar engine, the
  matrix formulas, the exact pass) and those that run here (PyTorch, and the
  reverse sweep against plain ``sympy.diff`` of the expanded loss, at random
  points, with undefined activations replaced by tanh, whose engine is here);
- every claim in ``[expected]`` beside the computed number, and every claim
  about a formula or structure (``formula.*``, ``through_time.*``) against
  the derivation (``claims.py``).
"""

import dataclasses
import random
from dataclasses import dataclass

import numpy as np
import sympy

from ..derive.backprop import Derivation
from ..derive.closed_form import ClosedForms
from ..model.functions import numeric_namespace
from ..model.spec import Problem
from .checks import Context, Result, Said, chosen
from .claims import FormulaClaim, formula_claims
from .faults import LARGEST, finite
from .numeric import Solution, solve, spread

MAX_DIFF_NODES = 400  # plain sympy.diff is a cross-check for small graphs only
DIFF_ENTRIES = 40  # parameter entries sympy.diff differentiates by on a large problem
NOT_FINITE = (sympy.zoo, sympy.oo, -sympy.oo, sympy.nan)


def _compiled(leaves: list, exprs: list, namespace: dict):
    """lambdify with the leaves renamed to plain identifiers a0, a1, … and
    common subexpressions computed once.  A name such as ``W1[0][0]`` would
    make lambdify rename it itself, one pass over every expression a leaf."""
    plain = {s: sympy.Symbol(f"a{i}", real=True) for i, s in enumerate(leaves)}
    renamed = [e.xreplace(plain) for e in exprs]
    return sympy.lambdify(list(plain.values()), renamed, modules=[namespace, "numpy"], cse=True)


def _concrete(d: Derivation, exprs: list) -> list:
    """The expressions with every undefined activation replaced by tanh."""
    concrete = {}
    for f in d.graph.functions.values():
        concrete[f] = sympy.tanh
        concrete[f.prime] = lambda a: 1 - sympy.tanh(a) ** 2
    out = []
    for e in exprs:
        for cls, impl in concrete.items():
            e = e.replace(cls, impl)
        out.append(e)
    return out


def sympy_diff_check(d: Derivation, trials: int = 3, seed: int = 0) -> dict:
    """Closed-form gradients from the sweep = sympy.diff of the expanded loss.

    Every parameter entry on a small problem; DIFF_ENTRIES of them, spread
    over the parameters, on a large one (the report says how many).  A
    closed form holding zoo, oo or nan fails; one that cannot be turned into
    a function, or a point where it is not a finite real number, is skipped
    (the report says so), never an exception.  The fields of
    ``checks.sympy_diff.SympyDiff``."""
    if len(d.graph.nodes) > MAX_DIFF_NODES:
        return {"skipped": Said("graph", n=len(d.graph.nodes), most=MAX_DIFF_NODES), "passed": True}
    forms = ClosedForms(d)
    entries = [q.symbols() for q in d.graph.params]
    params = spread(entries, DIFF_ENTRIES)
    loss, *ours = forms.of_value(d.graph.loss), *(forms.of_adjoint(p) for p in params)
    if loss is None or any(g is None for g in ours):
        return {"skipped": Said("terms", most=forms.limit), "passed": True}
    loss, *ours = _concrete(d, [loss, *ours])
    if any(e.has(*NOT_FINITE) for e in [loss, *ours]):
        return {"points": 0, "max_rel_error": LARGEST, "passed": False,
                "not_finite": "the loss or a gradient in closed form is not finite (zoo, oo or nan)"}
    theirs = [sympy.diff(loss, p) for p in params]
    leaves = sorted(set().union(loss.free_symbols, *(g.free_symbols for g in ours)), key=str)
    namespace = numeric_namespace(d.graph.problem.conventions.relu_grad_at_zero)
    try:
        f_ours, f_theirs = _compiled(leaves, ours, namespace), _compiled(leaves, theirs, namespace)
    except (KeyError, TypeError, NameError, SyntaxError) as e:
        return {"skipped": Said("not_evaluated", error=type(e).__name__), "passed": True}
    report = _compare(f_ours, f_theirs, len(leaves), trials, seed)
    total = sum(len(e) for e in entries)
    if len(params) < total and "skipped" not in report:
        report["sampled"] = (len(params), total)
    return report


def _compare(f_ours, f_theirs, count: int, trials: int, seed: int) -> dict:
    """The two functions of ``count`` leaves at ``trials`` random points where both are finite."""
    rng = random.Random(seed)
    worst, done = 0.0, 0
    with np.errstate(all="ignore"):
        for _ in range(trials * 10):
            point = [np.float64(rng.uniform(0.1, 1.0)) for _ in range(count)]
            try:  # a number that is not a finite real (or odd SymPy output) is no point to compare at
                a, b = np.asarray(f_ours(*point)), np.asarray(f_theirs(*point))
                if not (finite(a) and finite(b)):
                    continue
            except (TypeError, ValueError, ArithmeticError, NameError):
                continue
            worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))))
            done += 1
            if done == trials:
                break
    if not done:
        return {"skipped": Said("no_point"), "passed": True}
    return {"points": done, "max_rel_error": worst, "passed": worst < 1e-9}


@dataclass
class CheckReport:
    checks: dict[str, Result]  # by name, in the registry's order
    # The claims: the numeric rows (key, claimed, computed, ok) when the problem
    # has numbers, then one row a formula or structure claim (key, claimed, ok,
    # reason); None when there are none.
    expected: list[dict] | None
    ok: bool
    formula_claims: list[FormulaClaim] = dataclasses.field(default_factory=list)
    solution: Solution | None = None  # the numbers checked (with [values]), for a document of them


def run_checks(problem: Problem, against: str = "all") -> CheckReport:
    """Every check ``symprop check`` makes, and whether everything agrees.

    ``against`` chooses among the checks that have an ``--against`` choice
    ("fd": finite differences, "torch": PyTorch autograd in float64), or
    "all" of them (PyTorch only where it is installed); the others run
    whatever is chosen (``checks.chosen``).  A check that runs with every
    solution is the solution's; the rest run here.  The source's claims are
    compared with the numbers.
    """
    # the numbers first: a value that is not finite stops here, before any check
    solution = solve(problem) if problem.values else None
    context = Context(problem, against, solution)
    results = {}
    for check in chosen(against):
        ran = solution is not None and check.solving
        result = solution.checks.get(check.name) if ran else check.run(context)
        if result is not None:
            results[check.name] = result
    claims = solution.formula_claims if solution is not None else formula_claims(problem)
    expected = solution.expected if solution is not None else None
    ok = all(r.passed for r in results.values()) and all(r["ok"] for r in expected or []) and all(
        c.ok for c in claims)
    if solution is None:
        return CheckReport(results, [c.to_json() for c in claims] or None, ok, claims)
    rows = (expected or []) + [c.to_json() for c in claims]
    return CheckReport(results, rows if expected is not None or claims else None, ok, claims, solution)
