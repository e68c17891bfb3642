"""The backward pass worked with its arrays equals a backward pass written
by hand in NumPy here (nothing of symprop's engine): a small RNN (dlbook_rnn:
the first step back, t = τ, and every parameter's Σₜ) and an MLP (stepik_mlp:
each layer's adjoint and δ, from the output back)."""

import numpy as np
import pytest

import symprop
from tests.test_working_reproduces import as_python, joined, printed_value, recompute


def _worked(text: str, sides: int = 4) -> dict[str, list[str]]:
    """Each worked line (formula = numbers = value: 4 sides) by its left side, split at ' = '."""
    out = {}
    for line in joined(text):
        parts = [p.strip() for p in line.split(" = ")]
        if len(parts) >= sides and printed_value(parts[-1]) is not None:
            out.setdefault(parts[0], parts)
    return out


def _agrees(printed: str, expected) -> bool:
    entries, halves = printed_value(printed)
    expected = np.asarray(expected, dtype=float).reshape(-1)
    return expected.shape == entries.shape and bool(np.all(np.abs(expected - entries) <= halves + 1e-12))


def _rnn():
    W = np.array([[0.5, -0.3], [0.2, 0.4]])
    U = np.array([[0.1, 0.6], [-0.4, 0.3]])
    V = np.array([[0.3, -0.2], [0.7, 0.1], [-0.5, 0.4]])
    b, c = np.array([0.1, -0.1]), np.array([0.0, 0.2, -0.2])
    xs = [np.array(v, float) for v in ([1, 0], [0, 1], [1, 1])]
    ys = [np.array(v, float) for v in ([1, 0, 0], [0, 0, 1], [0, 1, 0])]
    hs, yhats = [np.zeros(2)], []
    for x in xs:
        hs.append(np.tanh(b + W @ hs[-1] + U @ x))
        o = c + V @ hs[-1]
        yhats.append(np.exp(o) / np.exp(o).sum())
    grads = {k: np.zeros_like(v) for k, v in dict(W=W, U=U, V=V, b=b, c=c).items()}
    first = {}
    da_next = np.zeros(2)
    for t in range(3, 0, -1):
        do = yhats[t - 1] - ys[t - 1]
        dh = V.T @ do + W.T @ da_next
        da = (1 - hs[t] ** 2) * dh
        if t == 3:
            first = {"o": do, "h": dh, "a": da}
        grads["W"] += np.outer(da, hs[t - 1])
        grads["U"] += np.outer(da, xs[t - 1])
        grads["V"] += np.outer(do, hs[t])
        grads["b"] += da
        grads["c"] += do
        da_next = da
    return V, first, grads


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_rnn_backward_pass_worked_with_its_arrays_is_numpys(lang):
    V, first, grads = _rnn()
    rows = _worked(symprop.load("dlbook_rnn").solution().document("text", lang=lang))
    for name, value in first.items():
        parts = rows[f"∇_{name}⁽³⁾ L"]
        assert _agrees(parts[-1], value), (name, parts)
    assert rows["∇_h⁽³⁾ L"][2].startswith("[0.3, 0.7, -0.5; -0.2, 0.1, 0.4]·")  # Vᵀ written out
    for name, value in grads.items():
        parts = rows[f"∇_{name} L"]
        assert parts[1].startswith("Σₜ "), parts
        assert parts[2].count(" + ") == 2, parts  # t = 1, 2, 3 term by term
        assert _agrees(parts[-1], value), (name, parts)
        assert _agrees(parts[-1], recompute(as_python(parts[2]))), parts


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_an_mlp_backward_pass_worked_with_its_arrays_is_numpys(lang):
    x, y = np.array([1.0, 2.0]), 5.0
    W, U, V = np.array([[-1.0, 1], [1, 1]]), np.array([[2, -4], [-0.5, 1]]), np.array([1.0, -1])
    z = np.tanh(W.T @ x)
    q = np.tanh(U.T @ z)
    yhat = V @ q
    dq = V * 2 * (yhat - y)
    delta_q = (1 - q ** 2) * dq
    dz = U @ delta_q
    delta_z = (1 - z ** 2) * dz
    rows = _worked(symprop.load("stepik_mlp").solution().document("text", lang=lang))
    for lhs, value in (("∂L/∂q", dq), ("δ_q", delta_q), ("∂L/∂z", dz), ("δ_z", delta_z)):
        assert _agrees(rows[lhs][-1], value), (lhs, rows[lhs])
        assert _agrees(rows[lhs][-1], recompute(as_python(rows[lhs][2]))), rows[lhs]
    assert rows["∂L/∂z"][2].startswith("[2, -4; -0.5, 1]·")  # U written out, δ_q after it


WIDE = """[model]
params = ["W", "b"]
equations = \"\"\"
z = tanh(W @ x + b)
\"\"\"
loss = "sum((z - y)**2)"
[values]
W = [[0.1, -0.2, 0.3, 0.0, 0.5], [0.2, 0.1, -0.4, 0.3, -0.1]]
b = [0.1, -0.2]
x = [1, 2, -1, 0.5, 3]
y = [0.5, -0.5]
"""


def test_a_gradient_larger_than_the_limit_shows_its_first_entry_worked():
    """∇_W L is 2×5: its formula, its value, and its first entry worked (δ_z₀·x₀)."""
    W = np.array([[0.1, -0.2, 0.3, 0.0, 0.5], [0.2, 0.1, -0.4, 0.3, -0.1]])
    x, b, y = np.array([1, 2, -1, 0.5, 3]), np.array([0.1, -0.2]), np.array([0.5, -0.5])
    z = np.tanh(W @ x + b)
    delta = (1 - z ** 2) * 2 * (z - y)
    text = symprop.loads(WIDE).solution().document("text")
    rows = _worked(text, 3)
    entry = rows["∂L/∂w₀₀"]
    assert entry[1] == "δz,₀·x₀" and _agrees(entry[-1], delta[0] * x[0]), entry
    assert _agrees(entry[-1], recompute(as_python(entry[2]))), entry
    assert rows["∂L/∂W"][1] == "δ_z·xᵀ" and _agrees(rows["∂L/∂W"][-1], np.outer(delta, x)), rows["∂L/∂W"]
    assert _agrees(rows["δ_z"][-1], delta) and rows["δ_z"][2].startswith("diag(1 - (")
