"""corr2d(X, K) as d2l's two-dimensional cross-correlation (PyTorch's conv2d
of one channel): d2l's numbers, and the gradients with respect to the input
and the kernel (the full convolution, and corr2d(X, ∂L/∂Y)) as PyTorch's."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import symprop
from symprop.errors import SympropError


def spec(x, k, t, params=("K",)) -> str:
    return ('title = "corr2d"\n[model]\n'
            f'params = {list(params)!r}\nequations = "Y = corr2d(X, K)"\nloss = "sum((Y - T)**2) / 2"\n'
            f"[values]\nX = {np.asarray(x).tolist()}\nK = {np.asarray(k).tolist()}\nT = {np.asarray(t).tolist()}\n"
            ).replace("'", '"')


def test_d2ls_numbers():
    """d2l 7.2.1: corr2d([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[0, 1], [2, 3]]) = [[19, 25], [37, 43]]."""
    solution = symprop.loads(spec(np.arange(9.0).reshape(3, 3), [[0, 1], [2, 3]], np.zeros((2, 2)))).solve()
    np.testing.assert_array_equal(np.reshape(solution["values"]["Y"], (2, 2)), [[19, 25], [37, 43]])


@pytest.mark.parametrize("xshape,kshape", [((4, 5), (2, 3)), ((5, 3), (3, 1)), ((3, 3), (3, 3))])
def test_both_gradients_are_pytorchs(xshape, kshape):
    rng = np.random.default_rng(sum(xshape) * 10 + sum(kshape))
    x, k = rng.normal(size=xshape), rng.normal(size=kshape)
    t = rng.normal(size=(xshape[0] - kshape[0] + 1, xshape[1] - kshape[1] + 1))
    problem = symprop.loads(spec(x, k, t, params=("X", "K")))
    report, ok = problem.check()
    assert ok, report
    xt, kt = torch.tensor(x, requires_grad=True), torch.tensor(k, requires_grad=True)
    y = F.conv2d(xt[None, None], kt[None, None])[0, 0]
    loss = ((y - torch.tensor(t)) ** 2).sum() / 2
    loss.backward()
    solution = problem.solve()
    assert solution["loss"] == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(np.reshape(solution["gradients"]["X"], xshape), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.reshape(solution["gradients"]["K"], kshape), kt.grad.numpy(), rtol=1e-12)


def test_the_matrix_form_names_the_full_convolution():
    problem = symprop.loads(spec(np.arange(9.0).reshape(3, 3), [[0, 1], [2, 3]], np.zeros((2, 2)), ("X", "K")))
    document = problem.solution().document("text")
    assert "∇_X L = full_conv(∂L/∂Y, K)" in document and "∇_K L = corr2d(X, ∂L/∂Y)" in document


def test_a_kernel_larger_than_the_input_is_one_line():
    with pytest.raises(SympropError, match="corr2d\\(\\): a 3x3 kernel does not fit in 2x2"):
        symprop.loads(spec(np.ones((2, 2)), np.ones((3, 3)), np.ones((1, 1)))).solve()


def pool_spec(x, equation: str, c) -> str:
    return ('title = "pooling"\n[model]\nparams = ["X"]\n'
            f'equations = "{equation}"\nloss = "sum(P * C)"\n'
            f"[values]\nX = {np.asarray(x).tolist()}\nC = {np.asarray(c).tolist()}\n")


def test_d2ls_pooling_numbers():
    """d2l 7.5.1: pool2d(X, (2, 2)) of arange(9) with stride 1 is [[4, 5], [7, 8]]."""
    solution = symprop.loads(pool_spec(np.arange(9.0).reshape(3, 3), "P = max_pool2d(X, 2, 1)", np.ones((2, 2))))
    np.testing.assert_array_equal(np.reshape(solution.solve()["values"]["P"], (2, 2)), [[4, 5], [7, 8]])


@pytest.mark.parametrize("xshape,k,stride", [((4, 4), 2, 2), ((5, 6), 2, 1), ((6, 5), 3, 2)])
def test_max_pool_gradients_are_pytorchs(xshape, k, stride):
    rng = np.random.default_rng(sum(xshape) + 7 * k + stride)
    x = rng.normal(size=xshape)
    out = ((xshape[0] - k) // stride + 1, (xshape[1] - k) // stride + 1)
    c = rng.normal(size=out)
    problem = symprop.loads(pool_spec(x, f"P = max_pool2d(X, {k}, {stride})", c))
    report, ok = problem.check()
    assert ok, report
    xt = torch.tensor(x, requires_grad=True)
    (F.max_pool2d(xt[None, None], k, stride)[0, 0] * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(np.reshape(problem.solve()["gradients"]["X"], xshape), xt.grad.numpy(), rtol=1e-12)


def test_a_tie_in_a_window_goes_to_the_first_entry_as_pytorch():
    x = np.array([[1.0, 1.0], [0.0, 1.0]])
    problem = symprop.loads(pool_spec(x, "P = max_pool2d(X, 2)", [[1.0]]))
    xt = torch.tensor(x, requires_grad=True)
    F.max_pool2d(xt[None, None], 2)[0, 0].sum().backward()
    np.testing.assert_array_equal(np.reshape(problem.solve()["gradients"]["X"], (2, 2)), xt.grad.numpy())
    report, ok = problem.check()  # the scalar engine and the exact pass take the first entry too
    assert ok and "at a kink" in report, report


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 1), (2, 0), (2, 1), (3, 2)])
def test_conv2d_with_stride_and_padding_is_pytorchs(stride, padding):
    rng = np.random.default_rng(10 * stride + padding)
    x, k = rng.normal(size=(5, 6)), rng.normal(size=(3, 2))
    xt, kt = torch.tensor(x, requires_grad=True), torch.tensor(k, requires_grad=True)
    y = F.conv2d(xt[None, None], kt[None, None], stride=stride, padding=padding)[0, 0]
    t = rng.normal(size=tuple(y.shape))
    ((y - torch.tensor(t)) ** 2).sum().backward()
    text = ('title = "conv2d"\n[model]\nparams = ["X", "K"]\n'
            f'equations = "Y = conv2d(X, K, {stride}, {padding})"\nloss = "sum((Y - T)**2)"\n'
            f"[values]\nX = {x.tolist()}\nK = {k.tolist()}\nT = {t.tolist()}\n")
    problem = symprop.loads(text)
    report, ok = problem.check()
    assert ok, report
    solution = problem.solve()
    np.testing.assert_allclose(np.reshape(solution["gradients"]["X"], x.shape), xt.grad.numpy(), rtol=1e-11)
    np.testing.assert_allclose(np.reshape(solution["gradients"]["K"], k.shape), kt.grad.numpy(), rtol=1e-11)


def test_pad_is_numpys_and_prints_its_gradient_as_the_inside():
    text = ('title = "pad"\n[model]\nparams = ["X"]\nequations = "P = pad(X, 1)"\nloss = "sum(P * C)"\n'
            f"[values]\nX = {np.ones((2, 2)).tolist()}\nC = {np.arange(16.0).reshape(4, 4).tolist()}\n")
    solution = symprop.loads(text).solution()
    np.testing.assert_array_equal(np.reshape(solution.to_json()["values"]["P"], (4, 4)), np.pad(np.ones((2, 2)), 1))
    np.testing.assert_array_equal(np.reshape(solution.to_json()["gradients"]["X"], (2, 2)), [[5, 6], [9, 10]])
    assert "∇_X L = (∂L/∂P)[1:-1, 1:-1]" in solution.document("text")
