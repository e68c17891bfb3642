"""The initial state as a parameter (initial = { h = "h0" }): ∂L/∂h₀, the
exploding-gradient lesson, equals PyTorch's, in a scalar and in a vector
RNN; the matrix form writes it ∇_h₀ L = Wᵀ·δ_h₁; a training step updates h₀."""

import numpy as np
import pytest
import torch

import symprop
from symprop.errors import SympropError

SCALAR = """title = "exploding gradients"
[model]
params = ["w", "h0"]
steps = 3
initial = { h = "h0" }
equations = "h[t] = tanh(w * h[t-1] + x[t])"
loss = "(h[3] - y)**2"
[values]
w = 1.5
h0 = 0.3
x = [0, 0.5, -0.2, 0.1]
y = 0.2
"""

VECTOR = """title = "exploding gradients, vectors"
[model]
params = ["W", "h0"]
steps = 3
initial = { h = "h0" }
equations = "h[t] = tanh(W @ h[t-1] + x[t])"
loss = "sum((h[3] - y)**2)"
[values]
W = [[1.5, -0.5], [0.25, 1.2]]
h0 = [0.3, -0.1]
x = [[0, 0], [0.5, 0.1], [-0.2, 0.3], [0.1, -0.4]]
y = [0.2, 0.1]
[training]
lr = 0.1
"""


def torch_run(w, h0, xs, y, matrix: bool):
    w = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    h0 = torch.tensor(h0, dtype=torch.float64, requires_grad=True)
    h = h0
    for x in xs[1:]:
        h = torch.tanh((w @ h if matrix else w * h) + torch.tensor(x, dtype=torch.float64))
    loss = ((h - torch.tensor(y, dtype=torch.float64)) ** 2).sum()
    loss.backward()
    return loss.item(), w.grad.numpy(), h0.grad.numpy()


@pytest.mark.parametrize("text,matrix", [(SCALAR, False), (VECTOR, True)])
def test_the_gradient_with_respect_to_the_initial_state_is_pytorchs(text, matrix):
    problem = symprop.loads(text)
    report, ok = problem.check()
    assert ok, report
    solution = problem.solve()
    v = problem.spec.values
    w = np.asarray(v["w" if not matrix else "W"], dtype=float)
    h0 = np.reshape(v["h0"], -1) if matrix else float(v["h0"])
    xs = [np.reshape(x, -1) if matrix else float(x) for x in v["x"]]
    loss, gw, gh0 = torch_run(w, h0, xs, np.reshape(v["y"], -1) if matrix else float(v["y"]), matrix)
    assert solution["loss"] == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(np.reshape(solution["gradients"]["h0"], np.shape(gh0)), gh0, rtol=1e-12)
    np.testing.assert_allclose(np.reshape(solution["gradients"]["W" if matrix else "w"], np.shape(gw)), gw,
                               rtol=1e-12)


def test_the_matrix_form_and_the_step():
    solution = symprop.loads(VECTOR).solution()
    document = solution.document("text")
    assert "∇_h₀ L = Wᵀ·δ_h₁" in document
    assert "h₀ is the initial state of h" in document
    updated = np.reshape(solution.to_json()["updated"]["h0"], -1)
    gradient = np.reshape(solution.to_json()["gradients"]["h0"], -1)
    np.testing.assert_allclose(updated, np.array([0.3, -0.1]) - 0.1 * gradient, rtol=1e-12)


def test_a_name_that_is_not_a_parameter():
    with pytest.raises(SympropError, match="model.initial.h: 'hzero' is not a parameter: list it in model.params"):
        symprop.loads(SCALAR.replace('initial = { h = "h0" }', 'initial = { h = "hzero" }')
                      .replace('params = ["w", "h0"]', 'params = ["w"]').replace("h0 = 0.3\n", ""))


def test_the_derivation_json_carries_the_initial_states_gradient():
    """``derive --format json``: h₀'s gradient is ∂L/∂h₁ carried one step back (its ``start``)."""
    params = symprop.api.derivation_json(symprop.loads(SCALAR))["bptt"]["params"]
    start = params["h0"]["start"]["text"]  # w·(1 − h₁²)·∂L/∂h₁, its factors in any order
    assert sorted(start.replace("(1 - h[1]**2)", "tanh'").split("*")) == ["dL/dh[1]", "tanh'", "w"]
    assert params["w"]["start"]["text"] == "0" and params["h0"]["summand"]["text"] == "0"
