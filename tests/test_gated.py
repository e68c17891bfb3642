"""Gated recurrences: the LSTM and the GRU of `derivations/`, a GRU in
PyTorch's form and the smallest gated cell, each gradient against PyTorch in
float64 (torch.nn.LSTMCell, torch.nn.GRUCell, or autograd through the same
equations written with torch ops), and the forward pass against NumPy written
here, so that three independent computations agree.

Needs torch (the README's test command installs it); without it the module
is skipped, unless SYMPROP_REQUIRE_ENGINES=1.
"""

import os
import tomllib

import numpy as np
import pytest
from click.testing import CliRunner

import symprop
from symprop.api import from_dict
from symprop.cli import main
from symprop.evaluate.torch_check import available
from tests.conftest import DERIVATIONS

if not available():
    if os.environ.get("SYMPROP_REQUIRE_ENGINES"):
        raise RuntimeError("torch is not installed (the README's test command installs it)")
    pytest.skip("torch is not installed: pip install 'symprop[torch]'", allow_module_level=True)

import torch  # noqa: E402

TOL = {"rtol": 1e-9, "atol": 1e-9}


# --- shared helpers ---------------------------------------------------------


def shipped(name):
    """The raw TOML of a shipped problem: values, steps and lr as written."""
    with open(DERIVATIONS / f"{name}.toml", "rb") as f:
        return tomllib.load(f)


def arrays(values):
    return {k: np.array(v, dtype=np.float64) for k, v in values.items()}


