"""Random MLPs (depth, widths, activations, batch sizes) and random vector
RNNs: gradients equal central finite differences of a NumPy forward pass
written here, and the matrix-form formulas agree with the scalar engine."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symprop.api import from_dict

ACT = {
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "sin": np.sin,
    "relu": lambda z: np.maximum(z, 0.0),
}
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def matrix(draw, rows, cols):
    return np.array(draw(st.lists(st.lists(st.floats(-1, 1), min_size=cols, max_size=cols),
                                  min_size=rows, max_size=rows)))


@st.composite
def mlps(draw):
    n = draw(st.integers(1, 3))  # observations, as rows of X
    widths = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(2, 4)))]
    acts = [draw(st.sampled_from(sorted(ACT))) for _ in widths[1:]]
    params = {f"W{i}": matrix(draw, widths[i - 1], widths[i]) for i in range(1, len(widths))}
    params.update({f"b{i}": draw(st.floats(-0.5, 0.5)) for i in range(1, len(widths))})
    X = matrix(draw, n, widths[0])
    y = matrix(draw, n, widths[-1])
    return params, acts, X, y


def mlp_forward(params, acts, X, y):
    H = X
    for i, act in enumerate(acts, start=1):
        Z = H @ params[f"W{i}"] + params[f"b{i}"]
        if act == "relu" and np.any(np.abs(Z) < 1e-4):
            raise Kink
        H = ACT[act](Z)
    return float(np.mean((H - y) ** 2))


class Kink(Exception):
    """relu too close to 0 for finite differences."""


def spec_values(values):
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in values.items()}


def assert_gradients(spec, forward, params):
    try:
        reference = forward(params)
    except Kink:
        return
    solution = from_dict(spec).solve()
    assert np.isclose(solution["loss"], reference, rtol=1e-10, atol=1e-12)
    assert solution["checks"]["matrix_form"]["passed"], solution["checks"]
    for name, value in params.items():
        grad = np.array(solution["gradients"][name], dtype=float).reshape(np.shape(value))
        for index in np.ndindex(np.shape(value)):
            up, down = dict(params), dict(params)
            if np.ndim(value):
                up[name], down[name] = value.copy(), value.copy()
                up[name][index] += 1e-6
                down[name][index] -= 1e-6
            else:
                up[name], down[name] = value + 1e-6, value - 1e-6
            try:
                fd = (forward(up) - forward(down)) / 2e-6
            except Kink:
                continue
            assert abs(grad[index] - fd) <= 1e-5 * max(1.0, abs(fd)), (name, index, grad[index], fd)


def mlp_spec(params, acts, X, y) -> dict:
    lines = ["H0 = X"] + [f"H{i} = {act}(H{i - 1} @ W{i} + b{i})" for i, act in enumerate(acts, start=1)]
    return {
        "title": "random MLP",
        "model": {"params": list(params), "equations": "\n".join(lines),
                  "loss": f"mean((H{len(acts)} - y)**2)"},
        "values": spec_values({**params, "X": X, "y": y}),
    }


def rnn_spec(params, act, xs, ys, T) -> dict:
    """The columns of rnn_forward written as lists of lists (NumPy's 2-d
    columns): h₀, b and every x[t] alike, so that W @ h + U @ x + b is a column."""
    H = params["W"].shape[0]
    spec = {
        "title": "random RNN",
        "model": {"params": list(params), "steps": T, "initial": {"h": [[0.0]] * H},
                  "equations": f"h[t] = {act}(W @ h[t-1] + U @ x[t] + b)\nyhat[t] = V @ h[t]",
                  "loss": "(yhat[t] - y[t])**2"},
        "values": spec_values(params),
    }
    spec["values"]["x"] = [x.tolist() for x in xs]
    spec["values"]["y"] = ys
    return spec


@SETTINGS
@given(mlps())
def test_random_mlps(case):
    params, acts, X, y = case
    spec = mlp_spec(params, acts, X, y)
    assert_gradients(spec, lambda p: mlp_forward(p, acts, X, y), params)


@st.composite
def rnns(draw):
    H, D, T = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 4))
    act = draw(st.sampled_from(sorted(ACT)))
    params = {"W": matrix(draw, H, H), "U": matrix(draw, H, D), "V": matrix(draw, 1, H),
              "b": matrix(draw, H, 1)}
    xs = [matrix(draw, D, 1) for _ in range(T + 1)]
    ys = [draw(st.floats(-1, 1)) for _ in range(T + 1)]
    return params, act, xs, ys, T


def rnn_forward(p, act, xs, ys, T):
    h = np.zeros((p["W"].shape[0], 1))
    loss = 0.0
    for t in range(1, T + 1):
        a = p["W"] @ h + p["U"] @ xs[t] + p["b"]
        if act == "relu" and np.any(np.abs(a) < 1e-4):
            raise Kink
        h = ACT[act](a)
        loss += float((p["V"] @ h)[0, 0] - ys[t]) ** 2
    return loss


@SETTINGS
@given(rnns())
def test_random_vector_rnns(case):
    params, act, xs, ys, T = case
    assert_gradients(rnn_spec(params, act, xs, ys, T), lambda p: rnn_forward(p, act, xs, ys, T), params)
