"""Slices and indices with NumPy's meaning: Coursera ML ex2's regularised
cost (the bias theta[0] not regularised) and its gradient as written in the
exercise, columns and rows of a batch, entries by two indices; every check
of symprop agrees, and a bad index is one line."""

import re

import numpy as np
import pytest
import torch

import symprop
from symprop.errors import SympropError
from tests.specs import solved, spec_text

X = np.array([[1.0, 0.5, -1.2], [1.0, 2.0, 0.3], [1.0, -0.7, 1.1], [1.0, 0.2, 0.9]])
Y = np.array([1.0, 0.0, 1.0, 0.0])


def spec(equations: str, loss: str, values: dict, params=("theta",)) -> str:
    return spec_text(equations, loss, values, params, "slices")


def test_coursera_ex2_regularised_cost_skips_the_bias():
    theta, lam, m = np.array([0.1, -0.4, 0.25]), 0.5, len(Y)
    text = spec("h = sigmoid(X @ theta)",
                f"-mean(y * log(h) + (1 - y) * log(1 - h)) + {lam} / (2 * {m}) * sum(theta[1:]**2)",
                {"X": X, "theta": theta, "y": Y})
    h = 1 / (1 + np.exp(-X @ theta))
    grad = X.T @ (h - Y) / m + lam / m * np.r_[0.0, theta[1:]]  # the exercise's formula
    solution = solved(text)
    cost = -np.mean(Y * np.log(h) + (1 - Y) * np.log(1 - h)) + lam / (2 * m) * np.sum(theta[1:] ** 2)
    assert solution["loss"] == pytest.approx(cost, rel=1e-12)
    np.testing.assert_allclose(np.reshape(solution["gradients"]["theta"], -1), grad, rtol=1e-12)


@pytest.mark.parametrize("expression,numpy", [
    ("X[:, 1] * w", lambda X, w: X[:, 1] * w),
    ("X[1:, ::2] @ V", lambda X, V: X[1:, ::2] @ V),
    ("X[-1, 1:] * w[::-1]", lambda X, w: X[-1, 1:] * w[::-1]),
    ("X[2, 1] * w", lambda X, w: X[2, 1] * w),
    ("X[1:3] @ w3", lambda X, w: X[1:3] @ w),
])
def test_columns_rows_and_blocks_are_numpys(expression, numpy):
    W = np.array([[0.3, -0.2], [0.5, 0.1]])
    w2, w3 = np.array([0.7, -1.3, 0.2, 0.9]), np.array([0.4, -0.6, 1.5])
    name, given = {"w": ("w", w2 if "X[:, 1]" in expression else w2[:2]), "V": ("V", W), "w3": ("w3", w3)}[
        next(k for k in ("w3", "V", "w") if k in expression)]
    text = spec(f"E = {expression}", "sum(E**2)", {"X": X, name: given}, params=(name, "X"))
    solution = solved(text)
    tensors = {"X": torch.tensor(X, requires_grad=True), name: torch.tensor(given, requires_grad=True)}
    out = numpy(tensors["X"], tensors[name]) if "::-1" not in expression else (
        tensors["X"][-1, 1:] * tensors[name].flip(0))
    (out ** 2).sum().backward()
    assert solution["loss"] == pytest.approx(float(np.sum(numpy(X, given) ** 2)), rel=1e-12)
    for key in ("X", name):
        np.testing.assert_allclose(np.reshape(solution["gradients"][key], np.shape(tensors[key])),
                                   tensors[key].grad.numpy(), rtol=1e-12, atol=1e-15)


def test_the_document_prints_the_slice_as_written():
    text = spec("h = sigmoid(X @ theta)", "mean((h - y)**2) + sum(theta[1:]**2)",
                {"X": X, "theta": [0.1, -0.4, 0.25], "y": Y})
    document = symprop.loads(text).solution().document("text")
    assert "sum(θ[1:]²)" in document


@pytest.mark.parametrize("expression,message", [
    ("theta[1, 2]", "too many indices: theta has 1 dimension"),
    ("theta[::0]", "a slice step cannot be zero"),
    ("theta[5:]", "the slice 5: picks nothing of 3"),
    ("X[:, 7]", "index 7 is out of range for an axis of 3"),
    ("theta[a:]", "an index must be a whole number, got a"),
])
def test_a_bad_index_is_one_line(expression, message):
    given = {"X": X, "theta": [0.1, -0.4, 0.25], "a": 1.0}
    text = spec(f"E = {expression} + theta[0]", "sum(E**2)",
                {k: v for k, v in given.items() if re.search(rf"\b{k}\b", expression) or k == "theta"})
    with pytest.raises(SympropError) as error:
        symprop.loads(text).solve()
    assert message in str(error.value) and "\n" not in str(error.value)
