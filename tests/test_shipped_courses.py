"""The shipped problems of today's courses, each against torch.nn.functional
computed here from the spec's own numbers (not from symprop's program):
batch norm (F.batch_norm), layer norm (F.layer_norm), one attention head
(F.scaled_dot_product_attention), CS231n's two-layer classifier on integer
labels (F.relu, F.cross_entropy, L2), d2l's kernel learning (F.conv2d), a convolution layer with max pooling
(F.conv2d, F.relu, F.max_pool2d) and a convolution of several input and output channels (F.conv2d); `symprop check` passes on each, and the
worked solution exists in English, Russian and Chinese."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

import symprop
from symprop.cli import main


def given(name: str) -> dict:
    problem = symprop.load(name)
    return {k: torch.tensor(np.asarray(v, dtype=float).reshape(np.shape(v)), dtype=torch.float64)
            for k, v in problem.values.items()}


def flat(t: torch.Tensor) -> torch.Tensor:
    """A list in the spec is 1-d (symprop keeps it as a column)."""
    return t.reshape(-1)


def assert_gradients(name: str, loss: torch.Tensor, leaves: dict) -> None:
    solution = symprop.load(name).solve()
    assert solution["loss"] == pytest.approx(loss.item(), rel=1e-12)
    grads = torch.autograd.grad(loss, list(leaves.values()))
    for (key, leaf), g in zip(leaves.items(), grads):
        np.testing.assert_allclose(np.reshape(solution["gradients"][key], tuple(leaf.shape)), g.numpy(),
                                   rtol=1e-9, atol=1e-12, err_msg=f"{name}: {key}")


def test_batchnorm():
    v = given("batchnorm")
    X, gamma, beta = (t.requires_grad_() for t in (v["X"], flat(v["gamma"]), flat(v["beta"])))
    Y = F.batch_norm(X, None, None, gamma, beta, training=True, eps=float(v["epsilon"]))
    assert_gradients("batchnorm", ((Y - v["T"]) ** 2).sum() / 2, {"X": X, "gamma": gamma, "beta": beta})


def test_layernorm():
    v = given("layernorm")
    X, gamma, beta = (t.requires_grad_() for t in (v["X"], flat(v["gamma"]), flat(v["beta"])))
    Y = F.layer_norm(X, (X.shape[1],), gamma, beta, eps=float(v["epsilon"]))
    assert_gradients("layernorm", ((Y - v["T"]) ** 2).sum() / 2, {"X": X, "gamma": gamma, "beta": beta})


def test_attention():
    v = given("attention")
    Wq, Wk, Wv = (v[k].requires_grad_() for k in ("Wq", "Wk", "Wv"))
    X = v["X"]
    O = F.scaled_dot_product_attention(X @ Wq, X @ Wk, X @ Wv)  # scale 1/sqrt(d_k), d_k = 2
    assert_gradients("attention", ((O - v["T"]) ** 2).sum() / 2, {"Wq": Wq, "Wk": Wk, "Wv": Wv})


def test_softmax_classifier():
    v = given("softmax_classifier")
    W1, b1, W2, b2 = (v["W1"].requires_grad_(), flat(v["b1"]).requires_grad_(), v["W2"].requires_grad_(),
                      flat(v["b2"]).requires_grad_())
    Z = F.relu(v["X"] @ W1 + b1) @ W2 + b2
    loss = F.cross_entropy(Z, flat(v["y"]).long()) + float(v["lambda_"]) * ((W1 ** 2).sum() + (W2 ** 2).sum())
    assert_gradients("softmax_classifier", loss, {"W1": W1, "b1": b1, "W2": W2, "b2": b2})


def test_conv_edge():
    """d2l 7.2.4: the kernel's gradient, as PyTorch's conv2d gives it."""
    v = given("conv_edge")
    K = v["K"].requires_grad_()
    Yhat = F.conv2d(v["X"][None, None], K[None, None])[0, 0]
    assert_gradients("conv_edge", ((Yhat - v["Y"]) ** 2).sum(), {"K": K})


def test_conv_pool():
    v = given("conv_pool")
    K, b = v["K"].requires_grad_(), v["b"].requires_grad_()
    H = F.relu(F.conv2d(v["X"][None, None], K[None, None]) + b)
    P = F.max_pool2d(H, 2, 1)[0, 0]
    assert_gradients("conv_pool", ((P - v["T"]) ** 2).sum() / 2, {"K": K, "b": b})


def test_conv_channels():
    """d2l 7.4: two input channels, three output channels (K, K + 1, K + 2), as F.conv2d computes them;
    the book prints the outputs [[56, 72], [104, 120]], [[76, 100], [148, 172]], [[96, 128], [192, 224]]."""
    v = given("conv_channels")
    K = v["K"].requires_grad_()
    Y = F.conv2d(v["X"], K)
    assert Y.detach().numpy().tolist() == [[[56, 72], [104, 120]], [[76, 100], [148, 172]], [[96, 128], [192, 224]]]
    assert_gradients("conv_channels", ((Y - v["T"]) ** 2).sum() / 2, {"K": K})


@pytest.mark.parametrize("name", ["batchnorm", "layernorm", "attention", "softmax_classifier", "conv_edge",
                                  "conv_pool", "conv_channels"])
def test_check_passes_and_the_solution_is_in_three_languages(name):
    result = CliRunner().invoke(main, ["check", name])
    assert result.exit_code == 0, result.output
    assert "internal error" not in result.output
    for lang in ("en", "ru", "zh"):
        text = CliRunner().invoke(main, ["solve", name, "--lang", lang])
        assert text.exit_code == 0 and symprop.load(name).spec.titles[lang] in text.output


@pytest.mark.parametrize("name", ["softmax_classifier", "batchnorm", "conv_pool", "conv_channels"])
def test_variants_of_the_course_problems_pass_check(name, tmp_path):
    """Labels stay whole numbers (kept as given); a draw with no real answer
    (the square root of a negative variance plus epsilon) is not kept."""
    result = CliRunner().invoke(main, ["variants", name, "-n", "2", "--seed", "3", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for path in sorted(tmp_path.glob("*.toml")):
        checked = CliRunner().invoke(main, ["check", str(path)])
        assert checked.exit_code == 0, checked.output
    if name == "softmax_classifier":
        assert all(symprop.load(p).spec.values["y"].tolist() == symprop.load(name).spec.values["y"].tolist()
                   for p in tmp_path.glob("*.toml"))


def test_batchnorm_claims_the_simplified_backward_pass():
    """CS231n's batchnorm_backward_alt: dx = γ/σ·(N·dy − Σdy − x̂·Σ(dy ⊙ x̂))/N, a formula claim
    with NumPy's broadcasting (γ a 1-d vector, σ a row); a wrong one (no x̂ term) is found."""
    report, ok = symprop.load("batchnorm").check()
    assert ok and "3 of 3 claims agree" in report, report
    text = symprop.load("batchnorm").spec.origin
    wrong = open(text, encoding="utf-8").read().replace(" - Xhat * sum(adjoint(Y) * Xhat, 0)) / 4", ") / 4")
    report, ok = symprop.loads(wrong).check()
    assert not ok and "WRONG" in report
