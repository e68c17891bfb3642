"""Vectors, matrices, batches and softmax: seeds 002 and 004 and the
matrix-form formulas, each against an independent NumPy computation."""

import json
import math
import re

import numpy as np
import pytest
from click.testing import CliRunner

import symprop
from symprop.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def words(*args) -> str:
    """The output with runs of spaces folded, so alignment does not matter."""
    return re.sub(r" +", " ", run(*args).stdout)


# Seed 002 ---------------------------------------------------------------------------

X = np.array([1.0, 2.0])
W = np.array([[-1.0, 1.0], [1.0, 1.0]])
U = np.array([[2.0, -4.0], [-0.5, 1.0]])
V = np.array([[1.0], [-1.0]])


def stepik_by_hand():
    """The notebook's own formulas, written out for every blank."""
    z = np.tanh(W.T @ X)
    q = np.tanh(U.T @ z)
    y_pred = float(V[:, 0] @ q)
    d_y = 2 * (y_pred - 5)
    grads = {"V": np.outer(q, [d_y])}
    d_q = d_y * V[:, 0]
    d_qpre = d_q * (1 - q**2)
    grads["U"] = np.outer(z, d_qpre)
    d_z = U @ d_qpre
    d_zpre = d_z * (1 - z**2)
    grads["W"] = np.outer(X, d_zpre)
    return grads


@pytest.fixture(scope="module")
def stepik():
    return symprop.load("stepik_mlp").solve()


def test_stepik_printed_cells(stepik):
    assert stepik["gradients"]["V"][0][0] == pytest.approx(-5.035050768239443, abs=1e-9)
    assert stepik["gradients"]["U"][1][0] == pytest.approx(-2.6198200490401398, abs=1e-9)
    assert stepik["updated"]["V"][0][0] == pytest.approx(1.5035050768239442, abs=1e-9)
    assert stepik["updated"]["U"][1][0] == pytest.approx(-0.23801799509598603, abs=1e-9)


@pytest.mark.parametrize("param", ["V", "U", "W"])
def test_stepik_every_blank(stepik, param):
    """L_partial_V_21, U_11, U_12, U_22 and the W layer the notebook leaves out."""
    expected = stepik_by_hand()[param]
    assert np.allclose(stepik["gradients"][param], expected, atol=1e-12)
    start = {"V": V, "U": U, "W": W}[param]
    assert np.allclose(stepik["updated"][param], start - 0.1 * expected, atol=1e-12)


def test_stepik_check_passes():
    result = run("check", "stepik_mlp")
    assert result.exit_code == 0, result.output
    assert "matrix-form formulas, evaluated" in result.stdout


def test_index_base_one_prints_entries_as_the_source():
    text = words("solve", "stepik_mlp", "--lang", "en")
    # the notebook's W₂₂, as typed ([notation] entries = "as_typed")
    assert "ŷ = V₁₁·q₁ + V₂₁·q₂ = 1·0.77216 + (-1)·(-0.96748) = 1.7396" in text
    assert "∂L/∂U₂₁ -2.6198200490401398 -2.61982004904 ✓" in text
    latex = run("solve", "stepik_mlp", "--format", "latex").stdout
    assert r"\frac{\partial L}{\partial U_{21}}" in latex


def test_layer_deltas_in_matrix_form():
    text = words("derive", "stepik_mlp")
    for line in ["δ_z = diag(1 - z²)·∂L/∂z = diag(1 - z²)·U·δ_q", "∇_W L = x·δ_zᵀ",
                 "∇_U L = z·δ_qᵀ", "∂L/∂q = V·∂L/∂ŷ"]:
        assert line in text


# Seed 004 ---------------------------------------------------------------------------

def dlbook_numpy(p):
    """Eqs. 10.8-10.11 and the loss, in NumPy, for finite differences."""
    spec = symprop.load("dlbook_rnn")
    xs = [np.array(v)[:, 0] for v in spec.values["x"]]
    ys = [np.array(v)[:, 0] for v in spec.values["y"]]
    h = np.zeros(2)
    loss = 0.0
    for t in range(1, 4):
        a = p["b"] + p["W"] @ h + p["U"] @ xs[t]
        h = np.tanh(a)
        o = p["c"] + p["V"] @ h
        yhat = np.exp(o) / np.exp(o).sum()
        loss -= float(ys[t] @ np.log(yhat))
    return loss


