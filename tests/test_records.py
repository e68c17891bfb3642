"""Every function of entries is one record (functions.RULES): how it reads,
its derivative, its NumPy and PyTorch forms, its kinks and its printed name.
This walks the records and fails when a facet is missing or two facets
disagree, so that a new function is one record and one reference line."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from symprop.document.render.latex_printer import function_name
from symprop.evaluate.arrays import NumPy
from symprop.model.functions import RULES, built_in_names

ROOT = Path(__file__).parent.parent
REFERENCE = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
# points away from every kink, where a derivative is no convention
POINTS = np.array([-2.3, -0.7, 0.4, 1.9])


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_record_has_every_facet(name):
    rule = RULES[name]
    assert rule.apply is not None and rule.derivative is not None
    assert rule.torch is not None, f"{name}: no PyTorch form"
    assert re.search(rf"\b{name}\b", REFERENCE), f"{name}: no line in docs/spec-format.md"
    assert function_name(name)


@pytest.mark.parametrize("name", sorted(RULES))
def test_numpy_torch_and_the_derivative_agree(name):
    rule = RULES[name]
    algebra = NumPy()
    points = np.abs(POINTS) if name in ("log", "sqrt") else POINTS  # their real domain
    inputs = [points, points[::-1] * 0.5][: rule.inputs]
    params = [default for _, default in rule.parameters]
    ours = algebra.apply[name](*inputs, *params)
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    theirs = rule.torch(torch)(*tensors, *params)
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    theirs.sum().backward()
    partials = algebra.partials[name](*inputs, ours, *params)
    for d, x in zip(partials, tensors):
        np.testing.assert_allclose(np.broadcast_to(d, points.shape), x.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_every_built_in_name_is_in_the_reference():
    missing = [n for n in sorted(built_in_names()) if not re.search(rf"\b{n}\b", REFERENCE)]
    assert not missing, missing


# The operations of the array engine (model/operations.py) ---------------------------------

from symprop.derive.program import Op  # noqa: E402
from symprop.model.operations import OPERATIONS  # noqa: E402

R = np.random.default_rng(11)


def _a(*shape):
    return R.normal(size=shape)


def _spd(n):
    m = R.normal(size=(n, n))
    return m @ m.T + n * np.eye(n)


# op: (its inputs, the shape of its value, extra, name); an example each, every record
EXAMPLES = {
    "neg": ([_a(2, 3)], (2, 3), None, ""),
    "T": ([_a(2, 3)], (3, 2), None, ""),
    "add": ([_a(2, 3), _a(1, 3)], (2, 3), None, ""),
    "mul": ([_a(2, 3), _a(2, 1)], (2, 3), None, ""),
    "div": ([_a(2, 3), 2 + _a(2, 3) ** 2], (2, 3), None, ""),
    "pow": ([1 + _a(2, 3) ** 2], (2, 3), 3, ""),
    "powv": ([1 + _a(2, 3) ** 2, 1.5], (2, 3), None, ""),
    "matmul": ([_a(2, 3), _a(3, 4)], (2, 4), None, ""),
    "fn": ([_a(2, 3)], (2, 3), None, "tanh"),
    "sum": ([_a(2, 3, 4)], (2, 1, 4), 1, ""),
    "mean": ([_a(2, 3)], (1, 3), 0, ""),
    "amax": ([_a(2, 3)], (2, 1), 1, ""),
    "amin": ([_a(2, 3)], None, None, ""),
    "logsumexp": ([_a(2, 3)], (2, 1), 1, ""),
    "softmax": ([_a(2, 3)], (2, 3), 1, ""),
    "log_softmax": ([_a(2, 3)], (2, 3), 0, ""),
    "reshape": ([_a(2, 3, 2)], (3, 4), (3, 4), ""),
    "concat": ([_a(2, 1), _a(3, 1)], (5, 1), None, ""),
    "permute": ([_a(2, 3, 4)], (4, 2, 3), (2, 0, 1), ""),
    "rows": ([_a(5, 1)], (2, 1), (1, 3), ""),
    "index": ([_a(2, 3)], (1, 3), ("row", 1), ""),
    "place": ([_a(1, 3)], (2, 3), ("row", 1), ""),
    "take": ([_a(3, 4)], (2, 2), ((0, 2), (1, 3)), "[::2, 1::2]"),
    "scatter": ([_a(2, 2)], (3, 4), ((0, 2), (1, 3)), ""),
    "part": ([_a(2, 3, 4, 5)], (3, 2), ((0, slice(None), 1, slice(1, 5, 2)), (3, 2)), "[0, :, 1, 1::2]"),
    "unpart": ([_a(3, 2)], (2, 3, 4, 5), ((0, slice(None), 1, slice(1, 5, 2)), (3, 2)), ""),
    "pad": ([_a(2, 3)], (4, 5), (1, 1), "1"),
    "ones": ([], (2, 3), None, ""),
    "inv": ([_spd(3)], (3, 3), None, ""),
    "det": ([_spd(3)], None, None, ""),
    "logdet": ([_spd(3)], None, None, ""),
    "trace": ([_a(3, 3)], None, None, ""),
    "eye": ([], (3, 3), None, ""),
    "cmp": ([_a(2, 3), _a(2, 3)], (2, 3), "<", ""),
    "onehot": ([np.array([[2.0], [0.0], [3.0]])], (3, 4), 4, ""),
    "max_pool": ([_a(2, 2, 4, 4)], (2, 2, 2, 2), (2, 2), ""),
    "unpool": ([_a(2, 2, 2, 2), _a(2, 2, 4, 4)], (2, 2, 4, 4), (2, 2), ""),
    "corr2d": ([_a(4, 5), _a(2, 3)], (3, 3), None, ""),
    "full_conv": ([_a(3, 3), _a(2, 3)], (4, 5), None, ""),
    "conv2d": ([_a(2, 2, 5, 5), _a(3, 2, 3, 3)], (2, 3, 3, 3), (2, 1), ""),
    "conv2d_input": ([_a(2, 3, 3, 3), _a(3, 2, 3, 3)], (2, 2, 5, 5), (2, 1), ""),
    "conv2d_weight": ([_a(2, 2, 5, 5), _a(2, 3, 3, 3)], (3, 2, 3, 3), (2, 1), ""),
}
CONSTANTS = ("cmp", "onehot")  # of the parameters: their adjoints are zero


def _node(op):
    inputs, shape, extra, name = EXAMPLES[op]
    args = tuple(Op("leaf", shape=None if np.ndim(x) == 0 else np.shape(x), name=f"x{k}") for k, x in enumerate(inputs))
    return Op(op, args, shape, name=name, extra=extra), [np.float64(x) if np.ndim(x) == 0 else x for x in inputs]


@pytest.mark.parametrize("op", sorted(OPERATIONS))
def test_every_operation_has_every_facet(op):
    record = OPERATIONS[op]
    assert record.numpy is not None and record.torch is not None, op
    assert record.printed in ("call", "function", "operator", "atom"), op
    assert (record.vjp is None) == record.backward, f"{op}: a rule, or built by derivations only"
    assert op in EXAMPLES, f"{op}: add an example to tests/test_records.py"


@pytest.mark.parametrize("op", sorted(OPERATIONS))
def test_numpy_and_torch_forms_agree_and_so_do_the_rule_and_autograd(op):
    e, xs = _node(op)
    algebra = NumPy()
    ours = OPERATIONS[op].numpy(algebra, e, xs)
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=op not in CONSTANTS) for x in xs]
    theirs = OPERATIONS[op].torch(torch, e, tensors)
    np.testing.assert_allclose(np.reshape(ours, -1), theirs.detach().numpy().reshape(-1), rtol=1e-10, atol=1e-12)
    assert np.shape(ours) == (e.shape or ()), f"{op}: the value has the node's shape"
    if OPERATIONS[op].vjp is None:
        return
    g = R.normal(size=e.shape) if e.shape else np.float64(R.normal())
    adjoints = OPERATIONS[op].vjp(algebra, e, g, xs, ours)
    if op in CONSTANTS:
        assert all(not np.any(a) for a in adjoints)
        return
    expected = torch.autograd.grad(theirs, tensors, torch.tensor(g).reshape(theirs.shape))
    for k, (a, b) in enumerate(zip(adjoints, expected)):
        np.testing.assert_allclose(np.reshape(a, -1), b.numpy().reshape(-1), rtol=1e-9, atol=1e-12,
                                   err_msg=f"{op}: input {k}")
