"""flatten, reshape (NumPy's row-by-row order) and conv1d (PyTorch's conv1d of
one channel) give PyTorch's gradients; a size that does not fit is one line."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import symprop
from symprop.errors import SympropError

W = np.array([[0.5, -1.0, 2.0], [0.25, 1.5, -0.75]])
C = np.array([[1.0, 2.0], [0.0, -1.0], [0.5, 0.3]])
K = np.array([1.0, -0.5])

TEXT = ('title = "reshape"\n[model]\nparams = ["W", "k"]\n'
        'equations = """\nf = flatten(W)\nM = reshape(f, 3, 2)\nv = conv1d(f, k)\nR = reshape(W.T, 6)\n"""\n'
        'loss = "sum(M * C) + sum(v**2) + sum(R * f)"\n'
        f"[values]\nW = {W.tolist()}\nk = {K.tolist()}\nC = {C.tolist()}\n")


def test_flatten_reshape_and_conv1d_are_pytorchs():
    problem = symprop.loads(TEXT)
    report, ok = problem.check()
    assert ok, report
    w, k = torch.tensor(W, requires_grad=True), torch.tensor(K, requires_grad=True)
    f = w.flatten()
    loss = ((f.reshape(3, 2) * torch.tensor(C)).sum() + (F.conv1d(f[None, None], k[None, None])[0, 0] ** 2).sum()
            + (w.T.reshape(6) * f).sum())
    loss.backward()
    solution = problem.solve()
    assert solution["loss"] == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(np.reshape(solution["gradients"]["W"], (2, 3)), w.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.reshape(solution["gradients"]["k"], -1), k.grad.numpy(), rtol=1e-12)


def test_printed_as_written():
    document = symprop.loads(TEXT).solution().document("text")
    assert "f = flatten(W)" in document and "M = reshape(f, 3, 2)" in document and "v = conv1d(f, k)" in document


@pytest.mark.parametrize("equation,message", [
    ("M = reshape(W, 4, 2)", "cannot reshape 2x3 into 4x2: the number of entries differs"),
    ("M = conv1d(k, W)", "conv1d() takes vectors (lists), but W is 2x3"),
    ("M = reshape(W, 0)", "reshape() is written reshape(x, n), reshape(x, rows, cols) or reshape(X, N, C, H, W), the sizes whole numbers (one of them may be -1"),
])
def test_a_size_that_does_not_fit_is_one_line(equation, message):
    text = TEXT.replace('f = flatten(W)\nM = reshape(f, 3, 2)\nv = conv1d(f, k)\nR = reshape(W.T, 6)', equation)
    text = text.replace('loss = "sum(M * C) + sum(v**2) + sum(R * f)"', 'loss = "sum(M) + sum(k)"')
    text = text.replace(f"C = {C.tolist()}\n", "")
    with pytest.raises(SympropError) as error:
        symprop.loads(text).solve()
    assert message in str(error.value) and "\n" not in str(error.value)