def test_dlbook_gradients_match_finite_differences_to_1e7():
    spec = symprop.load("dlbook_rnn")
    params = {k: np.array(spec.values[k]) for k in ("W", "U", "V")}
    params.update({k: np.array(spec.values[k])[:, 0] for k in ("b", "c")})
    solved = spec.solve()
    assert solved["loss"] == pytest.approx(dlbook_numpy(params), rel=1e-12)
    for name, value in params.items():
        grad = np.array(solved["gradients"][name])
        for index in np.ndindex(value.shape):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[name][index] += 1e-6
            down[name][index] -= 1e-6
            fd = (dlbook_numpy(up) - dlbook_numpy(down)) / 2e-6
            assert abs(grad[index] - fd) < 1e-7, (name, index)


def test_dlbook_matrix_formulas_agree_with_the_scalar_engine():
    checks = symprop.load("dlbook_rnn").solve()["checks"]
    assert checks["matrix_form"]["passed"] and checks["matrix_form"]["compared"] == 14


def test_dlbook_equations_10_18_to_10_28():
    text = words("derive", "dlbook_rnn")
    for line in [
        # in seed 004's notation ([notation] of dlbook_rnn.toml): h⁽ᵗ⁾, ∇
        "∇_o⁽ᵗ⁾ L = ŷ⁽ᵗ⁾ - y⁽ᵗ⁾",                                        # 10.18
        "= Vᵀ·∇_o⁽ᵗ⁾ L + Wᵀ·diag(1 - (h⁽ᵗ⁺¹⁾)²)·∇_h⁽ᵗ⁺¹⁾ L",             # 10.21, in an order that multiplies
        "∇_c L = Σₜ ∇_o⁽ᵗ⁾ L",                                          # 10.22
        "∇_b L = Σₜ ∇_a⁽ᵗ⁾ L",                                          # 10.23 (∇_a⁽ᵗ⁾ L = diag(1 - (h⁽ᵗ⁾)²)·∇_h⁽ᵗ⁾ L)
        "∇_V L = Σₜ (∇_o⁽ᵗ⁾ L)·(h⁽ᵗ⁾)ᵀ",                                # 10.24
        "∇_W L = Σₜ (∇_a⁽ᵗ⁾ L)·(h⁽ᵗ⁻¹⁾)ᵀ",                              # 10.26
        "∇_U L = Σₜ (∇_a⁽ᵗ⁾ L)·(x⁽ᵗ⁾)ᵀ",                                # 10.28
        "∇_a⁽ᵗ⁾ L = diag(1 - (h⁽ᵗ⁾)²)·∇_h⁽ᵗ⁾ L",
    ]:
        assert line in text, line


def test_the_seed_order_of_10_21_does_not_multiply():
    """Seed 004 prints Wᵀ (∇h_{t+1}) diag(1 - h²): a 2x1 times a 2x2."""
    Wt, grad_h, diag = np.ones((2, 2)), np.ones((2, 1)), np.eye(2)
    with pytest.raises(ValueError):
        Wt @ grad_h @ diag
    assert (Wt @ diag @ grad_h).shape == (2, 1)


# Batches ---------------------------------------------------------------------------

BATCH_SPEC = """
title = "SGD over observations"
[model]
params = ["w", "b"]
equations = "yhat = sigmoid(w.T @ x + b)"
loss = "(yhat - y)**2"
[values]
w = [0.3, -0.2]
b = 0.1
x = [1.0, 2.0]
y = 1.0
[training]
lr = 0.5
[[training.batches]]
x = [1.0, 2.0]
y = 1.0
[[training.batches]]
x = [-1.0, 0.5]
y = 0.0
[[training.batches]]
x = [2.0, -1.0]
y = 1.0
"""


