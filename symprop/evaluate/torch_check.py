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
from ..model.functions import RULES
from ..model.spec import LOSS
from .arrays import Machine
from .faults import largest


def available() -> bool:
    """Whether torch is installed; found, not imported (importing it takes a second)."""
    return importlib.util.find_spec("torch") is not None


def _forward_table(torch) -> dict:
    def reduce(fn):
        def go(e, x):
            if x[0].dim() == 0:
                return x[0]
            if e.extra is None:
                return fn(x[0])
            return fn(x[0], dim=e.extra, keepdim=True)
        return go

    def softmax(e, x):
        return torch.softmax(x[0], dim=0 if e.extra is None else e.extra)

    def matmul(e, x):
        a, b = x
        if a.dim() == 0 or b.dim() == 0:
            return a * b
        return _squash(a @ b)

    def index(e, x):
        if e.extra[0] == "row":
            return x[0][e.extra[1]:e.extra[1] + 1, :]
        return x[0].reshape(-1)[e.extra[0]]

    functions = {name: rule.torch(torch) for name, rule in RULES.items()}
    return {
        "neg": lambda e, x: -x[0],
        "T": lambda e, x: x[0].T if x[0].dim() == 2 else x[0],
        "add": lambda e, x: x[0] + x[1],
        "mul": lambda e, x: _squash(x[0] * x[1]),
        "div": lambda e, x: x[0] / x[1],
        "pow": lambda e, x: x[0] ** e.extra,
        "powv": lambda e, x: x[0] ** x[1],
        "matmul": matmul,
        "fn": lambda e, x: functions[e.name](*x, *(e.extra or ())),
        "softmax": softmax,
        "log_softmax": lambda e, x: torch.log_softmax(x[0], dim=0 if e.extra is None else e.extra),
        "sum": reduce(torch.sum),
        "mean": reduce(torch.mean),
        "concat": lambda e, x: torch.cat([v.reshape(-1, 1) for v in x]),
        "index": index,
        **_course_table(torch, reduce),
    }


def _course_table(torch, reduce) -> dict:
    """The operations of today's courses, each as torch computes it."""
    F = torch.nn.functional

    def image(v):  # one channel of one image
        return v.reshape(1, 1, *(v.shape or (1, 1)))

    def over(fn):  # over every entry, or along an axis (kept)
        return reduce(lambda x, dim=None, keepdim=False: fn(
            x.reshape(-1) if dim is None else x, 0 if dim is None else dim, keepdim=keepdim))

    compare = {"<": torch.lt, "<=": torch.le, ">": torch.gt, ">=": torch.ge, "==": torch.eq}
    return {
        "reshape": lambda e, x: _squash(x[0].reshape(e.extra)),
        "pad": lambda e, x: F.pad(x[0].reshape(x[0].shape or (1, 1)), (e.extra[1], e.extra[1], e.extra[0], e.extra[0])),
        "inv": lambda e, x: torch.linalg.inv(x[0]),
        "det": lambda e, x: torch.linalg.det(x[0]),
        "logdet": lambda e, x: torch.logdet(x[0]),
        "trace": lambda e, x: torch.trace(x[0]),
        "amax": over(torch.amax),
        "amin": over(torch.amin),
        "logsumexp": over(torch.logsumexp),
        "corr2d": lambda e, x: _squash(F.conv2d(image(x[0]), image(x[1]))[0, 0]),
        "max_pool": lambda e, x: _squash(F.max_pool2d(image(x[0]), e.extra[0], e.extra[1])[0, 0]),
        "onehot": lambda e, x: _squash(F.one_hot(x[0].detach().reshape(-1).long(), e.extra).to(torch.float64)),
        "take": lambda e, x: _squash(x[0].reshape(x[0].shape or (1, 1))[torch.tensor(e.extra[0])][
            :, torch.tensor(e.extra[1])]),
        "cmp": lambda e, x: compare[e.extra](x[0], x[1]).to(torch.float64),
    }


def _squash(v):
    return v.reshape(()) if v.dim() == 2 and v.shape == (1, 1) else v


def torch_gradients(problem, values: dict | None = None) -> dict:
    """{param: gradient} from torch.autograd, shaped like symprop's."""
    import torch

    program = program_of(problem)
    machine = Machine(program, problem.conventions.relu_grad_at_zero)
    leaves = machine.leaf_values(values if values is not None else problem.values)
    table = _forward_table(torch)
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in leaves.items()}
    params = [p.key for p in program.params]
    for p in params:
        tensors[p].requires_grad_(True)

    def run(e: Op, t):
        if e.op in ("leaf", "at"):
            return tensors[machine.ref(e, t)]
        if e.op == "num":
            return torch.tensor(float(e.extra), dtype=torch.float64)
        return table[e.op](e, [run(a, t) for a in e.args])

    for key, expr, t in machine.instances:
        tensors[key] = _squash(run(expr, t))
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
    a gradient torch gives as inf or nan fails, with the largest float as its error."""
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
