"""PyTorch autograd on the same program, in float64: an independent engine.

The program's lines run forward on torch tensors (each operation with its
torch function), and ``torch.autograd`` gives the gradients that symprop's
backward pass must match.  relu'(0) = 0 in PyTorch, symprop's default
convention.

Needs the ``torch`` extra (``pip install 'symprop[torch]'``, torch==2.13.0).
"""

import importlib.util

import numpy as np

from ..derive.program import Op, program_of
from ..errors import SympropError
from ..model.operations import OPERATIONS
from ..model.spec import LOSS
from .arrays import Machine
from .faults import largest


def available() -> bool:
    """Whether torch is installed; found, not imported (importing it takes a second)."""
    return importlib.util.find_spec("torch") is not None


def torch_gradients(problem, values: dict | None = None) -> dict:
    """{param: gradient} from torch.autograd, shaped like symprop's."""
    import torch

    program = program_of(problem)
    machine = Machine(program, problem.conventions.relu_grad_at_zero)
    leaves = machine.leaf_values(values if values is not None else problem.values)
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in leaves.items()}
    params = [p.key for p in program.params]
    for p in params:
        tensors[p].requires_grad_(True)

    def run(e: Op, t):
        if e.op in ("leaf", "at"):
            return tensors[machine.ref(e, t)]
        if e.op == "num":
            return torch.tensor(float(e.extra), dtype=torch.float64)
        return OPERATIONS[e.op].torch(torch, e, [run(a, t) for a in e.args])

    for key, expr, t in machine.instances:
        value = run(expr, t)
        tensors[key] = value.reshape(()) if value.shape == (1, 1) else value
    if program.loss.expr is not None:
        loss = run(program.loss.expr, None)
    else:
        loss = sum(tensors[f"{LOSS}[{t}]"] for t in range(1, program.steps + 1))
        if problem.reduce == "mean":
            loss = loss / program.steps
    if not loss.requires_grad:
        return {p: np.zeros_like(leaves[p]) if isinstance(leaves[p], np.ndarray) else 0.0 for p in params}
    grads = torch.autograd.grad(loss, [tensors[p] for p in params], allow_unused=True)
    result = {}
    for p, g in zip(params, grads):
        if g is None:
            result[p] = np.zeros_like(leaves[p]) if isinstance(leaves[p], np.ndarray) else 0.0
        else:
            result[p] = g.numpy() if g.dim() else float(g)
    return result


def compare(problem, solution) -> dict:
    """Per parameter, the largest absolute and relative difference to torch;
    a gradient torch gives as inf or nan fails, with the largest float as its
    error: the fields of ``checks.pytorch.Torch``."""
    if not available():
        raise SympropError("PyTorch is not installed: pip install 'symprop[torch]' (torch==2.13.0)")
    theirs = torch_gradients(problem)
    ours = solution.first.gradients
    per_param, worst_abs, worst_rel, failures = {}, 0.0, 0.0, []
    for name, g in ours.items():
        a, b = np.asarray(g, dtype=float), np.asarray(theirs[name], dtype=float)
        with np.errstate(all="ignore"):
            diff = np.abs(a - b)
            abs_err, rel_err = largest(diff), largest(diff / np.maximum(1.0, np.abs(b)))
        per_param[name] = {"max_abs_error": abs_err, "max_rel_error": rel_err}
        worst_abs, worst_rel = max(worst_abs, abs_err), max(worst_rel, rel_err)
        if rel_err > 1e-9:
            failures.append(name)
    report = {"max_abs_error": worst_abs, "max_rel_error": worst_rel, "passed": not failures,
              "params": per_param}
    if failures:
        report["disagree"] = failures
    return report