def test_batches_take_one_step_each(spec_file):
    data = json.loads(run("solve", str(spec_file(BATCH_SPEC)), "--format", "json").stdout)
    w, b = np.array([0.3, -0.2]), 0.1
    history = []
    for x, y in [([1.0, 2.0], 1.0), ([-1.0, 0.5], 0.0), ([2.0, -1.0], 1.0)]:
        x = np.array(x)
        s = 1 / (1 + math.exp(-(w @ x + b)))
        g = 2 * (s - y) * s * (1 - s)
        gw, gb = g * x, g
        history.append(((s - y) ** 2, gw, gb))
        w, b = w - 0.5 * gw, b - 0.5 * gb
    assert len(data["history"]) == 3
    for step, (loss, gw, gb) in zip(data["history"], history):
        assert step["loss"] == pytest.approx(loss, rel=1e-12)
        assert np.allclose(step["gradients"]["w"], gw, rtol=1e-12)
        assert step["gradients"]["b"] == pytest.approx(gb, rel=1e-12)
    assert np.allclose(data["updated"]["w"], w, rtol=1e-12)
    assert data["updated"]["b"] == pytest.approx(b, rel=1e-12)


def test_row_batch_with_mean_loss(spec_file):
    """X holds observations as rows: yhat = X @ w, L = mean((yhat - y)^2)."""
    text = """
title = "least squares"
[model]
params = ["w"]
equations = "yhat = X @ w"
loss = "mean((yhat - y)**2)"
[values]
w = [0.5, -1.0]
X = [[1, 2], [3, 4], [5, 6]]
y = [1, 0, 2]
"""
    data = json.loads(run("solve", str(spec_file(text)), "--format", "json").stdout)
    Xm, w, y = np.array([[1, 2], [3, 4], [5, 6]], float), np.array([0.5, -1.0]), np.array([1, 0, 2.0])
    assert np.allclose(data["gradients"]["w"], 2 / 3 * Xm.T @ (Xm @ w - y), rtol=1e-12)
    assert "∇_w L = Xᵀ·" in words("derive", str(spec_file(text)))


def test_shape_errors_name_the_equation_and_both_shapes(spec_file):
    text = BATCH_SPEC.replace("w.T @ x + b", "W @ x + b").replace("w = [0.3, -0.2]", "W = [[0.3, -0.2]]")
    text = text.replace('params = ["w", "b"]', 'params = ["W", "b"]').replace("x = [1.0, 2.0]\ny = 1.0\n[training]", "x = [1.0, 2.0, 3.0]\ny = 1.0\n[training]")
    result = run("solve", str(spec_file(text)))
    assert result.exit_code == 1
    assert "model.equations line 1: '@' cannot multiply 1x2 by a 1-d vector of 3" in result.stderr


def test_two_1d_vectors_multiply_as_numpy_does(spec_file):
    """w @ x of two 1-d vectors is NumPy's inner product, the same as w.T @ x."""
    inner = run("solve", str(spec_file(BATCH_SPEC.replace("w.T @ x + b", "w @ x + b"))), "--format", "json")
    book = run("solve", str(spec_file(BATCH_SPEC)), "--format", "json")
    assert inner.exit_code == 0, inner.output
    w, b, x, y = np.array([0.3, -0.2]), 0.1, np.array([1.0, 2.0]), 1.0
    yhat = 1 / (1 + np.exp(-(w @ x + b)))
    assert json.loads(inner.stdout)["history"][0]["loss"] == pytest.approx((yhat - y) ** 2, rel=1e-12)
    assert json.loads(inner.stdout)["history"] == json.loads(book.stdout)["history"]


SYMBOLIC_LAYER = """
title = "symbolic layer"
[model]
params = ["W"]
equations = "z = tanh(W @ x)"
loss = "sum(z)"
[model.shapes]
W = [2, 3]
x = [3]
"""


def test_symbolic_matrix_problem_from_shapes(spec_file):
    text = SYMBOLIC_LAYER
    derived = run("derive", str(spec_file(text)))
    assert derived.exit_code == 0, derived.output
    assert "∇_W L = δ_z·xᵀ" in re.sub(" +", " ", derived.stdout)
    assert run("check", str(spec_file(text))).exit_code == 0
