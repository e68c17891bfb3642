"""where(a < b, x, y) and comparisons, with NumPy's meaning: Huber's loss,
a hinge with a mask and ReLU written as a mask give PyTorch's numbers, and
every check of symprop agrees (the entry-by-entry engine, exact rationals,
the printed formulas)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import symprop
from symprop.errors import SympropError
from tests.specs import solved, spec_text

X = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 1.0], [-2.0, 0.25]])
Y = np.array([1.0, 0.2, -1.5, 0.75])


def spec(equations: str, loss: str, values: dict, params=("w",)) -> str:
    return spec_text(equations, loss, values, params, "where")


def gradient(text: str, name: str = "w") -> np.ndarray:
    return np.reshape(solved(text)["gradients"][name], -1)


@pytest.mark.parametrize("delta", [1.0, 0.5])
def test_huber_loss_is_pytorchs(delta):
    w = np.array([0.4, -0.3])
    text = spec(f"r = X @ w - y\nh = where(abs(r) < {delta}, 0.5*r**2, {delta}*(abs(r) - 0.5*{delta}))",
                "mean(h)", {"X": X, "w": w, "y": Y})
    wt = torch.tensor(w, requires_grad=True)
    F.huber_loss(torch.tensor(X) @ wt, torch.tensor(Y), delta=delta).backward()
    assert symprop.loads(text).solve()["loss"] == pytest.approx(
        float(F.huber_loss(torch.tensor(X) @ torch.tensor(w), torch.tensor(Y), delta=delta)), rel=1e-12)
    np.testing.assert_allclose(gradient(text), wt.grad.numpy(), rtol=1e-12)


def test_a_hinge_with_a_mask_and_relu_as_a_mask():
    """CS231n's SVM margin max(0, s - s_y + 1) written with a mask, and
    z ⊙ [z > 0]: both as PyTorch's relu."""
    w = np.array([0.3, -0.8])
    text = spec("s = X @ w\nm = s - y + 1\nh = (m > 0) * m", "sum(h)", {"X": X, "w": w, "y": Y})
    wt = torch.tensor(w, requires_grad=True)
    torch.relu(torch.tensor(X) @ wt - torch.tensor(Y) + 1).sum().backward()
    np.testing.assert_allclose(gradient(text), wt.grad.numpy(), rtol=1e-12)


def test_the_tie_goes_to_the_branch_torch_where_takes():
    """At a == b, a < b is false (NumPy) and a <= b true; the gradient follows."""
    text = spec("h = where(w < c, 3*w, 5*w)\nk = where(w <= c, 7*w, 11*w)", "sum(h + k)",
                {"w": [1.0, 2.0], "c": [1.0, 3.0]})
    np.testing.assert_allclose(gradient(text), [5 + 7, 3 + 7])


def test_the_document_prints_an_iverson_bracket():
    text = spec("r = X @ w - y\nh = where(abs(r) < 1, 0.5*r**2, abs(r) - 0.5)", "mean(h)",
                {"X": X, "w": [0.4, -0.3], "y": Y})
    document = symprop.loads(text).solution().document("text")
    assert "h = [|r| < 1] ⊙ 0.5·r² + (1 - [|r| < 1]) ⊙ (|r| - 0.5)" in document
    latex = symprop.loads(text).solution().document("latex")
    assert r"\left[\left|r\right| < 1\right]" in latex


@pytest.mark.parametrize("equation,message", [
    ("h = where(w, w, 0)", "where() takes a comparison first: where(a < b, x, y)"),
    ("h = where(w < 1, w)", "where() is written where(a < b, x, y): a comparison and two values"),
    ("h = (0 < w < 1) * w", "a chain of comparisons is not allowed"),
    ("h = (w == 1) * w", "'==' is not allowed"),
])
def test_bad_comparisons_get_one_line(equation, message):
    with pytest.raises(SympropError) as error:
        symprop.loads(spec(equation, "sum(h)", {"w": [1.0, 2.0]})).solve()
    assert message in str(error.value) and "\n" not in str(error.value)
