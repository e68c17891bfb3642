"""Integer class labels: cross_entropy(Z, y) is PyTorch's F.cross_entropy (the
mean over a batch of rows), NumPy's gather P[range(N), y] picks entry y_i of
row i, onehot(y, C) is F.one_hot; a label that is not a class is one line."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import symprop
from symprop.errors import SympropError
from tests.specs import solved, spec_text

RNG = np.random.default_rng(11)
X = RNG.normal(size=(5, 4))
W = RNG.normal(size=(4, 3))
B = RNG.normal(size=3)
Y = np.array([2, 0, 1, 1, 2])


def spec(equations: str, loss: str, values: dict, params=("W", "b")) -> str:
    return spec_text(equations, loss, values, params, "labels")


def torch_reference(reg: float = 0.0):
    w, b = torch.tensor(W, requires_grad=True), torch.tensor(B, requires_grad=True)
    loss = F.cross_entropy(torch.tensor(X) @ w + b, torch.tensor(Y)) + 0.5 * reg * (w ** 2).sum()
    loss.backward()
    return loss.item(), w.grad.numpy(), b.grad.numpy()


def assert_torchs(solution, reg=0.0):
    loss, gw, gb = torch_reference(reg)
    assert solution["loss"] == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(np.reshape(solution["gradients"]["W"], gw.shape), gw, rtol=1e-10)
    np.testing.assert_allclose(np.reshape(solution["gradients"]["b"], -1), gb, rtol=1e-10)


def test_cross_entropy_on_integer_labels_with_l2_is_pytorchs():
    text = spec("Z = X @ W + b", "cross_entropy(Z, y) + 0.5 * 0.1 * sum(W**2)", {"X": X, "W": W, "b": B, "y": Y})
    assert_torchs(solved(text), reg=0.1)


def test_the_gather_of_cs231n():
    """probs[range(N), y] as in CS231n's softmax classifier."""
    text = spec("Z = X @ W + b\nP = softmax(Z, 1)", "-mean(log(P[range(5), y]))", {"X": X, "W": W, "b": B, "y": Y})
    assert_torchs(solved(text))


def test_onehot_is_one_hot():
    text = spec("Z = X @ W + b", "-sum(log_softmax(Z, 1) * onehot(y, 3)) / 5", {"X": X, "W": W, "b": B, "y": Y})
    assert_torchs(solved(text))


def test_one_sample_with_a_vector_of_logits():
    z = np.array([1.5, -0.3, 0.8])
    text = spec("p = z * 1", "cross_entropy(p, y)", {"z": z, "y": 2}, params=("z",))
    zt = torch.tensor(z, requires_grad=True)
    F.cross_entropy(zt[None, :], torch.tensor([2])).backward()
    np.testing.assert_allclose(np.reshape(solved(text)["gradients"]["z"], -1), zt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("labels,message", [
    ([2, 0, 3, 1, 2], "a class label must be a whole number from 0 to 2, got 3"),
    ([2, 0, 1.5, 1, 2], "a class label must be a whole number from 0 to 2, got 1.5"),
])
def test_a_label_that_is_not_a_class_is_one_line(labels, message):
    text = spec("Z = X @ W + b", "cross_entropy(Z, y)", {"X": X, "W": W, "b": B, "y": labels})
    with pytest.raises(SympropError) as error:
        symprop.loads(text).solve()
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("loss,message", [
    ("-mean(log(P[range(4), y]))", "a gather takes every row of a matrix"),
    ("sum(range(5)) + sum(y)", "range() picks the rows of a gather"),
    ("-sum(onehot(y, 0) * P)", "onehot() is written onehot(y, C), C the number of classes, a whole number from 1"),
])
def test_a_bad_gather_is_one_line(loss, message):
    text = spec("Z = X @ W + b\nP = softmax(Z, 1)", loss, {"X": X, "W": W, "b": B, "y": Y})
    with pytest.raises(SympropError) as error:
        symprop.loads(text).solve()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_binary_cross_entropy_with_logits_is_pytorchs():
    """Coursera ex2's logistic regression, written on logits."""
    x = np.array([[1.0, 0.5], [1.0, -1.5], [1.0, 2.0]])
    t = np.array([1.0, 0.0, 1.0])
    w = np.array([0.2, -0.7])
    text = spec("z = X @ w", "binary_cross_entropy_with_logits(z, y)", {"X": x, "w": w, "y": t}, params=("w",))
    wt = torch.tensor(w, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(torch.tensor(x) @ wt, torch.tensor(t))
    loss.backward()
    solution = solved(text)
    assert solution["loss"] == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(np.reshape(solution["gradients"]["w"], -1), wt.grad.numpy(), rtol=1e-12)
