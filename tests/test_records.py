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
