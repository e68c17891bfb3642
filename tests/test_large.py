"""Problems too large for the entry-by-entry engine: the array engine alone
computes them, PyTorch checks them, and documents show them by shape."""

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from symprop.api import from_dict
from symprop.cli import main


def mlp_spec(width: int, batch: int = 64) -> dict:
    rng = np.random.default_rng(3)
    return {
        "title": f"MLP {width}",
        "model": {"params": ["W1", "b1", "W2", "b2"],
                  "equations": "H = tanh(X @ W1 + b1)\nZ = H @ W2 + b2", "loss": "mean((Z - Y)**2)"},
        "values": {"X": rng.normal(size=(batch, 16)).tolist(), "Y": rng.normal(size=(batch, 4)).tolist(),
                   "W1": (rng.normal(size=(16, width)) / 4).tolist(), "b1": [(rng.normal(size=width) / 4).tolist()],
                   "W2": (rng.normal(size=(width, 4)) / 4).tolist(), "b2": [(rng.normal(size=4) / 4).tolist()]},
    }


def test_wide_mlp_agrees_with_torch():
    spec = mlp_spec(256)
    solved = from_dict(spec).solve()
    v = {k: torch.tensor(np.array(x), dtype=torch.float64, requires_grad=k in ("W1", "b1", "W2", "b2"))
         for k, x in spec["values"].items()}
    H = torch.tanh(v["X"] @ v["W1"] + v["b1"])
    loss = torch.mean((H @ v["W2"] + v["b2"] - v["Y"]) ** 2)
    loss.backward()
    assert solved["loss"] == pytest.approx(loss.item(), rel=1e-12)
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(np.array(solved["gradients"][name]), v[name].grad.numpy(), rtol=1e-9, atol=1e-12)
    checks = solved["checks"]
    assert "skipped" in checks["scalar_engine"] and "scalar terms" in checks["scalar_engine"]["skipped"]
    assert checks["finite_differences"]["passed"] and "sampled" in checks["finite_differences"]
    assert checks["matrix_form"]["passed"]


def test_wide_rnn_many_to_one(tmp_path):
    rng = np.random.default_rng(4)
    n, T = 48, 30
    spec = {
        "title": "many-to-one",
        "model": {"params": ["W", "U", "V"], "steps": T, "initial": {"h": [0.0] * n},
                  "equations": "h[t] = tanh(W @ h[t-1] + U @ x[t])", "loss": f"sum((V @ h[{T}] - y)**2) / 2"},
        "values": {"W": (rng.normal(size=(n, n)) / (2 * n**0.5)).tolist(), "U": rng.normal(size=(n, 3)).tolist(),
                   "V": (rng.normal(size=(2, n)) / 4).tolist(), "y": [0.5, -0.5],
                   "x": [rng.normal(size=3).tolist() for _ in range(T + 1)]},
    }
    solved = from_dict(spec).solve()
    p = {k: torch.tensor(np.array(spec["values"][k]), dtype=torch.float64, requires_grad=True) for k in "WUV"}
    h = torch.zeros((n, 1), dtype=torch.float64)
    for t in range(1, T + 1):
        h = torch.tanh(p["W"] @ h + p["U"] @ torch.tensor(spec["values"]["x"][t], dtype=torch.float64).reshape(3, 1))
    loss = torch.sum((p["V"] @ h - torch.tensor([[0.5], [-0.5]], dtype=torch.float64)) ** 2) / 2
    loss.backward()
    assert solved["loss"] == pytest.approx(loss.item(), rel=1e-12)
    for k in "WUV":
        np.testing.assert_allclose(np.array(solved["gradients"][k]), p[k].grad.numpy(), rtol=1e-9, atol=1e-12)
    # the derivation: the loss reaches h only at the last step
    path = tmp_path / "m2o.toml"
    path.write_text(_toml(spec), encoding="utf-8")
    derived = CliRunner().invoke(main, ["derive", str(path)])
    assert derived.exit_code == 0, derived.output
    assert f"[t = {T}]·(Vᵀ·(V·h₃₀ - y))" in derived.stdout
    shown = CliRunner().invoke(main, ["solve", str(path)])
    assert shown.exit_code == 0 and "(48×48)" in shown.stdout


def _toml(spec: dict) -> str:
    import json

    lines = [f'title = "{spec["title"]}"', "[model]"]
    for k, v in spec["model"].items():
        if isinstance(v, dict):
            lines.append(f"{k} = {{ " + ", ".join(f"{a} = {json.dumps(b)}" for a, b in v.items()) + " }")
        else:
            lines.append(f"{k} = {json.dumps(v)}")
    lines.append("[values]")
    lines += [f"{k} = {json.dumps(v)}" for k, v in spec["values"].items()]
    return "\n".join(lines) + "\n"
