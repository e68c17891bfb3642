"""A recurrent model with lines before and after the loop and a loss on the
last step only: numbers against a hand-written pass, and a derivation that
says how the parameters outside the cell get their gradients."""

import math
import re

import pytest
from click.testing import CliRunner

import symprop
from symprop.cli import main

SPEC = """
title = "final-step loss"
[model]
params = ["w", "u", "v"]
steps = 4
initial = { h = 0.5 }
equations = \"\"\"
s = 2*w
h[t] = tanh(s*h[t-1] + u*x[t])
out = v*h[4]
\"\"\"
loss = "(out - y)**2"
[values]
w = 0.3
u = -0.7
v = 1.5
x = [0, 1, 2, 3, 4]
y = 0.25
"""


def by_hand(w=0.3, u=-0.7, v=1.5):
    x, h = [0, 1, 2, 3, 4], [0.5]
    s = 2 * w
    for t in range(1, 5):
        h.append(math.tanh(s * h[t - 1] + u * x[t]))
    out = v * h[4]
    loss = (out - 0.25) ** 2
    d_out = 2 * (out - 0.25)
    gv = d_out * h[4]
    dh = d_out * v
    gs = gu = 0.0
    for t in range(4, 0, -1):
        da = dh * (1 - h[t] ** 2)
        gs += da * h[t - 1]
        gu += da * x[t]
        dh = da * s
    return loss, {"w": 2 * gs, "u": gu, "v": gv}


def test_numbers(spec_file):
    solved = symprop.load(spec_file(SPEC)).solve()
    loss, grads = by_hand()
    assert solved["loss"] == pytest.approx(loss, rel=1e-12)
    for name, g in grads.items():
        assert solved["gradients"][name] == pytest.approx(g, rel=1e-12)


def test_derivation_follows_the_parameters_outside_the_cell(spec_file):
    text = re.sub(" +", " ", CliRunner().invoke(main, ["derive", str(spec_file(SPEC)), "--lang", "en"]).stdout)
    assert "∂L/∂w = 2·∂L/∂s" in text
    assert "∂L/∂s = Σ_(t=1..T) ∂L/∂hₜ·(1 - hₜ²)·hₜ₋₁" in text
    assert "∂L/∂v = ∂L/∂out·h₄" in text
    assert "At the last step the lines after the loop add to it: ∂L/∂h₄ also gets ∂L/∂out·v." in text
    assert "w, u enter hₜ, and hₜ₋₁ depends on them too" in text
    assert "v enters no hidden state" in text
