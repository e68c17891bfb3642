"""var, std and norm as their definitions, and the normalisations built on
them: batch norm and layer norm written as the papers (and CS231n) write
them give PyTorch's F.batch_norm and F.layer_norm, gradients with respect to
the input included, and every check of symprop agrees."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import symprop
from tests.specs import solved, spec_text

RNG = np.random.default_rng(7)
X = RNG.normal(size=(4, 3))
C = RNG.normal(size=(4, 3))
GAMMA, BETA = RNG.normal(size=3), RNG.normal(size=3)
EPS = 1e-5


def spec(equations: str, loss: str, values: dict, params) -> str:
    return spec_text(equations, loss, values, params, "norms")


def torch_grads(forward, values: dict) -> tuple[float, dict]:
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    loss = forward(**tensors)
    loss.backward()
    return loss.item(), {k: t.grad.numpy() for k, t in tensors.items()}


def assert_same(solution: dict, loss: float, grads: dict) -> None:
    assert solution["loss"] == pytest.approx(loss, rel=1e-12)
    for k, g in grads.items():
        np.testing.assert_allclose(np.reshape(solution["gradients"][k], g.shape), g, rtol=1e-9, atol=1e-12)


def test_batch_norm_is_pytorchs():
    text = spec(f"mu = mean(X, 0)\nxhat = (X - mu) / sqrt(var(X, 0) + {EPS})\nY = gamma * xhat + beta",
                "sum(Y * C)", {"X": X, "gamma": GAMMA, "beta": BETA, "C": C}, ["X", "gamma", "beta"])
    loss, grads = torch_grads(lambda X, gamma, beta: (F.batch_norm(
        X, None, None, gamma, beta, training=True, eps=EPS) * torch.tensor(C)).sum(),
        {"X": X, "gamma": GAMMA, "beta": BETA})
    assert_same(solved(text), loss, grads)


def test_layer_norm_is_pytorchs():
    text = spec("xhat = (X - mean(X, 1)) / std(X, 1)\nY = gamma * xhat + beta".replace(
        "std(X, 1)", f"sqrt(var(X, 1) + {EPS})"), "sum(Y * C)",
        {"X": X, "gamma": GAMMA, "beta": BETA, "C": C}, ["X", "gamma", "beta"])
    loss, grads = torch_grads(lambda X, gamma, beta: (F.layer_norm(
        X, (3,), gamma, beta, eps=EPS) * torch.tensor(C)).sum(), {"X": X, "gamma": GAMMA, "beta": BETA})
    assert_same(solved(text), loss, grads)


@pytest.mark.parametrize("expression,reference", [
    ("var(X)", lambda X: X.var(correction=0)),
    ("std(X, 0)", lambda X: X.std(dim=0, correction=0, keepdim=True)),
    ("var(X, 1)", lambda X: X.var(dim=1, correction=0, keepdim=True)),
    ("norm(X)", lambda X: torch.linalg.norm(X)),
])
def test_var_std_and_norm_are_torchs(expression, reference):
    text = spec(f"E = {expression}", "sum(E * E)", {"X": X}, ["X"])
    loss, grads = torch_grads(lambda X: (reference(X) ** 2).sum(), {"X": X})
    assert_same(solved(text), loss, grads)


def test_the_document_prints_the_definition():
    text = spec("E = var(X, 0)", "sum(E)", {"X": X}, ["X"])
    assert "E = mean((X - mean(X, 0))², 0)" in symprop.loads(text).solution().document("text")


@pytest.mark.parametrize("expression,reference", [
    ("logsumexp(X)", lambda X: torch.logsumexp(X.reshape(-1), 0)),
    ("logsumexp(X, 1)", lambda X: torch.logsumexp(X, 1, keepdim=True)),
    ("logsumexp(800 * X, 0)", lambda X: torch.logsumexp(800 * X, 0, keepdim=True)),
])
def test_logsumexp_is_torchs_and_stable(expression, reference):
    text = spec(f"E = {expression}", "sum(E * E)", {"X": X}, ["X"])
    loss, grads = torch_grads(lambda X: (reference(X) ** 2).sum(), {"X": X})
    assert_same(solved(text), loss, grads)


@pytest.mark.parametrize("expression,reference", [
    ("amax(X)", lambda X: torch.amax(X.reshape(-1), 0)),
    ("amax(X, 1)", lambda X: torch.amax(X, 1, keepdim=True)),
    ("amin(X, 0)", lambda X: torch.amin(X, 0, keepdim=True)),
    ("amax(T, 1)", lambda T: torch.amax(T, 1, keepdim=True)),  # ties share the gradient evenly
])
def test_amax_and_amin_are_torchs(expression, reference):
    values = {"T": np.array([[1.5, 1.5, 0.25], [2.0, -1.0, 2.0]])} if "T" in expression else {"X": X}
    name = next(iter(values))
    text = spec(f"E = {expression}", "sum(E * E)", values, [name])
    loss, grads = torch_grads(lambda **t: (reference(t[name]) ** 2).sum(), values)
    assert_same(solved(text), loss, grads)


@pytest.mark.parametrize("claim,ok", [
    ("exp(z - logsumexp(z))", True),  # ∂ logsumexp / ∂z = softmax(z)
    ("exp(z - amax(z))", False),
    ("exp(z - mean(z))", False),
])
def test_a_formula_claim_computes_logsumexp_and_amax_as_numpy(claim, ok):
    text = ('title = "lse"\n[model]\nparams = ["z"]\nequations = "s = logsumexp(z)"\nloss = "s"\n'
            f'[values]\nz = [1.0, 2.5, -0.5]\n[expected]\n"formula.grad.z" = "{claim}"\n')
    report, passed = symprop.loads(text).check()
    assert passed == ok, report
