"""PyTorch autograd on the same graph, in float64: an independent engine.

Each line of the graph (each cell line of a recurrent model) is lambdified
once with torch functions, the forward pass runs on tensors, and
``torch.autograd`` gives the gradients that symprop's reverse sweep must
match.  relu'(0) = 0 in PyTorch, symprop's default convention.

Needs the ``torch`` extra (``pip install 'symprop[torch]'``, torch==2.13.0).
"""

import numpy as np
import sympy

from ..derive.graph import graph_of
from ..errors import SympropError
from .numeric import _bound, leaf_values


def available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _namespace(torch) -> dict:
    return {
        "sin": torch.sin, "cos": torch.cos, "exp": torch.exp, "log": torch.log,
        "tanh": torch.tanh, "sqrt": torch.sqrt, "Abs": torch.abs, "sign": torch.sign,
        "relu": torch.relu, "sigmoid": torch.sigmoid,
    }


def _plain(args):
    return [sympy.Symbol(f"a{i}", real=True) for i in range(len(args))]


def _compile(expr, namespace, cache: dict):
    args = sorted(expr.free_symbols, key=lambda s: s.name)
    plain = _plain(args)
    renamed = expr.xreplace(dict(zip(args, plain)))
    key = (len(plain), renamed)
    if key not in cache:
        cache[key] = sympy.lambdify(plain, renamed, modules=[namespace])
    return args, cache[key]


def torch_gradients(problem, values: dict | None = None) -> dict:
    """{param: gradient} from torch.autograd, shaped like symprop's."""
    import torch

    graph = graph_of(problem)
    leaves = leaf_values(graph, values if values is not None else problem.values)
    namespace = _namespace(torch)
    cache: dict = {}
    tensors = {s: torch.tensor(float(v), dtype=torch.float64) for s, v in leaves.items()}
    params = graph.param_symbols()
    for p in params:
        tensors[p].requires_grad_(True)
    compiled = {}
    for node in graph.nodes:
        source = node.cell if node.cell is not None else node
        if source.symbol not in compiled:
            compiled[source.symbol] = _compile(source.expr, namespace, cache)
        args, f = compiled[source.symbol]
        inputs = []
        for a in args:
            actual = _bound(node.binding, a) if node.cell is not None else a
            inputs.append(tensors[actual] if isinstance(actual, sympy.Symbol) else
                          torch.tensor(actual, dtype=torch.float64))
        value = f(*inputs)
        tensors[node.symbol] = value if isinstance(value, torch.Tensor) else torch.tensor(
            float(value), dtype=torch.float64)
    loss = tensors[graph.loss]
    if not loss.requires_grad:
        grads = [torch.zeros((), dtype=torch.float64) for _ in params]
    else:
        grads = torch.autograd.grad(loss, [tensors[p] for p in params], allow_unused=True)
    by_symbol = {p: (0.0 if g is None else float(g)) for p, g in zip(params, grads)}
    result = {}
    for q in graph.params:
        if q.shape is None:
            result[q.name] = by_symbol[q.value]
        else:
            result[q.name] = np.array([[by_symbol[e] for e in row] for row in q.value.tolist()])
    return result


def compare(problem, solution) -> dict:
    """Per parameter, the largest absolute and relative difference to torch."""
    if not available():
        raise SympropError("PyTorch is not installed: pip install 'symprop[torch]' (torch==2.13.0)")
    theirs = torch_gradients(problem)
    ours = solution.first.gradients
    per_param, worst_abs, worst_rel, failures = {}, 0.0, 0.0, []
    for name, g in ours.items():
        a, b = np.asarray(g, dtype=float), np.asarray(theirs[name], dtype=float)
        diff = np.abs(a - b)
        abs_err = float(diff.max(initial=0.0))
        rel_err = float((diff / np.maximum(1.0, np.abs(b))).max(initial=0.0))
        per_param[name] = {"max_abs_error": abs_err, "max_rel_error": rel_err}
        worst_abs, worst_rel = max(worst_abs, abs_err), max(worst_rel, rel_err)
        if rel_err > 1e-9:
            failures.append(name)
    report = {"max_abs_error": worst_abs, "max_rel_error": worst_rel, "passed": not failures,
              "params": per_param}
    if failures:
        report["disagree"] = failures
    return report
