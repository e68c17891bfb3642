"""Values of three axes or more, as NumPy holds them: a batch of images
N×C×H×W from nested lists or a .npy file, convolutions of several channels
(PyTorch's F.conv2d with stride and zero padding), max pooling of every
channel, reshape with -1, NumPy's broadcasting on every axis and reductions
along any axis.  Every number is compared with PyTorch computing the same
network by hand (torch.nn.functional), not through symprop."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import symprop
from symprop.api import from_dict
from symprop.errors import SympropError

RNG = np.random.default_rng(7)


def rounded(*shape, scale=1.0):
    return np.round(RNG.normal(size=shape) * scale, 2)


def cnn(stride: int, padding: int, images) -> dict:
    n = images.shape[0] if images.ndim == 4 else 1
    c, h, w = images.shape[-3:]
    kernel = rounded(3, c, 3, 3, scale=0.5)
    rows = (h + 2 * padding - 3) // stride + 1
    cols = (w + 2 * padding - 3) // stride + 1
    pooled = 3 * (rows // 2) * (cols // 2)
    lead = "" if images.ndim == 4 else "1, "  # one image: C×H×W
    return {
        "title": "Convolution, pooling and a classifier",
        "model": {
            "params": ["K", "b", "W"],
            "equations": f"""
Z = conv2d(X, K, {stride}, {padding}) + reshape(b, {lead}3, 1, 1)
A = relu(Z)
P = max_pool2d(A, 2)
S = reshape(P, {n}, -1) @ W
""",
            "loss": "cross_entropy(S, y)",
        },
        "values": {"X": images.tolist(), "K": kernel.tolist(), "b": [0.1, -0.2, 0.05],
                   "W": rounded(pooled, 4, scale=0.3).tolist(), "y": [3, 0, 1][:n]},
    }


def by_torch(data: dict, stride: int, padding: int) -> tuple[float, dict]:
    v = {k: torch.tensor(np.array(data["values"][k], dtype=float), requires_grad=k in ("K", "b", "W"))
         for k in ("X", "K", "b", "W")}
    images = v["X"] if v["X"].dim() == 4 else v["X"].unsqueeze(0)
    z = F.conv2d(images, v["K"], stride=stride, padding=padding) + v["b"].reshape(1, 3, 1, 1)
    p = F.max_pool2d(F.relu(z), 2)
    s = p.reshape(p.shape[0], -1) @ v["W"]
    loss = F.cross_entropy(s, torch.tensor(data["values"]["y"]))
    loss.backward()
    return loss.item(), {k: v[k].grad.numpy() for k in ("K", "b", "W")}


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1), (2, 0)])
@pytest.mark.parametrize("batch", [2, None])
def test_a_convolution_layer_of_several_channels_gives_pytorchs_numbers(stride, padding, batch):
    images = rounded(batch, 2, 6, 6) if batch else rounded(2, 6, 6)
    data = cnn(stride, padding, images)
    solution = from_dict(data).solve()
    loss, grads = by_torch(data, stride, padding)
    assert solution["loss"] == pytest.approx(loss, rel=1e-12)
    for name, g in grads.items():
        np.testing.assert_allclose(np.reshape(solution["gradients"][name], g.shape), g, rtol=1e-10, atol=1e-13)
    assert solution["checks"]["finite_differences"]["passed"]
    assert solution["checks"]["matrix_form"]["passed"]
    assert "three axes" in solution["checks"]["scalar_engine"]["skipped"]


def test_check_and_every_format_work_on_images(tmp_path):
    data = cnn(1, 1, rounded(2, 2, 5, 5))
    problem = from_dict(data)
    report, ok = problem.check()
    assert ok, report
    assert "PyTorch autograd (float64)" in report and "passed" in report
    for fmt in ("text", "markdown", "myst", "latex", "json"):
        out = problem.solution().document(fmt) if fmt != "json" else problem.solve()
        assert out
    text = problem.solution().document("text")
    assert "∇_K L = conv2d_weight(X, ∂L/∂Z, 1, 1)" in text
    assert "Z = conv2d(X, K, 1, 1) + reshape(b, 3, 1, 1)" in text
    assert "X = (2×2×5×5)" in text  # 100 entries: shown by the shape


def test_an_image_file_of_four_axes_is_read_as_it_is(tmp_path):
    images = rounded(2, 2, 5, 5)
    np.save(tmp_path / "X.npy", images)
    data = cnn(1, 1, images)
    data["values"]["X"] = "X.npy"
    spec = tmp_path / "cnn.toml"
    import tomli_w
    spec.write_text(tomli_w.dumps(data), encoding="utf-8")
    loss, _ = by_torch(cnn(1, 1, images) | {"values": {**data["values"], "X": images.tolist()}}, 1, 1)
    assert symprop.load(spec).solve()["loss"] == pytest.approx(loss, rel=1e-12)


def test_broadcasting_and_reductions_on_every_axis_are_numpys():
    """A (C,1,1) scale, a 1-d shift along the last axis, a 2-d term, sums and means along axes."""
    X, g, s, M = rounded(2, 3, 4, 5), rounded(3, 1, 1), rounded(5), rounded(4, 5)
    text = "mean(sum((X * g + s) ** 2 + M, 1), 2)"
    data = {"model": {"params": ["g", "s", "M"], "equations": f"E = {text}", "loss": "sum(E ** 2)"},
            "values": {"X": X.tolist(), "g": g.tolist(), "s": s.tolist(), "M": M.tolist()}}
    got = from_dict(data).solve()
    t = {k: torch.tensor(v, requires_grad=k != "X") for k, v in {"X": X, "g": g, "s": s, "M": M}.items()}
    e = (((t["X"] * t["g"] + t["s"]) ** 2 + t["M"]).sum(1, keepdim=True)).mean(2, keepdim=True)
    loss = (e ** 2).sum()
    loss.backward()
    assert got["loss"] == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(np.reshape(got["gradients"]["g"], (3, 1, 1)), t["g"].grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(np.reshape(got["gradients"]["s"], 5), t["s"].grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(np.reshape(got["gradients"]["M"], (4, 5)), t["M"].grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("equation, values, fragment", [
    ("Y = X @ W", {"W": np.ones((5, 2))}, "'@' takes scalars, vectors and matrices, but X is 4-d (2x3x4x5)"),
    ("Y = X.T", {}, "'.T' takes scalars, vectors and matrices, but X is 4-d"),
    ("Y = X[0, 0, 0, 0, 0]", {}, "too many indices: X has 4 axes"),
    ("Y = X[0, 5]", {}, "index 5 is out of range for an axis of 3"),
    ("Y = conv2d(X, W)", {"W": np.ones((2, 2, 3, 3))}, "conv2d(): the kernel has 2 input channels and the images 3"),
    ("Y = conv2d(X, W)", {"W": np.ones((3, 3))}, "conv2d() of images takes X as N×C×H×W (or C×H×W) and K as O×C×kh×kw"),
    ("Y = reshape(X, 7, -1)", {}, "cannot reshape 2x3x4x5 into 7x-1"),
    ("Y = sum(X, 4)", {}, "sum: the axis must be 0 to 3 for a 4-d value, got 4"),
    ("Y = X + W", {"W": np.ones((3, 5))}, "'+' needs operands of the same shape, got 2x3x4x5 and 3x5"),
])
def test_what_takes_vectors_and_matrices_only_says_so_in_one_line(equation, values, fragment):
    data = {"model": {"params": ["X"], "equations": equation, "loss": "sum(Y)"},
            "values": {"X": np.ones((2, 3, 4, 5)).tolist(), **{k: v.tolist() for k, v in values.items()}}}
    with pytest.raises(SympropError) as error:
        from_dict(data).solve()
    assert fragment in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("given, fragment", [
    ([[[1, 2], [3]]], "nested lists must have the same length on each level"),
    ([[[1, 2], [3, [4]]]], "nested lists must have the same length on each level"),
    ([[[[[[[1]]]]]]], "is nested more than 6 deep"),
])
def test_ragged_nesting_is_one_line(given, fragment):
    data = {"model": {"params": ["X"], "equations": "Y = X * 2", "loss": "sum(Y)"}, "values": {"X": given}}
    with pytest.raises(SympropError) as error:
        from_dict(data).solve()
    assert fragment in str(error.value) and "values.X" in str(error.value)


def test_variants_of_an_image_problem_pass_check(tmp_path):
    problem = from_dict(cnn(1, 1, rounded(1, 2, 4, 4)))
    variants = problem.variants(2, seed=3)
    for text in variants.toml():
        report, ok = symprop.loads(text).check()
        assert ok, report


@pytest.mark.parametrize("text, torch_form", [
    ("transpose(X, 2, 0, 1)", lambda x: x.permute(2, 0, 1)),
    ("transpose(X)", lambda x: x.permute(2, 1, 0)),
    ("transpose(X, 0, 2, 1) * s", lambda x: x.permute(0, 2, 1) * torch.tensor(SCALE)),
])
def test_transpose_of_any_axes_is_numpys(text, torch_form):
    X = rounded(2, 3, 4)
    data = {"model": {"params": ["X"], "equations": f"Y = {text}\nZ = reshape(Y, 4, -1)", "loss": "sum(Z**3)"},
            "values": {"X": X.tolist(), "s": SCALE.tolist()}}
    if not text.endswith("* s"):
        del data["values"]["s"]
    got = from_dict(data).solve()
    x = torch.tensor(X, requires_grad=True)
    loss = (torch_form(x).reshape(4, -1) ** 3).sum()
    loss.backward()
    assert got["loss"] == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(np.reshape(got["gradients"]["X"], X.shape), x.grad.numpy(), rtol=1e-10)


SCALE = np.array([1.5, -0.5, 2.0])  # along the last axis of X.transpose(0, 2, 1), 2x4x3


def test_transpose_names_every_axis_once():
    data = {"model": {"params": ["X"], "equations": "Y = transpose(X, 0, 0, 1)", "loss": "sum(Y)"},
            "values": {"X": np.ones((2, 3, 4)).tolist()}}
    with pytest.raises(SympropError) as error:
        from_dict(data).solve()
    assert "transpose(): the axes of X are 0 to 2, each once, got 0, 0, 1" in str(error.value)


@pytest.mark.parametrize("text, torch_form", [
    ("X[1]", lambda x, v: x[1]),  # one image of the batch, 3-d
    ("X[:, 1] * 2", lambda x, v: x[:, 1] * 2),
    ("X[1, :, 1:3] + 1", lambda x, v: x[1, :, 1:3] + 1),
    ("X[0, 2] @ v", lambda x, v: x[0, 2] @ v),  # a matrix of the batch, into a product
    ("X[1, 0, 2] * v", lambda x, v: x[1, 0, 2] * v),  # a 1-d row, against a 1-d vector
    ("X[1, 0, 2, ::-2]", lambda x, v: x[1, 0, 2, [4, 2, 0]]),
    ("X[0, 1, 2, 3] * X", lambda x, v: x[0, 1, 2, 3] * x),
])
def test_indexing_an_array_of_more_axes_is_numpys(text, torch_form):
    X, v = rounded(2, 3, 4, 5), rounded(5)
    data = {"model": {"params": ["X"], "equations": f"Y = {text}", "loss": "sum(Y**3)"},
            "values": {"X": X.tolist(), **({"v": v.tolist()} if "v" in text else {})}}
    got = from_dict(data).solve()
    x = torch.tensor(X, requires_grad=True)
    loss = (torch_form(x, torch.tensor(v)) ** 3).sum()
    loss.backward()
    assert got["loss"] == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(np.reshape(got["gradients"]["X"], X.shape), x.grad.numpy(), rtol=1e-10, atol=1e-12)
