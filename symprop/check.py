"""``symprop check``: every number against an independent computation.

- finite differences of the loss, for every parameter entry (with values);
- the reverse sweep against plain ``sympy.diff`` of the expanded loss, at
  random points, with undefined activations replaced by tanh (small graphs);
- every claim in ``[expected]`` beside the computed number.
"""

import random

import numpy as np
import sympy

from .backprop import Derivation
from .closed_form import ClosedForms
from .functions import numeric_namespace
from .spec import Problem


def sympy_diff_check(d: Derivation, trials: int = 3, seed: int = 0) -> dict:
    """Closed-form gradients from the sweep = sympy.diff of the expanded loss."""
    forms = ClosedForms(d)
    loss = forms.of_value(d.graph.loss)
    params = d.graph.param_symbols()
    grads = [forms.of_adjoint(p) for p in params]
    if loss is None or any(g is None for g in grads):
        return {"skipped": f"closed forms exceed {forms.limit} terms", "passed": True}
    concrete = {}
    for f in d.graph.functions.values():
        concrete[f] = sympy.tanh
        concrete[f.prime] = lambda a: 1 - sympy.tanh(a) ** 2

    def concretize(e):
        for cls, impl in concrete.items():
            e = e.replace(cls, impl)
        return e

    loss = concretize(loss)
    ours = [concretize(g) for g in grads]
    theirs = [sympy.diff(loss, p) for p in params]
    leaves = sorted(set().union(loss.free_symbols, *(g.free_symbols for g in ours)), key=str)
    namespace = numeric_namespace(d.graph.problem.conventions.relu_grad_at_zero)
    f_ours = sympy.lambdify(leaves, ours, modules=[namespace, "numpy"])
    f_theirs = sympy.lambdify(leaves, theirs, modules=[namespace, "numpy"])
    rng = random.Random(seed)
    worst, done = 0.0, 0
    with np.errstate(all="ignore"):
        for _ in range(trials * 10):
            point = [rng.uniform(0.1, 1.0) for _ in leaves]
            a = np.array(f_ours(*point), dtype=float)
            b = np.array(f_theirs(*point), dtype=float)
            if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
                continue
            worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))))
            done += 1
            if done == trials:
                break
    if not done:
        return {"skipped": "no point where the loss is finite", "passed": True}
    return {"points": done, "max_rel_error": worst, "passed": worst < 1e-9}


def run_checks(problem: Problem) -> tuple[str, bool]:
    """The report of ``symprop check`` and whether everything agrees."""
    from .render.text import check_text

    d = problem.derivation()
    diff = sympy_diff_check(d)
    lines = []
    ok = diff["passed"]
    if problem.values:
        from .numeric import solve

        solution = solve(problem)
        solution.checks["sympy_diff"] = diff
        lines.append(check_text(problem, solution.checks, solution.expected))
        ok = ok and solution.checks["finite_differences"]["passed"]
        ok = ok and all(r["ok"] for r in solution.expected or [])
    else:
        lines.append(check_text(problem, {"sympy_diff": diff}))
    lines.append("")
    lines.append("all checks passed" if ok else "some checks FAILED")
    return f"{problem.title}\n\n" + "\n".join(lines) + "\n", ok