def tensor(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def assert_gradients(ours, theirs, names):
    """Every parameter present, each the shape torch gives and equal to 1e-9."""
    assert set(names) <= set(ours), sorted(set(names) - set(ours))
    for name in names:
        mine = np.array(ours[name], dtype=np.float64)
        ref = np.asarray(theirs[name], dtype=np.float64)
        assert mine.shape == ref.shape, (name, mine.shape, ref.shape)
        np.testing.assert_allclose(mine, ref, err_msg=name, **TOL)


def leaves(values, names):
    return {n: tensor(values[n], grad=True) for n in names}


def grads_of(params):
    return {n: p.grad.numpy() for n, p in params.items()}


# --- the LSTM of derivations/lstm.toml ------------------------------------

LSTM = shipped("lstm")
LSTM_PARAMS = ["W_f", "b_f", "W_i", "b_i", "W_g", "b_g", "W_o", "b_o", "V", "b_y"]
TORCH_LSTM_GATES = "ifgo"  # the row blocks of weight_ih / weight_hh


def lstm_numpy(v, steps):
    """The forward pass of the spec's equations, in NumPy."""
    h, c, loss = np.zeros(3), np.zeros(3), 0.0
    for t in range(1, steps + 1):
        s = np.concatenate([v["x"][t], h])
        f = sigmoid(v["W_f"] @ s + v["b_f"])
        i = sigmoid(v["W_i"] @ s + v["b_i"])
        g = np.tanh(v["W_g"] @ s + v["b_g"])
        o = sigmoid(v["W_o"] @ s + v["b_o"])
        c = f * c + i * g
        h = o * np.tanh(c)
        yhat = v["V"] @ h + v["b_y"]
        loss += np.sum((yhat - v["y"][t]) ** 2) / 2
    return loss


def lstm_torch(v, steps):
    """torch.nn.LSTMCell with the spec's weights: its loss and the gradient of
    every spec parameter, the W_* assembled back from weight_ih | weight_hh."""
    n_in, n_h = v["x"].shape[1], v["b_f"].shape[0]
    cell = torch.nn.LSTMCell(n_in, n_h, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(tensor(np.vstack([v[f"W_{g}"][:, :n_in] for g in TORCH_LSTM_GATES])))
        cell.weight_hh.copy_(tensor(np.vstack([v[f"W_{g}"][:, n_in:] for g in TORCH_LSTM_GATES])))
        cell.bias_ih.copy_(tensor(np.concatenate([v[f"b_{g}"] for g in TORCH_LSTM_GATES])))
        cell.bias_hh.zero_()
    out = leaves(v, ["V", "b_y"])
    h = torch.zeros(1, n_h, dtype=torch.float64)
    c = torch.zeros(1, n_h, dtype=torch.float64)
    loss = 0
    for t in range(1, steps + 1):
        h, c = cell(tensor(v["x"][t]).unsqueeze(0), (h, c))
        yhat = out["V"] @ h[0] + out["b_y"]
        loss = loss + ((yhat - tensor(v["y"][t])) ** 2).sum() / 2
    loss.backward()
    grads = grads_of(out)
    for k, g in enumerate(TORCH_LSTM_GATES):
        rows = slice(k * n_h, (k + 1) * n_h)
        grads[f"W_{g}"] = np.hstack([cell.weight_ih.grad[rows].numpy(), cell.weight_hh.grad[rows].numpy()])
        grads[f"b_{g}"] = cell.bias_ih.grad[rows].numpy()
    # bias_hh enters exactly as bias_ih does: the same gradient
    np.testing.assert_array_equal(cell.bias_hh.grad.numpy(), cell.bias_ih.grad.numpy())
    return loss.item(), grads


def test_lstm_spec_is_the_model_we_mean():
    model = LSTM["model"]
    assert model["params"] == LSTM_PARAMS
    assert "concat(x[t], h[t-1])" in model["equations"]
    v = arrays(LSTM["values"])
    assert v["x"].shape == (model["steps"] + 1, 2) and v["y"].shape == (model["steps"] + 1, 2)
    assert all(v[f"W_{g}"].shape == (3, 5) for g in "figo") and v["V"].shape == (2, 3)
    assert np.array_equal(np.round(np.concatenate([v[k].ravel() for k in LSTM_PARAMS]), 2),
                          np.concatenate([v[k].ravel() for k in LSTM_PARAMS]))
    # no gate saturates: every pre-activation along the sequence is moderate
    h, c = np.zeros(3), np.zeros(3)
    for t in range(1, model["steps"] + 1):
        s = np.concatenate([v["x"][t], h])
        pre = {g: v[f"W_{g}"] @ s + v[f"b_{g}"] for g in "figo"}
        assert max(np.abs(p).max() for p in pre.values()) < 2.5
        c = sigmoid(pre["f"]) * c + sigmoid(pre["i"]) * np.tanh(pre["g"])
        h = sigmoid(pre["o"]) * np.tanh(c)


# --- the GRU of derivations/gru.toml (Cho et al.: r before U) --------------

GRU = shipped("gru")
GRU_PARAMS = ["W_z", "U_z", "b_z", "W_r", "U_r", "b_r", "W_n", "U_n", "b_n", "V"]


def gru_cho_numpy(v, steps):
    h = np.zeros(3)
    for t in range(1, steps + 1):
        x = v["x"][t]
        z = sigmoid(v["W_z"] @ x + v["U_z"] @ h + v["b_z"])
        r = sigmoid(v["W_r"] @ x + v["U_r"] @ h + v["b_r"])
        n = np.tanh(v["W_n"] @ x + v["U_n"] @ (r * h) + v["b_n"])
        h = z * h + (1 - z) * n
    return np.sum((v["V"] @ h - v["y"]) ** 2) / 2


def gru_cho_torch(v, steps):
    """Autograd through Cho's equations written with torch ops."""
    p = leaves(v, GRU_PARAMS)
    h = torch.zeros(3, dtype=torch.float64)
    for t in range(1, steps + 1):
        x = tensor(v["x"][t])
        z = torch.sigmoid(p["W_z"] @ x + p["U_z"] @ h + p["b_z"])
        r = torch.sigmoid(p["W_r"] @ x + p["U_r"] @ h + p["b_r"])
        n = torch.tanh(p["W_n"] @ x + p["U_n"] @ (r * h) + p["b_n"])
        h = z * h + (1 - z) * n
    loss = ((p["V"] @ h - tensor(v["y"])) ** 2).sum() / 2
    loss.backward()
    return loss.item(), grads_of(p)


def test_gru_spec_is_the_model_we_mean():
    model = GRU["model"]
    assert model["params"] == GRU_PARAMS
    assert model["loss"] == f"sum((V @ h[{model['steps']}] - y)**2) / 2"
    assert "U_n @ (r[t] * h[t-1])" in model["equations"]
    assert "rₜ ⊙ (W_hn·hₜ₋₁ + b_hn)" in GRU["source"]["en"]  # PyTorch applies r after the product


# --- one gradient-descent step of the shipped problems ----------------------


@pytest.mark.parametrize("name, params, reference", [
    ("lstm", LSTM_PARAMS, lstm_torch),
    ("gru", GRU_PARAMS, gru_cho_torch),
])
def test_one_step_of_gradient_descent_uses_torch_gradients(name, params, reference):
    raw = shipped(name)
    lr = raw["training"]["lr"]
    v = arrays(raw["values"])
    _, grads = reference(v, raw["model"]["steps"])
    updated = symprop.load(name).solve()["updated"]
    assert_gradients(updated, {p: v[p] - lr * grads[p] for p in params}, params)


# --- a GRU in PyTorch's form, against torch.nn.GRUCell ----------------------

TORCH_GRU_GATES = "rzn"  # the row blocks of GRUCell's weights
TORCH_GRU_PARAMS = ["W_r", "W_z", "W_n", "U_r", "U_z", "U_n",
                    "b_ir", "b_iz", "b_in", "b_hr", "b_hz", "b_hn", "V"]
TORCH_GRU_EQUATIONS = """
r[t] = sigmoid(W_r @ x[t] + b_ir + U_r @ h[t-1] + b_hr)
z[t] = sigmoid(W_z @ x[t] + b_iz + U_z @ h[t-1] + b_hz)
n[t] = tanh(W_n @ x[t] + b_in + r[t] * (U_n @ h[t-1] + b_hn))
h[t] = (1 - z[t])*n[t] + z[t]*h[t-1]
"""
TORCH_GRU_STEPS = 4


def torch_form_gru_values():
    """Two decimals from a fixed seed; a nonzero initial state, read-out V."""
    rng = np.random.default_rng(1406)

    def draw(*shape, a=0.5):
        return np.round(rng.uniform(-a, a, shape), 2)

    v = {f"W_{g}": draw(3, 2) for g in TORCH_GRU_GATES}
    v.update({f"U_{g}": draw(3, 3) for g in TORCH_GRU_GATES})
    v.update({f"b_{s}{g}": draw(3, a=0.3) for s in "ih" for g in TORCH_GRU_GATES})
    v["V"] = draw(2, 3, a=0.8)
    v["x"] = draw(TORCH_GRU_STEPS + 1, 2, a=1.0)
    v["y"] = draw(TORCH_GRU_STEPS + 1, 2)
    v["x"][0] = v["y"][0] = 0
    return v, draw(3)


def torch_form_gru_spec(v, h0):
    return {
        "title": "A GRU in PyTorch's form",
        "source": "torch.nn.GRUCell: the reset gate applied after the product",
        "model": {"params": TORCH_GRU_PARAMS, "steps": TORCH_GRU_STEPS,
                  "initial": {"h": h0.tolist()}, "equations": TORCH_GRU_EQUATIONS,
                  "loss": "sum((V @ h[t] - y[t])**2) / 2"},
        "values": {k: a.tolist() for k, a in v.items()},
    }


def torch_form_gru_numpy(v, h0):
    h, loss = h0.copy(), 0.0
    for t in range(1, TORCH_GRU_STEPS + 1):
        x = v["x"][t]
        r = sigmoid(v["W_r"] @ x + v["b_ir"] + v["U_r"] @ h + v["b_hr"])
        z = sigmoid(v["W_z"] @ x + v["b_iz"] + v["U_z"] @ h + v["b_hz"])
        n = np.tanh(v["W_n"] @ x + v["b_in"] + r * (v["U_n"] @ h + v["b_hn"]))
        h = (1 - z) * n + z * h
        loss += np.sum((v["V"] @ h - v["y"][t]) ** 2) / 2
    return loss


def torch_grucell(v, h0):
    cell = torch.nn.GRUCell(2, 3, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(tensor(np.vstack([v[f"W_{g}"] for g in TORCH_GRU_GATES])))
        cell.weight_hh.copy_(tensor(np.vstack([v[f"U_{g}"] for g in TORCH_GRU_GATES])))
        cell.bias_ih.copy_(tensor(np.concatenate([v[f"b_i{g}"] for g in TORCH_GRU_GATES])))
        cell.bias_hh.copy_(tensor(np.concatenate([v[f"b_h{g}"] for g in TORCH_GRU_GATES])))
    out = leaves(v, ["V"])
    h = tensor(h0).unsqueeze(0)
    loss = 0
    for t in range(1, TORCH_GRU_STEPS + 1):
        h = cell(tensor(v["x"][t]).unsqueeze(0), h)
        loss = loss + ((out["V"] @ h[0] - tensor(v["y"][t])) ** 2).sum() / 2
    loss.backward()
    grads = grads_of(out)
    for k, g in enumerate(TORCH_GRU_GATES):
        rows = slice(3 * k, 3 * k + 3)
        grads[f"W_{g}"] = cell.weight_ih.grad[rows].numpy()
        grads[f"U_{g}"] = cell.weight_hh.grad[rows].numpy()
        grads[f"b_i{g}"] = cell.bias_ih.grad[rows].numpy()
        grads[f"b_h{g}"] = cell.bias_hh.grad[rows].numpy()
    return loss.item(), grads


def test_torch_form_gru_numpy_and_grucell_agree():
    v, h0 = torch_form_gru_values()
    loss, _ = torch_grucell(v, h0)
    assert loss == pytest.approx(torch_form_gru_numpy(v, h0), rel=1e-13, abs=1e-15)


def test_torch_form_gru_gradients_equal_grucell():
    v, h0 = torch_form_gru_values()
    loss, grads = torch_grucell(v, h0)
    solution = from_dict(torch_form_gru_spec(v, h0)).solve()
    assert solution["loss"] == pytest.approx(loss, rel=1e-9, abs=1e-9)
    assert_gradients(solution["gradients"], grads, TORCH_GRU_PARAMS)
    # b_in sits outside r, b_hn inside: their gradients differ
    assert not np.allclose(grads["b_in"], grads["b_hn"])


# --- the smallest gated cell: c[t] = sigmoid(A x[t]) * c[t-1] + x[t] --------

SMALL_STEPS = 3
SMALL_VALUES = {
    "A": [[0.4, -0.7], [0.3, 0.5]],
    "x": [[0, 0], [0.6, -0.2], [-0.5, 0.9], [0.8, 0.3]],
}
SMALL_C0 = [0.5, -0.3]
SMALL_LOSSES = {
    "every step": ("sum(c[t])", range(1, SMALL_STEPS + 1)),
    "last step": (f"sum(c[{SMALL_STEPS}])", [SMALL_STEPS]),
    "two steps": ("sum(c[2]) + sum(c[3])", [2, 3]),
}


def small_spec(loss):
    return {
        "title": "The smallest gated cell",
        "model": {"params": ["A"], "steps": SMALL_STEPS, "initial": {"c": SMALL_C0},
                  "equations": "f[t] = sigmoid(A @ x[t])\nc[t] = f[t]*c[t-1] + x[t]",
                  "loss": loss},
        "values": SMALL_VALUES,
    }


def small_numpy(at):
    A, x = np.array(SMALL_VALUES["A"]), np.array(SMALL_VALUES["x"])
    c, loss = np.array(SMALL_C0), 0.0
    for t in range(1, SMALL_STEPS + 1):
        c = sigmoid(A @ x[t]) * c + x[t]
        loss += c.sum() if t in at else 0.0
    return loss


def small_torch(at):
    A = tensor(SMALL_VALUES["A"], grad=True)
    c, loss = tensor(SMALL_C0), 0
    for t in range(1, SMALL_STEPS + 1):
        x = tensor(SMALL_VALUES["x"][t])
        c = torch.sigmoid(A @ x) * c + x
        if t in at:
            loss = loss + c.sum()
    loss.backward()
    return loss.item(), {"A": A.grad.numpy()}


@pytest.mark.parametrize("kind", SMALL_LOSSES)
def test_small_gated_cell_numpy_and_torch_agree(kind):
    _, at = SMALL_LOSSES[kind]
    assert small_torch(at)[0] == pytest.approx(small_numpy(at), rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("kind", SMALL_LOSSES)
def test_small_gated_cell_gradient_equals_torch(kind):
    loss_text, at = SMALL_LOSSES[kind]
    loss, grads = small_torch(at)
    solution = from_dict(small_spec(loss_text)).solve()
    assert solution["loss"] == pytest.approx(loss, rel=1e-9, abs=1e-9)
    assert_gradients(solution["gradients"], grads, ["A"])


def test_small_gated_cell_losses_differ():
    """The three losses are three problems: their gradients are not the same."""
    grads = [small_torch(at)[1]["A"] for _, at in SMALL_LOSSES.values()]
    assert not np.allclose(grads[0], grads[1]) and not np.allclose(grads[1], grads[2])


# --- the command line -------------------------------------------------------


def invoke(*args):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_check_passes(name):
    result = invoke("check", name)
    assert result.exit_code == 0, result.output
    assert "PyTorch autograd (float64)" in result.output


@pytest.mark.parametrize("name, adjoint, gate", [
    ("lstm", "∂L/∂cₜ", "fₜ₊₁"),   # the cell state's adjoint, carried back through the forget gate
    ("gru", "∂L/∂hₜ", "zₜ₊₁"),    # the state's adjoint, carried back through the update gate
])
def test_derive_states_gate_by_gate_bptt(name, adjoint, gate):
    result = invoke("derive", name)
    assert result.exit_code == 0, result.output
    text = result.output
    assert adjoint in text and gate in text


# --- the shipped cells: NumPy, PyTorch and symprop agree --------------------

SHIPPED = {
    # name: (spec, PyTorch (torch.nn.LSTMCell, or autograd of Cho's equations), NumPy, params)
    "lstm": lambda: (LSTM, lstm_torch, lstm_numpy, LSTM_PARAMS),
    "gru": lambda: (GRU, gru_cho_torch, gru_cho_numpy, GRU_PARAMS),
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_cell_numpy_and_torch_agree(name):
    """The weights handed to PyTorch are laid out right: its loss is the NumPy one."""
    spec, torch_pass, numpy_pass, _ = SHIPPED[name]()
    v, steps = arrays(spec["values"]), spec["model"]["steps"]
    loss, _ = torch_pass(v, steps)
    assert loss == pytest.approx(numpy_pass(v, steps), rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_cell_gradients_equal_torch(name):
    spec, torch_pass, _, params = SHIPPED[name]()
    v, steps = arrays(spec["values"]), spec["model"]["steps"]
    loss, grads = torch_pass(v, steps)
    solution = symprop.load(name).solve()
    assert solution["loss"] == pytest.approx(loss, rel=1e-9, abs=1e-9)
    assert_gradients(solution["gradients"], grads, params)


def test_a_cell_of_two_states_is_not_written_term_by_term_along_one():
    """The LSTM carries h and c, which feed each other: a product along c alone drops
    every path through h (and W_o, b_o altogether); the document says why it leaves
    that form out.  The GRU, one state, keeps it."""
    import symprop

    lstm = symprop.load("lstm").document("text")
    assert "∂⁺c₃/∂W_f" not in lstm and "which feed each other" in lstm
    gru = symprop.load("gru").document("text")
    assert "∂L₃/∂h₃·∂⁺h₃/∂W_z" in gru
